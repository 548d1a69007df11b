"""The servers of the HTTP benchmarks, each started as its users start it.

- ours: ``kg serve`` over a release, with its default worker model; only the per-client
  bounds are lifted (wrk is one client with 8 connections: :data:`BENCH_ENV`);
- the bare app: ``bench/bare_app.py`` (Flask + pyoxigraph, nothing else) under gunicorn
  with the worker model ours reports (worker class from its log, web workers counted
  in its process tree, threads per worker from ``KG_QUERY_PROCESSES``);
- the isolated app: ``bench/isolated_app.py``, the bare app with its queries run in query
  processes (as many per worker as ours): what any design that can stop a query pays;
- Virtuoso 7: a private loopback instance that gets the release's graphs by its bulk
  loader, and their union as one more graph, made the default graph of its endpoint
  (``DB.DBA.SYS_SPARQL_HOST``): it is sent the same plain requests as the others.
"""

from __future__ import annotations

import http.client
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from bench.builds import ReleaseFolder
from bench.procs import (
    CpuMeter,
    Process,
    free_port,
    holds_socket,
    listening_sockets,
    process_tree,
)
from bench.workloads import JSON_RESULTS

from kg.config import Config
from kg.store import virtuoso as vt

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
#: wrk is one client opening 8 connections: the per-client bounds of a public endpoint
#: are lifted to let it through (the admission check still runs): its concurrency, its
#: budget of query seconds per minute (a few seconds of uncached queries spend it), and
#: the rule of one long query per client (a query is long past 0.5 s, which a cheap one
#: reaches on a loaded machine; a second one would be stopped and the client paused for
#: 5 s). The only settings that differ from ``kg serve``'s defaults.
BENCH_ENV = {"KG_CLIENT_CONCURRENCY": "64", "KG_CLIENT_BUDGET_SECONDS": "0",
             "KG_SHORT_QUERY_SECONDS": "30"}
#: the graph of a Virtuoso that holds the union of a release's graphs: its default graph
UNION_GRAPH = "urn:x-kazkor-bench:union"


@dataclass(frozen=True)
class WorkerModel:
    """How a gunicorn server serves requests."""

    worker_class: str
    workers: int
    threads: int

    def text(self) -> str:
        return f"gunicorn {self.worker_class}, {self.workers} workers × {self.threads} threads"


