"""Plugins are installed with pip, and that is all it takes.

How the new virtualenv is made, and why it is honest and fast:

- ``python -m venv --without-pip``: a Python environment with nothing in it;
- the third-party dependencies (oslo.*, cotyledon, stevedore, pip itself, ...)
  are borrowed from the environment running the tests: a directory of
  symlinks to its site-packages entries is put on the new environment's
  path by a ``.pth`` file. Every distribution that is service-host itself
  or declares a service-host plugin is left out, with its editable-install
  hooks, so the new environment starts with no service-host and no plugin;
- ``pip install`` then builds and installs, for real and not editable, a copy
  of this repository's service-host and of each distribution under
  ``plugins/`` (and the broken test distribution): pip resolves each plugin's
  ``install_requires = service-host`` against what is installed, writes the
  entry points, and creates the console scripts that the tests run.

Downloading every dependency from the package index instead would take
minutes and prove nothing more about plugins. Only the build backend
(setuptools) is fetched, by pip's build isolation, as for any user.
"""

import configparser
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.functional import harness

REPO = harness.REPO
PLUGINS = sorted(p for p in (REPO / "plugins").iterdir() if (p / "setup.cfg").exists())
BROKEN = REPO / "tests" / "plugin_dists" / "service-host-broken-plugin"
PLUGIN_NAMESPACES = ("service_host.managers", "service_host.apis")
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", ".state", ".ruff_cache", ".ci", "build", "dist", "*.egg-info",
    "__pycache__", "plugins", "tests", "benchmarks",
)


def _is_ours(dist: importlib.metadata.Distribution) -> bool:
    if dist.metadata["Name"].lower().replace("_", "-") == "service-host":
        return True
    return any(ep.group in PLUGIN_NAMESPACES for ep in dist.entry_points)


def _borrowed_site_packages(farm: Path) -> Path:
    """Symlinks to the test environment's site-packages, minus service-host and plugins."""
    site = Path(sysconfig.get_paths()["purelib"])
    left_out = {"__pycache__"}
    for dist in importlib.metadata.distributions(path=[str(site)]):
        if _is_ours(dist):
            left_out.update(Path(str(f)).parts[0] for f in dist.files or [])
    farm.mkdir()
    for entry in site.iterdir():
        if entry.name in left_out or entry.name.startswith("__editable__") or entry.suffix == ".pth":
            continue
        (farm / entry.name).symlink_to(entry)
    return farm


class FreshEnv:
    """A virtualenv made by the test, and the commands installed in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.venv = root / "venv"
        self.bin = self.venv / "bin"
        self.src = root / "src"
        self.config_file = root / "empty.conf"
        self.config_file.write_text("[DEFAULT]\n")
        farm = _borrowed_site_packages(root / "borrowed")
        base_python = getattr(sys, "_base_executable", sys.executable)
        self._run([base_python, "-m", "venv", "--without-pip", str(self.venv)])
        purelib = self._run(
            [str(self.bin / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
        Path(purelib, "borrowed-dependencies.pth").write_text(f"{farm}\n")

    def _run(self, args: list[str], timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
        env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
        env.pop("PYTHONPATH", None)
        env.pop("VIRTUAL_ENV", None)
        out = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env,
                             cwd=self.root, **kwargs)
        return out

    def pip_install(self, source: Path, ignore=None) -> None:
        """Copy ``source`` (pip builds in the tree) and ``pip install`` the copy."""
        copy = self.src / source.name
        if not copy.exists():
            shutil.copytree(source, copy, ignore=ignore or shutil.ignore_patterns(
                "__pycache__", "*.egg-info", "build", "dist"))
        out = self._run([str(self.bin / "python"), "-m", "pip", "install", "-q", str(copy)])
        assert out.returncode == 0, f"pip install {source} failed:\n{out.stdout}\n{out.stderr}"

    def pip_uninstall(self, dist: str) -> None:
        out = self._run([str(self.bin / "python"), "-m", "pip", "uninstall", "-y", "-q", dist])
        assert out.returncode == 0, out.stdout + out.stderr

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return self._run(
            [str(self.bin / "service-host-manage"), "--config-file", str(self.config_file), *args],
            timeout=120,
        )

    def plugins(self) -> list[dict]:
        out = self.manage("plugins", "--format", "json")
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)


def _declared_entry_points(dist_dir: Path) -> set[tuple[str, str, str]]:
    parser = configparser.ConfigParser()
    parser.read(dist_dir / "setup.cfg")
    declared = set()
    for group, lines in parser["options.entry_points"].items():
        if group not in PLUGIN_NAMESPACES:
            continue
        for line in filter(None, (line.strip() for line in lines.splitlines())):
            name, _, target = (part.strip() for part in line.partition("="))
            declared.add((group, name, target))
    return declared


@pytest.fixture(scope="session")
def fresh_env(tmp_path_factory) -> FreshEnv:
    """A new virtualenv with service-host and every plugin under plugins/ installed by pip."""
    env = FreshEnv(tmp_path_factory.mktemp("fresh-env"))
    env.pip_install(REPO, ignore=COPY_IGNORE)
    bare = env.plugins()
    assert [p for p in bare if p["distribution"] != "service-host"] == [], bare
    for plugin in PLUGINS:
        env.pip_install(plugin)
    return env


def test_installed_plugins_are_listed_and_pass_the_check(fresh_env):
    listed = {(p["namespace"], p["name"], p["target"]): p for p in fresh_env.plugins()}
    for plugin in PLUGINS:
        for key in _declared_entry_points(plugin):
            assert key in listed, f"{key} of {plugin.name} is not listed: {sorted(listed)}"
            assert listed[key]["loads"], listed[key]["error"]
    out = fresh_env.manage("plugins", "check")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "ERROR" not in out.stdout
    for plugin in PLUGINS:
        assert plugin.name in out.stdout


@pytest.fixture
def broken_installed(fresh_env):
    fresh_env.pip_install(BROKEN)
    yield fresh_env
    fresh_env.pip_uninstall("service-host-broken-plugin")


def test_a_broken_plugin_fails_the_check_but_not_the_host(
    broken_installed, start_host, tmp_path, monkeypatch
):
    env = broken_installed
    marker = tmp_path / "broken-imported"
    monkeypatch.setenv("SERVICE_HOST_BROKEN_MARKER", str(marker))
    out = env.manage("plugins", "check")
    assert marker.exists()  # the check imports every plugin; so the marker works
    marker.unlink()
    assert out.returncode == 1, out.stdout + out.stderr
    errors = [line for line in out.stdout.splitlines() if "ERROR" in line]
    assert {line.split()[1] for line in errors} == {"broken-import", "broken-class", "broken-api"}
    assert all("service-host-broken-plugin" in line for line in errors)
    assert "No module named 'service_host_broken_dependency'" in out.stdout
    assert "not a subclass of service_host.manager.Manager" in out.stdout
    assert "DuplicateOptError" in out.stdout
    healthy = [line for line in out.stdout.splitlines() if line.endswith("  ok")]
    assert any(" example " in line for line in healthy), out.stdout

    # Installed but not enabled: never imported, and the host starts.
    host = start_host({"DEFAULT": {"enabled_services": "example"}}, binary=str(env.bin / "service-host"))
    host.wait_workers_up("example", 1)
    assert host.client("example").call(None, "echo", message="hi") == "hello hi"
    assert host.stop() == 0
    assert not marker.exists(), marker.read_text()
    assert "broken" not in host.log().lower(), host.log()
