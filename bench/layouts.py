"""The 14 LUBM queries in process on the layouts a release's store could have (decision 0012).

    python bench/layouts.py RELEASE_DIR [--runs 3] [--work build/bench/layouts]

RELEASE_DIR is a built LUBM release (``kg build`` on the large-input path, as
bench/builds.py makes it). Each query is timed by the processor time of the thread that
reads its answer (pyoxigraph evaluates lazily, in that thread), the fastest of ``runs``
runs, each with a text of its own; wall-clock times are printed beside them. Layouts:

- ``union``: the store as built, the union of the named graphs as the default graph
  (``use_default_graph_as_union``, what ``kg serve`` does for a query that names no graph);
  then the same with each text planned from the release's statistics (decision 0017),
  what ``kg serve`` runs;
- ``from``: the same store, the asserted and inferred graphs named as the default graph
  (``default_graph=[...]``, what FROM does);
- ``materialized``: a copy with the union also written into the store's default graph,
  queried there (the layout a build could write); its load time and size are printed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from bench.lubm import Distinct, lubm_dir, lubm_queries  # noqa: E402

from kg.store.plan import STATISTICS, Statistics, planned  # noqa: E402


def materialize(release: Path, target: Path) -> ox.Store:
    """A store holding the release's named graphs and their union as its default graph."""
    shutil.rmtree(target, ignore_errors=True)
    t = time.perf_counter()
    store = ox.Store(str(target))
    store.bulk_load(path=str(release / "dataset.nq"), format=ox.RdfFormat.N_QUADS)
    union = target.with_suffix(".nt")
    with (release / "dataset.nq").open("rb") as quads, union.open("wb") as out:
        for line in quads:  # '<s> <p> o <g> .': the graph is the last term
            head = line.rstrip(b" .\n")
            out.write(head[: head.rindex(b" <")] + b" .\n")
    store.bulk_load(path=str(union), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.DefaultGraph())
    union.unlink()
    store.optimize()
    size = sum(f.stat().st_size for f in target.iterdir())
    print(f"materialized: {len(store)} quads loaded and optimized in "
          f"{time.perf_counter() - t:.1f} s, {size / 2**20:.0f} MiB", flush=True)
    return store


def time_queries(store: ox.Store, options: dict[str, object], runs: int,
                 rewrite: Callable[[str], str] = str) -> dict[str, float]:
    queries, distinct, cpu = lubm_queries(lubm_dir(ROOT)), Distinct(), {}
    for name, text in queries.items():
        best = (float("inf"), float("inf"))
        count = 0
        for _ in range(runs):
            query = distinct(text)
            t, c = time.perf_counter(), time.thread_time()
            query = rewrite(query)
            count = sum(1 for _ in store.query(query, **options))  # type: ignore[union-attr]
            best = min(best, (time.thread_time() - c, time.perf_counter() - t))
        cpu[name] = best[0]
        print(f"  {name}: {1000 * best[0]:8.1f} ms processor, {1000 * best[1]:8.1f} ms wall; "
              f"{count} answers", flush=True)
    print(f"  sum: {sum(cpu.values()):.3f} s processor", flush=True)
    return cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("release", type=Path, help="a release folder, or its RELEASE_DIR")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "bench" / "layouts")
    args = parser.parse_args()
    release = (args.release / "current").resolve() if (args.release / "current").exists() \
        else args.release.resolve()
    report = json.loads((release / "report.json").read_text())
    graphs = [ox.NamedNode(iri) for name, iri in report["graphs"].items() if name != "meta"]
    index = release / "oxigraph"
    size = sum(f.stat().st_size for f in index.iterdir())
    print(f"as built: {size / 2**20:.0f} MiB", flush=True)
    store = ox.Store.read_only(str(index))
    print("union of the named graphs", flush=True)
    time_queries(store, {"use_default_graph_as_union": True}, args.runs)
    statistics = Statistics.read(release / STATISTICS)
    if statistics is not None:
        print("union of the named graphs, planned from the release's statistics (what "
              "kg serve does; the planning time included)", flush=True)
        time_queries(store, {"use_default_graph_as_union": True}, args.runs,
                     lambda text: planned(text, None, statistics) or text)
    print("the asserted and inferred graphs named as the default graph (FROM)", flush=True)
    time_queries(store, {"default_graph": graphs}, args.runs)
    del store
    args.work.mkdir(parents=True, exist_ok=True)
    copy = materialize(release, args.work / "materialized")
    print("the union materialized in the default graph", flush=True)
    time_queries(copy, {}, args.runs)


if __name__ == "__main__":
    main()
