"""A remote store that is down or slow: clear 502/504 answers, and service resumes.

A tiny SPARQL endpoint started here stands in for the remote server (Virtuoso in
production): it answers every query with one solution, or answers slowly, or is stopped.
The real gunicorn server runs ``kg serve --store remote:URL`` with a short query timeout.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from tests.conftest import Server, free_port, start_server, stop_server

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
JSON = "application/sparql-results+json"
TIMEOUT = 3


class StandIn:
    """A SPARQL endpoint on loopback that can be made slow, stopped and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/sparql"
        self.delay = 0.0
        self._httpd: ThreadingHTTPServer | None = None

    def start(self) -> None:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, query: str) -> None:
                time.sleep(stand_in.delay)
                names = [w.strip("?") for w in query.replace("(", " ").replace(")", " ").split()
                         if w.startswith("?")][:1] or ["n"]
                body = json.dumps({"head": {"vars": names}, "results": {"bindings": [{
                    names[0]: {"type": "literal", "value": "7",
                               "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}]}})
                self.send_response(200)
                self.send_header("Content-Type", JSON)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def do_GET(self) -> None:  # noqa: N802
                self._answer(parse_qs(self.path.partition("?")[2]).get("query", [""])[0])

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                self._answer(form.get("query", [""])[0])

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None


@pytest.fixture(scope="module")
def remote(release, release_dir: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[Server, StandIn]]:
    stand_in = StandIn()
    stand_in.start()
    log = tmp_path_factory.mktemp("remote-faults") / "server.log"
    server = start_server(release_dir, store=f"remote:{stand_in.url}", log=log,
                          env={"KG_QUERY_TIMEOUT": str(TIMEOUT)})
    yield server, stand_in
    stop_server(server.process)
    stand_in.stop()


_calls = itertools.count()


def count(server: Server):  # type: ignore[no-untyped-def]
    # a new text each time: an answer from the answer cache would not reach the store
    return server.get("/sparql", params={"query": f"{COUNT} # {next(_calls)}"},
                      headers={"Accept": JSON})


def test_a_slow_remote_store_gives_504_and_service_resumes(remote):
    server, stand_in = remote
    first = count(server)
    assert first.status_code == 200, first.text
    assert first.json()["results"]["bindings"][0]["n"]["value"] == "7"
    stand_in.delay = TIMEOUT * 4
    try:
        r = count(server)
    finally:
        stand_in.delay = 0
    assert r.status_code == 504, r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    assert "did not answer within" in r.text
    r = count(server)
    assert r.status_code == 200 and r.json()["results"]["bindings"][0]["n"]["value"] == "7"


def test_a_remote_store_that_is_down_gives_502_and_service_resumes(remote):
    server, stand_in = remote
    stand_in.stop()
    try:
        for _ in range(3):
            r = count(server)
            assert r.status_code == 502, r.text
            assert "cannot reach the SPARQL server" in r.text
        assert server.get("/health").status_code == 502
    finally:
        stand_in.start()
    r = count(server)
    assert r.status_code == 200 and r.json()["results"]["bindings"][0]["n"]["value"] == "7"
    assert server.get("/health").status_code == 200
