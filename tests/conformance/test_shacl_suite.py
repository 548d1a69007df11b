"""The W3C SHACL test suite (core/ and sparql/) through kg.pipeline.validate, with each engine.

One test per (suite test, engine); the tests listed in known_failures.toml are expected to
fail (strictly: one that passes fails the run). The comparison is the suite's own rule
(:mod:`tests.conformance.shacl_suite`).
"""

from __future__ import annotations

import pytest
from tests.conformance.shacl_suite import (
    ShaclTest,
    known_failures,
    quiet_rdflib,
    run,
    shacl_suite,
    shacl_tests,
)

from kg.pipeline.validate import SHACL_ENGINES

pytestmark = [
    pytest.mark.conformance,
    # the suite's ill-typed literals are on purpose
    pytest.mark.filterwarnings("ignore:Parsing weird boolean"),
    pytest.mark.skipif(not shacl_suite().available(),
                       reason=f"the W3C SHACL suite is not at {shacl_suite().root} "
                              "(../shared/conformance beside the checkout, or "
                              "KG_CONFORMANCE_DIR)"),
]

TESTS = shacl_tests() if shacl_suite().available() else []
KNOWN = known_failures()


def _cases() -> list[object]:
    cases = []
    for test in TESTS:
        for engine in SHACL_ENGINES:
            known = KNOWN.get((test.iri, engine))
            marks = [pytest.mark.xfail(reason=known.summary, strict=True)] if known else []
            cases.append(pytest.param(test, engine, marks=marks, id=f"{test.id}[{engine}]"))
    return cases


@pytest.mark.parametrize(("test", "engine"), _cases())
def test_shacl_suite(test: ShaclTest, engine: str) -> None:
    quiet_rdflib()
    outcome = run(test, engine)
    assert outcome.passed, f"{test.iri} ({test.entry.name}) with {engine}:\n{outcome.detail}"


def test_the_suite_is_all_there() -> None:
    """Every test of core/ and sparql/ is found: 98 core and 22 SHACL-SPARQL tests."""
    folders = {test.folder.split("/")[0] for test in TESTS}
    assert folders == {"core", "sparql"}
    assert sum(t.folder.startswith("core/") for t in TESTS) == 98
    assert sum(t.folder.startswith("sparql/") for t in TESTS) == 22


def test_known_failures_name_tests_of_the_suite() -> None:
    iris = {test.iri for test in TESTS}
    for (iri, _engine), known in KNOWN.items():
        assert iri in iris, f"known_failures.toml names {iri}, which is not in the suite"
        assert known.reason and (known.issue or "deliberate" in known.reason)
