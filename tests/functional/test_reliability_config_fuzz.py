"""100 malformed config files: each gives one clear error line, never a traceback.

The files are generated from a fixed seed, so a failure names a case that
can be re-run alone (``-k 'case_042'``). Each one starts from a base config
that cannot run (its broker is a closed port, checked for 1 s), so a file
whose defect the host tolerates still fails fast, with a clear error, instead
of starting; the defect itself is named in the error when the host must
refuse it.
"""

import random
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.functional.harness import BIN

SEED = 20261203
CASES = 100
BASE = {
    "enabled_services": "example",
    "enabled_apis": "",
    "transport_url": "rabbit://guest:guest@127.0.0.1:1/",
    "broker_check_timeout": "1",
    "use_stderr": "true",
}
# Values that no typed option accepts, by option: (option, section, bad values).
TYPED = [
    ("report_interval", "DEFAULT", ["often", "0", "-5", "1.5", "", "0x", "1 0"]),
    ("periodic_interval", "DEFAULT", ["-1", "soon", "9" * 5 + "x"]),
    ("service_down_time", "DEFAULT", ["0", "forever", "-60"]),
    ("broker_check_timeout", "DEFAULT", ["0", "-1", "ten"]),
    ("rpc_client_retry", "DEFAULT", ["-1", "always"]),
    ("periodic_enable", "DEFAULT", ["maybe", "2", "yes please"]),
    ("periodic_fuzzy_delay", "DEFAULT", ["-3", "random"]),
    ("example_workers", "DEFAULT", ["0", "-2", "two", "1e3"]),
    ("host", "DEFAULT", ["bad host!", "-leading-dash", "a" * 300, "under_score..x"]),
    ("graceful_shutdown_timeout", "DEFAULT", ["abc", "1.5"]),
    ("rpc_response_timeout", "DEFAULT", ["slow", "1.5.2"]),
    ("host_listen_port", "DEFAULT", ["70000", "-1", "http"]),
    ("threads", "api", ["0", "-4", "many"]),
    ("auth_strategy", "api", ["keystone", "basic", "NOAUTH"]),
    ("debug", "DEFAULT", ["perhaps", "11"]),
    ("enabled_services", "DEFAULT", ["example,example", "no-such-topic", "example,,x y"]),
    ("enabled_apis", "DEFAULT", ["no_such_api", "host,host"]),
    ("example_manager", "DEFAULT", ["no.such.module:Thing", "os.path:join", "collections.OrderedDict",
                                    "service_host_example.manager:NoSuchClass", ":", "..", "x:"]),
]
BAD_URLS = ["not a url", "rabbit://", "rabbit://guest:guest@127.0.0.1:notaport/",
            "kafka://127.0.0.1:9092/", "http://127.0.0.1/", "rabbit://[::1/", "://", "rabbit:/x",
            "rabbit://guest:guest@127.0.0.1:99999/", "amqp://%zz@127.0.0.1/"]
BAD_BACKENDS = ["nosuch://x", "file://", "redis://127.0.0.1:1?timeout=x", "::"]


def render(sections: dict[str, dict[str, str]]) -> str:
    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {value}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def base() -> dict[str, dict[str, str]]:
    return {"DEFAULT": dict(BASE)}


