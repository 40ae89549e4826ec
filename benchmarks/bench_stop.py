"""Stop: seconds from SIGTERM to every process gone, for 1 and 4 workers.

Host: ``service-host`` running the example manager with N workers on a topic
of its own, SIGTERM to the master. Baseline: N ``bare_rpc_server.py``
processes, SIGTERM to each at once (a bare oslo.messaging server that stops
its server and waits for it, as the host's workers do). Before the clock
starts every process has handled a fanout cast, so that each has the thread
pool a served message leaves behind. The clock stops when every process has
exited; runs alternate baseline/host and the median is reported.
"""

import signal
import time

from _common import Context
from _common import Result
from _common import manager_side
from _common import workers_row

WORKERS = (1, 4)


def _one_stop(ctx: Context, side: str, workers: int, repeat: int) -> float:
    """Seconds from SIGTERM to the exit of every process of ``side``."""
    with manager_side(ctx, side, workers, "stop") as run:
        run.start()
        run.wait_consuming()
        # The host's workers are its master's children: its exit waits for them.
        started = time.monotonic()
        for proc in run.procs:
            proc.proc.send_signal(signal.SIGTERM)
        for proc in run.procs:
            proc.proc.wait(60)
        seconds = time.monotonic() - started
        codes = [proc.proc.returncode for proc in run.procs]
        if any(codes):
            raise RuntimeError(f"{side} exited with {codes}:\n{run.procs[0].log()[-3000:]}")
    ctx.say(f"stop {side} x{workers} #{repeat}: {seconds:.2f} s")
    return seconds


def run(ctx: Context) -> Result:
    result = Result("stop", "Stop: SIGTERM -> every process exited (seconds)")
    repeats = 1 if ctx.quick else 3
    for workers in WORKERS:
        times: dict[str, list[float]] = {"baseline": [], "host": []}
        for repeat in range(repeats):
            order = ("baseline", "host") if repeat % 2 == 0 else ("host", "baseline")
            for side in order:
                times[side].append(_one_stop(ctx, side, workers, repeat))
        result.rows.append(workers_row(workers, times))
    result.notes.append(f"median of {repeats} run(s) each; ratio < 1: the host is faster")
    result.notes.append("a bare oslo.messaging server's wait() idles 1 s in futurist's thread "
                        "pool; the host's pools wake their threads instead")
    return result
