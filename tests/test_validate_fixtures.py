"""Every broken file of tests/fixtures/invalid/ gives exactly the results its header expects.

Each fixture is checked as a contributor's file is (``kg validate FILE``): added to the
real ontology and data, against the real shapes. Its header declares the expected
results, one line each::

    # expect: Violation sh:DatatypeConstraintComponent kkid:x kko:date

severity, rule (the constraint component, or the named SPARQL constraint), focus node
and, when the result has one, path. The results of the real graph alone (the baseline:
no violations, and the paper's known inconsistencies as warnings) are set aside.

The Data Cube fixtures (``cube-*``) are checked against every shape; the others against
every shape but the Data Cube and arithmetic ones (``cube.ttl``, ``arithmetic.ttl``),
which check observations these fixtures do not have and take most of the time.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from rdflib import Graph

from kg.pipeline.load import load_shapes, load_sources
from kg.pipeline.validate import ValidationReport, ValidationResult, validate_loaded

FIXTURES = Path(__file__).parent / "fixtures" / "invalid"
KKID = "https://w3id.org/kazkor/id/"
Key = tuple[str, str, str, str | None]


def expected_results(path: Path) -> Counter[Key]:
    expected: Counter[Key] = Counter()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# expect:"):
            severity, rule, focus, *rest = line.removeprefix("# expect:").split()
            expected[(severity, rule, focus, rest[0] if rest else None)] += 1
    return expected


def key(result: ValidationResult, rules: set[str]) -> Key:
    """The result as a header names it: the rule is the component or the SPARQL constraint,
    the focus node is written with the kkid: prefix (the data may bind other prefixes)."""
    rule = result.constraint if result.constraint in rules else result.rule
    focus = result.focus_iri
    if focus.startswith(KKID):
        focus = "kkid:" + focus.removeprefix(KKID)
    return (result.severity, rule, focus, result.path)


def fixture_files() -> list[Path]:
    return sorted(FIXTURES.glob("*.ttl"))


CUBE_SHAPES = {"cube.ttl", "arithmetic.ttl"}


@pytest.fixture(scope="module")
def shapes(config) -> dict[bool, Graph]:
    """The shapes graph for the cube fixtures (True) and for the others (False)."""
    return {True: load_shapes(config), False: load_shapes(config, exclude=CUBE_SHAPES)}


@pytest.fixture(scope="module")
def baseline(config, shapes) -> dict[bool, ValidationReport]:
    loaded = load_sources(config)
    return {cube: validate_loaded(loaded, graph, config.root) for cube, graph in shapes.items()}


def test_there_are_at_least_30_fixtures_each_with_an_expectation():
    files = fixture_files()
    assert len(files) >= 30
    assert [f.name for f in files if not expected_results(f)] == []


@pytest.mark.parametrize("fixture", fixture_files(), ids=lambda p: p.stem)
def test_fixture_gives_exactly_the_expected_results(fixture: Path, config, shapes, baseline):
    expected = expected_results(fixture)
    rules = {rule for _, rule, _, _ in expected}
    cube = fixture.name.startswith("cube-")
    report = validate_loaded(load_sources(config, [fixture]), shapes[cube], config.root)
    known = Counter(key(r, rules) for r in baseline[cube].results)
    found = Counter(key(r, rules) for r in report.results) - known
    assert found == expected, report.to_text()
    for result in report.results:
        if key(result, rules) in expected:
            # a message written for a person, not pySHACL's generic text
            assert len(result.message) > 30 and "Value " not in result.message[:6], result
            assert result.file is not None and result.file.endswith(fixture.name)
            assert result.line is not None
