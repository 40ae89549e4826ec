"""Periodic tasks of managers, run by futurist's periodic worker.

The decorator is plugin-facing; :class:`PeriodicRunner` is the machinery a
worker uses to run the tasks of its manager.
"""

import dataclasses
import inspect
import logging
import random
import threading
from collections.abc import Callable
from typing import Any

from futurist import periodics

from service_host._executor import QuickStopExecutor

LOG = logging.getLogger(__name__)

_ATTR = "_service_host_periodic"


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    spacing: float | None
    run_immediately: bool


def periodic_task(
    spacing: float | None = None, run_immediately: bool = False
) -> Callable[[Callable], Callable]:
    """Mark a manager method ``def task(self, context)`` as a periodic task.

    :param spacing: seconds between the starts of two runs. ``None`` means the
        host's ``periodic_interval``; a negative value disables the task.
    :param run_immediately: run once as soon as the worker starts instead of
        after a random delay in ``[0, periodic_fuzzy_delay]``.

    A task that raises is logged and runs again at its next spacing; a slow
    task delays only itself.
    """
    if callable(spacing):
        raise TypeError("use @periodic_task() with parentheses")

    def decorator(func: Callable) -> Callable:
        setattr(func, _ATTR, TaskSpec(spacing, run_immediately))
        return func

    return decorator


@dataclasses.dataclass(frozen=True)
class Task:
    """A periodic task of one manager instance, with its resolved spacing."""

    name: str
    method: Callable[[Any], Any]
    spacing: float
    run_immediately: bool


def tasks_of(manager: object, periodic_interval: float) -> list[Task]:
    """The enabled periodic tasks of ``manager``, in definition order.

    A task whose spacing resolves to 0 or less is disabled.
    """
    tasks = []
    for name, _ in inspect.getmembers(type(manager), callable):
        func = getattr(type(manager), name)
        spec = getattr(func, _ATTR, None)
        if spec is None:
            continue
        spacing = periodic_interval if spec.spacing is None else spec.spacing
        if spacing <= 0:
            LOG.debug("Periodic task %s is disabled (spacing %s)", name, spacing)
            continue
        tasks.append(Task(name, getattr(manager, name), spacing, spec.run_immediately))
    return tasks


class PeriodicRunner:
    """Runs the periodic tasks of one manager in a futurist PeriodicWorker.

    Each task runs in its own thread of a small pool, so a slow task does not
    hold back the others. ``stop()`` lets a task that is running finish.
    """

    def __init__(
        self,
        tasks: list[Task],
        context_factory: Callable[[], Any],
        fuzzy_delay: float,
        label: str,
    ) -> None:
        self._label = label
        self._worker = periodics.PeriodicWorker(
            [],
            executor_factory=lambda: QuickStopExecutor(max_workers=max(1, len(tasks))),
            on_failure=self._on_failure,
        )
        self._thread = None
        self._context_factory = context_factory
        for task in tasks:
            run = self._make_callable(task)
            if task.run_immediately or fuzzy_delay <= 0:
                self._worker.add(periodics.periodic(task.spacing, run_immediately=True)(run))
            else:
                # futurist has no per-task initial delay: a one-shot periodic
                # fires after the random delay and adds the real task.
                delay = random.uniform(0, fuzzy_delay)
                self._worker.add(
                    periodics.periodic(max(delay, 0.001))(self._starter(task, run))
                )

    def _make_callable(self, task: Task) -> Callable[[], Any]:
        def run() -> Any:
            return task.method(self._context_factory())

        run.__name__ = run.__qualname__ = f"{self._label}.{task.name}"
        return run

    def _starter(self, task: Task, run: Callable[[], Any]) -> Callable[[], None]:
        def start() -> None:
            self._worker.add(periodics.periodic(task.spacing, run_immediately=True)(run))
            raise periodics.NeverAgain()

        start.__name__ = start.__qualname__ = f"{self._label}.{task.name}(first run)"
        return start

    def _on_failure(self, cb, kind, spacing, exc_info, traceback=None) -> None:
        LOG.error(
            "Periodic task %s failed; it runs again in %.1f s",
            getattr(cb, "__qualname__", cb),
            spacing,
            exc_info=exc_info if exc_info and all(exc_info) else None,
        )

    def start(self) -> None:
        if not len(self._worker):
            return
        self._thread = threading.Thread(
            target=self._worker.start, name=f"periodic-{self._label}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Run no more tasks; a task that is running goes on (see :meth:`wait`)."""
        self._worker.stop()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the running tasks and the worker's thread to end."""
        if self._thread is None:
            return
        self._worker.wait(timeout)
        self._thread.join(timeout)
