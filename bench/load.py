"""Load test of the served graph: many clients on loopback, bounded in time.

    python bench/load.py                      # 32 clients, 60 s, then the costly phase
    python bench/load.py --clients 8 --seconds 10 --costly-seconds 10

It starts ``kg serve`` with the settings of ``make run`` (2 workers, default limits) on a
free loopback port and runs two phases:

1. **mix**: every client sends, one after the other, the example queries
   (``queries/cq/*.rq`` marked ``# example: yes``), entity pages (``/page/...`` from the
   sitemap) and the dumps; it reports requests, errors, p50/p99 latency and the resident
   memory (RSS) of the server's processes (gunicorn master, workers, query processes)
   sampled over time. Passes with zero errors and an RSS growth after warm-up (the first
   quarter of the phase) within ``--rss-growth-mb``.
2. **costly**: the server is restarted with ``KG_QUERY_TIMEOUT`` short (3 s); a few clients
   send costly queries (cross products, unbounded property paths) while the others keep
   sending the mix. Passes when every cheap request succeeds and every costly query is
   stopped by the timeout (503); it reports the cheap requests' latency meanwhile.

Each client has its own loopback source address (127.0.0.2, 127.0.0.3, ...): the server
bounds requests per client address, and these are distinct clients, as on a real network.
Prints a report and exits 1 when a phase fails.
"""

from __future__ import annotations

import argparse
import http.client
import random
import re
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.procs import Process, free_port, process_tree  # noqa: E402

#: queries that the timeout must stop: a cross product and unbounded property paths
COSTLY_QUERIES = (
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?x (<urn:p>|!<urn:q>)* ?y . ?y (!<urn:q>)+ ?z }",
    "SELECT ?a ?z WHERE { ?a (!<urn:none>)* ?m . ?m ?p ?o . ?o (!<urn:none>)* ?z } "
    "ORDER BY ?a ?z",
)


@dataclass(frozen=True)
class Request:
    kind: str  # "query", "page", "dump" or "costly"
    path: str


@dataclass(frozen=True)
class Result:
    kind: str
    path: str
    status: int  # 0: no HTTP answer (connection error)
    started: float
    seconds: float
    detail: str = ""


@dataclass
class PhaseReport:
    name: str
    clients: int
    seconds: float
    results: list[Result] = field(default_factory=list)
    #: (seconds since start, RSS in MB of the server's processes)
    rss: list[tuple[float, float]] = field(default_factory=list)

    def of(self, *kinds: str) -> list[Result]:
        return [r for r in self.results if r.kind in kinds]

    def errors(self, *kinds: str) -> list[Result]:
        return [r for r in self.of(*kinds) if not 200 <= r.status < 400]

    def describe(self) -> str:
        lines = [f"phase {self.name}: {self.clients} clients, {self.seconds:g} s"]
        for kinds in (("query",), ("page",), ("dump",), ("query", "page", "dump"), ("costly",)):
            results = self.of(*kinds)
            if not results:
                continue
            statuses: dict[int, int] = {}
            for r in results:
                statuses[r.status] = statuses.get(r.status, 0) + 1
            label = "+".join(kinds)
            errors = len(self.errors(*kinds))
            lines.append(f"  {label:<16} {len(results):>6} requests  errors {errors:>4}"
                         f"  p50 {percentile(results, 50) * 1000:7.0f} ms"
                         f"  p99 {percentile(results, 99) * 1000:7.0f} ms"
                         f"  max {max(r.seconds for r in results) * 1000:7.0f} ms"
                         f"  statuses {dict(sorted(statuses.items()))}")
        for r in self.errors("query", "page", "dump")[:5]:
            lines.append(f"  error: {r.status} {r.path[:80]} {r.detail[:120]}")
        if self.rss:
            values = [mb for _, mb in self.rss]
            step = max(1, len(self.rss) // 8)
            lines.append(f"  server RSS (MB): start {values[0]:.0f}, max {max(values):.0f}, "
                         f"end {values[-1]:.0f}  (samples: "
                         + ", ".join(f"{t:.0f}s={mb:.0f}" for t, mb in self.rss[::step])
                         + ")")
        return "\n".join(lines)


def percentile(results: list[Result], p: float) -> float:
    times = sorted(r.seconds for r in results)
    if not times:
        return 0.0
    if len(times) == 1:
        return times[0]
    return statistics.quantiles(times, n=100, method="inclusive")[min(98, int(p) - 1)]


# ---- the workload --------------------------------------------------------------------------

def example_queries(root: Path = ROOT) -> list[str]:
    texts = [path.read_text(encoding="utf-8")
             for path in sorted((root / "queries" / "cq").glob("*.rq"))]
    return [text for text in texts if re.search(r"^#\s*example:\s*yes", text, re.M)]


def query_path(query: str) -> str:
    return "/sparql?" + urlencode({"query": query})


def workload(url: str, pages: int = 40) -> list[Request]:
    """The example queries, entity pages from the sitemap and the dumps of the server at ``url``."""
    requests_ = [Request("query", query_path(q)) for q in example_queries()]
    status, body = fetch(url, "/sitemap.xml")
    locs = re.findall(r"<loc>([^<]+)</loc>", body.decode("utf-8")) if status == 200 else []
    page_paths = []
    for loc in locs:
        path = urlsplit(loc).path
        match = re.search(r"/(?:id|page)/(.+)$", path)
        if match:
            page_paths.append("/page/" + match.group(1))
    requests_ += [Request("page", p) for p in sorted(set(page_paths))[:pages]]
    status, body = fetch(url, "/dumps/")
    dumps = sorted(set(re.findall(r'href="(/dumps/[^"/]+)"', body.decode("utf-8"))))
    requests_ += [Request("dump", d) for d in dumps]
    return requests_


def fetch(url: str, path: str, timeout: float = 60) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# ---- clients -------------------------------------------------------------------------------

class Client(threading.Thread):
    """One client: its own loopback address and keep-alive connection, one request at a time."""

    def __init__(self, number: int, url: str, requests_: list[Request], until: float,
                 results: list[Result], lock: threading.Lock) -> None:
        super().__init__(daemon=True)
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.source = f"127.0.{1 + number // 200}.{2 + number % 200}"
        self.requests = list(requests_)
        random.Random(number).shuffle(self.requests)
        self.until = until
        self.results = results
        self.lock = lock
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120,
                                                   source_address=(self.source, 0))
        return self.conn

    def run(self) -> None:
        i = 0
        while time.monotonic() < self.until:
            item = self.requests[i % len(self.requests)]
            i += 1
            started = time.monotonic()
            status, detail = 0, ""
            try:
                conn = self._connection()
                conn.request("GET", item.path, headers={"Accept-Encoding": "gzip"})
                response = conn.getresponse()
                body = response.read()
                status = response.status
                if status >= 400:
                    detail = body[:200].decode("utf-8", "replace")
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    self.conn = None
            except (OSError, http.client.HTTPException) as e:
                detail = f"{type(e).__name__}: {e}"
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
            with self.lock:
                self.results.append(Result(item.kind, item.path, status, started,
                                           time.monotonic() - started, detail))
        if self.conn is not None:
            self.conn.close()


