import sys

import pytest
from service_host_example.manager import ExampleManager

from service_host import plugins
from service_host.conf import register_topic_opts
from service_host.service import Service
from tests.unit.fixtures import RecordingManager


@pytest.fixture
def argv0(monkeypatch):
    def set_argv0(path):
        monkeypatch.setattr(sys, "argv", [path, "--config-file", "x.conf"])

    return set_argv0


def test_defaults_come_from_conf_and_argv(conf, argv0):
    argv0("/usr/local/bin/service-host-example")
    conf.set_override("host", "node-1")
    conf.set_override("report_interval", 7)
    conf.set_override("periodic_interval", 30)
    service = Service.create(conf=conf)
    assert service.host == "node-1"
    assert service.binary == "service-host-example"
    assert service.topic == "example"
    assert service.manager_class is ExampleManager
    assert service.report_interval == 7
    assert service.periodic_interval == 30


def test_topic_of_a_binary_without_the_prefix_is_the_binary(conf, argv0):
    argv0("/opt/bin/example")
    assert Service.create(conf=conf).topic == "example"


def test_explicit_zero_is_kept(conf):
    service = Service.create(
        host="h", binary="b", topic="example", report_interval=0, periodic_interval=0, conf=conf
    )
    assert service.report_interval == 0
    assert service.periodic_interval == 0


def test_manager_option_takes_an_entry_point_name(conf):
    register_topic_opts(conf, ["other"])
    conf.set_override("other_manager", "example")
    assert Service.create(topic="other", binary="b", conf=conf).manager_class is ExampleManager


@pytest.mark.parametrize(
    "path", ["tests.unit.fixtures.RecordingManager", "tests.unit.fixtures:RecordingManager"]
)
def test_manager_option_takes_a_class_path(conf, path):
    register_topic_opts(conf, ["rec"])
    conf.set_override("rec_manager", path)
    assert Service.create(topic="rec", binary="b", conf=conf).manager_class is RecordingManager


def test_manager_class_is_accepted_as_is(conf):
    assert Service.create(topic="t", binary="b", manager=RecordingManager, conf=conf).manager_class is RecordingManager


def test_unknown_topic_names_the_namespace_and_what_is_installed(conf):
    with pytest.raises(plugins.PluginError) as err:
        Service.create(topic="nosuch", binary="b", conf=conf)
    message = str(err.value)
    assert "'nosuch'" in message
    assert "service_host.managers" in message
    assert "example" in message  # lists what is installed


def test_not_a_manager_subclass_is_refused(conf):
    with pytest.raises(plugins.PluginError, match="not a subclass of service_host.manager.Manager"):
        Service.create(topic="t", binary="b", manager="tests.unit.fixtures.NotAManager", conf=conf)


def test_class_path_that_fails_to_import_names_it_and_the_error(conf):
    with pytest.raises(plugins.PluginError) as err:
        Service.create(topic="t", binary="b", manager="tests.unit.broken_plugin_module.Thing", conf=conf)
    assert "tests.unit.broken_plugin_module.Thing" in str(err.value)
    assert "missing_dependency" in str(err.value)
