"""The integrity of what is served: checksums recorded at build, checked at start and by
``kg verify``; a damaged version refused and an earlier sound one served; failures of the
store and of the disk answered without file paths, against the real gunicorn server.

Every test damages its own copy of the release folder.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests
from tests.conftest import Server, run_kg, start_server, stop_server
from tests.test_sparql_protocol import _runner_pids

from kg.config import Config
from kg.pipeline.dumps import DUMPS_DIR
from kg.pipeline.rebuild import apply_update
from kg.pipeline.release import OXIGRAPH_DIR, Releases, Version

BASE = "https://w3id.org/kazkor/"
JSON = "application/sparql-results+json"
TOKEN = "integrity-token-81a2"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
LABEL = f'<{BASE}id/astana> <http://www.w3.org/2004/02/skos/core#altLabel> "Integritytest"@en'


def copy_releases(release_dir: Path, dest: Path) -> Path:
    copy = dest / "releases"
    shutil.copytree(release_dir, copy, symlinks=True)
    return copy


def current(releases: Path) -> Version:
    version = Releases(releases).current()
    assert version is not None
    return version


def flip_bytes(path: Path) -> None:
    """Damage a file the way a failing disk does: some bytes in its middle changed."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    for i in range(middle, min(middle + 64, len(data))):
        data[i] ^= 0x5A
    path.write_bytes(data)


def largest_table(version: Version) -> Path:
    return max(version.index.glob("*.sst"), key=lambda p: p.stat().st_size)


def a_dump(version: Version) -> Path:
    return next((version.path / DUMPS_DIR).glob("*.nt.gz"))


def ask(server: Server, pattern: str) -> bool:
    r = server.get("/sparql", params={"query": f"ASK {{ {pattern} }}"}, headers={"Accept": JSON})
    assert r.status_code == 200, r.text
    return bool(r.json()["boolean"])


def test_a_version_records_the_checksums_of_its_data_files(release: Version):
    files = release.report.files
    index = [name for name in files if name.startswith(f"{OXIGRAPH_DIR}/")]
    assert "dataset.nq" in files and "validation.ttl" in files
    assert any(name.endswith(".sst") for name in index)
    assert {n.split("/")[1].split("-")[0] for n in index} >= {"CURRENT", "MANIFEST", "OPTIONS"}
    assert not any(n.split("/")[1] in ("LOCK", "LOG") for n in index)
    assert {f"{DUMPS_DIR}/{p.name}" for p in (release.path / DUMPS_DIR).iterdir()} <= set(files)
    for name, digest in files.items():
        assert hashlib.sha256((release.path / name).read_bytes()).hexdigest() == digest
    assert release.damage() == []


def test_kg_verify_names_each_damaged_file(release, release_dir: Path, tmp_path: Path):
    releases = copy_releases(release_dir, tmp_path)
    version = current(releases)
    sound = run_kg("--release-dir", str(releases), "verify")
    assert sound.returncode == 0 and "is sound" in sound.stdout, sound.stdout + sound.stderr
    table, dump = largest_table(version), a_dump(version)
    flip_bytes(table)
    flip_bytes(dump)
    damaged = run_kg("--release-dir", str(releases), "verify")
    assert damaged.returncode == 1, damaged.stdout + damaged.stderr
    assert f"version {version.id} is damaged" in damaged.stdout
    assert f"{OXIGRAPH_DIR}/{table.name} does not match" in damaged.stdout
    assert f"{DUMPS_DIR}/{dump.name} does not match" in damaged.stdout
    assert str(releases) not in damaged.stdout + damaged.stderr
    named = run_kg("--release-dir", str(releases), "verify", version.id)
    assert named.returncode == 1 and table.name in named.stdout
    missing = run_kg("--release-dir", str(releases), "verify", "0123456789abcdef-7")
    assert missing.returncode == 1 and "does not exist" in missing.stdout


def test_a_damaged_update_is_refused_at_start_and_the_version_before_it_served(
        release, release_dir: Path, tmp_path: Path):
    releases = copy_releases(release_dir, tmp_path)
    built = current(releases)
    summary = apply_update(Config(release_dir=releases), f"INSERT DATA {{ {LABEL} }}")
    updated = current(releases)
    assert updated.id == summary.version != built.id
    table, dump = largest_table(updated), a_dump(updated)
    flip_bytes(table)
    flip_bytes(dump)
    log = tmp_path / "server.log"
    server = start_server(releases, log=log)
    try:
        said = log.read_text(errors="replace")
        assert f"version {updated.id} is damaged" in said, said
        assert f"{OXIGRAPH_DIR}/{table.name}" in said and f"{DUMPS_DIR}/{dump.name}" in said
        assert f"serving version {built.id} instead" in said, said
        health = server.get("/health").json()
        assert health["status"] == "ok" and health["version"] == built.id
        assert server.get("/page/astana").status_code == 200
        assert not ask(server, LABEL)
        dumps = server.get("/dumps/", headers={"Accept": "application/json"}).json()
        assert dumps["version"] == built.id
    finally:
        stop_server(server.process)
    assert current(releases) == built


