"""The broker goes away: clients fail within bounds, services reconnect by themselves.

These tests stop and start RabbitMQ, so they run on a node of their own
(``tests.functional.broker``), never on the one the other tests share; the
node is always running again when a test ends, and stopped after the module.
"""

import subprocess
import time

import oslo_messaging
import pytest
from oslo_config import cfg

from service_host import rpc
from service_host.conf import register_opts
from tests.functional.broker import Broker
from tests.functional.harness import BIN
from tests.functional.harness import wait_until
from tests.functional.test_reliability_shutdown import recorded
from tests.functional.test_reliability_workers import CallLoad

CALL_TIMEOUT = 5
# Failures a client may see while the broker is away, all bounded in time.
BROKER_ERRORS = (oslo_messaging.MessagingTimeout, oslo_messaging.MessageDeliveryFailure)


@pytest.fixture(scope="module")
def broker():
    node = Broker()
    node.start()
    try:
        yield node
    finally:
        node.stop()


def host_on(start_host, broker, tmp_path, **extra):
    record_dir = tmp_path / "records"
    record_dir.mkdir(exist_ok=True)
    host = start_host({"DEFAULT": {"enabled_services": "example", "transport_url": broker.url,
                                   "rpc_response_timeout": CALL_TIMEOUT, **extra},
                       "example": {"record_dir": record_dir}})
    host.wait_workers_up("example", 1)
    return host, record_dir


def timed(func, *args, **kwargs):
    """(seconds taken, exception raised or None)."""
    started = time.monotonic()
    try:
        func(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - returned to the test
        return time.monotonic() - started, exc
    return time.monotonic() - started, None


def fresh_conf(url: str) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf([], project="service-host-tests")
    conf.set_override("transport_url", url)
    conf.set_override("broker_check_timeout", 3)
    return conf


def answers(client) -> bool:
    return client.call(None, "echo", message="x") == "hello x"


def test_broker_gone_clients_fail_within_their_timeout(start_host, broker, tmp_path):
    host, _ = host_on(start_host, broker, tmp_path)
    client = host.client("example", server=host.host, timeout=CALL_TIMEOUT)
    assert answers(client)  # this client's transport and reply queue are set up

    with broker.stopped():
        # A client that was connected: its call fails, within its timeout.
        took, error = timed(client.call, None, "echo", message="x")
        assert isinstance(error, BROKER_ERRORS), error
        assert took < CALL_TIMEOUT + 5, took
        call_took, call_error = took, error
        # A cast gives up after rpc_client_retry reconnection attempts.
        took, error = timed(client.cast, None, "record", marker="lost")
        assert isinstance(error, oslo_messaging.MessageDeliveryFailure), error
        assert took < 15, took
        cast_took = took
        # A new client: its first call fails after broker_check_timeout, saying why.
        conf = fresh_conf(broker.url)
        took, error = timed(rpc.Client(conf, "example", timeout=CALL_TIMEOUT).call,
                            None, "echo", message="x")
        rpc.cleanup(conf)
        assert isinstance(error, rpc.BrokerUnreachable), error
        assert "guest:****@127.0.0.1" in str(error) and took < 3 + 5, (took, error)
        new_took = took
        # The command line: one error line, no traceback, bounded.
        started = time.monotonic()
        out = host.manage("call", "example", "echo", "message=x", "--timeout", str(CALL_TIMEOUT))
        manage_took = time.monotonic() - started
        assert out.returncode != 0 and "Traceback" not in out.stderr, out.stderr
        assert [line for line in out.stderr.splitlines() if "error:" in line], out.stderr
        assert manage_took < 20
        # The host waits for the broker; it does not exit.
        assert host.proc.poll() is None
        down_at = time.monotonic()
    up_at = time.monotonic()

    # Both the worker and this client reconnect by themselves.
    wait_until(lambda: answers(client), 60, "a call to answer after the broker is back",
               interval=0.5)
    reconnect = time.monotonic() - up_at
    assert host.proc.poll() is None
    print(f"\n[broker gone] connected client's call failed in {call_took:.1f} s "
          f"({type(call_error).__name__}), cast in {cast_took:.1f} s, new client in "
          f"{new_took:.1f} s, service-host-manage call in {manage_took:.1f} s; broker down "
          f"{up_at - down_at:.0f} s after the checks; calls answer again "
          f"{reconnect:.1f} s after the broker is back")


def test_broker_restart_under_load(start_host, broker, tmp_path):
    host, record_dir = host_on(start_host, broker, tmp_path)
    client = host.client("example", server=host.host, timeout=CALL_TIMEOUT)

    with CallLoad(client, threads=2) as load:
        load.goes_on()
        stop_took = broker.stop()
        try:
            failed_before = len(load.errors)
            wait_until(lambda: len(load.errors) >= failed_before + 2, 30,
                       "calls to fail while the broker is down")
            assert host.proc.poll() is None
        finally:
            start_took = broker.start()
        up_at = time.monotonic()
        load.goes_on(calls=50, timeout=90)
        reconnect = time.monotonic() - up_at

    assert host.proc.poll() is None
    # The calls caught in the restart failed with a clear error, none hung.
    kinds = {error.split(":")[0] for error in load.errors}
    assert kinds <= {"MessagingTimeout", "MessageDeliveryFailure", "BrokerUnreachable"}, kinds
    assert load.longest < CALL_TIMEOUT + 20, load.longest

    # Casts sent once the services are back are all processed.
    markers = [f"after-{n}" for n in range(100)]
    for marker in markers:
        client.cast(None, "record", marker=marker)
    wait_until(lambda: set(markers) <= set(recorded(record_dir)), 30, "the 100 casts processed")
    print(f"\n[broker restart under load] broker stop {stop_took:.1f} s, start {start_took:.1f} s; "
          f"{load.ok} calls answered, {len(load.errors)} failed ({sorted(kinds)}), longest "
          f"{load.longest:.1f} s; load answered again {reconnect:.1f} s after the broker was up; "
          f"100 casts after the restart all processed")


def test_service_host_manage_call_with_no_broker_is_bounded(tmp_path):
    """The command line against a closed port: one error line, quickly."""
    config = tmp_path / "c.conf"
    config.write_text("[DEFAULT]\ntransport_url = rabbit://guest:guest@127.0.0.1:1/\n"
                      "broker_check_timeout = 2\n")
    started = time.monotonic()
    out = subprocess.run([str(BIN / "service-host-manage"), "--config-file", str(config),
                          "call", "example", "echo", "message=x"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode != 0 and "Traceback" not in out.stderr
    [error] = [line for line in out.stderr.splitlines() if "error:" in line]
    assert "did not answer within 2 s" in error and "guest:****@127.0.0.1:1" in error
    assert time.monotonic() - started < 15
