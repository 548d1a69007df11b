"""The seven tables as Data Cube datasets: their cells, the Data Cube integrity constraints
(IC-1 to IC-21) on broken fixtures, and the warnings the paper's own arithmetic gives."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from rdflib import RDF, SH, Graph, Literal, Namespace, URIRef

from kg.config import Config
from kg.pipeline.load import load_sources
from kg.pipeline.validate import ValidationReport, validate_graph

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "invalid").glob("cube-*.ttl"))
KKO = Namespace("https://w3id.org/kazkor/ontology#")
KKSH = Namespace("https://w3id.org/kazkor/shapes#")
QB = Namespace("http://purl.org/linked-data/cube#")
KKID = "https://w3id.org/kazkor/id/"


def dataset(n: int | str) -> URIRef:
    return URIRef(f"{KKID}dataset/table-{n}")


def cell(table: int, key: str) -> URIRef:
    return URIRef(f"{KKID}dataset/table-{table}/obs/{key}")


@pytest.fixture(scope="module")
def sources() -> Graph:
    return load_sources(Config(root=ROOT)).union()


@pytest.fixture(scope="module")
def cube_shapes() -> Graph:
    shapes = Graph()
    for name in ("cube.ttl", "arithmetic.ttl"):
        shapes.parse(ROOT / "shapes" / name)
    return shapes


@pytest.fixture(scope="module")
def ontology() -> Graph:
    graph = Graph()
    for path in sorted((ROOT / "ontology").glob("*.ttl")):
        graph.parse(path)
    return graph


# ---------------------------------------------------------------- the cells


@pytest.mark.parametrize("table, cells", [(1, 8), (2, 12), (3, 18), (4, 28), (5, 20), (6, 64),
                                          (7, 84)])
def test_one_observation_per_cell(sources: Graph, table: int, cells: int):
    observations = set(sources.subjects(QB.dataSet, dataset(table)))
    assert len(observations) == cells
    assert all((o, RDF.type, QB.Observation) in sources for o in observations)
    assert (dataset(table), URIRef("http://purl.org/dc/terms/source"),
            URIRef(f"{KKID}paper/table/{table}")) in sources


def test_empty_cells_are_kept_and_marked(sources: Graph):
    empty = set(sources.subjects(KKO.cellStatus, KKO["status-no-data"]))
    # the dashes of Table 6, counted on the printed page
    assert len(empty) == 18
    assert all((o, QB.dataSet, dataset(6)) in sources for o in empty)
    assert all(sources.value(o, KKO.percentage) is None for o in empty)
    assert cell(6, "uzbekistan-turkey") in empty
    assert cell(6, "tajikistan-other-countries") not in empty


def test_values_as_printed(sources: Graph):
    assert sources.value(cell(1, "2018"), KKO.personCount) == Literal(108177)
    # Table 3 prints a decimal comma: "2,5" is 2.5
    assert sources.value(cell(3, "k-pop-share"), KKO.percentage).toPython() == pytest.approx(2.5)
    assert sources.value(cell(7, "total-korean-language"), KKO.personCount) == Literal(39450)
    assert (cell(7, "total-total"), KKO.isTotal, Literal(True)) in sources
    assert (dataset(3), KKO.multipleAnswers, Literal(True)) in sources


def test_text_and_table_values_are_both_kept(sources: Graph):
    stated = URIRef(f"{KKID}stated/koreans-in-kazakhstan-2018")
    assert sources.value(stated, KKO.value).toPython() == 108117
    assert sources.value(stated, KKO.refersTo) == cell(1, "2018")
    discrepancy = URIRef(f"{KKID}discrepancy/koreans-in-kazakhstan-2018")
    assert {stated, cell(1, "2018")} <= set(sources.objects(discrepancy, KKO.involves))


# ---------------------------------------------------------------- the constraints


def expected_results(path: Path) -> Counter[tuple[str, str, str]]:
    """The header's ``# expect: Severity constraint focus`` lines (one per result)."""
    lines = re.findall(r"^# expect: (\S+) (\S+) (\S+)$", path.read_text(encoding="utf-8"), re.M)
    return Counter(lines)


def found_results(report: ValidationReport) -> Counter[tuple[str, str, str]]:
    graph = report.graph
    found: Counter[tuple[str, str, str]] = Counter()
    for result in graph.subjects(RDF.type, SH.ValidationResult):
        severity = str(graph.value(result, SH.resultSeverity)).split("#")[1]
        constraint = "kksh:" + str(graph.value(result, SH.sourceConstraint)).split("#")[1]
        focus = str(graph.value(result, SH.focusNode))
        focus = "kkid:" + focus.removeprefix(KKID) if focus.startswith(KKID) else focus
        found[(severity, constraint, focus)] += 1
    return found


