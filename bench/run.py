"""``make bench``: side-by-side benchmarks, written to docs/benchmarks.md.

Runs, on this machine, with a private loopback-only Virtuoso 7 started and stopped here:

1. store backends on closed LUBM(1): load time and the 14 LUBM queries, oxigraph and
   rdflib in process (rdflib with a per-query cap), Virtuoso over HTTP;
   then docs/decisions/0001-default-store.md records the default backend;
2. a cheap SELECT over HTTP with wrk (8 connections, 20 s): our endpoint (``kg serve``),
   a bare Flask + gunicorn + pyoxigraph app, Virtuoso, in one run; then the example
   query mix of our own graph, our endpoint vs Virtuoso;
3. start-up of a built release to the first answered query; cold build of our graph;
4. LUBM(10) through `kg build` (the large-input path, timed with /usr/bin/time -v), then
   the 14 LUBM queries over HTTP on its release: `kg serve` vs Virtuoso.

A benchmark asserts nothing about time; every figure is the median and min-max of
repeated runs. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import pyoxigraph as ox
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from kg.config import Config  # noqa: E402
from kg.pipeline.build import build  # noqa: E402
from kg.pipeline.publish import Target, publish_release  # noqa: E402
from kg.pipeline.release import OXIGRAPH_DIR, Release  # noqa: E402
from kg.store import virtuoso as vt  # noqa: E402


def _lubm_dir() -> Path:
    """``LUBM_DIR``, else ``../shared/bench/lubm`` beside the checkout (or beside its parent,
    for a git worktree kept one level deeper)."""
    if "LUBM_DIR" in os.environ:
        return Path(os.environ["LUBM_DIR"]).resolve()
    candidates = [p / "shared" / "bench" / "lubm" for p in (ROOT.parent, ROOT.parent.parent)]
    return next((c for c in candidates if c.is_dir()), candidates[0])


LUBM = _lubm_dir()
WORK = ROOT / "build" / "bench"
BIN = Path(sys.executable).parent
QUERY_NAMES = [f"q{i:02d}" for i in range(1, 15)]
LUBM1_GRAPH = "http://lubm.example/graph/lubm1"
CHEAP_QUERY = "SELECT * WHERE { ?s ?p ?o } LIMIT 10"
JSON_RESULTS = "application/sparql-results+json"
T0 = time.monotonic()


def say(message: str) -> None:
    print(f"[bench {time.monotonic() - T0:6.0f} s] {message}", file=sys.stderr, flush=True)


# -- figures -----------------------------------------------------------------------------


@dataclass
class Figure:
    """Repeated measurements of one thing; ``None`` marks a run that hit its cap."""

    values: list[float | None] = field(default_factory=list)

    def add(self, value: float | None) -> None:
        self.values.append(value)

    @property
    def done(self) -> list[float]:
        return [v for v in self.values if v is not None]

    @property
    def median(self) -> float | None:
        return statistics.median(self.done) if self.done else None

    def text(self, unit: str = "s", scale: float = 1.0, digits: int = 3) -> str:
        if not self.done:
            return "timeout" if self.values else "-"
        med, lo, hi = (scale * x for x in (statistics.median(self.done), min(self.done),
                                             max(self.done)))
        cell = f"{med:.{digits}f} {unit}".strip()
        if len(self.done) > 1:
            cell += f" ({lo:.{digits}f}–{hi:.{digits}f})"
        if len(self.done) < len(self.values):
            cell += f", {len(self.values) - len(self.done)} timeout"
        return cell


def ms(figure: Figure) -> str:
    return figure.text("ms", 1000, 1)


# -- processes ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Process:
    """A server we started (its own session, so that stopping it stops its workers)."""

    def __init__(self, command: Sequence[str], log: Path, env: dict[str, str] | None = None,
                 cwd: Path = ROOT) -> None:
        self.log = log
        self.popen = subprocess.Popen(list(command), stdout=log.open("wb"),
                                      stderr=subprocess.STDOUT, cwd=cwd,
                                      env={**os.environ, **(env or {})}, start_new_session=True)

    def wait_until(self, url: str, timeout: float = 120, params: dict[str, str] | None = None,
                   ) -> float:
        """Seconds until ``url`` answered 200."""
        start = time.perf_counter()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.popen.args} exited: "
                                   + self.log.read_text(errors="replace")[-2000:])
            try:
                if requests.get(url, params=params, timeout=5,
                                headers={"Accept": JSON_RESULTS}).status_code == 200:
                    return time.perf_counter() - start
            except requests.RequestException:
                pass
            time.sleep(0.01)
        raise RuntimeError(f"{url} did not answer within {timeout} s")

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()


#: wrk is one client opening 8 connections: the per-client concurrency bound (2 per worker
#: by default, a protection for a public endpoint) is raised to let it through, the only
#: setting that differs from `make run`
BENCH_ENV = {"KG_CLIENT_CONCURRENCY": "64"}


def kg_serve(release_dir: Path, port: int, log: Path, root: Path = ROOT,
             env: dict[str, str] | None = None) -> Process:
    """``kg serve`` as ``make run`` starts it (2 workers, default settings but BENCH_ENV)."""
    return Process([str(BIN / "kg"), "--root", str(root), "--release-dir", str(release_dir),
                    "serve", "--port", str(port), "--workers", "2"], log,
                   {**BENCH_ENV, **(env or {})})


def gunicorn(app: str, port: int, log: Path, env: dict[str, str]) -> Process:
    return Process([str(BIN / "gunicorn"), "--chdir", str(ROOT / "bench"), "-w", "2",
                    "-b", f"127.0.0.1:{port}", "--timeout", "120", app], log, env)


# -- machine and versions ----------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"CPU": cpu, "cores (nproc)": str(os.cpu_count()),
            "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
            "OS": platform.platform(), "Python": platform.python_version(),
            "load average at the start (1, 5, 15 min)": load_average()}


def load_average() -> str:
    """Other work on the machine skews every figure: it is recorded with them."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def versions() -> dict[str, str]:
    found = {}
    for package in ("pyoxigraph", "rdflib", "owlrl", "reasonable", "flask", "gunicorn"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    for package in ("virtuoso-opensource-7-bin", "wrk"):
        done = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package],
                              capture_output=True, text=True)
        found[package] = done.stdout.strip() or "not installed"
    return found


