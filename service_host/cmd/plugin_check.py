"""``service-host-manage plugins check`` (placeholder: the plugin-authoring issue fills it)."""

from oslo_config import cfg


def run(conf: cfg.ConfigOpts) -> int:
    raise NotImplementedError
