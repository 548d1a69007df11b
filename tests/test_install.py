"""`make run`'s install: the package installed without extras (``pip install -e .`` in a fresh
virtual environment) runs every command, the remote store and ``kg publish`` included, and
``kg serve`` stops with what went wrong, before it says it is serving, when a query process
cannot open the store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import ROOT, free_port

from kg.pipeline.release import Version


@pytest.fixture(scope="module")
def plain_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the package installed as `make run` installs it."""
    venv = tmp_path_factory.mktemp("plain") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    done = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "-e", str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return venv / "bin"


def run(bin_dir: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KG_")}
    return subprocess.run([str(bin_dir / "kg"), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def test_the_install_has_no_test_extras(plain_install: Path) -> None:
    installed = subprocess.run([str(plain_install / "python"), "-m", "pip", "list"],
                               capture_output=True, text=True, check=True).stdout.lower()
    assert "requests " in installed and "pytest " not in installed


def test_publish_to_a_server_that_is_down_says_so(plain_install: Path, release: Version,
                                                  release_dir: Path) -> None:
    down = f"http://127.0.0.1:{free_port()}/sparql"
    r = run(plain_install, "--release-dir", str(release_dir), "publish", "--to", down)
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip() == (f"error: cannot reach the SPARQL server at {down}: is it "
                                "running? (ConnectionError); nothing was published")


def test_serve_from_a_remote_store_that_is_down_stops_before_serving(
        plain_install: Path, release: Version, release_dir: Path) -> None:
    down = f"http://127.0.0.1:{free_port()}/sparql"
    port = free_port()
    r = run(plain_install, "--release-dir", str(release_dir), "serve", "--port", str(port),
            "--store", f"remote:{down}", timeout=120)
    assert r.returncode == 1
    assert "serving" not in r.stdout
    assert (f"error: a query process could not open version {release.id} in the "
            f"remote:{down} store: cannot reach the SPARQL server at {down}: is it running?"
            in r.stderr), r.stderr