# -- LUBM ---------------------------------------------------------------------------------


def lubm_queries() -> dict[str, str]:
    return {name: (LUBM / "queries" / f"{name}.rq").read_text() for name in QUERY_NAMES}


def expected_counts(scale: int) -> dict[str, int]:
    lines = (LUBM / f"answers-lubm{scale}.tsv").read_text().splitlines()[1:]
    return {name: int(n) for name, n in (line.split("\t") for line in lines)}


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


def http_query(url: str, query: str, graphs: Sequence[str] = ()) -> tuple[float, int]:
    """Seconds for a SPARQL JSON request and the number of solutions."""
    data: dict[str, object] = {"query": query}
    if graphs:
        data["default-graph-uri"] = list(graphs)
    t = time.perf_counter()
    response = requests.post(url, data=data, headers={"Accept": JSON_RESULTS}, timeout=600)
    response.raise_for_status()
    n = len(response.json()["results"]["bindings"])
    return time.perf_counter() - t, n


@dataclass
class QueryRun:
    times: dict[str, Figure] = field(default_factory=dict)
    counts: dict[str, int | None] = field(default_factory=dict)

    def record(self, name: str, seconds: float | None, count: int | None) -> None:
        self.times.setdefault(name, Figure()).add(seconds)
        if count is not None:
            self.counts[name] = count
        else:
            self.counts.setdefault(name, None)

    def total(self) -> Figure:
        """Sum of the per-query medians (one value), ``None`` if any query timed out."""
        medians = [f.median for f in self.times.values()]
        return Figure([None if any(m is None for m in medians) else sum(medians)])  # type: ignore[misc]


def run_queries(queries: dict[str, str], runs: int,
                one: Callable[[str], tuple[float | None, int | None]],
                label: str, slow: float = 10.0) -> QueryRun:
    out = QueryRun()
    for name, text in queries.items():
        for _ in range(runs):
            seconds, count = one(text)
            out.record(name, seconds, count)
            if seconds is None or seconds > slow:
                break  # a capped or very slow query is measured once
        say(f"  {label} {name}: {out.times[name].text()} ({out.counts[name]} answers)")
    return out


# -- wrk -----------------------------------------------------------------------------------


@dataclass
class WrkRun:
    rps: Figure = field(default_factory=Figure)
    p50: Figure = field(default_factory=Figure)
    p99: Figure = field(default_factory=Figure)
    errors: int = 0
    requests: int = 0


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _seconds(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, duration: int, script: Path | None, result: WrkRun, log: Path) -> None:
    command = ["wrk", "-t2", "-c8", f"-d{duration}s", "--latency",
               "-H", f"Accept: {JSON_RESULTS}"]
    if script is not None:
        command += ["-s", str(script)]
    done = subprocess.run([*command, url], capture_output=True, text=True, timeout=duration + 60)
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)} {url}\n{done.stdout}{done.stderr}\n")
    text = done.stdout
    result.rps.add(float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)))  # type: ignore[union-attr]
    result.p50.add(_seconds(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1)))  # type: ignore[union-attr]
    result.p99.add(_seconds(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1)))  # type: ignore[union-attr]
    result.requests += int(re.search(r"(\d+) requests in", text).group(1))  # type: ignore[union-attr]
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", text):
        result.errors += int(m.group(1))
    if m := re.search(r"Socket errors: (.*)", text):
        result.errors += sum(int(x) for x in re.findall(r"\d+", m.group(1)))