def test_a_changed_dump_is_found_at_start_and_served_with_its_true_checksum(
        release, release_dir: Path, tmp_path: Path):
    releases = copy_releases(release_dir, tmp_path)
    built = current(releases)
    dump = a_dump(built)
    flip_bytes(dump)
    log = tmp_path / "server.log"
    server = start_server(releases, log=log, startup=300)
    try:
        said = log.read_text(errors="replace")
        assert f"{DUMPS_DIR}/{dump.name} does not match" in said, said
        assert "building the release again" in said, said
        served = server.get(f"/dumps/{dump.name}")
        assert served.status_code == 200
        assert served.headers["ETag"].strip('"') == hashlib.sha256(served.content).hexdigest()
        assert current(releases).damage() == []
    finally:
        stop_server(server.process)


def _kill_query_processes(server: Server) -> None:
    """The query processes open the store again when they are replaced (once the killed
    ones have ended: the pool replaces a process that died while idle)."""
    killed = set(_runner_pids(server))
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while killed & set(_runner_pids(server)) and time.monotonic() < deadline:
        time.sleep(0.1)


def _no_path(r: requests.Response, releases: Path) -> None:
    assert r.status_code == 503, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("text/plain")
    assert "could not be read" in r.text, r.text
    for secret in (str(releases), str(releases.parent), ".sst", "/tmp"):
        assert secret not in r.text, r.text


def test_a_store_damaged_under_a_running_server_is_503_without_file_paths(
        release, release_dir: Path, tmp_path: Path):
    releases = copy_releases(release_dir, tmp_path)
    version = current(releases)
    log = tmp_path / "server.log"
    server = start_server(releases, log=log)
    try:
        assert server.get("/page/astana").status_code == 200
        for table in version.index.glob("*.sst"):
            flip_bytes(table)
        _kill_query_processes(server)
        query = {"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } # damaged"}
        _no_path(server.get("/sparql", params=query, headers={"Accept": JSON}), releases)
        _no_path(server.get("/page/kazakhstan"), releases)
        # the store gone altogether
        shutil.rmtree(version.index)
        _kill_query_processes(server)
        for r in (server.get("/sparql", params={"query": "ASK { ?s ?p ?o } # gone"},
                             headers={"Accept": JSON}),
                  server.get("/page/almaty"), server.get("/health")):
            _no_path(r, releases)
            assert f"version {version.id}" in r.text and "out of memory" not in r.text
        # the operator's log has the details
        said = log.read_text(errors="replace")
        assert "oxigraph" in said.lower() and version.id in said
    finally:
        stop_server(server.process)


@pytest.fixture
def small_disk(tmp_path: Path, release, release_dir: Path):
    """A copy of the release folder on a file system with about 1 MB free: too little for
    the next version."""
    mount = tmp_path / "disk"
    mount.mkdir()
    used = sum(p.stat().st_size for p in release_dir.rglob("*") if p.is_file())
    size = used + 1024 * 1024
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {done.stderr.strip()}")
    try:
        yield copy_releases(release_dir, mount)
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_during_an_update_is_507_and_leaves_no_partial_version(small_disk: Path,
                                                                           tmp_path: Path):
    releases = small_disk
    before = current(releases)
    server = start_server(releases, log=tmp_path / "server.log",
                          env={"KG_UPDATE_TOKEN": TOKEN})
    try:
        r = server.post("/update", data={"update": f"INSERT DATA {{ {LABEL} }}"}, headers=AUTH)
        assert r.status_code == 507, (r.status_code, r.text)
        assert r.headers["Content-Type"].startswith("text/plain")
        assert r.text.strip() == "the disk is full: the update was not applied"
        assert not list(releases.glob(".tmp-*"))
        assert current(releases) == before
        assert server.get("/health").json()["version"] == before.id
        assert not ask(server, LABEL)
        assert server.get("/page/astana").status_code == 200
    finally:
        stop_server(server.process)
