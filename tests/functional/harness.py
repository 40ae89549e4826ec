"""Start the real thing: service-host as a subprocess on the project-local RabbitMQ.

Every wait here is a bounded poll on a condition; every process a test starts
is stopped (its whole process group) when the test ends.
"""

import base64
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from oslo_config import cfg

from service_host import rpc
from service_host import testing
from service_host.conf import register_opts
from service_host.testing import write_config

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def wait_until(
    condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.1
) -> Any:
    """The kit's bounded poll, retrying through errors: a host that is starting refuses calls."""
    return testing.wait_until(condition, timeout, what, interval=interval, retry_on=(Exception,))


def rabbit_url() -> str:
    url = os.environ.get("SERVICE_HOST_TRANSPORT_URL")
    if url:
        return url
    subprocess.run([str(REPO / "tools" / "rabbitmq.sh"), "start"], check=True)
    out = subprocess.run(
        [str(REPO / "tools" / "rabbitmq.sh"), "url"], check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


class HTTPAnswer:
    """Status, headers (lower-case names) and body of one HTTP answer."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<HTTPAnswer {self.status} {self.body[:300]!r}>"


def http_request(method: str, url: str, body: Any = None, *, headers: dict[str, str] | None = None,
                 auth: tuple[str, str] | None = None, timeout: float = 30) -> HTTPAnswer:
    """One HTTP request; ``body`` bytes are sent as is, anything else as JSON. 4xx/5xx are returned."""
    headers = dict(headers or {})
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    if auth is not None:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return HTTPAnswer(answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return HTTPAnswer(exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read())


class Host:
    """One ``service-host`` subprocess with its own config, state dir and host name."""

    def __init__(self, workdir: Path, transport_url: str, config: dict[str, dict[str, Any]],
                 binary: str = "service-host") -> None:
        self.workdir = workdir
        self.host = f"test-{uuid.uuid4().hex[:8]}"
        defaults = {
            "host": self.host,
            "transport_url": transport_url,
            "state_path": str(workdir / "state"),
            "enabled_apis": "",
            "report_interval": 1,
            "service_down_time": 4,
            "periodic_fuzzy_delay": 0,
            "graceful_shutdown_timeout": 30,
            "rpc_response_timeout": 10,
            "broker_check_timeout": 5,
        }
        sections = {"DEFAULT": {**defaults, **config.get("DEFAULT", {})}}
        sections.update({k: v for k, v in config.items() if k != "DEFAULT"})
        self.sections = sections
        self.config_file = write_config(workdir / "service-host.conf", sections)
        self.log_file = workdir / "service-host.log"
        self.binary = binary
        self.proc: subprocess.Popen | None = None
        self._conf: cfg.ConfigOpts | None = None

    # -- process ---------------------------------------------------------
    def start(self, *extra: str, env: dict[str, str] | None = None) -> "Host":
        """Start the host (again, after a stop); ``env`` adds to the test's environment."""
        if getattr(self, "_log", None):
            self._log.close()
        self._log = open(self.log_file, "ab")
        self.proc = subprocess.Popen(
            [str(BIN / self.binary), "--config-file", str(self.config_file), *extra],
            cwd=self.workdir,
            env=None if env is None else {**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"service-host did not exit within {timeout:g} s; log:\n{self.log()[-3000:]}") from None

    def stop(self, timeout: float = 40) -> int:
        """SIGTERM the master and wait for it; returns its exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.signal(signal.SIGTERM)
        return self.wait_exit(timeout)

    def kill_all(self) -> None:
        """Kill the master and every worker at once (SIGKILL to the process group)."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        if getattr(self, "_log", None):
            self._log.close()
        if self._conf is not None:
            rpc.cleanup()
            self._conf = None

    def worker_pids(self) -> list[int]:
        """pids of the master's live children."""
        assert self.proc is not None
        pids = []
        # Each thread lists the children it forked; cotyledon forks from a thread.
        for children in Path(f"/proc/{self.proc.pid}/task").glob("*/children"):
            try:
                pids += [int(p) for p in children.read_text().split()]
            except OSError:
                pass
        return sorted(pids)

    # -- talking to it -----------------------------------------------------
    @property
    def conf(self) -> cfg.ConfigOpts:
        if self._conf is None:
            conf = cfg.ConfigOpts()
            register_opts(conf)
            conf(["--config-file", str(self.config_file)], project="service-host-tests")
            self._conf = conf
        return self._conf

    def client(self, topic: str, **kwargs: Any) -> rpc.Client:
        return rpc.Client(self.conf, topic, **kwargs)

    def manage(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(BIN / "service-host-manage"), "--config-file", str(self.config_file), *args],
            capture_output=True, text=True, timeout=timeout, cwd=self.workdir,
        )

    def services(self) -> list[dict[str, Any]]:
        out = self.manage("services", "--format", "json")
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    def wait_workers_up(self, topic: str, count: int, timeout: float = 60) -> list[dict[str, Any]]:
        def up() -> list[dict[str, Any]] | None:
            assert self.proc is not None and self.proc.poll() is None, (
                f"service-host exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            members = [m for m in self.services() if m["topic"] == topic and m["host"] == self.host]
            live = [m for m in members if m["state"] == "up"]
            return live if len(live) == count else None

        return wait_until(up, timeout, f"{count} '{topic}' workers up")

    # -- its APIs ------------------------------------------------------------
    def api_url(self, name: str = "host") -> str:
        """Base URL of the API ``name``, from ``<name>_listen[_port]`` of its config."""
        values = self.sections["DEFAULT"]
        host = values.get(f"{name}_listen", "127.0.0.1")
        return f"http://{host}:{values[f'{name}_listen_port']}"

    def http(self, method: str, path: str, body: Any = None, *, api: str = "host",
             **kwargs: Any) -> HTTPAnswer:
        """One request to the API ``api`` of this host (see :func:`http_request`)."""
        return http_request(method, self.api_url(api) + path, body, **kwargs)

    def wait_api(self, name: str = "host", timeout: float = 30) -> None:
        """Wait until the API ``name`` answers its /healthcheck."""
        def ready() -> bool:
            assert self.proc is not None and self.proc.poll() is None, (
                f"service-host exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            return self.http("GET", "/healthcheck", api=name, timeout=5).status == 200

        wait_until(ready, timeout, f"the '{name}' API to answer")
