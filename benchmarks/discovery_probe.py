"""Time plugin discovery in a fresh process; prints one JSON object of milliseconds.

    python benchmarks/discovery_probe.py

Run by ``bench_discovery.py`` with and without 100 extra plugin
distributions on ``PYTHONPATH``. Each step is the first call of its kind in
this process, as at the start of ``service-host``.
"""

import json
import time

from service_host import plugins


def main() -> None:
    timings = {}

    def timed(name, func, *args):
        started = time.perf_counter()
        value = func(*args)
        timings[name] = (time.perf_counter() - started) * 1000
        return value

    started = time.perf_counter()
    found = timed("entry_points(managers)", plugins.entry_points, plugins.MANAGERS)
    timed("names(managers) + names(apis)",
          lambda: (plugins.names(plugins.MANAGERS), plugins.names(plugins.APIS)))
    timed("load_manager(example)", plugins.load_manager, "example", "example")
    loaded = timed("discover(managers)", plugins.discover, plugins.MANAGERS)
    timings["total"] = (time.perf_counter() - started) * 1000
    failed = [p.entry_point.name for p in loaded if not p.ok]
    print(json.dumps({"ms": timings, "managers": len(found), "loaded": len(loaded) - len(failed),
                      "failed": failed}))


if __name__ == "__main__":
    main()
