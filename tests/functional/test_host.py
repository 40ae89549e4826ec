"""service-host as a subprocess on the real RabbitMQ: RPC, workers, service group."""

import os
import signal
import subprocess
import threading
import time

import oslo_messaging
import pytest

from tests.functional.harness import BIN
from tests.functional.harness import wait_until

EXAMPLE = {"DEFAULT": {"enabled_services": "example"}}


def two_workers(**extra):
    return {"DEFAULT": {"enabled_services": "example", "example_workers": 2, **extra}}


def test_call_from_another_process_returns(start_host):
    host = start_host(EXAMPLE)
    host.wait_workers_up("example", 1)
    assert host.client("example").call(None, "echo", message="world") == "hello world"


def test_manage_call_prints_json(start_host):
    host = start_host(EXAMPLE)
    host.wait_workers_up("example", 1)
    out = host.manage("call", "example", "echo", "message=hi", "upper=true", "--timeout", "10")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == '"HELLO HI"'


def test_call_to_topic_dot_host_reaches_that_host(start_host):
    first = start_host(EXAMPLE)
    second = start_host(EXAMPLE)
    first.wait_workers_up("example", 1)
    second.wait_workers_up("example", 1)
    for host in (first, second):
        answer = host.client("example", server=host.host).call(None, "whoami")
        assert answer["host"] == host.host
        assert answer["pid"] in host.worker_pids()


def test_fanout_cast_reaches_every_worker(start_host, tmp_path):
    record_dir = tmp_path / "records"
    record_dir.mkdir()
    host = start_host({**two_workers(), "example": {"record_dir": record_dir}})
    workers = host.wait_workers_up("example", 2)
    host.client("example", fanout=True).cast(None, "record", marker="fan-1")

    def recorded():
        return {int(p.stem) for p in record_dir.glob("*.txt") if "fan-1" in p.read_text()}

    wait_until(lambda: recorded() == {w["pid"] for w in workers}, 20, "the fanout cast in every worker")


def test_periodic_task_runs_at_its_spacing(start_host):
    host = start_host(EXAMPLE)
    host.wait_workers_up("example", 1)
    client = host.client("example")
    runs = wait_until(lambda: (r := client.call(None, "task_runs")) and len(r["tock"]) >= 2 and r,
                      30, "two runs of the 5 s task")
    tick_gaps = [b - a for a, b in zip(runs["tick"], runs["tick"][1:])]
    assert len(tick_gaps) >= 4 and all(0.8 <= gap <= 1.5 for gap in tick_gaps), tick_gaps
    tock_gap = runs["tock"][1] - runs["tock"][0]
    assert 4.8 <= tock_gap <= 5.5, tock_gap


def test_services_shows_workers_up_then_down_after_the_host_dies(start_host):
    host = start_host(two_workers())
    workers = host.wait_workers_up("example", 2)
    assert sorted(w["worker_id"] for w in workers) == [0, 1]
    assert all(w["binary"] == "service-host" and w["report_count"] >= 1 for w in workers)
    table = host.manage("services")
    assert table.returncode == 0 and host.host in table.stdout and " up " in table.stdout

    os.killpg(host.proc.pid, signal.SIGKILL)  # the host is gone without leaving its group
    host.proc.wait(10)

    def down():
        rows = [m for m in host.services() if m["host"] == host.host]
        return len(rows) == 2 and all(m["state"] == "down" for m in rows) and rows

    rows = wait_until(down, 20, "both workers shown down")
    assert all(m["age"] > 4 for m in rows)


def test_killed_worker_is_respawned_and_answers(start_host):
    host = start_host(EXAMPLE)
    [worker] = host.wait_workers_up("example", 1)
    os.kill(worker["pid"], signal.SIGKILL)

    def respawned():
        rows = [m for m in host.services() if m["host"] == host.host and m["state"] == "up"]
        return len(rows) == 1 and rows[0]["pid"] != worker["pid"] and rows[0]

    new = wait_until(respawned, 30, "a new worker with the same worker_id")
    assert new["worker_id"] == worker["worker_id"]
    answer = host.client("example", server=host.host).call(None, "whoami")
    assert answer["pid"] == new["pid"]


def test_sigterm_during_a_slow_call_lets_it_finish_and_exits_0(start_host):
    host = start_host(EXAMPLE)
    host.wait_workers_up("example", 1)
    client = host.client("example", timeout=30)
    result = {}
    caller = threading.Thread(target=lambda: result.update(client.call(None, "slow", seconds=3)))
    caller.start()
    wait_until(lambda: client.call(None, "in_flight") == 1, 10, "the slow call to start")
    host.signal(signal.SIGTERM)
    assert host.wait_exit(30) == 0
    caller.join(30)
    assert result.get("slept") == 3.0
    rows = [m for m in host.services() if m["host"] == host.host]
    assert rows == []  # a graceful stop leaves the group


def test_sighup_rereads_the_config_in_the_workers(start_host):
    host = start_host(two_workers())
    host.wait_workers_up("example", 2)
    client = host.client("example")
    assert client.call(None, "echo", message="x") == "hello x"
    text = host.config_file.read_text().replace("[example]\n", "")
    host.config_file.write_text(text + "\n[example]\ngreeting = bonjour\n")
    host.signal(signal.SIGHUP)
    wait_until(
        lambda: {client.call(None, "echo", message="x") for _ in range(6)} == {"bonjour x"},
        20, "every worker to answer with the new greeting")


def test_per_topic_launcher_runs_only_its_topic(start_host):
    host = start_host({"DEFAULT": {"enabled_services": "nosuch"}}, binary="service-host-example")
    host.wait_workers_up("example", 1)
    assert host.client("example").call(None, "echo", message="x") == "hello x"
    assert "service-host-example: example worker(0)" in subprocess.run(
        ["ps", "-o", "args=", "--ppid", str(host.proc.pid)], capture_output=True, text=True).stdout


def test_broker_down_at_start_fails_quickly(start_host, tmp_path):
    host = start_host(
        {"DEFAULT": {"enabled_services": "example", "transport_url": "rabbit://guest:pw@127.0.0.1:1/",
                     "broker_check_timeout": 5}},
        start=False)
    started = time.monotonic()
    out = subprocess.run([str(BIN / "service-host"), "--config-file", str(host.config_file)],
                         capture_output=True, text=True, timeout=60, cwd=host.workdir)
    assert out.returncode != 0
    assert time.monotonic() - started < 15
    assert "guest:****@127.0.0.1:1" in out.stderr and "Traceback" not in out.stderr


def test_a_call_with_the_broker_down_fails_within_bounds(tmp_path):
    from oslo_config import cfg

    from service_host import rpc
    from service_host.conf import register_opts

    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf([], project="x")
    conf.set_override("transport_url", "rabbit://guest:guest@127.0.0.1:1/")
    started = time.monotonic()
    with pytest.raises(oslo_messaging.MessageDeliveryFailure, match=r"guest:\*\*\*\*@127.0.0.1:1"):
        rpc.Client(conf, "example", timeout=5).call(None, "echo", message="x")
    assert time.monotonic() - started < 15
    rpc.cleanup()


def test_config_dir_is_read_after_the_config_file(start_host, tmp_path):
    conf_d = tmp_path / "service-host.conf.d"
    conf_d.mkdir()
    (conf_d / "10-greeting.conf").write_text("[example]\ngreeting = hola\n")
    host = start_host(EXAMPLE, "--config-dir", str(conf_d))
    host.wait_workers_up("example", 1)
    assert host.client("example").call(None, "echo", message="x") == "hola x"
