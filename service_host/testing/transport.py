"""oslo.messaging's in-process ``fake://`` transport, made to copy like the wire.

The stock fake driver hands objects across by reference: the manager gets the
caller's very dicts, the caller gets the manager's return value as is (a set, a
tuple, a live object) and the exception object the manager raised. Over
RabbitMQ everything is JSON: arguments and results are copies (tuples become
lists, sets and datetimes are converted by ``oslo_serialization.jsonutils``)
and an exception comes back as its own type only for built-in exceptions,
as :class:`oslo_messaging.RemoteError` otherwise. A plugin test that passes on
the stock fake could fail in production; on this one it does not.
"""

from typing import Any

import oslo_messaging
from oslo_messaging._drivers import common
from oslo_messaging._drivers import impl_fake
from oslo_serialization import jsonutils

from service_host import rpc


def _over_the_wire(value: Any) -> Any:
    return jsonutils.loads(jsonutils.dumps(value))


class _WireListener(impl_fake.FakeListener):
    def __init__(self, driver: "WireFakeDriver", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._driver = driver

    def poll(self, *args: Any, **kwargs: Any) -> list:
        messages = super().poll(*args, **kwargs)
        for message in messages:
            message.reply = self._wire_reply(message.reply)
        return messages

    def _wire_reply(self, original: Any) -> Any:
        allowed = self._driver._allowed_remote_exmods

        def reply(reply: Any = None, failure: Any = None) -> None:
            if failure:
                data = common.serialize_remote_exception(failure)
                exc = common.deserialize_remote_exception(data, allowed)
                original(failure=(type(exc), exc, None))
            else:
                original(reply=_over_the_wire(reply))

        return reply


class WireFakeDriver(impl_fake.FakeDriver):
    """The fake driver, with JSON copies both ways and remote exceptions.

    It also keeps its exchange to itself at cleanup: the stock driver clears
    the exchanges of every fake transport of the process.
    """

    def _send(self, target: Any, ctxt: Any, message: Any, *args: Any, **kwargs: Any) -> Any:
        ctxt, message = _over_the_wire([ctxt, message])
        return super()._send(target, ctxt, message, *args, **kwargs)

    def listen(self, target: Any, batch_size: int, batch_timeout: Any) -> Any:
        # impl_fake.FakeDriver.listen, with the listener above.
        exchange = target.exchange or self._default_exchange
        listener = _WireListener(
            self,
            self._exchange_manager,
            [
                oslo_messaging.Target(topic=target.topic, server=target.server, exchange=exchange),
                oslo_messaging.Target(topic=target.topic, exchange=exchange),
            ],
        )
        return impl_fake.base.PollStyleListenerAdapter(listener, batch_size, batch_timeout)

    def cleanup(self) -> None:
        manager = impl_fake.FakeExchangeManager
        with manager._exchanges_lock:
            manager._exchanges.pop(self._default_exchange, None)


def wire_transport(conf: Any) -> oslo_messaging.Transport:
    """The transport :mod:`service_host.rpc` uses for ``conf``, wire-like if in process.

    The transport is the one ``rpc.get_transport(conf)`` caches, so the RPC
    server and every :class:`service_host.rpc.Client` of ``conf`` share it.
    A ``fake://`` transport gets :class:`WireFakeDriver`; others are left alone.
    """
    transport = rpc.get_transport(conf)
    driver = transport._driver
    if type(driver) is impl_fake.FakeDriver:
        # oslo.messaging builds the driver from the URL scheme through its
        # stevedore namespace; swapping the class of this one instance is the
        # only way to change it without registering a driver of our own.
        driver.__class__ = WireFakeDriver
    return transport
