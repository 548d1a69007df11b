"""The store interface: a small set of operations that every backend offers.

A backend holds one RDF dataset (named graphs) and answers SPARQL over it. The
query default graph is the union of all named graphs unless the caller names
graphs (SPARQL protocol ``default-graph-uri`` / ``named-graph-uri``, or ``FROM``).

Backends:

- ``memory``: rdflib ``Dataset`` in the process (tests, zero set-up);
- ``oxigraph``: pyoxigraph ``Store`` on disk (the default, see docs/decisions);
- ``remote:URL``: a SPARQL 1.1 Protocol + Graph Store Protocol server (Virtuoso,
  Jena Fuseki, GraphDB, QLever, ...) at ``URL``.

This package knows nothing of HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
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
    ) -> QueryResult: ...

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


def open_store(spec: str, location: Path | None = None, *, read_only: bool = False,
               graph_iris: Sequence[str] = ()) -> Store:
    """The backend named by ``spec`` (``memory``, ``oxigraph``, ``remote:URL``), kept at
    ``location``; a remote store's default graph is the union of ``graph_iris``."""
    if spec == "memory":
        from kg.store.memory import MemoryStore

        return MemoryStore()
    if spec == "oxigraph":
        from kg.store.oxigraph import OxigraphStore

        return OxigraphStore(location, read_only=read_only)
    if spec.startswith("remote:"):
        from kg.store.remote import RemoteStore

        return RemoteStore(spec.removeprefix("remote:"), graph_iris=graph_iris)
    raise StoreError(f"unknown store backend {spec!r}; use memory, oxigraph or remote:URL")