def query_path(path: str, query: str, graphs: Sequence[str] = ()) -> str:
    params = [("query", query)] + [("default-graph-uri", g) for g in graphs] + [
        ("named-graph-uri", g) for g in graphs]
    return f"{path}?{urllib.parse.urlencode(params)}"


def mix_script(paths: Sequence[str], target: Path) -> Path:
    """A wrk Lua script that sends ``paths`` in turn, each connection from its own place."""
    items = ",\n".join(json.dumps(p) for p in paths)
    target.write_text(
        f"local paths = {{\n{items}\n}}\n"
        "local i = 0\n"
        "init = function(args) i = math.random(#paths) end\n"
        "request = function()\n"
        "  i = i % #paths + 1\n"
        "  return wrk.format(\"GET\", paths[i])\n"
        "end\n")
    return target


def our_mix() -> dict[str, str]:
    """The graph's competency queries (``queries/cq/``) when there are, else ``bench/queries``:
    SELECT and ASK only (wrk asks every answer as SPARQL JSON)."""
    from kg.config import Config
    from kg.sparql.service import predefined_prefixes
    from kg.sparqltext import inspect

    prefixes = predefined_prefixes(Config())
    folder = ROOT / "queries" / "cq"
    if not any(folder.glob("*.rq")):
        folder = ROOT / "bench" / "queries"
    texts = {p.stem: p.read_text() for p in sorted(folder.glob("*.rq"))}
    return {name: q for name, q in texts.items()
            if inspect(q, predefined=prefixes).form in ("SELECT", "ASK")}


# -- the benchmark ---------------------------------------------------------------------------


@dataclass
class Results:
    machine: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    load: dict[str, Figure] = field(default_factory=dict)
    lubm1: dict[str, QueryRun] = field(default_factory=dict)
    cheap: dict[str, WrkRun] = field(default_factory=dict)
    mix: dict[str, WrkRun] = field(default_factory=dict)
    startup: dict[str, Figure] = field(default_factory=dict)
    lubm10: dict[str, QueryRun] = field(default_factory=dict)
    mix_size: int = 0
    lubm10_build: dict[str, object] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def bench_backends(res: Results, server: vt.VirtuosoServer, runs: int, cap: float) -> None:
    closed = LUBM / "lubm1-closed-owlrl.nt.gz"
    queries = lubm_queries()
    say("1. store backends on closed LUBM(1): load")
    load_dir = WORK / "load"
    load_dir.mkdir(parents=True, exist_ok=True)
    lubm1_file = load_dir / "lubm1-closed.nt.gz"
    shutil.copyfile(closed, lubm1_file)

    ox_load = res.load.setdefault("oxigraph", Figure())
    for _ in range(runs):
        location = WORK / "oxigraph-lubm1"
        shutil.rmtree(location, ignore_errors=True)
        t = time.perf_counter()
        store = ox.Store(str(location))
        with gzip.open(closed, "rb") as data:
            store.bulk_load(data, format=ox.RdfFormat.N_TRIPLES)
        store.flush()
        store.optimize()
        ox_load.add(time.perf_counter() - t)
        del store
    say(f"  oxigraph load: {ox_load.text()}")

    from rdflib import Graph

    rdflib_load = res.load.setdefault("memory", Figure())
    graph = Graph()
    for _ in range(runs):
        graph = Graph()
        t = time.perf_counter()
        with gzip.open(closed, "rb") as data:
            graph.parse(data, format="nt")
        rdflib_load.add(time.perf_counter() - t)
    say(f"  rdflib load: {rdflib_load.text()} ({len(graph)} triples)")

    virtuoso_load = res.load.setdefault("virtuoso", Figure())
    for _ in range(runs):
        t = time.perf_counter()
        vt.bulk_load(server.isql_address, {LUBM1_GRAPH: lubm1_file})
        virtuoso_load.add(time.perf_counter() - t)
    say(f"  Virtuoso bulk load: {virtuoso_load.text()}")

    say("1. the 14 LUBM queries on closed LUBM(1)")
    store = ox.Store.read_only(str(WORK / "oxigraph-lubm1"))

    def oxigraph_one(q: str) -> tuple[float, int]:
        t = time.perf_counter()
        n = sum(1 for _ in store.query(q))  # type: ignore[union-attr]
        return time.perf_counter() - t, n

    res.lubm1["oxigraph"] = run_queries(queries, runs, oxigraph_one, "oxigraph")
    graph.query("SELECT * WHERE { ?s ?p ?o } LIMIT 1")  # rdflib's parser set-up, before forks
    res.lubm1["memory"] = run_queries(queries, runs, lambda q: rdflib_query(graph, q, cap),
                                      "rdflib")
    res.lubm1["virtuoso"] = run_queries(
        queries, runs, lambda q: http_query(server.sparql_url, q, [LUBM1_GRAPH]), "Virtuoso")


