"""The W3C SPARQL 1.1 Update evaluation tests, run through the served ``/update`` endpoint.

Each ``mf:UpdateEvaluationTest`` of ``manifest-sparql11-update.ttl`` gives an
:class:`UpdateTest`: the update file, the store before (``ut:data``: the default graph;
``ut:graphData``: named graphs, each named by its ``rdfs:label``) and after. :func:`evaluate`
sends one request to the scratch update server (:class:`tests.conformance.served.UpdateEndpoint`):
the test's update (with ``BASE <its file's IRI>``) with a reset (``DROP ALL`` and an
``INSERT DATA`` of the store before) put before its first operation, after its prologue
(the parser says where): one request, so one new version, per test. (Oxigraph 0.5 does not
accept a prologue after ``;``, which the grammar allows, so the reset cannot simply come
first.) It then reads every
graph back with one query and compares each with the expected one by isomorphism: the
default graph of an update is the data graph (``BASE/graph/data``); the graphs the rebuild
computes (``inferred``, ``meta``) are left out; an empty graph and an absent one are the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import RDFS, BNode, Graph, URIRef
from rdflib.compare import isomorphic
from rdflib.term import Node
from tests.conformance import known
from tests.conformance.manifest import MF, UT, ManifestEntry, Suite, entries, sparql_suite
from tests.conformance.results import Solutions, literal, parse
from tests.conformance.served import UpdateEndpoint, rdf_format

from kg.config import DEFAULT_BASE_IRI, GRAPH_NAMES
from kg.sparqltext import inspect

MANIFEST = "manifest-sparql11-update.ttl"
#: the data graph, the default graph of an update on the scratch server
DEFAULT_GRAPH = f"{DEFAULT_BASE_IRI}graph/data"
_COMPUTED = {f"{DEFAULT_BASE_IRI}graph/{name}" for name in ("inferred", "meta")}
_OWN = {f"{DEFAULT_BASE_IRI}graph/{name}" for name in GRAPH_NAMES}
_READ_BACK = "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"


@dataclass(frozen=True)
class Store:
    """A store as a test states it: the default graph's file and each named graph's."""

    default: Path | None
    named: tuple[tuple[str, Path], ...]

    @classmethod
    def of(cls, entry: ManifestEntry, node: Node | None) -> Store:
        graph, suite = entry.graph, entry.suite
        if node is None:
            return cls(None, ())
        default = graph.value(node, UT.data)
        named = []
        for data in graph.objects(node, UT.graphData):
            name = graph.value(data, RDFS.label)
            named.append((str(name), suite.path(graph.value(data, UT.graph))))
        return cls(suite.path(default) if default is not None else None,
                   tuple(sorted(named)))

    def graphs(self, suite: Suite) -> dict[str, Graph]:
        """The graphs by name (:data:`DEFAULT_GRAPH` for the default one)."""
        found = {}
        if self.default is not None:
            found[DEFAULT_GRAPH] = _read(suite, self.default)
        for name, path in self.named:
            found[name] = _read(suite, path)
        return found


def _read(suite: Suite, path: Path) -> Graph:
    graph = Graph()
    for triple in ox.parse(path=str(path), format=rdf_format(path),
                           base_iri=str(suite.iri(path))):
        graph.add(tuple(_term(t) for t in (triple.subject, triple.predicate,  # type: ignore[arg-type]
                                             triple.object)))
    return graph


def _term(term: object) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    assert isinstance(term, ox.Literal)
    return literal(term.value, term.language, term.datatype.value)


@dataclass(frozen=True)
class UpdateTest:
    entry: ManifestEntry
    request: Path
    before: Store
    after: Store

    @property
    def id(self) -> str:
        return self.entry.id

    @property
    def base_iri(self) -> str:
        return str(self.entry.suite.iri(self.request))

    def reset(self) -> str:
        """The update that makes the store the test's store before."""
        lines = []
        labels: dict[str, str] = {}
        for name, graph in self.before.graphs(self.entry.suite).items():
            triples = " ".join(" ".join(_nt(t, labels) for t in triple) + " ."
                               for triple in graph)
            lines.append(triples if name == DEFAULT_GRAPH else f"GRAPH <{name}> {{ {triples} }}")
        data = "\n".join(lines)
        return f"DROP ALL ;\nINSERT DATA {{\n{data}\n}}"


def _nt(term: Node, labels: dict[str, str]) -> str:
    """N-Triples syntax; blank nodes relabelled so that no label of the test's own update
    can meet one of the reset (a label names one node in one INSERT DATA)."""
    if isinstance(term, BNode):
        return labels.setdefault(str(term), f"_:kgReset{len(labels)}")
    return term.n3()


def update_tests(suite: Suite | None = None) -> list[UpdateTest]:
    suite = suite or sparql_suite()
    tests = []
    for entry in entries(suite, MANIFEST):
        if MF.UpdateEvaluationTest not in entry.types and \
                UT.UpdateEvaluationTest not in entry.types:
            continue
        request = entry.action_file(UT.request)
        if request is None:
            raise ValueError(f"{entry.id}: an update evaluation test needs ut:request")
        tests.append(UpdateTest(entry, request, Store.of(entry, entry.action),
                                Store.of(entry, entry.result)))
    return tests


@dataclass(frozen=True)
class Outcome:
    passed: bool
    cause: str = ""
    detail: str = ""


def read_back(endpoint: UpdateEndpoint) -> dict[str, Graph]:
    """Every graph the server holds but the computed ones, by name."""
    answer = endpoint.request("POST", "/sparql", data={"query": _READ_BACK},
                              headers={"Accept": "application/sparql-results+json"})
    answer.raise_for_status()
    result = parse(answer.content, answer.headers["Content-Type"])
    assert isinstance(result, Solutions)
    graphs: dict[str, Graph] = {}
    for row in result.rows:
        name = str(row["g"])
        if name not in _COMPUTED:
            graphs.setdefault(name, Graph()).add((row["s"], row["p"], row["o"]))
    return graphs


def request(test: UpdateTest) -> str:
    """The test's update with the reset before its first operation."""
    text = inspect(test.request.read_text("utf-8")).text
    operations = inspect(text).operations
    first = operations[0].start if operations else len(text)
    return f"BASE <{test.base_iri}>\n{text[:first]}{test.reset()} ;\n{text[first:]}"


def evaluate(test: UpdateTest, endpoint: UpdateEndpoint) -> Outcome:
    answer = endpoint.update(request(test))
    if answer.status_code != 200:
        return Outcome(False, f"refused with HTTP {answer.status_code}",
                       answer.text.strip().splitlines()[0] if answer.text.strip() else "")
    expected = test.after.graphs(test.entry.suite)
    actual = read_back(endpoint)
    differences = list(_differences(expected, actual))
    if not differences:
        return Outcome(True)
    return Outcome(False, "different graphs", "; ".join(differences))


def _differences(expected: dict[str, Graph], actual: dict[str, Graph]) -> Iterator[str]:
    for name in sorted(set(expected) | set(actual)):
        want, got = expected.get(name, Graph()), actual.get(name, Graph())
        if name in _OWN and name != DEFAULT_GRAPH and not got:
            continue
        if not isomorphic(want, got):
            shown = "the default graph" if name == DEFAULT_GRAPH else f"<{name}>"
            yield f"{shown}: {len(got)} triples where {len(want)} are expected"


RUNNERS = ("served",)


def known_failures() -> dict[tuple[str, str], known.KnownFailure]:
    return known.known_failures("update", "runner", RUNNERS)
