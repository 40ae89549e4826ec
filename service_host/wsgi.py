"""API services: the socket is bound in the master, a threaded WSGI server runs in each worker.

:meth:`API.create` runs in the master, before any fork: it imports the API's
``make_app`` factory (so a missing or broken plugin fails the start, and the
module is shared by the forked workers), checks the authentication settings,
and binds and listens on ``<name>_listen:<name>_listen_port``, so that a port
in use fails the start with a message naming the API, the address and the
port. The ``<name>_workers`` workers inherit that one socket and all accept
from it: the kernel hands each connection to one of them.

Each worker (:class:`APIWorker`) calls ``make_app(conf)`` itself, after the
fork: an application may hold per-process state (an RPC transport, threads,
connections) that must not be shared across a fork, and calling the factory
in the master only to check it would create exactly that state there. A
factory that raises is logged and tried again, after 1 s, 2, 4... up to a
minute, as a manager whose ``init_host()`` fails. The application is wrapped in :func:`service_host.api.middleware.wrap`
and served by cheroot's threaded WSGI server.

On SIGTERM a worker stops accepting, lets the requests in flight finish for
up to ``graceful_shutdown_timeout`` (less a margin, so it exits 0 before
cotyledon's hard limit), closes its RPC transports and exits 0.
"""

import errno
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import cheroot.server
import cheroot.wsgi
import cotyledon
from oslo_config import cfg

from service_host import plugins
from service_host import rpc
from service_host.api import middleware
from service_host.conf import mutate as conf_mutate

LOG = logging.getLogger(__name__)

# Listen backlog: connections the kernel queues while every worker is busy.
BACKLOG = 128
# Longest wait between two tries of an application factory that raises.
_MAX_BACKOFF = 60.0


class APIStartError(Exception):
    """An API cannot start: its address, port or auth settings are unusable."""


def _opt(conf: cfg.ConfigOpts, name: str, suffix: str) -> Any:
    return conf[f"{name}_{suffix}".replace("-", "_")]


def format_address(host: str, port: int) -> str:
    """``host:port``, with brackets around an IPv6 address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def bind_socket(name: str, host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` that forked workers can share.

    :raises APIStartError: the address cannot be resolved or bound; the
        message names the API, the address, the port and the option to fix.
    """
    where = format_address(host, port)
    try:
        infos = socket.getaddrinfo(
            host, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise APIStartError(
            f"The API '{name}' cannot listen on {where}: the address {host!r} does "
            f"not resolve ({exc.strerror}). Fix {name}_listen."
        ) from None
    family, type_, proto, _, sockaddr = infos[0]
    sock = socket.socket(family, type_, proto)
    try:
        # Lets a restarted host bind while old connections linger in
        # TIME_WAIT; a port another socket listens on still fails.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Inherited by the accepted sockets: cheroot writes headers and body
        # separately, which Nagle and delayed ACKs would turn into 40 ms waits.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(sockaddr)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            hint = (
                f"the port {port} is already in use on {host}. Stop the process "
                f"that listens there, or set {name}_listen_port to a free port."
            )
        elif exc.errno == errno.EACCES:
            hint = (
                f"permission denied for port {port} (ports below 1024 need "
                f"privileges). Set {name}_listen_port to a port above 1023."
            )
        elif exc.errno == errno.EADDRNOTAVAIL:
            hint = f"{host} is not an address of this host. Fix {name}_listen."
        else:
            hint = f"{exc.strerror or exc}."
        raise APIStartError(f"The API '{name}' cannot listen on {where}: {hint}") from None
    sock.set_inheritable(True)
    return sock


def drain_timeout(graceful_shutdown_timeout: float) -> float | None:
    """How long a stopping worker waits for the requests in flight.

    A little less than ``graceful_shutdown_timeout``, so that the worker
    exits 0 on its own before cotyledon ends it with 1. ``None`` (wait for
    ever) when that option is 0, as cotyledon does.
    """
    if graceful_shutdown_timeout <= 0:
        return None
    return max(graceful_shutdown_timeout - 1.0, graceful_shutdown_timeout * 0.8)


class API:
    """One enabled API, resolved in the master and handed to every worker.

    ``name``, ``workers`` and ``address`` (``host:port``, the port actually
    bound) describe it; ``socket`` is the listening socket the workers share;
    ``factory`` is the plugin's ``make_app(conf)``.
    """

    def __init__(
        self,
        name: str,
        factory: Callable[[cfg.ConfigOpts], middleware.WSGIApp],
        conf: cfg.ConfigOpts,
        sock: socket.socket,
        workers: int,
        threads: int,
    ) -> None:
        self.name = name
        self.factory = factory
        self.conf = conf
        self.socket = sock
        self.workers = workers
        self.threads = threads
        host, port = sock.getsockname()[:2]
        self.host = host
        self.port = port
        self.address = format_address(host, port)

    def __repr__(self) -> str:
        return f"<API {self.name} on {self.address} x{self.workers}>"

    @classmethod
    def create(cls, conf: cfg.ConfigOpts, name: str) -> "API":
        """Resolve the API ``name`` from ``conf``: load its factory, check auth, bind.

        The per-API options must be registered (``launcher.register_plugin_opts``).

        :raises service_host.plugins.PluginError: no plugin provides ``name``,
            or its module cannot be imported.
        :raises APIStartError: the auth settings or the address are unusable.
        """
        factory = plugins.load_api(name)
        try:
            middleware.check_auth(conf)
        except middleware.AuthConfigError as exc:
            raise APIStartError(f"The API '{name}' cannot start: {exc}") from None
        sock = bind_socket(name, _opt(conf, name, "listen"), _opt(conf, name, "listen_port"))
        return cls(name, factory, conf, sock, _opt(conf, name, "workers"), conf.api.threads)

    def build_app(self) -> middleware.WSGIApp:
        """The plugin's application inside the host's middleware stack (call after fork)."""
        return middleware.wrap(self.factory(self.conf), self.conf, self.name)

    def close(self) -> None:
        """Close the listening socket (in this process)."""
        self.socket.close()


