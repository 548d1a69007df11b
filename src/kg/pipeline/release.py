"""Release: a build written to disk, complete or not at all.

A release is a folder named by the hash of its inputs, holding:

- ``dataset.nq``: every named graph (ontology, data, links, inferred, meta);
- ``validation.ttl``: the SHACL report of the release;
- ``validation.json``: the same results with their source file and line, for people;
- ``report.json``: triple counts per graph, validation summary, timings, input hashes;
- ``oxigraph/``: the dataset indexed by Oxigraph, ready to serve without re-parsing.

It is written into a temporary folder and renamed into place, and ``current``
(a symlink) is swapped atomically: a half-written release is never served.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import Graph

from kg import __version__
from kg.config import Config
from kg.pipeline.load import discover_sources, shape_files, takes_large_path
from kg.store import Store, StoreError, open_store

REPORT = "report.json"
DATASET = "dataset.nq"
VALIDATION = "validation.ttl"
VALIDATION_JSON = "validation.json"
OXIGRAPH_DIR = "oxigraph"


class ReleaseError(RuntimeError):
    """A release folder is missing, incomplete or corrupt."""


def input_hash(config: Config) -> str:
    """The SHA-256 over every input file, the reasoning mode, the base IRI and the code version."""
    digest = hashlib.sha256()
    digest.update(f"kg {__version__}\nreasoning {config.reasoning}\nbase {config.base_iri}\n"
                  f"reasoner {config.reasoner}\n".encode())
    sources = discover_sources(config)
    if takes_large_path(config, sources):
        digest.update(b"build path large\n")
    files = [s.path for s in sources] + shape_files(config)
    for path in sorted(files):
        digest.update(str(path.relative_to(config.root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def file_hashes(config: Config) -> dict[str, str]:
    files = [s.path for s in discover_sources(config)] + shape_files(config)
    return {
        str(p.relative_to(config.root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(files)
    }


@dataclass(frozen=True)
class Release:
    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def dataset(self) -> Path:
        return self.path / DATASET

    @property
    def report(self) -> dict[str, Any]:
        return json.loads((self.path / REPORT).read_text(encoding="utf-8"))

    @property
    def triple_count(self) -> int:
        return int(self.report["triples"]["total"])

    def check(self) -> None:
        """Raise :class:`ReleaseError` unless the release folder is complete and readable."""
        if not self.path.is_dir():
            raise ReleaseError(f"release {self.path} does not exist")
        for name in (REPORT, DATASET):
            if not (self.path / name).is_file():
                raise ReleaseError(f"release {self.path} is incomplete: {name} is missing")
        if not (self.path / OXIGRAPH_DIR).is_dir():
            raise ReleaseError(f"release {self.path} is incomplete: its Oxigraph index "
                               f"({OXIGRAPH_DIR}/) is missing")
        try:
            report = self.report
        except (OSError, ValueError) as e:
            raise ReleaseError(f"release {self.path} has an unreadable {REPORT}: {e}") from e
        if report.get("complete") is not True:
            raise ReleaseError(f"release {self.path} was not finished")
        if self.dataset.stat().st_size != report.get("dataset_bytes"):
            raise ReleaseError(f"release {self.path}: {DATASET} does not have the size recorded "
                               "in the report (a truncated or altered file)")

    def open_store(self, backend: str) -> Store:
        """The release's dataset in ``backend``: Oxigraph's index is opened read-only as built;
        a remote store is queried as it is, restricted to the release's named graphs."""
        self.check()
        if backend == "oxigraph":
            try:
                return open_store("oxigraph", self.path / OXIGRAPH_DIR, read_only=True)
            except StoreError as e:
                raise ReleaseError(str(e)) from e
        if backend.startswith("remote:"):
            # published there by `kg publish`: the release names the graphs to query
            return open_store(backend, graph_iris=list(self.report["graphs"].values()))
        store = open_store(backend)
        store.load(self.dataset)
        return store


def release_path(config: Config, digest: str) -> Path:
    return config.releases / digest[:16]


def current_release(config: Config) -> Release | None:
    link = config.releases / "current"
    if not link.exists():
        return None
    return Release(link.resolve())


def find_release(config: Config, digest: str) -> Release | None:
    path = release_path(config, digest)
    if not path.is_dir():
        return None
    release = Release(path)
    try:
        release.check()
    except ReleaseError:
        return None
    return release


def release_problem(config: Config, digest: str) -> str | None:
    """Why the release of ``digest`` (or the one ``current`` names) cannot be served, if it
    exists but is broken; ``None`` when it is sound or simply not built yet."""
    link = config.releases / "current"
    if link.is_symlink() and not link.exists():
        return f"the current release {os.readlink(link)} is missing from {config.releases}"
    path = release_path(config, digest)
    if not path.exists():
        return None
    try:
        Release(path).check()
    except ReleaseError as e:
        return str(e)
    return None


def staging_path(config: Config, digest: str) -> Path:
    config.releases.mkdir(parents=True, exist_ok=True)
    staging = config.releases / f".tmp-{digest[:16]}-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    return staging


def publish(config: Config, staging: Path, digest: str) -> Release:
    """Move a finished staging folder into place and point ``current`` at it."""
    final = release_path(config, digest)
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    make_current(config, Release(final))
    return Release(final)


def make_current(config: Config, release: Release) -> None:
    link = config.releases / "current"
    tmp = config.releases / f".current-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(release.path.name)
    os.replace(tmp, link)


def write_dataset(folder: Path, graphs: dict[str, Graph], config: Config) -> ox.Store:
    """Index the named graphs with Oxigraph in ``folder/oxigraph`` and write them, sorted, to
    ``folder/dataset.nq`` (flushed to disk); returns the open Oxigraph store."""
    store = ox.Store(str(folder / OXIGRAPH_DIR))
    # one N-Quads document: Oxigraph gives each document's blank nodes fresh labels, and the
    # inferred graph speaks of the ontology's blank nodes (restrictions, lists)
    quads: list[bytes] = []
    for name, graph in graphs.items():
        suffix = f" <{config.graph_iri(name)}> .".encode()
        quads += [line[:-2] + suffix for line in graph.serialize(
            format="nt", encoding="utf-8").splitlines() if line.endswith(b" .")]
    store.bulk_load(b"\n".join(quads) + b"\n", format=ox.RdfFormat.N_QUADS)
    store.flush()
    store.optimize()
    dumped = store.dump(format=ox.RdfFormat.N_QUADS).decode("utf-8")
    with (folder / DATASET).open("w", encoding="utf-8") as out:
        out.write("\n".join(sorted(line for line in dumped.splitlines() if line)) + "\n")
        out.flush()
        os.fsync(out.fileno())
    return store


def write_report(path: Path, report: dict[str, Any]) -> None:
    (path / REPORT).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n",
                               encoding="utf-8")
