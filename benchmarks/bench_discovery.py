"""Discovery: loading the plugins with 100 extra plugin distributions installed.

100 tiny distributions are written to a temporary directory: each a
``*.dist-info`` (METADATA, ``entry_points.txt`` declaring one
``service_host.managers`` entry point) and a one-class module, which is all
``importlib.metadata`` and stevedore need to find them on ``sys.path``.
``discovery_probe.py`` then times, in a fresh process each time, the first
``plugins.entry_points``, ``names``, ``load_manager`` (one plugin) and
``discover`` (all of them) with that directory on ``PYTHONPATH``, vs the
baseline with an empty directory there instead (same ``sys.path`` length).
Runs alternate; the median is reported, each side with its stevedore entry
point cache warm (as on a host that has started once; one first run each,
cold, is reported apart). The last row is ``service-host`` itself: exec to
its one worker consuming RPC (see ``bench_start``), with and without the 100
plugins installed.
"""

import compileall
import json
import os
import subprocess
from pathlib import Path

from _common import BENCH_DIR
from _common import PYTHON
from _common import Context
from _common import Result
from _common import Row
from _common import median
from _common import workdir

PLUGINS = 100

_MODULE = '''"""Benchmark plugin {index}."""

from service_host.manager import Manager


class BenchManager{index}(Manager):
    def ping(self, context):
        return {index}
'''


def make_plugins(site: Path, count: int) -> None:
    for index in range(count):
        name = f"bench_plugin_{index:03d}"
        (site / f"{name}.py").write_text(_MODULE.format(index=index))
        info = site / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name.replace('_', '-')}\nVersion: 1.0\n")
        (info / "entry_points.txt").write_text(
            f"[service_host.managers]\nbench_{index:03d} = {name}:BenchManager{index}\n")
        (info / "top_level.txt").write_text(f"{name}\n")
    # As pip does when it installs: the modules come with their bytecode.
    compileall.compile_dir(str(site), quiet=1)


def _probe(site: Path, cache: Path) -> dict:
    out = subprocess.run(
        [PYTHON, str(BENCH_DIR / "discovery_probe.py")], capture_output=True, text=True,
        timeout=120, env=_env(site, cache), check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _env(site: Path, cache: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(site), "XDG_CACHE_HOME": str(cache)}


def run(ctx: Context) -> Result:
    import bench_start

    result = Result("discovery", f"Discovery: with {PLUGINS} extra plugin distributions (ms)")
    repeats = 3 if ctx.quick else 7
    start_repeats = 1 if ctx.quick else 3
    with workdir("discovery") as wd:
        sites = {"baseline": wd / "empty", "host": wd / "plugins"}
        for site in sites.values():
            site.mkdir()
        make_plugins(sites["host"], PLUGINS)
        cache = wd / "cache"
        # One run each with a cold stevedore cache.
        cold = {side: _probe(site, cache) for side, site in sites.items()}
        found = cold["host"]["managers"] - cold["baseline"]["managers"]
        if found != PLUGINS or cold["host"]["failed"]:
            raise RuntimeError(f"the probe found {found} extra managers, failed: "
                               f"{cold['host']['failed']}")
        runs: dict[str, list[dict]] = {"baseline": [], "host": []}
        for repeat in range(repeats):
            order = ("baseline", "host") if repeat % 2 == 0 else ("host", "baseline")
            for side in order:
                runs[side].append(_probe(sites[side], cache)["ms"])
        starts: dict[str, list[float]] = {"baseline": [], "host": []}
        for repeat in range(start_repeats):
            order = ("baseline", "host") if repeat % 2 == 0 else ("host", "baseline")
            for side in order:
                seconds, _ = bench_start._one_start(
                    ctx, "host", 1, repeat, env=_env(sites[side], cache))
                starts[side].append(seconds * 1000)

    for step in runs["host"][0]:
        base = [r[step] for r in runs["baseline"]]
        host = [r[step] for r in runs["host"]]
        result.rows.append(Row(step, median(base), median(host), unit="ms",
                               samples={"baseline": base, "host": host}))
    result.rows.append(Row("total, cold stevedore cache (1 run)", cold["baseline"]["ms"]["total"],
                           cold["host"]["ms"]["total"], unit="ms"))
    result.rows.append(Row("service-host exec -> 1 worker consumes RPC",
                           median(starts["baseline"]), median(starts["host"]), unit="ms",
                           samples=starts))
    result.notes.append(f"baseline: the installed plugins only ({cold['baseline']['managers']} "
                        f"manager entry point(s)); host column: {PLUGINS} more; "
                        f"ratio = with {PLUGINS} / baseline; median of {repeats} fresh processes "
                        f"({start_repeats} for the start)")
    return result
