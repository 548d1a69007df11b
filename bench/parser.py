"""What it costs to tell what a SPARQL text is: kg.sparqltext.inspect (uncached) against
rdflib's parser, on the competency queries (queries/cq/*.rq) and the 14 LUBM queries.

    .venv/bin/python bench/parser.py            # median µs per query, per set
    .venv/bin/python bench/parser.py --each     # and each query

Each query is inspected ``--runs`` times and its median kept; a set's figure is the median
of those (and the slowest query). rdflib's ``parseQuery`` (pyparsing) is the reference.
(The regular expressions the parser replaced took about 20 µs a query.) A benchmark asserts
nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rdflib.plugins.sparql.parser import parseQuery

from kg.sparqltext import inspect

ROOT = Path(__file__).resolve().parents[1]
#: LUBM_DIR, else the shared material beside the checkout (or beside its worktrees)
LUBM = Path(os.environ["LUBM_DIR"]) if "LUBM_DIR" in os.environ else next(
    (p for up in ROOT.parents[:2] if (p := up / "shared" / "bench" / "lubm").is_dir()),
    ROOT.parent / "shared" / "bench" / "lubm")


def median_us(check: Callable[[str], object], text: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        check(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def bench(name: str, files: list[Path], runs: int, each: bool) -> None:
    checks = {"inspect": (inspect, runs), "rdflib parseQuery": (parseQuery, max(runs // 20, 5))}
    rows = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        rows.append((path.name, len(text),
                     [median_us(check, text, n) for check, n in checks.values()]))
    sizes = [size for _, size, _ in rows]
    print(f"\n{name}: {len(rows)} queries, {statistics.median(sizes):.0f} characters "
          f"(median; {min(sizes)}-{max(sizes)})")
    print("| check | median µs per query | slowest query µs |")
    print("|---|---:|---:|")
    for k, check in enumerate(checks):
        figures = [times[k] for _, _, times in rows]
        print(f"| {check} | {statistics.median(figures):.0f} | {max(figures):.0f} |")
    if each:
        print("\n| query | characters | " + " | ".join(checks) + " |")
        print("|---|---:|" + "---:|" * len(checks))
        for file, size, times in rows:
            print(f"| {file} | {size} | " + " | ".join(f"{t:.0f}" for t in times) + " |")


def main() -> None:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("--runs", type=int, default=400, help="runs per query (inspect)")
    arguments.add_argument("--each", action="store_true", help="a row per query too")
    options = arguments.parse_args()
    parseQuery("SELECT * WHERE { ?s ?p ?o }")  # rdflib builds its grammar on first use
    competency = sorted((ROOT / "queries" / "cq").glob("*.rq"))
    bench("competency queries (queries/cq)", competency, options.runs, options.each)
    lubm = sorted((LUBM / "queries").glob("*.rq"))
    if lubm:
        bench(f"LUBM queries ({LUBM / 'queries'})", lubm, options.runs, options.each)
    else:
        print(f"\nno LUBM queries at {LUBM}: set LUBM_DIR", file=sys.stderr)


if __name__ == "__main__":
    main()
