"""``Service``: one manager served over RPC, and the cotyledon worker that runs it.

:meth:`Service.create` resolves every default in the master, before any fork,
so that a bad manager name fails the start instead of a worker. The resolved
``Service`` is handed to cotyledon, which runs it in each worker process.
"""

import collections
import logging
import os
import signal
import sys
import threading

import cotyledon
from oslo_config import cfg

from service_host import periodic
from service_host import plugins
from service_host import rpc
from service_host import servicegroup
from service_host.conf import CONF
from service_host.conf import mutate as conf_mutate
from service_host.conf import register_topic_opts
from service_host.manager import Manager
from service_host.version import version_string

LOG = logging.getLogger(__name__)


_MAX_BACKOFF = 60.0


class Service:
    """A manager served on its topic, with its periodic tasks and state reports.

    One object carries ``host, binary, topic, manager, report_interval,
    periodic_interval`` from :meth:`create` (in the master) to every worker,
    where :meth:`start` builds the manager instance and :meth:`stop` drains it.
    """

    def __init__(
        self,
        host: str,
        binary: str,
        topic: str,
        manager: type[Manager],
        report_interval: float,
        periodic_interval: float,
        conf: cfg.ConfigOpts = CONF,
    ) -> None:
        self.host = host
        self.binary = binary
        self.topic = topic
        self.manager_class = manager
        self.report_interval = report_interval
        self.periodic_interval = periodic_interval
        self.conf = conf
        self.manager: Manager | None = None
        self.worker_id = 0
        self._server = None
        self._periodic: periodic.PeriodicRunner | None = None
        self._reporter: servicegroup.Reporter | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._stopped = False
        self.restarts: collections.Counter[int] = collections.Counter()
        """Respawns per worker_id, counted by the master and inherited at fork."""

    def __repr__(self) -> str:
        return (
            f"<Service topic={self.topic} host={self.host} binary={self.binary} "
            f"manager={self.manager_class.__module__}.{self.manager_class.__qualname__}>"
        )

    @classmethod
    def create(
        cls,
        host: str | None = None,
        binary: str | None = None,
        topic: str | None = None,
        manager: str | type[Manager] | None = None,
        report_interval: float | None = None,
        periodic_interval: float | None = None,
        *,
        conf: cfg.ConfigOpts | None = None,
    ) -> "Service":
        """Resolve the defaults of a service the way Nova's ``Service.create`` did.

        ``None`` means the default: ``host`` from ``CONF.host``; ``binary``
        from the basename of ``sys.argv[0]``; ``topic`` from the binary
        (``service-host-compute`` gives ``compute``); ``manager`` from
        ``CONF.<topic>_manager`` (an entry-point name or a class path, by
        default the entry point named after the topic); the intervals from
        ``CONF``. Any other value, 0 included, is kept as given.

        :raises service_host.plugins.PluginError: the manager cannot be loaded.
        """
        conf = CONF if conf is None else conf
        if host is None:
            host = conf.host
        if binary is None:
            binary = os.path.basename(sys.argv[0])
        if topic is None:
            topic = binary.rpartition("service-host-")[2]
        register_topic_opts(conf, [topic])
        if manager is None:
            manager = conf[f"{topic}_manager".replace("-", "_")]
        if isinstance(manager, str):
            manager = plugins.load_manager(topic, manager)
        else:
            manager = plugins.check_manager(manager, f"The manager of topic '{topic}'")
        if report_interval is None:
            report_interval = conf.report_interval
        if periodic_interval is None:
            periodic_interval = conf.periodic_interval
        return cls(host, binary, topic, manager, report_interval, periodic_interval, conf)

    def start(self, worker_id: int = 0) -> None:
        """Join the service group, start the manager, then serve RPC and tasks.

        A manager that raises while it is built or in ``init_host()`` is tried
        again after 1 s, then 2, 4... up to a minute, without a respawn; in the
        meantime the worker shows as ``failed`` in the service group, with the
        error, and takes no message.
        """
        self.worker_id = worker_id
        self._reporter = servicegroup.Reporter(
            self.conf,
            binary=self.binary,
            topic=self.topic,
            host=self.host,
            worker_id=worker_id,
            report_interval=self.report_interval,
            version=version_string(),
            restarts=self.restarts[worker_id],
        )
        self._reporter.start()
        delay = 1.0
        attempt = 1
        while not self._start_manager(attempt, delay):
            if self._stopping.wait(delay):
                return
            delay = min(delay * 2, _MAX_BACKOFF)
            attempt += 1
        with self._lock:
            if self._stopping.is_set():
                return
            self._server = rpc.get_server(self.conf, self.topic, self.host, [self.manager])
            self._server.start()
            if self.conf.periodic_enable:
                self._periodic = periodic.PeriodicRunner(
                    periodic.tasks_of(self.manager, self.periodic_interval),
                    rpc.make_context,
                    fuzzy_delay=self.conf.periodic_fuzzy_delay,
                    label=f"{self.topic}({self.manager_class.__qualname__})",
                )
                self._periodic.start()
        LOG.info("%s worker %d serving on %s", self.topic, worker_id, self.host)

    def _start_manager(self, attempt: int, retry_in: float) -> bool:
        try:
            manager = self.manager_class(self.host, self.topic, self.conf)
            manager.init_host()
        except Exception as exc:
            error = (
                f"The manager {self.manager_class.__module__}."
                f"{self.manager_class.__qualname__} of topic '{self.topic}' failed "
                f"to start: {type(exc).__name__}: {exc}"
            )
            LOG.error(
                "%s (attempt %d); worker %d tries again in %g s",
                error,
                attempt,
                self.worker_id,
                retry_in,
                exc_info=attempt == 1,
            )
            self._reporter.set_error(error)
            return False
        self.manager = manager
        self._reporter.set_error(None)
        return True

    def stop(self) -> None:
        """Stop taking messages, finish those in flight, then clean up.

        The RPC server stops first so no new call starts; ``wait()`` returns
        once the calls in flight have answered. Then the periodic tasks stop,
        ``cleanup_host()`` runs and the worker leaves the service group.
        """
        self._stopping.set()
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            if self._server is not None:
                self._server.stop()
            # Both loops take up to a second to notice a stop: wait for them
            # together rather than one after the other.
            if self._periodic is not None:
                self._periodic.stop()
            if self._server is not None:
                self._server.wait()
            if self._periodic is not None:
                self._periodic.wait()
            if self.manager is not None:
                try:
                    self.manager.cleanup_host()
                except Exception:
                    LOG.exception("cleanup_host() of topic '%s' failed", self.topic)
            if self._reporter is not None:
                self._reporter.stop()
            rpc.cleanup()
            LOG.info("%s worker %d stopped", self.topic, self.worker_id)

    def reset(self) -> None:
        """Re-read the mutable options and tell the manager."""
        conf_mutate(self.conf)
        if self.manager is not None:
            self.manager.reset()


class ServiceWorker(cotyledon.Service):
    """The cotyledon side of a :class:`Service`: one per worker process.

    ``worker_id`` stays the same when a worker is respawned, and so does its
    row in the service group.
    """

    def __init__(self, worker_id: int, service: Service) -> None:
        super().__init__(worker_id)
        self.name = service.topic
        self.service = service
        # Ctrl-C reaches the whole process group; the master turns it into a
        # graceful shutdown of every worker, so the workers leave it to it.
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    def run(self) -> None:
        self.service.start(self.worker_id)

    def terminate(self) -> None:
        self.service.stop()

    def reload(self) -> None:
        self.service.reset()
