"""Bad input: malformed RPC messages and fuzzed HTTP requests never kill a worker.

RPC: unknown or forbidden methods and bad arguments give the caller an error,
and raw messages that are not oslo.messaging messages at all are dropped; the
worker keeps its pid and answers. HTTP: requests generated from a fixed seed
(methods, paths, queries, headers and bodies, some not even HTTP) against the
``host`` API never get a 5xx and never kill a worker. (The malformed config
files are in test_reliability_config_fuzz.py.)
"""

import collections
import json
import random
import socket
import time

import kombu
import oslo_messaging
import pytest

from service_host.testing import free_port
from tests.functional.harness import Host
from tests.functional.harness import wait_until

SEED = 8
HTTP_REQUESTS = 300


@pytest.fixture(scope="module")
def host(tmp_path_factory, transport_url):
    """One host for the whole module: every test checks that it survived."""
    host = Host(tmp_path_factory.mktemp("input"), transport_url, {"DEFAULT": {
        "enabled_services": "example", "enabled_apis": "host", "host_listen_port": free_port()}})
    try:
        host.start()
        host.wait_workers_up("example", 1)
        host.wait_api("host")
        yield host
    finally:
        host.kill_all()


def manager_pid(host) -> int:
    return host.client("example", server=host.host, timeout=10).call(None, "whoami")["pid"]


# -- RPC ------------------------------------------------------------------------------------
@pytest.mark.parametrize("method, kwargs, version, error", [
    ("no_such_method", {}, None, "NoSuchMethod"),
    ("init_host", {}, None, "NoSuchMethod"),          # lifecycle hooks are not RPC methods
    ("_private", {}, None, "NoSuchMethod"),
    ("echo", {}, None, "TypeError"),                  # missing argument
    ("echo", {"message": "x", "bogus": 1}, None, "TypeError"),
    ("slow", {"seconds": "not a number"}, None, "ValueError"),
    ("echo", {"message": "x"}, "9.0", "UnsupportedVersion"),
])
def test_bad_calls_get_an_error_and_the_worker_survives(host, method, kwargs, version, error):
    pid = manager_pid(host)
    client = host.client("example", server=host.host, timeout=10)
    if version:
        client = client.prepare(version=version)
    started = time.monotonic()
    with pytest.raises(Exception) as raised:
        client.call(None, method, **kwargs)
    assert not isinstance(raised.value, oslo_messaging.MessagingTimeout), raised.value
    assert error in f"{type(raised.value).__name__} {raised.value}", raised.value
    assert time.monotonic() - started < 5
    assert manager_pid(host) == pid


def test_big_payload_round_trips(host):
    message = "x" * 4_000_000
    answer = host.client("example", server=host.host, timeout=30).call(None, "echo", message=message)
    assert answer == f"hello {message}"


RAW_MESSAGES = [
    (b"\x00\xff\xfe not even text", "application/octet-stream"),
    (b"not json", "application/json"),
    (b"[1, 2, 3]", "application/json"),
    (b'"a string"', "application/json"),
    (b"{}", "application/json"),
    (b'{"method": "echo"}', "application/json"),
    (b'{"method": 123, "args": "not a dict"}', "application/json"),
    (b'{"method": "echo", "args": [1, 2]}', "application/json"),
    (b'{"oslo.version": "2.0", "oslo.message": "{broken"}', "application/json"),
    (b'{"oslo.version": "2.0", "oslo.message": "[1]"}', "application/json"),
    (b'{"oslo.version": "99.0", "oslo.message": "{}"}', "application/json"),
    (b'{"oslo.version": "2.0"}', "application/json"),
    (json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps({
        "method": "echo", "args": {"message": "x"}, "_msg_id": "m-1",
        "_reply_q": "reply_no_such_queue", "_unique_id": "u-1"})}).encode(), "application/json"),
    (json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps({
        "method": "echo", "args": {"message": "x"}, "_msg_id": None,
        "_unique_id": None, "_context_request_id": {"nested": ["x"]}})}).encode(),
     "application/json"),
    (b'{"method": "echo", "args": {"message": "x"}, "namespace": 5, "version": "x.y"}',
     "application/json"),
    (b"{" * 10000, "application/json"),
]


def test_malformed_raw_messages_are_dropped_and_the_worker_survives(host):
    pid = manager_pid(host)
    url = host.conf.transport_url.replace("rabbit://", "amqp://", 1)
    with kombu.Connection(url, connect_timeout=5) as connection:
        producer = connection.Producer(
            exchange=kombu.Exchange("openstack", type="topic", durable=False))
        for body, content_type in RAW_MESSAGES:
            producer.publish(body, routing_key=f"example.{host.host}", content_type=content_type,
                             content_encoding="binary" if b"\xff" in body else "utf-8",
                             retry=True)
    # They were all taken and dropped: the queue drains, the worker still answers.
    wait_until(lambda: manager_pid(host) == pid, 20, "the same worker to answer")
    assert host.client("example", server=host.host).call(None, "echo", message="y") == "hello y"
    log = host.log()
    assert "skipping it" in log  # they did reach the worker, which dropped them
    assert "exited with" not in log
    [row] = [m for m in host.services() if m["host"] == host.host]
    assert row["pid"] == pid and row["restarts"] == 0 and row["state"] == "up"


