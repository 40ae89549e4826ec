"""Periodic tasks run on demand, on a fake clock: no threads, no sleeps."""

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from service_host import periodic
from service_host import rpc
from service_host.manager import Manager

LOG = logging.getLogger(__name__)

# Spacings such as 0.1 add up to 0.30000000000000004: a task due "at" the
# target of an advance() must still run.
_EPSILON = 1e-9


@dataclasses.dataclass(frozen=True)
class TaskRun:
    """One run of a periodic task: when (fake time), and what it returned or raised."""

    name: str
    at: float
    result: Any = None
    error: BaseException | None = None


class FakeClock:
    """A clock that only moves when a test says so, and runs what falls due.

    Every :class:`PeriodicTasks` made with this clock is driven by
    :meth:`advance`. The clock knows nothing of ``time.time()``: code that
    reads the real time still reads the real time.
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = float(start)
        self._schedules: list[PeriodicTasks] = []

    def time(self) -> float:
        """The fake time, in seconds."""
        return self.now

    def advance(self, seconds: float) -> list[TaskRun]:
        """Move ``seconds`` forward, running each task when it falls due.

        Runs happen in time order (tasks due at the same instant in their
        definition order, managers in the order they were attached), each
        with the clock set to its due time. ``advance(0)`` runs what is due
        now, such as the tasks that run at start.

        :returns: the runs, in the order they happened.
        :raises: the exception of a task that failed, when its
            :class:`PeriodicTasks` is ``strict`` (the default). The clock then
            stays at the instant of the failure, after every task due at that
            instant has run.
        """
        if seconds < 0:
            raise ValueError(f"a clock cannot go back ({seconds} s)")
        target = self.now + seconds
        runs: list[TaskRun] = []
        while True:
            due = [s.next_due() for s in self._schedules]
            first = min((t for t in due if t is not None), default=None)
            if first is None or first > target + _EPSILON:
                break
            self.now = max(self.now, first)
            failure = None
            for schedule in list(self._schedules):
                done = schedule.run_due()
                runs.extend(done)
                if schedule.strict and failure is None:
                    failure = next((r.error for r in done if r.error is not None), None)
            if failure is not None:
                raise failure
        self.now = max(self.now, target)
        return runs

    def _attach(self, schedule: "PeriodicTasks") -> None:
        self._schedules.append(schedule)

    def _detach(self, schedule: "PeriodicTasks") -> None:
        if schedule in self._schedules:
            self._schedules.remove(schedule)


class PeriodicTasks:
    """The periodic tasks of one manager, scheduled on a :class:`FakeClock`.

    The tasks and their spacing are those a worker would run:
    :func:`service_host.periodic.tasks_of` with ``periodic_interval`` (a task
    without a spacing gets it; 0 or less disables the task). The first run of
    a task is at the clock's time when this object is made if it is
    ``run_immediately`` or ``fuzzy_delay`` is 0, else ``fuzzy_delay`` later
    (the upper bound of the random delay a worker waits); then every
    ``spacing`` seconds after the start of the previous run. Tasks run in the
    calling thread, with a fresh request context each, only when the clock
    is advanced or :meth:`run_due` is called.

    A task that raises is logged and runs again at its next spacing, as in a
    worker; when ``strict`` (the default) its exception is also raised to the
    test. Set ``strict = False`` to test what happens after a failure.
    ``periodic_enable`` is not consulted: a test that drives the clock wants
    the tasks to run.

    :param periodic_interval: defaults to ``manager.conf.periodic_interval``.
    :param fuzzy_delay: defaults to ``manager.conf.periodic_fuzzy_delay``.
    """

    def __init__(
        self,
        manager: Manager,
        clock: FakeClock | None = None,
        *,
        periodic_interval: float | None = None,
        fuzzy_delay: float | None = None,
        strict: bool = True,
        context_factory: Callable[[], Any] = rpc.make_context,
    ) -> None:
        conf = manager.conf
        if periodic_interval is None:
            periodic_interval = conf.periodic_interval
        if fuzzy_delay is None:
            fuzzy_delay = conf.periodic_fuzzy_delay
        self.manager = manager
        self.clock = clock or FakeClock()
        self.strict = strict
        self.tasks = {task.name: task for task in periodic.tasks_of(manager, periodic_interval)}
        self.runs: list[TaskRun] = []
        self._context_factory = context_factory
        start = self.clock.now
        self._next = {
            task.name: start if task.run_immediately or fuzzy_delay <= 0 else start + fuzzy_delay
            for task in self.tasks.values()
        }
        self.clock._attach(self)

    def next_run(self, name: str) -> float:
        """The fake time at which task ``name`` runs next."""
        return self._next[name]

    def next_due(self) -> float | None:
        """The time of the next run of any task; ``None`` when there is no task."""
        return min(self._next.values(), default=None)

    def count(self, name: str) -> int:
        """How many times task ``name`` has run so far."""
        if name not in self.tasks:
            raise KeyError(f"no enabled periodic task '{name}' (enabled: {', '.join(self.tasks)})")
        return sum(1 for run in self.runs if run.name == name)

    @property
    def failures(self) -> list[TaskRun]:
        """The runs that raised."""
        return [run for run in self.runs if run.error is not None]

    def run_due(self) -> list[TaskRun]:
        """Run every task due at the clock's current time; no exception escapes."""
        now = self.clock.now
        done = []
        for name, task in self.tasks.items():
            if self._next[name] > now + _EPSILON:
                continue
            self._next[name] = now + task.spacing
            try:
                run = TaskRun(name, now, result=task.method(self._context_factory()))
            except Exception as exc:
                LOG.error(
                    "Periodic task %s failed; it runs again in %.1f s", name, task.spacing,
                    exc_info=True,
                )
                run = TaskRun(name, now, error=exc)
            done.append(run)
        self.runs.extend(done)
        return done

    def run(self, name: str) -> Any:
        """Run task ``name`` once, now, whatever its schedule; return its result.

        The schedule is left as it was and exceptions propagate.
        """
        if name not in self.tasks:
            raise KeyError(f"no enabled periodic task '{name}' (enabled: {', '.join(self.tasks)})")
        return self.tasks[name].method(self._context_factory())

    def advance(self, seconds: float) -> list[TaskRun]:
        """``self.clock.advance(seconds)``: the other schedules on the clock run too."""
        return self.clock.advance(seconds)

    def close(self) -> None:
        """Leave the clock: later advances no longer run these tasks."""
        self.clock._detach(self)
