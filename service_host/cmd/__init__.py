"""Command-line entry points. Shared here: parsing the config, failing cleanly, tables."""

import contextlib
import re
import sys
import traceback
from collections.abc import Iterator
from typing import Any

import oslo_messaging
from oslo_config import cfg
from oslo_log import log

from service_host import plugins
from service_host import rpc
from service_host import servicegroup
from service_host.conf import register_opts
from service_host.launcher import StartupError
from service_host.version import version_string
from service_host.wsgi import APIStartError


def parse_config(conf: cfg.ConfigOpts, argv: list[str], prog: str) -> None:
    """Register the options, parse ``argv`` and the config files, set up logging."""
    register_opts(conf)
    log.register_options(conf)
    try:
        conf(argv, project="service-host", prog=prog, version=version_string())
    except UnicodeDecodeError as exc:
        # oslo.config reads config files as text and lets this out without the file name.
        raise cfg.ConfigFileParseError(_file_being_parsed(exc), f"it is not UTF-8 text ({exc})") from None
    log.setup(conf, "service-host")


def _file_being_parsed(exc: BaseException) -> str:
    """The config file oslo.config was reading when ``exc`` was raised."""
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        parser = frame.f_locals.get("self")
        if isinstance(parser, cfg.ConfigParser):
            return parser.filename
    return "a config file"


@contextlib.contextmanager
def clean_errors(prog: str) -> Iterator[None]:
    """Turn the errors a user can cause into one paragraph on stderr and exit 2."""
    try:
        yield
    except (
        cfg.Error,
        plugins.PluginError,
        rpc.BrokerUnreachable,
        oslo_messaging.InvalidTransportURL,
        servicegroup.BackendError,
        StartupError,
        APIStartError,
    ) as exc:
        sys.stderr.write(f"{prog}: error: {_one_paragraph(str(exc))}\n")
        sys.exit(2)


def _one_paragraph(message: str) -> str:
    """``message`` on one line, readable even when it quotes a huge bad value."""
    message = " ".join(message.split())
    # oslo.config says where a bad value comes from with a repr of its LocationInfo.
    message = re.sub(r"LocationInfo\(location=<[^>]*>, detail='([^']*)'\)", r"\1", message)
    return re.sub(r"\S{200,}", lambda m: f"{m[0][:100]}...({len(m[0])} characters)", message)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    """``rows`` under ``headers`` in left-aligned columns, with a rule below the headers."""
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
