"""The W3C SHACL test suite (core and SHACL-SPARQL) through the project's validation.

Each ``sht:Validate`` test names a data graph and a shapes graph (Turtle files, often the
test file itself) and the expected outcome: a ``sh:ValidationReport``, or ``sht:Failure``
(the shapes cannot be applied: the validation must stop with an error). The data and shapes
go through :func:`kg.pipeline.validate.validate_graph`, the entry point ``kg build`` and
``kg validate`` use, with one of its engines (``oxigraph`` or ``pyshacl``).

The report is compared as the test suite's page says for full compliance: the expected
report is the ``mf:result`` node with its triples and those of its results, the actual one
the ``sh:ValidationReport`` of the report graph with the same; ``sh:resultMessage`` and
``sh:detail`` are left out of both, and blank nodes (a property shape, a path, a focus
node) are compared by their descriptions. So ``sh:conforms``, and each result's focus
node, path, value, severity, source shape, source constraint and component must be as
expected, no result missing and none extra. The page asks for graph isomorphism of the two
reports; this compares them result by result (:class:`ComparableReport`), which differs
only where a path written inline in two expected results is one blank node in a report.
"""

from __future__ import annotations

import logging
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, SH, BNode, Graph
from rdflib.term import Node
from tests.conformance import known
from tests.conformance.known import KnownFailure
from tests.conformance.manifest import (
    SHT,
    ManifestEntry,
    Suite,
    entries,
    read_graph,
    shacl_suite,
)

from kg.pipeline.validate import SHACL_ENGINES, ShapesError, validate_graph

#: what the comparison leaves out (the test suite's README: messages are not compared)
IGNORED = frozenset({SH.resultMessage, SH.detail})


@dataclass(frozen=True)
class ShaclTest:
    """One ``sht:Validate`` test."""

    entry: ManifestEntry
    data: Path
    shapes: Path

    @property
    def id(self) -> str:
        return self.entry.id

    @property
    def iri(self) -> str:
        """The test as implementation reports name it: ``urn:x-shacl-test:/core/node/class-001``."""
        return self.entry.suite.published(self.entry.iri)

    @property
    def folder(self) -> str:
        return self.entry.folder

    @property
    def expects_failure(self) -> bool:
        return self.entry.result == SHT.Failure

    def expected(self) -> ComparableReport:
        """The expected report as the comparison sees it."""
        assert self.entry.result is not None
        return ComparableReport.of(self.entry.graph, self.entry.result)


@dataclass(frozen=True)
class Outcome:
    passed: bool
    #: what went wrong (or, for an expected failure, the error the validation gave)
    detail: str = ""


def shacl_tests(suite: Suite | None = None) -> list[ShaclTest]:
    """Every ``sht:Validate`` test of the suite (core/ and sparql/), in manifest order."""
    suite = suite or shacl_suite()
    tests = []
    for entry in entries(suite):
        if SHT.Validate not in entry.types:
            raise ValueError(f"{entry.id}: a test of a kind this runner does not know: "
                             f"{sorted(entry.types)}")
        data, shapes = entry.action_file(SHT.dataGraph), entry.action_file(SHT.shapesGraph)
        if data is None or shapes is None or entry.result is None:
            raise ValueError(f"{entry.id}: a test needs sht:dataGraph, sht:shapesGraph and "
                             "mf:result")
        tests.append(ShaclTest(entry, data, shapes))
    return tests


#: a term as the comparison sees it: an IRI or literal itself, a blank node by its
#: description (a frozenset of (predicate, value) pairs, nested)
Comparable = Node | frozenset[tuple[Node, "Comparable"]] | str


def _comparable(graphs: tuple[Graph, ...], node: Node, seen: frozenset[Node] = frozenset()
                ) -> Comparable:
    """``node``; a blank node as its description in the first of ``graphs`` that has one,
    blank nodes in it likewise (a cycle back to a node being described is written ``^``)."""
    if not isinstance(node, BNode):
        return node
    if node in seen:
        return "^"
    graph = next((g for g in graphs if (node, None, None) in g), graphs[0])
    return frozenset((p, _comparable(graphs, o, seen | {node}))
                     for p, o in graph.predicate_objects(node) if p not in IGNORED)


@dataclass(frozen=True)
class ComparableReport:
    """A validation report as the W3C rule compares it: ``sh:conforms``, and the multiset
    of results, each the set of its properties (but ``sh:resultMessage`` and ``sh:detail``)
    with blank nodes (paths, property shapes, focus nodes) compared by their descriptions.

    This is the README's graph isomorphism, result by result: a path written inline in two
    expected results is two blank nodes where a report may share one, which graph
    isomorphism would tell apart and this does not."""

    conforms: Node | None
    results: Counter[Comparable]

    @classmethod
    def of(cls, graph: Graph, report: Node, sources: tuple[Graph, ...] = ()
           ) -> ComparableReport:
        graphs = (graph, *sources)
        return cls(graph.value(report, SH.conforms),
                   Counter(_comparable(graphs, r) for r in graph.objects(report, SH.result)))

    def difference(self, found: ComparableReport) -> str:
        lines = []
        if self.conforms != found.conforms:
            lines.append(f"sh:conforms {found.conforms} where {self.conforms} is expected")
        for title, results in (("missing", self.results - found.results),
                               ("unexpected", found.results - self.results)):
            lines += [f"{title}: {_describe(r)}" for r in results.elements()]
        return "\n".join(lines)


def _describe(value: Comparable) -> str:
    if isinstance(value, frozenset):
        parts = sorted(f"{p.n3(_NAMES)} {_describe(o)}" for p, o in value if p != RDF.type)
        return "[ " + " ; ".join(parts) + " ]"
    return value.n3(_NAMES) if isinstance(value, Node) else value


_NAMES = Graph().namespace_manager


def run(test: ShaclTest, engine: str) -> Outcome:
    """Validate the test's data against its shapes with ``engine`` and compare."""
    suite = test.entry.suite
    data, shapes = read_graph(suite, test.data), read_graph(suite, test.shapes)
    try:
        report = validate_graph(data, shapes, None, engine=engine)
    except ShapesError as e:
        return Outcome(test.expects_failure, f"the validation stopped: {e}")
    except Exception as e:  # a crash is the test's outcome, not the end of the run
        return Outcome(False, f"the validation crashed: {type(e).__name__}: {e}")
    if test.expects_failure:
        return Outcome(False, "the validation gave a report; the test expects a failure "
                              "(the shapes cannot be applied)")
    [report_node] = report.graph.subjects(RDF.type, SH.ValidationReport)
    found = ComparableReport.of(report.graph, report_node, (data, shapes))
    expected = test.expected()
    if found == expected:
        return Outcome(True)
    return Outcome(False, expected.difference(found))


def known_failures() -> dict[tuple[str, str], KnownFailure]:
    """The SHACL tests that fail for a reason we accept, by (test IRI, engine)."""
    return known.known_failures("shacl", "engine", SHACL_ENGINES)


def run_all(tests: list[ShaclTest] | None = None) -> Iterator[tuple[ShaclTest, str, Outcome]]:
    """Every test with every engine."""
    for test in tests if tests is not None else shacl_tests():
        for engine in SHACL_ENGINES:
            yield test, engine, run(test, engine)


def quiet_rdflib() -> None:
    """The suite's ill-formed literals (``"aldi"^^xsd:integer``, ``"none"^^xsd:boolean``, on
    purpose) are logged and warned about by rdflib wherever a copy of them is made; the tests
    check how they are reported, not the log."""
    logging.getLogger("rdflib.term").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", "Parsing weird boolean", UserWarning)
