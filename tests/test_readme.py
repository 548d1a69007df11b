"""The README is true: every command and code block of README.md run against a fresh build
served by the README's own `make run`, with the output it shows.

How the README is read:

- a fenced ``sh`` block whose lines start with ``$ `` holds commands, each followed by the
  output it prints (compared line by line; ``...`` stands for any text); a line ending in
  ``\\`` goes on on the next. An ``sh`` block without ``$`` is commands only: each must
  succeed.
- a ``python`` block runs in a Python process of its own; a ``text`` block right after a
  block is its output.
- an HTML comment ``<!-- readme-test: KIND. why -->`` right before a block says how else it
  is tested: ``setup`` (the first block: `make run` serves the examples, `make test` runs
  this test), ``not run`` (the comment names the tests that stand in for it), ``paths``
  (each line names a folder that exists).

The examples address 127.0.0.1:8000; the test serves on a free port and rewrites it.
Commands run in a folder of their own whose ``.venv`` is the Python environment of the
tests, with ``KG_RELEASE_DIR`` naming the release folder `make run` built.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from tests.conftest import ROOT, free_port, stop_server

from kg.config import ENVIRONMENT, Config

README = ROOT / "README.md"
EXAMPLE_ADDRESS = "127.0.0.1:8000"
MARKER = re.compile(r"<!-- readme-test: (setup|not run|paths)\. (.+) -->")
#: how long `make run` may take to install, build a fresh release and answer
STARTUP_SECONDS = 600


@dataclass(frozen=True)
class Block:
    """A fenced code block of the README."""

    #: the line of its opening fence (1-based)
    line: int
    info: str
    text: str
    #: the kind and reason of the readme-test comment before it, if any
    marker: tuple[str, str] | None = None
    #: the text block right after it: its output
    output: str | None = None

    @property
    def name(self) -> str:
        return f"line-{self.line}-{self.info or 'plain'}"


def read_blocks(text: str) -> list[Block]:
    """The README's fenced blocks, each with its marker and its output."""
    lines = text.splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = re.fullmatch(r"```(\w*)\s*", lines[i])
        if not opening:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == "```")
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marked = MARKER.fullmatch(before.strip())
        block = Block(i + 1, opening.group(1), "\n".join(lines[i + 1:end]) + "\n",
                      (marked.group(1), marked.group(2)) if marked else None)
        previous = found[-1] if found else None
        if (block.info == "text" and previous is not None and previous.output is None
                and block.marker is None and _ends_right_before(lines, previous, i)):
            found[-1] = Block(previous.line, previous.info, previous.text, previous.marker,
                              block.text)
        else:
            found.append(block)
        i = end + 1
    return found


def _ends_right_before(lines: list[str], block: Block, opening: int) -> bool:
    """Whether ``block`` closes with only blank lines before line index ``opening``."""
    closing = next(j for j in range(block.line, len(lines)) if lines[j].strip() == "```")
    return all(not line.strip() for line in lines[closing + 1:opening])


BLOCKS = read_blocks(README.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Command:
    text: str
    #: the output the README shows, or ``None``
    output: str | None


def commands(block: Block) -> list[Command]:
    """The commands of an ``sh`` block, with the output shown after each (``$`` style)."""
    lines = block.text.splitlines()
    prompted = any(line.startswith("$ ") for line in lines)
    found: list[Command] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or (prompted and not line.startswith("$ ")):
            i += 1
            continue
        text = line[2:] if prompted else line
        while text.endswith("\\"):
            i += 1
            text = text + "\n" + lines[i]
        i += 1
        output = None
        if prompted:
            shown = []
            while i < len(lines) and not lines[i].startswith("$ "):
                shown.append(lines[i])
                i += 1
            output = "\n".join(shown).strip("\n")
        found.append(Command(text, output))
    return found


def matches(shown: str, printed: str) -> bool:
    """Whether ``printed`` is the output ``shown``, line by line; ``...`` stands for any
    text."""
    want = shown.strip("\n").splitlines()
    got = [line.rstrip() for line in printed.replace("\r\n", "\n").strip("\n").splitlines()]
    if len(want) != len(got):
        return False
    return all(re.fullmatch(".*".join(re.escape(part) for part in w.rstrip().split("...")), g)
               for w, g in zip(want, got, strict=True))


@dataclass(frozen=True)
class Served:
    port: int
    releases: Path
    #: where the commands run: ``.venv`` there is the tests' environment
    workdir: Path

    def local(self, text: str) -> str:
        return text.replace(EXAMPLE_ADDRESS, f"127.0.0.1:{self.port}")

    @property
    def env(self) -> dict[str, str]:
        """A user's environment: no settings of the tests, nor those of the `make test` that
        runs them."""
        return {**{k: v for k, v in os.environ.items()
                   if not k.startswith("KG_") and k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")},
                "KG_RELEASE_DIR": str(self.releases)}


def setup_block() -> Block:
    return next(b for b in BLOCKS if b.marker and b.marker[0] == "setup")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The README's `make run`, as it is, on a free port and a fresh release folder."""
    folder = tmp_path_factory.mktemp("readme")
    workdir = folder / "work"
    workdir.mkdir()
    (workdir / ".venv").symlink_to(sys.prefix)
    served = Served(free_port(), folder / "releases", workdir)
    make_run = shlex.split(setup_block().text.splitlines()[0].split("#")[0])
    assert make_run == ["make", "run"]
    log = folder / "make-run.log"
    with log.open("wb") as out:
        process = subprocess.Popen([*make_run, f"PORT={served.port}", f"VENV={sys.prefix}"],
                                   cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                   env=served.env, start_new_session=True)
    url = f"http://127.0.0.1:{served.port}/health"
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"`make run` exited with {process.returncode}:\n"
                            + log.read_text(errors="replace"))
            try:
                if requests.get(url, timeout=10).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"`make run` did not serve within {STARTUP_SECONDS} s:\n"
                            + log.read_text(errors="replace"))
            time.sleep(0.5)
        said = log.read_text(errors="replace")
        assert f"serving {served.releases}" in said and f":{served.port}/" in said, said
        yield served
    finally:
        stop_server(process)


