"""Per-topic options: ``<topic>_manager`` and ``<topic>_workers``.

They are registered at start for every topic that is enabled or that an
installed plugin provides, so that a config file may set them for any of those.
"""

from collections.abc import Iterable

from oslo_config import cfg


def topic_opts(topic: str) -> list[cfg.Opt]:
    return [
        cfg.StrOpt(
            f"{topic}_manager",
            default=topic,
            help=f"Manager of the '{topic}' topic: the name of an entry point "
            "in the service_host.managers namespace, or a class path "
            "(package.module.Class or package.module:Class).",
        ),
        cfg.IntOpt(
            f"{topic}_workers",
            default=1,
            min=1,
            mutable=True,
            help=f"Number of worker processes of the '{topic}' topic. "
            "Changed on SIGHUP without a restart.",
        ),
    ]


def register_topic_opts(conf: cfg.ConfigOpts, topics: Iterable[str]) -> None:
    for topic in topics:
        conf.register_opts(topic_opts(topic))
