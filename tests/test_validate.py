"""Validation as a contributor and a maintainer meet it: ``kg validate``, its report and the
shapes themselves, on the real sources and on broken copies of them."""

from __future__ import annotations

import json
from pathlib import Path

from rdflib import RDF, RDFS, SH, BNode, Graph, URIRef
from tests.conftest import ROOT, run_kg

from kg.config import Config
from kg.pipeline.load import load_shapes, load_sources, parse_turtle
from kg.pipeline.validate import validate_sources

FIXTURES = Path(__file__).parent / "fixtures" / "invalid"
KKID = "https://w3id.org/kazkor/id/"
#: shapes files owned by the Data Cube work; the rest are checked for their texts here
CUBE_SHAPES = {"cube.ttl", "arithmetic.ttl"}


def test_the_sources_conform_and_say_so():
    r = run_kg("validate")
    assert r.returncode == 0, r.stdout + r.stderr
    assert ": 0 violation(s)" in r.stderr
    assert "node shapes" in r.stderr and "constraints" in r.stderr


def test_a_contributors_file_is_reported_by_file_subject_and_line():
    fixture = FIXTURES / "date-future.ttl"
    r = run_kg("validate", str(fixture))
    assert r.returncode == 1, r.stdout + r.stderr
    all_lines = r.stdout.splitlines()
    # the contributed file's group (the graph's own published warnings are listed too)
    start = next(i for i, line in enumerate(all_lines) if line.endswith("date-future.ttl"))
    lines = all_lines[start:start + 4] + all_lines[-1:]
    subject_line = next(i for i, line in enumerate(fixture.read_text().splitlines(), 1)
                        if line.startswith("kkid:fixture-festival"))
    assert lines[1].split() == ["kkid:fixture-festival", '"Festival', "of", "Korean", "Art",
                                '2999"', "line", str(subject_line)]
    assert "path kko:startDate" in lines[2] and '"2999-05-01"^^xsd:date' in lines[2]
    assert "kksh:FutureDateConstraint" in lines[2]
    assert "in the future" in lines[3]
    assert lines[-1].startswith("1 violation(s), ")
    assert "as a new data file" in r.stderr


def test_json_and_turtle_reports():
    fixture = FIXTURES / "person-is-organization.ttl"
    r = run_kg("validate", "--format", "json", str(fixture))
    assert r.returncode == 1
    report = json.loads(r.stdout)
    assert report["conforms"] is False and report["violations"] == 1
    assert report["shapes"]["node_shapes"] >= 20
    [group] = report["files"]
    assert group["file"].endswith("person-is-organization.ttl")
    [subject] = group["subjects"]
    assert subject["focus_iri"] == KKID + "fixture-person"
    assert subject["label"] == "Sergei Ogai" and subject["line"] > 1
    [result] = subject["results"]
    assert result["rule"] == "sh:NotConstraintComponent"
    assert "not an organization" in result["message"]

    r = run_kg("validate", "--format", "turtle", str(fixture))
    assert r.returncode == 1
    graph = Graph().parse(data=r.stdout, format="turtle")
    [report_node] = graph.subjects(RDF.type, SH.ValidationReport)
    assert graph.value(report_node, SH.conforms).toPython() is False
    # the W3C report graph is the whole report: the file's violation and the published warnings
    [result_node] = [n for n in graph.objects(report_node, SH.result)
                     if graph.value(n, SH.resultSeverity) == SH.Violation]
    assert graph.value(result_node, SH.focusNode) == URIRef(KKID + "fixture-person")


def test_unusable_input_exits_2(tmp_path: Path):
    broken = tmp_path / "new-people.ttl"
    broken.write_text('@prefix kkid: <https://w3id.org/kazkor/id/> .\nkkid:x kkid:y "open .\n')
    r = run_kg("validate", str(broken))
    assert r.returncode == 2
    assert "new-people.ttl:2" in r.stderr
    r = run_kg("validate", str(tmp_path / "missing.ttl"))
    assert r.returncode == 2 and "does not exist" in r.stderr


def test_a_file_named_like_a_data_file_replaces_it(tmp_path: Path):
    people = ROOT / "data" / "ttl" / "people.ttl"
    changed = tmp_path / "people.ttl"
    changed.write_text(people.read_text(encoding="utf-8").replace(
        'rdfs:label "Nursultan Nazarbayev"@en, ', 'rdfs:label '), encoding="utf-8")
    r = run_kg("validate", "--format", "json", str(changed))
    assert r.returncode == 1, r.stdout + r.stderr
    report = json.loads(r.stdout)
    [group] = report["files"]
    assert group["file"] == str(changed)
    [subject] = group["subjects"]
    assert subject["focus_iri"] == KKID + "nursultan-nazarbayev"
    assert [r["rule"] for r in subject["results"]] == ["sh:QualifiedMinCountConstraintComponent"]
    assert "in place of" in r.stderr


