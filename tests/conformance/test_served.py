"""The W3C SPARQL 1.1 suites through the served endpoint: ``kg serve`` as a real process on a
scratch project (tests.conformance.served), asked over HTTP.

Query evaluation and result formats (one server for all), update evaluation (a scratch store
with updates on any graph, reset per test), the protocol, service description and graph
store protocol exchanges. Each known failure (known_failures.toml) is a strict xfail.
"""

from __future__ import annotations

import pytest
from tests.conformance import protocol_suite, sparql_suite, update_suite
from tests.conformance.manifest import sparql_suite as suite
from tests.conformance.served import Endpoints

pytestmark = [
    pytest.mark.conformance,
    pytest.mark.skipif(not suite().available(),
                       reason=f"the W3C SPARQL 1.1 suite is not at {suite().root} "
                              "(../shared/conformance beside the checkout, or "
                              "KG_CONFORMANCE_DIR)"),
]
AVAILABLE = suite().available()


def _param(test: object, iri: str, known: dict[tuple[str, str], object]) -> object:
    entry = known.get((iri, "served"))
    marks = [pytest.mark.xfail(reason=entry.summary, strict=True)] if entry else []  # type: ignore[attr-defined]
    return pytest.param(test, marks=marks, id=test.id)  # type: ignore[attr-defined]


QUERY_TESTS = ([t for m in sparql_suite.MANIFESTS.values() for t in sparql_suite.query_tests(m)]
               if AVAILABLE else [])
UPDATE_TESTS = update_suite.update_tests() if AVAILABLE else []
PROTOCOL_TESTS = ([t for name in protocol_suite.MANIFESTS
                   for t in protocol_suite.protocol_tests(name)
                   if t.id not in protocol_suite.NOT_APPLICABLE] if AVAILABLE else [])


@pytest.mark.parametrize("test", [
    _param(t, t.entry.suite.published(t.entry.iri), sparql_suite.known_failures())
    for t in QUERY_TESTS])
def test_query_evaluation_served(test: sparql_suite.QueryTest, endpoints: Endpoints) -> None:
    outcome = sparql_suite.evaluate(test, endpoints.query)
    assert outcome.passed, f"{test.id} ({test.entry.name}): {outcome.cause}\n{outcome.detail}"


def test_the_served_release_holds_every_data_file(endpoints: Endpoints) -> None:
    assert endpoints.query.unreadable == {}
    void = endpoints.query.request("GET", "/.well-known/void", headers={"Accept": "text/turtle"})
    graph = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/bind/data.ttl"
    assert void.status_code == 200 and f"<{graph}>" in void.text


@pytest.mark.parametrize("test", [
    _param(t, t.entry.suite.published(t.entry.iri), update_suite.known_failures())
    for t in UPDATE_TESTS])
def test_update_evaluation_served(test: update_suite.UpdateTest, endpoints: Endpoints) -> None:
    outcome = update_suite.evaluate(test, endpoints.update)
    assert outcome.passed, f"{test.id} ({test.entry.name}): {outcome.cause}\n{outcome.detail}"


@pytest.mark.parametrize("test", [
    _param(t, t.entry.suite.published(t.entry.iri), protocol_suite.known_failures())
    for t in PROTOCOL_TESTS])
def test_protocol_served(test: protocol_suite.ProtocolTest, endpoints: Endpoints) -> None:
    if test.entry.folder == "service-description":
        outcome = protocol_suite.check_description(test, endpoints.query)
    elif test.writes:
        outcome = protocol_suite.replay(test, endpoints.update, endpoints.update.authorization)
    else:
        outcome = protocol_suite.replay(test, endpoints.query, {})
    assert outcome.passed, f"{test.id} ({test.entry.name}): {outcome.detail}"


def test_the_manifests_are_read_whole() -> None:
    assert len(UPDATE_TESTS) == 94
    assert {name: len(protocol_suite.protocol_tests(name))
            for name in protocol_suite.MANIFESTS} == {
        "protocol": 34, "graph store protocol": 9, "service description": 3}
    [test] = [t for t in UPDATE_TESTS if t.id == "clear/manifest#dawg-clear-graph-01"]
    assert [name for name, _ in test.before.named] == ["http://example.org/g1",
                                                        "http://example.org/g2"]
    assert test.before.default is not None and test.before.default.name == "clear-default.ttl"
