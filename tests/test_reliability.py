"""Reliability against the real gunicorn server: load, killed and hung workers, a server
killed during an update, missing, corrupt and half-written releases.

Every server here serves its own copy of the release folder (or the shared one read-only),
so that faults injected here never reach the other tests.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests
from bench.load import costly_phase_passed, process_tree, run_phase, workload
from tests.conftest import Server, free_port, kg_command, start_server, stop_server, wait_for

from kg.pipeline.release import DATASET, Version

BASE = "https://w3id.org/kazkor/"
TOKEN = "reliability-token"
JSON = "application/sparql-results+json"
COUNTRIES = ("SELECT ?c WHERE { ?c a <https://w3id.org/kazkor/ontology#Country> } "
             "ORDER BY ?c")


def copy_releases(release_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "releases"
    shutil.copytree(release_dir, copy, symlinks=True)
    return copy


def countries(server: Server) -> list[str]:
    r = server.get("/sparql", params={"query": COUNTRIES}, headers={"Accept": JSON})
    assert r.status_code == 200, r.text
    return [b["c"]["value"] for b in r.json()["results"]["bindings"]]


def workers(server: Server) -> list[int]:
    """The gunicorn workers: the master's children (query processes are the workers')."""
    tree = process_tree(server.process.pid)
    return [pid for pid in tree if pid != server.process.pid and _parent(pid) == server.process.pid]


def _stat(pid: int, field: int) -> int | None:
    """A number from /proc/PID/stat after the command: 1 the parent, 3 the session."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[field])
    except OSError:
        return None


def _parent(pid: int) -> int | None:
    return _stat(pid, 1)


# ---- load --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def short_timeout_server(release, release_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("load") / "server.log"
    srv = start_server(release_dir, log=log, env={"KG_QUERY_TIMEOUT": "3"})
    yield srv
    stop_server(srv.process)


@pytest.mark.slow
def test_mix_of_queries_pages_and_dumps_under_load_has_no_errors(short_timeout_server):
    requests_ = workload(short_timeout_server.url)
    assert {r.kind for r in requests_} == {"query", "page", "dump"}
    report = run_phase("mix", short_timeout_server.url, 8, 10, requests_,
                       server_pid=short_timeout_server.process.pid)
    assert len(report.results) > len(requests_)
    assert report.errors() == []
    assert report.rss and all(mb > 0 for _, mb in report.rss)


@pytest.mark.slow
def test_cheap_queries_are_answered_while_costly_ones_are_stopped(short_timeout_server):
    requests_ = workload(short_timeout_server.url)
    report = run_phase("costly", short_timeout_server.url, 8, 10, requests_, costly_clients=2)
    assert costly_phase_passed(report), report.describe()
    first = min(report.of("costly"), key=lambda r: r.started)
    answered_meanwhile = [r for r in report.of("query", "page", "dump")
                          if first.started < r.started
                          and r.started + r.seconds < first.started + first.seconds]
    assert answered_meanwhile, report.describe()
    assert any(r.kind == "query" for r in answered_meanwhile)


# ---- workers -----------------------------------------------------------------------------

@pytest.fixture
def fragile_server(release, release_dir: Path, tmp_path: Path):
    srv = start_server(release_dir, log=tmp_path / "server.log")
    wait_for(lambda: len(workers(srv)) == 2, 60, "two workers")
    yield srv
    stop_server(srv.process)


def test_a_killed_worker_is_replaced_and_requests_keep_succeeding(fragile_server):
    expected = countries(fragile_server)
    victim = workers(fragile_server)[0]
    os.kill(victim, signal.SIGKILL)
    for _ in range(20):
        assert countries(fragile_server) == expected
    wait_for(lambda: len(workers(fragile_server)) == 2 and victim not in workers(fragile_server),
             60, "a new worker in place of the killed one")
    for _ in range(10):
        assert countries(fragile_server) == expected
    assert f"Worker (pid:{victim}) was sent SIGKILL" in fragile_server.log.read_text()


