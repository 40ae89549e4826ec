"""From a parsed config to a running cotyledon ``ServiceManager``.

Everything that can fail is resolved here, in the master, before any fork:
plugins are loaded, option values checked, API sockets bound and the broker
reached. Each enabled topic becomes a cotyledon service with
``<topic>_workers`` workers, each enabled API one with ``<name>_workers``.
"""

import collections
import logging
import signal
import time

import cotyledon
from cotyledon import oslo_config_glue
from oslo_config import cfg

from service_host import plugins
from service_host import rpc
from service_host import servicegroup
from service_host import wsgi
from service_host.conf import register_api_opts
from service_host.conf import register_topic_opts
from service_host.service import Service
from service_host.service import ServiceWorker

LOG = logging.getLogger(__name__)

# A worker that exits this many times within this many seconds is crash-looping.
CRASH_LOOP_EXITS = 3
CRASH_LOOP_WINDOW = 60.0


class StartupError(Exception):
    """The host cannot start; the message says why and what to do."""


def register_plugin_opts(conf: cfg.ConfigOpts) -> None:
    """Register the per-topic and per-API options of every known name."""
    for kind in ("enabled_services", "enabled_apis"):
        # Each name becomes an option name (<name>_workers...): oslo.config
        # refuses '' (a stray comma) and a leading '_'.
        bad = [name for name in conf[kind] if not name or name.startswith("_")]
        if bad:
            raise StartupError(
                f"{kind} = {','.join(conf[kind])} lists {', '.join(map(repr, bad))}: "
                "names must not be empty (a stray comma?) nor start with '_'."
            )
    register_topic_opts(conf, set(plugins.names(plugins.MANAGERS)) | set(conf.enabled_services))
    register_api_opts(conf, set(plugins.names(plugins.APIS)) | set(conf.enabled_apis) | {"host"})


def validate(conf: cfg.ConfigOpts) -> None:
    """Read every registered option so that a bad value fails now, not in a worker."""
    for name in list(conf):
        value = conf[name]
        if isinstance(value, cfg.ConfigOpts.GroupAttr):
            for opt in list(value):
                value[opt]


def _workers(conf: cfg.ConfigOpts, name: str) -> int:
    return conf[f"{name}_workers".replace("-", "_")]


class _ServiceManager(cotyledon.ServiceManager):
    """cotyledon's manager, with Ctrl-C (SIGINT) as a graceful shutdown.

    cotyledon ends every process at once on SIGINT; a foreground
    ``service-host`` stopped with Ctrl-C should drain like on SIGTERM.
    """

    def _on_signal_received(self, sig: int) -> None:
        if sig == signal.SIGINT:
            sig = signal.SIGTERM
        super()._on_signal_received(sig)

    def reconfigure(self, service_id, workers: int) -> None:
        super().reconfigure(service_id, workers)
        # cotyledon's supervisor thread starts or stops workers to match the
        # new count only when it wakes up, on the next SIGCHLD: wake it now.
        self._got_sig_chld.set()


def prepare(
    conf: cfg.ConfigOpts, binary: str, topics: list[str] | None = None
) -> tuple[list[Service], list[wsgi.API]]:
    """Resolve the services and APIs to run. ``topics`` overrides enabled_services.

    With ``topics`` given (a ``service-host-<topic>`` launcher) no API runs.
    """
    register_plugin_opts(conf)
    validate(conf)
    api_names = list(conf.enabled_apis) if not topics else []
    topics = list(conf.enabled_services) if topics is None else topics
    if not topics and not api_names:
        raise StartupError(
            "Nothing to run: enabled_services and enabled_apis are both empty. "
            "List the manager topics to run in enabled_services (installed: "
            f"{', '.join(plugins.names(plugins.MANAGERS)) or 'none'}) in the "
            "[DEFAULT] section of the config file."
        )
    for kind, names in (("enabled_services", topics), ("enabled_apis", api_names)):
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise StartupError(f"{kind} lists {', '.join(duplicated)} more than once.")
    services = [Service.create(binary=binary, topic=topic, conf=conf) for topic in topics]
    apis = [wsgi.API.create(conf, name) for name in api_names]
    return services, apis


def run(conf: cfg.ConfigOpts, binary: str, topics: list[str] | None = None) -> None:
    """Start every worker and supervise them until SIGTERM or Ctrl-C."""
    services, apis = prepare(conf, binary, topics)
    if services:
        servicegroup.load_driver(conf)
        rpc.check_broker(conf, conf.broker_check_timeout)

    manager = _ServiceManager()
    oslo_config_glue.link(manager, conf, reload_method="mutate")
    by_id = {
        manager.add(ServiceWorker, workers=_workers(conf, s.topic), args=(s,)): s
        for s in services
    }
    names = {service_id: f"topic '{s.topic}'" for service_id, s in by_id.items()}
    for api in apis:
        names[manager.add(wsgi.APIWorker, workers=api.workers, args=(api,))] = f"API '{api.name}'"
    exits: dict[tuple, collections.deque[float]] = collections.defaultdict(collections.deque)

    def on_reload() -> None:
        for service_id, service in by_id.items():
            manager.reconfigure(service_id, _workers(conf, service.topic))
        LOG.info("Configuration reloaded")

    def on_dead_worker(service_id, worker_id: int, exit_code: int) -> None:
        # Runs in the master before the respawn: the new worker inherits the
        # count and shows it in the service group.
        service = by_id.get(service_id)
        restarts = ""
        if service is not None:
            service.restarts[worker_id] += 1
            restarts = f" (restart {service.restarts[worker_id]})"
        LOG.warning(
            "Worker %d of %s exited with %s; respawning it%s",
            worker_id,
            names.get(service_id, service_id),
            f"signal {-exit_code}" if exit_code < 0 else f"code {exit_code}",
            restarts,
        )
        recent = exits[service_id, worker_id]
        recent.append(time.monotonic())
        while recent[-1] - recent[0] > CRASH_LOOP_WINDOW:
            recent.popleft()
        if len(recent) >= CRASH_LOOP_EXITS:
            # cotyledon only logs "Forking too fast, sleeping", naming nothing.
            LOG.error(
                "Worker %d of %s is crash-looping: %d exits in the last %g s. cotyledon "
                "pauses 5 s before a respawn whenever workers are forked faster than one "
                "a second each. See above why it exits.",
                worker_id,
                names.get(service_id, service_id),
                len(recent),
                CRASH_LOOP_WINDOW,
            )

    manager.register_hooks(on_reload=on_reload, on_dead_worker=on_dead_worker)
    LOG.info(
        "Starting %s",
        ", ".join(
            [f"{s.topic} x{_workers(conf, s.topic)}" for s in services]
            + [f"API {a.name} x{a.workers} on {a.address}" for a in apis]
        ),
    )
    manager.run()
