"""RPC: sequential calls/s and casts/s, service-host manager vs a bare oslo.messaging server.

Baseline: ``bare_rpc_server.py``, the example manager's class served by
``oslo_messaging.get_rpc_server(..., executor="threading")`` in one process.
Host: ``service-host`` running the example manager with 1 worker. Both run at
the same time on the same broker, on a topic of their own, under different
server names; one client
(:class:`service_host.rpc.Client`, one transport) talks to both. Measurements
alternate in short blocks (baseline, host, host, baseline, ...) and the median
block is reported, so that drift and noise of the machine hit both sides.

- calls/s: ``echo`` called sequentially, to ``example.<server>``.
- casts/s: N ``record`` casts sent back to back, timed until the server has
  processed all N (each appends one 2-byte line to its file in
  ``[example] record_dir``; the file size tells how many were processed).
"""

import os
import time
from pathlib import Path

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
from _common import wait_until
from _common import workdir
from _common import write_config

TARGET = ">= 0.95"


def _recorded_bytes(record_dir: Path) -> int:
    total = 0
    for entry in os.scandir(record_dir):
        total += entry.stat().st_size
    return total


def _calls(client, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        client.call(None, "echo", message="x")
    return count / (time.perf_counter() - started)


def _casts(client, count: int, record_dir: Path) -> float:
    expected = _recorded_bytes(record_dir) + 2 * count
    started = time.perf_counter()
    for _ in range(count):
        client.cast(None, "record", marker="c")
    wait_until(lambda: _recorded_bytes(record_dir) >= expected, 120,
               f"{count} casts processed", interval=0.002)
    return count / (time.perf_counter() - started)


def run(ctx: Context) -> Result:
    result = Result("rpc", "RPC: service-host manager (1 worker) vs bare oslo.messaging server")
    # Many short blocks: other load on the machine comes and goes, and each
    # pair of back-to-back blocks sees about the same.
    blocks = 6 if ctx.quick else 16
    call_block = 100 if ctx.quick else 150
    cast_blocks = 4 if ctx.quick else 8
    cast_block = 300 if ctx.quick else 750
    from service_host import rpc

    topic = topic_name("bench_rpc")
    with workdir("rpc") as wd, processes() as procs:
        sides = {}
        for side in ("baseline", "host"):
            record_dir = wd / f"record-{side}"
            record_dir.mkdir()
            name = unique(f"bench-rpc-{side}")
            sections = manager_sections(name, topic, 1, ctx.transport_url, wd, record_dir)
            if side == "host":
                proc = start_host(procs, wd, sections)
            else:
                config = write_config(wd / "bare.conf", sections)
                proc = start_script(
                    procs, wd, "bare_rpc_server.py",
                    ["--config-file", str(config), "--host", name, "--topic", topic], "bare")
            sides[side] = {"name": name, "proc": proc, "record_dir": record_dir}
        try:
            conf = client_conf(wd / "host.conf")
            client = rpc.Client(conf, topic, timeout=30)
            for side in sides.values():
                side["client"] = client.prepare(server=side["name"])
                wait_answer(side["client"], proc=side["proc"])
                _calls(side["client"], 200)  # warm-up
                _casts(side["client"], 100, side["record_dir"])

            calls: dict[str, list[float]] = {"baseline": [], "host": []}
            for block in range(blocks):
                order = ("baseline", "host") if block % 2 == 0 else ("host", "baseline")
                for side in order:
                    calls[side].append(_calls(sides[side]["client"], call_block))
            casts: dict[str, list[float]] = {"baseline": [], "host": []}
            for block in range(cast_blocks):
                order = ("baseline", "host") if block % 2 == 0 else ("host", "baseline")
                for side in order:
                    casts[side].append(
                        _casts(sides[side]["client"], cast_block, sides[side]["record_dir"]))
            for side in sides.values():
                side["proc"].check_alive()
        finally:
            rpc.cleanup()
        host_log = sides["host"]["proc"].log()
    delete_topic(ctx.transport_url, topic, [side["name"] for side in sides.values()])

    result.rows.append(Row(
        f"calls/s, sequential echo ({blocks}x{call_block} calls)",
        median(calls["baseline"]), median(calls["host"]), target=TARGET, samples=calls,
        pairs=[h / b for h, b in zip(calls["host"], calls["baseline"])]))
    result.rows.append(Row(
        f"casts/s, record until processed ({cast_blocks}x{cast_block} casts)",
        median(casts["baseline"]), median(casts["host"]), target=TARGET, samples=casts,
        pairs=[h / b for h, b in zip(casts["host"], casts["baseline"])]))
    result.notes.append(
        "baseline/host: median of the blocks; ratio: median of host/baseline of "
        "back-to-back blocks. Client, servers and RabbitMQ share the cores.")
    log_lines = len(host_log.splitlines())
    result.notes.append(f"host log: {log_lines} lines for the whole run (no per-message logging)"
                        if log_lines < 50 else f"host log: {log_lines} lines for the run")
    return result
