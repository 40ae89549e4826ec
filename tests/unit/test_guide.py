"""Every code block of the plugin guide is real.

Each ``.. code-block::`` of ``doc/writing-a-plugin.rst`` is preceded by a
comment that says how it is checked (rst comments do not render):

``.. excerpt: PATH``
    the block is taken verbatim from PATH (a line ``...`` or ``# ...`` skips
    lines; each run of lines may sit at a deeper indentation in the file);
``.. test:``
    the block is a test module of its own, run by pytest with the test kit;
``.. generated: ARGS``
    the block is part of what ``oslo-config-generator ARGS`` writes;
``.. commands:``
    each ``$`` line runs an installed program on paths and names that exist;
``.. config:``
    the block is a config file that the host's options accept;
``.. files: DIR``
    the block is a tree of files that exist under DIR.
"""

import configparser
import dataclasses
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from oslo_config import cfg
from oslo_config import generator

from service_host import launcher
from service_host import plugins
from service_host.conf import register_opts
from service_host.conf import register_topic_opts

REPO = Path(__file__).resolve().parents[2]
GUIDE = REPO / "doc" / "writing-a-plugin.rst"
TAG = re.compile(r"^\.\. (excerpt|test|generated|commands|config|files):\s*(.*)$")
ELISION = {"...", "# ..."}


@dataclasses.dataclass(frozen=True)
class Block:
    line: int
    language: str
    tag: str | None
    argument: str
    text: str

    def __str__(self) -> str:
        return f"{GUIDE.name}:{self.line} ({self.language}, {self.tag or 'untagged'})"


def _blocks(path: Path = GUIDE) -> list[Block]:
    lines = path.read_text().splitlines()
    blocks = []
    for i, line in enumerate(lines):
        match = re.match(r"^\.\. code-block::\s*(\S+)", line)
        if not match:
            continue
        tag, argument = None, ""
        previous = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        tag_match = TAG.match(previous)
        if tag_match:
            tag, argument = tag_match.group(1), tag_match.group(2).strip()
        body = []
        for following in lines[i + 1:]:
            if following.strip() and not following.startswith(" "):
                break
            body.append(following)
        text = textwrap.dedent("\n".join(body)).strip("\n") + "\n"
        blocks.append(Block(i + 1, match.group(1), tag, argument, text))
    return blocks


BLOCKS = _blocks()


def _of(tag: str) -> list[Block]:
    return [b for b in BLOCKS if b.tag == tag]


def _ids(blocks: list[Block]) -> list[str]:
    return [f"line{b.line}" for b in blocks]


def test_every_code_block_says_how_it_is_checked():
    assert BLOCKS, f"no code block in {GUIDE}"
    assert [str(b) for b in BLOCKS if b.tag is None] == []


def test_the_guide_has_no_unchecked_literal_block():
    text = GUIDE.read_text()
    assert not re.search(r"[^:\s]::\n\n ", text), "use a tagged code-block, not a :: literal block"


def test_the_guide_covers_what_a_plugin_author_needs():
    text = GUIDE.read_text()
    for topic in ("entry point", "Manager", "context", "target", "Periodic tasks", "Options",
                  "sample config", "API plugin", "another manager", "Testing", "Packaging"):
        assert topic in text, topic


# -- excerpts -----------------------------------------------------------------------


def _chunks(text: str) -> list[list[str]]:
    chunks: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.strip() in ELISION:
            chunks.append([])
        else:
            chunks[-1].append(line)
    return [_trim(c) for c in chunks if _trim(c)]


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return lines


def _find(chunk: list[str], source: list[str], start: int) -> int | None:
    """Where ``chunk`` starts in ``source`` at or after ``start``, at any one indentation."""
    for i in range(start, len(source) - len(chunk) + 1):
        first = source[i]
        if not first.endswith(chunk[0]) or first[: len(first) - len(chunk[0])].strip():
            continue
        indent = first[: len(first) - len(chunk[0])]
        if all(
            (not want.strip() and not have.strip()) or have == indent + want
            for want, have in zip(chunk, source[i:i + len(chunk)])
        ):
            return i + len(chunk)
    return None


@pytest.mark.parametrize("block", _of("excerpt"), ids=_ids(_of("excerpt")))
def test_excerpts_are_verbatim(block):
    path = REPO / block.argument
    assert path.is_file(), f"{block}: {block.argument} does not exist"
    source = path.read_text().splitlines()
    position = 0
    for chunk in _chunks(block.text):
        found = _find(chunk, source, position)
        assert found is not None, f"{block}: not found in {block.argument} (in order):\n" + "\n".join(chunk)
        position = found