def bench_http(res: Results, server: vt.VirtuosoServer, release: Release, release_dir: Path,
               runs: int, duration: int) -> None:
    say("2. cheap SELECT over HTTP with wrk: our endpoint, bare Flask + pyoxigraph, Virtuoso")
    ours_port, bare_port = free_port(), free_port()
    ours = kg_serve(release_dir, ours_port, WORK / "kg-serve.log")
    bare = gunicorn("bare_app:app", bare_port, WORK / "bare-app.log",
                    {"BARE_STORE": str(release.path / OXIGRAPH_DIR)})
    graphs = list(release.report["graphs"].values())
    targets = {
        "ours": f"http://127.0.0.1:{ours_port}/sparql",
        "bare": f"http://127.0.0.1:{bare_port}/sparql",
        "virtuoso": server.sparql_url,
    }
    log = WORK / "wrk.log"
    log.write_text("")
    try:
        ours.wait_until(targets["ours"], params={"query": "ASK {}"})
        bare.wait_until(targets["bare"], params={"query": "ASK {}"})
        urls = {
            name: urllib.parse.urljoin(url, query_path(
                urllib.parse.urlparse(url).path, CHEAP_QUERY,
                graphs if name == "virtuoso" else ()))
            for name, url in targets.items()
        }
        for name, url in urls.items():
            answer = requests.get(url, headers={"Accept": JSON_RESULTS}, timeout=30)
            rows = len(answer.json()["results"]["bindings"])
            say(f"  {name}: {answer.status_code}, {rows} rows")
        for i in range(runs):
            for name, url in urls.items():  # interleaved, so that drift hits all alike
                wrk(url, duration, None, res.cheap.setdefault(name, WrkRun()), log)
                r = res.cheap[name]
                say(f"  run {i + 1}/{runs} {name}: {r.rps.values[-1]:.0f} req/s, "
                    f"p50 {1000 * r.p50.values[-1]:.1f} ms, p99 {1000 * r.p99.values[-1]:.1f} ms")

        say("2. our graph's query mix over HTTP: our endpoint vs Virtuoso")
        mix = our_mix()
        for name in list(mix):
            answered = [requests.get(targets[server_name], params={"query": mix[name]} | (
                {"default-graph-uri": graphs, "named-graph-uri": graphs}
                if server_name == "virtuoso" else {}),
                headers={"Accept": JSON_RESULTS}, timeout=30).status_code
                for server_name in ("ours", "virtuoso")]
            if answered != [200, 200]:
                res.notes.append(f"- Query `{name}` left out of the mix: answered {answered} "
                                 "(our endpoint, Virtuoso).")
                del mix[name]
        say(f"  {len(mix)} queries in the mix")
        res.mix_size = len(mix)
        scripts = {
            name: mix_script([query_path(urllib.parse.urlparse(targets[name]).path, q,
                                         graphs if name == "virtuoso" else ())
                              for q in mix.values()], WORK / f"mix-{name}.lua")
            for name in ("ours", "virtuoso")
        }
        for i in range(runs):
            for name, script in scripts.items():
                wrk(targets[name], duration, script, res.mix.setdefault(name, WrkRun()), log)
                r = res.mix[name]
                say(f"  run {i + 1}/{runs} {name}: {r.rps.values[-1]:.0f} req/s, "
                    f"p50 {1000 * r.p50.values[-1]:.1f} ms, p99 {1000 * r.p99.values[-1]:.1f} ms")
    finally:
        ours.stop()
        bare.stop()


