"""A manager served in process, built and stopped the way a worker does it."""

import contextlib
import time
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from typing import TypeVar

from oslo_config import cfg

from service_host import plugins
from service_host import rpc
from service_host.manager import Manager
from service_host.testing.clock import FakeClock
from service_host.testing.clock import PeriodicTasks
from service_host.testing.conf import make_conf
from service_host.testing.transport import wire_transport

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T],
    timeout: float = 5.0,
    what: str = "the condition",
    *,
    interval: float = 0.01,
    retry_on: tuple[type[Exception], ...] = (),
) -> T:
    """Poll ``condition`` until it returns something truthy, and return that.

    For the effects of a cast, which the manager handles in its own time.
    ``retry_on`` lists the exceptions that mean "not yet" (a service that
    is restarting refuses calls); the last one is named in the failure.
    Fails with :class:`AssertionError` after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = condition()
            if value:
                return value
        except retry_on as exc:
            last_error = exc
        if time.monotonic() > deadline:
            suffix = f" (last error: {last_error!r})" if last_error else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{suffix}")
        time.sleep(interval)


class RunningManager:
    """A manager that serves RPC in process, and the means to talk to it.

    ``call``, ``cast`` and ``fanout`` go through :attr:`client`, a
    :class:`service_host.rpc.Client` like the one production code uses; use
    ``client`` itself for anything else (``client.prepare(version="1.0")``,
    your own context). :attr:`periodic` holds the manager's periodic tasks on
    :attr:`clock`; none runs until the clock is advanced.
    """

    def __init__(
        self, manager: Manager, conf: cfg.ConfigOpts, clock: FakeClock, server: Any
    ) -> None:
        self.manager = manager
        self.conf = conf
        self.topic = manager.topic
        self.host = manager.host
        self.clock = clock
        self.client = rpc.Client(conf, manager.topic)
        self.periodic = PeriodicTasks(manager, clock)
        self._server = server
        self._stopped = False

    def call(self, method: str, /, **kwargs: Any) -> Any:
        """Call ``method`` on the topic and return its result."""
        return self.client.call(None, method, **kwargs)

    def cast(self, method: str, /, **kwargs: Any) -> None:
        """Send ``method`` to the topic without waiting (see :func:`wait_until`)."""
        self.client.cast(None, method, **kwargs)

    def fanout(self, method: str, /, **kwargs: Any) -> None:
        """Cast ``method`` to every server of the topic."""
        self.client.prepare(fanout=True).cast(None, method, **kwargs)

    def stop(self) -> None:
        """Stop like a worker: no new message, calls in flight finish, ``cleanup_host()``.

        Idempotent. Exceptions of ``cleanup_host()`` propagate.
        """
        if self._stopped:
            return
        self._stopped = True
        self.periodic.close()
        self._server.stop()
        self._server.wait()
        self.manager.cleanup_host()


def _manager_class(manager: type[Manager] | str, topic: str) -> type[Manager]:
    if isinstance(manager, str):
        return plugins.load_manager(topic, manager)
    return plugins.check_manager(manager, f"The manager of topic '{topic}'")


@contextlib.contextmanager
def run_manager(
    manager: type[Manager] | str,
    conf: cfg.ConfigOpts | None = None,
    *,
    topic: str | None = None,
    host: str | None = None,
    clock: FakeClock | None = None,
) -> Iterator[RunningManager]:
    """Serve ``manager`` in process for the duration of a ``with`` block.

    :param manager: a :class:`~service_host.manager.Manager` subclass, or the
        name of an installed plugin (an entry point of ``service_host.managers``)
        or a class path, loaded as ``service-host`` loads it.
    :param conf: defaults to :func:`make_conf`, made and disposed of here.
        The transport is the in-process one unless ``conf`` says otherwise.
    :param topic: defaults to ``manager`` when it is a name, else ``"test"``.
    :param host: defaults to ``conf.host`` (``test-host``).
    :param clock: the clock of :attr:`RunningManager.periodic`; a new one by default.

    As a worker does: ``ManagerClass(host, topic, conf)``, ``init_host()``, then
    the RPC server on ``topic``, ``topic.host`` and the topic's fanout. At the
    end: the server stops and waits for the calls in flight, then
    ``cleanup_host()``. Several managers may run at once on one ``conf``;
    they then share its message bus.
    """
    owned = conf is None
    conf = make_conf() if conf is None else conf
    if topic is None:
        topic = manager if isinstance(manager, str) else "test"
    host = conf.host if host is None else host
    try:
        manager_class = _manager_class(manager, topic)
        instance = manager_class(host, topic, conf)
        instance.init_host()
        wire_transport(conf)
        server = rpc.get_server(conf, topic, host, [instance])
        running = RunningManager(instance, conf, clock or FakeClock(), server)
        server.start()
        try:
            yield running
        finally:
            running.stop()
    finally:
        if owned:
            rpc.cleanup(conf)
