"""The middleware stack and the built-in ``host`` API, called as plain WSGI apps."""

import base64
import io
import json
import logging
import wsgiref.util

import pecan
import pytest

from service_host import plugins
from service_host import servicegroup
from service_host.api import app as host_app
from service_host.api import middleware


def call(app, method="GET", path="/", body=b"", headers=None):
    """Call a WSGI app; returns (status code, headers with lower-case names, body)."""
    environ = {}
    wsgiref.util.setup_testing_defaults(environ)
    path, _, query = path.partition("?")
    environ.update(
        REQUEST_METHOD=method,
        PATH_INFO=path,
        QUERY_STRING=query,
        CONTENT_LENGTH=str(len(body)),
    )
    environ["wsgi.input"] = io.BytesIO(body)
    environ.update(headers or {})
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = {k.lower(): v for k, v in response_headers}

    chunks = app(environ, start_response)
    try:
        data = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return answer["status"], answer["headers"], data


def basic(user, password):
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def host_api(conf):
    return middleware.wrap(host_app.make_app(conf), conf, "host")


def assert_json_error(status, headers, body, code):
    assert status == code
    assert headers["content-type"].startswith("application/json")
    doc = json.loads(body)
    assert doc["error"]["code"] == code
    assert isinstance(doc["error"]["message"], str) and doc["error"]["message"]
    return doc["error"]["message"]


# -- the host API -------------------------------------------------------------
def test_version_document(host_api):
    status, headers, body = call(host_api, "GET", "/")
    assert status == 200
    doc = json.loads(body)
    assert doc["name"] == "service-host"
    assert doc["version"]
    assert {link["rel"] for link in doc["links"]} >= {"self", "v1", "healthcheck"}
    assert headers["x-openstack-request-id"].startswith("req-")


def test_services_lists_members_with_filters(host_api, monkeypatch):
    seen = {}
    member = servicegroup.Member(
        topic="example", host="h1", worker_id=0, pid=42, binary="service-host",
        version="1", started_at=1.0, reported_at=2.0, report_count=3, restarts=0, error=None,
        up=True, age=0.5,
    )

    def list_members(conf, topic=None, host=None):
        seen.update(topic=topic, host=host)
        return [member]

    monkeypatch.setattr(servicegroup, "list_members", list_members)
    status, _, body = call(host_api, "GET", "/v1/services?topic=example&host=h1")
    assert status == 200
    assert seen == {"topic": "example", "host": "h1"}
    [entry] = json.loads(body)["services"]
    assert entry == member.as_dict()
    assert entry["state"] == "up"


def test_services_rejects_unknown_filters(host_api):
    message = assert_json_error(*call(host_api, "GET", "/v1/services?color=red"), 400)
    assert "color" in message


def test_services_backend_failure_is_503(host_api, monkeypatch):
    def broken(conf, topic=None, host=None):
        raise OSError("backend gone")

    monkeypatch.setattr(servicegroup, "list_members", broken)
    message = assert_json_error(*call(host_api, "GET", "/v1/services"), 503)
    assert "backend gone" in message


def test_plugins_lists_both_namespaces_with_errors(host_api, monkeypatch):
    ep = plugins.EntryPoint(plugins.APIS, "broken", "nowhere:make_app", "dist-x", "1.0")

    def discover(namespace):
        if namespace == plugins.APIS:
            return [plugins.Plugin(ep, error="import failed: ImportError: nowhere")]
        return []

    monkeypatch.setattr(plugins, "discover", discover)
    status, _, body = call(host_api, "GET", "/v1/plugins")
    assert status == 200
    doc = json.loads(body)["plugins"]
    assert set(doc) == set(plugins.NAMESPACES)
    assert doc[plugins.APIS] == [
        {"name": "broken", "target": "nowhere:make_app", "distribution": "dist-x",
         "version": "1.0", "loaded": False, "error": "import failed: ImportError: nowhere"}
    ]


def test_plugins_of_the_real_environment(host_api):
    status, _, body = call(host_api, "GET", "/v1/plugins?namespace=service_host.apis")
    assert status == 200
    apis = json.loads(body)["plugins"]["service_host.apis"]
    host = next(p for p in apis if p["name"] == "host")
    assert host["target"] == "service_host.api.app:make_app"
    assert host["loaded"] is True and host["error"] is None


def test_unknown_path_is_404_json(host_api):
    assert_json_error(*call(host_api, "GET", "/v2/nothing"), 404)


def test_wrong_method_is_405_json_with_allow(host_api):
    status, headers, body = call(host_api, "DELETE", "/v1/services")
    message = assert_json_error(status, headers, body, 405)
    assert "DELETE" in message
    assert "GET" in headers["allow"]


# -- the middleware -----------------------------------------------------------
def _pecan_app(root):
    return pecan.make_app(root, guess_content_type_from_ext=False, force_canonical=False)


