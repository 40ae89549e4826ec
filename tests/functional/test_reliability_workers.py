"""Reliability of the workers: kill -9 under load, managers that cannot start, SIGHUP under load.

Every scenario runs ``service-host`` as a subprocess on the real RabbitMQ,
drives it from this process and stops by itself. Calls go to ``topic.host``
so that hosts of other tests sharing the broker never take them. The figures
measured are printed (``pytest -s`` shows them); behaviour is asserted, not
timing.
"""

import os
import signal
import statistics
import threading
import time

import oslo_messaging
import pytest

from service_host import servicegroup
from tests.functional import managers
from tests.functional.harness import wait_until

KILLS = 20


class CallLoad:
    """Threads that call ``echo`` on one host in a loop and record every outcome."""

    def __init__(self, client, threads: int = 2, greetings: tuple[str, ...] = ("hello",)) -> None:
        self.client = client
        self.greetings = greetings
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.answers: list[str] = []
        self.errors: list[str] = []
        self.longest = 0.0
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True)
                        for n in range(threads)]

    def _run(self, n: int) -> None:
        i = 0
        while not self.stop.is_set():
            i += 1
            message = f"{n}-{i}"
            started = time.monotonic()
            try:
                answer = self.client.call(None, "echo", message=message)
                greeting, _, echoed = answer.partition(" ")
                assert greeting in self.greetings and echoed == message, answer
                with self.lock:
                    self.answers.append(greeting)
            except Exception as exc:  # noqa: BLE001 - recorded, asserted by the test
                with self.lock:
                    self.errors.append(f"{type(exc).__name__}: {exc}")
            with self.lock:
                self.longest = max(self.longest, time.monotonic() - started)

    @property
    def ok(self) -> int:
        with self.lock:
            return len(self.answers)

    def __enter__(self) -> "CallLoad":
        for thread in self.threads:
            thread.start()
        wait_until(lambda: self.ok >= 10, 30, "the call load to run")
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)
        assert not any(t.is_alive() for t in self.threads), "a call of the load hangs"

    def goes_on(self, calls: int = 20, timeout: float = 30) -> None:
        before = self.ok
        wait_until(lambda: self.ok >= before + calls, timeout, f"{calls} more calls to answer")


def summary(values: list[float]) -> str:
    values = sorted(values)
    return (f"min {values[0]:.2f} / median {statistics.median(values):.2f} / "
            f"max {values[-1]:.2f} s")


def members(host, topic: str) -> list[dict]:
    """This host's rows of the service group of ``topic``, read in-process (fast)."""
    return [m.as_dict() for m in servicegroup.list_members(host.conf, topic, host.host)]


def with_test_managers(start_host, config):
    """A host that can load tests.functional.managers (the host runs in a tmp dir)."""
    return start_host(config, start=False).start(env=managers.ENV)


def test_kill_9_a_worker_20_times_under_load(start_host):
    host = start_host({"DEFAULT": {"enabled_services": "example", "example_workers": 2}})
    workers = {w["worker_id"]: w for w in host.wait_workers_up("example", 2)}
    client = host.client("example", server=host.host, timeout=15)
    respawn = []

    with CallLoad(client) as load:
        for kill in range(1, KILLS + 1):
            worker_id = kill % 2
            killed_at = time.monotonic()
            os.kill(workers[worker_id]["pid"], signal.SIGKILL)

            def new_pid_answers():
                pids = {client.call(None, "whoami")["pid"] for _ in range(4)}
                return (pids - {w["pid"] for w in workers.values()}) or None

            [new_pid] = wait_until(new_pid_answers, 30, f"a new worker to answer after kill {kill}")
            respawn.append(time.monotonic() - killed_at)

            def shown_up(worker_id=worker_id, new_pid=new_pid):
                rows = [m for m in members(host, "example") if m["worker_id"] == worker_id]
                return rows and rows[0]["pid"] == new_pid and rows[0]["state"] == "up" and rows[0]

            workers[worker_id] = wait_until(shown_up, 20, f"worker {worker_id} up after kill {kill}")
            assert workers[worker_id]["restarts"] == (kill + 1) // 2
            assert host.proc.poll() is None, host.log()[-3000:]
        load.goes_on()

    log = host.log()
    assert host.proc.poll() is None
    assert log.count("exited with signal 9; respawning it") == KILLS
    assert "of topic 'example' is crash-looping: 3 exits in the last 60 s" in log
    # Only the calls a worker had taken when it was killed are lost: they time out.
    assert all(e.startswith("MessagingTimeout") for e in load.errors), load.errors
    assert len(load.errors) <= KILLS and load.longest < 20
    throttled = [round(d, 1) for d in respawn if d > 4.5]
    assert max(respawn) < 15
    print(f"\n[kill -9 x{KILLS}] respawn (kill -> new pid answers): {summary(respawn)}; "
          f"throttled by cotyledon (> 4.5 s): {len(throttled)} {throttled}, "
          f"'Forking too fast' lines: {log.count('Forking too fast')}; "
          f"calls answered {load.ok}, lost (timed out) {len(load.errors)}, "
          f"longest call {load.longest:.1f} s")


