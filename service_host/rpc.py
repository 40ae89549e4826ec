"""The message bus: transport from the config, a bounded client, the RPC server.

Every call, cast and fanout goes through :class:`Client`, in production code,
in ``service-host-manage call`` and in the test kit alike. Unlike a bare
oslo.messaging client it never waits forever for an absent broker.
"""

import re
import time
import uuid
from importlib.metadata import entry_points
from typing import Any

import futurist
import oslo_messaging
from oslo_config import cfg
from oslo_messaging.rpc import dispatcher
from oslo_messaging.rpc import server as rpc_server

from service_host._executor import QuickStopExecutor
from service_host.manager import LIFECYCLE_METHODS

_RABBIT_SCHEMES = ("rabbit", "amqp", "kombu")
_TRANSPORTS: dict[tuple[int, str], oslo_messaging.Transport] = {}
# Transports whose reply queue exists. oslo.messaging creates it on the first
# call with no bound on reconnection attempts, so that call probes first.
_REPLY_READY: set[int] = set()


class BrokerUnreachable(oslo_messaging.MessageDeliveryFailure):
    """The message broker did not answer within the allowed time."""


def mask_url(url: str | None) -> str:
    """``url`` with every password replaced by ``****``."""
    if not url:
        return "<unset>"
    return re.sub(r"(?<=[/,])([^:/@,]*):([^@/]*)@", r"\1:****@", url)


def get_transport(conf: cfg.ConfigOpts) -> oslo_messaging.Transport:
    """The RPC transport of ``conf``'s ``transport_url``, one per process."""
    key = (id(conf), conf.transport_url or "")
    transport = _TRANSPORTS.get(key)
    if transport is None:
        parse_url(conf)  # a clear error for a bad URL, not a driver's traceback
        transport = oslo_messaging.get_rpc_transport(conf)
        _TRANSPORTS[key] = transport
    return transport


def cleanup(conf: cfg.ConfigOpts | None = None) -> None:
    """Close the transports this process opened (only ``conf``'s, if given)."""
    for key in [k for k in _TRANSPORTS if conf is None or k[0] == id(conf)]:
        transport = _TRANSPORTS.pop(key)
        _REPLY_READY.discard(id(transport))
        transport.cleanup()


def parse_url(conf: cfg.ConfigOpts) -> oslo_messaging.TransportURL:
    """``transport_url``, parsed, with a driver installed for its scheme.

    Checked in the master, so that a bad URL fails the start with a clear
    message instead of every worker, again and again, after the fork.
    """
    masked = mask_url(conf.transport_url)
    try:
        url = oslo_messaging.TransportURL.parse(conf, conf.transport_url)
    except (oslo_messaging.InvalidTransportURL, ValueError) as exc:
        reason = str(exc).replace(conf.transport_url or "", masked)
        raise oslo_messaging.InvalidTransportURL(
            masked,
            f"transport_url {masked} is not a valid transport URL ({reason}); "
            "expected rabbit://USER:PASSWORD@HOST:PORT/VHOST.",
        ) from None
    drivers = {ep.name for ep in entry_points(group="oslo.messaging.drivers")}
    if url.transport and url.transport not in drivers:
        raise oslo_messaging.InvalidTransportURL(
            masked,
            f"transport_url {masked}: no oslo.messaging driver is installed for "
            f"'{url.transport}://' (installed: {', '.join(sorted(drivers))}).",
        )
    return url


def check_broker(conf: cfg.ConfigOpts, timeout: float) -> None:
    """Raise :class:`BrokerUnreachable` unless a broker answers within ``timeout``.

    Only AMQP URLs are checked; in-process transports always answer.

    :raises oslo_messaging.InvalidTransportURL: ``transport_url`` cannot be
        parsed, or no installed oslo.messaging driver serves its scheme.
    """
    url = parse_url(conf)
    if not url.transport or not url.transport.startswith(_RABBIT_SCHEMES):
        return
    import kombu  # only for AMQP URLs

    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    hosts = url.hosts or [oslo_messaging.TransportHost(hostname="localhost")]
    while True:
        for host in hosts:
            connection = kombu.Connection(
                hostname=host.hostname or "localhost",
                port=host.port or 5672,
                userid=host.username or "guest",
                password=host.password or "guest",
                virtual_host=url.virtual_host or "/",
                connect_timeout=max(0.5, min(2.0, deadline - time.monotonic())),
            )
            try:
                connection.connect()
                return
            except Exception as exc:  # noqa: BLE001 - any failure means "not there"
                last_error = exc
            finally:
                connection.release()
        if time.monotonic() + 1 > deadline:
            break
        time.sleep(1)
    raise BrokerUnreachable(
        f"The message broker at {mask_url(conf.transport_url)} did not answer "
        f"within {timeout:g} s ({last_error}). Start it (tools/rabbitmq.sh "
        "start for the project-local node) or fix transport_url."
    )


