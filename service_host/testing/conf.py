"""A private configuration for one test."""

import socket
import uuid
from pathlib import Path
from typing import Any

from oslo_config import cfg

from service_host import conf as host_conf

# What a test wants from the host's defaults: the in-process transport, a
# fixed host name, every periodic task due at once, and no 60 s waits.
_TEST_DEFAULTS: dict[str, Any] = {
    "transport_url": "fake://",
    "host": "test-host",
    "periodic_fuzzy_delay": 0,
    "rpc_response_timeout": 10,
}


def make_conf(**overrides: Any) -> cfg.ConfigOpts:
    """A new ``ConfigOpts`` with the host's options, for one test.

    Nothing is read from disk or the command line. The test defaults are
    ``transport_url = fake://`` (in process), ``host = test-host``,
    ``periodic_fuzzy_delay = 0`` and ``rpc_response_timeout = 10``; each
    configuration gets an exchange of its own, so two tests (or two
    configurations in one test) never see each other's messages.
    ``overrides`` are ``[DEFAULT]`` options set with ``set_override``; set
    the others, and options of a plugin once registered, the same way::

        conf.set_override("greeting", "bonjour", group="example")

    The global ``cfg.CONF`` is left alone.
    """
    conf = cfg.ConfigOpts()
    host_conf.register_opts(conf)
    conf([], project="service-host", default_config_files=[], default_config_dirs=[])
    for name, value in _TEST_DEFAULTS.items():
        conf.set_default(name, value)
    conf.set_default("control_exchange", f"service-host-test-{uuid.uuid4().hex[:12]}")
    for name, value in overrides.items():
        conf.set_override(name, value)
    return conf


def write_config(path: Path, sections: dict[str, dict[str, Any]]) -> Path:
    """Write an oslo.config file: ``{"DEFAULT": {"enabled_services": ["example"]}, ...}``.

    Lists become comma-separated values. For tests that start ``service-host``
    itself, as a subprocess, with ``--config-file path``.
    """
    lines = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        for key, value in values.items():
            if isinstance(value, (list, tuple)):
                value = ",".join(str(v) for v in value)
            lines.append(f"{key} = {value}")
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (bound to port 0, then closed).

    For an API's ``<name>_listen_port`` in a test that starts ``service-host``.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