def attempt_times(host, topic: str) -> list[float]:
    """Times (s) of the 'failed to start ... (attempt N)' log lines of ``topic``."""
    times = []
    for line in host.log().splitlines():
        if f"of topic '{topic}' failed to start" in line and "(attempt" in line:
            stamp = time.mktime(time.strptime(line[:19], "%Y-%m-%d %H:%M:%S"))
            times.append(stamp + float(line[19:23]))
    return times


def test_manager_whose_init_host_always_raises(start_host):
    host = with_test_managers(start_host, {"DEFAULT": {
        "enabled_services": "example,crashy",
        "crashy_manager": "tests.functional.managers:CrashyManager",
    }})
    host.wait_workers_up("example", 1)
    [failed] = wait_until(lambda: [m for m in members(host, "crashy") if m["state"] == "failed"],
                          20, "the crashy worker shown failed")
    # The service group says which topic fails and why...
    assert "tests.functional.managers.CrashyManager" in failed["error"]
    assert "'crashy'" in failed["error"] and managers.CRASHY_REASON in failed["error"]

    # ... and the worker backs off (1, 2, 4 s) without exiting: no respawn, no throttle.
    attempts = wait_until(lambda: (a := attempt_times(host, "crashy")) and len(a) >= 4 and a,
                          30, "4 attempts to start the crashy manager")
    gaps = [b - a for a, b in zip(attempts, attempts[1:])]
    for gap, expected in zip(gaps, (1, 2, 4)):
        assert expected - 0.1 < gap < expected + 0.5, gaps
    log = host.log()
    assert "ConnectionError: " + managers.CRASHY_REASON in log
    assert "(attempt 4); worker 0 tries again in 8 s" in log
    assert "respawning" not in log
    [still] = members(host, "crashy")
    assert still["pid"] == failed["pid"] and still["restarts"] == 0 and still["state"] == "failed"

    # Every other service is up and answers meanwhile.
    assert host.client("example", server=host.host).call(None, "echo", message="x") == "hello x"
    # A call to the failing topic times out cleanly: nothing consumes it.
    with pytest.raises(oslo_messaging.MessagingTimeout):
        host.client("crashy", server=host.host, timeout=2).call(None, "ping")
    # A stop interrupts the back-off.
    started = time.monotonic()
    assert host.stop() == 0
    print(f"\n[init_host raises] gaps between attempts: {[round(g, 2) for g in gaps]} s; "
          f"SIGTERM during the back-off -> exit in {time.monotonic() - started:.2f} s")


def test_worker_that_dies_at_start_crash_loops_visibly(start_host):
    host = with_test_managers(start_host, {"DEFAULT": {
        "enabled_services": "example,exiting",
        "exiting_manager": "tests.functional.managers:ExitingManager",
    }})
    host.wait_workers_up("example", 1)
    seen = {}

    def restarted_3_times():
        for row in members(host, "exiting"):
            seen[row["pid"]] = row["restarts"]
        return len(seen) >= 3 and max(seen.values()) >= 3

    wait_until(restarted_3_times, 40, "3 incarnations of the exiting worker in the service group")
    # Each incarnation shows in the service group, with the restarts counted so far.
    assert len(set(seen.values())) == len(seen), seen
    log = host.log()
    assert "Worker 0 of topic 'exiting' exited with code 3; respawning it (restart 3)" in log
    assert "Worker 0 of topic 'exiting' is crash-looping: 3 exits in the last 60 s" in log
    assert host.client("example", server=host.host).call(None, "echo", message="x") == "hello x"
    assert host.stop() == 0
    print(f"\n[crash loop] restarts seen in the service group, by pid: {seen}; "
          f"'Forking too fast' lines: {log.count('Forking too fast')}")


def test_sighup_under_load_reloads_master_and_workers_without_losing_a_call(start_host):
    host = start_host({"DEFAULT": {"enabled_services": "example", "example_workers": 2}})
    before = {w["worker_id"]: w["pid"] for w in host.wait_workers_up("example", 2)}
    client = host.client("example", server=host.host, timeout=15)

    with CallLoad(client, threads=3, greetings=("hello", "bonjour")) as load:
        text = host.config_file.read_text()
        # example_workers is read by the master, greeting by the workers.
        text = text.replace("example_workers = 2", "example_workers = 3")
        host.config_file.write_text(text + "\n[example]\ngreeting = bonjour\n")
        hup_at = time.monotonic()
        host.signal(signal.SIGHUP)
        after = host.wait_workers_up("example", 3, timeout=30)

        def only_new_greetings() -> bool:
            # Every worker answers with the new greeting: 60 calls in a row.
            mark = load.ok
            load.goes_on(60)
            with load.lock:
                return set(load.answers[mark:]) == {"bonjour"}

        wait_until(only_new_greetings, 30, "every worker to serve the reloaded greeting")
        reloaded_in = time.monotonic() - hup_at

    assert load.errors == []
    assert {w["worker_id"]: w["pid"] for w in after if w["worker_id"] in before} == before
    assert "Configuration reloaded" in host.log()
    assert host.proc.poll() is None
    print(f"\n[SIGHUP under load] {load.ok} calls, none lost; new config served by 3 workers "
          f"within {reloaded_in:.1f} s; longest call {load.longest:.2f} s")