def rss_mb(pid: int) -> float:
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def run_phase(name: str, url: str, clients: int, seconds: float, requests_: list[Request],
              costly_clients: int = 0, server_pid: int | None = None) -> PhaseReport:
    report = PhaseReport(name, clients, seconds)
    lock = threading.Lock()
    start = time.monotonic()
    until = start + seconds
    costly = [Request("costly", query_path(q)) for q in COSTLY_QUERIES]
    threads = [Client(i, url, costly if i < costly_clients else requests_, until,
                      report.results, lock) for i in range(clients)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        if server_pid is not None:
            report.rss.append((time.monotonic() - start, rss_mb(server_pid)))
        time.sleep(min(2.0, max(0.1, seconds / 20)))
    return report


# ---- the server ----------------------------------------------------------------------------

class Server:
    """``kg serve`` as ``make run`` starts it (2 workers), on a free loopback port."""

    def __init__(self, release_dir: Path | None, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "kg"]
        if release_dir is not None:
            args += ["--release-dir", str(release_dir)]
        args += ["serve", "--port", str(self.port), "--workers", "2"]
        self.log = log
        self.process = Process(args, log, cwd=ROOT, env=env)
        self.process.wait_until(self.url + "/health", timeout=300)

    def stop(self) -> None:
        self.process.stop()


def rss_growth(report: PhaseReport) -> float:
    """MB the server grew after warm-up: the largest sample after the first quarter of the
    phase, minus the sample at that quarter (start-up loads the query processes' stores)."""
    warm = [(t, mb) for t, mb in report.rss if t >= report.seconds / 4]
    if not warm:
        return 0.0
    return max(mb for _, mb in warm) - warm[0][1]


def costly_phase_passed(report: PhaseReport) -> bool:
    costly = report.of("costly")
    return (not report.errors("query", "page", "dump") and bool(costly)
            and all(r.status == 503 for r in costly))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--costly-seconds", type=float, default=30)
    parser.add_argument("--costly-clients", type=int, default=3)
    parser.add_argument("--costly-timeout", type=float, default=3)
    parser.add_argument("--rss-growth-mb", type=float, default=150,
                        help="the most the server's RSS may grow after the mix's first quarter")
    parser.add_argument("--release-dir", type=Path,
                        help="releases to serve (default: the project's build/releases)")
    args = parser.parse_args(argv)
    log_dir = ROOT / "build" / "load"
    log_dir.mkdir(parents=True, exist_ok=True)
    ok = True

    server = Server(args.release_dir, {}, log_dir / "server-mix.log")
    try:
        requests_ = workload(server.url)
        print(f"server {server.url} (pid {server.process.pid}); workload: "
              f"{sum(r.kind == 'query' for r in requests_)} example queries, "
              f"{sum(r.kind == 'page' for r in requests_)} pages, "
              f"{sum(r.kind == 'dump' for r in requests_)} dumps", flush=True)
        report = run_phase("mix", server.url, args.clients, args.seconds, requests_,
                           server_pid=server.process.pid)
    finally:
        server.stop()
    print(report.describe(), flush=True)
    growth = rss_growth(report)
    mix_ok = not report.errors() and growth <= args.rss_growth_mb
    print(f"  -> {'PASS' if mix_ok else 'FAIL'}: zero errors required; RSS growth "
          f"{growth:.0f} MB (bound {args.rss_growth_mb:g} MB)", flush=True)
    ok &= mix_ok

    server = Server(args.release_dir, {"KG_QUERY_TIMEOUT": str(args.costly_timeout)},
                    log_dir / "server-costly.log")
    try:
        report = run_phase("costly", server.url, args.clients, args.costly_seconds,
                           requests_, costly_clients=args.costly_clients,
                           server_pid=server.process.pid)
    finally:
        server.stop()
    print(report.describe(), flush=True)
    costly_ok = costly_phase_passed(report)
    print(f"  -> {'PASS' if costly_ok else 'FAIL'}: every cheap request answered, every "
          f"costly query stopped by the {args.costly_timeout:g} s timeout (503)", flush=True)
    ok &= costly_ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
