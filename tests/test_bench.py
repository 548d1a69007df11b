"""`make bench`'s instrument: distinct texts, wrk's scripts and a quick run against `kg serve`.

The quick run takes the pieces that need no Virtuoso (ours and the bare app, every HTTP
workload, one round of 1 s runs) and checks that the report and the raw figures are
there and sane. Nothing here asserts a speed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from bench import wrk
from bench.procs import free_port
from bench.workloads import (
    distinct_path,
    distinct_text,
    document_item,
    lua_script,
    sparql_item,
)
from tests.system_packages import require

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def needs_wrk() -> None:
    require("wrk")


QUERY = ('PREFIX ex: <http://example.org/?s=1#>\n'
         'SELECT ?s (COUNT(?o) AS ?n) WHERE { ?s ex:p ?o ; ex:q "?s" } # ?s in a comment\n'
         'GROUP BY ?s ORDER BY ?s')


def test_a_distinct_text_renames_the_first_variable_only_where_it_is_a_variable():
    text = distinct_text(QUERY, 17)
    assert text == ('PREFIX ex: <http://example.org/?s=1#>\n'
                    'SELECT ?s_17 (COUNT(?o) AS ?n) WHERE { ?s_17 ex:p ?o ; ex:q "?s" } '
                    '# ?s in a comment\nGROUP BY ?s_17 ORDER BY ?s_17')
    assert distinct_text(QUERY, 18) != text
    assert distinct_text("ASK { <a:b> <c:d> <e:f> }", 3) == "ASK { <a:b> <c:d> <e:f> }\n# request 3"


def test_a_distinct_path_is_the_encoded_distinct_text():
    from urllib.parse import parse_qs, urlsplit

    item = sparql_item("q", QUERY)
    assert parse_qs(urlsplit(item.path).query)["query"] == [QUERY]
    assert parse_qs(urlsplit(distinct_path(item, 5)).query)["query"] == [distinct_text(QUERY, 5)]
    assert distinct_path(document_item("x", "/page/x"), 5) == "/page/x?request=5"


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    paths: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        self.paths.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.usefixtures("needs_wrk")
def test_wrk_sends_every_request_distinct_uncached_and_repeated_cached(tmp_path: Path):
    items = [sparql_item("a", QUERY), sparql_item("b", "SELECT * WHERE { ?x ?y ?z }"),
             document_item("c", "/data/c.ttl")]
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        _Recorder.paths = []
        script = lua_script(items, "text/plain", True, 1000, wrk.THREADS, tmp_path / "u.lua")
        figures = wrk.run(url, script, 1, tmp_path / "wrk.log")
        distinct = list(_Recorder.paths)
        _Recorder.paths = []
        script = lua_script(items, "text/plain", False, 0, wrk.THREADS, tmp_path / "c.lua")
        wrk.run(url, script, 1, tmp_path / "wrk.log")
        cached = list(_Recorder.paths)
    finally:
        server.shutdown()
    assert figures.requests > 0 and figures.errors == 0 and figures.client_cpu >= 0
    assert len(distinct) >= figures.requests and len(set(distinct)) == len(distinct)
    # each is one item made distinct by an n of its own, as the Python side makes it
    expected = {distinct_path(item, n) for item in items
                for n in range(1000, 1000 + wrk.THREADS * (len(distinct) + 10))}
    assert set(distinct) <= expected
    assert set(cached) == {item.path for item in items}


@pytest.mark.slow
@pytest.mark.usefixtures("needs_wrk")
def test_the_quick_bench_measures_kg_serve_the_bare_and_the_isolated_app(
        release_dir: Path, release: object, tmp_path: Path):
    output = tmp_path / "benchmarks.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--no-virtuoso",
         "--only", "http", "--duration", "1", "--entities", "8", "--work", str(tmp_path),
         "--release-dir", str(release_dir), "--output", str(output)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
        # run as a user runs it, not as `make` runs it (`make test` sets MAKELEVEL)
        env={k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS")})
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads((tmp_path / "results.json").read_text())
    model = results["model"]
    assert model["worker_class"] and model["workers"] >= 1 and model["threads"] >= 1
    assert set(results["servers"]) == {"ours", "bare", "isolated"}
    for label in results["servers"].values():
        assert label.endswith(("keep-alive: yes", "keep-alive: no")), label
    runs = results["http"]["runs"]
    expected = {(w, v, s) for w in ("cheap", "iri", "cq") for s in ("ours", "bare", "isolated")
                for v in ("cached", "uncached")}
    expected |= {(w, v, "ours") for w in ("page", "data") for v in ("cached", "uncached")}
    assert {(r["workload"], r["variant"], r["server"]) for r in runs} == expected
    for run in runs:
        assert run["requests"] > 0 and run["errors"] == 0, run
        assert run["rps"] > 0 and 0 < run["p50"] <= run["p99"], run
        assert run["cpu_web"] + run["cpu_workers"] > 0, run
        if run["server"] == "bare":  # one process per worker: all of it holds the socket
            assert run["cpu_workers"] == 0, run
        if run["server"] == "isolated":  # its queries run in its query processes
            assert run["cpu_workers"] > 0, run
    # every request's answers agreed on both servers, as it is and made distinct
    for workload in results["workloads"]:
        assert workload["dropped"] == {}, workload
        assert workload["items"] > 0
    [load] = results["http"]["loads"]
    assert len(load["before"].split()) == 3 and len(load["after"].split()) == 3
    text = output.read_text()
    for heading in ("## Goals", "### Uncached (a distinct text per request)",
                    "### Cached (repeated texts)", "### Ratios within a round",
                    "### Load average, round by round"):
        assert heading in text
    assert "| iri | ours |" in text and "| iri | bare |" in text
    assert "| iri | isolated |" in text and "isolated ÷ bare" in text
    assert "python bench/run.py --quick --no-virtuoso" in text
