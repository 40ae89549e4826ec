"""Configuration: the options of service-host, declared one module per group.

``CONF`` is the process-wide :class:`oslo_config.cfg.ConfigOpts`, as in every
oslo-based service. Code that takes a ``conf`` argument works on any
``ConfigOpts`` that :func:`register_opts` has been applied to.
"""

from cotyledon import oslo_config_glue
from oslo_config import cfg
from oslo_messaging import opts as messaging_opts
from oslo_messaging._metrics import client as _messaging_metrics
from oslo_messaging._tracing import client as _messaging_tracing

from service_host.conf import api
from service_host.conf import coordination
from service_host.conf import default
from service_host.conf import topics

CONF = cfg.CONF


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register every static option of the host on ``conf`` (idempotent).

    oslo.messaging's options are included: it registers some of them (tracing,
    metrics) on the global ``cfg.CONF`` only, which breaks a transport built
    on a private ``ConfigOpts``.
    """
    default.register_opts(conf)
    coordination.register_opts(conf)
    api.register_opts(conf)
    oslo_config_glue.register_opts(conf)
    for group, opts in messaging_opts.list_opts():
        conf.register_opts(opts, group=group)
    # Not in oslo.messaging's list_opts(), yet read by every transport.
    conf.register_opts(
        _messaging_tracing.oslo_messaging_tracing, group="oslo_messaging_tracing"
    )
    conf.register_opts(
        _messaging_metrics.oslo_messaging_metrics, group="oslo_messaging_metrics"
    )


def mutate(conf: cfg.ConfigOpts) -> None:
    """Re-read the config files and apply the new values of the mutable options.

    What SIGHUP does in every process. oslo.config's ``mutate_config_files()``
    empties its cache of option values before it re-reads the files: a thread
    that reads an option meanwhile (an RPC call, a request) caches the old
    value, and keeps it until the next reload. A second pass finds the same
    files, empties the cache again, and can only cache the new values.
    """
    conf.mutate_config_files()
    conf.mutate_config_files()


register_topic_opts = topics.register_topic_opts
register_api_opts = api.register_api_opts

__all__ = ["CONF", "mutate", "register_opts", "register_topic_opts", "register_api_opts"]
