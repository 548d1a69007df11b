"""Shared fixtures: the real graph built once per session, and a real gunicorn server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from tests.system_packages import require

from kg.config import Config
from kg.pipeline.build import build
from kg.pipeline.release import Version

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    """Wait until ``condition()`` holds; fails saying ``what`` did not come in time."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:g} s: {what}")
        time.sleep(0.3)


def kg_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "kg", *args]


def run_kg(*args: str, input: str | None = None, env: dict[str, str] | None = None,
           timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the ``kg`` command as a user would, in a separate process."""
    return subprocess.run(kg_command(*args), capture_output=True, text=True, input=input,
                          timeout=timeout, env={**os.environ, **(env or {})}, cwd=ROOT)


@pytest.fixture(scope="session")
def release_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("releases")


@pytest.fixture(scope="session")
def config(release_dir: Path) -> Config:
    return Config(root=ROOT, release_dir=release_dir, testing=True)


@pytest.fixture(scope="session")
def release(config: Config) -> Version:
    return build(config).release


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the sources that a test may break without touching the real ones."""
    for name in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


class Server:
    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path,
                 releases: Path) -> None:
        self.url = url
        self.process = process
        self.log = log
        #: the release folder it serves
        self.releases = releases

    def get(self, path: str, **kwargs: object) -> requests.Response:
        kwargs.setdefault("timeout", 180)
        return requests.get(self.url + path, **kwargs)  # type: ignore[arg-type]

    def post(self, path: str, **kwargs: object) -> requests.Response:
        kwargs.setdefault("timeout", 180)
        return requests.post(self.url + path, **kwargs)  # type: ignore[arg-type]


#: the admission of a test server: the tests are one client (127.0.0.1) that may run many
#: queries, long ones too; tests of the admission rules set their own
TEST_ADMISSION = {"KG_CLIENT_BUDGET_SECONDS": "0", "KG_LONG_QUERIES": "16"}


def start_server(release_dir: Path, *extra: str, store: str = "oxigraph",
                 env: dict[str, str] | None = None, log: Path,
                 startup: float = 120) -> Server:
    """``kg serve`` in a process of its own; waits up to ``startup`` seconds for /health
    (a server on an empty release folder builds first). Every request of the tests comes
    from one address: the admission rules for clients are relaxed (:data:`TEST_ADMISSION`)
    unless ``env`` sets them."""
    port = free_port()
    out = log.open("wb")
    process = subprocess.Popen(
        kg_command("--release-dir", str(release_dir), "--store", store, "serve",
                   "--port", str(port), "--workers", "2", *extra),
        stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
        env={**os.environ, **TEST_ADMISSION, **(env or {})}, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + startup
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n"
                               + log.read_text(errors="replace"))
        try:
            if requests.get(url + "/health", timeout=10).status_code == 200:
                return Server(url, process, log, release_dir)
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop_server(process)
    raise RuntimeError(f"the server did not answer /health within {startup:g} s:\n"
                       + log.read_text(errors="replace"))


def stop_server(process: subprocess.Popen[bytes]) -> None:
    import signal

    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="session")
def server(release: Version, release_dir: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real server process (gunicorn, 2 workers) on a free port, serving the real graph."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    srv = start_server(release_dir, log=log)
    yield srv
    stop_server(srv.process)


@pytest.fixture(scope="session")
def ld_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real sources plus the Linked Data fixtures (small data cubes, a label with a
    script) from tests/fixtures/ld/, copied into a project folder of their own."""
    root = tmp_path_factory.mktemp("ld-project")
    for name in ("ontology", "data"):
        shutil.copytree(ROOT / name, root / name)
    # no shapes: the fixtures are minimal cubes for the pages, not well-formed cubes (the
    # validation of the real graph is tested elsewhere)
    (root / "shapes").mkdir()
    for fixture in sorted((ROOT / "tests" / "fixtures" / "ld").glob("*.ttl")):
        shutil.copy(fixture, root / "data" / "ttl" / fixture.name)
    return root


@pytest.fixture(scope="session")
def ld_config(ld_project: Path) -> Config:
    return Config(root=ld_project, release_dir=ld_project / "releases", testing=True)


@pytest.fixture(scope="session")
def ld_release(ld_config: Config) -> Version:
    return build(ld_config).release


@pytest.fixture(scope="session")
def ld_server(ld_release: Version, ld_config: Config,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The real server process serving the real graph plus the Linked Data fixtures."""
    log = tmp_path_factory.mktemp("ld-server") / "server.log"
    srv = start_server(ld_config.releases, env={"KG_ROOT": str(ld_config.root)}, log=log)
    yield srv
    stop_server(srv.process)


@pytest.fixture(scope="session")
def virtuoso(release_dir: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A real Virtuoso 7 (Debian virtuoso-opensource) on free loopback ports, private ini and
    database, allowed to bulk load from the test releases; shut down at the end."""
    from kg.store import virtuoso as vt

    require("virtuoso-opensource")
    server = vt.VirtuosoServer(tmp_path_factory.mktemp("virtuoso"), load_dirs=(release_dir,),
                               buffers=20_000)
    server.start()
    yield server
    server.stop()
