"""The coordination backend goes away: RPC goes on, the failure is logged once per interval.

The backend is the default ``file://`` one. Making its directory unwritable
with chmod does nothing here (the tests run as root), so the outage replaces
the directory with a regular file: every path below it fails, as a lost
mount or a deleted directory would. Putting the directory back ends it.
"""

import re
import time

from service_host import servicegroup
from tests.functional.harness import wait_until
from tests.functional.test_reliability_workers import CallLoad

FAILED_REPORTS = 5  # per worker, with report_interval = 1


def warnings_by_worker(log: str) -> dict[str, int]:
    found = re.findall(r"Service group: cannot report (\S+) to ", log)
    return {member: found.count(member) for member in set(found)}


def test_coordination_backend_gone_and_back(start_host):
    host = start_host({"DEFAULT": {"enabled_services": "example", "example_workers": 2,
                                   "report_interval": 1}})
    workers = {w["worker_id"]: w for w in host.wait_workers_up("example", 2)}
    backend = host.workdir / "state" / "coordination"
    away = backend.with_name("coordination.away")
    client = host.client("example", server=host.host, timeout=10)

    with CallLoad(client) as load:
        backend.rename(away)
        backend.write_text("not a directory\n")
        broken_at = time.monotonic()
        try:
            wait_until(lambda: len(warnings_by_worker(host.log())) == 2, 10,
                       "both workers to report the failure")
            # Nothing reads the service group meanwhile: the command says why, cleanly.
            out = host.manage("services")
            assert out.returncode == 2 and "Traceback" not in out.stdout + out.stderr, out
            [error] = [ln for ln in out.stderr.splitlines() if "error:" in ln]
            assert "service group backend file://" in error and "cannot be read" in error
            # The outage lasts until every worker has failed several reports in a row.
            wait_until(lambda: min(warnings_by_worker(host.log()).values()) >= FAILED_REPORTS,
                       FAILED_REPORTS + 5, f"{FAILED_REPORTS} failed reports from each worker")
            load.goes_on()
        finally:
            backend.unlink()
            away.rename(backend)
        outage = time.monotonic() - broken_at
        per_worker = warnings_by_worker(host.log())

        def back():
            rows = {m.worker_id: m for m in servicegroup.list_members(host.conf, "example", host.host)}
            return (len(rows) == 2 and all(m.state == "up" for m in rows.values())
                    and all(rows[i].report_count > workers[i]["report_count"] + 1 for i in rows)
                    and rows)

        rows = wait_until(back, 15, "both workers reporting again")
        recovered = time.monotonic() - broken_at - outage
        load.goes_on()

    # RPC never stopped; one warning per worker and interval, not per heartbeat.
    assert load.errors == []
    assert all(1 <= count <= outage / 1 + 2 for count in per_worker.values()), per_worker
    assert {m.pid for m in rows.values()} == {w["pid"] for w in workers.values()}
    log = host.log()
    assert log.count("reports again") == 2
    print(f"\n[coordination backend gone] outage {outage:.1f} s: warnings per worker "
          f"{sorted(per_worker.values())} (report_interval 1 s); {load.ok} calls answered, "
          f"none failed; both workers up again {recovered:.1f} s after the backend came back; "
          f"sample warning: {log[log.index('Service group: cannot'):].splitlines()[0][:200]}")
