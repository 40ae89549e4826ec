"""Plugin discovery through stevedore entry points.

Two namespaces: ``service_host.managers`` (name = topic, object = a
:class:`~service_host.manager.Manager` subclass) and ``service_host.apis``
(name = API name, object = ``make_app(conf)`` returning a WSGI app). Only the
plugins that are asked for are imported; every error names the entry point
and the distribution that declares it.
"""

import dataclasses
import functools
import importlib
import importlib.metadata
import inspect
from collections.abc import Callable
from typing import Any

import stevedore

from service_host.manager import Manager

MANAGERS = "service_host.managers"
APIS = "service_host.apis"
NAMESPACES = (MANAGERS, APIS)


class PluginError(Exception):
    """A plugin could not be found, imported or used. The message says which."""


@dataclasses.dataclass(frozen=True)
class EntryPoint:
    """An entry point as declared, before anything is imported."""

    namespace: str
    name: str
    target: str
    dist: str
    version: str

    def describe(self) -> str:
        return f"entry point '{self.name} = {self.target}' of {self.dist} {self.version}"


@dataclasses.dataclass(frozen=True)
class Plugin:
    """An entry point and the outcome of loading it."""

    entry_point: EntryPoint
    obj: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def entry_points(namespace: str) -> list[EntryPoint]:
    """Every entry point of ``namespace`` (nothing imported), sorted by name.

    The installed distributions are scanned once per process and namespace;
    :func:`refresh` scans again (after installing one in this process).
    """
    return list(_scan(namespace))


@functools.cache
def _scan(namespace: str) -> tuple[EntryPoint, ...]:
    found = []
    for ep in importlib.metadata.entry_points(group=namespace):
        dist = getattr(ep, "dist", None)
        found.append(
            EntryPoint(
                namespace=namespace,
                name=ep.name,
                target=ep.value,
                dist=dist.name if dist else "<unknown distribution>",
                version=dist.version if dist else "?",
            )
        )
    return tuple(sorted(found, key=lambda e: (e.name, e.dist)))


def refresh() -> None:
    """Forget the scanned entry points: the next lookup sees new installs."""
    _scan.cache_clear()


def names(namespace: str) -> list[str]:
    """The distinct entry-point names of ``namespace``."""
    return sorted({ep.name for ep in entry_points(namespace)})


def conflicts(namespace: str) -> dict[str, list[EntryPoint]]:
    """Names that more than one distribution declares in ``namespace``."""
    by_name: dict[str, list[EntryPoint]] = {}
    for ep in entry_points(namespace):
        by_name.setdefault(ep.name, []).append(ep)
    return {name: eps for name, eps in by_name.items() if len({e.dist for e in eps}) > 1}


def _describe(namespace: str, name: str) -> str:
    declared = [ep for ep in entry_points(namespace) if ep.name == name]
    if not declared:
        return f"entry point '{name}' in {namespace}"
    return " and ".join(ep.describe() for ep in declared)


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def _no_plugin(namespace: str, name: str, what: str) -> PluginError:
    available = ", ".join(names(namespace)) or "none"
    return PluginError(
        f"No plugin provides {what}: there is no entry point named "
        f"'{name}' in the {namespace} namespace (installed: {available}). "
        "Install the plugin's distribution, or fix the name in the config file."
    )


def _load_entry_point(namespace: str, name: str, what: str) -> Any:
    """Load the entry point ``name``; ``what`` ("the API 'x'") names it in errors."""
    # Checked first: stevedore's DriverManager drops its
    # on_missing_entrypoints_callback and logs a bare "Could not load NAME"
    # warning before the clear error.
    if name not in names(namespace):
        raise _no_plugin(namespace, name, what)
    failures: list[BaseException] = []

    def on_failure(_manager: Any, _ep: Any, exc: BaseException) -> None:
        failures.append(exc)

    try:
        driver = stevedore.DriverManager(
            namespace,
            name,
            invoke_on_load=False,
            on_load_failure_callback=on_failure,
        )
    except stevedore.exception.NoMatches:
        if not failures:
            raise _no_plugin(namespace, name, what) from None
        exc = failures[0]
        raise PluginError(
            f"{_capitalized(what)} cannot be loaded: {_describe(namespace, name)} "
            f"raised {type(exc).__name__}: {exc}. Fix or reinstall that "
            "distribution, or disable the plugin."
        ) from None
    except stevedore.exception.MultipleMatches:
        raise PluginError(
            f"{_capitalized(what)} is ambiguous: {_describe(namespace, name)} all "
            "claim it. Uninstall all but one of those distributions."
        ) from None
    return driver.driver


def _load_class_path(path: str, what: str) -> Any:
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise PluginError(f"'{path}' is neither a plugin name nor a class path for {what}.")
    try:
        obj = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except Exception as exc:  # noqa: BLE001 - any import-time failure of a plugin
        raise PluginError(
            f"The class path '{path}' of {what} cannot be loaded: {type(exc).__name__}: {exc}."
        ) from None
    return obj


def _is_class_path(value: str) -> bool:
    return ":" in value or "." in value


def check_manager(obj: Any, what: str) -> type[Manager]:
    if not (inspect.isclass(obj) and issubclass(obj, Manager)):
        raise PluginError(
            f"{what} is {obj!r}, which is not a subclass of "
            "service_host.manager.Manager. Point it at a Manager subclass."
        )
    return obj


def check_api(obj: Any, what: str) -> Callable[..., Any]:
    if not callable(obj):
        raise PluginError(
            f"{what} is {obj!r}, which is not callable: it must be a factory "
            "make_app(conf) that returns a WSGI application."
        )
    return obj


def load_manager(topic: str, manager: str) -> type[Manager]:
    """The manager class of ``topic``: ``manager`` is an entry-point name or class path."""
    if _is_class_path(manager):
        obj = _load_class_path(manager, f"the manager of topic '{topic}'")
        return check_manager(obj, f"The manager '{manager}' of topic '{topic}'")
    obj = _load_entry_point(MANAGERS, manager, f"the manager of topic '{topic}'")
    return check_manager(obj, f"The manager of topic '{topic}' ({_describe(MANAGERS, manager)})")


def load_api(name: str) -> Callable[..., Any]:
    """The ``make_app(conf)`` factory of the API ``name``."""
    obj = _load_entry_point(APIS, name, f"the API '{name}'")
    return check_api(obj, f"The API '{name}' ({_describe(APIS, name)})")


def discover(namespace: str) -> list[Plugin]:
    """Load every plugin of ``namespace`` and report each one's outcome."""
    failures: dict[tuple[str, str], BaseException] = {}

    def on_failure(_manager: Any, ep: Any, exc: BaseException) -> None:
        failures[(ep.name, ep.value)] = exc

    loaded = {
        (ext.name, ext.entry_point.value): ext.plugin
        for ext in stevedore.ExtensionManager(namespace, on_load_failure_callback=on_failure)
    }
    check = check_manager if namespace == MANAGERS else check_api
    plugins = []
    for ep in entry_points(namespace):
        key = (ep.name, ep.target)
        if key in failures:
            exc = failures[key]
            plugins.append(Plugin(ep, error=f"import failed: {type(exc).__name__}: {exc}"))
            continue
        if key not in loaded:
            # stevedore caches entry points per process: one installed since is unseen.
            plugins.append(Plugin(ep, error="not loaded: installed after this process started"))
            continue
        try:
            plugins.append(Plugin(ep, obj=check(loaded[key], f"The {ep.describe()}")))
        except PluginError as exc:
            plugins.append(Plugin(ep, error=str(exc)))
    return plugins
