"""A RabbitMQ node of their own for the tests that stop the broker.

Stopping the project-local node (127.0.0.1:5682) would break every other test
running at the same time, in this run or in another one on the same machine.
The tests that stop the broker get a second node instead, managed by the same
``tools/rabbitmq.sh`` with its own port, node name and state directory
(``.state/reliability-broker``), started once per test module. Every helper is
bounded in time; a test that stops the node restarts it in a ``finally`` (see
:meth:`Broker.stopped`) and the fixture stops it at the end of the module.
"""

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator

from tests.functional.harness import REPO
from tests.functional.harness import wait_until

SCRIPT = REPO / "tools" / "rabbitmq.sh"
# rabbitmq.sh uses PORT+20000 (distribution) and PORT+30000..+30010 (rabbitmqctl):
# 5700 keeps clear of the default node's 5682 / 25682 / 35682-35692.
DEFAULT_PORT = 5700


class Broker:
    """One RabbitMQ node driven through ``tools/rabbitmq.sh``."""

    def __init__(self, port: int | None = None, name: str = "reliability") -> None:
        self.port = int(port or os.environ.get("SERVICE_HOST_RELIABILITY_RABBIT_PORT", DEFAULT_PORT))
        self.state_dir = REPO / ".state" / f"{name}-broker"
        self.env = {
            **os.environ,
            "SERVICE_HOST_STATE_DIR": str(self.state_dir),
            "SERVICE_HOST_RABBIT_PORT": str(self.port),
            "RABBITMQ_NODENAME": f"service-host-{name}@localhost",
        }
        self.url = f"rabbit://guest:guest@127.0.0.1:{self.port}/"

    def _run(self, action: str, timeout: float) -> subprocess.CompletedProcess:
        out = subprocess.run([str(SCRIPT), action], env=self.env, capture_output=True,
                             text=True, timeout=timeout)
        assert out.returncode == 0, f"rabbitmq.sh {action} failed:\n{out.stderr[-3000:]}"
        return out

    def listening(self) -> bool:
        """Whether something accepts TCP connections on the AMQP port."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def start(self, timeout: float = 120) -> float:
        """Start the node (no-op when it runs) and wait until it is booted; seconds taken."""
        started = time.monotonic()
        self._run("start", timeout)
        wait_until(self.listening, 30, f"RabbitMQ on port {self.port}")
        return time.monotonic() - started

    def stop(self, timeout: float = 120) -> float:
        """Stop the node and wait until its port is closed; seconds taken."""
        started = time.monotonic()
        self._run("stop", timeout)
        wait_until(lambda: not self.listening(), 30, f"port {self.port} to close")
        return time.monotonic() - started

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """The node is stopped inside the block and always running again after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()
