"""Shared by the benchmarks: processes in their own group, bounded polls, results.

Every process started here runs in a new session (its own process group) and
is killed with its whole group when the benchmark ends, whatever happens.
"""

import contextlib
import dataclasses
import http.client
import importlib.metadata
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from service_host import testing
from service_host.testing import write_config

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
BIN = Path(sys.executable).parent
PYTHON = sys.executable


class Timeout(RuntimeError):
    pass


class Skip(Exception):
    """A benchmark cannot run here; the message says why."""


def wait_until(condition: Callable[[], Any], timeout: float, what: str,
               interval: float = 0.01) -> Any:
    """The test kit's bounded poll, retrying through errors (a starting host refuses calls)."""
    try:
        return testing.wait_until(condition, timeout, what, interval=interval,
                                  retry_on=(Exception,))
    except AssertionError as exc:
        raise Timeout(str(exc)) from None


def rabbit_url() -> str:
    """The broker: $SERVICE_HOST_TRANSPORT_URL, else the project-local node (started if needed)."""
    url = os.environ.get("SERVICE_HOST_TRANSPORT_URL")
    if url:
        return url
    script = REPO / "tools" / "rabbitmq.sh"
    subprocess.run(["bash", str(script), "start"], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=120)
    out = subprocess.run(["bash", str(script), "url"], check=True, capture_output=True,
                         text=True, timeout=30)
    return out.stdout.strip()


def http_get(port: int, path: str = "/") -> int:
    """The status of ``GET path`` on 127.0.0.1:``port``, on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


@contextlib.contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"sh-bench-{prefix}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


class Proc:
    """A subprocess in its own process group, output to a log file; killed as a group."""

    def __init__(self, argv: list[str], log_file: Path, cwd: Path,
                 env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.log_file = log_file
        self._log = open(log_file, "ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            argv, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True, env={**os.environ, **(env or {})},
        )
        self.pid = self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def check_alive(self) -> None:
        if not self.alive():
            raise RuntimeError(f"{self.argv[0]} exited with {self.proc.returncode}:\n"
                               f"{self.log()[-3000:]}")

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def children(self) -> list[int]:
        """pids of the live children (cotyledon forks from several threads)."""
        pids: list[int] = []
        for children in Path(f"/proc/{self.pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                pids += [int(p) for p in children.read_text().split()]
        return sorted(pids)

    def terminate(self) -> None:
        """SIGTERM the whole group (returns at once)."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM the group, then SIGKILL it if it is still there after ``timeout``."""
        try:
            self.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
            self._log.close()


@contextlib.contextmanager
def processes(timeout: float = 15) -> Iterator[list[Proc]]:
    """A list to append :class:`Proc` objects to; all are stopped together on exit.

    SIGTERM to every group at once, up to ``timeout`` for all to exit, then
    SIGKILL to whatever is left of each group.
    """
    procs: list[Proc] = []
    try:
        yield procs
    finally:
        for proc in procs:
            proc.terminate()
        deadline = time.monotonic() + timeout
        for proc in procs:
            proc.stop(timeout=max(0.0, deadline - time.monotonic()))


def delete_topic(transport_url: str, topic: str, servers: list[str]) -> None:
    """Best effort: delete the queues and the fanout exchange of a benchmark's topic.

    oslo.messaging leaves a topic's queues on the broker after its servers
    stop; the benchmarks' topics are unique names that nobody will reuse.
    """
    import kombu

    with contextlib.suppress(Exception), kombu.Connection(transport_url.replace(
            "rabbit://", "amqp://", 1), connect_timeout=5) as connection:
        # A failed operation closes its channel: one channel each.
        for queue in [topic] + [f"{topic}.{server}" for server in servers]:
            with contextlib.suppress(Exception), connection.channel() as channel:
                channel.queue_delete(queue)
        with contextlib.suppress(Exception), connection.channel() as channel:
            channel.exchange_delete(f"{topic}_fanout")


def host_sections(host: str, transport_url: str, state: Path,
                  **default: Any) -> dict[str, dict[str, Any]]:
    """A ``service-host`` config: nothing enabled unless ``default`` says so."""
    values = {
        "host": host,
        "transport_url": transport_url,
        "state_path": str(state),
        "enabled_services": "",
        "enabled_apis": "",
        "report_interval": 10,
        "service_down_time": 60,
        "periodic_fuzzy_delay": 0,
        "graceful_shutdown_timeout": 10,
        "rpc_response_timeout": 30,
        "broker_check_timeout": 10,
    }
    values.update(default)
    return {"DEFAULT": values}