class _Root:
    @pecan.expose("json")
    def boom(self):
        raise RuntimeError("kaboom")

    @pecan.expose("json")
    def bad(self):
        pecan.abort(400, "no good")

    @pecan.expose("json")
    def fine(self):
        return {"ok": True}


def test_uncaught_exception_is_500_json_and_logged(conf, caplog):
    app = middleware.wrap(_pecan_app(_Root()), conf, "t")
    with caplog.at_level(logging.ERROR, logger="service_host.api.middleware"):
        status, headers, body = call(app, "GET", "/boom")
    message = assert_json_error(status, headers, body, 500)
    assert "kaboom" not in message  # no internals to the client...
    assert headers["x-openstack-request-id"] in message
    assert "kaboom" in caplog.text  # ...but the traceback in the log
    assert "RuntimeError" in caplog.text


def test_abort_detail_becomes_the_message(conf):
    app = middleware.wrap(_pecan_app(_Root()), conf, "t")
    assert assert_json_error(*call(app, "GET", "/bad"), 400) == "no good"


def test_plain_wsgi_text_errors_become_json(conf):
    def app(environ, start_response):
        start_response("418 I'm a Teapot", [("Content-Type", "text/plain")])
        return [b"short and stout"]

    wrapped = middleware.wrap(app, conf, "t")
    assert assert_json_error(*call(wrapped, "GET", "/"), 418) == "short and stout"


def test_json_errors_in_the_right_shape_pass_unchanged(conf):
    doc = {"error": {"code": 409, "message": "taken", "extra": 1}}

    def app(environ, start_response):
        start_response("409 Conflict", [("Content-Type", "application/json")])
        return [json.dumps(doc).encode()]

    status, _, body = call(middleware.wrap(app, conf, "t"), "GET", "/")
    assert status == 409 and json.loads(body) == doc


def test_access_log_line_per_request(conf, caplog):
    app = middleware.wrap(_pecan_app(_Root()), conf, "t")
    with caplog.at_level(logging.INFO, logger="service_host.api.access"):
        _, headers, body = call(app, "GET", "/fine?x=1", headers={"REMOTE_ADDR": "10.1.2.3"})
    [record] = [r for r in caplog.records if r.name == "service_host.api.access"]
    line = record.getMessage()
    assert '"GET /fine?x=1" 200' in line
    assert f"{len(body)} bytes" in line
    assert "10.1.2.3" in line
    assert headers["x-openstack-request-id"] in line
    assert " ms " in line


def test_healthcheck_answers(host_api):
    status, headers, _ = call(host_api, "GET", "/healthcheck")
    assert status == 200
    assert "x-openstack-request-id" in headers


# -- authentication -----------------------------------------------------------
@pytest.fixture
def basic_conf(conf, user_file):
    conf.set_override("auth_strategy", "http_basic", group="api")
    conf.set_override("http_basic_auth_user_file", str(user_file), group="api")
    return conf


def test_http_basic_requires_credentials(basic_conf):
    app = middleware.wrap(host_app.make_app(basic_conf), basic_conf, "host")
    status, headers, body = call(app, "GET", "/")
    assert_json_error(status, headers, body, 401)
    assert headers["www-authenticate"].startswith("Basic")
    assert "x-openstack-request-id" in headers
    assert_json_error(*call(app, "GET", "/", headers=basic("alice", "wrong")), 401)
    assert_json_error(*call(app, "GET", "/", headers=basic("bob", "s3cret")), 401)
    assert_json_error(*call(app, "GET", "/nope", headers={"HTTP_AUTHORIZATION": "Basic !!"}), 401)
    assert call(app, "GET", "/", headers=basic("alice", "s3cret"))[0] == 200
    assert call(app, "GET", "/healthcheck")[0] == 200


def test_http_basic_does_not_hide_application_errors(basic_conf):
    app = middleware.wrap(_pecan_app(_Root()), basic_conf, "t")
    assert_json_error(*call(app, "GET", "/boom", headers=basic("alice", "s3cret")), 500)


def test_check_auth_accepts_a_bcrypt_file(basic_conf):
    middleware.check_auth(basic_conf)


def test_check_auth_ignores_noauth(conf):
    conf.set_override("http_basic_auth_user_file", "/nonexistent", group="api")
    middleware.check_auth(conf)


def test_check_auth_missing_file(basic_conf, tmp_path):
    missing = tmp_path / "missing"
    basic_conf.set_override("http_basic_auth_user_file", str(missing), group="api")
    with pytest.raises(middleware.AuthConfigError, match="cannot be read") as info:
        middleware.check_auth(basic_conf)
    assert str(missing) in str(info.value)


def test_check_auth_rejects_non_bcrypt_hashes(basic_conf, user_file):
    user_file.write_text("alice:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n")
    with pytest.raises(middleware.AuthConfigError, match="Line 1.*bcrypt"):
        middleware.check_auth(basic_conf)
