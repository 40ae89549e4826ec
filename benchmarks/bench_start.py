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
from _common import Row
from _common import client_conf
from _common import delete_topic
from _common import manager_sections
from _common import median
from _common import processes
from _common import start_host
from _common import start_script
from _common import topic_name
from _common import unique
from _common import wait_all_consuming
from _common import workdir
from _common import write_config

WORKERS = (1, 4, 16)


def _one_start(ctx: Context, side: str, workers: int, repeat: int,
               env: dict[str, str] | None = None) -> tuple[float, str]:
    """Seconds from exec to ``workers`` processes consuming; and the host's log."""
    from service_host import rpc

    topic = topic_name("bench_start")
    with workdir(f"start-{side}{workers}") as wd, processes() as procs:
        record_dir = wd / "record"
        record_dir.mkdir()
        name = unique(f"bench-start-{side}")
        sections = manager_sections(name, topic, workers, ctx.transport_url, wd, record_dir)
        config = write_config(wd / "client.conf", sections)
        conf = client_conf(config)
        fanout = rpc.Client(conf, topic, fanout=True)
        fanout.cast(None, "record", marker="-")  # connect the client before the clock starts
        try:
            started = time.monotonic()
            if side == "host":
                start_host(procs, wd, sections, env=env)
            else:
                for index in range(workers):
                    start_script(procs, wd, "bare_rpc_server.py",
                                 ["--config-file", str(config), "--host", f"{name}-{index}",
                                  "--topic", topic], f"bare-{index}", env)
            done = wait_all_consuming(fanout, record_dir, workers, 120, procs)
            log = procs[0].log() if side == "host" else ""
        finally:
            rpc.cleanup()
    servers = [name] if side == "host" else [f"{name}-{i}" for i in range(workers)]
    delete_topic(ctx.transport_url, topic, servers)
    seconds = done - started
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
        result.rows.append(Row(
            f"{workers} worker{'s' if workers > 1 else ''} (baseline: {workers} bare "
            f"process{'es' if workers > 1 else ''})",
            median(times["baseline"]), median(times["host"]), unit="s", samples=times,
            pairs=[h / b for h, b in zip(times["host"], times["baseline"])]))
    result.notes.append(f"median of {repeats} run(s) each; ratio < 1: the host is faster")
    if throttled:
        result.notes.append("cotyledon's fork throttle (5 s sleep, 'Forking too fast') hit at "
                            f"{sorted(set(throttled))} workers")
    else:
        result.notes.append("cotyledon's fork throttle ('Forking too fast', 5 s) did not hit, "
                            "16 workers included: at start it forks at most 'workers' "
                            "processes, 10 ms apart")
    return result
