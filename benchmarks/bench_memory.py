"""Memory: unique memory (USS) per extra worker, and what each worker imports after the fork.

USS = Private_Clean + Private_Dirty of ``/proc/PID/smaps_rollup``: what the
process alone holds, i.e. what killing it would free. Pages a worker shares
with its master since the fork (modules the master imported, unchanged
objects) are not in its USS.

For a manager (example manager, topic of its own) and for an API (the
built-in ``host``), the host runs with 1 and with 4 workers; each is warmed
(200 RPC calls, or 200 HTTP requests, spread over the workers), then the USS
of the master and of every worker is read. USS per extra worker =
(total with 4 workers - total with 1) / 3. Baseline: the USS of one bare
server process doing the same work (``bare_rpc_server.py``,
``bare_wsgi_server.py --middleware``), i.e. what one more process costs
without a master to fork from. Ratio < 1: forking from the master saves.

The host runs set ``PYTHONPROFILEIMPORTTIME=1``: every process prints each
module it imports; a module printed 3 more times with 4 workers than with 1
is imported by every worker after the fork instead of once in the master.
"""

import collections
import re
import time

from _common import Context
from _common import Proc
from _common import Result
from _common import Row
from _common import client_conf
from _common import delete_topic
from _common import host_sections
from _common import http_get
from _common import manager_sections
from _common import processes
from _common import start_host
from _common import start_script
from _common import topic_name
from _common import unique
from _common import uss_kib
from _common import wait_all_consuming
from _common import wait_until
from _common import workdir
from _common import write_config

from service_host.testing import free_port

WARM = 200
_IMPORT_LINE = re.compile(r"import time:\s+(\d+)\s+\|\s+(\d+)\s+\|\s+(\S.*)$")


def _memory(pids: list[int]) -> list[dict[str, int]]:
    return [uss_kib(pid) for pid in pids]


def _imports(log: str) -> tuple[collections.Counter, collections.Counter]:
    """How many times each module was imported, and its total self import time (us)."""
    counts: collections.Counter[str] = collections.Counter()
    self_us: collections.Counter[str] = collections.Counter()
    for line in log.splitlines():
        match = _IMPORT_LINE.search(line)
        if match:
            module = match.group(3).strip()
            counts[module] += 1
            self_us[module] += int(match.group(1))
    return counts, self_us


def _after_fork_imports(log_one: str, log_four: str) -> tuple[list[str], float]:
    """Modules every worker imports after the fork, the costliest first; ms per worker.

    The master's imports show as often with 1 worker as with 4; a module
    each worker imports shows 3 more times with 4 workers.
    """
    one, _ = _imports(log_one)
    four, self_us = _imports(log_four)
    again = [m for m in four if four[m] - one[m] >= 3]
    per_worker_ms = sum(self_us[m] for m in again) / 4 / 1000
    return sorted(again, key=lambda m: self_us[m], reverse=True), per_worker_ms


def _manager_run(ctx: Context, side: str, workers: int) -> dict:
    from service_host import rpc

    topic = topic_name("bench_memory")
    name = unique(f"bench-memory-{side}")
    env = {"PYTHONPROFILEIMPORTTIME": "1"} if side == "host" else None
    with workdir(f"memory-{side}{workers}") as wd, processes() as procs:
        record_dir = wd / "record"
        record_dir.mkdir()
        sections = manager_sections(name, topic, workers, ctx.transport_url, wd, record_dir)
        config = write_config(wd / "client.conf", sections)
        if side == "host":
            proc = start_host(procs, wd, sections, env=env)
        else:
            proc = start_script(procs, wd, "bare_rpc_server.py",
                                ["--config-file", str(config), "--host", name, "--topic", topic],
                                "bare")
        try:
            conf = client_conf(config)
            wait_all_consuming(rpc.Client(conf, topic, fanout=True), record_dir, workers, 60,
                               procs)
            client = rpc.Client(conf, topic, timeout=30)  # round robin over the workers
            for _ in range(WARM):
                client.call(None, "echo", message="x")
        finally:
            rpc.cleanup()
        time.sleep(0.5)
        measured = _measure(proc, side)
        measured["log"] = proc.log()
    delete_topic(ctx.transport_url, topic, [name])
    return measured


