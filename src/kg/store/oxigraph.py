"""The ``oxigraph`` backend: pyoxigraph's Rust store, embedded, on disk (or in memory).

Results are serialized by Oxigraph itself, without Python work per row.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from kg.formats import by_name
from kg.sparqltext import names_dataset
from kg.store import QuerySyntaxError, ResultKind, StoreError, boolean_table
from kg.store.plan import PLAN_FROM_TRIPLES, STATISTICS, Statistics, planned

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


OxTerm = ox.NamedNode | ox.BlankNode | ox.Literal

#: the Oxigraph term each rdflib term made by :func:`_term_to_rdflib` came from, by the
#: rdflib term's identity (the entry holds the term, so its id is not reused meanwhile):
#: turning a read term back (a data document is written by Oxigraph from what the
#: description read) then costs no hashing of an rdflib ``Literal``, which is slower than
#: the engine's own lookup
_ORIGINS: dict[int, tuple[Node, OxTerm]] = {}
_MAX_ORIGINS = 1 << 15


@functools.lru_cache(maxsize=1 << 14)
def _term_to_rdflib(term: OxTerm) -> Node:
    """Made once per term while it is in use: a page reads the same labels, classes and
    properties again and again, and building an rdflib ``Literal`` with a language costs
    more than the engine's lookup of it."""
    made: Node
    if isinstance(term, ox.NamedNode):
        made = URIRef(term.value)
    elif isinstance(term, ox.BlankNode):
        made = BNode(term.value)
    elif isinstance(term, ox.Literal):
        if term.language:
            made = Literal(term.value, lang=term.language)
        elif term.datatype.value == _XSD_STRING:
            made = Literal(term.value)
        else:
            made = Literal(term.value, datatype=URIRef(term.datatype.value))
    else:
        raise TypeError(f"unsupported term {term!r}")
    if len(_ORIGINS) >= _MAX_ORIGINS:
        _ORIGINS.clear()
    _ORIGINS[id(made)] = (made, term)
    return made


def to_rdflib(term: object) -> Node | None:
    """The rdflib term of an Oxigraph term (``None`` for an unbound variable)."""
    if term is None:
        return None
    if not isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal):
        raise TypeError(f"unsupported term {term!r}")
    return _term_to_rdflib(term)


def from_rdflib(term: Node) -> OxTerm:
    """The Oxigraph term of an rdflib term (the inverse of :func:`to_rdflib`): the one it
    was made from, or made once per term while it is in use (rdflib terms compare as
    terms, not values)."""
    origin = _ORIGINS.get(id(term))
    if origin is not None and origin[0] is term:
        return origin[1]
    return _term_from_rdflib(term)


@functools.lru_cache(maxsize=1 << 14)
def _term_from_rdflib(term: Node) -> OxTerm:
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"unsupported term {term!r}")


def quad_from_rdflib(subject: Node, predicate: Node, obj: Node,
                     graph: ox.NamedNode | ox.DefaultGraph | None = None) -> ox.Quad:
    """The Oxigraph quad of an rdflib triple, in ``graph`` (the default graph when None)."""
    return ox.Quad(*_triple_terms(subject, predicate, obj), graph)


def statements_from_rdflib(statements: Iterable[tuple[Node, Node, Node, str | None]],
                           named_graphs: bool = True) -> list[ox.Quad] | list[ox.Triple]:
    """rdflib statements, each with the IRI of its named graph (``None``: the default
    graph), as Oxigraph quads in order and each once; as triples (each once) when not
    ``named_graphs``."""
    if not named_graphs:
        return list(dict.fromkeys(ox.Triple(*_triple_terms(s, p, o))
                                  for s, p, o, _ in statements))
    graphs: dict[str, ox.NamedNode] = {}
    quads: dict[ox.Quad, None] = {}
    for subject, predicate, obj, graph in statements:
        name = graphs.get(graph) if graph else None
        if graph and name is None:
            name = graphs[graph] = ox.NamedNode(graph)
        quads[quad_from_rdflib(subject, predicate, obj, name)] = None
    return list(quads)


def _triple_terms(subject: Node, predicate: Node,
                  obj: Node) -> tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, OxTerm]:
    s, p = from_rdflib(subject), from_rdflib(predicate)
    if isinstance(s, ox.Literal) or not isinstance(p, ox.NamedNode):
        raise TypeError(f"not an RDF triple: {subject!r} {predicate!r} {obj!r}")
    return s, p, from_rdflib(obj)


def run_select(store: ox.Store, sparql: str,
               prefixes: Mapping[str, str] | None = None) -> ox.QuerySolutions:
    """The solutions of a SELECT query on an Oxigraph store (pyoxigraph types the results of
    every query as solutions, a boolean or triples)."""
    solutions = store.query(sparql, prefixes=dict(prefixes) if prefixes else None)
    if not isinstance(solutions, ox.QuerySolutions):
        raise TypeError(f"not a SELECT query: {sparql}")
    return solutions


def run_construct(store: ox.Store, sparql: str) -> ox.QueryTriples:
    """The triples of a CONSTRUCT query on an Oxigraph store."""
    triples = store.query(sparql)
    if not isinstance(triples, ox.QueryTriples):
        raise TypeError(f"not a CONSTRUCT query: {sparql}")
    return triples


def serialized(data: bytes | None) -> bytes:
    """The bytes a pyoxigraph ``serialize`` or ``dump`` called without an output returns (its
    types say ``bytes | None``: None is what a call with an output returns)."""
    if data is None:
        raise TypeError("pyoxigraph wrote to an output: there are no bytes to return")
    return data


