"""Bounded under load: long work is scarce, each client has a budget, memory is capped, pages
have a lane of their own, and slow clients hold no worker.

The server tests start real `kg serve` processes with small limits, and send each client's
requests from an address of its own on the loopback network (127.0.0.x), as separate
machines would.
"""

from __future__ import annotations

import http.client
import json
import multiprocessing
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import Server, start_server, stop_server
from tests.test_sparql_protocol import _runner_pids

from kg.served import SPARQL_NICE
from kg.served.admission import PAUSE_SECONDS, Admission, Refused

#: long work in little memory: a count over a cross product of the graph with itself
COSTLY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f }"
CHEAP = "SELECT ?p ?o WHERE { <https://w3id.org/kazkor/id/astana> ?p ?o } LIMIT %d"
DOUBLING = ('SELECT ?x { BIND("aaaaaaaaaaaaaaaa" AS ?a0) '
            + " ".join(f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(28))
            + " BIND(STRLEN(?a28) AS ?x) }")


# ---- the admission state, shared by processes ----------------------------------------------

def test_long_slots_are_bounded_across_workers(tmp_path: Path) -> None:
    path = tmp_path / "admission"
    here = Admission(path, long_queries=2, budget_seconds=0)
    assert here.start_long("127.0.0.2")
    assert not here.start_long("127.0.0.2"), "one long query per client"

    def other_worker(answer: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
        worker = Admission(path, long_queries=2, budget_seconds=0)
        answer.put((worker.start_long("127.0.0.3"), worker.start_long("127.0.0.4")))

    answers: multiprocessing.Queue = multiprocessing.get_context("fork").Queue()  # type: ignore[type-arg]
    process = multiprocessing.get_context("fork").Process(target=other_worker, args=(answers,))
    process.start()
    process.join(30)
    assert answers.get(timeout=5) == (True, False), "the server's two slots were taken"
    # the other worker ended: its slot is free again, ours is still held
    assert here.long_running() == 1
    assert here.start_long("127.0.0.4")
    here.finish("127.0.0.2", 3.0, long=True)
    assert here.long_running() == 1


def test_a_spent_budget_is_refused_until_it_refills(tmp_path: Path) -> None:
    admission = Admission(tmp_path / "admission", long_queries=2, budget_seconds=6)
    admission.check("127.0.0.2")
    admission.finish("127.0.0.2", 7.0, long=True)
    with pytest.raises(Refused) as refused:
        admission.check("127.0.0.2")
    assert refused.value.status == 429 and "6 s of query time per minute" in refused.value.message
    assert 1 <= refused.value.retry_after <= 20
    admission.check("127.0.0.3")  # another client is not concerned


def test_a_stopped_query_makes_its_client_pause(tmp_path: Path) -> None:
    admission = Admission(tmp_path / "admission", long_queries=1, budget_seconds=0)
    admission.finish("127.0.0.2", 0.5, stopped=True)
    with pytest.raises(Refused) as refused:
        admission.check("127.0.0.2")
    assert refused.value.retry_after <= PAUSE_SECONDS and "was stopped" in refused.value.message


def test_a_stopped_client_is_on_probation_in_every_worker(tmp_path: Path) -> None:
    """After a stopped query its client leaves a worker's last idle process to the others
    (the pool's reserve), in this worker at once and in the others once they read it."""
    path = tmp_path / "admission"
    here = Admission(path, long_queries=1, budget_seconds=0)
    there = Admission(path, long_queries=1, budget_seconds=0)
    assert not here.stopped_lately("127.0.0.2")
    here.finish("127.0.0.2", 0.5, stopped=True)
    assert here.stopped_lately("127.0.0.2") and not here.stopped_lately("127.0.0.3")
    with pytest.raises(Refused):  # the pause; reading it tells the other worker
        there.check("127.0.0.2")
    assert there.stopped_lately("127.0.0.2")


# ---- through a real server ------------------------------------------------------------------

class Client:
    """HTTP from one loopback address, as one machine."""

    def __init__(self, server: Server, address: str) -> None:
        self.port = int(server.url.rsplit(":", 1)[1])
        self.address = address

    def get(self, path: str, timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout,
                                                source_address=(self.address, 0))
        try:
            connection.request("GET", path, headers={"Accept": "application/sparql-results+json"})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def query(self, text: str, timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
        return self.get("/sparql?" + urllib.parse.urlencode({"query": text}), timeout)


@pytest.fixture(scope="module")
def tight(release, release_dir: Path,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with one slot for long work, small memory and a short time limit."""
    log = tmp_path_factory.mktemp("admission") / "server.log"
    server = start_server(release_dir, "--workers", "1", log=log, env={
        "KG_LONG_QUERIES": "1", "KG_SHORT_QUERY_SECONDS": "0.4", "KG_QUERY_TIMEOUT": "6",
        "KG_QUERY_MEMORY_MB": "384", "KG_CLIENT_BUDGET_SECONDS": "600",
        "KG_QUERY_PROCESSES": "3", "KG_PAGE_PROCESSES": "1"})
    yield server
    stop_server(server.process)


def test_every_lane_and_a_standby_are_started_before_the_first_request(tight: Server) -> None:
    """One worker: 3 SPARQL processes, their standby, 1 process for the pages, 1 for
    lookups; the SPARQL lane's below the others in priority."""
    deadline = time.monotonic() + 60
    while len(_runner_pids(tight)) < 6 and time.monotonic() < deadline:
        time.sleep(0.2)
    pids = _runner_pids(tight)
    assert len(pids) == 6
    nice = sorted(int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
                  for pid in pids)
    assert nice == [0, 0, SPARQL_NICE, SPARQL_NICE, SPARQL_NICE, SPARQL_NICE]


def test_long_work_takes_the_one_slot_and_cheap_queries_still_run(tight: Server) -> None:
    first: dict[str, tuple[int, dict[str, str], bytes]] = {}
    long = threading.Thread(target=lambda: first.update(
        r=Client(tight, "127.0.0.2").query(COSTLY)))
    long.start()
    time.sleep(1.5)  # past the short stretch: it holds the slot now
    status, headers, body = Client(tight, "127.0.0.3").query(COSTLY)
    assert status == 503 and b"slots for long queries were taken" in body
    assert headers["Retry-After"] == str(int(PAUSE_SECONDS))
    # and that client pauses: its next query is refused at once
    status, headers, body = Client(tight, "127.0.0.3").query(CHEAP % 1)
    assert status == 429 and int(headers["Retry-After"]) <= PAUSE_SECONDS
    # a third client's cheap query runs meanwhile, fast
    started = time.monotonic()
    status, _, _ = Client(tight, "127.0.0.4").query(CHEAP % 2)
    assert status == 200 and time.monotonic() - started < 5
    long.join(30)
    assert first["r"][0] == 503 and b"limit" in first["r"][2]


def test_reconciliation_is_long_work_under_the_same_rules(tight: Server) -> None:
    """A heavy reconciliation batch while the one slot for long work is taken: stopped
    (503, Retry-After), and its client pauses for SPARQL too."""
    long = threading.Thread(target=Client(tight, "127.0.0.40").query, args=(COSTLY,))
    long.start()
    time.sleep(1.5)  # past the short stretch: it holds the slot now
    # 1,000 characters of one-letter words, each a part of many names: every query of the
    # batch scores most of the graph's names (0.7 s a batch in one process, on an idle
    # machine of 2026, where the words of no name took 0.26 s: too close to the stretch)
    words = ("a e i o u k " * 84)[:1000]
    batch = {f"q{i}": {"query": words, "limit": 100} for i in range(100)}
    port = int(tight.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60,
                                            source_address=("127.0.0.41", 0))
    connection.request("POST", "/reconcile", urllib.parse.urlencode(
        {"queries": json.dumps(batch)}), {"Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert response.status == 503, body
    assert b"slots for long queries were taken" in body
    assert response.getheader("Retry-After") == str(int(PAUSE_SECONDS))
    status, _, _ = Client(tight, "127.0.0.41").query(CHEAP % 4)
    assert status == 429
    long.join(30)


def test_a_query_past_its_memory_is_stopped_and_said_so(tight: Server) -> None:
    status, _, body = Client(tight, "127.0.0.5").query(DOUBLING)
    assert status == 503, body
    assert b"more memory than a query may use" in body and b"384 MB" in body
    # the process was replaced: the next client is served
    status, _, _ = Client(tight, "127.0.0.6").query(CHEAP % 3)
    assert status == 200


def test_pages_are_served_while_every_sparql_process_is_busy(tight: Server) -> None:
    busy = [threading.Thread(target=Client(tight, f"127.0.0.{10 + k}").query, args=(COSTLY,))
            for k in range(3)]
    for thread in busy:
        thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    status, _, body = Client(tight, "127.0.0.20").get("/page/astana")
    assert status == 200 and b"Astana" in body
    assert time.monotonic() - started < 5
    for thread in busy:
        thread.join(30)


def test_slow_clients_hold_no_worker(tight: Server) -> None:
    """Eight connections that send a header line every second: the one worker keeps
    answering everyone else."""
    port = int(tight.url.rsplit(":", 1)[1])
    slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
    try:
        for s in slow:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for k in range(3):
            for s in slow:
                s.sendall(f"X-Slow-{k}: 1\r\n".encode())
            started = time.monotonic()
            status, _, _ = Client(tight, "127.0.0.30").get("/health", timeout=10)
            assert status == 200 and time.monotonic() - started < 2
            time.sleep(1)
    finally:
        for s in slow:
            s.close()


@pytest.fixture(scope="module")
def two_processes(release, release_dir: Path,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with two SPARQL processes per worker and no stopping at a first stretch:
    costly queries run to their time limit."""
    log = tmp_path_factory.mktemp("lookups") / "server.log"
    server = start_server(release_dir, "--workers", "1", log=log, env={
        "KG_QUERY_PROCESSES": "2", "KG_SHORT_QUERY_SECONDS": "60", "KG_QUERY_TIMEOUT": "12",
        "KG_LONG_QUERIES": "16", "KG_CLIENT_BUDGET_SECONDS": "600"})
    yield server
    stop_server(server.process)


def test_a_lookup_takes_the_process_that_other_work_leaves_idle(two_processes: Server) -> None:
    """Three new clients send costly queries at once: one runs, two wait, and the second
    process is left idle. A lookup (every triple pattern names an IRI) from a fourth client
    is answered while all three still run or wait (in the lookups' process, or that idle
    one); a query that is not a lookup, from a fifth, may take neither (it waits for a
    process to its 1 s limit)."""
    costly: dict[int, tuple[int, dict[str, str], bytes]] = {}
    threads = [threading.Thread(target=lambda k=k: costly.update(
        {k: Client(two_processes, f"127.0.3.{k}").query(COSTLY)})) for k in range(1, 4)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    status, _, body = Client(two_processes, "127.0.3.10").query(CHEAP % 5)
    assert status == 200 and len(json.loads(body)["results"]["bindings"]) == 5
    assert all(thread.is_alive() for thread in threads)
    status, _, body = Client(two_processes, "127.0.3.11").get(
        "/sparql?" + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }", "timeout": "1"}))
    assert status == 503 and b"no query process was free" in body
    assert all(thread.is_alive() for thread in threads)
    for thread in threads:
        thread.join(60)
    assert {answer[0] for answer in costly.values()} == {503}
