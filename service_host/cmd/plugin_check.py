"""``service-host-manage plugins check``: is every installed plugin usable?

Each plugin (an entry point of ``service_host.managers`` or ``service_host.apis``)
is imported and checked: a manager must be a :class:`~service_host.manager.Manager`
subclass with an ``oslo_messaging.Target`` as ``target``, an API factory must be
callable. The options its distribution declares through ``oslo.config.opts``
entry points (the ones ``oslo-config-generator`` reads) are registered on a
scratch configuration next to the host's, and their values in the config
files are checked. One line per plugin says ``ok`` or what is wrong and how to
fix it; names claimed by two distributions are reported too. The exit status
is 1 when anything is wrong: such a plugin cannot be enabled.
"""

import dataclasses
import importlib.metadata
import json
from collections.abc import Iterable
from typing import Any

import oslo_messaging
from oslo_config import cfg

from service_host import plugins
from service_host.cmd import table
from service_host.conf import register_api_opts
from service_host.conf import register_opts
from service_host.conf import register_topic_opts

OPTS_GROUP = "oslo.config.opts"


@dataclasses.dataclass
class Result:
    """The verdict on one plugin."""

    entry_point: plugins.EntryPoint
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        ep = self.entry_point
        return {
            "namespace": ep.namespace,
            "name": ep.name,
            "target": ep.target,
            "distribution": ep.dist,
            "version": ep.version,
            "ok": self.ok,
            "problems": self.problems,
        }


def _load_problem(plugin: plugins.Plugin) -> str:
    error = plugin.error or ""
    prefix = "import failed: "
    if not error.startswith(prefix):
        return error
    ep = plugin.entry_point
    return (
        f"'{ep.target}' cannot be imported: {error[len(prefix):]}. Fix that module or "
        f"install what it needs, reinstall {ep.dist}, or uninstall it (pip uninstall {ep.dist})."
    )


def _target_problem(manager: type) -> str | None:
    target = getattr(manager, "target", None)
    if isinstance(target, oslo_messaging.Target) and target.version:
        return None
    return (
        f"{manager.__module__}.{manager.__qualname__}.target is {target!r}: make it "
        "oslo_messaging.Target(version='X.Y'), the RPC API version of the manager."
    )


def _option_entry_points(dist: str) -> list[importlib.metadata.EntryPoint]:
    return [
        ep
        for ep in importlib.metadata.entry_points(group=OPTS_GROUP)
        if getattr(ep, "dist", None) is not None and ep.dist.name == dist
    ]


def _pairs(listed: Any) -> Iterable[tuple[Any, list[cfg.Opt]]]:
    for item in listed:
        group, opts = item
        opts = list(opts)
        if not (group is None or isinstance(group, (str, cfg.OptGroup))):
            raise TypeError(f"{group!r} is not an option group (None, a name or an OptGroup)")
        bad = [opt for opt in opts if not isinstance(opt, cfg.Opt)]
        if bad:
            raise TypeError(f"{bad[0]!r} in group {group!r} is not an oslo.config option")
        yield group, opts


def _register_options(scratch: cfg.ConfigOpts, ep: importlib.metadata.EntryPoint) -> list[str]:
    """Register the options of ``ep`` on ``scratch`` and read them back from the config files."""
    where = f"its options (entry point '{ep.name} = {ep.value}' in {OPTS_GROUP})"
    try:
        pairs = list(_pairs(ep.load()()))
    except Exception as exc:  # noqa: BLE001 - any failure of plugin code is reported
        return [
            f"{where} cannot be listed: {type(exc).__name__}: {exc}. It must name a function "
            "returning [(group, [options])] that imports and runs without error; "
            "oslo-config-generator fails on it too."
        ]
    problems = []
    for group, opts in pairs:
        name = group.name if isinstance(group, cfg.OptGroup) else group
        try:
            if isinstance(group, cfg.OptGroup):
                scratch.register_group(group)
            scratch.register_opts(opts, group=name)
        except cfg.Error as exc:
            problems.append(
                f"{where} cannot be registered: {type(exc).__name__}: {exc}. Another "
                "distribution or the host already has an option of that name in that "
                "group: put the plugin's options in a group of its own."
            )
            continue
        section = scratch[name] if name else scratch
        for opt in opts:
            try:
                section[opt.dest]
            except (cfg.Error, ValueError) as exc:
                problems.append(
                    f"option [{name or 'DEFAULT'}] {opt.dest}: {exc}. Fix its value in the "
                    "config file."
                )
    return problems


