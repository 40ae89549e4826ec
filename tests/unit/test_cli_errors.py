"""Bad input gives one clear paragraph on stderr and a non-zero exit, never a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def run(tmp_path, config: str | None, *args: str, prog: str = "service-host"):
    argv = [str(BIN / prog)]
    if config is not None:
        path = tmp_path / "service-host.conf"
        path.write_text(config)
        argv += ["--config-file", str(path)]
    result = subprocess.run([*argv, *args], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    # The error and nothing else: no log line of a library before it.
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and " error: " in lines[0], result.stderr
    assert result.stdout == "", result.stdout
    return lines[0]


def test_missing_config_file(tmp_path):
    message = run(tmp_path, None, "--config-file", str(tmp_path / "nope.conf"))
    assert "nope.conf" in message


def test_nothing_enabled(tmp_path):
    message = run(tmp_path, "[DEFAULT]\nenabled_services =\nenabled_apis =\n")
    assert "Nothing to run" in message and "enabled_services" in message


def test_unknown_topic(tmp_path):
    message = run(tmp_path, "[DEFAULT]\nenabled_services = compute\nenabled_apis =\n")
    assert "'compute'" in message and "service_host.managers" in message


def test_manager_that_is_not_a_manager(tmp_path):
    message = run(
        tmp_path,
        "[DEFAULT]\nenabled_services = example\nenabled_apis =\n"
        "example_manager = collections.OrderedDict\n",
    )
    assert "collections.OrderedDict" in message and "not a subclass" in message


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("report_interval = often", "report_interval"),
        ("example_workers = 0", "example_workers"),
        ("periodic_enable = maybe", "periodic_enable"),
    ],
)
def test_bad_option_value(tmp_path, line, name):
    message = run(tmp_path, f"[DEFAULT]\nenabled_services = example\nenabled_apis =\n{line}\n")
    assert name in message


def test_unreachable_broker_is_reported_with_the_password_masked(tmp_path):
    message = run(
        tmp_path,
        "[DEFAULT]\nenabled_services = example\nenabled_apis =\nbroker_check_timeout = 2\n"
        "transport_url = rabbit://guest:hunter2@127.0.0.1:1/\n",
    )
    assert "guest:****@127.0.0.1:1" in message and "hunter2" not in message


def test_manage_call_with_a_bad_argument(tmp_path):
    message = run(tmp_path, "[DEFAULT]\ntransport_url = fake://\n", "call", "example", "echo", "oops",
                  prog="service-host-manage")
    assert "key=value" in message


def test_coordination_backend_without_a_driver(tmp_path):
    message = run(
        tmp_path,
        "[DEFAULT]\nenabled_services = example\nenabled_apis =\n"
        "[coordination]\nbackend_url = nosuch://somewhere\n",
    )
    assert "nosuch://somewhere" in message and "backend_url" in message


def test_manage_services_with_a_backend_it_cannot_use(tmp_path):
    # Without the redis client library, or with it and nothing on port 1: one clear error.
    message = run(
        tmp_path,
        "[DEFAULT]\ntransport_url = fake://\n[coordination]\nbackend_url = redis://127.0.0.1:1\n",
        "services",
        prog="service-host-manage",
    )
    assert "redis://127.0.0.1:1" in message and "backend_url" in message