def make_context(**values: Any) -> dict[str, Any]:
    """A request context: a dict with a fresh ``request_id``."""
    context = {"request_id": f"req-{uuid.uuid4()}"}
    context.update(values)
    return context


class Client:
    """RPC client of one topic, bounded in time when the broker is away.

    ``call`` waits at most ``timeout`` seconds (``rpc_response_timeout`` by
    default) for the answer; a broker that cannot be reached fails the call or
    cast after ``rpc_client_retry`` reconnection attempts instead of blocking.
    """

    def __init__(
        self,
        conf: cfg.ConfigOpts,
        topic: str,
        *,
        server: str | None = None,
        fanout: bool = False,
        version: str | None = None,
        timeout: float | None = None,
        retry: int | None = None,
        transport: oslo_messaging.Transport | None = None,
    ) -> None:
        self.conf = conf
        self.topic = topic
        self._transport = transport or get_transport(conf)
        self._target = oslo_messaging.Target(
            topic=topic, server=server, fanout=fanout or None, version=version
        )
        self._client = oslo_messaging.get_rpc_client(
            self._transport,
            self._target,
            timeout=timeout,
            retry=conf.rpc_client_retry if retry is None else retry,
        )

    def prepare(self, **kwargs: Any) -> "Client":
        """A copy aimed elsewhere: ``server``, ``fanout``, ``version``, ``timeout``."""
        clone = object.__new__(Client)
        clone.conf, clone.topic, clone._transport = self.conf, self.topic, self._transport
        clone._target = self._target(**{k: v for k, v in kwargs.items() if k != "timeout"})
        clone._client = self._client.prepare(**kwargs)
        return clone

    def call(self, context: dict | None, method: str, **kwargs: Any) -> Any:
        """Call ``method`` on one server of the topic and return its result.

        :raises oslo_messaging.MessagingTimeout: no answer within the timeout.
        :raises oslo_messaging.MessageDeliveryFailure: the broker is unreachable
            (:class:`BrokerUnreachable` when that is found before sending).
        :raises oslo_messaging.RemoteError: the method raised in the server.
        """
        if id(self._transport) not in _REPLY_READY:
            check_broker(self.conf, self.conf.broker_check_timeout)
            _REPLY_READY.add(id(self._transport))
        return self._client.call(context or make_context(), method, **kwargs)

    def cast(self, context: dict | None, method: str, **kwargs: Any) -> None:
        """Send ``method`` to one server (or every one, when fanout) without waiting."""
        self._client.cast(context or make_context(), method, **kwargs)


class _ManagerAccessPolicy(dispatcher.DefaultRPCAccessPolicy):
    """Public methods only, and not the lifecycle hooks of the base class."""

    def is_allowed(self, endpoint: Any, method: str) -> bool:
        return super().is_allowed(endpoint, method) and method not in LIFECYCLE_METHODS


def _keep_late_deliveries_on_the_broker() -> None:
    """Work around oslo.messaging losing RPC messages when a server stops.

    Its rabbit listener acks each message as it is delivered, then queues it
    for the server. ``stop()`` stops the polling but not the consuming, so the
    messages the broker still delivers (read while the connection closes, or
    by the heartbeat thread) are acked and never processed: casts in flight
    at SIGTERM were lost. Left unacked instead, the broker delivers them again
    once the connection is closed, to another worker or after the next start.
    """
    from oslo_messaging._drivers import amqpdriver

    listener = getattr(amqpdriver, "RpcAMQPListener", None)
    if listener is None or getattr(listener, "_service_host_patched", False):
        return
    deliver = listener.__call__

    def __call__(self: Any, message: Any) -> None:
        shutdown = getattr(self, "_shutdown", None)
        if shutdown is not None and shutdown.is_set():
            return  # not acked: the broker redelivers it
        deliver(self, message)

    listener.__call__ = __call__
    listener._service_host_patched = True


class _RPCServer(rpc_server.RPCServer):
    """oslo.messaging's RPC server, with a thread pool that stops without idling.

    oslo.messaging picks the pool class by name ('threading') from its own
    namespace and takes no other; its class is swapped after the fact.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self._executor_cls is futurist.ThreadPoolExecutor:
            self._executor_cls = QuickStopExecutor


def get_server(
    conf: cfg.ConfigOpts, topic: str, host: str, endpoints: list[Any]
) -> oslo_messaging.MessageHandlingServer:
    """RPC server on ``topic``, ``topic.host`` and the topic's fanout."""
    _keep_late_deliveries_on_the_broker()
    return oslo_messaging.get_rpc_server(
        get_transport(conf),
        oslo_messaging.Target(topic=topic, server=host),
        endpoints,
        access_policy=_ManagerAccessPolicy,
        server_cls=_RPCServer,
    )
