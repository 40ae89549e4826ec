from service_host_example.manager import ExampleManager

from service_host import plugins


def test_entry_points_name_the_distribution():
    [ep] = [e for e in plugins.entry_points(plugins.MANAGERS) if e.name == "example"]
    assert ep.target == "service_host_example.manager:ExampleManager"
    assert ep.dist == "service-host-example"
    assert ep.version == "0.1.0"


def test_load_manager_by_entry_point_name():
    assert plugins.load_manager("example", "example") is ExampleManager


def test_discover_reports_each_plugin():
    found = {p.entry_point.name: p for p in plugins.discover(plugins.MANAGERS)}
    assert found["example"].ok
    assert found["example"].obj is ExampleManager


def test_unknown_plugin_error_lists_the_installed_ones():
    try:
        plugins.load_manager("compute", "compute")
    except plugins.PluginError as exc:
        assert "installed: " in str(exc) and "example" in str(exc)
    else:
        raise AssertionError("no error for an unknown plugin")