def _scratch_conf(conf: cfg.ConfigOpts) -> cfg.ConfigOpts:
    """The host's options and the config files of ``conf``, plugin options yet to come."""
    scratch = cfg.ConfigOpts()
    register_opts(scratch)
    register_topic_opts(scratch, plugins.names(plugins.MANAGERS))
    register_api_opts(scratch, plugins.names(plugins.APIS))
    scratch(
        [],
        project="service-host",
        default_config_files=list(getattr(conf, "config_file", None) or []),
        default_config_dirs=list(getattr(conf, "config_dir", None) or []),
    )
    return scratch


def check(conf: cfg.ConfigOpts) -> tuple[list[Result], list[str]]:
    """Check every installed plugin: its verdict, and the names claimed twice.

    :returns: one :class:`Result` per entry point, and one message per
        conflicting name.
    """
    scratch = _scratch_conf(conf)
    option_problems: dict[str, list[str]] = {}
    results = []
    for namespace in plugins.NAMESPACES:
        for plugin in plugins.discover(namespace):
            ep = plugin.entry_point
            problems = [] if plugin.ok else [_load_problem(plugin)]
            if plugin.ok and namespace == plugins.MANAGERS:
                target_problem = _target_problem(plugin.obj)
                if target_problem:
                    problems.append(target_problem)
            if ep.dist not in option_problems:
                option_problems[ep.dist] = [
                    problem
                    for opts_ep in _option_entry_points(ep.dist)
                    for problem in _register_options(scratch, opts_ep)
                ]
            results.append(Result(ep, problems + option_problems[ep.dist]))
    conflicts = []
    for namespace in plugins.NAMESPACES:
        kind = "manager" if namespace == plugins.MANAGERS else "API"
        for name, eps in plugins.conflicts(namespace).items():
            claimants = " and ".join(f"{ep.dist} {ep.version} ('{ep.target}')" for ep in eps)
            conflicts.append(
                f"the {kind} name '{name}' is claimed by {claimants}: service-host refuses "
                "to load it while it is ambiguous. Uninstall all but one of them."
            )
    return results, conflicts


def run(conf: cfg.ConfigOpts) -> int:
    """Print the verdict on every plugin; 0 if all are usable, 1 otherwise."""
    results, conflicts = check(conf)
    failed = [r for r in results if not r.ok]
    status = 1 if failed or conflicts else 0
    command = getattr(conf, "command", None)
    if getattr(command, "format", "table") == "json":
        print(json.dumps(
            {
                "ok": status == 0,
                "plugins": [r.as_dict() for r in results],
                "conflicts": conflicts,
            },
            indent=2,
            sort_keys=True,
        ))
        return status
    rows = [
        [ep.namespace, ep.name, ep.dist, ep.version,
         "ok" if r.ok else "ERROR: " + " ".join(r.problems)]
        for r in results
        for ep in [r.entry_point]
    ]
    if rows:
        print(table(["namespace", "name", "distribution", "version", "status"], rows))
    for message in conflicts:
        print(f"WARNING: {message}")
    if not results:
        print("No plugin is installed.")
    elif failed:
        print(f"{len(failed)} of {len(results)} plugins have errors.")
    elif not conflicts:
        print(f"All {len(results)} plugins are ok.")
    return status
