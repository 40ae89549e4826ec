"""``[coordination]``: where the service group lives (a tooz backend)."""

from oslo_config import cfg

coordination_group = cfg.OptGroup(
    "coordination", title="Service group coordination (tooz)"
)

coordination_opts = [
    cfg.StrOpt(
        "backend_url",
        default="file://$state_path/coordination?timeout=3600",
        help="tooz URL of the coordination backend that holds the service "
        "group. The default, a directory under state_path, serves one "
        "machine; use redis://, zookeeper:// or etcd3+http:// when the "
        "service group spans several hosts (their client libraries come with "
        "service-host's extras: service-host[redis], [zookeeper], [etcd]). "
        "A worker that stops reporting "
        "is shown as down after service_down_time, until the backend's own "
        "membership timeout (the URL's timeout or membership_timeout "
        "parameter) drops it from the group.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(coordination_group)
    conf.register_opts(coordination_opts, group=coordination_group)


def list_opts() -> list:
    return [(coordination_group, coordination_opts)]
