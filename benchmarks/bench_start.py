"""Start: seconds from exec to every worker consuming RPC, for 1, 4 and 16 workers.

Host: ``service-host`` running the example manager with N workers on a topic
of its own. Baseline: N ``bare_rpc_server.py`` processes exec'd at once on a
topic of their own (what N workers cost without a master that imports once
and forks). The clock starts just before the exec; every 50 ms a fanout
``record`` cast goes to the topic, and the clock stops when N distinct
processes have recorded one (each worker's fanout queue is declared with its
topic queues, so it then answers calls too). Resolution: the 50 ms between
casts. Runs alternate baseline/host; the median is reported.

cotyledon sleeps 5 s before a fork when it forked more than "number of
workers" processes within that many seconds; the notes say whether the host
log shows it ("Forking too fast").
"""

import time

from _common import Context
from _common import Result
from _common import manager_side
from _common import workers_row

WORKERS = (1, 4, 16)


def _one_start(ctx: Context, side: str, workers: int, repeat: int,
               env: dict[str, str] | None = None) -> tuple[float, str]:
    """Seconds from exec to ``workers`` processes consuming; and the host's log."""
    with manager_side(ctx, side, workers, "start", env) as run:
        started = time.monotonic()
        run.start()
        seconds = run.wait_consuming() - started
        log = run.procs[0].log() if side == "host" else ""
    ctx.say(f"start {side} x{workers} #{repeat}: {seconds:.2f} s")
    return seconds, log


def run(ctx: Context) -> Result:
    result = Result("start", "Start: exec -> every worker consumes RPC (seconds)")
    repeats = 1 if ctx.quick else 3
    throttled = []
    for workers in WORKERS:
        times: dict[str, list[float]] = {"baseline": [], "host": []}
        for repeat in range(repeats):
            order = ("baseline", "host") if repeat % 2 == 0 else ("host", "baseline")
            for side in order:
                seconds, log = _one_start(ctx, side, workers, repeat)
                times[side].append(seconds)
                if "Forking too fast" in log:
                    throttled.append(workers)
        result.rows.append(workers_row(workers, times))
    result.notes.append(f"median of {repeats} run(s) each; ratio < 1: the host is faster")
    if throttled:
        result.notes.append("cotyledon's fork throttle (5 s sleep, 'Forking too fast') hit at "
                            f"{sorted(set(throttled))} workers")
    else:
        result.notes.append("cotyledon's fork throttle ('Forking too fast', 5 s) did not hit, "
                            "16 workers included: at start it forks at most 'workers' "
                            "processes, 10 ms apart")
    return result
