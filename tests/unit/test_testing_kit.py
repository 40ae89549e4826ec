"""The test kit (service_host.testing) itself: config, in-process runner, fake clock."""

import logging
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import oslo_messaging
import pytest

from service_host import rpc
from service_host.manager import Manager
from service_host.periodic import periodic_task
from service_host.testing import FakeClock
from service_host.testing import PeriodicTasks
from service_host.testing import make_conf
from service_host.testing import run_manager
from service_host.testing import wait_until

REPO = Path(__file__).resolve().parents[2]


class PluginError(Exception):
    """An exception of a plugin's own module: the wire turns it into RemoteError."""


class KitManager(Manager):
    """A manager that records its lifecycle and what it is sent."""

    def __init__(self, host, topic, conf):
        super().__init__(host, topic, conf)
        self.events = []
        self.received = []
        self.lock = threading.Lock()
        self.waiting = threading.Event()

    def init_host(self):
        self.events.append("init_host")

    def cleanup_host(self):
        self.events.append("cleanup_host")

    def ping(self, context):
        return {"pong": self.host, "request_id": context["request_id"]}

    def shapes(self, context):
        return {"tuple": (1, 2), "set": {3}}

    def mutate(self, context, items):
        items.append("added by the manager")
        return items

    def fail_builtin(self, context):
        raise ValueError("bad value")

    def fail_own(self, context):
        raise PluginError("plugin trouble")

    def remember(self, context, value):
        with self.lock:
            self.received.append(value)

    def seen(self, context):
        with self.lock:
            return list(self.received)

    def wait_a_bit(self, context, seconds):
        self.waiting.set()
        threading.Event().wait(seconds)
        return "done"


class Tasks(Manager):
    """Periodic tasks of every kind of spacing."""

    def __init__(self, host, topic, conf):
        super().__init__(host, topic, conf)
        self.fail = False

    @periodic_task(spacing=1, run_immediately=True)
    def fast(self, context):
        assert context["request_id"].startswith("req-")
        return "fast"

    @periodic_task(spacing=5)
    def slow(self, context):
        if self.fail:
            raise RuntimeError("slow task broke")
        return "slow"

    @periodic_task()
    def default_spacing(self, context):
        return "default"

    @periodic_task(spacing=-1)
    def disabled(self, context):
        raise AssertionError("a disabled task never runs")


# -- configuration ---------------------------------------------------------------


def test_conf_has_the_host_options_and_test_defaults(service_host_conf):
    conf = service_host_conf
    assert conf.transport_url == "fake://"
    assert conf.host == "test-host"
    assert conf.periodic_fuzzy_delay == 0
    assert conf.enabled_services == []
    assert conf.coordination.backend_url.startswith("file://")
    assert conf.config_file == []
    conf.set_override("periodic_interval", 7)
    assert conf.periodic_interval == 7


def test_each_conf_has_its_own_exchange():
    assert make_conf().control_exchange != make_conf().control_exchange


def test_make_conf_overrides():
    assert make_conf(host="h2", periodic_interval=3).host == "h2"


def test_confs_do_not_share_messages():
    a, b = make_conf(), make_conf()
    try:
        with run_manager(KitManager, a, topic="shared"):
            client = rpc.Client(b, "shared", timeout=0.3)
            with pytest.raises(oslo_messaging.MessagingTimeout):
                client.call(None, "ping")
    finally:
        rpc.cleanup(a)
        rpc.cleanup(b)


# -- the in-process runner ---------------------------------------------------------


def test_the_manager_is_built_like_in_a_worker(manager_runner):
    runner = manager_runner(KitManager, topic="kit", host="h1")
    manager = runner.manager
    assert (manager.host, manager.topic, manager.conf) == ("h1", "kit", runner.conf)
    assert manager.events == ["init_host"]
    assert runner.call("ping")["pong"] == "h1"
    assert runner.client.prepare(server="h1").call(None, "ping")["pong"] == "h1"


def test_stop_drains_calls_in_flight_then_cleans_up():
    with run_manager(KitManager, topic="kit") as runner:
        result = []
        caller = threading.Thread(target=lambda: result.append(runner.call("wait_a_bit", seconds=0.5)))
        caller.start()
        assert runner.manager.waiting.wait(5)
    caller.join(5)
    assert result == ["done"]
    assert runner.manager.events == ["init_host", "cleanup_host"]


