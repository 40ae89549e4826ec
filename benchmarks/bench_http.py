"""HTTP: requests/s of an API under service-host vs its pecan app in cheroot outside the host.

Apps: the built-in ``host`` API and a trivial plugin API, the example API
plugin (``example_api``); each is asked ``GET /``, a JSON document built by a
pecan controller without RPC or service-group reads.

Baseline: ``bare_wsgi_server.py``, the app from the same ``make_app(conf)``
served by ``cheroot.wsgi.Server`` in one process, with the host's thread count
and backlog. A second, informative, baseline wraps the app in the host's
middleware (``middleware.wrap``, with the host's logging: one access-log line
per request), to tell the middleware's cost from the process model's.
Host: ``service-host`` serving both APIs with 1, 2 and 4 workers each.
Every server runs during the whole benchmark; measurements rotate through
them in rounds, and the median of the rounds is reported.

Load generator: ``wrk`` (1 thread, keep-alive connections) when it is on
PATH, else a Python one (threads, ``http.client`` keep-alive), which on a
small machine is the bottleneck; the notes say which one ran.
"""

import http.client
import re
import shutil
import subprocess
import threading
import time

from _common import Context
from _common import Result
from _common import Row
from _common import cpu_seconds
from _common import host_sections
from _common import http_get
from _common import median
from _common import processes
from _common import start_host
from _common import start_script
from _common import unique
from _common import wait_until
from _common import workdir
from _common import write_config

from service_host.testing import free_port

TARGET = ">= 0.9"
WORKERS = (1, 2, 4)
CONNECTIONS = 16
PATH = "/"


def _wrk(port: int, seconds: float) -> float:
    # wrk takes whole seconds only.
    done = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{max(1, round(seconds))}s",
         f"http://127.0.0.1:{port}{PATH}"],
        capture_output=True, text=True, timeout=seconds + 30,
    )
    out = done.stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if rate is None or "Non-2xx or 3xx responses" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk failed or saw errors on port {port}:\n{out}{done.stderr}")
    return float(rate.group(1))


def _python_load(port: int, seconds: float) -> float:
    """Keep-alive GETs from ``CONNECTIONS`` threads for ``seconds``; requests/s."""
    counts = [0] * CONNECTIONS
    errors: list[BaseException] = []
    deadline = time.monotonic() + seconds

    def worker(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            while time.monotonic() < deadline:
                conn.request("GET", PATH)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    raise RuntimeError(f"GET {PATH} answered {response.status}")
                counts[index] += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 30)
    if errors:
        raise RuntimeError(f"load on port {port} failed: {errors[0]!r}")
    return sum(counts) / (time.monotonic() - started)