def test_every_constraint_has_a_fixture(cube_shapes: Graph):
    constraints = {"kksh:" + str(c).split("#")[1]
                   for c in cube_shapes.subjects(RDF.type, SH.SPARQLConstraint)}
    assert len(constraints) == 26
    assert {f"IC{n}-" for n in range(1, 22)} == {c[5:].split("-")[0] + "-" for c in constraints
                                                  if c.startswith("kksh:IC")}
    covered = {rule for path in FIXTURES for _, rule, _ in expected_results(path)}
    assert constraints <= covered


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_broken_cube_fixture(path: Path, cube_shapes: Graph, ontology: Graph):
    expected = expected_results(path)
    assert expected, f"{path.name} has no '# expect:' line"
    data = Graph()
    data.parse(path)
    data += ontology
    report = validate_graph(data, cube_shapes, ontology)
    assert found_results(report) == expected, report.to_text()
    assert all(r.message and "{" not in r.message for r in report.results)


def test_shapes_have_labels_comments_and_messages(cube_shapes: Graph):
    for shape in cube_shapes.subjects(RDF.type, SH.NodeShape):
        assert cube_shapes.value(shape, URIRef("http://www.w3.org/2000/01/rdf-schema#label"))
        assert cube_shapes.value(shape, URIRef("http://www.w3.org/2000/01/rdf-schema#comment"))
        for constraint in cube_shapes.objects(shape, SH.sparql):
            assert cube_shapes.value(constraint, SH.message), shape


# ---------------------------------------------------------------- the real graph

#: the paper's own inconsistencies: (shape, table or statement, cell, expected, found)
KNOWN_WARNINGS = {
    ("TotalEqualsSumOfParts", "dataset/table-7", "total-total", "126192", "123192"),
    ("TotalEqualsSumOfParts", "dataset/table-7", "total-total", "123366", "123192"),
    ("TotalEqualsSumOfParts", "dataset/table-7", "total-higher-education", "86892", "86729"),
    ("TotalEqualsSumOfParts", "dataset/table-7", "total-korean-language", "36461", "39450"),
    ("ShareMatchesNumber", "dataset/table-2", "undecided-share", "15.08", "15.0"),
    ("StatedValueMatchesTable", "stated/koreans-in-kazakhstan-2018", "2018", "108177",
     "108117"),
}


@pytest.fixture(scope="module")
def report(sources: Graph) -> ValidationReport:
    shapes = Graph()
    for path in sorted((ROOT / "shapes").glob("*.ttl")):
        shapes.parse(path)
    return validate_graph(sources, shapes, load_sources(Config(root=ROOT)).graphs["ontology"])


def test_the_published_graph_has_no_violations(report: ValidationReport):
    assert report.violations == [], report.to_text()


def full_iri(value: str | None) -> str:
    """The IRI of a report's value, written <…> or as a kkid: prefixed name."""
    value = (value or "").strip("<>")
    if value.startswith("kkid:"):
        value = str(KKID) + value.removeprefix("kkid:").replace("\\/", "/")
    return value


def test_the_warnings_are_exactly_the_papers_inconsistencies(report: ValidationReport):
    found = set()
    for result in report.warnings:
        numbers = re.findall(r"\d+(?:\.\d+)?", result.message.replace(",", ""))
        assert result.value is not None
        keys = [k for k in KNOWN_WARNINGS
                if result.shape == f"kksh:{k[0]}" and k[1] in result.focus_node
                and full_iri(result.value).endswith(f"/{k[2]}") and k[3] in numbers
                and k[4] in numbers]
        assert len(keys) == 1, f"an unexpected warning: {result.message}"
        found.add(keys[0])
    assert found == KNOWN_WARNINGS
    assert len(report.warnings) == len(KNOWN_WARNINGS)


def test_each_warning_is_a_recorded_discrepancy(report: ValidationReport, sources: Graph):
    detected = Counter()
    for discrepancy in sources.subjects(RDF.type, KKO.Discrepancy):
        shape = sources.value(discrepancy, KKO.detectedBy)
        assert sources.value(discrepancy, URIRef("http://purl.org/dc/terms/description"))
        if shape is None:
            continue
        involved = {str(v) for v in sources.objects(discrepancy, KKO.involves)}
        expected = sources.value(discrepancy, KKO.expectedValue).toPython()
        matches = [r for r in report.warnings
                   if r.shape == f"kksh:{str(shape).split('#')[1]}"
                   and full_iri(r.value) in involved
                   and str(round(float(expected), 2)).rstrip("0").rstrip(".")
                   in r.message.replace(",", "")]
        assert len(matches) == 1, discrepancy
        detected[discrepancy] += 1
    assert sum(detected.values()) == len(report.warnings)