def bench_startup(res: Results, release_dir: Path, runs: int) -> None:
    say("3. start-up of a built release to the first answered query; cold build")
    first = res.startup.setdefault("kg serve: start to first answered query", Figure())
    for _ in range(runs):
        port = free_port()
        process = kg_serve(release_dir, port, WORK / "startup.log")
        try:
            first.add(process.wait_until(f"http://127.0.0.1:{port}/sparql",
                                         params={"query": CHEAP_QUERY}))
        finally:
            process.stop()
    say(f"  kg serve to first answer: {first.text()}")
    opened = res.startup.setdefault("in process: open the release's store + first query",
                                    Figure())
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c",
             "import sys, time; t = time.perf_counter()\n"
             "from pathlib import Path\n"
             "from kg.pipeline.release import Release\n"
             f"store = Release(Path({str(release_dir / 'current')!r}).resolve())"
             ".open_store('oxigraph')\n"
             f"store.query({CHEAP_QUERY!r}).serialize('json')\n"
             "print(time.perf_counter() - t)"],
            capture_output=True, text=True, check=True, cwd=ROOT)
        opened.add(float(done.stdout.strip()))
    say(f"  in process: {opened.text()}")
    cold = res.startup.setdefault("cold build of our graph (`kg build --force`)", Figure())
    for _ in range(runs):
        scratch = WORK / "cold-releases"
        shutil.rmtree(scratch, ignore_errors=True)
        t = time.perf_counter()
        subprocess.run([str(BIN / "kg"), "--release-dir", str(scratch), "build", "--force"],
                       capture_output=True, check=True, cwd=ROOT)
        cold.add(time.perf_counter() - t)
        shutil.rmtree(scratch, ignore_errors=True)
    say(f"  cold build: {cold.text()}")


LUBM_BASE = "http://lubm.example/"
#: LUBM(10) is a project of its own: the large-input build path, its graphs under LUBM_BASE
LUBM10_ENV = {"KG_BUILD_PATH": "large", "KG_BASE_IRI": LUBM_BASE}


def lubm10_project() -> Path:
    """A project folder whose ontology/ holds univ-bench.owl and data/ttl/ lubm10.nt.gz."""
    project = WORK / "lubm10-project"
    for folder, source in (("ontology", "univ-bench.owl"), ("data/ttl", "lubm10.nt.gz")):
        (project / folder).mkdir(parents=True, exist_ok=True)
        link = project / folder / source
        if not link.exists():
            link.symlink_to(LUBM / source)
    return project


def build_lubm10(res: Results) -> tuple[Path, Release]:
    """``kg build`` of the LUBM(10) project (large-input path), timed by /usr/bin/time -v."""
    project = lubm10_project()
    releases = WORK / "lubm10-releases"
    shutil.rmtree(releases, ignore_errors=True)
    log = WORK / "lubm10-build.log"
    say("  kg build of LUBM(10) (large-input path), under /usr/bin/time -v")
    with log.open("wb") as out:
        subprocess.run(["/usr/bin/time", "-v", str(BIN / "kg"), "--root", str(project),
                        "--release-dir", str(releases), "build"], stdout=out,
                       stderr=subprocess.STDOUT, env={**os.environ, **LUBM10_ENV}, check=True)
    text = log.read_text(errors="replace")
    for line in text.splitlines():
        if line.startswith(("loading:", "reasoning:", "validating:", "indexing:", "writing:")):
            say(f"    {line}")
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)",
                     text)
    hours, minutes, seconds = (float(x or 0) for x in wall.groups())  # type: ignore[union-attr]
    peak = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))  # type: ignore[union-attr]
    release = Release((releases / "current").resolve())
    report = release.report
    res.lubm10_build = {
        "wall_seconds": round(3600 * hours + 60 * minutes + seconds, 1),
        "peak_rss_mib": round(peak / 1024),
        **{f"{k}_seconds": v for k, v in report["timings_seconds"].items()},
        "closure_seconds": report["closure"]["seconds"],
        "inferred": report["closure"]["inferred"],
        "triples": report["triples"]["total"],
        "validation": report["validation"]["after_reasoning"].get("note", "validated"),
    }
    return project, release