def test_blank_nodes_and_full_iris_are_placed_at_their_subjects_line(project: Path):
    text = """@prefix kko: <https://w3id.org/kazkor/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix org: <http://www.w3.org/ns/org#> .

<https://w3id.org/kazkor/id/paper/section/annex> a kko:Section ;
    rdfs:label "Annex"@en .

<https://w3id.org/kazkor/id/fixture-theater>
    a org:Organization ;
    org:hasSite [ a org:Site ; kko:locatedIn <https://w3id.org/kazkor/id/almaty-typo> ] .
"""
    path = project / "data" / "ttl" / "extra.ttl"
    path.write_text(text, encoding="utf-8")
    loaded = load_sources(Config(root=project))
    locations = loaded.subject_files
    assert locations.locate(URIRef(KKID + "paper/section/annex")) == (path, 5)
    assert locations.locate(URIRef(KKID + "fixture-theater")) == (path, 8)
    site = next(o for o in loaded.graphs["data"].objects(URIRef(KKID + "fixture-theater"))
                if isinstance(o, BNode))
    assert locations.locate(site) == (path, 8)

    report = validate_sources(Config(root=project))
    dangling = [r for r in report.violations if r.constraint == "kksh:DanglingReferenceConstraint"]
    assert [(r.focus_node, r.file, r.line) for r in dangling] == [
        ("[] in kkid:fixture-theater", "data/ttl/extra.ttl", 8)]


def test_a_violation_in_a_copy_stops_validation_with_exit_1(project: Path):
    places = project / "data" / "ttl" / "places.ttl"
    places.write_text(places.read_text(encoding="utf-8").replace(
        '"Republic of Korea"@en', '"Republic of Korea"@en, "South Korea"@en'), encoding="utf-8")
    r = run_kg("--root", str(project), "validate")
    assert r.returncode == 1
    assert "data/ttl/places.ttl" in r.stdout.splitlines()
    assert "kkid:south-korea" in r.stdout and "skos:altLabel" in r.stdout


def test_the_published_graph_has_no_violations_and_only_the_papers_warnings(release):
    validation = release.report.validation
    assert validation["before_reasoning"]["violations"] == 0
    assert validation["after_reasoning"]["violations"] == 0
    details = json.loads((release.path / "validation.json").read_text(encoding="utf-8"))
    mine = _shape_names(exclude=CUBE_SHAPES)
    for group in details["files"]:
        for subject in group["subjects"]:
            for result in subject["results"]:
                # the shapes of this folder find nothing to warn about in the real data:
                # warnings are the paper's own inconsistencies (arithmetic.ttl)
                assert (result["shape"] or "").split(" ")[0] not in mine, result


def _shape_names(exclude: set[str] = frozenset()) -> set[str]:
    names = set()
    for path in sorted((ROOT / "shapes").glob("*.ttl")):
        if path.name in exclude:
            continue
        graph = parse_turtle(path)
        for shape in set(graph.subjects(RDF.type, SH.NodeShape)):
            names.add("kksh:" + str(shape).rsplit("#", 1)[-1])
    return names


def test_every_shape_speaks_to_a_person():
    for path in sorted((ROOT / "shapes").glob("*.ttl")):
        if path.name in CUBE_SHAPES:
            continue
        graph = parse_turtle(path)
        for shape in set(graph.subjects(RDF.type, SH.NodeShape)):
            where = f"{path.name}: {shape}"
            assert graph.value(shape, RDFS.label) is not None, where
            assert len(str(graph.value(shape, RDFS.comment) or "")) > 20, where
        property_shapes = set(graph.objects(None, SH.property))
        for shape in property_shapes:
            where = f"{path.name}: property shape of {graph.value(shape, SH.path)}"
            assert graph.value(shape, SH.name) is not None, where
            assert len(str(graph.value(shape, SH.message) or "")) > 20, where
        for constraint in set(graph.objects(None, SH.sparql)):
            where = f"{path.name}: {constraint}"
            assert graph.value(constraint, RDFS.label) is not None, where
            assert "{$this}" in str(graph.value(constraint, SH.message) or ""), where
        for shape in set(graph.subjects(RDF.type, SH.NodeShape)):
            node_level = [p for p in (SH.pattern, SH["not"], SH["or"], SH["class"])
                          if graph.value(shape, p) is not None]
            if node_level:
                assert graph.value(shape, SH.message) is not None, f"{path.name}: {shape}"


def test_every_class_and_property_the_data_uses_has_a_shape():
    """Reads the real ontology and data: a class without a node shape (for it or a superclass)
    or a property without a property shape is a gap in the checks."""
    loaded = load_sources(Config())
    shapes = load_shapes(Config())
    ontology = loaded.graphs["ontology"]
    data = loaded.union("data", "links")
    entities = {s for s in data.subjects() if isinstance(s, URIRef) and str(s).startswith(KKID)
                and not str(s).startswith(KKID + "dataset/")}

    targeted = set(shapes.objects(None, SH.targetClass))
    classes = {o for s in entities for o in data.objects(s, RDF.type)}
    uncovered = sorted(
        str(c) for c in classes
        if not targeted & ({c} | set(ontology.transitive_objects(c, RDFS.subClassOf))))
    assert uncovered == [], "classes without a node shape"

    paths = set(shapes.objects(None, SH.path))
    for alternatives in shapes.objects(None, SH.alternativePath):
        paths |= set(shapes.items(alternatives))
    predicates = {p for s in entities for p in data.predicates(s)}
    uncovered = sorted(str(p) for p in predicates - paths)
    assert uncovered == [], "properties without a property shape"


def test_validating_a_copy_with_broken_shapes_exits_2(project: Path):
    (project / "shapes" / "broken.ttl").write_text("this is not turtle\n")
    r = run_kg("--root", str(project), "validate")
    assert r.returncode == 2 and "broken.ttl:1" in r.stderr
