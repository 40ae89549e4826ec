"""The service group: which workers run where, and whether they are up.

Each manager worker is one member of the tooz group of its topic and reports
its state there every ``report_interval`` (like Nova's ``report_state``). A
member whose last report is older than ``service_down_time`` is down. The
member id is ``host:topic:worker_id``, so a respawned worker takes over the
row of the one it replaces.
"""

import dataclasses
import functools
import importlib.metadata
import logging
import os
import threading
import time
import urllib.parse
from typing import Any

import tooz
import tooz.coordination
from futurist import periodics
from oslo_config import cfg

LOG = logging.getLogger(__name__)

GROUP_PREFIX = "service-host."
_VERSION = "1"


def group_id(topic: str) -> bytes:
    return f"{GROUP_PREFIX}{topic}".encode()


def member_id(host: str, topic: str, worker_id: int) -> bytes:
    return f"{host}:{topic}:{worker_id}".encode()


class BackendError(Exception):
    """The coordination backend cannot be used; the message says which and why."""

    def __init__(self, conf: cfg.ConfigOpts, error: Exception, doing: str = "read") -> None:
        cause = f" ({error.__cause__})" if error.__cause__ else ""
        super().__init__(
            f"The service group backend {conf.coordination.backend_url} cannot be "
            f"{doing}: {error}{cause}. Check [coordination] backend_url and the backend."
        )


def load_driver(conf: cfg.ConfigOpts) -> None:
    """Build (not start) a coordinator for ``backend_url``, in the master.

    A URL with no usable tooz driver fails the start here rather than in
    every worker, and the driver's modules are imported once, before the
    fork, so that the workers share them.

    :raises BackendError: no tooz driver serves the URL, or it rejects it.
    """
    _coordinator(conf, b"service-host-master")


@dataclasses.dataclass(frozen=True)
class Member:
    """One worker as the service group last saw it."""

    topic: str
    host: str
    worker_id: int
    pid: int
    binary: str
    version: str
    started_at: float
    reported_at: float
    report_count: int
    restarts: int
    error: str | None
    up: bool
    age: float

    @property
    def state(self) -> str:
        """``down`` without a recent report, ``failed`` while its manager cannot start."""
        if not self.up:
            return "down"
        return "failed" if self.error else "up"

    def as_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["state"] = self.state
        return data


@functools.cache
def _tooz_drivers() -> tuple[str, ...]:
    """The URL schemes of the installed tooz drivers (scanned once per process)."""
    return tuple(sorted({ep.name for ep in importlib.metadata.entry_points(group="tooz.backends")}))


def _coordinator(conf: cfg.ConfigOpts, member: bytes) -> tooz.coordination.CoordinationDriver:
    """A new, unstarted coordinator of ``backend_url``.

    :raises BackendError: no tooz driver serves the URL's scheme, the driver
        needs a client library that is not installed, or it rejects the URL.
    """
    url = conf.coordination.backend_url
    scheme = urllib.parse.urlsplit(url).scheme
    drivers = _tooz_drivers()
    # Checked before tooz asks stevedore, which logs a bare "Could not load".
    if scheme not in drivers:
        raise BackendError(
            conf,
            ValueError(f"no tooz driver serves '{scheme}://' (installed: {', '.join(drivers)})"),
            doing="used",
        )
    try:
        # Every tooz result here is waited for at once: the default thread
        # pool of the drivers that have one only adds a second to each stop.
        return tooz.coordination.get_coordinator(url, member, executor="synchronous")
    except ImportError as exc:
        missing = getattr(exc, "name", None) or str(exc)
        raise BackendError(
            conf,
            ImportError(
                f"tooz's '{scheme}' driver needs the Python module '{missing}', which is "
                f"not installed (pip install {missing})"
            ),
            doing="used",
        ) from exc
    except (tooz.ToozError, ValueError, RuntimeError) as exc:  # RuntimeError: from stevedore
        raise BackendError(conf, exc, doing="used") from exc


