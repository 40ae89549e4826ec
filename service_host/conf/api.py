"""API options: ``enabled_apis``, the per-API listen options and ``[api]``."""

from collections.abc import Iterable

from oslo_config import cfg
from oslo_middleware.healthcheck import opts as healthcheck_opts

enabled_apis_opts = [
    cfg.ListOpt(
        "enabled_apis",
        default=["host"],
        help="Names of the WSGI APIs to serve. Each names an entry point in "
        "the service_host.apis namespace; ``host`` is the built-in API. For "
        "every API N the options ``N_listen``, ``N_listen_port`` and "
        "``N_workers`` are available.",
    ),
]

api_group = cfg.OptGroup("api", title="Options shared by every API")

api_opts = [
    cfg.StrOpt(
        "auth_strategy",
        default="noauth",
        choices=[
            ("noauth", "No authentication: every request is let through."),
            ("http_basic", "HTTP basic authentication against the htpasswd "
             "file named by http_basic_auth_user_file."),
        ],
        help="How API requests are authenticated. /healthcheck never needs "
        "credentials.",
    ),
    cfg.StrOpt(
        "http_basic_auth_user_file",
        default="/etc/service-host/htpasswd",
        help="htpasswd file of users and bcrypt password hashes, read when "
        "auth_strategy is http_basic (make it with ``htpasswd -cBb FILE "
        "USER PASSWORD``). A missing or unreadable file stops the start.",
    ),
    cfg.IntOpt(
        "threads",
        default=16,
        min=1,
        help="Threads of each API worker process: how many requests one "
        "worker serves at once. Requests beyond that wait for a thread.",
    ),
]

# Ports of the APIs this project ships; others default to 0 (pick one).
_DEFAULT_PORTS = {"host": 8780, "example_api": 8781}


def api_opts_for(name: str) -> list[cfg.Opt]:
    return [
        cfg.HostAddressOpt(
            f"{name}_listen",
            default="127.0.0.1",
            help=f"Address the '{name}' API listens on. Nothing listens on "
            "every interface unless configured so (0.0.0.0 or ::).",
        ),
        cfg.PortOpt(
            f"{name}_listen_port",
            default=_DEFAULT_PORTS.get(name, 0),
            help=f"TCP port of the '{name}' API (0: any free port).",
        ),
        cfg.IntOpt(
            f"{name}_workers",
            default=1,
            min=1,
            help=f"Number of worker processes serving the '{name}' API.",
        ),
    ]


# oslo.middleware's /healthcheck reads [healthcheck] (registered here so the
# sample config and a check of the config at start show them).
healthcheck_group = "healthcheck"


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(enabled_apis_opts)
    conf.register_group(api_group)
    conf.register_opts(api_opts, group=api_group)
    conf.register_opts(healthcheck_opts.HEALTHCHECK_OPTS, group=healthcheck_group)


def register_api_opts(conf: cfg.ConfigOpts, names: Iterable[str]) -> None:
    for name in names:
        conf.register_opts(api_opts_for(name))


def list_opts() -> list:
    return [
        (None, enabled_apis_opts + api_opts_for("host")),
        (api_group, api_opts),
        (healthcheck_group, healthcheck_opts.HEALTHCHECK_OPTS),
    ]
