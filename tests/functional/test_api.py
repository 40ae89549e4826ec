"""APIs of a real service-host subprocess: HTTP -> API workers -> RabbitMQ -> managers."""

import signal
import socket
import threading

from service_host.testing import free_port
from tests.functional.harness import wait_until


def api_config(apis="host", services="example", **extra):
    """Config enabling ``apis`` (each on a free port) next to ``services``."""
    defaults = {"enabled_services": services, "enabled_apis": apis}
    for name in filter(None, apis.split(",")):
        defaults[f"{name}_listen_port"] = free_port()
    defaults.update(extra)
    return {"DEFAULT": defaults}


def error_of(answer, code):
    assert answer.status == code, answer
    assert answer.headers["content-type"].startswith("application/json"), answer.headers
    assert "x-openstack-request-id" in answer.headers
    error = answer.json()["error"]
    assert error["code"] == code and error["message"]
    return error["message"]


def access_lines(host, request_id):
    return [line for line in host.log().splitlines()
            if "service_host.api.access" in line and request_id in line]


# -- the host API ---------------------------------------------------------------
def test_host_api_endpoints(start_host):
    host = start_host(api_config("host", example_workers=2))
    host.wait_api("host")
    workers = host.wait_workers_up("example", 2)

    root = host.http("GET", "/")
    assert root.status == 200
    assert root.json()["name"] == "service-host"
    assert root.json()["version"]

    assert host.http("GET", "/healthcheck").status == 200

    services = host.http("GET", f"/v1/services?topic=example&host={host.host}")
    assert services.status == 200
    entries = services.json()["services"]
    assert sorted(e["worker_id"] for e in entries) == [0, 1]
    assert {e["pid"] for e in entries} == {w["pid"] for w in workers}
    for entry in entries:
        assert entry["topic"] == "example" and entry["host"] == host.host
        assert entry["state"] == "up" and entry["up"] is True
        assert entry["report_count"] >= 1 and 0 <= entry["age"] < 4
    assert host.http("GET", "/v1/services?host=no-such-host").json() == {"services": []}
    assert host.http("GET", "/v1/services?topic=no-such-topic").json() == {"services": []}

    found = host.http("GET", "/v1/plugins").json()["plugins"]
    managers = {p["name"]: p for p in found["service_host.managers"]}
    apis = {p["name"]: p for p in found["service_host.apis"]}
    assert managers["example"]["loaded"] and managers["example"]["distribution"] == "service-host-example"
    assert apis["host"]["loaded"] and "example_api" in apis

    error_of(host.http("GET", "/no/such/path"), 404)
    error_of(host.http("POST", "/v1/services", {}), 405)
    error_of(host.http("GET", "/v1/services?colour=red"), 400)

    # one access-log line per request, with its request id
    answer = host.http("GET", "/v1")
    request_id = answer.headers["x-openstack-request-id"]
    wait_until(lambda: len(access_lines(host, request_id)) == 1, 10, "the access-log line")
    [line] = access_lines(host, request_id)
    assert '"GET /v1" 200' in line


# -- the example API --------------------------------------------------------------
def test_example_api_round_trip(start_host):
    host = start_host(api_config("example_api"))
    host.wait_api("example_api")
    host.wait_workers_up("example", 1)

    answer = host.http("POST", "/v1/echo", {"message": "hi"}, api="example_api")
    assert answer.status == 200, answer
    assert answer.json() == {"result": "hello hi"}
    assert "x-openstack-request-id" in answer.headers

    who = host.http("GET", "/v1/whoami", api="example_api").json()
    pids = host.worker_pids()
    assert who["api"]["pid"] in pids and who["manager"]["pid"] in pids
    assert who["api"]["pid"] != who["manager"]["pid"]
    assert who["manager"]["host"] == host.host

    message = error_of(host.http("POST", "/v1/echo", b'{"message": "hi"', api="example_api"), 400)
    assert "JSON" in message
    error_of(host.http("GET", "/v1/unknown", api="example_api"), 404)


def test_two_workers_share_one_port(start_host):
    host = start_host(api_config("example_api", example_api_workers=2))
    host.wait_api("example_api")
    host.wait_workers_up("example", 1)
    seen = set()

    def two_pids():
        # Requests in parallel keep one worker busy while the other accepts.
        answers = []
        threads = [threading.Thread(target=lambda: answers.append(
            host.http("POST", "/v1/slow", {"seconds": 0.2}, api="example_api")))
            for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        seen.update(a.json()["api_pid"] for a in answers if a.status == 200)
        return len(seen) >= 2

    wait_until(two_pids, 60, "answers from 2 API worker pids")
    assert seen <= set(host.worker_pids())


def test_port_in_use_fails_the_start_cleanly(start_host):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        host = start_host(api_config("host", services="", host_listen_port=port))
        assert host.wait_exit(30) == 2
    log = host.log()
    assert f"The API 'host' cannot listen on 127.0.0.1:{port}" in log
    assert "already in use" in log
    assert "Traceback" not in log


# -- authentication ----------------------------------------------------------------
def test_http_basic_auth_on_every_api(start_host, user_file):
    config = api_config("host,example_api")
    config["api"] = {"auth_strategy": "http_basic", "http_basic_auth_user_file": user_file}
    host = start_host(config)
    host.wait_api("host")
    host.wait_api("example_api")
    host.wait_workers_up("example", 1)
    alice = ("alice", "s3cret")

    for path in ("/", "/v1/services", "/v1/plugins", "/no/such/path"):
        answer = host.http("GET", path)
        error_of(answer, 401)
        assert answer.headers["www-authenticate"].startswith("Basic")
        error_of(host.http("GET", path, auth=("alice", "wrong")), 401)
    assert host.http("GET", "/v1/services", auth=alice).status == 200
    assert host.http("GET", "/healthcheck").status == 200

    error_of(host.http("POST", "/v1/echo", {"message": "x"}, api="example_api"), 401)
    answer = host.http("POST", "/v1/echo", {"message": "x"}, api="example_api", auth=alice)
    assert answer.status == 200 and answer.json() == {"result": "hello x"}
    assert host.http("GET", "/healthcheck", api="example_api").status == 200


def test_noauth_needs_no_credentials(start_host):
    host = start_host(api_config("host", services=""))
    host.wait_api("host")
    assert host.http("GET", "/v1/plugins").status == 200


def test_missing_user_file_fails_the_start(start_host, tmp_path):
    missing = tmp_path / "no-htpasswd"
    config = api_config("host", services="")
    config["api"] = {"auth_strategy": "http_basic", "http_basic_auth_user_file": missing}
    host = start_host(config)
    assert host.wait_exit(30) == 2
    log = host.log()
    assert str(missing) in log and "cannot be read" in log
    assert "Traceback" not in log


# -- graceful shutdown -------------------------------------------------------------
def test_sigterm_during_a_slow_request_completes_it(start_host):
    host = start_host(api_config("example_api", graceful_shutdown_timeout=30))
    host.wait_api("example_api")
    host.wait_workers_up("example", 1)
    result = {}

    def slow():
        result["answer"] = host.http("POST", "/v1/slow", {"seconds": 3}, api="example_api",
                                     timeout=60)

    request = threading.Thread(target=slow)
    request.start()
    wait_until(lambda: host.client("example").call(None, "in_flight") == 1, 20,
               "the slow call to reach the manager")
    host.signal(signal.SIGTERM)
    assert host.wait_exit(40) == 0
    request.join(10)
    answer = result["answer"]
    assert answer.status == 200, answer
    assert answer.json()["result"]["slept"] == 3
    assert "stopping: finishing the requests in flight" in host.log()
