"""SPARQL query results compared as the W3C SPARQL 1.1 test suite compares them.

Expected and actual results are read into one model (:class:`Solutions`, :class:`Boolean`,
or an rdflib ``Graph`` for CONSTRUCT and DESCRIBE) from any of the formats the suite uses:
SPARQL Results XML (``.srx``), JSON (``.srj``), TSV, CSV, an RDF result set (an
``rs:ResultSet`` in Turtle or RDF/XML), or an RDF graph. Then:

- solutions are compared as a bag, or, when the query has an ``ORDER BY`` at its top level,
  as a bag whose sequence of values of the ordered variables must be the expected one
  (solutions that tie on the order keys may come in any order, as in the harnesses of Jena
  and rdflib); the variables must be the same set;
- RDF terms are compared by term equality (``"01"^^xsd:integer`` is not ``"1"^^xsd:integer``;
  a simple literal is an ``xsd:string``), and blank nodes by one consistent one-to-one
  mapping over the whole result (a blank node label means nothing; the same label twice
  means the same node);
- CSV loses the kind and type of every term (SPARQL 1.1 Query Results CSV and TSV, §2): a
  result read from CSV holds lexical forms only, so the other side is reduced to lexical
  forms before the comparison (blank nodes stay blank nodes);
- graphs are compared by isomorphism (``rdflib.compare.isomorphic``).

:func:`compare` returns ``None`` when the results match, else what differs, for a person.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from xml.etree import ElementTree

from rdflib import RDF, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.exceptions import ParserError
from rdflib.term import Node
from tests.conformance.manifest import exact_literals

from kg.sparqltext import inspect_cached

RS = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/result-set#")
_SRX = "{http://www.w3.org/2005/sparql-results#}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

#: media types of results, by the extension of a file of the suite
MEDIA_TYPES = {
    "srx": "application/sparql-results+xml",
    "srj": "application/sparql-results+json",
    "tsv": "text/tab-separated-values",
    "csv": "text/csv",
    "ttl": "text/turtle",
    "rdf": "application/rdf+xml",
    "nt": "application/n-triples",
}
_RDF_FORMATS = {"text/turtle": "turtle", "application/rdf+xml": "xml",
                "application/n-triples": "nt"}
#: the most blank-node assignments tried before giving up on a comparison
_SEARCH_LIMIT = 200_000

Row = Mapping[str, Node]


class ResultsError(ValueError):
    """A results document that cannot be read."""


@dataclass(frozen=True)
class Solutions:
    """A SELECT result: its variables and its solutions in the order given."""

    variables: tuple[str, ...]
    rows: tuple[Row, ...]
    #: read from CSV: every term is its lexical form (an rdflib Literal without type)
    lexical: bool = False


@dataclass(frozen=True)
class Boolean:
    """An ASK result."""

    value: bool


Result = Solutions | Boolean | Graph


def literal(lexical: str, language: str | None = None, datatype: str | None = None) -> Literal:
    """The literal as written (not normalized): ``xsd:string`` is a simple literal (RDF 1.1)."""
    if language:
        return Literal(lexical, lang=language, normalize=False)
    if datatype and datatype != str(XSD.string) and datatype != str(RDF.langString):
        return Literal(lexical, datatype=URIRef(datatype), normalize=False)
    return Literal(lexical, normalize=False)


# ---------------------------------------------------------------- reading

def parse(body: bytes | str, media_type: str, base: str | None = None,
          graph_expected: bool = False) -> Result:
    """A results document. ``media_type`` may carry parameters; an RDF document is a result
    set when it holds an ``rs:ResultSet``, else (or when ``graph_expected``) a graph."""
    kind = media_type.split(";")[0].strip().lower()
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    try:
        if kind in ("application/sparql-results+xml", "application/xml"):
            return _parse_xml(text)
        if kind in ("application/sparql-results+json", "application/json"):
            return _parse_json(text)
        if kind == "text/tab-separated-values":
            return _parse_tsv(text)
        if kind == "text/csv":
            return _parse_csv(text)
        if kind in _RDF_FORMATS:
            graph = Graph()
            with exact_literals():
                graph.parse(data=text, format=_RDF_FORMATS[kind], publicID=base)
            if not graph_expected and (None, RDF.type, RS.ResultSet) in graph:
                return _result_set(graph)
            return graph
    except (ValueError, KeyError, ElementTree.ParseError, SyntaxError, ParserError) as e:
        raise ResultsError(f"the {kind} results cannot be read: {e}") from e
    raise ResultsError(f"no reader for results of type {media_type!r}")


def _parse_xml(text: str) -> Result:
    root = ElementTree.fromstring(text)
    boolean = root.find(f"{_SRX}boolean")
    if boolean is not None:
        return Boolean((boolean.text or "").strip() == "true")
    variables = tuple(v.attrib["name"] for v in root.iter(f"{_SRX}variable"))
    rows = []
    for result in root.iter(f"{_SRX}result"):
        row = {}
        for binding in result.findall(f"{_SRX}binding"):
            [term] = list(binding)
            row[binding.attrib["name"]] = _xml_term(term)
        rows.append(row)
    return Solutions(variables, tuple(rows))


def _xml_term(element: ElementTree.Element) -> Node:
    tag, text = element.tag.removeprefix(_SRX), element.text or ""
    if tag == "uri":
        return URIRef(text.strip())
    if tag == "bnode":
        return BNode(text.strip())
    if tag == "literal":
        return literal(text, element.attrib.get(_XML_LANG), element.attrib.get("datatype"))
    raise ResultsError(f"unknown term element <{tag}>")


def _parse_json(text: str) -> Result:
    document = json.loads(text)
    if "boolean" in document:
        return Boolean(bool(document["boolean"]))
    rows = []
    for binding in document["results"]["bindings"]:
        rows.append({name: _json_term(term) for name, term in binding.items()})
    return Solutions(tuple(document["head"].get("vars", ())), tuple(rows))


def _json_term(term: Mapping[str, str]) -> Node:
    kind, value = term["type"], term["value"]
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(value)
    if kind in ("literal", "typed-literal"):
        return literal(value, term.get("xml:lang"), term.get("datatype"))
    raise ResultsError(f"unknown term type {kind!r}")


_TSV_TERM = re.compile(
    r'(?:<(?P<iri>[^>]*)>'
    r'|_:(?P<bnode>\S+)'
    r'|"(?P<string>(?:[^"\\]|\\.)*)"(?:@(?P<lang>[A-Za-z0-9-]+)|\^\^<(?P<datatype>[^>]*)>)?'
    r"|(?P<double>[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+)"
    r"|(?P<decimal>[+-]?\d*\.\d+)"
    r"|(?P<integer>[+-]?\d+)"
    r"|(?P<boolean>true|false))$")
_ESCAPES = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'",
            "\\": "\\"}


def _unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        code = m.group(1)
        if code[0] in "uU":
            return chr(int(code[1:], 16))
        return _ESCAPES[code]
    return re.sub(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", one, text)


def _tsv_term(cell: str) -> Node:
    m = _TSV_TERM.match(cell.strip())
    if not m:
        raise ResultsError(f"not an RDF term in Turtle syntax: {cell!r}")
    if m["iri"] is not None:
        return URIRef(_unescape(m["iri"]))
    if m["bnode"] is not None:
        return BNode(m["bnode"])
    if m["string"] is not None:
        return literal(_unescape(m["string"]), m["lang"], m["datatype"])
    for kind in ("double", "decimal", "integer", "boolean"):
        if m[kind] is not None:
            return literal(m[kind], None, str(XSD[kind]))
    raise ResultsError(f"not an RDF term: {cell!r}")


def _parse_tsv(text: str) -> Solutions:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header = [v.strip() for v in lines[0].rstrip("\r").split("\t")] if lines else []
    variables = tuple(v[1:] for v in header if v)
    rows = []
    for line in lines[1:]:
        cells = line.rstrip("\r").split("\t")
        rows.append({name: _tsv_term(cell) for name, cell in zip(variables, cells, strict=False)
                     if cell.strip()})
    return Solutions(variables, tuple(rows))


def _parse_csv(text: str) -> Solutions:
    reader = csv.reader(io.StringIO(text, newline=""))
    records = list(reader)
    variables = tuple(records[0]) if records else ()
    rows = []
    for record in records[1:]:
        row: dict[str, Node] = {}
        for name, cell in zip(variables, record, strict=False):
            if cell == "":
                continue
            row[name] = BNode(cell[2:]) if cell.startswith("_:") else Literal(cell)
        rows.append(row)
    return Solutions(variables, tuple(rows), lexical=True)


def _result_set(graph: Graph) -> Result:
    [result_set] = graph.subjects(RDF.type, RS.ResultSet)
    boolean = graph.value(result_set, RS.boolean)
    if boolean is not None:
        return Boolean(str(boolean) == "true")
    variables = tuple(sorted(str(v) for v in graph.objects(result_set, RS.resultVariable)))
    solutions = []
    for solution in graph.objects(result_set, RS.solution):
        row = {str(graph.value(b, RS.variable)): graph.value(b, RS.value)
               for b in graph.objects(solution, RS.binding)}
        index = graph.value(solution, RS.index)
        solutions.append((int(index) if index is not None else 0, row))
    solutions.sort(key=lambda s: s[0])
    return Solutions(variables, tuple(row for _, row in solutions))


# ---------------------------------------------------------------- ordering

def order_variables(query: str) -> list[str] | None:
    """The variables of the query's top-level ``ORDER BY`` (in order), or None when its
    solutions are unordered (no ``ORDER BY``, or one inside a sub-select only), as the
    parser reads them."""
    order = inspect_cached(query).order_by
    return None if order is None else list(order)


# ---------------------------------------------------------------- comparing

def as_lexical(result: Solutions) -> Solutions:
    """The solutions as CSV writes them: the lexical form of every IRI and literal."""
    rows = tuple({name: term if isinstance(term, BNode) else Literal(str(term))
                  for name, term in row.items()} for row in result.rows)
    return Solutions(result.variables, rows, lexical=True)


def compare(expected: Result, actual: Result, order_by: Sequence[str] | None = None
            ) -> str | None:
    """None when ``actual`` is ``expected`` by the suite's rules, else what differs.
    ``order_by``: the ordered variables of the query (:func:`order_variables`)."""
    if isinstance(expected, Graph) or isinstance(actual, Graph):
        if not (isinstance(expected, Graph) and isinstance(actual, Graph)):
            return f"a {_kind(actual)} where a {_kind(expected)} is expected"
        if isomorphic(expected, actual):
            return None
        return _graph_difference(expected, actual)
    if isinstance(expected, Boolean) or isinstance(actual, Boolean):
        if expected == actual:
            return None
        return f"{_describe(actual)} where {_describe(expected)} is expected"
    if expected.lexical != actual.lexical:
        expected, actual = as_lexical(expected), as_lexical(actual)
    if set(expected.variables) != set(actual.variables):
        return (f"the variables are {sorted(actual.variables)} where "
                f"{sorted(expected.variables)} are expected")
    return _compare_rows(expected.rows, actual.rows, order_by)


def _kind(result: Result) -> str:
    return {Graph: "graph", Boolean: "boolean", Solutions: "solution sequence"}.get(
        type(result), "graph")


def _describe(result: Result) -> str:
    if isinstance(result, Boolean):
        return str(result.value).lower()
    return _kind(result)


def _graph_difference(expected: Graph, actual: Graph) -> str:
    plain_expected = {t for t in expected if not any(isinstance(n, BNode) for n in t)}
    plain_actual = {t for t in actual if not any(isinstance(n, BNode) for n in t)}
    lines = [f"{len(actual)} triples where {len(expected)} are expected; not isomorphic"]
    lines += [f"  missing: {' '.join(n.n3() for n in t)}"
              for t in sorted(plain_expected - plain_actual)[:10]]
    lines += [f"  unexpected: {' '.join(n.n3() for n in t)}"
              for t in sorted(plain_actual - plain_expected)[:10]]
    return "\n".join(lines)


def _key(row: Row) -> frozenset[tuple[str, Node]]:
    return frozenset(row.items())


def _shape(row: Row) -> frozenset[tuple[str, Node | None]]:
    """The row with its blank nodes left out: rows that may match have the same shape."""
    return frozenset((name, None if isinstance(term, BNode) else term)
                     for name, term in row.items())


def _row_text(row: Row) -> str:
    return "{" + ", ".join(f"?{n}={t.n3()}" for n, t in sorted(row.items())) + "}"


@dataclass
class _Matching:
    """A search for a one-to-one mapping of blank nodes under which the rows with blank
    nodes of one side are those of the other."""

    expected: list[Row]
    candidates: list[list[int]]
    actual: list[Row]
    mapping: dict[Node, Node] = field(default_factory=dict)
    mapped: set[Node] = field(default_factory=set)
    used: set[int] = field(default_factory=set)
    steps: int = 0

    def search(self, index: int = 0) -> bool:
        if index == len(self.expected):
            return True
        for candidate in self.candidates[index]:
            if candidate in self.used:
                continue
            self.steps += 1
            if self.steps > _SEARCH_LIMIT:
                raise ResultsError("too many blank nodes to compare the solutions")
            added = self._extend(self.expected[index], self.actual[candidate])
            if added is None:
                continue
            self.used.add(candidate)
            if self.search(index + 1):
                return True
            self.used.discard(candidate)
            self._undo(added)
        return False

    def _extend(self, expected: Row, actual: Row) -> list[Node] | None:
        """The blank nodes newly mapped to match ``expected`` with ``actual``, or None (and
        the mapping unchanged) when they cannot match under it."""
        added: list[Node] = []
        for name, term in expected.items():
            if not isinstance(term, BNode):
                continue
            other = actual[name]
            if self.mapping.get(term, other) != other or (
                    term not in self.mapping and other in self.mapped):
                self._undo(added)
                return None
            if term not in self.mapping:
                self.mapping[term] = other
                self.mapped.add(other)
                added.append(term)
        return added

    def _undo(self, added: list[Node]) -> None:
        for node in added:
            self.mapped.discard(self.mapping.pop(node))


def _compare_rows(expected: Sequence[Row], actual: Sequence[Row],
                  order_by: Sequence[str] | None) -> str | None:
    if len(expected) != len(actual):
        return (f"{len(actual)} solutions where {len(expected)} are expected"
                + _bag_difference(expected, actual))
    plain = Counter(_key(r) for r in expected if not _has_bnode(r))
    found = Counter(_key(r) for r in actual if not _has_bnode(r))
    if plain != found:
        return "the solutions differ" + _bag_difference(expected, actual)
    with_bnodes = [r for r in expected if _has_bnode(r)]
    others = [r for r in actual if _has_bnode(r)]
    shapes = [_shape(r) for r in others]
    candidates = [[i for i, s in enumerate(shapes) if s == _shape(r)] for r in with_bnodes]
    order = sorted(range(len(with_bnodes)), key=lambda i: len(candidates[i]))
    matching = _Matching([with_bnodes[i] for i in order], [candidates[i] for i in order],
                         others)
    if not matching.search():
        return "no one-to-one mapping of blank nodes makes the solutions the expected ones"
    if order_by:
        sequence = [_order_key(r, order_by) for r in expected]
        if sequence != [_order_key(r, order_by) for r in actual]:
            return (f"the solutions are not in the expected order of "
                    f"{' '.join('?' + v for v in order_by)}")
    return None


def _has_bnode(row: Row) -> bool:
    return any(isinstance(t, BNode) for t in row.values())


def _order_key(row: Row, names: Sequence[str]) -> tuple[Node | str | None, ...]:
    # blank nodes have no defined order among themselves
    return tuple("_:" if isinstance(row.get(n), BNode) else row.get(n) for n in names)


def _bag_difference(expected: Sequence[Row], actual: Sequence[Row]) -> str:
    missing = Counter(_key(r) for r in expected) - Counter(_key(r) for r in actual)
    extra = Counter(_key(r) for r in actual) - Counter(_key(r) for r in expected)
    lines = [f"\n  missing: {_row_text(dict(k))}" for k in list(missing.elements())[:10]]
    lines += [f"\n  unexpected: {_row_text(dict(k))}" for k in list(extra.elements())[:10]]
    if any(_has_bnode(r) for r in (*expected, *actual)):
        lines.append("\n  (blank node labels differ between results; compare by structure)")
    return "".join(lines)

