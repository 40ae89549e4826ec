import pytest
from oslo_config import cfg

from service_host.conf import register_opts


@pytest.fixture
def conf():
    """A private ConfigOpts with the host's options, parsed from no file."""
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf([], project="service-host-unit-tests")
    yield conf
    conf.reset()
