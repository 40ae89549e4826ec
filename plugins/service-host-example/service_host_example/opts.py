"""Options of the example plugin, in their own ``[example]`` group."""

from oslo_config import cfg

example_group = cfg.OptGroup("example", title="Example manager plugin")

example_opts = [
    cfg.StrOpt(
        "greeting",
        default="hello",
        mutable=True,
        help="Word the echo method puts before the message it returns. "
        "Changed on SIGHUP.",
    ),
    cfg.StrOpt(
        "record_dir",
        help="When set, every worker appends what it receives through "
        "``record`` to a file named after its pid in this directory.",
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(example_group)
    conf.register_opts(example_opts, group=example_group)


def list_opts() -> list:
    return [(example_group, example_opts)]
