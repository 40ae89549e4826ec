import socket
import time

import oslo_messaging
import pytest

from service_host import rpc
from tests.unit.fixtures import RecordingManager


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("rabbit://guest:secret@127.0.0.1:5672/", "rabbit://guest:****@127.0.0.1:5672/"),
        ("rabbit://a:p1@h1:5672,b:p2@h2:5672/vh", "rabbit://a:****@h1:5672,b:****@h2:5672/vh"),
        ("rabbit://h1:5672/", "rabbit://h1:5672/"),
        (None, "<unset>"),
    ],
)
def test_mask_url(url, masked):
    assert rpc.mask_url(url) == masked


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_check_broker_gives_up_within_its_timeout(conf):
    conf.set_override("transport_url", f"rabbit://guest:secret@127.0.0.1:{_closed_port()}/")
    started = time.monotonic()
    with pytest.raises(rpc.BrokerUnreachable) as err:
        rpc.check_broker(conf, timeout=2)
    assert time.monotonic() - started < 6
    assert "guest:****@127.0.0.1" in str(err.value)
    assert "secret" not in str(err.value)


def test_in_process_transports_are_not_checked(conf):
    conf.set_override("transport_url", "fake://")
    rpc.check_broker(conf, timeout=1)


@pytest.fixture
def served(conf):
    conf.set_override("transport_url", "fake://")
    server = rpc.get_server(conf, "rec", "h1", [RecordingManager("h1", "rec", conf)])
    server.start()
    yield rpc.Client(conf, "rec", timeout=5)
    server.stop()
    server.wait()
    rpc.cleanup()


def test_public_methods_are_rpc_methods(served):
    assert served.call(None, "ping") == "pong"
    assert served.prepare(server="h1").call(None, "ping") == "pong"


@pytest.mark.parametrize("method", ["init_host", "cleanup_host", "reset", "_private"])
def test_lifecycle_hooks_are_not_rpc_methods(served, method):
    with pytest.raises(oslo_messaging.rpc.dispatcher.NoSuchMethod):
        served.call(None, method)