def generate(rng: random.Random) -> tuple[str, bytes, tuple[str, ...] | None]:
    """One malformed file: (kind, content, words of which the error must contain one, or None)."""
    kind = rng.choice(["typed", "typed", "typed", "syntax", "syntax", "binary", "url",
                       "backend", "unknown", "huge", "interpolation", "encoding"])
    sections = base()
    if kind == "typed":
        option, section, values = rng.choice(TYPED)
        value = rng.choice(values)
        sections.setdefault(section, {})[option] = value
        # The error names the option, or the bad name (a topic, an API, a class path).
        return kind, render(sections).encode(), (option, value.split(",")[-1])
    if kind == "syntax":
        text = render(sections)
        defect = rng.choice([
            "enabled_services example",          # missing '='
            "[DEFAULT",                           # unclosed section
            "  indented = continuation first",    # continuation before any option
            "= value without a key",
            "[]",
            "[api]\n[api",
        ])
        if defect.startswith("  "):
            return kind, (defect + "\n" + text).encode(), None
        lines = text.splitlines()
        lines.insert(rng.randrange(1, len(lines) + 1), defect)
        return kind, ("\n".join(lines) + "\n").encode(), None
    if kind == "binary":
        garbage = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        text = render(sections).encode()
        where = rng.randrange(len(text))
        return kind, text[:where] + garbage + text[where:], None
    if kind == "url":
        sections["DEFAULT"]["transport_url"] = rng.choice(BAD_URLS)
        return kind, render(sections).encode(), None
    if kind == "backend":
        sections["coordination"] = {"backend_url": rng.choice(BAD_BACKENDS)}
        return kind, render(sections).encode(), None
    if kind == "unknown":
        # Unknown sections and options are ignored by oslo.config: the file is
        # otherwise valid and fails on the (closed) broker.
        sections[f"section_{rng.randrange(1000)}"] = {"option": "value"}
        sections["DEFAULT"][f"no_such_option_{rng.randrange(1000)}"] = "1"
        return kind, render(sections).encode(), ("broker",)
    if kind == "huge":
        option, section, _ = rng.choice(TYPED[:8])
        value = rng.choice(["9" * 100_000, "x" * 1_000_000, "1" + "0" * 5000])
        sections.setdefault(section, {})[option] = value
        return kind, render(sections).encode(), None
    if kind == "interpolation":
        sections["DEFAULT"]["state_path"] = rng.choice(["$nosuch/x", "$state_path/x", "${host", "$"])
        return kind, render(sections).encode(), None
    # encoding
    text = render(sections)
    return kind, rng.choice([text.encode("utf-16"), text.encode("utf-32"),
                             b"\xef\xbb\xbf" + text.encode() + "é=\xff\n".encode("latin-1")]), None


def cases() -> list[tuple[str, str, bytes, tuple[str, ...] | None]]:
    """``CASES`` different files, the same at every run."""
    rng = random.Random(SEED)
    found: dict[bytes, tuple[str, bytes, tuple[str, ...] | None]] = {}
    while len(found) < CASES:
        kind, content, expect = generate(rng)
        found.setdefault(content, (kind, content, expect))
    return [(f"case_{n:03d}", *case) for n, case in enumerate(found.values())]


def run_case(tmp_path: Path, case) -> str | None:
    """None if the case behaves, else what went wrong."""
    name, kind, content, expect = case
    workdir = tmp_path / name
    workdir.mkdir()
    config = workdir / "service-host.conf"
    config.write_bytes(content)
    try:
        out = subprocess.run([str(BIN / "service-host"), "--config-file", str(config)],
                             capture_output=True, timeout=60, cwd=workdir)
    except subprocess.TimeoutExpired:
        return f"{name} ({kind}): still running after 60 s"
    stderr = out.stderr.decode(errors="replace")
    errors = [line for line in stderr.splitlines() if "error:" in line]
    problem = None
    if out.returncode == 0:
        problem = "exit 0"
    elif "Traceback" in stderr:
        problem = "traceback"
    elif len(errors) != 1:
        problem = f"{len(errors)} 'error:' lines"
    elif len(errors[0]) > 1000:
        problem = f"an error line of {len(errors[0])} characters"
    elif expect and not any(word in errors[0] for word in expect):
        problem = f"error names none of {expect!r}"
    if problem:
        return f"{name} ({kind}, exit {out.returncode}): {problem}:\n{stderr[-1500:]}"
    return None


def test_100_malformed_config_files(tmp_path):
    generated = cases()
    with ThreadPoolExecutor(4) as pool:
        problems = [p for p in pool.map(lambda c: run_case(tmp_path, c), generated) if p]
    assert not problems, f"{len(problems)} of {CASES} cases misbehave:\n\n" + "\n\n".join(problems)
