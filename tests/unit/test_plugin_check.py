"""``service-host-manage plugins check`` on made-up installed distributions.

Each test writes distributions (a ``*.dist-info`` with ``entry_points.txt``,
and their modules) into a directory put on ``sys.path``: importlib.metadata
and stevedore find them as if pip had installed them. The plugin namespaces
are replaced by test ones, so only those distributions are checked.
"""

import json
import sys
import textwrap

import pytest
import stevedore
from oslo_config import cfg

from service_host import plugins
from service_host.cmd import manage
from service_host.cmd import plugin_check
from service_host.conf import register_opts

MANAGERS = "service_host_check_test.managers"
APIS = "service_host_check_test.apis"

GOOD_MANAGER = """
    import oslo_messaging
    from oslo_config import cfg

    from service_host.manager import Manager

    opts = [cfg.IntOpt("size", default=1, help="A size.")]


    class GoodManager(Manager):
        target = oslo_messaging.Target(version="1.0")


    class UntargetedManager(Manager):
        target = "1.0"


    def make_app(conf):
        return None


    def list_opts():
        return [(cfg.OptGroup("good"), opts)]
"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    """Factory: ``site(dist, entry_points, modules)`` 'installs' a distribution."""
    monkeypatch.setattr(plugins, "MANAGERS", MANAGERS)
    monkeypatch.setattr(plugins, "APIS", APIS)
    monkeypatch.setattr(plugins, "NAMESPACES", (MANAGERS, APIS))
    monkeypatch.syspath_prepend(str(tmp_path))
    # stevedore keeps the entry points of each namespace for the life of the process.
    monkeypatch.setattr(stevedore.ExtensionManager, "ENTRY_POINT_CACHE", {})
    plugins.refresh()
    created_modules = []

    def install(dist: str, entry_points: dict[str, dict[str, str]], modules=None) -> None:
        info = tmp_path / f"{dist.replace('-', '_')}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(
            "".join(
                f"[{group}]\n" + "".join(f"{n} = {v}\n" for n, v in eps.items())
                for group, eps in entry_points.items()
            )
        )
        for name, source in (modules or {}).items():
            (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
            created_modules.append(name)
        plugins.refresh()

    yield install
    for name in created_modules:
        sys.modules.pop(name, None)
    plugins.refresh()


def _conf(tmp_path, config: str = "") -> cfg.ConfigOpts:
    path = tmp_path / "service-host.conf"
    path.write_text(textwrap.dedent(config))
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf(["--config-file", str(path)], project="service-host-check-tests")
    return conf


def _check(tmp_path, capsys, config: str = "") -> tuple[int, dict[str, str], str]:
    status = plugin_check.run(_conf(tmp_path, config))
    out = capsys.readouterr().out
    rows = {}
    for line in out.splitlines():
        if line.startswith(("service_host_check_test.",)):
            namespace, name, _dist, _version, verdict = line.split(None, 4)
            rows[f"{namespace.rpartition('.')[2]}:{name}"] = verdict
    return status, rows, out


def test_healthy_plugins_are_ok(tmp_path, capsys, site):
    site(
        "good-plugin",
        {
            MANAGERS: {"good": "good_mod:GoodManager"},
            APIS: {"good-api": "good_mod:make_app"},
            "oslo.config.opts": {"good": "good_mod:list_opts"},
        },
        {"good_mod": GOOD_MANAGER},
    )
    status, rows, out = _check(tmp_path, capsys, "[good]\nsize = 3\n")
    assert rows == {"managers:good": "ok", "apis:good-api": "ok"}
    assert out.splitlines()[0].split() == ["namespace", "name", "distribution", "version", "status"]
    assert "All 2 plugins are ok." in out
    assert status == 0


def test_nothing_installed(tmp_path, capsys, site):
    status, rows, out = _check(tmp_path, capsys)
    assert (status, rows) == (0, {})
    assert "No plugin is installed." in out


def test_a_plugin_that_fails_to_import(tmp_path, capsys, site):
    site("sick-plugin", {MANAGERS: {"sick": "sick_mod:Manager"}},
         {"sick_mod": "raise ImportError(\"No module named 'absent_dependency'\")"})
    status, rows, out = _check(tmp_path, capsys)
    assert status == 1
    verdict = rows["managers:sick"]
    assert verdict.startswith("ERROR: 'sick_mod:Manager' cannot be imported: ImportError:")
    assert "absent_dependency" in verdict
    assert "pip uninstall sick-plugin" in verdict
    assert "1 of 1 plugins have errors." in out


def test_objects_of_the_wrong_kind(tmp_path, capsys, site):
    site(
        "wrong-plugin",
        {
            MANAGERS: {"not-manager": "wrong_mod:Thing", "untargeted": "good_mod:UntargetedManager"},
            APIS: {"not-callable": "wrong_mod:VALUE"},
        },
        {"wrong_mod": "class Thing:\n    pass\nVALUE = 42\n", "good_mod": GOOD_MANAGER},
    )
    status, rows, _ = _check(tmp_path, capsys)
    assert status == 1
    assert "not a subclass of service_host.manager.Manager" in rows["managers:not-manager"]
    assert "Point it at a Manager subclass" in rows["managers:not-manager"]
    assert "good_mod.UntargetedManager.target is '1.0'" in rows["managers:untargeted"]
    assert "oslo_messaging.Target(version='X.Y')" in rows["managers:untargeted"]
    assert "not callable" in rows["apis:not-callable"]


def test_options_that_clash_with_the_host(tmp_path, capsys, site):
    site(
        "clash-plugin",
        {MANAGERS: {"clash": "good_mod:GoodManager"}, "oslo.config.opts": {"clash": "clash_mod:list_opts"}},
        {
            "good_mod": GOOD_MANAGER,
            "clash_mod": """
                from oslo_config import cfg

                def list_opts():
                    return [(None, [cfg.IntOpt("host", help="Not the host's.")])]
            """,
        },
    )
    status, rows, _ = _check(tmp_path, capsys)
    assert status == 1
    verdict = rows["managers:clash"]
    assert "entry point 'clash = clash_mod:list_opts' in oslo.config.opts" in verdict
    assert "DuplicateOptError" in verdict and "group of its own" in verdict


def test_options_that_cannot_be_listed(tmp_path, capsys, site):
    site(
        "unlisted-plugin",
        {MANAGERS: {"unlisted": "good_mod:GoodManager"},
         "oslo.config.opts": {"unlisted": "good_mod:no_such_function"}},
        {"good_mod": GOOD_MANAGER},
    )
    status, rows, _ = _check(tmp_path, capsys)
    assert status == 1
    assert "cannot be listed: AttributeError" in rows["managers:unlisted"]
    assert "oslo-config-generator fails on it too" in rows["managers:unlisted"]


def test_an_invalid_option_value_in_the_config_file(tmp_path, capsys, site):
    site(
        "good-plugin",
        {MANAGERS: {"good": "good_mod:GoodManager"}, "oslo.config.opts": {"good": "good_mod:list_opts"}},
        {"good_mod": GOOD_MANAGER},
    )
    status, rows, _ = _check(tmp_path, capsys, "[good]\nsize = many\n")
    assert status == 1
    assert rows["managers:good"].startswith("ERROR: option [good] size:")
    assert "Fix its value in the config file" in rows["managers:good"]


def test_a_name_claimed_by_two_distributions(tmp_path, capsys, site):
    site("first-plugin", {MANAGERS: {"twin": "good_mod:GoodManager"}}, {"good_mod": GOOD_MANAGER})
    site("second-plugin", {MANAGERS: {"twin": "other_mod:GoodManager"}}, {"other_mod": GOOD_MANAGER})
    status, _, out = _check(tmp_path, capsys)
    assert status == 1
    warning = next(line for line in out.splitlines() if line.startswith("WARNING:"))
    assert "the manager name 'twin' is claimed by first-plugin 1.0" in warning
    assert "second-plugin 1.0" in warning and "Uninstall all but one" in warning


def test_json_output(tmp_path, capsys, site):
    site("sick-plugin", {MANAGERS: {"sick": "sick_mod:Manager"}}, {"sick_mod": "import absent_module\n"})
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf.register_cli_opt(cfg.SubCommandOpt("command", handler=manage._add_parsers))
    conf(["plugins", "check", "--format", "json"], default_config_files=[])
    assert plugin_check.run(conf) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["conflicts"] == []
    [entry] = report["plugins"]
    assert entry["distribution"] == "sick-plugin" and entry["ok"] is False
    assert "ModuleNotFoundError" in entry["problems"][0]