def test_a_plugin_is_loaded_by_name_like_the_host_does(service_host_conf):
    path = f"{__name__}:KitManager"
    with run_manager(path, service_host_conf, topic="kit") as runner:
        assert type(runner.manager) is KitManager
    with run_manager("example", service_host_conf) as runner:
        assert runner.topic == "example"
        assert runner.call("echo", message="hi") == "hello hi"


def test_a_bad_manager_is_refused_with_the_host_message():
    with pytest.raises(Exception, match="not a subclass of service_host.manager.Manager"):
        with run_manager(object, topic="kit"):
            pass


class FailsToStart(KitManager):
    def init_host(self):
        raise RuntimeError("no database")


def test_a_manager_that_fails_to_start_leaves_nothing_behind():
    before = set(threading.enumerate())
    with pytest.raises(RuntimeError, match="no database"):
        with run_manager(FailsToStart, topic="kit"):
            pass
    assert set(threading.enumerate()) - before == set()


def test_values_cross_as_json_copies(manager_runner):
    runner = manager_runner(KitManager, topic="kit")
    assert runner.call("shapes") == {"tuple": [1, 2], "set": [3]}
    mine = ["mine"]
    assert runner.call("mutate", items=mine) == ["mine", "added by the manager"]
    assert mine == ["mine"]
    with pytest.raises(ValueError, match="Cannot convert"):  # not JSON: refused, as on the wire
        runner.call("mutate", items=object())


def test_exceptions_come_back_as_over_the_wire(manager_runner):
    runner = manager_runner(KitManager, topic="kit")
    with pytest.raises(ValueError, match="bad value"):
        runner.call("fail_builtin")
    with pytest.raises(oslo_messaging.RemoteError) as err:
        runner.call("fail_own")
    assert err.value.exc_type == "PluginError"
    with pytest.raises(oslo_messaging.RemoteError) as err:
        runner.call("no_such_method")
    assert err.value.exc_type == "NoSuchMethod"
    with pytest.raises(oslo_messaging.RemoteError) as err:
        runner.call("cleanup_host")
    assert err.value.exc_type == "NoSuchMethod"
    with pytest.raises(oslo_messaging.RemoteError) as err:
        runner.client.prepare(version="1.5").call(None, "ping")
    assert err.value.exc_type == "UnsupportedVersion"


def test_cast_and_fanout(manager_runner):
    first = manager_runner(KitManager, topic="kit", host="h1")
    second = manager_runner(KitManager, topic="kit", host="h2")
    first.cast("remember", value="cast")
    wait_until(lambda: first.manager.received + second.manager.received, what="the cast")
    assert sorted(first.manager.received + second.manager.received) == ["cast"]
    first.fanout("remember", value="fanout")
    for runner in (first, second):
        wait_until(lambda r=runner: "fanout" in r.manager.received, what="the fanout")


def test_wait_until_gives_up():
    with pytest.raises(AssertionError, match="timed out after 0.05 s waiting for nothing"):
        wait_until(lambda: False, timeout=0.05, what="nothing")


def test_no_thread_and_no_transport_outlive_the_runner():
    before = set(threading.enumerate())
    with run_manager(KitManager, topic="kit") as runner:
        runner.call("ping")
        runner.fanout("remember", value=1)
        conf = runner.conf
        assert set(threading.enumerate()) - before
    assert set(threading.enumerate()) - before == set()
    assert not [key for key in rpc._TRANSPORTS if key[0] == id(conf)]


def test_the_fixtures_stop_everything_at_the_end_of_the_test(tmp_path):
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(
        f"""
        import threading

        from {__name__} import KitManager

        BEFORE = set()
        STARTED = []


        def test_uses_the_fixtures(manager_runner, fake_clock):
            BEFORE.update(threading.enumerate())
            STARTED.append(manager_runner(KitManager, topic="kit"))
            STARTED.append(manager_runner(KitManager, topic="kit", host="other"))
            assert STARTED[0].call("ping")["pong"] == "test-host"
            assert STARTED[1].clock is fake_clock


        def test_they_were_stopped():
            assert [r.manager.events for r in STARTED] == [["init_host", "cleanup_host"]] * 2
            assert set(threading.enumerate()) - BEFORE == set()
        """
    ))
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=str(tmp_path.parent),
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 passed" in out.stdout


# -- periodic tasks on a fake clock -------------------------------------------------