def bench_lubm10(res: Results, server: vt.VirtuosoServer, runs: int) -> None:
    say("4. LUBM(10) through kg build (large-input path); the 14 queries over HTTP: our "
        "endpoint vs Virtuoso")
    project, release = build_lubm10(res)
    graphs = list(release.report["graphs"].values())
    t = time.perf_counter()
    # the release's graphs, one N-Triples file each, by Virtuoso's bulk loader (kg publish
    # would check the counts after: a COUNT of a million triples outlasts Virtuoso's
    # transaction timeout on a busy machine)
    folder = WORK / "load" / "lubm10"
    folder.mkdir(parents=True, exist_ok=True)
    store = ox.Store.read_only(str(release.path / OXIGRAPH_DIR))
    files = {}
    for name, iri in release.report["graphs"].items():
        files[iri] = folder / f"{name}.nt"
        store.dump(str(files[iri]), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(iri))
    del store
    vt.bulk_load(server.isql_address, files)
    say(f"  Virtuoso bulk load of the LUBM(10) release: {time.perf_counter() - t:.1f} s")
    port = free_port()
    ours = kg_serve(release.path.parent, port, WORK / "lubm10-serve.log", root=project,
                    env=LUBM10_ENV)
    url = f"http://127.0.0.1:{port}/sparql"
    try:
        res.lubm10_build["start_to_first_answer_seconds"] = round(ours.wait_until(
            url, params={"query": lubm_queries()["q01"]}), 2)
        queries = lubm_queries()
        for name in ("ours", "virtuoso"):
            target, named = (url, ()) if name == "ours" else (server.sparql_url, graphs)
            res.lubm10[name] = run_queries(
                queries, runs, lambda q, t=target, g=named: http_query(t, q, g), name,
                slow=60)
    finally:
        ours.stop()


# -- the report ----------------------------------------------------------------------------


def _counts_cell(run: QueryRun, name: str, expected: dict[str, int]) -> str:
    n = run.counts.get(name)
    if n is None:
        return "-"
    return str(n) if n == expected[name] else f"**{n}** (expected {expected[name]})"


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a and b else "-"


