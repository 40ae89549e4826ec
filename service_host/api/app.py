"""The built-in ``host`` API: ``make_app(conf)``, its ``service_host.apis`` entry point."""

import pecan
from oslo_config import cfg

from service_host.api.controllers import RootController


def make_app(conf: cfg.ConfigOpts) -> pecan.Pecan:
    """The pecan application of the ``host`` API (the host adds the middleware)."""
    return pecan.make_app(
        RootController(conf),
        guess_content_type_from_ext=False,
        force_canonical=False,
    )