class Reporter:
    """Keeps one worker's membership and reports its state every interval.

    A backend that fails is logged once per interval, with the reason, and
    retried at the next one; the worker goes on serving meanwhile.
    """

    def __init__(
        self,
        conf: cfg.ConfigOpts,
        *,
        binary: str,
        topic: str,
        host: str,
        worker_id: int,
        report_interval: float,
        version: str,
        restarts: int = 0,
    ) -> None:
        self._conf = conf
        self._group = group_id(topic)
        self._member = member_id(host, topic, worker_id)
        self._interval = report_interval
        self._coord: tooz.coordination.CoordinationDriver | None = None
        self._joined = False
        self._failing = False
        self._lock = threading.Lock()
        self.capabilities: dict[str, Any] = {
            "binary": binary,
            "topic": topic,
            "host": host,
            "pid": os.getpid(),
            "worker_id": worker_id,
            "started_at": time.time(),
            "reported_at": 0.0,
            "report_count": 0,
            "version": version,
            "restarts": restarts,
            "error": None,
        }
        @periodics.periodic(report_interval)
        def report_state() -> None:
            self.report()

        self._worker = periodics.PeriodicWorker([(report_state, None, None)])
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Report once now, then every interval in a thread.

        The first report is made before the worker runs any plugin code, so
        that a worker that dies while its manager starts still shows in the
        service group, with its pid and restart count.
        """
        self.report()
        self._thread = threading.Thread(
            target=self._worker.start, name="servicegroup-report", daemon=True
        )
        self._thread.start()

    def set_error(self, error: str | None) -> None:
        """Show the worker as failed with ``error`` (or not failed: ``None``), now."""
        if self.capabilities.get("error") != error:
            self.capabilities = {**self.capabilities, "error": error}
            self.report()

    def report(self) -> None:
        """Report once now: join if needed, then update the capabilities."""
        with self._lock:
            try:
                if self._coord is None:
                    coord = _coordinator(self._conf, self._member)
                    coord.start(start_heart=False)
                    self._coord = coord
                if not self._joined:
                    self._join()
                caps = dict(self.capabilities)
                caps["report_count"] += 1
                caps["reported_at"] = time.time()
                self._update(caps)
                self._coord.heartbeat()
                self.capabilities = caps
            except Exception as exc:  # noqa: BLE001 - any backend failure
                self._joined = False
                LOG.warning(
                    "Service group: cannot report %s to %s: %s; next try in %g s",
                    self._member.decode(),
                    self._conf.coordination.backend_url,
                    exc,
                    self._interval,
                )
                self._drop_coordinator()
                self._failing = True
                return
            if self._failing:
                LOG.info("Service group: %s reports again", self._member.decode())
                self._failing = False

    def _update(self, caps: dict[str, Any]) -> None:
        try:
            self._coord.update_capabilities(self._group, caps).get()
        except tooz.NotImplemented:
            # The file:// driver cannot update a member in place: rejoin.
            self._coord.leave_group(self._group).get()
            self._coord.join_group(self._group, caps).get()

    def _join(self) -> None:
        # Not join_group_create(): after creating the group it sleeps 1 s
        # before it joins.
        try:
            self._coord.create_group(self._group).get()
        except tooz.coordination.GroupAlreadyExist:
            pass
        try:
            self._coord.join_group(self._group, self.capabilities).get()
        except tooz.coordination.MemberAlreadyExist:
            pass  # a respawned worker takes over its predecessor's row
        self._joined = True

    def _drop_coordinator(self) -> None:
        if self._coord is not None:
            try:
                self._coord.stop()
            except Exception:  # noqa: BLE001
                LOG.debug("Service group: stopping the coordinator failed", exc_info=True)
            self._coord = None

    def stop(self) -> None:
        """Stop reporting and leave the group."""
        self._worker.stop()
        if self._thread is not None:
            self._thread.join(self._interval + 5)
        with self._lock:
            if self._coord is not None and self._joined:
                try:
                    self._coord.leave_group(self._group).get()
                except Exception as exc:  # noqa: BLE001
                    LOG.warning("Service group: leaving %s failed: %s", self._group, exc)
            self._drop_coordinator()


_READERS: dict[str, tooz.coordination.CoordinationDriver] = {}
_READERS_LOCK = threading.Lock()


def _reader(conf: cfg.ConfigOpts) -> tooz.coordination.CoordinationDriver:
    """A started coordinator for reading the group, one per backend and process.

    Starting one connects to the backend (and for ``file://`` checks its
    directory): not something to do again for every ``GET /v1/services``.
    """
    url = conf.coordination.backend_url
    with _READERS_LOCK:
        coord = _READERS.get(url)
        if coord is None:
            coord = _coordinator(conf, f"reader-{os.getpid()}-{time.time_ns()}".encode())
            coord.start(start_heart=False)
            _READERS[url] = coord
        return coord


def _drop_reader(conf: cfg.ConfigOpts) -> None:
    with _READERS_LOCK:
        coord = _READERS.pop(conf.coordination.backend_url, None)
    if coord is not None:
        try:
            coord.stop()
        except Exception:  # noqa: BLE001
            LOG.debug("Service group: stopping the reader failed", exc_info=True)


def list_members(
    conf: cfg.ConfigOpts, topic: str | None = None, host: str | None = None
) -> list[Member]:
    """Every worker of the service group, sorted by topic, host and worker.

    ``topic`` and ``host`` filter the result.
    """
    try:
        coord = _reader(conf)
    except tooz.ToozError as exc:
        raise BackendError(conf, exc) from exc
    try:
        if topic is not None:
            groups = [group_id(topic)]
        else:
            groups = [g for g in coord.get_groups().get() if g.startswith(GROUP_PREFIX.encode())]
        now = time.time()
        members = []
        for group in groups:
            try:
                found = coord.get_members_with_capabilities(group).get()
            except tooz.coordination.GroupNotCreated:
                continue
            for caps in found.values():
                if not isinstance(caps, dict) or (host is not None and caps.get("host") != host):
                    continue
                age = max(0.0, now - float(caps.get("reported_at") or 0))
                members.append(
                    Member(
                        topic=caps.get("topic", group.decode()[len(GROUP_PREFIX):]),
                        host=caps.get("host", "?"),
                        worker_id=int(caps.get("worker_id", -1)),
                        pid=int(caps.get("pid", 0)),
                        binary=caps.get("binary", "?"),
                        version=str(caps.get("version", "?")),
                        started_at=float(caps.get("started_at") or 0),
                        reported_at=float(caps.get("reported_at") or 0),
                        report_count=int(caps.get("report_count") or 0),
                        restarts=int(caps.get("restarts") or 0),
                        error=caps.get("error"),
                        up=age <= conf.service_down_time,
                        age=age,
                    )
                )
        return sorted(members, key=lambda m: (m.topic, m.host, m.worker_id))
    except Exception as exc:
        _drop_reader(conf)
        if isinstance(exc, tooz.ToozError):
            raise BackendError(conf, exc) from exc
        raise
