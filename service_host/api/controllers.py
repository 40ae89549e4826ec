"""Controllers of the built-in ``host`` API: versions, service group, plugins."""

import logging
from typing import Any

import pecan
from oslo_config import cfg

from service_host import plugins
from service_host import servicegroup
from service_host.version import version_string

LOG = logging.getLogger(__name__)


def _url(path: str) -> str:
    return pecan.request.host_url + path


def _not_allowed() -> None:
    """What a GET-only resource answers to any other method."""
    pecan.abort(405, headers={"Allow": "GET, HEAD"})


def _reject_unknown(given: dict[str, Any], known: tuple[str, ...]) -> None:
    unknown = sorted(set(given) - set(known))
    if unknown:
        pecan.abort(
            400,
            f"Unknown query parameter(s): {', '.join(unknown)}. "
            f"Known: {', '.join(known) or 'none'}.",
        )


class ServicesController:
    """``GET /v1/services[?topic=T][&host=H]``: one entry per manager worker."""

    _filters = ("topic", "host")

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf

    @pecan.expose(generic=True, template="json")
    def index(self, *args: Any, **kwargs: Any) -> None:
        _not_allowed()

    @index.when(method="GET", template="json")
    def index_get(self, **filters: str) -> dict[str, Any]:
        _reject_unknown(filters, self._filters)
        try:
            members = servicegroup.list_members(
                self.conf, topic=filters.get("topic") or None, host=filters.get("host") or None
            )
        except Exception as exc:  # noqa: BLE001 - any backend failure
            LOG.warning("Cannot read the service group: %s", exc)
            pecan.abort(
                503,
                f"The service group backend {self.conf.coordination.backend_url} "
                f"cannot be read: {exc}",
            )
        return {"services": [member.as_dict() for member in members]}


class PluginsController:
    """``GET /v1/plugins[?namespace=N]``: every plugin, loaded or not, per namespace."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf

    @pecan.expose(generic=True, template="json")
    def index(self, *args: Any, **kwargs: Any) -> None:
        _not_allowed()

    @index.when(method="GET", template="json")
    def index_get(self, **filters: str) -> dict[str, Any]:
        _reject_unknown(filters, ("namespace",))
        namespaces = plugins.NAMESPACES
        if filters.get("namespace"):
            if filters["namespace"] not in namespaces:
                pecan.abort(
                    400,
                    f"Unknown namespace {filters['namespace']!r}; known: {', '.join(namespaces)}.",
                )
            namespaces = (filters["namespace"],)
        return {
            "plugins": {
                namespace: [
                    {
                        "name": plugin.entry_point.name,
                        "target": plugin.entry_point.target,
                        "distribution": plugin.entry_point.dist,
                        "version": plugin.entry_point.version,
                        "loaded": plugin.ok,
                        "error": plugin.error,
                    }
                    for plugin in plugins.discover(namespace)
                ]
                for namespace in namespaces
            }
        }


class V1Controller:
    """``GET /v1``: the resources of version 1."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.services = ServicesController(conf)
        self.plugins = PluginsController(conf)

    @pecan.expose(generic=True, template="json")
    def index(self, *args: Any, **kwargs: Any) -> None:
        _not_allowed()

    @index.when(method="GET", template="json")
    def index_get(self) -> dict[str, Any]:
        return {
            "version": "v1",
            "links": [
                {"rel": "self", "href": _url("/v1")},
                {"rel": "services", "href": _url("/v1/services")},
                {"rel": "plugins", "href": _url("/v1/plugins")},
            ],
        }


class RootController:
    """``GET /``: the version document."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.v1 = V1Controller(conf)

    @pecan.expose(generic=True, template="json")
    def index(self, *args: Any, **kwargs: Any) -> None:
        _not_allowed()

    @index.when(method="GET", template="json")
    def index_get(self) -> dict[str, Any]:
        return {
            "name": "service-host",
            "version": version_string(),
            "versions": [{"id": "v1", "status": "CURRENT", "href": _url("/v1")}],
            "links": [
                {"rel": "self", "href": _url("/")},
                {"rel": "v1", "href": _url("/v1")},
                {"rel": "healthcheck", "href": _url("/healthcheck")},
            ],
        }
