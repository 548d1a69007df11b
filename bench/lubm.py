"""The 14 LUBM queries: store backends on closed LUBM(1), our endpoint vs Virtuoso on LUBM(10).

Every run of a query sends a text of its own (its first variable renamed, ``?X`` to
``?X_n``), so that no cache answers it. Answer counts are checked against the reference
counts of ``../shared/bench/lubm``.

- LUBM(1), closed by owlrl: oxigraph and rdflib in process (rdflib in a forked child
  with a cap), Virtuoso over HTTP; the figures of decision 0001.
- LUBM(10) (LUBM(1) for a smoke run), built by ``kg build`` on the large-input path:
  ``kg serve`` over the release and a Virtuoso holding the union of its graphs as its
  default graph, sent the same plain requests, interleaved query by query (who goes
  first alternates), after one untimed pass that warms both up and checks the counts.
  A request is timed from sending to the last byte of the answer; the client parses it
  after the clock stops.
"""

from __future__ import annotations

import gzip
import json
import multiprocessing
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import requests
from bench.builds import LUBM_ENV, BuildResults, build_lubm
from bench.servers import UNION_GRAPH, start_ours, start_virtuoso, union_file
from bench.workloads import JSON_RESULTS, distinct_text

QUERY_NAMES = [f"q{i:02d}" for i in range(1, 15)]
LUBM1_GRAPH = "http://lubm.example/graph/lubm1"
#: a query slower than this (seconds) on its first run is not run again
SLOW = 60.0


def lubm_dir(root: Path) -> Path:
    """``LUBM_DIR``, else ``../shared/bench/lubm`` beside the checkout (or beside its
    parent, for a git worktree kept one level deeper)."""
    if "LUBM_DIR" in os.environ:
        return Path(os.environ["LUBM_DIR"]).resolve()
    candidates = [p / "shared" / "bench" / "lubm" for p in (root.parent, root.parent.parent)]
    return next((c for c in candidates if c.is_dir()), candidates[0])


def lubm_queries(lubm: Path) -> dict[str, str]:
    return {name: (lubm / "queries" / f"{name}.rq").read_text() for name in QUERY_NAMES}


def expected_counts(lubm: Path, scale: int) -> dict[str, int]:
    lines = (lubm / f"answers-lubm{scale}.tsv").read_text().splitlines()[1:]
    return {name: int(n) for name, n in (line.split("\t") for line in lines)}


class Distinct:
    """Gives each query a text no other request of the benchmark had (its first variable
    renamed, bench/workloads.py)."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, query: str) -> str:
        self.n += 1
        return distinct_text(query, self.n)


@dataclass
class QueryTimes:
    """Seconds of each run of each query on each backend (``None``: over the cap), and the
    answer counts seen (more than one: the runs disagreed)."""

    seconds: dict[str, dict[str, list[float | None]]] = field(default_factory=dict)
    counts: dict[str, dict[str, list[int]]] = field(default_factory=dict)

    def record(self, backend: str, query: str, seconds: float | None, count: int | None,
               timed: bool = True) -> None:
        if timed:
            self.seconds.setdefault(backend, {}).setdefault(query, []).append(seconds)
        seen = self.counts.setdefault(backend, {}).setdefault(query, [])
        if count is not None and count not in seen:
            seen.append(count)


def http_query(session: requests.Session, url: str, query: str) -> tuple[float, int]:
    """Seconds from sending ``query`` to the last byte of its SPARQL JSON answer, and the
    number of solutions (counted after the clock stopped)."""
    t = time.perf_counter()
    response = session.get(url, params={"query": query}, headers={"Accept": JSON_RESULTS},
                           timeout=600)
    body = response.content
    seconds = time.perf_counter() - t
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}: {body[:300]!r}")
    return seconds, len(json.loads(body)["results"]["bindings"])


# -- LUBM(1): store backends ------------------------------------------------------------------


def _rdflib_query_child(graph: object, query: str, conn: object) -> None:
    t = time.perf_counter()
    n = sum(1 for _ in graph.query(query))  # type: ignore[attr-defined]
    conn.send((time.perf_counter() - t, n))  # type: ignore[attr-defined]


def rdflib_query(graph: object, query: str, cap: float) -> tuple[float | None, int | None]:
    """One query in a forked child (sharing the loaded graph), killed after ``cap`` s."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_rdflib_query_child, args=(graph, query, child))
    process.start()
    if parent.poll(cap):
        seconds, n = parent.recv()
        process.join()
        return seconds, n
    process.kill()
    process.join()
    return None, None


@dataclass
class BackendResults:
    load: dict[str, list[float]] = field(default_factory=dict)
    queries: QueryTimes = field(default_factory=QueryTimes)


def run_each(times: QueryTimes, backend: str, queries: dict[str, str], runs: int,
             one: Callable[[str], tuple[float | None, int | None]], distinct: Distinct,
             say: Callable[[str], None]) -> None:
    for name, text in queries.items():
        for _ in range(runs):
            seconds, count = one(distinct(text))
            times.record(backend, name, seconds, count)
            if seconds is None or seconds > SLOW / 6:
                break  # a capped or slow query is measured once
        values = [s for s in times.seconds[backend][name] if s is not None]
        say(f"  {backend} {name}: " + (f"{1000 * min(values):.1f} ms min" if values else "cap")
            + f" ({'/'.join(map(str, times.counts[backend].get(name, []))) or 'no'} answers)")


