"""The shipped sample config is what the generator writes today."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GENERATOR = Path(sys.executable).parent / "oslo-config-generator"


def test_sample_config_is_current(tmp_path):
    fresh = tmp_path / "service-host.conf.sample"
    subprocess.run(
        [str(GENERATOR), "--config-file", "etc/service-host/service-host-config-generator.conf",
         "--output-file", str(fresh)],
        cwd=REPO, check=True, capture_output=True, timeout=60,
    )
    shipped = REPO / "etc/service-host/service-host.conf.sample"
    assert fresh.read_text() == shipped.read_text(), (
        "etc/service-host/service-host.conf.sample is out of date: run `tox -e genconfig` "
        "(oslo-config-generator --config-file etc/service-host/service-host-config-generator.conf)"
    )


def test_sample_config_documents_the_host_options():
    sample = (REPO / "etc/service-host/service-host.conf.sample").read_text()
    for name in ("enabled_services", "enabled_apis", "report_interval", "service_down_time",
                 "graceful_shutdown_timeout", "transport_url", "backend_url", "auth_strategy",
                 "http_basic_auth_user_file"):
        assert f"\n#{name} =" in sample, name
