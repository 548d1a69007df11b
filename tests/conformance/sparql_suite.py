"""The W3C SPARQL 1.1 query evaluation tests, run through any SPARQL endpoint.

Each ``mf:QueryEvaluationTest`` (and ``mf:CSVResultFormatTest``) of
``manifest-sparql11-query.ttl`` (or ``manifest-sparql11-results.ttl``) gives a
:class:`QueryTest`: the query text, its base IRI (the query file's IRI), its dataset
(``qt:data``: the files merged into the default graph; ``qt:graphData``: named graphs, each
named by its file's IRI) and the expected result. :func:`evaluate` asks an injected
:data:`Run` callable for the answer, as the SPARQL protocol would (the query, the
``default-graph-uri`` and ``named-graph-uri`` lists and an ``Accept`` media type), and compares
it with :mod:`tests.conformance.results`.

The endpoint holds every test's data beforehand, each file a named graph named by its IRI
(:func:`data_files`), as a scratch release of the server will. :class:`InProcessEndpoint`
is such an endpoint in this process, on pyoxigraph; its pass count is what Oxigraph itself
passes, which the served endpoint can then be held to.

The dataset of a query: a query that names its own (``FROM``, ``FROM NAMED``) keeps it, and
the runner passes no graphs; otherwise the runner passes the test's files, and a test without
data is run with empty lists, which :data:`Run` answers on an empty dataset.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import Literal
from rdflib.term import Node
from tests.conformance import known
from tests.conformance.manifest import MF, QT, ManifestEntry, Suite, entries, sparql_suite
from tests.conformance.results import (
    MEDIA_TYPES,
    Result,
    ResultsError,
    Solutions,
    compare,
    literal,
    order_variables,
    parse,
)
from tests.conformance.served import rdf_format

from kg.sparqltext import inspect_cached
from kg.store.oxigraph import from_rdflib

#: the query-evaluation manifests, by the section of docs/conformance.md that reports them
MANIFESTS = {"query evaluation": "manifest-sparql11-query.ttl",
             "result formats": "manifest-sparql11-results.ttl"}
EVALUATION_TYPES = (MF.QueryEvaluationTest, MF.CSVResultFormatTest)
#: folders of the suite the runner leaves out, and why
LEFT_OUT = {
    "service": "SERVICE (federated query) is refused by the endpoint on purpose: a public "
               "endpoint does not make requests to other servers for its clients",
}

#: ``run(query, base_iri, default_graph_uris, named_graph_uris, accept)`` answers a query
#: as an endpoint would: ``(HTTP status, Content-Type, body)``. Empty graph lists with a
#: query without ``FROM`` mean an empty dataset.
Run = Callable[[str, str, Sequence[str], Sequence[str], str], tuple[int, str, bytes]]


@dataclass(frozen=True)
class QueryTest:
    entry: ManifestEntry
    query: Path
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    result: Path

    @property
    def id(self) -> str:
        return self.entry.id

    @property
    def text(self) -> str:
        return self.query.read_text("utf-8")

    @property
    def base_iri(self) -> str:
        return str(self.entry.suite.iri(self.query))

    @property
    def graph_result(self) -> bool:
        """Whether the query is a CONSTRUCT or DESCRIBE (its result is a graph)."""
        return inspect_cached(self.text).form in ("CONSTRUCT", "DESCRIBE")

    @property
    def accept(self) -> str:
        """The media type asked for: the expected result's own format for SELECT and ASK
        (so that the format tests test the endpoint's writer), N-Triples for a graph, JSON
        for a result set written in RDF."""
        if self.graph_result:
            return MEDIA_TYPES["nt"]
        extension = self.result.suffix[1:]
        return MEDIA_TYPES[extension] if extension in ("srx", "srj", "tsv", "csv") \
            else MEDIA_TYPES["srj"]

    def expected(self) -> Result:
        return parse(self.result.read_bytes(), MEDIA_TYPES[self.result.suffix[1:]],
                     base=str(self.entry.suite.iri(self.result)),
                     graph_expected=self.graph_result)


def query_tests(manifest: str = MANIFESTS["query evaluation"], suite: Suite | None = None,
                ) -> list[QueryTest]:
    """The query evaluation tests of ``manifest`` and those it includes."""
    suite = suite or sparql_suite()
    tests = []
    for entry in entries(suite, manifest):
        if not entry.types & set(EVALUATION_TYPES) or entry.folder in LEFT_OUT:
            continue
        query = entry.action_file(QT.query)
        if query is None or entry.result is None:
            raise ValueError(f"{entry.id}: a query evaluation test needs qt:query and "
                             "mf:result")
        tests.append(QueryTest(
            entry, query,
            tuple(str(g) for g in entry.action_values(QT.data)),
            tuple(str(g) for g in entry.action_values(QT.graphData)),
            suite.path(entry.result)))
    return tests


def data_files(tests: Iterable[QueryTest]) -> dict[str, Path]:
    """Every data file the tests use, by its IRI (the name of its graph on the endpoint),
    the files a query names in ``FROM`` among them."""
    files: dict[str, Path] = {}
    for test in tests:
        suite = test.entry.suite
        for iri in (*test.default_graphs, *test.named_graphs):
            files[iri] = suite.path(iri)
    return files


@dataclass(frozen=True)
class Outcome:
    passed: bool
    #: why it failed, in a few words (the group of docs/conformance.md), and the details
    cause: str = ""
    detail: str = ""


def evaluate(test: QueryTest, run: Run) -> Outcome:
    """Ask ``run`` for the test's query and compare its answer with the expected result."""
    text = test.text
    own_dataset = inspect_cached(text).has_dataset_clause
    status, content_type, body = run(
        text, test.base_iri, () if own_dataset else test.default_graphs,
        () if own_dataset else test.named_graphs, test.accept)
    if status != 200:
        message = body.decode("utf-8", "replace").strip().splitlines()
        first = message[0] if message else ""
        return Outcome(False, f"refused with HTTP {status}", first)
    try:
        actual = parse(body, content_type, base=test.base_iri, graph_expected=test.graph_result)
        difference = compare(test.expected(), actual, order_variables(text))
    except ResultsError as e:
        return Outcome(False, "unreadable answer", str(e))
    if difference is None:
        return Outcome(True)
    if compare(oxigraph_forms(test.expected()), oxigraph_forms(actual),
               order_variables(text)) is None:
        return Outcome(False, LITERAL_FORMS, difference)
    return Outcome(False, "different results", difference)


#: the cause of a failure that only the literals' lexical forms make
LITERAL_FORMS = "literal forms only (equal once Oxigraph normalizes both sides)"


def oxigraph_forms(result: Result) -> Result:
    """The result with every typed literal in the form Oxigraph stores it in (``"01"`` as
    ``"1"``, ``xsd:negativeInteger`` as ``xsd:integer``, ``"1.0e6"`` as ``"1000000"``): what
    Oxigraph's own test harness compares ("Hack to normalize literals",
    testsuite/src/sparql_evaluator.rs)."""
    if not isinstance(result, Solutions) or result.lexical:
        return result
    store = ox.Store()
    subject, predicate = ox.NamedNode("urn:kg:s"), ox.NamedNode("urn:kg:p")

    def normal(term: Node) -> Node:
        if not isinstance(term, Literal) or term.datatype is None:
            return term
        store.clear()
        store.add(ox.Quad(subject, predicate, from_rdflib(term)))
        [quad] = store
        value = quad.object
        return literal(value.value, value.language, value.datatype.value)

    rows = tuple({name: normal(term) for name, term in row.items()} for row in result.rows)
    return Solutions(result.variables, rows)


class InProcessEndpoint:
    """A SPARQL endpoint on pyoxigraph in this process: every data file of the tests in a
    named graph named by its IRI, queries answered as the protocol would (see :data:`Run`)."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.store = ox.Store()
        #: files Oxigraph cannot read, with its reason (their tests then fail)
        self.unreadable: dict[str, str] = {}
        for iri, path in sorted(files.items()):
            try:
                self.store.load(path=str(path), format=rdf_format(path), base_iri=iri,
                                to_graph=ox.NamedNode(iri))
            except (SyntaxError, ValueError, OSError) as e:
                self.unreadable[iri] = str(e)

    def __call__(self, query: str, base_iri: str, default_graphs: Sequence[str],
                 named_graphs: Sequence[str], accept: str) -> tuple[int, str, bytes]:
        dataset = {}
        if default_graphs or named_graphs or not inspect_cached(query).has_dataset_clause:
            dataset = {"default_graph": [ox.NamedNode(g) for g in default_graphs],
                       "named_graphs": [ox.NamedNode(g) for g in named_graphs]}
        try:
            results = self.store.query(query, base_iri=base_iri, **dataset)
            if isinstance(results, ox.QueryTriples):
                return 200, MEDIA_TYPES["nt"], results.serialize(format=ox.RdfFormat.N_TRIPLES)
            answer = results.serialize(format=ox.QueryResultsFormat.from_media_type(accept))
        except SyntaxError as e:
            return 400, "text/plain", str(e).encode()
        except (OSError, ValueError, RuntimeError) as e:
            return 500, "text/plain", str(e).encode()
        return 200, accept, answer or b""


def run_all(manifest: str = MANIFESTS["query evaluation"], run: Run | None = None,
            ) -> list[tuple[QueryTest, Outcome]]:
    """Every test of ``manifest`` through ``run`` (by default an :class:`InProcessEndpoint`
    holding the tests' data)."""
    tests = query_tests(manifest)
    endpoint = run or InProcessEndpoint(data_files(tests))
    return [(test, evaluate(test, endpoint)) for test in tests]


def causes(outcomes: Iterable[tuple[QueryTest, Outcome]]) -> Counter[str]:
    return Counter(outcome.cause for _, outcome in outcomes if not outcome.passed)


#: who answers the queries: pyoxigraph in this process (:class:`InProcessEndpoint`), and
#: the served endpoint (:class:`tests.conformance.served.QueryEndpoint`)
RUNNERS = ("in-process", "served")


def known_failures() -> dict[tuple[str, str], known.KnownFailure]:
    """The SPARQL tests that fail for a reason we accept, by (test IRI, runner)."""
    return known.known_failures("sparql", "runner", RUNNERS)