# -- HTTP -----------------------------------------------------------------------------------
PATHS = ["/", "/v1", "/v1/", "/v1/services", "/v1/plugins", "/healthcheck", "/v1/services/0",
         "/v2", "/v1/plugins/x/y", "//v1", "/v1/./services", "/v1/../v1", "/static", "/v1.json",
         "/index.html", "/healthcheck/detail", "*"]
SUFFIXES = ["", "", "/", "%00", "%zz", "%2e%2e%2f", "%C3%A9", "é", "/" * 40, "a" * 5000, ";x=1",
            "%ff%fe", "\\", ".", "..", "~", "%", "#frag", "\x7f"]
QUERY_KEYS = ["topic", "host", "namespace", "colour", "", "topic[]", "%zz", "é", "a" * 300]
QUERY_VALUES = ["example", "", "%", "%zz", "é", "x" * 3000, "\x00", "1;2", "a=b", "+", "%C3"]
METHODS = ["GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE",
           "CONNECT", "FOO", "get", "G ET", "", "GET" * 100]
CONTENT_TYPES = ["application/json", "text/plain", "application/x-www-form-urlencoded",
                 "multipart/form-data; boundary=", "application/json; charset=nope", "*/*", "\x01",
                 "x" * 1000]


def fuzz_body(rng: random.Random) -> bytes:
    return rng.choice([
        b"", b"{}", b"null", b"[" * 5000, b'{"a": ' * 2000, b"\xff\xfe\x00garbage",
        json.dumps({"k": "v" * rng.randrange(1, 100_000)}).encode(),
        bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000))),
        b"topic=example&host=%zz", b"--\r\n\r\n--",
    ])


def fuzz_request(rng: random.Random) -> bytes:
    """One HTTP request, well-formed or not."""
    if rng.random() < 0.1:  # not HTTP at all
        return rng.choice([
            b"\r\n\r\n", b"GET\r\n\r\n", b"GET /\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
            b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", b"GET / HTTP/1.1\r\n folded: x\r\n\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
            b"POST /v1 HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
            b"POST /v1 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort",
            b"POST /v1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"y" * 70_000 + b"\r\n\r\n",
            b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(500)) + b"\r\n",
            bytes(rng.randrange(256) for _ in range(rng.randrange(1, 500))),
        ])
    path = rng.choice(PATHS) + rng.choice(SUFFIXES)
    if rng.random() < 0.5:
        path += "?" + "&".join(f"{rng.choice(QUERY_KEYS)}={rng.choice(QUERY_VALUES)}"
                               for _ in range(rng.randrange(1, 5)))
    body = fuzz_body(rng) if rng.random() < 0.6 else b""
    headers = {"Host": rng.choice(["127.0.0.1", "", "x" * 500, "[::1", "a b"]),
               "Connection": "close"}
    if body or rng.random() < 0.3:
        headers["Content-Type"] = rng.choice(CONTENT_TYPES)
        headers["Content-Length"] = str(len(body))
    for name, values in [("Accept", ["application/json", "text/html", "*/*;q=x", "\x00"]),
                         ("X-Openstack-Request-Id", ["req-x", "", "é" * 10, "x" * 2000]),
                         ("Authorization", ["Basic !!!", "Bearer x", "Basic " + "A" * 5000]),
                         ("Accept-Encoding", ["gzip", "br;q=2", "\x7f"]),
                         ("X-Forwarded-For", ["1.2.3.4", "not an ip"])]:
        if rng.random() < 0.3:
            headers[name] = rng.choice(values)
    head = f"{rng.choice(METHODS)} {path} HTTP/1.1\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    return head.encode("utf-8", "surrogateescape") + body


def send_raw(port: int, request: bytes) -> int | None:
    """Send ``request`` and return the answer's status (None: closed without one)."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        try:
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may close early on garbage; read what it said
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    first = answer.split(b"\r\n", 1)[0].split()
    return int(first[1]) if len(first) >= 2 and first[1].isdigit() else None


def test_fuzzed_http_requests_never_get_a_5xx_nor_kill_a_worker(host):
    port = host.sections["DEFAULT"]["host_listen_port"]
    pids = host.worker_pids()
    rng = random.Random(SEED)
    statuses: collections.Counter = collections.Counter()
    server_errors = []
    for n in range(HTTP_REQUESTS):
        request = fuzz_request(rng)
        status = send_raw(port, request)
        statuses[status] += 1
        # 505 is the right answer to an HTTP version the server does not speak.
        version_refused = status == 505 and b" HTTP/1." not in request.split(b"\r\n", 1)[0]
        if status is not None and status >= 500 and not version_refused:
            server_errors.append(f"#{n} {status}: {request[:300]!r}")
    assert not server_errors, "\n".join(server_errors)
    # Every worker is the one it was, and the API still answers.
    assert host.worker_pids() == pids
    assert host.http("GET", "/v1").status == 200
    assert host.http("GET", "/healthcheck").status == 200
    assert "exited with" not in host.log()
    print(f"\n[HTTP fuzz] {HTTP_REQUESTS} requests, answers: "
          f"{dict(sorted(statuses.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)))}")
