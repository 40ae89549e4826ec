"""Test kit for plugin authors: unit-test a manager with no broker and no sleeps.

Installed with service-host as a pytest plugin, so its fixtures are there in
every test without a ``conftest.py``:

``service_host_conf``
    a private :class:`oslo_config.cfg.ConfigOpts` with the host's options
    (see :func:`make_conf`); set options with ``set_override``.
``manager_runner``
    ``manager_runner(ManagerClass_or_plugin_name, topic=..., host=...)`` serves
    a manager in process on ``service_host_conf`` and returns a
    :class:`RunningManager`; every one is stopped at the end of the test.
``fake_clock``
    the :class:`FakeClock` that drives the periodic tasks of those managers.

The same pieces work without pytest: :func:`run_manager` is a context manager
and :class:`PeriodicTasks` schedules any manager's tasks on a clock.
Nothing here starts a thread that outlives the manager that needs it.
"""

from service_host.testing.clock import FakeClock
from service_host.testing.clock import PeriodicTasks
from service_host.testing.clock import TaskRun
from service_host.testing.conf import free_port
from service_host.testing.conf import make_conf
from service_host.testing.conf import write_config
from service_host.testing.runner import RunningManager
from service_host.testing.runner import run_manager
from service_host.testing.runner import wait_until

__all__ = [
    "FakeClock",
    "PeriodicTasks",
    "RunningManager",
    "TaskRun",
    "free_port",
    "make_conf",
    "run_manager",
    "wait_until",
    "write_config",
]