@pytest.fixture
def tasks(service_host_conf):
    service_host_conf.set_override("periodic_interval", 3)
    return PeriodicTasks(Tasks("h", "t", service_host_conf), FakeClock())


def test_tasks_are_those_a_worker_would_run(tasks):
    assert {name: task.spacing for name, task in tasks.tasks.items()} == {
        "default_spacing": 3, "fast": 1, "slow": 5,
    }


def test_tasks_run_at_their_spacing(tasks):
    assert tasks.runs == []  # nothing runs until the clock is told to
    first = tasks.advance(0)
    assert [(r.name, r.at, r.result) for r in first] == [
        ("default_spacing", 0, "default"), ("fast", 0, "fast"), ("slow", 0, "slow"),
    ]
    tasks.advance(10)
    assert tasks.clock.now == 10
    assert [tasks.count(n) for n in ("fast", "slow", "default_spacing")] == [11, 3, 4]
    assert [r.at for r in tasks.runs if r.name == "slow"] == [0, 5, 10]
    assert tasks.next_run("slow") == 15


def test_the_fuzzy_delay_postpones_the_first_run_of_tasks_not_run_immediately(service_host_conf):
    service_host_conf.set_override("periodic_fuzzy_delay", 30)
    tasks = PeriodicTasks(Tasks("h", "t", service_host_conf))
    assert [r.name for r in tasks.advance(0)] == ["fast"]
    assert tasks.next_run("slow") == 30
    tasks.advance(30)
    assert tasks.count("slow") == 1


def test_a_zero_periodic_interval_disables_tasks_without_spacing(service_host_conf):
    service_host_conf.set_override("periodic_interval", 0)
    tasks = PeriodicTasks(Tasks("h", "t", service_host_conf))
    assert sorted(tasks.tasks) == ["fast", "slow"]
    with pytest.raises(KeyError, match="no enabled periodic task 'disabled'"):
        tasks.count("disabled")


def test_a_failing_task_is_raised_to_a_strict_test_and_runs_again(tasks):
    tasks.manager.fail = True
    with pytest.raises(RuntimeError, match="slow task broke"):
        tasks.advance(7)
    assert tasks.clock.now == 0  # stopped at the failure, the others due then have run
    assert [r.name for r in tasks.runs] == ["default_spacing", "fast", "slow"]
    assert tasks.next_run("slow") == 5


def test_a_failing_task_is_logged_and_retried_while_the_others_go_on(tasks, caplog):
    tasks.strict = False
    tasks.manager.fail = True
    with caplog.at_level(logging.ERROR):
        tasks.advance(10)
    assert [r.at for r in tasks.failures] == [0, 5, 10]
    assert tasks.count("fast") == 11
    assert "Periodic task slow failed; it runs again in 5.0 s" in caplog.text
    tasks.manager.fail = False
    tasks.advance(5)
    assert tasks.runs[-1].name == "slow" and tasks.runs[-1].error is None


def test_run_runs_one_task_now_and_leaves_the_schedule(tasks):
    assert tasks.run("slow") == "slow"
    assert tasks.runs == [] and tasks.next_run("slow") == 0
    tasks.manager.fail = True
    with pytest.raises(RuntimeError):
        tasks.run("slow")


def test_one_clock_drives_several_managers_in_time_order(service_host_conf):
    clock = FakeClock(start=100)
    a = PeriodicTasks(Tasks("a", "t", service_host_conf), clock, periodic_interval=2.5)
    b = PeriodicTasks(Tasks("b", "t", service_host_conf), clock, periodic_interval=0.1)
    runs = clock.advance(1)
    times = [r.at for r in runs]
    assert times == sorted(times)
    assert b.count("default_spacing") == 11  # 100.0, 100.1, ... 101.0 despite float sums
    assert a.count("default_spacing") == 1
    b.close()
    clock.advance(1)
    assert b.count("default_spacing") == 11


def test_the_clock_does_not_go_back():
    with pytest.raises(ValueError):
        FakeClock().advance(-1)


def test_the_runner_periodic_tasks_use_the_clock(manager_runner, fake_clock):
    runner = manager_runner("example")
    fake_clock.advance(0)
    fake_clock.advance(4)
    assert runner.periodic.count("tick") == 5
    assert {k: len(v) for k, v in runner.call("task_runs").items()} == {"tick": 5, "tock": 1}
