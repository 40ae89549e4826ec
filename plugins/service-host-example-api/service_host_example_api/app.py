"""The example API: HTTP in front of the ``example`` manager, over RPC.

``POST /v1/echo`` with ``{"message": "hi"}`` calls the manager's ``echo``,
through the example plugin's own RPC client
(:class:`service_host_example.rpcapi.ExampleAPI`),
and answers ``{"result": "hello hi"}``: one request goes HTTP -> API worker
-> RabbitMQ -> manager worker and back. ``GET /v1/whoami`` says which API
worker and which manager worker answered; ``POST /v1/slow`` with
``{"seconds": N}`` holds a request open for N seconds (to watch a graceful
shutdown). The host wraps this app in its middleware: errors raised with
``pecan.abort(code, message)`` reach the client as JSON.
"""

import os
import threading
from typing import Any

import oslo_messaging
import pecan
from oslo_config import cfg
from service_host_example.rpcapi import ExampleAPI

_MAX_SLOW = 300.0


class Backend:
    """The example manager's RPC API, built on first use in each process.

    The host calls ``make_app`` in each worker after the fork; building the
    client lazily also keeps an app built elsewhere (tests, a master) from
    opening a connection it would share across a fork.
    """

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        self._api: ExampleAPI | None = None
        self._lock = threading.Lock()

    @property
    def api(self) -> ExampleAPI:
        with self._lock:
            if self._api is None:
                self._api = ExampleAPI(self.conf)
            return self._api

    def __call__(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``ExampleAPI.<method>(None, ...)``; RPC failures become HTTP errors.

        No manager answered in time: 504. The manager raised: 502. The broker
        cannot be reached: 503.
        """
        try:
            return getattr(self.api, method)(None, *args, **kwargs)
        except oslo_messaging.MessagingTimeout:
            pecan.abort(504, f"No 'example' manager answered {method} in time.")
        except oslo_messaging.RemoteError as exc:
            pecan.abort(502, f"The 'example' manager failed {method}: {exc.exc_type}: {exc.value}")
        except oslo_messaging.MessagingException as exc:
            pecan.abort(503, f"The message bus is unavailable: {exc}")


def _json_body() -> dict[str, Any]:
    """The request's JSON object body, or a 400."""
    try:
        body = pecan.request.json
    except ValueError as exc:
        pecan.abort(400, f"The request body is not valid JSON: {exc}")
    if not isinstance(body, dict):
        pecan.abort(400, "The request body must be a JSON object.")
    return body


class EchoController:
    """``POST /v1/echo {"message": str, "upper": bool}`` -> ``{"result": str}``."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @pecan.expose(generic=True, template="json")
    def index(self, *args: Any, **kwargs: Any) -> None:
        pecan.abort(405)

    @index.when(method="POST", template="json")
    def index_post(self) -> dict[str, Any]:
        body = _json_body()
        message = body.get("message")
        if not isinstance(message, str):
            pecan.abort(400, 'The body must be {"message": "<text>"}.')
        upper = body.get("upper", False)
        if not isinstance(upper, bool):
            pecan.abort(400, '"upper" must be true or false.')
        return {"result": self.backend("echo", message, upper=upper)}


class SlowController:
    """``POST /v1/slow {"seconds": N}``: the manager sleeps N seconds, then answers."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @pecan.expose(generic=True, template="json")
    def index(self, *args: Any, **kwargs: Any) -> None:
        pecan.abort(405)

    @index.when(method="POST", template="json")
    def index_post(self) -> dict[str, Any]:
        seconds = _json_body().get("seconds", 1)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not (
            0 <= seconds <= _MAX_SLOW
        ):
            pecan.abort(400, f'"seconds" must be a number from 0 to {_MAX_SLOW:g}.')
        result = self.backend("slow", seconds)
        return {"result": result, "api_pid": os.getpid()}


class WhoamiController:
    """``GET /v1/whoami``: the pid of this API worker and the manager's ``whoami``."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    @pecan.expose(generic=True, template="json")
    def index(self, *args: Any, **kwargs: Any) -> None:
        pecan.abort(405)

    @index.when(method="GET", template="json")
    def index_get(self) -> dict[str, Any]:
        return {"api": {"pid": os.getpid()}, "manager": self.backend("whoami")}


class V1Controller:
    def __init__(self, backend: Backend) -> None:
        self.echo = EchoController(backend)
        self.slow = SlowController(backend)
        self.whoami = WhoamiController(backend)

    @pecan.expose(generic=True, template="json")
    def index(self, *args: Any, **kwargs: Any) -> None:
        pecan.abort(405)

    @index.when(method="GET", template="json")
    def index_get(self) -> dict[str, Any]:
        url = pecan.request.host_url
        return {
            "links": [
                {"rel": "echo", "href": f"{url}/v1/echo", "method": "POST"},
                {"rel": "slow", "href": f"{url}/v1/slow", "method": "POST"},
                {"rel": "whoami", "href": f"{url}/v1/whoami", "method": "GET"},
            ]
        }


class RootController:
    def __init__(self, backend: Backend) -> None:
        self.v1 = V1Controller(backend)

    @pecan.expose(generic=True, template="json")
    def index(self, *args: Any, **kwargs: Any) -> None:
        pecan.abort(405)

    @index.when(method="GET", template="json")
    def index_get(self) -> dict[str, Any]:
        return {
            "name": "service-host-example-api",
            "links": [{"rel": "v1", "href": f"{pecan.request.host_url}/v1"}],
        }


def make_app(conf: cfg.ConfigOpts) -> pecan.Pecan:
    """The ``example_api`` entry point: the pecan app, calling the ``example`` topic."""
    return pecan.make_app(
        RootController(Backend(conf)),
        guess_content_type_from_ext=False,
        force_canonical=False,
    )
