"""``list_opts()`` for ``oslo-config-generator --namespace service_host``."""

import copy

from cotyledon import oslo_config_glue

from service_host.conf import api
from service_host.conf import coordination
from service_host.conf import default


def list_opts() -> list:
    """Every option of the host, grouped, as the sample-config generator wants."""
    groups: dict = {}
    for module_opts in (
        default.list_opts(),
        oslo_config_glue.list_opts(),
        api.list_opts(),
        coordination.list_opts(),
    ):
        for group, opts in module_opts:
            groups.setdefault(group, []).extend(copy.deepcopy(opts))
    return list(groups.items())
