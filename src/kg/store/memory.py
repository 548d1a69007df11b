"""The ``memory`` backend: an rdflib ``Dataset`` in the process.

Zero set-up and pure Python: right for tests and small graphs, slow on joins.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import rdflib.plugins.sparql as rdflib_sparql
from pyparsing import ParseException
from rdflib import Dataset, Graph, URIRef
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.processor import translateQuery
from rdflib.query import Result
from rdflib.term import Literal, Node

from kg.formats import by_name
from kg.store import QuerySyntaxError, ResultKind, StoreError, boolean_table

# FROM / FROM NAMED pick graphs of the dataset; they never fetch anything from the web.
rdflib_sparql.SPARQL_LOAD_GRAPHS = False


def _tsv_term(term: Node | None) -> str:
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        return term.n3().replace("\t", "\\t").replace("\n", "\\n")
    return term.n3()


class MemoryResult:
    def __init__(self, result: Result) -> None:
        self._result = result
        if result.type == "SELECT":
            self.kind: ResultKind = "bindings"
            self.variables = [str(v) for v in result.vars or []]
        elif result.type == "ASK":
            self.kind = "boolean"
            self.variables = []
        else:
            self.kind = "graph"
            self.variables = []

    @property
    def boolean(self) -> bool:
        return bool(self._result.askAnswer)

    def serialize(self, format_name: str) -> bytes:
        fmt = by_name(format_name)
        if self.kind == "graph":
            if "CONSTRUCT" not in fmt.forms:
                raise ValueError(f"{fmt.label} cannot carry the triples of a CONSTRUCT/DESCRIBE")
            graph = self._result.graph
            assert graph is not None
            if fmt.keeps_named_graphs:
                dataset = Dataset()
                dataset.default_graph += graph
                return dataset.serialize(format=fmt.rdflib, encoding="utf-8")
            return graph.serialize(format=fmt.rdflib, encoding="utf-8")
        if self.kind == "boolean" and fmt.name in ("csv", "tsv"):
            return boolean_table(self.boolean, fmt.name)
        if fmt.name == "tsv":
            return self._tsv()
        if fmt.name not in ("json", "xml", "csv"):
            raise ValueError(f"{fmt.label} cannot carry SELECT/ASK results")
        return self._result.serialize(format=fmt.name, encoding="utf-8")  # type: ignore[return-value]

    def serialize_into(self, output: BinaryIO, format_name: str) -> None:
        output.write(self.serialize(format_name))

    def _tsv(self) -> bytes:
        lines = ["\t".join("?" + v for v in self.variables)]
        for row in self.rows():
            lines.append("\t".join(_tsv_term(t) for t in row))
        return ("\n".join(lines) + "\n").encode("utf-8")

    def rows(self) -> Iterator[tuple[Node | None, ...]]:
        for row in self._result:
            yield tuple(row)  # type: ignore[arg-type]

    def triples(self) -> Iterator[tuple[Node, Node, Node]]:
        graph = self._result.graph
        assert graph is not None
        yield from graph


class MemoryStore:
    name = "memory"

    def __init__(self) -> None:
        self._dataset = Dataset(default_union=True)

    @classmethod
    def open(cls, argument: str, location: Path | None, *, read_only: bool,
             graph_iris: Sequence[str]) -> MemoryStore:
        return cls()

    @classmethod
    def serve(cls, argument: str, datasets: Sequence[Path], index: Path,
              graph_iris: Sequence[str]) -> MemoryStore:
        """The dataset parsed into this process."""
        store = cls()
        for dataset in datasets:
            store.load(dataset)
        return store

    def query(
        self,
        sparql: str,
        *,
        default_graph_uris: Sequence[str] = (),
        named_graph_uris: Sequence[str] = (),
        union_default_graph: bool | None = None,
        base_iri: str | None = None,
        prefixes: Mapping[str, str] | None = None,
    ) -> MemoryResult:
        try:
            parsed = parseQuery(sparql)
        except ParseException as e:
            raise QuerySyntaxError(f"{e.msg} at line {e.lineno}, column {e.col}") from e
        if default_graph_uris or named_graph_uris:
            # the protocol's dataset replaces the query's own FROM / FROM NAMED
            parsed[1]["datasetClause"] = [
                CompValue("DatasetClause", default=URIRef(g)) for g in default_graph_uris
            ] + [CompValue("DatasetClause", named=URIRef(g)) for g in named_graph_uris]
        try:
            return MemoryResult(self._dataset.query(translateQuery(
                parsed, base=base_iri, initNs=dict(prefixes or {}))))
        except ParseException as e:
            raise QuerySyntaxError(str(e)) from e

    def update(self, sparql: str) -> None:
        try:
            parseUpdate(sparql)
        except ParseException as e:
            raise QuerySyntaxError(f"{e.msg} at line {e.lineno}, column {e.col}") from e
        self._dataset.update(sparql)

    def load(self, path: Path) -> None:
        try:
            self._dataset.parse(str(path), format="nquads")
        except Exception as e:  # rdflib raises many parser types
            raise StoreError(f"cannot load {path}: {e}") from e

    def graphs(self) -> list[str]:
        return sorted(
            str(g.identifier)
            for g in self._dataset.graphs()
            if isinstance(g.identifier, URIRef) and len(g)
            and g.identifier != self._dataset.default_graph.identifier
        )

    def count(self, graph: str | None = None) -> int:
        if graph is None:
            return sum(len(self._dataset.graph(URIRef(g))) for g in self.graphs())
        return len(self._dataset.graph(URIRef(graph)))

    def dump(self, out: BinaryIO, format_name: str, graph: str | None = None) -> None:
        fmt = by_name(format_name)
        rdflib_format = fmt.rdflib
        if graph is not None:
            out.write(self._dataset.graph(URIRef(graph)).serialize(format=rdflib_format,
                                                                   encoding="utf-8"))
        elif fmt.keeps_named_graphs:
            out.write(self._dataset.serialize(format=rdflib_format, encoding="utf-8"))
        else:
            union = Graph()
            for g in self.graphs():
                union += self._dataset.graph(URIRef(g))
            out.write(union.serialize(format=rdflib_format, encoding="utf-8"))

    def close(self) -> None:
        self._dataset = Dataset(default_union=True)
