"""``service-host-manage``: look at and talk to a running host, like ``nova-manage``.

    service-host-manage --config-file F plugins [check] [--format json]
    service-host-manage --config-file F services [--topic T] [--host H] [--format json]
    service-host-manage --config-file F call TOPIC METHOD [key=value ...]
                        [--server HOST] [--cast] [--fanout] [--timeout S] [--version V]
"""

import json
import sys
from typing import Any

import oslo_messaging
from oslo_config import cfg

from service_host import plugins
from service_host import rpc
from service_host import servicegroup
from service_host.cmd import clean_errors
from service_host.cmd import parse_config
from service_host.cmd import plugin_check
from service_host.cmd import table
from service_host.conf import CONF

PROG = "service-host-manage"


def _print(data: Any, headers: list[str], rows: list[list[Any]]) -> None:
    if CONF.command.format == "json":
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        print(table(headers, rows))


def cmd_plugins() -> int:
    """List every installed plugin, per namespace, and whether it loads."""
    if CONF.command.action == "check":
        return plugin_check.run(CONF)
    found = [p for namespace in plugins.NAMESPACES for p in plugins.discover(namespace)]
    data = [
        {
            "namespace": p.entry_point.namespace,
            "name": p.entry_point.name,
            "target": p.entry_point.target,
            "distribution": p.entry_point.dist,
            "version": p.entry_point.version,
            "loads": p.ok,
            "error": p.error,
        }
        for p in found
    ]
    rows = [
        [d["namespace"], d["name"], d["target"], d["distribution"], d["version"],
         "ok" if d["loads"] else f"ERROR: {d['error']}"]
        for d in data
    ]
    _print(data, ["namespace", "name", "target", "distribution", "version", "status"], rows)
    return 0


def cmd_services() -> int:
    """Show the workers of the service group with their state."""
    members = servicegroup.list_members(
        CONF, topic=CONF.command.only_topic, host=CONF.command.only_host
    )
    rows = [
        [m.topic, m.host, m.worker_id, m.pid, m.state, f"{m.age:.1f}s", m.report_count,
         m.restarts, m.error or ""]
        for m in members
    ]
    _print(
        [m.as_dict() for m in members],
        ["topic", "host", "worker", "pid", "state", "last report", "reports", "restarts", "error"],
        rows,
    )
    return 0


def _parse_param(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise cfg.Error(f"Argument '{text}' is not of the form key=value.")
    try:
        return key, json.loads(raw)
    except ValueError:
        return key, raw


def cmd_call() -> int:
    """Call (or cast) a method on a topic and print the result as JSON."""
    command = CONF.command
    kwargs = dict(_parse_param(p) for p in command.params)
    client = rpc.Client(
        CONF,
        command.topic,
        server=command.server,
        fanout=command.fanout,
        version=command.version,
        timeout=command.timeout,
    )
    where = f"topic '{command.topic}'" + (f" on server '{command.server}'" if command.server else "")
    try:
        if command.cast or command.fanout:
            client.cast(None, command.method, **kwargs)
            print(json.dumps({"sent": True}))
        else:
            print(json.dumps(client.call(None, command.method, **kwargs), indent=2, default=str))
    except oslo_messaging.MessagingTimeout:
        sys.stderr.write(
            f"{PROG}: error: no answer from {where} within {command.timeout or CONF.rpc_response_timeout:g} s."
            " Is a worker of that topic running? See 'service-host-manage services'.\n"
        )
        return 1
    except oslo_messaging.RemoteError as exc:
        sys.stderr.write(f"{PROG}: error: {command.method} on {where} raised {exc.exc_type}: {exc.value}\n")
        return 1
    except oslo_messaging.MessageDeliveryFailure as exc:
        sys.stderr.write(
            f"{PROG}: error: cannot reach the message broker at "
            f"{rpc.mask_url(CONF.transport_url)}: {exc}\n"
        )
        return 1
    finally:
        rpc.cleanup()
    return 0


def _add_parsers(subparsers: Any) -> None:
    parser = subparsers.add_parser("plugins", help="list the installed plugins, or check them")
    parser.add_argument("action", nargs="?", choices=["list", "check"], default="list")
    parser.add_argument("--format", choices=["table", "json"], default="table")
    parser.set_defaults(func=cmd_plugins)

    parser = subparsers.add_parser("services", help="show the workers of the service group")
    parser.add_argument("--topic", dest="only_topic", help="only this topic")
    parser.add_argument("--host", dest="only_host", help="only this host")
    parser.add_argument("--format", choices=["table", "json"], default="table")
    parser.set_defaults(func=cmd_services)

    parser = subparsers.add_parser("call", help="call or cast a method of a manager over RPC")
    parser.add_argument("topic")
    parser.add_argument("method")
    parser.add_argument("params", nargs="*", metavar="key=value",
                        help="keyword arguments; values are JSON, or else strings")
    parser.add_argument("--server", dest="server", help="only the workers of this host (topic.host)")
    parser.add_argument("--cast", action="store_true", help="do not wait for an answer")
    parser.add_argument("--fanout", action="store_true", help="cast to every worker of the topic")
    parser.add_argument("--timeout", type=float, help="seconds to wait for the answer")
    parser.add_argument("--version", help="RPC API version the call needs")
    parser.set_defaults(func=cmd_call)


_command_opt = cfg.SubCommandOpt("command", title="Commands", handler=_add_parsers)


def main(argv: list[str] | None = None) -> None:
    with clean_errors(PROG):
        CONF.register_cli_opt(_command_opt)
        parse_config(CONF, sys.argv[1:] if argv is None else argv, PROG)
        sys.exit(CONF.command.func())


if __name__ == "__main__":
    main()
