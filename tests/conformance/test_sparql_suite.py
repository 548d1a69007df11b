"""The W3C SPARQL 1.1 query evaluation and result format tests, answered by pyoxigraph in
this process (tests.conformance.sparql_suite.InProcessEndpoint): what Oxigraph itself passes,
the level the served endpoint will be held to when it is plugged in as the runner."""

from __future__ import annotations

import pytest
from tests.conformance.manifest import sparql_suite
from tests.conformance.sparql_suite import (
    MANIFESTS,
    RUNNERS,
    InProcessEndpoint,
    QueryTest,
    data_files,
    evaluate,
    known_failures,
    query_tests,
)

pytestmark = [
    pytest.mark.conformance,
    pytest.mark.skipif(not sparql_suite().available(),
                       reason=f"the W3C SPARQL 1.1 suite is not at {sparql_suite().root} "
                              "(../shared/conformance beside the checkout, or "
                              "KG_CONFORMANCE_DIR)"),
]

TESTS = ([test for manifest in MANIFESTS.values() for test in query_tests(manifest)]
         if sparql_suite().available() else [])
KNOWN = known_failures()


@pytest.fixture(scope="module")
def endpoint() -> InProcessEndpoint:
    return InProcessEndpoint(data_files(TESTS))


def _cases() -> list[object]:
    cases = []
    for test in TESTS:
        iri = test.entry.suite.published(test.entry.iri)
        known = KNOWN.get((iri, RUNNERS[0]))
        marks = [pytest.mark.xfail(reason=known.summary, strict=True)] if known else []
        cases.append(pytest.param(test, marks=marks, id=test.id))
    return cases


@pytest.mark.parametrize("test", _cases())
def test_query_evaluation_in_process(test: QueryTest, endpoint: InProcessEndpoint) -> None:
    outcome = evaluate(test, endpoint)
    assert outcome.passed, f"{test.id} ({test.entry.name}): {outcome.cause}\n{outcome.detail}"


def test_the_endpoint_holds_every_data_file(endpoint: InProcessEndpoint) -> None:
    assert endpoint.unreadable == {}
    assert len(endpoint.store) > 0


def test_known_failures_name_tests_of_the_suite() -> None:
    iris = {test.entry.suite.published(test.entry.iri) for test in TESTS}
    for (iri, _runner), known in KNOWN.items():
        assert iri in iris, f"known_failures.toml names {iri}, which is not in the suite"
        assert known.reason and known.issue


def test_the_manifests_are_read_whole() -> None:
    """Every query evaluation test of the two manifests, with its dataset and base IRI."""
    counts = {name: len(query_tests(manifest)) for name, manifest in MANIFESTS.items()}
    assert counts == {"query evaluation": 225, "result formats": 10}
    [graph] = [t for t in TESTS if t.id == "bindings/manifest#graph"]
    base = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/bindings/"
    assert graph.base_iri == base + "graph.rq"
    assert graph.default_graphs == (base + "empty.ttl",)
    assert graph.named_graphs == (base + "data01.ttl", base + "data02.ttl")
    assert graph.query.is_file() and graph.result.name == "graph.ttl"
    assert graph.entry.approval is None
