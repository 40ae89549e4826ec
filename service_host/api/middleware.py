"""The middleware stack every API gets, the built-in ``host`` and plugins alike.

From the outside in (:func:`wrap`):

1. access log: one INFO line per request, on ``service_host.api.access``;
2. request id (oslo.middleware): ``x-openstack-request-id`` on every answer;
3. ``/healthcheck`` (oslo.middleware), answered here, without credentials,
   in oslo.middleware's formats (its 503 "unhealthy" answers included);
4. JSON errors: every 4xx/5xx answer and every uncaught exception becomes
   ``{"error": {"code": N, "message": "..."}}``;
5. authentication, by ``[api] auth_strategy``;
6. the application.
"""

import html
import json
import logging
import re
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import webob
import webob.exc
from oslo_config import cfg
from oslo_middleware import basic_auth
from oslo_middleware import healthcheck
from oslo_middleware import request_id

LOG = logging.getLogger(__name__)
ACCESS_LOG = logging.getLogger("service_host.api.access")

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]

HEALTHCHECK_PATH = "/healthcheck"
_MAX_MESSAGE = 1000


class AuthConfigError(Exception):
    """The authentication settings cannot be used; the message says why."""


# -- authentication ------------------------------------------------------------
def check_auth(conf: cfg.ConfigOpts) -> None:
    """Fail unless the configured authentication can work.

    With ``http_basic`` the user file must exist, be readable and hold only
    ``user:bcrypt-hash`` lines: an API must never start open because its
    user file is missing.

    :raises AuthConfigError: the user file is missing, unreadable or malformed.
    """
    if conf.api.auth_strategy != "http_basic":
        return
    path = conf.api.http_basic_auth_user_file
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise AuthConfigError(
            f"[api] auth_strategy is http_basic but the user file {path} cannot be "
            f"read ({reason}). Create it (htpasswd -cBb {path} USER PASSWORD) and make "
            "it readable by service-host, or set [api] http_basic_auth_user_file."
        ) from None
    users = 0
    for number, line in enumerate(lines, 1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        user, sep, digest = entry.partition(":")
        if not sep or not user or not digest.startswith(("$2y$", "$2a$", "$2b$")):
            raise AuthConfigError(
                f"Line {number} of the user file {path} is not 'user:bcrypt-hash': "
                "only bcrypt hashes are supported (htpasswd -B)."
            )
        users += 1
    if not users:
        LOG.warning("The user file %s lists no user: every API request will get 401", path)


class HTTPBasicAuth:
    """HTTP basic authentication against an htpasswd file of bcrypt hashes.

    The checks are oslo.middleware's (``basic_auth.parse_header``,
    ``parse_token``, ``authenticate``: the file is read on every request, so
    users can be added without a restart). Its ``BasicAuthMiddleware`` itself
    is not used: it reads the file name from the global ``cfg.CONF`` and
    turns any exception of the application behind it into a 401.
    """

    def __init__(self, application: WSGIApp, user_file: str) -> None:
        self.application = application
        self.user_file = user_file

    @webob.dec.wsgify
    def __call__(self, req: webob.Request) -> webob.Response:
        try:
            token = basic_auth.parse_header(req.environ)
            username, password = basic_auth.parse_token(token)
            req.environ.update(basic_auth.authenticate(self.user_file, username, password))
        except Exception as exc:  # noqa: BLE001 - any failure is "not authenticated"
            message = getattr(exc, "detail", None) or "Authentication required."
            return error_response(401, message, {"WWW-Authenticate": 'Basic realm="service-host"'})
        return req.get_response(self.application)


# -- JSON errors ---------------------------------------------------------------
def error_body(code: int, message: str) -> dict[str, Any]:
    """The JSON document of an error answer."""
    return {"error": {"code": code, "message": message}}


def error_response(
    code: int, message: str, headers: dict[str, str] | None = None
) -> webob.Response:
    """A complete JSON error answer, for an application to return as is."""
    response = webob.Response(
        status=code,
        content_type="application/json",
        charset="UTF-8",
        json_body=error_body(code, message),
    )
    response.headers.update(headers or {})
    return response


def _reason(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def _message_of(req: webob.Request, response: webob.Response) -> str:
    """The most useful human message an error answer carries."""
    if response.status_int == 405:
        allowed = response.headers.get("Allow")
        return f"{req.method} is not allowed on {req.path}" + (
            f"; allowed: {allowed}." if allowed else "."
        )
    exc = req.environ.get("pecan.original_exception")
    if isinstance(exc, webob.exc.HTTPException) and getattr(exc, "code", None) == response.status_int:
        return str(exc.detail or exc.explanation or exc.title)
    body = response.text if response.charset else response.body.decode("utf-8", "replace")
    if response.content_type == "application/json":
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            for key in ("message", "description", "detail", "title"):
                if isinstance(doc.get(key), str) and doc[key]:
                    return doc[key]
    elif response.content_type in ("text/html", "text/plain"):
        text = html.unescape(re.sub(r"<[^>]*>", " ", body))
        # webob's pages repeat the status line as title and heading.
        text = text.replace(response.status, " ")
        text = " ".join(text.split())
        if text:
            return text[:_MAX_MESSAGE]
    return _reason(response.status_int)


class JSONErrors:
    """Every 4xx/5xx answer as ``{"error": {"code", "message"}}`` JSON.

    Answers already in that shape pass unchanged; others (pecan's and
    webob's HTML or text pages, JSON of another shape) are rewritten, with
    their headers (``Allow``, ``WWW-Authenticate``...) kept. An uncaught
    exception is logged with its traceback and answers 500.
    """

    def __init__(self, application: WSGIApp) -> None:
        self.application = application

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        # Answers below 400 stream through untouched: only errors are
        # buffered and rewritten, so the common case costs nothing.
        req = webob.Request(environ)
        if _has_body(environ):
            try:
                # Read the body now, as the application would: one the client sent
                # truncated or badly chunked is its error (400), not a failure (500).
                req.make_body_seekable()
            except Exception as exc:  # noqa: BLE001 - any failure to read what the client sent
                return error_response(400, f"The request body cannot be read: {exc}")(
                    environ, start_response
                )
        error: list[Any] = []

        def catching_start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            if int(status[:3]) < 400 or environ.get("REQUEST_METHOD") == "HEAD":
                return start_response(status, headers, exc_info)
            error[:] = [status, headers]
            return lambda _data: None  # the body is taken from the iterable

        try:
            body = self.application(environ, catching_start_response)
            if not error:
                return body
            response = webob.Response(status=error[0], headerlist=error[1], app_iter=body)
            response.body  # noqa: B018 - read it all now, while exceptions are still ours
        except RecursionError:
            # What json.loads() raises (and pecan lets out) for a body nested thousands deep.
            LOG.warning("%s %s: the request is nested too deeply to be decoded", req.method, req.path)
            response = error_response(400, "The request is nested too deeply to be decoded.")
        except Exception:
            rid = environ.get(request_id.ENV_REQUEST_ID, "-")
            LOG.exception("%s %s failed (request %s)", req.method, req.path, rid)
            response = error_response(500, f"Internal server error (request {rid}); see the API log.")
        else:
            self._rewrite(req, response)
        return response(environ, start_response)

    @staticmethod
    def _rewrite(req: webob.Request, response: webob.Response) -> None:
        if response.content_type == "application/json":
            try:
                doc = json.loads(response.body)
            except ValueError:
                doc = None
            if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
                return
        message = _message_of(req, response)
        response.content_type = "application/json"
        response.charset = "UTF-8"
        response.json_body = error_body(response.status_int, message)


def _has_body(environ: dict) -> bool:
    return environ.get("CONTENT_LENGTH", "") not in ("", "0") or (
        "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    )


# -- health check and access log ---------------------------------------------
class _HealthcheckRoute:
    """``/healthcheck`` to oslo.middleware's health check, the rest onward."""

    def __init__(self, application: WSGIApp, conf: cfg.ConfigOpts) -> None:
        self.application = application
        self.healthcheck = healthcheck.Healthcheck(None, conf)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").rstrip("/") == HEALTHCHECK_PATH:
            return self.healthcheck(environ, start_response)
        return self.application(environ, start_response)


class _LoggedBody:
    """The answer's body, counted on the way out; the log line is written on close()."""

    def __init__(self, body: Iterable[bytes], log: Callable[[int], None]) -> None:
        self._body = body
        self._log = log
        self._sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._body:
            self._sent += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._log(self._sent)


class AccessLog:
    """One INFO line per request: who, what, status, bytes, time, request id."""

    def __init__(self, application: WSGIApp, api_name: str) -> None:
        self.application = application
        self.api_name = api_name

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.monotonic()
        status = ["-"]

        def recording_start_response(code: str, headers: list, exc_info: Any = None) -> Any:
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, exc_info)

        def log(sent: int) -> None:
            path = environ.get("PATH_INFO", "") or "/"
            if environ.get("QUERY_STRING"):
                path = f"{path}?{environ['QUERY_STRING']}"
            ACCESS_LOG.info(
                '%s %s "%s %s" %s %d bytes %.1f ms %s',
                self.api_name,
                environ.get("REMOTE_ADDR", "-"),
                environ.get("REQUEST_METHOD", "-"),
                path,
                status[0],
                sent,
                (time.monotonic() - started) * 1000,
                environ.get(request_id.ENV_REQUEST_ID, "-"),
            )

        try:
            body = self.application(environ, recording_start_response)
        except BaseException:
            log(0)
            raise
        return _LoggedBody(body, log)


def wrap(app: WSGIApp, conf: cfg.ConfigOpts, api_name: str) -> WSGIApp:
    """``app`` inside the middleware stack described in this module's docstring."""
    if conf.api.auth_strategy == "http_basic":
        app = HTTPBasicAuth(app, conf.api.http_basic_auth_user_file)
    app = JSONErrors(app)
    app = _HealthcheckRoute(app, conf)
    app = request_id.RequestId(app, conf)
    return AccessLog(app, api_name)
