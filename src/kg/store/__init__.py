"""The store interface: a small set of operations that every backend offers.

A backend holds one RDF dataset (named graphs) and answers SPARQL over it. The
query default graph is the union of all named graphs unless the caller names
graphs (SPARQL protocol ``default-graph-uri`` / ``named-graph-uri``), or the query
names its own dataset (``FROM``), or the caller says otherwise.

The backends are registered in :data:`BACKENDS` (name -> class), as rdflib registers
its store plugins; a store is chosen by a *spec*: ``memory``, ``oxigraph`` or
``remote:URL``.

This package knows nothing of HTTP serving, releases or the pipeline.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, Protocol

from rdflib.term import Node

ResultKind = Literal["bindings", "boolean", "graph"]


class QuerySyntaxError(ValueError):
    """The query (or update) text is not valid SPARQL; the message is the parser's."""


class StoreError(RuntimeError):
    """The store could not do what was asked (missing files, I/O, corrupt data)."""


class StoreUnavailable(StoreError):
    """A remote store cannot be reached or did not answer in time."""


def boolean_table(value: bool, format_name: str) -> bytes:
    """An ASK answer as CSV or TSV, which the W3C formats leave undefined (Jena's convention)."""
    newline = "\r\n" if format_name == "csv" else "\n"
    head = "_askResult" if format_name == "csv" else "?_askResult"
    return f"{head}{newline}{'true' if value else 'false'}{newline}".encode()


class QueryResult(Protocol):
    """The answer to one query, serializable by the backend itself."""

    kind: ResultKind
    variables: list[str]

    def serialize(self, format_name: str) -> bytes:
        """Bytes in a format of :mod:`kg.formats` (by short name) fit for ``kind``."""
        ...

    def serialize_into(self, output: BinaryIO, format_name: str) -> None:
        """The same bytes written into ``output`` as they are made (a backend that makes
        them all at once writes them at once): a writer that raises stops the work."""
        ...

    def rows(self) -> Iterator[tuple[Node | None, ...]]:
        """SELECT rows as rdflib terms, in ``variables`` order (``None`` for unbound)."""
        ...

    def triples(self) -> Iterator[tuple[Node, Node, Node]]:
        """CONSTRUCT/DESCRIBE triples as rdflib terms."""
        ...

    @property
    def boolean(self) -> bool: ...


class Store(Protocol):
    name: str

    def query(
        self,
        sparql: str,
        *,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        union_default_graph: bool | None = None,
        base_iri: str | None = None,
        prefixes: Mapping[str, str] | None = None,
    ) -> QueryResult:
        """Run a query. Without graph URIs the default graph is the union of the named
        graphs, unless ``union_default_graph`` is false (the query names its own dataset
        with ``FROM``; ``None``: the store reads the query to find out). Relative IRIs
        resolve against ``base_iri``; ``prefixes`` are declared for the query besides its
        own."""
        ...

    def update(self, sparql: str) -> None: ...

    def load(self, path: Path) -> None:
        """Add the quads of an N-Quads file (a release's dataset)."""
        ...

    def graphs(self) -> list[str]: ...

    def count(self, graph: str | None = None) -> int: ...

    def dump(self, out: BinaryIO, format_name: str, graph: str | None = None) -> None:
        """Write the dataset (dataset formats) or one graph or the union (triple formats)."""
        ...

    def close(self) -> None: ...


class StoreClass(Protocol):
    """What a backend class offers to open its stores."""

    def open(self, argument: str, location: Path | None, *, read_only: bool,
             graph_iris: Sequence[str]) -> Store: ...

    def serve(self, argument: str, datasets: Sequence[Path], index: Path,
              graph_iris: Sequence[str]) -> Store:
        """The store that serves a built dataset: ``datasets`` (N-Quads files that together
        hold it) and ``index`` (the Oxigraph index of it all); a remote store queries
        ``graph_iris`` where they were published."""
        ...


@dataclass(frozen=True)
class Backend:
    """A registered backend: its name, where its class lives, and what it can do."""

    name: str
    module: str
    class_name: str
    #: the spec takes an argument after a colon (``remote:URL``)
    takes_argument: bool
    #: the data lives on another server: updates are made there, timeouts are the gateway's
    remote: bool
    description: str

    def store_class(self) -> StoreClass:
        """The backend's class, imported when first needed."""
        return getattr(importlib.import_module(self.module), self.class_name)


#: the store backends, by name
BACKENDS: dict[str, Backend] = {b.name: b for b in (
    Backend("oxigraph", "kg.store.oxigraph", "OxigraphStore", False, False,
            "pyoxigraph, embedded, on disk (the default)"),
    Backend("memory", "kg.store.memory", "MemoryStore", False, False,
            "an rdflib Dataset in each process (tests, small graphs)"),
    Backend("remote", "kg.store.remote", "RemoteStore", True, True,
            "a SPARQL 1.1 Protocol + Graph Store Protocol server at URL"),
)}


def parse_spec(spec: str) -> tuple[Backend, str]:
    """The backend a spec names and its argument (``remote:URL`` -> the remote backend, URL);
    raises :class:`StoreError` with the choices for anything else."""
    name, colon, argument = spec.partition(":")
    backend = BACKENDS.get(name)
    if backend is None or backend.takes_argument != bool(colon):
        choices = ", ".join(f"{b.name}:URL" if b.takes_argument else b.name
                            for b in BACKENDS.values())
        raise StoreError(f"unknown store backend {spec!r}; use one of {choices}")
    if backend.takes_argument and not argument.startswith(("http://", "https://")):
        raise StoreError(f"{spec!r}: a {backend.name} store is {backend.name}:URL with an "
                         f"http(s) URL, e.g. {backend.name}:http://127.0.0.1:8890/sparql")
    return backend, argument


def backend_of(spec: str) -> Backend:
    return parse_spec(spec)[0]


def open_store(spec: str, location: Path | None = None, *, read_only: bool = False,
               graph_iris: Sequence[str] = ()) -> Store:
    """The store a spec names (``memory``, ``oxigraph``, ``remote:URL``), kept at
    ``location``; a remote store's default graph is the union of ``graph_iris``."""
    backend, argument = parse_spec(spec)
    return backend.store_class().open(argument, location, read_only=read_only,
                                      graph_iris=graph_iris)


def serve_store(spec: str, datasets: Sequence[Path], index: Path,
                graph_iris: Sequence[str]) -> Store:
    """The store that serves a built dataset in the backend ``spec`` names."""
    backend, argument = parse_spec(spec)
    return backend.store_class().serve(argument, datasets, index, graph_iris)
