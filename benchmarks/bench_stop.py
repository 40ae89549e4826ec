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

WORKERS = (1, 4)


def _one_stop(ctx: Context, side: str, workers: int, repeat: int) -> float:
    """Seconds from SIGTERM to the exit of every process of ``side``."""
    from service_host import rpc

    topic = topic_name("bench_stop")
    with workdir(f"stop-{side}{workers}") as wd, processes() as procs:
        record_dir = wd / "record"
        record_dir.mkdir()
        name = unique(f"bench-stop-{side}")
        sections = manager_sections(name, topic, workers, ctx.transport_url, wd, record_dir)
        config = write_config(wd / "client.conf", sections)
        conf = client_conf(config)
        try:
            fanout = rpc.Client(conf, topic, fanout=True)
            if side == "host":
                start_host(procs, wd, sections)
            else:
                for index in range(workers):
                    start_script(procs, wd, "bare_rpc_server.py",
                                 ["--config-file", str(config), "--host", f"{name}-{index}",
                                  "--topic", topic], f"bare-{index}")
            wait_all_consuming(fanout, record_dir, workers, 120, procs)
            # The host's workers are its master's children: its exit waits for them.
            started = time.monotonic()
            for proc in procs:
                proc.proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.proc.wait(60)
            seconds = time.monotonic() - started
            codes = [proc.proc.returncode for proc in procs]
            if any(codes):
                raise RuntimeError(f"{side} exited with {codes}:\n{procs[0].log()[-3000:]}")
        finally:
            rpc.cleanup()
    servers = [name] if side == "host" else [f"{name}-{i}" for i in range(workers)]
    delete_topic(ctx.transport_url, topic, servers)
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
        result.rows.append(Row(
            f"{workers} worker{'s' if workers > 1 else ''} (baseline: {workers} bare "
            f"process{'es' if workers > 1 else ''})",
            median(times["baseline"]), median(times["host"]), unit="s", samples=times,
            pairs=[h / b for h, b in zip(times["host"], times["baseline"])]))
    result.notes.append(f"median of {repeats} run(s) each; ratio < 1: the host is faster")
    result.notes.append("a bare oslo.messaging server's wait() idles 1 s in futurist's thread "
                        "pool; the host's pools wake their threads instead")
    return result