def run(ctx: Context) -> Result:
    from service_host import plugins

    result = Result("http", "HTTP: GET / requests/s, API under service-host vs bare cheroot")
    apis = ["host"]
    if "example_api" in plugins.names(plugins.APIS):
        apis.append("example_api")
    else:
        result.notes.append("example_api is not installed (pip install -e "
                            "plugins/service-host-example-api): only the host API measured")
    wrk = shutil.which("wrk")
    load = _wrk if wrk else _python_load
    seconds = 1.0 if ctx.quick else 2.0
    rounds = 1 if ctx.quick else 3

    with workdir("http") as wd, processes() as procs:
        servers: dict[tuple[str, str], dict] = {}  # (api, variant) -> port, pids
        ports: dict[str, dict[str, int]] = {}
        for workers in WORKERS:
            name = unique(f"bench-http-{workers}")
            values = {"enabled_apis": ",".join(apis)}
            for api in apis:
                port = free_port()
                ports.setdefault(api, {})[f"host x{workers}"] = port
                values.update({f"{api}_listen": "127.0.0.1", f"{api}_listen_port": port,
                               f"{api}_workers": workers})
            sections = host_sections(name, ctx.transport_url, wd / "state", **values)
            sections["api"] = {"auth_strategy": "noauth"}
            proc = start_host(procs, wd, sections, name=f"host-x{workers}")
            for api in apis:
                servers[(api, f"host x{workers}")] = {"proc": proc, "port": ports[api][f"host x{workers}"]}
        bare_config = write_config(
            wd / "bare.conf",
            {**host_sections("bare", ctx.transport_url, wd / "state"),
             "api": {"auth_strategy": "noauth"}})
        for api in apis:
            for variant, extra in (("bare", []), ("bare+middleware", ["--middleware"])):
                port = free_port()
                proc = start_script(
                    procs, wd, "bare_wsgi_server.py",
                    ["--config-file", str(bare_config), "--api", api, "--port", str(port), *extra],
                    f"{variant}-{api}")
                servers[(api, variant)] = {"proc": proc, "port": port}

        for (api, variant), server in servers.items():
            def ready(server=server) -> bool:
                server["proc"].check_alive()
                return http_get(server["port"], PATH) == 200
            wait_until(ready, 60, f"{api} on {variant}", interval=0.1)
            load(server["port"], 1)  # warm-up
        ctx.say("HTTP servers ready")

        rates: dict[tuple[str, str], list[float]] = {key: [] for key in servers}
        pairs: dict[tuple[str, str], list[float]] = {key: [] for key in servers}
        shares: dict[tuple[str, str], list[float]] = {}
        variants = ["bare+middleware"] + [f"host x{w}" for w in WORKERS]

        def measure(key: tuple[str, str]) -> float:
            server = servers[key]
            server["proc"].check_alive()
            pids = server["proc"].children() if key[1].startswith("host") else []
            before = [cpu_seconds(pid) for pid in pids]
            rate = load(server["port"], seconds)
            after = [cpu_seconds(pid) for pid in pids]
            if pids:
                # Both APIs of a host share its children; the idle API's
                # workers use next to no CPU.
                used = sorted((a - b for a, b in zip(after, before)), reverse=True)
                busy = used[:int(key[1].rpartition("x")[2])]
                shares[key] = [c / (sum(busy) or 1) for c in busy]
            rates[key].append(rate)
            ctx.say(f"{key}: {rate:.0f} req/s")
            return rate

        for round_ in range(rounds):
            for api in apis:
                for index, variant in enumerate(variants):
                    # Each variant is measured next to a baseline run, in
                    # alternating order.
                    if (round_ + index) % 2 == 0:
                        base = measure((api, "bare"))
                        other = measure((api, variant))
                    else:
                        other = measure((api, variant))
                        base = measure((api, "bare"))
                    pairs[(api, variant)].append(other / base)
        for server in servers.values():
            server["proc"].check_alive()

    for api in apis:
        base = median(rates[(api, "bare")])
        result.rows.append(Row(
            f"{api} GET /: bare app + host middleware, 1 process", base,
            median(rates[(api, "bare+middleware")]), unit="req/s",
            samples={"baseline": rates[(api, "bare")],
                     "host": rates[(api, "bare+middleware")]},
            pairs=pairs[(api, "bare+middleware")]))
        for workers in WORKERS:
            key = (api, f"host x{workers}")
            row = Row(f"{api} GET /: service-host, {workers} worker{'s' if workers > 1 else ''}",
                      base, median(rates[key]), unit="req/s", target=TARGET,
                      samples={"baseline": rates[(api, "bare")], "host": rates[key]},
                      pairs=pairs[key])
            if workers > 1 and key in shares:
                row.note = ("CPU split between its workers in the last run: "
                            + "/".join(f"{100 * c:.0f}%" for c in shares[key]))
            result.rows.append(row)
    if wrk:
        result.notes.append(f"load: wrk, 1 thread, {CONNECTIONS} keep-alive connections, "
                            f"{seconds:g} s per run, {rounds} round(s); ratio: median of "
                            "host/baseline of back-to-back runs")
    else:
        result.notes.append(
            f"load: Python threads + http.client keep-alive ({CONNECTIONS} connections; wrk "
            "not found): the client shares the GIL and the cores, it is the bottleneck, so "
            "the ratios understate any difference")
    result.notes.append("baseline is 1 process for every row; on 2 cores the load generator, "
                        "the servers and the idle processes all compete for CPU")
    return result