@pytest.mark.slow
def test_a_hung_worker_is_replaced_and_requests_keep_succeeding(fragile_server):
    expected = countries(fragile_server)
    victim = workers(fragile_server)[0]
    os.kill(victim, signal.SIGSTOP)  # hangs: no heartbeat, accepts nothing
    try:
        for _ in range(20):
            assert countries(fragile_server) == expected
        # gunicorn's worker timeout (60 s) ends it; a new worker takes its place
        wait_for(lambda: victim not in workers(fragile_server)
                 and len(workers(fragile_server)) == 2, 120, "the hung worker replaced")
    finally:
        if victim in workers(fragile_server):
            os.kill(victim, signal.SIGCONT)
    for _ in range(10):
        assert countries(fragile_server) == expected
    assert b"WORKER TIMEOUT" in fragile_server.log.read_bytes()


# ---- a server killed during an update ----------------------------------------------------

def agreement(number: int) -> str:
    return f"""PREFIX kko: <https://w3id.org/kazkor/ontology#>
PREFIX kkid: <https://w3id.org/kazkor/id/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
INSERT DATA {{
  kkid:reliability-agreement-{number} a kko:CooperationAgreement ;
    rdfs:label "Reliability agreement {number}"@en ;
    kko:party kkid:kazakhstan, kkid:south-korea ;
    dcterms:source <https://w3id.org/kazkor/id/paper/section/abstract> .
}}"""