def start_host(procs: list[Proc], wd: Path, sections: dict[str, dict[str, Any]],
               name: str = "host", env: dict[str, str] | None = None) -> Proc:
    config = write_config(wd / f"{name}.conf", sections)
    proc = Proc([str(BIN / "service-host"), "--config-file", str(config)],
                wd / f"{name}.log", wd, env)
    procs.append(proc)
    return proc


def start_script(procs: list[Proc], wd: Path, script: str, args: list[str], name: str,
                 env: dict[str, str] | None = None) -> Proc:
    proc = Proc([PYTHON, str(BENCH_DIR / script), *args], wd / f"{name}.log", wd, env)
    procs.append(proc)
    return proc


@dataclasses.dataclass
class Side:
    """One side of a start or stop benchmark, ready to start (see :func:`manager_side`)."""

    side: str
    name: str
    topic: str
    workers: int
    wd: Path
    record_dir: Path
    sections: dict[str, dict[str, Any]]
    config: Path
    procs: list["Proc"]
    fanout: Any
    env: dict[str, str] | None = None

    def start(self) -> None:
        """Exec the host with ``workers`` workers, or ``workers`` bare servers at once."""
        if self.side == "host":
            start_host(self.procs, self.wd, self.sections, env=self.env)
            return
        for index, server in enumerate(self.servers):
            start_script(self.procs, self.wd, "bare_rpc_server.py",
                         ["--config-file", str(self.config), "--host", server,
                          "--topic", self.topic], f"bare-{index}", self.env)

    @property
    def servers(self) -> list[str]:
        if self.side == "host":
            return [self.name]
        return [f"{self.name}-{index}" for index in range(self.workers)]

    def wait_consuming(self) -> float:
        """When every process had consumed a fanout cast (``time.monotonic()``)."""
        return wait_all_consuming(self.fanout, self.record_dir, self.workers, 120, self.procs)


@contextlib.contextmanager
def manager_side(ctx: "Context", side: str, workers: int, bench: str,
                 env: dict[str, str] | None = None) -> Iterator[Side]:
    """``side`` ("host" or "baseline") of the example manager on a topic of its own.

    Yields it unstarted, with a fanout client already connected; on exit its
    processes are stopped, the client closed and the topic deleted.
    """
    from service_host import rpc

    topic = topic_name(f"bench_{bench}")
    with workdir(f"{bench}-{side}{workers}") as wd, processes() as procs:
        record_dir = wd / "record"
        record_dir.mkdir()
        name = unique(f"bench-{bench}-{side}")
        sections = manager_sections(name, topic, workers, ctx.transport_url, wd, record_dir)
        config = write_config(wd / "client.conf", sections)
        fanout = rpc.Client(client_conf(config), topic, fanout=True)
        fanout.cast(None, "record", marker="-")  # connect the client before any clock starts
        run = Side(side, name, topic, workers, wd, record_dir, sections, config, procs, fanout, env)
        try:
            yield run
        finally:
            rpc.cleanup()
    delete_topic(ctx.transport_url, topic, run.servers)


def client_conf(config_file: Path):
    """A private ConfigOpts of ``config_file`` for an RPC client in this process."""
    from oslo_config import cfg

    from service_host.conf import register_opts

    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf(["--config-file", str(config_file)], project="service-host-bench")
    return conf


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# -- results -------------------------------------------------------------------
@dataclasses.dataclass
class Row:
    """One line of a table; ``target`` is e.g. ``">= 0.95"``.

    ``ratio`` is host / baseline: the median of ``pairs`` (host / baseline of
    measurements taken back to back) when given, which drift and other load
    on the machine affect less, else the ratio of the two medians.
    """

    measure: str
    baseline: float | None
    host: float | None
    unit: str = ""
    target: str = ""
    note: str = ""
    samples: dict[str, list[float]] = dataclasses.field(default_factory=dict)
    pairs: list[float] = dataclasses.field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.pairs:
            return statistics.median(self.pairs)
        if self.baseline in (None, 0) or self.host is None:
            return None
        return self.host / self.baseline

    @property
    def ok(self) -> bool | None:
        if not self.target or self.ratio is None:
            return None
        op, value = self.target.split()
        return self.ratio >= float(value) if op == ">=" else self.ratio <= float(value)

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["ratio"] = self.ratio
        data["ok"] = self.ok
        return data


@dataclasses.dataclass
class Result:
    name: str
    title: str
    rows: list[Row] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "seconds": self.seconds,
                "error": self.error, "notes": self.notes,
                "rows": [row.as_dict() for row in self.rows]}


def workers_row(workers: int, times: dict[str, list[float]], unit: str = "s") -> Row:
    """The row of ``workers`` workers against as many bare processes, paired run by run."""
    plural = workers > 1
    return Row(
        f"{workers} worker{'s' if plural else ''} (baseline: {workers} bare "
        f"process{'es' if plural else ''})",
        median(times["baseline"]), median(times["host"]), unit=unit, samples=times,
        pairs=[h / b for h, b in zip(times["host"], times["baseline"])])


