"""Publish: push a release's named graphs to a remote SPARQL server.

Each named graph replaces the graph of the same IRI on the server, by the SPARQL 1.1
Graph Store Protocol (one ``PUT`` per graph) or, for a Virtuoso on this machine,
by Virtuoso's bulk loader (``isql-vt``: ``ld_dir``, ``rdf_loader_run``, ``checkpoint``).
The triple counts on the server are then checked against the release's report.
"""

from __future__ import annotations

import gzip
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import requests

from kg.pipeline.release import Version
from kg.store import StoreError, StoreUnavailable
from kg.store import virtuoso as vt
from kg.store.oxigraph import serialized
from kg.store.remote import RemoteStore

Progress = Callable[[str], None]
VIRTUOSO_GRAPH_STORE = "/sparql-graph-crud-auth"


class PublishError(RuntimeError):
    """The release could not be published, or the server does not hold what was sent."""


@dataclass(frozen=True)
class Target:
    sparql_url: str
    graph_store_url: str | None = None
    user: str | None = None
    password: str | None = None
    #: ``host:port`` of the Virtuoso SQL port: use its bulk loader
    virtuoso_isql: str | None = None
    #: where graph files are written for the bulk loader (in Virtuoso's ``DirsAllowed``)
    load_dir: Path | None = None


def server_software(url: str) -> str:
    """The ``Server`` header of the SPARQL endpoint (``Virtuoso/07.20...``, ``Fuseki``...)."""
    try:
        response = requests.get(url, params={"query": "ASK {}"}, timeout=10)
    except requests.ConnectionError as e:
        raise StoreUnavailable(f"cannot reach the SPARQL server at {url}: is it running? "
                               f"({e.__class__.__name__}); nothing was published") from e
    except requests.RequestException as e:
        raise StoreUnavailable(f"cannot reach the SPARQL server at {url}: {e}; nothing was "
                               "published") from e
    return response.headers.get("Server", "")


def graph_store_for(target: Target) -> str:
    if target.graph_store_url:
        return target.graph_store_url
    if server_software(target.sparql_url).startswith("Virtuoso"):
        base = target.sparql_url.rsplit("/", 1)[0]
        return base + VIRTUOSO_GRAPH_STORE
    raise PublishError(f"{target.sparql_url} is not a Virtuoso: give its Graph Store Protocol "
                       "URL with --graph-store (see docs/remote-stores.md)")


def _graph_ntriples(release: Version, graph: str) -> bytes:
    store = ox.Store.read_only(str(release.index))
    return serialized(store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph)))


def publish_release(release: Version, target: Target, *,
                    progress: Progress | None = None) -> dict[str, int]:
    """Replace the release's named graphs on the server; their triple counts there."""
    say = progress or (lambda _msg: None)
    release.check()
    graphs = release.report.graphs
    expected = release.report.triples
    t0 = time.perf_counter()
    if target.virtuoso_isql:
        _bulk_load(release, graphs, target, say)
    else:
        remote = RemoteStore(target.sparql_url, graph_iris=list(graphs.values()),
                             graph_store_url=graph_store_for(target), user=target.user,
                             password=target.password, timeout=600)
        for name, iri in graphs.items():
            body = _graph_ntriples(release, iri)
            remote.put_graph(iri, body)
            say(f"  PUT <{iri}>: {expected.get(name, 0)} triples")
    say(f"published release {release.id} to {target.sparql_url} in "
        f"{time.perf_counter() - t0:.2f} s; checking the counts")
    return check_counts(release, target)


def _bulk_load(release: Version, graphs: dict[str, str], target: Target, say: Progress) -> None:
    load_dir = (target.load_dir or release.path.parent / "virtuoso-load").resolve()
    folder = load_dir / release.id
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    files: dict[str, Path] = {}
    for name, iri in graphs.items():
        path = folder / f"{name}.nt.gz"
        with gzip.open(path, "wb", compresslevel=1) as out:
            out.write(_graph_ntriples(release, iri))
        files[iri] = path
    say(f"  bulk loading {len(files)} graphs from {folder} with isql-vt {target.virtuoso_isql}")
    try:
        vt.bulk_load(target.virtuoso_isql or "", files, user=target.user or vt.DEFAULT_USER,
                     password=target.password or vt.DEFAULT_PASSWORD)
    except StoreError as e:
        raise PublishError(f"{e}\nThe folder {load_dir} must be in DirsAllowed of the "
                           "server's virtuoso.ini.") from e
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def check_counts(release: Version, target: Target) -> dict[str, int]:
    graphs = release.report.graphs
    expected = release.report.triples
    remote = RemoteStore(target.sparql_url, graph_iris=list(graphs.values()), timeout=600)
    counts = {name: remote.count(iri) for name, iri in graphs.items()}
    wrong = {name: (n, expected.get(name, 0)) for name, n in counts.items()
             if n != expected.get(name, 0)}
    if wrong:
        detail = ", ".join(f"{name}: {n} on the server, {want} in the release"
                           for name, (n, want) in wrong.items())
        raise PublishError(f"the server does not hold the release's triples ({detail})")
    return counts