def _api_run(ctx: Context, side: str, workers: int) -> dict:
    port = free_port()
    env = {"PYTHONPROFILEIMPORTTIME": "1"} if side == "host" else None
    with workdir(f"memory-api-{side}{workers}") as wd, processes() as procs:
        sections = host_sections(unique("bench-memory-api"), ctx.transport_url, wd / "state",
                                 enabled_apis="host", host_listen="127.0.0.1",
                                 host_listen_port=port, host_workers=workers)
        sections["api"] = {"auth_strategy": "noauth"}
        if side == "host":
            proc = start_host(procs, wd, sections, env=env)
        else:
            config = write_config(wd / "bare.conf", sections)
            proc = start_script(procs, wd, "bare_wsgi_server.py",
                                ["--config-file", str(config), "--api", "host", "--port",
                                 str(port), "--middleware"], "bare")

        def ready() -> bool:
            proc.check_alive()
            return http_get(port) == 200

        wait_until(ready, 60, "the API to answer", interval=0.05)
        if side == "host":
            wait_until(lambda: len(proc.children()) == workers, 30, f"{workers} workers")
            time.sleep(0.5)  # let every worker build its app
        for _ in range(WARM):
            http_get(port)
        time.sleep(0.5)
        measured = _measure(proc, side)
        measured["log"] = proc.log()
    return measured


def _measure(proc: Proc, side: str) -> dict:
    if side == "host":
        return {"master": uss_kib(proc.pid), "workers": _memory(proc.children())}
    return {"master": None, "workers": [uss_kib(proc.pid)]}


def _rows(result: Result, what: str, one: dict, four: dict, bare: dict) -> None:
    def total(run: dict) -> int:
        return run["master"]["uss"] + sum(w["uss"] for w in run["workers"])

    per_extra = (total(four) - total(one)) / 3 / 1024
    bare_uss = bare["workers"][0]["uss"] / 1024
    workers4 = [w["uss"] / 1024 for w in four["workers"]]
    result.rows.append(Row(
        f"{what}: USS per extra worker (baseline: 1 bare process)", bare_uss, per_extra,
        unit="MiB", samples={"baseline": [bare_uss],
                             "host": [total(one) / 1024, total(four) / 1024]},
        note=f"host total {total(one) / 1024:.1f} MiB with 1 worker, "
             f"{total(four) / 1024:.1f} MiB with 4 (master {four['master']['uss'] / 1024:.1f}, "
             f"workers {', '.join(f'{w:.1f}' for w in workers4)}); bare process RSS "
             f"{bare['workers'][0]['rss'] / 1024:.1f} MiB"))
    result.rows.append(Row(f"{what}: master USS", None, four["master"]["uss"] / 1024,
                           unit="MiB"))
    modules, per_worker_ms = _after_fork_imports(one["log"], four["log"])
    if modules:
        result.notes.append(
            f"{what}: {len(modules)} modules imported in every worker after the fork "
            f"({per_worker_ms:.0f} ms of import per worker), the costliest: "
            f"{', '.join(modules[:6])}")
    else:
        result.notes.append(f"{what}: no module imported in the workers after the fork")


def run(ctx: Context) -> Result:
    result = Result("memory", "Memory: USS per extra worker (MiB)")
    runs = {}
    for what, func in (("manager", _manager_run), ("API", _api_run)):
        for side, workers in (("baseline", 1), ("host", 1), ("host", 4)):
            runs[(what, side, workers)] = func(ctx, side, workers)
            ctx.say(f"memory {what} {side} x{workers} done")
        _rows(result, f"{what} ({'example' if what == 'manager' else 'host API'})",
              runs[(what, "host", 1)], runs[(what, "host", 4)], runs[(what, "baseline", 1)])
    result.notes.append("ratio < 1: a forked worker costs less than a separate process")
    return result
