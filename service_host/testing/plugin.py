"""The pytest plugin of the test kit, registered as the ``pytest11`` entry point.

pytest imports this module when it starts, in every session of an environment
that has service-host, so ``service_host`` is imported before any test module:
its choice of oslo.service's threading backend is made before a test module
imports oslo.messaging.
"""

import contextlib
from collections.abc import Callable
from collections.abc import Iterator

import pytest
from oslo_config import cfg

from service_host import rpc
from service_host.manager import Manager
from service_host.testing import FakeClock
from service_host.testing import RunningManager
from service_host.testing import make_conf
from service_host.testing import run_manager


@pytest.fixture
def service_host_conf() -> Iterator[cfg.ConfigOpts]:
    """A private ConfigOpts with the host's options, on the in-process transport.

    See :func:`service_host.testing.make_conf`. Overrides set on it with
    ``set_override`` die with it at the end of the test, and so does its
    transport.
    """
    conf = make_conf()
    yield conf
    rpc.cleanup(conf)
    conf.reset()


@pytest.fixture
def fake_clock() -> FakeClock:
    """The clock of the periodic tasks of the test's managers: ``fake_clock.advance(s)``."""
    return FakeClock()


@pytest.fixture
def manager_runner(
    service_host_conf: cfg.ConfigOpts, fake_clock: FakeClock
) -> Iterator[Callable[..., RunningManager]]:
    """Factory: ``manager_runner(manager, topic=None, host=None, conf=None)``.

    Serves ``manager`` (a Manager subclass or a plugin name) in process as
    :func:`service_host.testing.run_manager` does, on ``service_host_conf``
    unless ``conf`` is given (its transport is then closed at the end of the
    test too), with its periodic tasks on ``fake_clock``. Returns the
    :class:`~service_host.testing.RunningManager`; they all stop, in reverse
    order, when the test ends.
    """
    with contextlib.ExitStack() as stack:

        def start(
            manager: type[Manager] | str,
            topic: str | None = None,
            host: str | None = None,
            conf: cfg.ConfigOpts | None = None,
        ) -> RunningManager:
            if conf is not None and conf is not service_host_conf:
                stack.callback(rpc.cleanup, conf)
            return stack.enter_context(
                run_manager(
                    manager,
                    service_host_conf if conf is None else conf,
                    topic=topic,
                    host=host,
                    clock=fake_clock,
                )
            )

        yield start
