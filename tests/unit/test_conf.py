import socket

from oslo_config import cfg

from service_host import launcher
from service_host.conf import opts


def test_defaults(conf):
    assert conf.host == socket.gethostname()
    assert conf.enabled_services == []
    assert conf.enabled_apis == ["host"]
    assert conf.report_interval == 10
    assert conf.periodic_interval == 60
    assert conf.periodic_fuzzy_delay == 60
    assert conf.periodic_enable is True
    assert conf.service_down_time == 60
    assert conf.graceful_shutdown_timeout == 60
    assert conf.coordination.backend_url == f"file://{conf.state_path}/coordination?timeout=3600"


def test_topic_options_are_registered_for_enabled_and_discovered_topics(conf):
    conf.set_override("enabled_services", ["compute"])
    launcher.register_plugin_opts(conf)
    assert conf.compute_manager == "compute"
    assert conf.compute_workers == 1
    assert conf.example_manager == "example"  # discovered: the example plugin is installed


def test_every_option_has_help():
    for _group, group_opts in opts.list_opts():
        for opt in group_opts:
            assert opt.help, f"option {opt.name} has no help text"


def test_workers_below_one_is_rejected(conf, tmp_path):
    path = tmp_path / "bad.conf"
    path.write_text("[DEFAULT]\nenabled_services = example\nexample_workers = 0\n")
    conf(["--config-file", str(path)], project="service-host-unit-tests")
    launcher.register_plugin_opts(conf)
    try:
        launcher.validate(conf)
    except cfg.ConfigFileValueError as exc:
        assert "example_workers" in str(exc)
    else:
        raise AssertionError("example_workers = 0 was accepted")
