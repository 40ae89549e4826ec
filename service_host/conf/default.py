"""``[DEFAULT]`` options shared by every manager worker."""

import os
import socket

from oslo_config import cfg

host_opts = [
    cfg.HostDomainOpt(
        "host",
        default=socket.gethostname(),
        sample_default="<current_hostname>",
        help="Name of this host. Used as the RPC server name (``topic.host``) "
        "and in the service group. Must be unique among the hosts sharing "
        "a message bus.",
    ),
    cfg.StrOpt(
        "state_path",
        default=os.path.join(os.getcwd(), ".state"),
        sample_default="<current working directory>/.state",
        help="Directory where service-host keeps its state (the default "
        "file:// coordination backend lives below it).",
    ),
]

service_opts = [
    cfg.ListOpt(
        "enabled_services",
        default=[],
        help="Topics of the manager plugins to run. Each topic names an entry "
        "point in the ``service_host.managers`` namespace (or a topic whose "
        "``<topic>_manager`` option names a class). For every topic T the "
        "options ``T_manager`` and ``T_workers`` are available.",
    ),
    cfg.IntOpt(
        "report_interval",
        default=10,
        min=1,
        help="Seconds between two reports of a worker's state to the "
        "service group.",
    ),
    cfg.IntOpt(
        "periodic_interval",
        default=60,
        min=0,
        help="Default spacing, in seconds, of periodic tasks declared "
        "without one. 0 disables those tasks.",
    ),
    cfg.IntOpt(
        "periodic_fuzzy_delay",
        default=60,
        min=0,
        mutable=True,
        help="Upper bound, in seconds, of the random delay before the first "
        "run of each periodic task, so that many workers started together "
        "do not all run their tasks at once. 0 disables the delay.",
    ),
    cfg.BoolOpt(
        "periodic_enable",
        default=True,
        help="Run the periodic tasks of the managers.",
    ),
    cfg.IntOpt(
        "service_down_time",
        default=60,
        min=1,
        mutable=True,
        help="Seconds without a report after which a worker is shown as "
        "down. Keep it well above report_interval.",
    ),
    cfg.IntOpt(
        "rpc_client_retry",
        default=2,
        min=0,
        help="How many times the RPC client helper retries connecting to the "
        "broker before a call or cast fails. oslo.messaging's own default "
        "retries forever, which turns a broker outage into a hang.",
    ),
    cfg.IntOpt(
        "broker_check_timeout",
        default=10,
        min=1,
        help="Seconds the master waits for the message broker at start "
        "before it gives up with an error.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(host_opts)
    conf.register_opts(service_opts)


def list_opts() -> list:
    return [(None, host_opts + service_opts)]
