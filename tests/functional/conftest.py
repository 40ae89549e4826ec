import pytest

from tests.functional import harness


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/functional" in str(item.fspath):
            item.add_marker(pytest.mark.functional)


@pytest.fixture(scope="session")
def transport_url() -> str:
    return harness.rabbit_url()


@pytest.fixture
def start_host(tmp_path, transport_url):
    """Factory: ``start_host(config_sections, binary=...)`` starts a host; all stop at teardown."""
    hosts = []

    def start(config=None, *extra, binary="service-host", start=True):
        workdir = tmp_path / f"host{len(hosts)}"
        workdir.mkdir()
        host = harness.Host(workdir, transport_url, config or {}, binary=binary)
        hosts.append(host)
        return host.start(*extra) if start else host

    yield start
    for host in hosts:
        host.kill_all()