def asserted_triples(server: Server, number: int) -> int:
    query = (f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{BASE}graph/data> {{ "
             f"<{BASE}id/reliability-agreement-{number}> ?p ?o }} }}")
    r = server.get("/sparql", params={"query": query}, headers={"Accept": JSON})
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def test_server_killed_during_updates_keeps_every_acknowledged_one_whole(
        release, release_dir: Path, tmp_path: Path):
    releases = copy_releases(release_dir, tmp_path)
    env = {"KG_UPDATE_TOKEN": TOKEN}
    server = start_server(releases, log=tmp_path / "before.log", env=env)
    acknowledged: list[int] = []
    sent: list[int] = []

    def send_updates() -> None:
        for number in range(50):
            sent.append(number)
            try:
                r = requests.post(server.url + "/update", data={"update": agreement(number)},
                                  headers={"Authorization": f"Bearer {TOKEN}"}, timeout=120)
            except requests.RequestException:
                return
            assert r.status_code == 200, r.text
            acknowledged.append(number)

    writer = threading.Thread(target=send_updates)
    writer.start()
    try:
        wait_for(lambda: len(acknowledged) >= 2, 300, "two acknowledged updates")
        time.sleep(0.4)  # the next update is on its way or being written
        in_flight = len(sent) > len(acknowledged)
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()
    finally:
        writer.join(130)
    assert in_flight
    restarted = start_server(releases, log=tmp_path / "after.log", env=env)
    try:
        for number in acknowledged:
            assert asserted_triples(restarted, number) == 5, number
        for number in set(sent) - set(acknowledged):
            assert asserted_triples(restarted, number) in (0, 5), number
        # the store still takes updates after the crash
        r = restarted.post("/update", data={"update": agreement(99)},
                           headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200, r.text
        assert asserted_triples(restarted, 99) == 5
    finally:
        stop_server(restarted.process)


# ---- releases on disk --------------------------------------------------------------------

def _truncate_dataset(release: Path) -> str:
    dataset = release / DATASET
    with dataset.open("r+b") as f:
        f.truncate(dataset.stat().st_size // 2)
    return "truncated"


def _remove_release(release: Path) -> str:
    shutil.rmtree(release)
    return "is missing"


def _remove_index(release: Path) -> str:
    shutil.rmtree(release / "oxigraph")
    return "Oxigraph index"


@pytest.mark.parametrize("damage", [_truncate_dataset, _remove_release, _remove_index],
                         ids=["truncated-dataset", "missing-release", "missing-index"])
def test_a_broken_release_is_detected_at_start_and_rebuilt(release, release_dir: Path,
                                                           tmp_path: Path, damage):
    releases = copy_releases(release_dir, tmp_path)
    served = Version((releases / "current").resolve())
    said = damage(served.path)
    # a half-written release beside it: a staging folder with a partial dataset
    staging = releases / f".tmp-{served.id}-12345"
    staging.mkdir()
    (staging / DATASET).write_text("<urn:half> <urn:written> ", encoding="utf-8")
    log = tmp_path / "server.log"
    server = start_server(releases, log=log)
    try:
        text = log.read_text(errors="replace")
        assert said in text and "building the release again" in text, text
        health = server.get("/health").json()
        assert served.id in str(health)
        Version((releases / "current").resolve()).check()
        assert (releases / "current").resolve() == served.path
        assert BASE + "id/kazakhstan" in countries(server)
    finally:
        stop_server(server.process)


@pytest.mark.parametrize("after", [0.0, 0.3, 0.8, None])
def test_ctrl_c_stops_the_server_quietly_at_any_moment(release_dir: Path, tmp_path: Path,
                                                       after: float | None):
    """Ctrl-C at the terminal (SIGINT to the foreground process group, the server's) just
    after its workers booted, while they start the templates of their query processes
    (which import for about a third of a second), or once it answers: the server ends,
    prints no traceback, and leaves no process behind."""
    log = tmp_path / "serve.log"
    process, port = _serve_in_a_session(release_dir, log)
    try:
        if after is None:
            wait_for(lambda: _answers(f"http://127.0.0.1:{port}/health"), 60, "/health")
        else:
            wait_for(lambda: log.read_text(errors="replace").count("Booting worker") >= 2,
                     60, "both workers to boot")
            time.sleep(after)
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
        wait_for(lambda: not [pid for pid in map(int, filter(str.isdigit, os.listdir("/proc")))
                              if _stat(pid, 3) == process.pid], 10,
                 "every process of the server to end")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert "Traceback" not in log.read_text(errors="replace")


def _serve_in_a_session(release_dir: Path, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """``kg serve`` with two workers, in a session (and process group) of its own, as a
    terminal starts it: its output in ``log``; the process and its port."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            kg_command("--release-dir", str(release_dir), "serve", "--port", str(port),
                       "--workers", "2"),
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    return process, port


def test_every_request_is_in_the_access_log_soon_and_at_the_stop(release_dir: Path,
                                                                 tmp_path: Path):
    """The access log is written in batches off the requests' path: each request's line is
    there within moments, and a Ctrl-C right after a burst loses none."""
    log = tmp_path / "serve.log"
    process, port = _serve_in_a_session(release_dir, log)
    url = f"http://127.0.0.1:{port}/health"
    try:
        wait_for(lambda: _answers(url), 60, "/health")
        with requests.Session() as session:
            for n in range(40):
                assert session.get(f"{url}?n={n}", timeout=10).status_code == 200
            wait_for(lambda: _logged(log, range(40)), 10, "the 40 lines in the log")
            for n in range(40, 400):  # more than a batch (ACCESS_BATCH_LINES)
                assert session.get(f"{url}?n={n}", timeout=10).status_code == 200
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    text = log.read_text(errors="replace")
    assert _logged(log, range(400)), [n for n in range(400) if f"?n={n} HTTP" not in text]
    assert "Traceback" not in text


def _logged(log: Path, numbers: range) -> bool:
    """Whether each request ``/health?n=N`` has exactly one line in the access log."""
    text = log.read_text(errors="replace")
    return all(text.count(f'"GET /health?n={n} HTTP/1.1" 200') == 1 for n in numbers)

def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False
