"""The example manager: what a plugin looks like, and what the tests drive."""

import os
import threading
import time

import oslo_messaging

from service_host.manager import Manager
from service_host.periodic import periodic_task
from service_host_example import opts


class ExampleManager(Manager):
    """Echoes, sleeps on request, and counts its periodic task runs."""

    # 1.0: echo, whoami, slow, in_flight, record, task_runs; 1.1: adds echo(upper=...)
    target = oslo_messaging.Target(version="1.1")

    def __init__(self, host, topic, conf):
        super().__init__(host, topic, conf)
        opts.register_opts(conf)
        self._lock = threading.Lock()
        self._runs: dict[str, list[float]] = {"tick": [], "tock": []}
        self._slow_in_flight = 0

    def init_host(self) -> None:
        self.started_at = time.time()

    def echo(self, context, message, upper=False):
        """Return ``message`` behind the configured greeting."""
        text = f"{self.conf.example.greeting} {message}"
        return text.upper() if upper else text

    def whoami(self, context):
        """Which process answered: host, topic and pid."""
        return {"host": self.host, "topic": self.topic, "pid": os.getpid()}

    def slow(self, context, seconds=1.0):
        """Sleep ``seconds``, then answer: used to test graceful shutdown."""
        with self._lock:
            self._slow_in_flight += 1
        try:
            time.sleep(float(seconds))
        finally:
            with self._lock:
                self._slow_in_flight -= 1
        return {"slept": float(seconds), "pid": os.getpid()}

    def in_flight(self, context):
        """How many ``slow`` calls this worker is running now."""
        return self._slow_in_flight

    def record(self, context, marker):
        """Append ``marker`` to this worker's file in ``[example] record_dir``."""
        if self.conf.example.record_dir:
            path = os.path.join(self.conf.example.record_dir, f"{os.getpid()}.txt")
            with self._lock, open(path, "a") as out:
                out.write(f"{marker}\n")
        return os.getpid()

    def task_runs(self, context):
        """Times (epoch seconds) of the periodic task runs so far, by task."""
        with self._lock:
            return {name: list(times) for name, times in self._runs.items()}

    @periodic_task(spacing=1, run_immediately=True)
    def tick(self, context):
        with self._lock:
            self._runs["tick"].append(time.time())

    @periodic_task(spacing=5)
    def tock(self, context):
        with self._lock:
            self._runs["tock"].append(time.time())
