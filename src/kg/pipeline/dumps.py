"""Dumps: the release in every RDF format of the registry, gzip-compressed, with checksums.

Written into ``RELEASE/dumps/`` at build time so that serving a dump is sending a file.
Formats that can carry named graphs (N-Quads, TriG) keep them; the others (Turtle,
N-Triples, RDF/XML, JSON-LD) hold the union of the graphs, which is the endpoint's default
graph. JSON-LD comes twice, compacted with the project's context
(:mod:`kg.pipeline.jsonld`): the union (one graph, ``….jsonld.gz``) and the named graphs
(``…-graphs.jsonld.gz``); the context itself is written beside them (``context.jsonld``).
The gzip stream carries no time stamp, so the same release always gives the same bytes and
the same checksums.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg import formats
from kg.config import Config
from kg.pipeline.jsonld import CONTEXT_FILE, compact, context_bytes
from kg.store.oxigraph import run_construct, run_select, serialized

DUMPS_DIR = "dumps"
MANIFEST = "dumps.json"
#: the dumps of a release, by format name of :mod:`kg.formats`, in the order they are listed
DUMP_FORMATS = ("nquads", "trig", "turtle", "ntriples", "jsonld", "rdfxml")


def file_stem(version: str) -> str:
    """``kazkor-kg-{version}``: what the name of each file of a version's dumps starts with."""
    return f"kazkor-kg-{version}"


def dump_file_name(version: str, format_name: str) -> str:
    """``kazkor-kg-{version}.{ext}.gz``: the version is the release id."""
    return f"{file_stem(version)}.{formats.by_name(format_name).extension}.gz"


def checksum_file_name(version: str) -> str:
    return f"{file_stem(version)}.sha256"


@dataclass(frozen=True)
class Dump:
    file: str
    format: str
    label: str
    media_type: str
    #: quads for dataset formats, distinct triples of the union for triple formats
    statements: int
    named_graphs: bool
    bytes: int
    sha256: str


_UNION = "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"


def serialize(store: ox.Store, format_name: str, config: Config) -> bytes:
    """The store's content in one format: the named graphs, or their union for triple
    formats (JSON-LD compacted with the project's context)."""
    fmt = formats.by_name(format_name).oxigraph
    if keeps_named_graphs(format_name):
        return serialized(store.dump(format=fmt))
    if format_name == "jsonld":
        return compact(run_construct(store, _UNION), config)
    return serialized(run_construct(store, _UNION).serialize(format=fmt))


def jsonld_dataset(store: ox.Store, config: Config) -> bytes:
    """The named graphs as one compacted JSON-LD document, an ``@graph`` each."""
    return compact(store.quads_for_pattern(None, None, None), config)


def keeps_named_graphs(format_name: str) -> bool:
    return formats.by_name(format_name).keeps_named_graphs


def _statement_count(store: ox.Store, format_name: str) -> int:
    if keeps_named_graphs(format_name):
        query = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    else:
        query = ("SELECT (COUNT(*) AS ?n) "
                 "WHERE { SELECT DISTINCT ?s ?p ?o { GRAPH ?g { ?s ?p ?o } } }")
    return int(next(iter(run_select(store, query)))["n"].value)


def linkset_file_name(version: str) -> str:
    return f"{file_stem(version)}-links.nt.gz"


def jsonld_dataset_file_name(version: str) -> str:
    return f"{file_stem(version)}-graphs.jsonld.gz"


def _write(folder: Path, file: str, name: str, body: bytes, statements: int,
           compresslevel: int = 9, named_graphs: bool | None = None) -> Dump:
    fmt = formats.by_name(name)
    data = gzip.compress(body, compresslevel=compresslevel, mtime=0)
    (folder / file).write_bytes(data)
    named = keeps_named_graphs(name) if named_graphs is None else named_graphs
    label = f"{fmt.label} (named graphs)" if named and not fmt.keeps_named_graphs else fmt.label
    return Dump(file, name, label, fmt.media_type, statements, named, len(data),
                hashlib.sha256(data).hexdigest())


def write_dumps(release_path: Path, store: ox.Store, version: str, config: Config,
                links_graph: str | None = None, format_names: tuple[str, ...] = DUMP_FORMATS,
                compresslevel: int = 9, dataset: Path | None = None) -> list[Dump]:
    """Write the dumps in ``format_names`` (with JSON-LD, the named graphs as JSON-LD too,
    and the context beside them), the linkset (the links graph alone, N-Triples) when
    ``links_graph`` names it, the checksum file and a manifest into ``release_path/dumps``.
    ``dataset``, the store already written as N-Quads, is the N-Quads dump."""
    folder = release_path / DUMPS_DIR
    folder.mkdir(exist_ok=True)
    def dump(name: str) -> Dump:
        return _write(folder, dump_file_name(version, name), name,
                      dataset.read_bytes() if dataset is not None and name == "nquads"
                      else serialize(store, name, config),
                      _statement_count(store, name), compresslevel)

    def graphs_jsonld() -> Dump:
        return _write(folder, jsonld_dataset_file_name(version), "jsonld",
                      jsonld_dataset(store, config), _statement_count(store, "nquads"),
                      compresslevel, named_graphs=True)

    # two at a time: Oxigraph's writers and gzip let go of the interpreter while they work
    with ThreadPoolExecutor(max_workers=2) as pool:
        tasks = [pool.submit(dump, name) for name in format_names]
        if "jsonld" in format_names:
            tasks.append(pool.submit(graphs_jsonld))
        dumps = [task.result() for task in tasks]
    manifest: dict[str, Any] = {"version": version, "checksums": checksum_file_name(version)}
    if "jsonld" in format_names:
        (folder / CONTEXT_FILE).write_bytes(context_bytes(config))
        manifest["context"] = CONTEXT_FILE
    manifest["dumps"] = [asdict(d) for d in dumps]
    written = list(dumps)
    if links_graph is not None:
        graph = ox.NamedNode(links_graph)
        links = serialized(store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph))
        count = int(next(iter(run_select(store,
            f"SELECT (COUNT(*) AS ?n) {{ GRAPH {graph} {{ ?s ?p ?o }} }}")))["n"].value)
        linkset = _write(folder, linkset_file_name(version), "ntriples", links, count)
        manifest["linkset"] = asdict(linkset)
        written.append(linkset)
    (folder / checksum_file_name(version)).write_text(
        "".join(f"{d.sha256}  {d.file}\n" for d in written), encoding="utf-8")
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return dumps


def read_manifest(release_path: Path) -> dict[str, Any] | None:
    """The manifest of a release's dumps, or ``None`` for a release built without them."""
    path = release_path / DUMPS_DIR / MANIFEST
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))
