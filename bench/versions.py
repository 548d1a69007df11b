"""What versions cost: comparing two versions, writing a version's dataset, and the Memento
requests of a running server (docs/versions.md, "Measured").

    python bench/versions.py RELEASE_DIR [--url http://127.0.0.1:8000] [--entity astana]

RELEASE_DIR needs two versions at least (a build and an update). With ``--url``, each
request is timed seven times after a first, warming one; the median is printed.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import requests

from kg.pipeline.changes import Changes, canonical_nquads
from kg.pipeline.history import History
from kg.pipeline.release import Releases

RUNS = 7


def median_seconds(work: Callable[[], object]) -> float:
    work()
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def local(folder: Path) -> None:
    releases = Releases(folder)
    history = History(releases)
    steps = history.steps()
    if len(steps) < 2:
        raise SystemExit(f"{folder} has {len(steps)} version(s); make an update first")
    old, new = (releases.version(s.version).dataset for s in steps[-2:])
    changes = Changes.of_files(old, new)
    lines = sum(1 for _ in new.open("rb"))
    seconds = median_seconds(lambda: Changes.of_files(old, new))
    print(f"compare two versions ({lines:,} quads; {len(changes.removed)} removed, "
          f"{len(changes.added)} added): {seconds * 1000:.0f} ms")
    store = ox.Store()
    store.bulk_load(path=str(new), format=ox.RdfFormat.N_QUADS)
    seconds = median_seconds(lambda: canonical_nquads(store.quads_for_pattern(None, None, None)))
    print(f"name blank nodes and sort a version's dataset: {seconds * 1000:.0f} ms")
    step = steps[-1] if steps[-1].files else next(s for s in reversed(steps) if s.files)
    patch = history.changes / str(step.patch_file)
    dump = releases.version(step.version).path / "dumps" / f"kazkor-kg-{step.version}.nq.gz"
    rows = len(gzip.decompress(patch.read_bytes()).splitlines())
    print(f"RDF Patch of step {step.number}: {patch.stat().st_size:,} bytes ({rows} rows)")
    if dump.is_file():
        print(f"the N-Quads dump of its version: {dump.stat().st_size:,} bytes")


def served(url: str, entity: str, folder: Path) -> None:
    steps = History(Releases(folder)).steps()
    older = steps[-2].version
    gone = "/page/no-such-entity-for-the-benchmark"
    for name, path, headers in (
            ("current page", f"/page/{entity}", {}),
            ("memento page", f"/release/{older}/page/{entity}", {}),
            ("current data (Turtle)", f"/data/{entity}.ttl", {}),
            ("memento data (Turtle)", f"/release/{older}/data/{entity}.ttl", {}),
            ("TimeGate (302)", f"/page/{entity}",
             {"Accept-Datetime": "Tue, 11 Sep 2001 20:35:00 GMT"}),
            ("TimeMap", f"/timemap/page/{entity}", {}),
            ("an IRI no version had (404)", gone, {}),
            ("/releases", "/releases", {})):
        seconds = median_seconds(lambda p=path, h=headers: requests.get(  # type: ignore[misc]
            url + p, headers=h, allow_redirects=False, timeout=60))
        print(f"{name:<30} {path:<55} {seconds:.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("release_dir", type=Path)
    parser.add_argument("--url", help="a server serving RELEASE_DIR")
    parser.add_argument("--entity", default="astana")
    args = parser.parse_args()
    local(args.release_dir)
    if args.url:
        served(args.url.rstrip("/"), args.entity, args.release_dir)


if __name__ == "__main__":
    main()
