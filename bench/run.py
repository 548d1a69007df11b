"""``make bench``: a fair side-by-side benchmark, written to docs/benchmarks.md.

    make bench                          # 3 rounds of 15 s runs, LUBM(10), builds, LUBM(1)
    make bench BENCH_ARGS=--quick       # 1 round of 3 s runs, 100 entities, no LUBM: a smoke
    python bench/run.py --quick --no-virtuoso --output /tmp/b.md   # no Virtuoso at all

1. HTTP (bench/rounds.py): ours (``kg serve``), the bare Flask + pyoxigraph app under the
   same worker model, the same with its queries in query processes (the floor of a query
   that can be stopped), Virtuoso 7 sent plain requests; the workloads of
   bench/workloads.py (cheap SELECT, IRI lookups, the competency-query mix, pages and
   data documents of every entity), each cached and uncached, answers checked on every
   server first, interleaved rounds, CPU per request split from /proc;
2. builds (bench/builds.py): the cold build of our graph;
3. LUBM(10) (bench/lubm.py): its build on the large-input path, the 14 queries with a
   distinct text per run, ours and Virtuoso interleaved;
4. store backends on closed LUBM(1), which writes docs/decisions/0001-default-store.md.

The servers are reached over HTTP only and seen from their process trees, so the
benchmark keeps working when the server's insides change. It asserts nothing. Progress
goes to stderr; raw figures and logs to build/bench/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from bench import builds, lubm, rounds  # noqa: E402
from bench.builds import ReleaseFolder  # noqa: E402
from bench.report import Results, decision_0001, report  # noqa: E402
from bench.servers import (  # noqa: E402
    UNION_GRAPH,
    Server,
    graph_files,
    our_worker_model,
    start_bare,
    start_ours,
    start_virtuoso,
    union_file,
)
from bench.workloads import entity_paths, http_workloads  # noqa: E402

from kg.store import virtuoso as vt  # noqa: E402

SECTIONS = ("http", "builds", "lubm", "backends")
T0 = time.monotonic()


def say(message: str) -> None:
    print(f"[bench {time.monotonic() - T0:6.0f} s] {message}", file=sys.stderr, flush=True)


def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return {"CPU": cpu, "cores (nproc)": str(os.cpu_count()),
            "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
            "OS": platform.platform(), "Python": platform.python_version(),
            "load average at the start (1, 5, 15 min)": rounds.load_average()}


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


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, cwd=ROOT).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, cwd=ROOT).stdout.strip()
    return f"`{head}`" + (", with uncommitted changes" if dirty else "")


def command(argv: list[str]) -> str:
    if os.environ.get("MAKELEVEL"):
        return "make bench" + (f" BENCH_ARGS={shlex.quote(' '.join(argv))}" if argv else "")
    return "python bench/run.py" + "".join(f" {shlex.quote(a)}" for a in argv)


def build_ours(release_dir: Path) -> ReleaseFolder:
    """``kg build`` as a user runs it (reused when the sources did not change)."""
    say("building our graph (kg build)")
    subprocess.run([str(Path(sys.executable).parent / "kg"), "--release-dir", str(release_dir),
                    "build"], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return ReleaseFolder.current(release_dir)


def bench_http(res: Results, release: ReleaseFolder, release_dir: Path, work: Path,
               with_virtuoso: bool, entities_limit: int | None) -> None:
    say("HTTP: starting ours, the bare app, the isolated app"
        + (" and Virtuoso" if with_virtuoso else ""))
    servers: dict[str, Server] = {}
    try:
        t = time.perf_counter()
        ours = start_ours(release_dir, work / "kg-serve.log")
        res.ours_start_seconds = time.perf_counter() - t
        servers["ours"] = ours
        res.model = our_worker_model(ours)
        ours.label = f"ours: `kg serve` ({res.model.text()}, all features on)"
        servers["bare"] = start_bare(release, res.model, work / "bare-app.log")
        servers["isolated"] = start_bare(release, res.model, work / "isolated-app.log",
                                         isolated=True)
        if with_virtuoso:
            folder = work / "load" / "ours"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            files = graph_files(release, folder)
            files[UNION_GRAPH] = union_file(release, folder / "union.nt")
            servers["virtuoso"], seconds = start_virtuoso(work / "virtuoso", files, UNION_GRAPH)
            say(f"  Virtuoso bulk load of the release: {seconds:.1f} s")
        res.servers = {name: f"{server.label}; keep-alive: "
                             f"{'yes' if server.keeps_alive() else 'no'}"
                       for name, server in servers.items()}
        sitemap = requests.get(ours.base_url + "/sitemap.xml", timeout=60)
        sitemap.raise_for_status()
        entities = entity_paths(sitemap.text)
        if entities_limit and len(entities) > entities_limit:  # evenly spread over the sitemap
            step = len(entities) / entities_limit
            entities = [entities[int(i * step)] for i in range(entities_limit)]
        res.workloads = http_workloads(ROOT, entities, release.report["base_iri"],
                                       tuple(servers))
        say(f"checking the answers of every request on every server ({len(entities)} "
            "entities)")
        for workload in res.workloads:
            rounds.check_answers(workload, servers, say)
        res.http = rounds.run_rounds(res.workloads, servers, res.rounds, res.duration, work,
                                     say)
    finally:
        for server in servers.values():
            server.stop()


def main(argv: list[str] | None = None) -> Results:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="1 round of 3 s runs, 100 entities, 1 cold build, no LUBM; "
                             "written to build/bench/benchmarks.md unless --output")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 3)")
    parser.add_argument("--duration", type=float, help="seconds per wrk run (default 15)")
    parser.add_argument("--lubm-runs", type=int, default=5,
                        help="timed runs of each LUBM query on each server")
    parser.add_argument("--lubm-scale", type=int, choices=(1, 10), default=10,
                        help="the LUBM section on LUBM(10), or LUBM(1) for a smoke run")
    parser.add_argument("--cold-builds", type=int, help="cold builds of our graph (default 3)")
    parser.add_argument("--cap", type=float, default=60, help="rdflib per-query cap, seconds")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="sections to run")
    parser.add_argument("--entities", type=int,
                        help="IRI lookups, pages and data documents of this many entities "
                             "(default: every entity of the sitemap; 100 with --quick)")
    parser.add_argument("--no-virtuoso", action="store_true",
                        help="ours and the bare app only (no Virtuoso, no LUBM sections)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "bench",
                        help="logs, raw figures, releases and databases")
    parser.add_argument("--release-dir", type=Path,
                        help="our releases (default: WORK/releases)")
    parser.add_argument("--output", type=Path, help="the report (default docs/benchmarks.md)")
    args = parser.parse_args(argv)
    quick = args.quick
    sections = args.only or (("http", "builds") if quick else SECTIONS)
    if args.no_virtuoso:
        sections = tuple(s for s in sections if s not in ("lubm", "backends"))
    output = args.output or (args.work / "benchmarks.md" if quick
                             else ROOT / "docs" / "benchmarks.md")
    if shutil.which("wrk") is None and "http" in sections:
        sys.exit("the benchmark needs wrk: apt-get install wrk (make bench installs it)")
    if not args.no_virtuoso and not vt.installed():
        sys.exit("the benchmark needs Debian's virtuoso-opensource (make bench installs it), "
                 "or --no-virtuoso")
    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    release_dir = (args.release_dir or work / "releases").resolve()
    res = Results(command=command(argv), commit=commit(), machine=machine(),
                  versions=versions(),
                  duration=args.duration or (3 if quick else 15),
                  rounds=args.rounds or (1 if quick else 3))
    lubm_dir = lubm.lubm_dir(ROOT)
    release = build_ours(release_dir)
    if "http" in sections:
        bench_http(res, release, release_dir, work, not args.no_virtuoso,
                   args.entities or (100 if quick else None))
    if "builds" in sections:
        say("cold builds of our graph (kg build --force)")
        res.builds.cold = builds.cold_builds(ROOT, args.cold_builds or (1 if quick else 3),
                                             work, say)
    if "lubm" in sections:
        res.lubm = lubm.bench_lubm_http(lubm_dir, work, args.lubm_scale, args.lubm_runs,
                                        res.builds, say)
        res.lubm_expected = lubm.expected_counts(lubm_dir, args.lubm_scale)
    if "backends" in sections:
        res.backends = lubm.bench_backends(lubm_dir, work, 3, args.cap, say)
        res.lubm1_expected = lubm.expected_counts(lubm_dir, 1)
    res.machine["load average at the end (1, 5, 15 min)"] = rounds.load_average()
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report(res), encoding="utf-8")
    raw = asdict(res)
    for workload in raw["workloads"]:
        workload["items"] = len(workload["items"])
    (work / "results.json").write_text(json.dumps(raw, indent=1, default=str))
    say(f"wrote {output} and {work / 'results.json'}")
    if res.backends is not None and output == ROOT / "docs" / "benchmarks.md":
        target = ROOT / "docs" / "decisions" / "0001-default-store.md"
        target.write_text(decision_0001(res), encoding="utf-8")
        say(f"wrote {target}")
    return res


if __name__ == "__main__":
    main()