def bench_backends(lubm: Path, work: Path, runs: int, cap: float,
                   say: Callable[[str], None]) -> BackendResults:
    """Load and query closed LUBM(1) with oxigraph and rdflib in process, Virtuoso by HTTP."""
    from rdflib import Graph

    res = BackendResults()
    closed = lubm / "lubm1-closed-owlrl.nt.gz"
    queries = lubm_queries(lubm)
    distinct = Distinct()
    say("store backends on closed LUBM(1): load")
    location = work / "oxigraph-lubm1"
    for _ in range(runs):
        shutil.rmtree(location, ignore_errors=True)
        t = time.perf_counter()
        store = ox.Store(str(location))
        with gzip.open(closed, "rb") as data:
            store.bulk_load(data, format=ox.RdfFormat.N_TRIPLES)
        store.flush()
        store.optimize()
        res.load.setdefault("oxigraph", []).append(time.perf_counter() - t)
        del store
    graph = Graph()
    for _ in range(runs):
        graph = Graph()
        t = time.perf_counter()
        with gzip.open(closed, "rb") as data:
            graph.parse(data, format="nt")
        res.load.setdefault("memory", []).append(time.perf_counter() - t)
    load_dir = work / "load" / "lubm1"
    load_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(closed, load_dir / "lubm1-closed.nt.gz")
    virtuoso, seconds = start_virtuoso(work / "virtuoso-lubm1",
                                       {LUBM1_GRAPH: load_dir / "lubm1-closed.nt.gz"},
                                       LUBM1_GRAPH)
    try:
        res.load["virtuoso"] = [seconds]
        say("the 14 LUBM queries on closed LUBM(1)")
        store = ox.Store.read_only(str(location))

        def oxigraph_one(q: str) -> tuple[float, int]:
            t = time.perf_counter()
            n = sum(1 for _ in store.query(q))  # type: ignore[union-attr]
            return time.perf_counter() - t, n

        run_each(res.queries, "oxigraph", queries, runs, oxigraph_one, distinct, say)
        graph.query("SELECT * WHERE { ?s ?p ?o } LIMIT 1")  # rdflib's parser set-up, before forks
        run_each(res.queries, "memory", queries, runs, lambda q: rdflib_query(graph, q, cap),
                 distinct, say)
        session = requests.Session()
        run_each(res.queries, "virtuoso", queries, runs,
                 lambda q: http_query(session, virtuoso.sparql_url, q), distinct, say)
    finally:
        virtuoso.stop()
    return res


# -- LUBM(10): our endpoint vs Virtuoso over HTTP ----------------------------------------------


@dataclass
class LubmResults:
    scale: int
    queries: QueryTimes = field(default_factory=QueryTimes)
    #: ``kg serve`` of the LUBM release, start to the first answer
    serve_seconds: float = 0.0
    virtuoso_load_seconds: float = 0.0


def bench_lubm_http(lubm: Path, work: Path, scale: int, runs: int, builds: BuildResults,
                    say: Callable[[str], None]) -> LubmResults:
    say(f"LUBM({scale}): kg build on the large-input path, then the 14 queries over HTTP, "
        "ours and Virtuoso interleaved")
    project, release = build_lubm(lubm, work, scale, builds, say)
    res = LubmResults(scale)
    load_dir = work / "load" / f"lubm{scale}"
    shutil.rmtree(load_dir, ignore_errors=True)
    load_dir.mkdir(parents=True)
    union = union_file(release, load_dir / "union.nt")
    virtuoso, res.virtuoso_load_seconds = start_virtuoso(work / f"virtuoso-lubm{scale}",
                                                         {UNION_GRAPH: union}, UNION_GRAPH)
    say(f"  Virtuoso bulk load of the union of the release's graphs: "
        f"{res.virtuoso_load_seconds:.1f} s")
    ours = None
    try:
        t = time.perf_counter()
        ours = start_ours(release.path.parent, work / f"lubm{scale}-serve.log", root=project,
                          env=LUBM_ENV)
        res.serve_seconds = time.perf_counter() - t
        urls = {"ours": ours.sparql_url, "virtuoso": virtuoso.sparql_url}
        interleave(res.queries, urls, lubm_queries(lubm), runs, say)
    finally:
        if ours is not None:
            ours.stop()
        virtuoso.stop()
    return res


def interleave(times: QueryTimes, urls: dict[str, str], queries: dict[str, str], runs: int,
               say: Callable[[str], None]) -> None:
    """One untimed pass (warm-up, counts), then ``runs`` timed runs of each query on each
    server, query by query, the first server alternating."""
    sessions = {name: requests.Session() for name in urls}
    distinct = Distinct()
    first: dict[str, float] = {}
    for name, text in queries.items():
        for server, url in urls.items():
            seconds, count = http_query(sessions[server], url, distinct(text))
            times.record(server, name, seconds, count, timed=False)
            first[name] = max(first.get(name, 0.0), seconds)
    for r in range(runs):
        for i, (name, text) in enumerate(queries.items()):
            if r > 0 and first[name] > SLOW:
                continue
            order = list(urls) if (r + i) % 2 == 0 else list(urls)[::-1]
            for server in order:
                seconds, count = http_query(sessions[server], urls[server], distinct(text))
                times.record(server, name, seconds, count)
        say(f"  run {r + 1}/{runs}: " + ", ".join(
            f"{server} {sum(v[-1] or 0 for v in times.seconds[server].values()):.2f} s"
            for server in urls))
