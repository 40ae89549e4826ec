"""Respawn: milliseconds from ``kill -9`` of a worker to its replacement answering a call.

Host: ``service-host``, example manager, 1 worker. ``whoami`` gives the
worker's pid; the clock starts just before ``kill -9`` of that pid and one
``whoami`` call is sent at once: it waits in the ``topic.host`` queue (which
outlives its consumers) and is answered by the replacement, whose pid must
differ. Kills are spaced more than a second after the previous fork, beyond
the window of cotyledon's fork throttle. Then 3 kills in a row, each as soon
as the previous replacement answered, show that throttle (cotyledon sleeps
5 s before a fork when it forked more than "workers" processes within
"workers" seconds).

Baseline: what a supervisor that re-execs a dead server gets: ``kill -9`` of a
``bare_rpc_server.py`` and the exec of a new one with the same server name,
timed the same way.
"""

import os
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
from _common import wait_answer
from _common import workdir
from _common import write_config

# cotyledon's throttle window with 1 worker is 1 s since the oldest fork kept.
SPACING = 1.5


def _kill_and_time(client, pid: int, restart=None) -> tuple[float, int]:
    """ms from kill -9 of ``pid`` to an answer from another pid; and that pid."""
    started = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    if restart is not None:
        restart()
    answer = client.call(None, "whoami")
    elapsed = (time.monotonic() - started) * 1000
    if answer["pid"] == pid:
        raise RuntimeError(f"pid {pid} answered after kill -9")
    return elapsed, answer["pid"]


def run(ctx: Context) -> Result:
    from service_host import rpc

    result = Result("respawn", "Respawn: kill -9 -> the replacement answers a call (ms)")
    repeats = 3 if ctx.quick else 5
    topic = topic_name("bench_respawn")
    host_times: list[float] = []
    bare_times: list[float] = []
    burst: list[float] = []
    with workdir("respawn") as wd, processes() as procs:
        host_name = unique("bench-respawn-host")
        bare_name = unique("bench-respawn-bare")
        host = start_host(procs, wd, manager_sections(host_name, topic, 1, ctx.transport_url, wd))
        bare_config = write_config(
            wd / "bare.conf", manager_sections(bare_name, topic, 1, ctx.transport_url, wd))
        bare_args = ["--config-file", str(bare_config), "--host", bare_name, "--topic", topic]
        bare = [start_script(procs, wd, "bare_rpc_server.py", bare_args, "bare-0")]

        def restart_bare() -> None:
            bare.append(start_script(procs, wd, "bare_rpc_server.py", bare_args,
                                     f"bare-{len(bare)}"))

        try:
            conf = client_conf(wd / "host.conf")
            client = rpc.Client(conf, topic, timeout=30)
            to_host = client.prepare(server=host_name)
            to_bare = client.prepare(server=bare_name)
            host_pid = wait_answer(to_host, proc=host)["pid"]
            bare_pid = wait_answer(to_bare, proc=bare[0])["pid"]
            for repeat in range(repeats):
                time.sleep(SPACING)
                elapsed, bare_pid = _kill_and_time(to_bare, bare_pid, restart_bare)
                bare_times.append(elapsed)
                host.check_alive()
                elapsed, host_pid = _kill_and_time(to_host, host_pid)
                host_times.append(elapsed)
                ctx.say(f"respawn #{repeat}: bare {bare_times[-1]:.0f} ms, "
                        f"host {host_times[-1]:.0f} ms")
            # Kills right after each respawn: within cotyledon's throttle window.
            time.sleep(SPACING)
            for _ in range(3):
                elapsed, host_pid = _kill_and_time(to_host, host_pid)
                burst.append(elapsed)
            ctx.say(f"3 kills back to back: {', '.join(f'{t:.0f}' for t in burst)} ms")
            log = host.log()
        finally:
            rpc.cleanup()
    delete_topic(ctx.transport_url, topic, [host_name, bare_name])

    result.rows.append(Row(f"median of {repeats} kills, >= {SPACING:g} s apart",
                           median(bare_times), median(host_times), unit="ms",
                           samples={"baseline": bare_times, "host": host_times},
                           pairs=[h / b for h, b in zip(host_times, bare_times)]))
    result.rows.append(Row(f"max of {repeats} kills, >= {SPACING:g} s apart",
                           max(bare_times), max(host_times), unit="ms"))
    result.rows.append(Row("3 kills back to back, slowest (no baseline)", None, max(burst),
                           unit="ms", samples={"host": burst},
                           note="each kill right after the previous replacement answered: "
                           + ", ".join(f"{t:.0f}" for t in burst) + " ms"))
    forks_throttled = log.count("Forking too fast")
    result.notes.append(
        "baseline: kill -9 of a bare server and exec of a new one (a supervisor's restart); "
        "ratio < 1: the host is faster")
    result.notes.append(
        f"'Forking too fast' in the host log: {forks_throttled} time(s) "
        "(cotyledon sleeps 5 s before a fork when more than 'workers' forks happened "
        "within 'workers' seconds: with 1 worker, the 2nd of 2 respawns less than 1 s apart)")
    return result