class _HeaderReader(cheroot.server.HeaderReader):
    """cheroot's, answering 400 to a request whose first header line is a continuation.

    cheroot's raises UnboundLocalError there, which it answers with a 500.
    """

    def __call__(self, rfile: Any, hdict: dict | None = None) -> dict:
        try:
            return super().__call__(rfile, hdict)
        except UnboundLocalError:
            raise ValueError("Illegal continuation line before any header.") from None


class _Request(cheroot.server.HTTPRequest):
    header_reader = _HeaderReader()


class _Connection(cheroot.server.HTTPConnection):
    RequestHandlerClass = _Request


class _Server(cheroot.wsgi.Server):
    """cheroot's WSGI server on a socket bound by the master, logging through logging."""

    ConnectionClass = _Connection

    def __init__(self, api: API, app: middleware.WSGIApp) -> None:
        super().__init__(
            (api.host, api.port), app, numthreads=api.threads, request_queue_size=BACKLOG
        )
        self._inherited = api.socket

    def bind(self, family: int, type: int, proto: int = 0) -> socket.socket:
        # prepare() calls this to create its listening socket; use the
        # inherited one instead (listen() again is harmless).
        self.socket = self._inherited
        self.bind_addr = self.resolve_real_bind_addr(self.socket)
        return self.socket

    def prepare(self) -> None:
        # With LISTEN_PID set, cheroot would serve fd 3 (systemd activation).
        os.environ.pop("LISTEN_PID", None)
        super().prepare()
        # Every worker select()s the shared socket and all wake up for a
        # connection; the ones that lose the accept() race must not block in
        # it (cheroot's 1 s timeout) but go back to their other connections.
        self.socket.setblocking(False)

    def error_log(self, msg: str = "", level: int = logging.INFO, traceback: bool = False) -> None:
        LOG.log(level, "%s", msg, exc_info=traceback)


class APIWorker(cotyledon.Service):
    """One worker process of an :class:`API`: builds the app, serves, drains on SIGTERM."""

    def __init__(self, worker_id: int, api: API) -> None:
        super().__init__(worker_id)
        self.name = f"api-{api.name}"
        self.api = api
        self._server: _Server | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        # The master turns Ctrl-C into a graceful stop of every worker.
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    def _build_app(self) -> middleware.WSGIApp | None:
        """The app; a factory that raises is tried again after 1 s, 2, 4... up to a minute.

        ``None`` if the worker is stopped meanwhile.
        """
        delay = 1.0
        while not self._stopping.is_set():
            try:
                return self.api.build_app()
            except Exception as exc:  # noqa: BLE001 - any failure of a plugin's factory
                LOG.error(
                    "The API '%s' failed to build its application: %s: %s; worker %d "
                    "tries again in %g s",
                    self.api.name,
                    type(exc).__name__,
                    exc,
                    self.worker_id,
                    delay,
                    exc_info=delay == 1.0,
                )
            self._stopping.wait(delay)
            delay = min(delay * 2, _MAX_BACKOFF)
        return None

    def run(self) -> None:
        started = time.monotonic()
        app = self._build_app()
        if app is None:
            return
        server = _Server(self.api, app)
        with self._lock:
            if self._stopping.is_set():
                return
            server.prepare()
            self._server = server
        LOG.info(
            "API %s worker %d (pid %d) serving on http://%s, ready in %.0f ms",
            self.api.name,
            self.worker_id,
            os.getpid(),
            self.api.address,
            (time.monotonic() - started) * 1000,
        )
        server.serve()

    def terminate(self) -> None:
        """Stop accepting, finish the requests in flight, close the transports."""
        with self._lock:
            self._stopping.set()
            server = self._server
        if server is not None:
            server.shutdown_timeout = drain_timeout(self.api.conf.graceful_shutdown_timeout)
            LOG.info(
                "API %s worker %d stopping: finishing the requests in flight",
                self.api.name,
                self.worker_id,
            )
            server.stop()
        rpc.cleanup(self.api.conf)
        LOG.info("API %s worker %d stopped", self.api.name, self.worker_id)

    def reload(self) -> None:
        """Re-read the mutable options (the socket and the app stay)."""
        conf_mutate(self.api.conf)
