"""What the endpoint's features cost: latency and throughput vs a bare Flask + pyoxigraph app.

Both run under gunicorn with the same workers and threads on the current release.
The queries are the example queries (queries/cq/*.rq with ``# example: yes``) plus
a few representative ones. Run: ``.venv/bin/python bench/sparql_overhead.py``
(options: ``--requests N`` per query, ``--clients N`` concurrent clients).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kg.sparql.dataset import ServedDataset  # noqa: E402

from kg.config import Config  # noqa: E402
from kg.pipeline.build import build  # noqa: E402
from kg.sparql.examples import example_queries  # noqa: E402
from kg.sparql.protocol import ProtocolRequest  # noqa: E402
from kg.sparql.service import QueryService  # noqa: E402

REPRESENTATIVE = {
    "countries": "PREFIX kko: <https://w3id.org/kazkor/ontology#> "
                 "SELECT ?c WHERE { ?c a kko:Country } ORDER BY ?c",
    "documents+labels": "PREFIX kko: <https://w3id.org/kazkor/ontology#> "
                        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
                        "SELECT ?d ?l WHERE { ?d a kko:BilateralDocument ; rdfs:label ?l }",
    "all triples": "SELECT * WHERE { ?s ?p ?o }",
    "count by graph": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
}
WORKERS, THREADS = "2", "4"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(argv: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(argv, cwd=ROOT, env={**os.environ, **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    for _ in range(300):
        try:
            requests.get(f"http://127.0.0.1:{port}/sparql",
                         params={"query": "ASK {}"}, timeout=30)
            return process
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"{argv} did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(30)


def measure(url: str, queries: dict[str, str], n: int, clients: int) -> dict[str, object]:
    session = requests.Session()
    # no gzip: the bare app has none
    accept = {"Accept": "application/sparql-results+json", "Accept-Encoding": "identity"}
    latency: dict[str, float] = {}
    with ThreadPoolExecutor(clients) as pool:  # warm up every worker and query process
        list(pool.map(lambda q: session.get(url, params={"query": q}, headers=accept),
                      list(queries.values()) * 20))
    for name, query in queries.items():
        session.get(url, params={"query": query}, headers=accept).raise_for_status()
        times = []
        for _ in range(n):
            t = time.perf_counter()
            session.get(url, params={"query": query}, headers=accept).raise_for_status()
            times.append(time.perf_counter() - t)
        latency[name] = statistics.median(times) * 1000
    jobs = [q for q in queries.values() for _ in range(n)]

    def one(query: str) -> None:
        requests.get(url, params={"query": query}, headers=accept, timeout=60).raise_for_status()

    t = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, jobs))
    return {"latency_ms": latency, "throughput": len(jobs) / (time.perf_counter() - t)}


def per_query_overhead(config: Config, release, queries: dict[str, str],  # type: ignore[no-untyped-def]
                       n: int) -> dict[str, tuple[float, float]]:
    """Median ms per query without HTTP: in the process vs through a query process."""
    import pyoxigraph as ox

    store = ox.Store.read_only(str(release.path / "oxigraph"))
    service = QueryService(config.with_(query_processes=1), ServedDataset.of(config, release))
    service.start()
    out = {}
    try:
        for name, query in queries.items():
            plan = service.plan(ProtocolRequest(query=query), "application/sparql-results+json")
            service.run(plan)
            inside, piped = [], []
            for _ in range(n):
                t = time.perf_counter()
                store.query(query, use_default_graph_as_union=True).serialize(
                    format=ox.QueryResultsFormat.JSON)
                inside.append(time.perf_counter() - t)
                t = time.perf_counter()
                service.run(service.plan(ProtocolRequest(query=query),
                                         "application/sparql-results+json"))
                piped.append(time.perf_counter() - t)
            out[name] = (statistics.median(inside) * 1000, statistics.median(piped) * 1000)
    finally:
        service.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    config = Config.from_env()
    release = build(config).release
    queries = {e.title: e.query for e in example_queries(config.root)} | REPRESENTATIVE
    print(f"{'query (no HTTP)':40} {'in-process ms':>14} {'query process ms':>17}")
    for name, (inside, piped) in per_query_overhead(config, release, queries,
                                                    args.requests).items():
        print(f"{name[:40]:40} {inside:14.3f} {piped:17.3f}")
    results = {}
    port = free_port()
    bare = start([sys.executable, "-m", "gunicorn", "-w", WORKERS, "-k", "gthread",
                  "--threads", THREADS, "-b", f"127.0.0.1:{port}", "bench.bare_app:app"],
                 {"BARE_STORE": str(release.path / "oxigraph")}, port)
    try:
        results["bare Flask+pyoxigraph"] = measure(f"http://127.0.0.1:{port}/sparql", queries,
                                                   args.requests, args.clients)
    finally:
        stop(bare)
    port = free_port()
    full = start([sys.executable, "-m", "kg", "serve", "--port", str(port), "--workers", WORKERS],
                 {"KG_QUERY_PROCESSES": THREADS}, port)
    try:
        results["kg endpoint"] = measure(f"http://127.0.0.1:{port}/sparql", queries,
                                         args.requests, args.clients)
    finally:
        stop(full)
    base, ours = results["bare Flask+pyoxigraph"], results["kg endpoint"]
    print(f"{'query':40} {'bare ms':>9} {'kg ms':>9}")
    for name in queries:
        print(f"{name[:40]:40} {base['latency_ms'][name]:9.2f} "  # type: ignore[index]
              f"{ours['latency_ms'][name]:9.2f}")  # type: ignore[index]
    b, o = float(base["throughput"]), float(ours["throughput"])  # type: ignore[arg-type]
    print(f"throughput with {args.clients} clients: bare {b:.0f} req/s, kg {o:.0f} req/s "
          f"({(1 - o / b) * 100:+.1f}% cost)")


if __name__ == "__main__":
    main()