def test_the_excerpt_checker_catches_a_changed_line():
    source = ["class A:", "    def f(self):", "        return 1", "", "    def g(self):", "        pass"]
    assert _find(["def f(self):", "    return 1"], source, 0) == 3
    assert _find(["def f(self):", "    return 2"], source, 0) is None
    assert _find(["def g(self):"], source, 3) == 5
    assert _find(["def f(self):"], source, 3) is None


# -- tests --------------------------------------------------------------------------


def test_the_test_blocks_pass(tmp_path):
    blocks = _of("test")
    assert blocks
    for block in blocks:
        (tmp_path / f"test_guide_line{block.line}.py").write_text(block.text)
    expected = sum(len(re.findall(r"^def test_", b.text, re.M)) for b in blocks)
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert out.returncode == 0, out.stdout[-5000:] + out.stderr[-2000:]
    assert f"{expected} passed" in out.stdout, out.stdout[-2000:]


# -- generated output -----------------------------------------------------------------


@pytest.mark.parametrize("block", _of("generated"), ids=_ids(_of("generated")))
def test_generated_blocks_match_the_generator(block, tmp_path):
    output = tmp_path / "sample.conf"
    generator.main([*shlex.split(block.argument), "--output-file", str(output)])
    generated = output.read_text().splitlines()
    wanted = _trim(block.text.splitlines())
    assert _find(wanted, generated, 0) is not None, (
        f"{block}: not in the generator's output:\n" + "\n".join(generated)
    )


# -- commands ---------------------------------------------------------------------------


def _manage_subcommands() -> set[str]:
    out = subprocess.run(
        [str(Path(sys.executable).parent / "service-host-manage"), "--help"],
        capture_output=True, text=True, timeout=60,
    )
    return set(re.findall(r"\{([\w,-]+)\}", out.stdout)[0].split(","))


def _opts_namespaces() -> set[str]:
    import importlib.metadata

    return {ep.name for ep in importlib.metadata.entry_points(group="oslo.config.opts")}


@pytest.mark.parametrize("block", _of("commands"), ids=_ids(_of("commands")))
def test_commands_use_programs_paths_and_names_that_exist(block):
    commands = [line[2:] for line in block.text.splitlines() if line.startswith("$ ")]
    assert commands, f"{block}: no '$ ' line"
    for command in commands:
        argv = shlex.split(command)
        program = argv[0]
        bin_dir = Path(sys.executable).parent
        assert program in {"pip", "pytest"} or (bin_dir / program).exists(), command
        if program == "service-host-manage":
            words = [a for i, a in enumerate(argv[1:], 1)
                     if not a.startswith("-") and argv[i - 1] not in ("--config-file", "--server")]
            assert words[0] in _manage_subcommands(), command
        if program == "oslo-config-generator":
            for i, arg in enumerate(argv):
                if arg == "--namespace":
                    assert argv[i + 1] in _opts_namespaces(), command
        for arg in argv[1:]:
            path = re.sub(r"\[.*\]$", "", arg)
            if path.startswith("plugins/"):
                assert (REPO / path).exists(), command
            if program == "service-host-manage" and arg in ("call",):
                topic = argv[argv.index(arg) + 1]
                assert topic in plugins.names(plugins.MANAGERS), command


# -- configuration and files ------------------------------------------------------------


@pytest.mark.parametrize("block", _of("config"), ids=_ids(_of("config")))
def test_config_blocks_are_accepted_by_the_host(block, tmp_path):
    path = tmp_path / "service-host.conf"
    path.write_text(block.text)
    conf = cfg.ConfigOpts()
    register_opts(conf)
    conf(["--config-file", str(path)], project="service-host-guide")
    register_topic_opts(conf, conf.enabled_services)
    for topic in conf.enabled_services:
        plugins.load_manager(topic, topic)("guide", topic, conf)  # registers its options
    launcher.validate(conf)
    parser = configparser.ConfigParser()
    parser.read_string(block.text)
    for key in parser.defaults():
        conf[key]
    for section in parser.sections():
        for key in set(parser[section]) - set(parser.defaults()):
            conf[section][key]


@pytest.mark.parametrize("block", _of("files"), ids=_ids(_of("files")))
def test_file_trees_exist(block):
    root = REPO / block.argument
    stack: list[str] = []
    lines = block.text.splitlines()
    assert lines[0].strip().rstrip("/") == block.argument
    for line in lines[1:]:
        depth = (len(line) - len(line.lstrip())) // 4
        name = line.split()[0]
        stack = stack[: depth - 1] + [name.rstrip("/")]
        assert (root.joinpath(*stack)).exists(), f"{block}: {'/'.join(stack)} is not in {root}"