def report(res: Results, args: argparse.Namespace) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` ({now}); every figure is the median of {args.runs} runs with "
        "(min–max), unless marked. A benchmark, not a test: nothing here is asserted.",
        "Raw logs are under `build/bench/` after a run.",
        "",
        "## Machine and versions",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in res.machine.items()],
        *[f"| {k} | {v} |" for k, v in res.versions.items()],
        "",
    ]
    if res.cheap:
        ours, bare, virt = (res.cheap.get(k) for k in ("ours", "bare", "virtuoso"))
        names = {"ours": "our endpoint (`kg serve`, 2 workers, all features on)",
                 "bare": "bare Flask + gunicorn (2 workers) + pyoxigraph (`bench/bare_app.py`)",
                 "virtuoso": "Virtuoso 7 (private ini, loopback)"}
        lines += [
            "## Cheap SELECT over HTTP (wrk, 8 connections, 2 threads, "
            f"{args.duration} s per run, interleaved)",
            "",
            f"Query: `{CHEAP_QUERY}` over the union of our release's named graphs, "
            "SPARQL JSON results.",
            "",
            "| server | req/s | p50 | p99 | non-2xx / socket errors |",
            "|---|---|---|---|---|",
        ]
        for key, run in res.cheap.items():
            lines.append(f"| {names[key]} | {run.rps.text('', 1, 0)} | {ms(run.p50)} | "
                         f"{ms(run.p99)} | {run.errors} of {run.requests} |")
        if ours and bare and virt:
            lines += [
                "",
                "Ratios (medians), against the issue's goal 1:",
                "",
                "| ratio | measured | goal |",
                "|---|---|---|",
                f"| our req/s ÷ Virtuoso req/s | {_ratio(ours.rps.median, virt.rps.median)} "
                "| ≥ 1.0 |",
                f"| our p99 ÷ Virtuoso p99 | {_ratio(ours.p99.median, virt.p99.median)} | ≤ 1.0 |",
                f"| our req/s ÷ bare app req/s | {_ratio(ours.rps.median, bare.rps.median)} "
                "| ≥ 0.90 |",
                "",
            ]
    if res.mix:
        lines += [
            "## Our graph's query mix over HTTP (wrk, 8 connections)",
            "",
            f"{res.mix_size} SELECT/ASK queries of our graph (`queries/cq/*.rq`, the "
            "competency questions, or `bench/queries/*.rq` where there are none), sent in "
            "turn by each connection; "
            "Virtuoso serves the same release (published with `kg publish`, bulk loader).",
            "",
            "| server | req/s | p50 | p99 | non-2xx / socket errors |",
            "|---|---|---|---|---|",
        ]
        for key, run in res.mix.items():
            label = "our endpoint" if key == "ours" else "Virtuoso 7"
            lines.append(f"| {label} | {run.rps.text('', 1, 0)} | {ms(run.p50)} | "
                         f"{ms(run.p99)} | {run.errors} of {run.requests} |")
        lines.append("")
    if res.startup:
        lines += ["## Start-up and build of our graph", "", "| what | time |", "|---|---|"]
        lines += [f"| {k} | {v.text()} |" for k, v in res.startup.items()]
        lines.append("")
    if res.load:
        expected = expected_counts(1)
        labels = {"oxigraph": "oxigraph (in process)", "memory": "rdflib (in process)",
                  "virtuoso": "Virtuoso (HTTP)"}
        lines += [
            "## Store backends on closed LUBM(1)",
            "",
            "Data: `lubm1-closed-owlrl.nt.gz` (185,493 triples: LUBM(1) + ontology, "
            "owlrl closure). Load: oxigraph `bulk_load` into a new on-disk store "
            "(+ optimize), rdflib `Graph.parse`, Virtuoso bulk loader "
            "(`ld_dir` + `rdf_loader_run` + `checkpoint`).",
            f"Queries: oxigraph and rdflib in process (rdflib in a forked process, capped "
            f"at {args.cap:.0f} s: \"timeout\"), Virtuoso over HTTP (SPARQL JSON, parsed). "
            "A query slower than 10 s is run once. Answer counts are checked against "
            "`answers-lubm1.tsv`; a wrong count is in bold.",
            "",
            "| | " + " | ".join(labels[k] for k in res.load) + " |",
            "|---|" + "---|" * len(res.load),
            "| load | " + " | ".join(res.load[k].text() for k in res.load) + " |",
        ]
        for name in QUERY_NAMES:
            cells = []
            for key in res.load:
                run = res.lubm1.get(key)
                if run is None or name not in run.times:
                    cells.append("-")
                    continue
                cells.append(f"{ms(run.times[name])}; {_counts_cell(run, name, expected)}")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("| sum of medians | " + " | ".join(
            res.lubm1[k].total().text() if k in res.lubm1 else "-" for k in res.load) + " |")
        lines.append("")
    if res.lubm10:
        expected = expected_counts(10)
        lines += [
            "## The 14 LUBM queries on closed LUBM(10) over HTTP",
            "",
            f"Data: LUBM(10) + ontology built by `kg build` on the large-input path "
            f"({res.lubm10_build.get('triples', 0):,} triples in the release's named graphs; "
            "the inferred graph holds the filtered closure). Our endpoint: `kg serve` (2 "
            "workers) over that release; Virtuoso: the same release's graphs, one N-Triples "
            "file each, by its bulk loader. SPARQL JSON over HTTP, parsed by the client. Counts "
            "checked against `answers-lubm10.tsv`.",
            "",
            "| query | our endpoint | Virtuoso 7 |",
            "|---|---|---|",
        ]
        for name in QUERY_NAMES:
            cells = [f"{ms(run.times[name])}; {_counts_cell(run, name, expected)}"
                     for run in (res.lubm10.get(k) for k in ("ours", "virtuoso")) if run]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        totals = [res.lubm10[k].total() for k in ("ours", "virtuoso") if k in res.lubm10]
        lines.append("| sum of medians | " + " | ".join(t.text() for t in totals) + " |")
        if len(totals) == 2:
            lines += ["", f"Ratio, our sum ÷ Virtuoso's: "
                          f"{_ratio(totals[0].median, totals[1].median)} (goal ≤ 1.0)."]
        c = res.lubm10_build
        if c:
            total = float(c["wall_seconds"]) + float(c.get("start_to_first_answer_seconds", 0))
            lines += [
                "",
                "LUBM(10) load → reason → index → serve through our own pipeline, one run "
                "(`KG_BUILD_PATH=large KG_BASE_IRI=http://lubm.example/ /usr/bin/time -v kg "
                "--root PROJECT build`; the steps are the build report's timings):",
                "",
                "| step | figure |",
                "|---|---|",
                f"| load: Oxigraph bulk load of the sources (a thread) while Python reads them "
                f"for the reasoner | {c.get('load_seconds')} s |",
                f"| reason: OWL 2 RL closure (`reasonable`), filter, consistency checks | "
                f"{c.get('reason_seconds')} s (reasonable with its input and post-processing "
                f"{c.get('closure_seconds')} s), "
                f"{c.get('inferred', 0):,} inferred triples kept |",
                f"| SHACL | {c.get('validate_seconds')} s: {c.get('validation')} |",
                f"| index: inferred graph bulk load, VoID statistics, meta graph, optimize | "
                f"{c.get('index_seconds')} s |",
                f"| write: dataset.nq, the N-Quads dump, report | {c.get('write_seconds')} s |",
                f"| `kg build`, wall clock | {c.get('wall_seconds')} s |",
                f"| peak memory (maximum resident set size) | {c.get('peak_rss_mib')} MiB |",
                f"| `kg serve` to the first answer (q01) | "
                f"{c.get('start_to_first_answer_seconds')} s |",
                f"| end to end, build + serve (the goal: ≤ 90 s, ≤ 4 GiB) | {total:.1f} s |",
            ]
        lines.append("")
    lines += [
        "## Reading these figures",
        "",
        "- The machine may be shared: the load averages above say how busy it was. wrk, the "
        "servers and the clients all run on the same cores, so every server gets the same "
        "handicap in one run, but absolute figures on a busy machine are lower than on an "
        "idle one; compare the ratios.",
        "- Our endpoint and the bare app are gunicorn with 2 sync workers (`make run`'s "
        "setting); Virtuoso uses its own threads (`ServerThreads = 32` in the private ini).",
        "- Virtuoso is sent the release's graphs as `default-graph-uri` / `named-graph-uri`, "
        "so that its system graphs stay out of the default graph.",
        *res.notes,
    ]
    return "\n".join(lines).rstrip() + "\n"


def decision(res: Results) -> str:
    totals = {k: res.lubm1[k].total() for k in res.lubm1}
    timeouts = {k: sum(1 for f in run.times.values() if not f.done) for k, run in res.lubm1.items()}
    embedded = {k: totals[k] for k in ("oxigraph", "memory") if k in totals}
    winner = min(embedded, key=lambda k: (timeouts[k], totals[k].median or float("inf")))
    rows = "\n".join(
        f"| {k} | {res.load[k].text()} | {totals[k].text()} | {timeouts[k]} |"
        for k in res.lubm1)
    return f"""# 0001: the default store backend

Status: accepted (numbers from `make bench`, {datetime.now(UTC).strftime('%Y-%m-%d')};
see docs/benchmarks.md for every figure, the machine and the versions).

## Context

KazKor KG serves a release from one of the backends of `kg.store`: `memory`
(rdflib, pure Python), `oxigraph` (pyoxigraph, Rust, embedded, on disk) or `remote:URL`
(any SPARQL 1.1 Protocol + Graph Store Protocol server, such as Virtuoso). The default
must answer the standard LUBM queries completely and fast on one 2-core machine, start
without re-parsing sources, and need no server of its own.

## Options measured

Closed LUBM(1) (185,493 triples), the 14 LUBM queries (rdflib capped at the
per-query limit; "timeout" when it was hit):

| backend | load | sum of the 14 query medians | queries over the cap |
|---|---|---|---|
{rows}

Virtuoso is measured over HTTP (the way a remote store is used); the embedded backends
in process.

## Choice

`{winner}` is the default (`KG_STORE={winner}`). It loads and answers all 14 queries
in the time shown, with no timeout, in process; its index is written with the release,
so `kg serve` opens it read-only without parsing anything. `memory` stays for tests and
tiny graphs; `remote:URL` is the way to scale out onto a triple store that is already run
by someone (docs/remote-stores.md).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="repetitions of every figure")
    parser.add_argument("--duration", type=int, default=20, help="seconds per wrk run")
    parser.add_argument("--cap", type=float, default=60, help="rdflib per-query cap, seconds")
    parser.add_argument("--only", nargs="*", default=["backends", "http", "startup", "lubm10"],
                        help="sections to run")
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    args = parser.parse_args()
    if not vt.installed() or shutil.which("wrk") is None:
        sys.exit("make bench needs Debian's virtuoso-opensource and wrk (the Makefile installs "
                 "them)")
    (WORK / "load").mkdir(parents=True, exist_ok=True)
    res = Results(machine=machine(), versions=versions())
    config = Config(root=ROOT, release_dir=WORK / "releases")
    say("building our graph (kg build)")
    release = build(config, progress=say).release

    virtuoso_db = WORK / "virtuoso"
    shutil.rmtree(virtuoso_db, ignore_errors=True)
    server = vt.VirtuosoServer(virtuoso_db, load_dirs=(WORK / "load", config.releases))
    say("starting Virtuoso on loopback")
    server.start()
    try:
        publish_release(release, Target(server.sparql_url, virtuoso_isql=server.isql_address),
                        progress=say)
        if "backends" in args.only:
            bench_backends(res, server, args.runs, args.cap)
        if "http" in args.only:
            bench_http(res, server, release, config.releases, args.runs, args.duration)
        if "startup" in args.only:
            bench_startup(res, config.releases, args.runs)
        if "lubm10" in args.only:
            bench_lubm10(res, server, args.runs)
    finally:
        say("stopping Virtuoso")
        server.stop()
    res.machine["load average at the end (1, 5, 15 min)"] = load_average()
    args.output.write_text(report(res, args), encoding="utf-8")
    say(f"wrote {args.output}")
    if res.lubm1:
        target = ROOT / "docs" / "decisions" / "0001-default-store.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(decision(res), encoding="utf-8")
        say(f"wrote {target}")


if __name__ == "__main__":
    main()
