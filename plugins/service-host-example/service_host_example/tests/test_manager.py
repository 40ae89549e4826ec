"""The example manager, served in process by service-host's test kit.

The fixtures ``service_host_conf``, ``manager_runner`` and ``fake_clock`` come
from the ``service_host.testing`` pytest plugin, installed with service-host.
"""

import threading

import oslo_messaging
import pytest

from service_host.testing import wait_until
from service_host_example import opts
from service_host_example.manager import ExampleManager
from service_host_example.rpcapi import ExampleAPI


@pytest.fixture
def example(manager_runner):
    return manager_runner(ExampleManager, topic="example")


def test_echo(example):
    assert example.call("echo", message="hi") == "hello hi"
    assert example.call("echo", message="hi", upper=True) == "HELLO HI"


def test_the_greeting_comes_from_the_config(service_host_conf, manager_runner):
    opts.register_opts(service_host_conf)
    service_host_conf.set_override("greeting", "bonjour", group="example")
    runner = manager_runner(ExampleManager, topic="example")
    assert runner.call("echo", message="hi") == "bonjour hi"
    # greeting is mutable: a SIGHUP re-reads it, and the next call uses it.
    service_host_conf.set_override("greeting", "salut", group="example")
    assert runner.call("echo", message="hi") == "salut hi"


def test_whoami_names_the_worker(manager_runner):
    runner = manager_runner(ExampleManager, topic="example", host="node-1")
    who = runner.call("whoami")
    assert (who["host"], who["topic"]) == ("node-1", "example")


def test_slow_calls_are_counted_while_in_flight(example):
    answers = []
    caller = threading.Thread(target=lambda: answers.append(example.call("slow", seconds=0.3)))
    caller.start()
    wait_until(lambda: example.call("in_flight") == 1, what="the slow call to start")
    caller.join(5)
    assert answers[0]["slept"] == 0.3
    assert example.call("in_flight") == 0


def test_record_appends_to_a_file_per_worker(service_host_conf, manager_runner, tmp_path):
    opts.register_opts(service_host_conf)
    service_host_conf.set_override("record_dir", str(tmp_path), group="example")
    runner = manager_runner(ExampleManager, topic="example")
    pid = runner.call("record", marker="one")
    runner.cast("record", marker="two")
    path = tmp_path / f"{pid}.txt"
    wait_until(lambda: path.read_text() == "one\ntwo\n", what="the cast to be recorded")


def test_tick_runs_every_second_and_tock_every_five(example, fake_clock):
    fake_clock.advance(0)  # what a worker runs at start
    fake_clock.advance(10)
    assert example.periodic.count("tick") == 11
    assert example.periodic.count("tock") == 3
    runs = example.call("task_runs")
    assert (len(runs["tick"]), len(runs["tock"])) == (11, 3)


def test_the_rpc_api_client(example, service_host_conf):
    api = ExampleAPI(service_host_conf)
    assert api.echo(None, "hi") == "hello hi"
    assert api.echo(None, "hi", upper=True) == "HELLO HI"
    assert api.whoami(None, server="test-host")["host"] == "test-host"


class OldExampleManager(ExampleManager):
    """A server that still runs RPC API 1.0, during a rolling upgrade."""

    target = oslo_messaging.Target(version="1.0")


def test_the_client_keeps_working_with_an_old_server(manager_runner, service_host_conf):
    manager_runner(OldExampleManager, topic="example")
    api = ExampleAPI(service_host_conf)
    assert api.echo(None, "hi") == "hello hi"
    with pytest.raises(oslo_messaging.RemoteError) as err:
        api.echo(None, "hi", upper=True)
    assert err.value.exc_type == "UnsupportedVersion"


def test_the_plugin_is_installed_under_its_topic(manager_runner):
    runner = manager_runner("example")
    assert type(runner.manager) is ExampleManager