def graph_to_rdflib(store: ox.Store, graph: ox.NamedNode | ox.DefaultGraph) -> Graph:
    """One graph of an Oxigraph store as an rdflib graph (blank nodes keep their ids)."""
    g = Graph()
    for q in store.quads_for_pattern(None, None, None, graph):
        g.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))  # type: ignore[arg-type]
    return g


class OxigraphResult:
    def __init__(self, raw: object) -> None:
        self._raw = raw
        self._consumed = False
        if isinstance(raw, ox.QuerySolutions):
            self.kind: ResultKind = "bindings"
            self.variables = [v.value for v in raw.variables]
        elif isinstance(raw, ox.QueryBoolean):
            self.kind = "boolean"
            self.variables = []
        else:
            self.kind = "graph"
            self.variables = []

    @property
    def boolean(self) -> bool:
        return bool(self._raw)

    def _take(self) -> object:
        if self._consumed:
            raise StoreError("a query result can be read only once")
        self._consumed = True
        return self._raw

    def serialize(self, format_name: str) -> bytes:
        if self.kind == "boolean" and format_name in ("csv", "tsv"):
            return boolean_table(self.boolean, format_name)
        return serialized(self._take().serialize(  # type: ignore[attr-defined]
            format=self._format(format_name)))

    def serialize_into(self, output: BinaryIO, format_name: str) -> None:
        if self.kind == "boolean" and format_name in ("csv", "tsv"):
            output.write(boolean_table(self.boolean, format_name))
        else:
            self._take().serialize(output, format=self._format(format_name))  # type: ignore[attr-defined]

    def _format(self, format_name: str) -> object:
        """Oxigraph's format for ``format_name``; ValueError when it cannot carry ``kind``."""
        fmt = by_name(format_name)
        if self.kind == "graph":
            if "CONSTRUCT" not in fmt.forms:
                raise ValueError(f"{fmt.label} cannot carry the triples of a CONSTRUCT/DESCRIBE")
        elif "SELECT" not in fmt.forms:
            raise ValueError(f"{fmt.label} cannot carry SELECT/ASK results")
        return fmt.oxigraph

    def rows(self) -> Iterator[tuple[Node | None, ...]]:
        for solution in self._take():  # type: ignore[attr-defined]
            yield tuple(map(to_rdflib, solution))  # the values in ``variables`` order

    def triples(self) -> Iterator[tuple[Node, Node, Node]]:
        for t in self._take():  # type: ignore[attr-defined]
            yield (to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object))  # type: ignore[misc]


class OxigraphStore:
    name = "oxigraph"

    @classmethod
    def open(cls, argument: str, location: Path | None, *, read_only: bool,
             graph_iris: Sequence[str]) -> OxigraphStore:
        return cls(location, read_only=read_only)

    @classmethod
    def serve(cls, argument: str, datasets: Sequence[Path], index: Path,
              graph_iris: Sequence[str]) -> OxigraphStore:
        """The index written beside the dataset, opened read-only: many processes may; its
        queries planned from the statistics the build wrote beside it (:mod:`kg.store.plan`)."""
        return cls(index, read_only=True, statistics=Statistics.read(index.parent / STATISTICS))

    def __init__(self, location: Path | None = None, *, read_only: bool = False,
                 statistics: Statistics | None = None,
                 plan_from: int = PLAN_FROM_TRIPLES) -> None:
        self.location = location
        #: what queries over the union default graph are planned from (None: not planned)
        self.statistics = statistics if statistics and statistics.triples >= plan_from else None
        try:
            if location is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(location))
            else:
                self._store = ox.Store(str(location))
        except OSError as e:
            raise StoreError(f"cannot open the Oxigraph store at {location}: {e}") from e

    def query(
        self,
        sparql: str,
        *,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        union_default_graph: bool | None = None,
        base_iri: str | None = None,
        prefixes: Mapping[str, str] | None = None,
    ) -> OxigraphResult:
        kwargs: dict[str, Any] = {}
        if base_iri is not None:
            kwargs["base_iri"] = base_iri
        if prefixes:
            kwargs["prefixes"] = dict(prefixes)
        if default_graph_uris or named_graph_uris:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in default_graph_uris]
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graph_uris]
        elif union_default_graph if union_default_graph is not None else (
                not names_dataset(sparql)):
            kwargs["use_default_graph_as_union"] = True
            if self.statistics is not None:
                sparql = planned(sparql, prefixes, self.statistics) or sparql
        try:
            return OxigraphResult(self._store.query(sparql, **kwargs))
        except SyntaxError as e:
            raise QuerySyntaxError(str(e)) from e

    def update(self, sparql: str) -> None:
        try:
            self._store.update(sparql)
        except SyntaxError as e:
            raise QuerySyntaxError(str(e)) from e

    def load(self, path: Path) -> None:
        self._store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
        self._store.flush()

    def graphs(self) -> list[str]:
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode))

    def count(self, graph: str | None = None) -> int:
        if graph is None:
            return len(self._store)
        return sum(1 for _ in self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))

    def dump(self, out: BinaryIO, format_name: str, graph: str | None = None) -> None:
        fmt = by_name(format_name).oxigraph
        if fmt.supports_datasets and graph is None:
            self._store.dump(out, format=fmt)
        elif graph is not None:
            self._store.dump(out, format=fmt, from_graph=ox.NamedNode(graph))
        else:
            # a triple format for the whole dataset: the union of the named graphs
            triples = self._store.query("CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
            out.write(serialized(triples.serialize(format=fmt)))

    def close(self) -> None:
        del self._store