@dataclass
class Server:
    """A running server: its name in the tables, its root process and HTTP port."""

    name: str
    label: str
    port: int
    pid: int
    sparql_path: str = "/sparql"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sparql_url(self) -> str:
        return self.base_url + self.sparql_path

    def cpu_meter(self) -> CpuMeter:
        return CpuMeter(self.pid, self.port)

    def keeps_alive(self) -> bool:
        """Whether a second request goes over the connection of the first."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            for _ in range(2):
                conn.request("GET", self.sparql_path + "?query=ASK%7B%7D",
                             headers={"Accept": JSON_RESULTS})
                response = conn.getresponse()
                response.read()
                if response.getheader("Connection", "").lower() == "close":
                    return False
            return True
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def stop(self) -> None:
        raise NotImplementedError


@dataclass
class GunicornServer(Server):
    process: Process | None = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def web_workers(self) -> int:
        """Processes holding the listening socket, less the master (the root)."""
        inodes = listening_sockets(self.port)
        return sum(1 for pid in process_tree(self.pid)[1:] if holds_socket(pid, inodes))

    def worker_class(self) -> str:
        found = re.search(r"Using worker: (\S+)", self.process.log.read_text(errors="replace")
                          ) if self.process else None
        return found.group(1) if found else "unknown"


def start_ours(release_dir: Path, log: Path, root: Path = ROOT,
               env: dict[str, str] | None = None) -> GunicornServer:
    """``kg serve`` as a user starts it, on a free loopback port; returns once it answers."""
    port = free_port()
    process = Process([str(BIN / "kg"), "--root", str(root), "--release-dir", str(release_dir),
                       "serve", "--port", str(port)], log, cwd=root,
                      env={**BENCH_ENV, **(env or {})})
    server = GunicornServer("ours", "ours (`kg serve`)", port, process.pid, process=process)
    process.wait_until(server.sparql_url, params={"query": "ASK {}"},
                       headers={"Accept": JSON_RESULTS})
    return server


def our_worker_model(ours: GunicornServer) -> WorkerModel:
    """The worker model of a running ``kg serve``: worker class from its log, web workers
    from its process tree, threads per worker from its documented setting."""
    threads = Config.from_env().query_processes
    deadline = time.monotonic() + 60
    workers = ours.web_workers()
    while workers == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
        workers = ours.web_workers()
    return WorkerModel(ours.worker_class(), workers, threads)


def start_bare(release: ReleaseFolder, model: WorkerModel, log: Path,
               isolated: bool = False) -> GunicornServer:
    """The bare Flask + pyoxigraph app under gunicorn with ``model`` (gunicorn's default
    keep-alive, as ours); ``isolated``: the bare app whose queries run in query processes
    (``bench/isolated_app.py``, as many per worker as ours)."""
    port = free_port()
    module = "isolated_app" if isolated else "bare_app"
    command = [str(BIN / "gunicorn"), "--chdir", str(ROOT / "bench"), "-k", model.worker_class,
               "-w", str(model.workers), "--threads", str(model.threads),
               "-b", f"127.0.0.1:{port}", "--timeout", "120", f"{module}:app"]
    process = Process(command, log, cwd=ROOT,
                      env={"BARE_STORE": str(release.index),
                           "ISOLATED_PROCESSES": str(model.threads)})
    name, label = (("isolated", f"bare Flask + pyoxigraph, queries in {model.threads} query "
                                f"processes per worker ({model.text()})") if isolated
                   else ("bare", f"bare Flask + pyoxigraph ({model.text()})"))
    server = GunicornServer(name, label, port, process.pid, process=process)
    process.wait_until(server.sparql_url, params={"query": "ASK {}"})
    return server


@dataclass
class VirtuosoBench(Server):
    virtuoso: vt.VirtuosoServer | None = None

    def stop(self) -> None:
        if self.virtuoso is not None:
            self.virtuoso.stop()


def union_file(release: ReleaseFolder, target: Path) -> Path:
    """The union of the release's graphs as one N-Triples file (Virtuoso drops repeats)."""
    store = ox.Store.read_only(str(release.index))
    with target.open("wb") as out:
        for iri in release.report["graphs"].values():
            store.dump(out, format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(iri))
    return target


def graph_files(release: ReleaseFolder, folder: Path) -> dict[str, Path]:
    store = ox.Store.read_only(str(release.index))
    files = {}
    for name, iri in release.report["graphs"].items():
        files[iri] = folder / f"{name}.nt"
        store.dump(str(files[iri]), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(iri))
    return files


def start_virtuoso(folder: Path, files: dict[str, Path], default_graph: str,
                   ) -> tuple[VirtuosoBench, float]:
    """A new Virtuoso database in ``folder`` holding ``files`` (graph IRI -> N-Triples file,
    all in one folder), ``default_graph`` the default graph of plain requests; the server
    and the seconds its bulk load took."""
    shutil.rmtree(folder, ignore_errors=True)
    load_dirs = tuple({path.parent for path in files.values()})
    virtuoso = vt.VirtuosoServer(folder, load_dirs=load_dirs)
    virtuoso.start()
    try:
        t = time.perf_counter()
        vt.bulk_load(virtuoso.isql_address, files)
        seconds = time.perf_counter() - t
        # the default graph of every request that names none (any Host header)
        virtuoso.isql("DELETE FROM DB.DBA.SYS_SPARQL_HOST WHERE SH_HOST = '*';",
                      "INSERT INTO DB.DBA.SYS_SPARQL_HOST (SH_HOST, SH_GRAPH_URI) "
                      f"VALUES ('*', '{default_graph}');")
    except BaseException:
        virtuoso.stop()
        raise
    assert virtuoso.process is not None
    server = VirtuosoBench("virtuoso", "Virtuoso 7 (plain requests)", virtuoso.http_port,
                           virtuoso.process.pid, virtuoso=virtuoso)
    return server, seconds
