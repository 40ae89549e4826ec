"""The example API against the example manager served in process (no broker).

The app is called as a plain WSGI application, inside the host's middleware
stack, as a worker would serve it.
"""

import io
import json
import os
import wsgiref.util

import oslo_messaging
import pytest
from service_host_example_api import app as example_app

from service_host import rpc
from service_host.api import middleware


def call(app, method, path, body=b""):
    environ = {}
    wsgiref.util.setup_testing_defaults(environ)
    environ.update(REQUEST_METHOD=method, PATH_INFO=path, CONTENT_LENGTH=str(len(body)),
                   CONTENT_TYPE="application/json")
    environ["wsgi.input"] = io.BytesIO(body)
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = int(status.split()[0])

    chunks = app(environ, start_response)
    try:
        data = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return answer["status"], json.loads(data)


@pytest.fixture
def api(service_host_conf):
    return middleware.wrap(example_app.make_app(service_host_conf), service_host_conf, "example_api")


@pytest.fixture
def example(manager_runner):
    return manager_runner("example")


def test_echo_round_trip(api, example):
    assert call(api, "POST", "/v1/echo", b'{"message": "hi"}') == (200, {"result": "hello hi"})
    status, doc = call(api, "POST", "/v1/echo", b'{"message": "hi", "upper": true}')
    assert (status, doc) == (200, {"result": "HELLO HI"})


def test_whoami_names_both_sides(api, example):
    status, doc = call(api, "GET", "/v1/whoami")
    assert status == 200
    assert doc["api"]["pid"] == os.getpid()
    assert doc["manager"]["topic"] == "example"


def test_slow(api, example):
    status, doc = call(api, "POST", "/v1/slow", b'{"seconds": 0}')
    assert status == 200 and doc["result"]["slept"] == 0


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"message": ', "not valid JSON"),
        (b"", "not valid JSON"),
        (b'["hi"]', "JSON object"),
        (b'{"text": "hi"}', '"message"'),
        (b'{"message": "hi", "upper": "yes"}', '"upper"'),
    ],
)
def test_bad_bodies_are_400(api, body, words):
    status, doc = call(api, "POST", "/v1/echo", body)
    assert status == 400
    assert doc["error"]["code"] == 400 and words in doc["error"]["message"]


def test_bad_seconds_is_400(api):
    status, doc = call(api, "POST", "/v1/slow", b'{"seconds": "long"}')
    assert status == 400 and '"seconds"' in doc["error"]["message"]


def test_wrong_method_and_unknown_path(api):
    assert call(api, "GET", "/v1/echo")[0] == 405
    status, doc = call(api, "GET", "/v1/nothing")
    assert status == 404 and doc["error"]["code"] == 404


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (oslo_messaging.MessagingTimeout("late"), 504),
        (oslo_messaging.RemoteError("ValueError", "bad value"), 502),
        (oslo_messaging.MessageDeliveryFailure("no broker"), 503),
    ],
)
def test_rpc_failures_map_to_http(api, monkeypatch, error, code):
    def fail(self, context, method, **kwargs):
        raise error

    monkeypatch.setattr(rpc.Client, "call", fail)
    status, doc = call(api, "POST", "/v1/echo", b'{"message": "hi"}')
    assert status == code and doc["error"]["code"] == code