def test_the_readme_begins_with_the_two_setup_commands() -> None:
    first = BLOCKS[0]
    assert first.marker is not None and first.marker[0] == "setup"
    assert first.line <= 5
    commands = [line.split("#")[0].strip() for line in first.text.splitlines()]
    assert commands == ["make run", "make test"]


def run_shell(block: Block, served: Served) -> None:
    for command in commands(block):
        done = subprocess.run(["bash", "-o", "pipefail", "-c", served.local(command.text)],
                              cwd=served.workdir, env=served.env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, (f"README line {block.line}: `{command.text}` exited "
                                      f"with {done.returncode}:\n{done.stdout}{done.stderr}")
        if command.output:
            assert matches(served.local(command.output), done.stdout), (
                f"README line {block.line}: `{command.text}` printed\n{done.stdout}\n"
                f"where the README shows\n{command.output}")


def run_python(block: Block, served: Served) -> None:
    script = served.workdir / f"readme-{block.line}.py"
    script.write_text(served.local(block.text), encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=served.workdir, env=served.env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"README line {block.line}:\n{done.stderr}"
    if block.output is not None:
        assert matches(block.output, done.stdout), (
            f"README line {block.line} printed\n{done.stdout}\nwhere the README shows\n"
            f"{block.output}")


def check_layout(text: str) -> None:
    """Each line names a folder of the checkout, then what it holds; the files and folders
    named there (``store/``, ``cli.py``) are in it. An indented line goes on with the folder
    above."""
    folder = ROOT
    for line in text.splitlines():
        if not line.startswith(" "):
            name, _, line = line.partition(" ")
            folder = ROOT / name
            assert folder.is_dir(), name
        for inside in re.findall(r"(?<![\w/.])(\w+/|\w+\.py)(?=[\s,;)]|$)", line):
            assert (folder / inside).exists(), f"{folder.relative_to(ROOT)}/{inside}"


@pytest.mark.parametrize("block", [b for b in BLOCKS if not (b.marker and b.marker[0] == "setup")],
                         ids=lambda b: b.name)
def test_block(block: Block, served: Served) -> None:
    if block.marker is not None:
        kind, why = block.marker
        if kind == "not run":
            standing_in = re.findall(r"tests/[\w/]+\.py", why)
            assert standing_in, f"README line {block.line}: say which tests stand in for it"
            assert all((ROOT / path).is_file() for path in standing_in), standing_in
        else:
            check_layout(block.text)
    elif block.info == "sh":
        run_shell(block, served)
    elif block.info == "python":
        run_python(block, served)
    else:
        pytest.fail(f"README line {block.line}: a {block.info or 'plain'} block that is "
                    "neither run nor marked (<!-- readme-test: not run. why, and what "
                    "stands in -->)")


def _settings() -> dict[str, str]:
    """The settings table: variable -> its default as written."""
    section = README.read_text(encoding="utf-8").split("## Settings", 1)[1].split("\n## ")[0]
    return {m.group(1): m.group(2).strip() for m in re.finditer(
        r"^\| `(KG_\w+)` \| (.*?) \|", section, re.MULTILINE)}


def _written(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def test_the_settings_table_lists_every_variable_with_its_default() -> None:
    table = _settings()
    assert set(table) == set(ENVIRONMENT)
    defaults = Config()
    for variable, (field_name, _read) in ENVIRONMENT.items():
        written, value = table[variable], getattr(defaults, field_name)
        if field_name == "release_dir":
            assert defaults.releases == ROOT / written.strip("`")
        elif value is None or value == ():
            assert written == "(none)" or not written.startswith("`"), variable
        elif field_name != "root":
            assert written == f"`{_written(value)}`", variable


def test_every_file_the_readme_names_exists() -> None:
    text = README.read_text(encoding="utf-8")
    named = set(re.findall(r"(?<![\w/.:-])((?:docs|tests|bench|src|data|ontology|shapes|"
                           r"queries|\.ci)/[\w./*-]*[\w*])", text))
    assert len(named) > 10
    missing = [path for path in sorted(named) if not list(ROOT.glob(path))]
    assert not missing, missing


def test_shown_output_is_compared_line_by_line() -> None:
    assert matches("latest.ttl.gz: OK", "latest.ttl.gz: OK\n")
    assert matches("KG-Version: ...", "KG-Version: 8b155fae0c5f8977\r\n")
    assert not matches("latest.ttl.gz: OK", "latest.ttl.gz: FAILED\n")
    assert not matches("a\nb", "a\n")
    assert not matches("a", "a\nb\n")
    shown = [c for b in BLOCKS if b.info == "sh" and not b.marker for c in commands(b)
             if c.output]
    assert len(shown) >= 5
