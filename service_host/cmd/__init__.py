"""Command-line entry points. Shared here: parsing the config and failing cleanly."""

import contextlib
import sys
from collections.abc import Iterator

from oslo_config import cfg
from oslo_log import log

from service_host import plugins
from service_host import rpc
from service_host.conf import register_opts
from service_host.launcher import StartupError
from service_host.version import version_string
from service_host.wsgi import APIStartError


def parse_config(conf: cfg.ConfigOpts, argv: list[str], prog: str) -> None:
    """Register the options, parse ``argv`` and the config files, set up logging."""
    register_opts(conf)
    log.register_options(conf)
    conf(argv, project="service-host", prog=prog, version=version_string())
    log.setup(conf, "service-host")


@contextlib.contextmanager
def clean_errors(prog: str) -> Iterator[None]:
    """Turn the errors a user can cause into one paragraph on stderr and exit 2."""
    try:
        yield
    except (
        cfg.Error,
        plugins.PluginError,
        rpc.BrokerUnreachable,
        StartupError,
        APIStartError,
    ) as exc:
        message = " ".join(str(exc).split())
        sys.stderr.write(f"{prog}: error: {message}\n")
        sys.exit(2)