def median(values: list[float]) -> float:
    return statistics.median(values)


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_table(result: Result) -> str:
    header = ("measure", "baseline", "host", "ratio", "target", "ok")
    lines = []
    for row in result.rows:
        ok = {True: "yes", False: "NO", None: "-"}[row.ok]
        unit = f" {row.unit}" if row.unit else ""
        lines.append((row.measure + (f" ({row.unit})" if unit else ""), _fmt(row.baseline),
                      _fmt(row.host), _fmt(row.ratio), row.target or "-", ok))
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines)]
    sep = "  ".join("=" * w for w in widths)
    out = [f"{result.title} ({result.seconds:.0f} s)", "", sep,
           "  ".join(h.ljust(w) for h, w in zip(header, widths)), sep]
    for line in lines:
        out.append("  ".join([line[0].ljust(widths[0])]
                             + [c.rjust(w) for c, w in zip(line[1:], widths[1:])]))
    out.append(sep)
    if result.error:
        out.append(f"ERROR: {result.error}")
    for note in result.notes:
        out.append(f"- {note}")
    for row in result.rows:
        if row.note:
            out.append(f"- {row.measure}: {row.note}")
    return "\n".join(out)


def machine_info() -> dict[str, Any]:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
    os_name = platform.platform()
    with contextlib.suppress(OSError):
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                os_name = line.split("=", 1)[1].strip('"')
    versions = {}
    for dist in ("service-host", "oslo.messaging", "cotyledon", "cheroot", "pecan", "stevedore",
                 "tooz", "kombu"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1),
        "os": os_name,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": versions,
    }


def uss_kib(pid: int) -> dict[str, int]:
    """Private (unique), proportional and resident memory of ``pid`` in KiB (smaps_rollup)."""
    values: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            values[key] = int(parts[0])
    return {"uss": values.get("Private_Clean", 0) + values.get("Private_Dirty", 0),
            "pss": values.get("Pss", 0), "rss": values.get("Rss", 0)}


def wait_answer(client, method: str = "whoami", timeout: float = 60,
                proc: "Proc | None" = None, **kwargs: Any) -> Any:
    """Call ``method`` (each try bounded to 1 s) until it answers; its answer.

    A call sent before the server declared its queue is dropped by the broker,
    so the first calls to a server that is starting time out: try again.
    """
    short = client.prepare(timeout=1)

    def answer() -> Any:
        if proc is not None:
            proc.check_alive()
        return {"answer": short.call(None, method, **kwargs)}

    return wait_until(answer, timeout, f"an answer to {method}", interval=0)["answer"]


@dataclasses.dataclass
class Context:
    """What every benchmark gets: the mode, the broker and a place for notes."""

    quick: bool
    transport_url: str
    verbose: bool = False

    def say(self, message: str) -> None:
        if self.verbose:
            print(f"    {message}", file=sys.stderr, flush=True)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def topic_name(prefix: str) -> str:
    """A topic of its own, so that no other host on the broker consumes or sends there."""
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def manager_sections(host: str, topic: str, workers: int, transport_url: str, wd: Path,
                     record_dir: Path | None = None, **default: Any) -> dict[str, dict[str, Any]]:
    """A config running the example manager on ``topic`` with ``workers`` workers."""
    sections = host_sections(host, transport_url, wd / "state", enabled_services=topic,
                             **{f"{topic}_manager": "example", f"{topic}_workers": workers},
                             **default)
    if record_dir is not None:
        sections["example"] = {"record_dir": str(record_dir)}
    return sections


def wait_all_consuming(fanout_client, record_dir: Path, count: int, timeout: float,
                       procs: list["Proc"], interval: float = 0.05) -> float:
    """Fanout ``record`` every ``interval`` until ``count`` processes have recorded one.

    Each worker of a topic has its own fanout queue, declared with its other
    queues when its RPC server starts; its first recorded marker proves it
    consumes. Returns the ``time.monotonic()`` at which all ``count`` had.
    """
    deadline = time.monotonic() + timeout
    next_cast = 0.0
    while True:
        now = time.monotonic()
        if len(os.listdir(record_dir)) >= count:
            return now
        if now > deadline:
            raise Timeout(f"after {timeout:g} s only {len(os.listdir(record_dir))} of {count} "
                          "processes consumed a fanout cast")
        for proc in procs:
            proc.check_alive()
        if now >= next_cast:
            fanout_client.cast(None, "record", marker="s")
            next_cast = now + interval
        time.sleep(0.005)
