"""Run the service-host benchmarks: print a table per benchmark and write JSON.

    python benchmarks/run.py [--quick] [--only rpc,http,...] [--json FILE] [-v]

Each figure is measured side by side in one run against a baseline written in
the benchmark itself (see each ``bench_*.py``); ratio = host / baseline. The
broker is $SERVICE_HOST_TRANSPORT_URL, else the project-local RabbitMQ
(``tools/rabbitmq.sh``, started if needed). Run it with the project's venv
(``.venv/bin/python benchmarks/run.py``): ``service-host`` is taken from the
directory of the Python that runs this script.
"""

import argparse
import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO  # noqa: E402
from _common import Context  # noqa: E402
from _common import Result  # noqa: E402
from _common import Skip  # noqa: E402
from _common import format_table  # noqa: E402
from _common import machine_info  # noqa: E402
from _common import rabbit_url  # noqa: E402

BENCHMARKS = ("rpc", "http", "start", "stop", "respawn", "memory", "discovery")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (about 2 minutes)")
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    parser.add_argument("--json", default=str(REPO / "benchmarks" / "results" / "latest.json"),
                        help="where to write the results (default: %(default)s)")
    parser.add_argument("-v", "--verbose", action="store_true", help="progress on stderr")
    args = parser.parse_args(argv)
    selected = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(selected) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")

    started = time.monotonic()
    ctx = Context(quick=args.quick, transport_url=rabbit_url(), verbose=args.verbose)
    machine = machine_info()
    print(f"machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
          f"{machine['os']}, Python {machine['python']}")
    print("packages: " + ", ".join(f"{k} {v}" for k, v in machine["packages"].items()))
    load_start = os.getloadavg()
    print(f"mode: {'quick' if args.quick else 'full'}; load average at start: "
          f"{load_start[0]:.2f}\n", flush=True)

    results: list[Result] = []
    for name in selected:
        module = importlib.import_module(f"bench_{name}")
        bench_started = time.monotonic()
        try:
            result = module.run(ctx)
        except Skip as exc:
            result = Result(name, name, error=f"skipped: {exc}")
        except Exception as exc:  # noqa: BLE001 - one failing benchmark does not stop the rest
            result = Result(name, name, error=f"{type(exc).__name__}: {exc}")
            traceback.print_exc()
        result.seconds = time.monotonic() - bench_started
        results.append(result)
        print(format_table(result) + "\n", flush=True)

    duration = time.monotonic() - started
    failed = [r.name for r in results if r.error]
    missed = [f"{r.name}: {row.measure}" for r in results for row in r.rows if row.ok is False]
    machine["loadavg"] = {"start": load_start, "end": os.getloadavg()}
    print(f"total: {duration:.0f} s; load average at the end: {machine['loadavg']['end'][0]:.2f}; "
          f"{len(missed)} figure(s) below target"
          + (f"; errors in {', '.join(failed)}" if failed else ""))

    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "command": " ".join([Path(sys.executable).name, "benchmarks/run.py", *(argv or sys.argv[1:])]),
        "mode": "quick" if args.quick else "full",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": duration,
        "machine": machine,
        "results": [r.as_dict() for r in results],
    }, indent=2) + "\n")
    print(f"results written to {out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
