import threading

import pytest

from service_host.manager import Manager
from service_host.periodic import PeriodicRunner
from service_host.periodic import periodic_task
from service_host.periodic import tasks_of
from tests.functional.harness import wait_until


class Tasks(Manager):
    def __init__(self):
        super().__init__("h", "t", None)
        self.runs = {"fails": 0, "works": 0}

    @periodic_task()
    def default_spacing(self, context):
        pass

    @periodic_task(spacing=5)
    def five(self, context):
        pass

    @periodic_task(spacing=-1)
    def disabled(self, context):
        pass

    @periodic_task(spacing=0.05, run_immediately=True)
    def fails(self, context):
        self.runs["fails"] += 1
        raise RuntimeError("boom")

    @periodic_task(spacing=0.05, run_immediately=True)
    def works(self, context):
        assert "request_id" in context
        self.runs["works"] += 1


def test_spacing_resolution():
    spacing = {t.name: t.spacing for t in tasks_of(Tasks(), periodic_interval=60)}
    assert spacing == {"default_spacing": 60, "five": 5, "fails": 0.05, "works": 0.05}


def test_periodic_interval_zero_disables_default_spaced_tasks():
    names = {t.name for t in tasks_of(Tasks(), periodic_interval=0)}
    assert "default_spacing" not in names and "five" in names


def test_decorator_needs_parentheses():
    with pytest.raises(TypeError):
        periodic_task(lambda self, context: None)


def test_a_failing_task_is_retried_and_does_not_stop_the_others(caplog):
    manager = Tasks()
    tasks = [t for t in tasks_of(manager, 60) if t.name in ("fails", "works")]
    runner = PeriodicRunner(tasks, lambda: {"request_id": "req-1"}, fuzzy_delay=0, label="t")
    runner.start()
    try:
        wait_until(lambda: manager.runs["fails"] >= 3 and manager.runs["works"] >= 3, 10,
                   "both tasks to run three times")
    finally:
        runner.stop()
        runner.wait(timeout=5)
    assert "t.fails failed" in caplog.text
    assert not [t for t in threading.enumerate() if t.name == "periodic-t"]
