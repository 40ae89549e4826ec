"""API services in process: socket binding, API.create, and a worker serving and draining."""

import json
import signal
import socket
import threading
import urllib.error
import urllib.request

import pytest

from service_host import launcher
from service_host import plugins
from service_host import wsgi
from service_host.testing import wait_until


@pytest.fixture(autouse=True)
def _keep_sigint():
    # APIWorker ignores SIGINT, as a worker process should; not pytest's.
    handler = signal.getsignal(signal.SIGINT)
    yield
    signal.signal(signal.SIGINT, handler)


@pytest.fixture
def busy_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock.getsockname()[1]
    sock.close()


def test_bind_port_in_use_names_api_address_and_port(busy_port):
    with pytest.raises(wsgi.APIStartError) as info:
        wsgi.bind_socket("host", "127.0.0.1", busy_port)
    message = str(info.value)
    assert f"'host' cannot listen on 127.0.0.1:{busy_port}" in message
    assert "already in use" in message
    assert "host_listen_port" in message


def test_bind_unresolvable_address():
    with pytest.raises(wsgi.APIStartError, match="does not resolve.*example_api_listen"):
        wsgi.bind_socket("example_api", "no-such-host.invalid", 0)


def test_bind_reports_the_real_port():
    sock = wsgi.bind_socket("host", "127.0.0.1", 0)
    try:
        assert sock.getsockname()[1] > 0
        assert sock.get_inheritable()
    finally:
        sock.close()


def test_format_address():
    assert wsgi.format_address("127.0.0.1", 80) == "127.0.0.1:80"
    assert wsgi.format_address("::1", 80) == "[::1]:80"


def test_drain_timeout_leaves_a_margin():
    assert wsgi.drain_timeout(60) == 59
    assert wsgi.drain_timeout(2) == pytest.approx(1.6)
    assert wsgi.drain_timeout(0) is None


@pytest.fixture
def api_conf(conf):
    launcher.register_plugin_opts(conf)
    conf.set_override("host_listen_port", 0)
    return conf


def test_create_resolves_and_binds(api_conf):
    api_conf.set_override("host_workers", 3)
    api = wsgi.API.create(api_conf, "host")
    try:
        assert api.name == "host" and api.workers == 3
        assert api.address == f"127.0.0.1:{api.socket.getsockname()[1]}"
        assert callable(api.factory)
    finally:
        api.close()


def test_create_unknown_api_is_a_plugin_error(api_conf):
    with pytest.raises(plugins.PluginError, match="no entry point named 'nope'"):
        wsgi.API.create(api_conf, "nope")


def test_create_with_missing_user_file_fails(api_conf, tmp_path):
    api_conf.set_override("auth_strategy", "http_basic", group="api")
    api_conf.set_override("http_basic_auth_user_file", str(tmp_path / "none"), group="api")
    with pytest.raises(wsgi.APIStartError, match="'host' cannot start.*cannot be read"):
        wsgi.API.create(api_conf, "host")


# -- a worker, in process -------------------------------------------------------
class SlowApp:
    """GET /slow blocks until released; anything else answers at once."""

    def __init__(self):
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"] == "/slow":
            self.started.set()
            self.release.wait(30)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"path": environ["PATH_INFO"]}).encode()]


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return answer.status, json.loads(answer.read())


def answers(url):
    try:
        return get(url, timeout=2)[0] == 200
    except OSError:  # refused, or queued in the backlog with nobody serving yet
        return False


def refused(url):
    try:
        urllib.request.urlopen(url, timeout=2)
    except (urllib.error.URLError, ConnectionError):
        return True
    return False


@pytest.fixture
def serving(conf):
    """(worker, base url, app): an APIWorker serving SlowApp on a free port, in threads."""
    app = SlowApp()
    api = wsgi.API("slowpoke", lambda conf: app, conf, wsgi.bind_socket("slowpoke", "127.0.0.1", 0),
                   workers=1, threads=4)
    worker = wsgi.APIWorker(0, api)
    runner = threading.Thread(target=worker.run, daemon=True)
    runner.start()
    url = f"http://{api.address}"
    wait_until(lambda: answers(f"{url}/ready"), 10, "the worker to serve")
    yield worker, url, app
    app.release.set()
    worker.terminate()
    runner.join(10)


def test_worker_serves_through_the_middleware(serving):
    worker, url, _ = serving
    assert worker.name == "api-slowpoke"
    assert get(f"{url}/hello") == (200, {"path": "/hello"})
    with urllib.request.urlopen(f"{url}/healthcheck", timeout=5) as answer:
        assert answer.status == 200
        assert answer.headers["x-openstack-request-id"].startswith("req-")


def test_terminate_finishes_the_request_in_flight(serving):
    worker, url, app = serving
    result = {}

    def slow():
        result["answer"] = get(f"{url}/slow", timeout=30)

    client = threading.Thread(target=slow)
    client.start()
    assert app.started.wait(10)
    stopper = threading.Thread(target=worker.terminate)
    stopper.start()
    # No new connection once stopping, while the slow one is still running.
    wait_until(lambda: refused(f"{url}/other"), 10, "the worker to stop accepting")
    assert client.is_alive()
    app.release.set()
    client.join(10)
    stopper.join(10)
    assert result["answer"] == (200, {"path": "/slow"})
    assert not stopper.is_alive()


def test_a_failing_factory_is_retried_until_it_works(conf, monkeypatch, caplog):
    monkeypatch.setattr(wsgi, "_MAX_BACKOFF", 0.05)
    tries = []
    app = SlowApp()

    def make_app(conf):
        tries.append(1)
        if len(tries) < 3:
            raise ValueError("bad app")
        return app

    api = wsgi.API("flaky", make_app, conf, wsgi.bind_socket("flaky", "127.0.0.1", 0),
                   workers=1, threads=1)
    worker = wsgi.APIWorker(0, api)
    runner = threading.Thread(target=worker.run, daemon=True)
    runner.start()
    try:
        wait_until(lambda: answers(f"http://{api.address}/ready"), 10, "the worker to serve")
        assert len(tries) == 3
        assert "The API 'flaky' failed to build its application: ValueError: bad app" in caplog.text
    finally:
        worker.terminate()
        runner.join(10)


def test_terminate_while_the_factory_fails(conf):
    def make_app(conf):
        raise ValueError("bad app")

    api = wsgi.API("broken", make_app, conf, wsgi.bind_socket("broken", "127.0.0.1", 0),
                   workers=1, threads=1)
    worker = wsgi.APIWorker(0, api)
    runner = threading.Thread(target=worker.run, daemon=True)
    runner.start()
    worker.terminate()
    runner.join(5)
    assert not runner.is_alive()
    api.close()
