"""The two SHACL engines (``KG_SHACL``) give the same results.

``pyshacl`` runs every shape in pySHACL (the reference); ``oxigraph`` leaves the core
components to pySHACL and evaluates the SHACL-SPARQL constraints on Oxigraph. Each result
is compared by severity, focus node, path, value, shape, SPARQL constraint, component and
message, on the real graph (asserted, and with its OWL 2 RL closure) and on every broken
fixture that a SPARQL constraint must catch. The one difference allowed is how a number a
query computes is written: Oxigraph writes XSD 1.1's canonical form (``200`` where rdflib
writes ``200.0``).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from rdflib import Graph

from kg.config import Config
from kg.pipeline.load import LoadedSources, load_shapes, load_sources
from kg.pipeline.reason_cache import cached_closure
from kg.pipeline.validate import SHACL_ENGINES, ShapesError, ValidationReport, validate_graph

FIXTURES = Path(__file__).parent / "fixtures" / "invalid"
CUBE_SHAPES = {"cube.ttl", "arithmetic.ttl"}
#: a decimal numeral with trailing zeros after the point ("200.0", "15.50")
_TRAILING_ZEROS = re.compile(r"\b(\d+)\.(\d*?)0+\b")

Key = tuple[str | None, ...]


def _canonical_numbers(text: str | None) -> str | None:
    if text is None:
        return None
    return _TRAILING_ZEROS.sub(lambda m: m.group(1) + ("." + m.group(2) if m.group(2) else ""),
                               text)


def results(report: ValidationReport) -> Counter[Key]:
    return Counter(
        (r.severity, r.focus_iri, r.path, r.value, r.shape, r.constraint, r.rule,
         _canonical_numbers(r.message))
        for r in report.results)


def sparql_fixtures() -> list[Path]:
    """The broken files whose header expects a result of a named SPARQL constraint."""
    return [path for path in sorted(FIXTURES.glob("*.ttl"))
            if re.search(r"^# expect: \w+ kksh:\S+Constraint ", path.read_text("utf-8"), re.M)]


def both_engines(data: Graph, shapes: Graph, ontology: Graph | None) -> dict[str, Counter[Key]]:
    return {engine: results(validate_graph(data, shapes, ontology, engine=engine))
            for engine in SHACL_ENGINES}


@pytest.fixture(scope="module")
def loaded(config: Config) -> LoadedSources:
    return load_sources(config)


@pytest.fixture(scope="module")
def shapes(config: Config) -> dict[bool, Graph]:
    """Every shape (True), and every shape but the Data Cube and arithmetic ones (False)."""
    return {True: load_shapes(config), False: load_shapes(config, exclude=CUBE_SHAPES)}


def test_canonical_numbers():
    assert _canonical_numbers("add up to 200.0, not 100; 15.50 and 15.05, 3.0%") == \
        "add up to 200, not 100; 15.5 and 15.05, 3%"


def test_same_results_on_the_asserted_graph(loaded: LoadedSources, shapes: dict[bool, Graph]):
    found = both_engines(loaded.union(), shapes[True], loaded.graphs["ontology"])
    assert found["oxigraph"] == found["pyshacl"]
    # the paper's own inconsistencies: warnings of SPARQL constraints, found by both
    assert sum(1 for key in found["oxigraph"] if key[5] is not None) >= 6


def test_same_results_on_the_closure(loaded: LoadedSources, shapes: dict[bool, Graph],
                                     config: Config):
    asserted = loaded.union()
    inferred = cached_closure(loaded, asserted, config).inferred
    assert len(inferred) > 0
    found = both_engines(asserted + inferred, shapes[True], None)
    assert found["oxigraph"] == found["pyshacl"]


@pytest.mark.parametrize("fixture", sparql_fixtures(), ids=lambda p: p.stem)
def test_same_results_on_a_broken_fixture(fixture: Path, loaded: LoadedSources,
                                          shapes: dict[bool, Graph]):
    ontology = loaded.graphs["ontology"]
    data = Graph()
    data.parse(fixture)
    data += ontology
    found = both_engines(data, shapes[fixture.name.startswith("cube-")], ontology)
    assert found["oxigraph"] == found["pyshacl"]
    assert any(key[5] is not None for key in found["oxigraph"]), "no SPARQL result to compare"


def test_the_engine_is_a_setting():
    assert Config.from_env({}).shacl == "oxigraph"
    assert Config.from_env({"KG_SHACL": "pyshacl"}).shacl == "pyshacl"
    with pytest.raises(ValueError, match="KG_SHACL must be oxigraph or pyshacl"):
        Config.from_env({"KG_SHACL": "jena"})


SMALL_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <https://example.org/> .
ex: sh:declare [ sh:prefix "ex" ; sh:namespace "https://example.org/" ] .
ex:PersonShape a sh:NodeShape ;
    sh:targetClass ex:Person ;
    sh:sparql [
        sh:prefixes ex: ;
        sh:message "{$this} is older than {?limit}: {?value}" ;
        sh:select '''SELECT $this ?value (120 AS ?limit) WHERE {
            $this ex:age ?value . FILTER (?value > 120) }''' ;
    ] .
ex:NameShape a sh:PropertyShape ;
    sh:targetSubjectsOf ex:name ;
    sh:path ex:name ;
    sh:severity sh:Warning ;
    sh:sparql [
        sh:prefixes ex: ;
        sh:message "{?value} is not a name" ;
        sh:select '''SELECT $this ?value WHERE {
            $this $PATH ?value . FILTER (STRLEN(?value) < 2) }''' ;
    ] .
"""
SMALL_DATA = """
@prefix ex: <https://example.org/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:Student rdfs:subClassOf ex:Person .
ex:ann a ex:Student ; ex:age 130 ; ex:name "A" .
ex:bob a ex:Person ; ex:age 40 ; ex:name "Bob" .
"""


def test_node_and_property_shapes_on_both_engines():
    """Subclass targets, subject targets, $PATH, severities, computed message variables."""
    shapes, data = Graph().parse(data=SMALL_SHAPES), Graph().parse(data=SMALL_DATA)
    found = both_engines(data, shapes, None)
    assert found["oxigraph"] == found["pyshacl"]
    assert sorted((k[0], k[1], k[2], k[3], k[7]) for k in found["oxigraph"]) == [
        ("Violation", "https://example.org/ann", None, '"130"^^xsd:integer',
         "ex:ann is older than 120: 130"),
        ("Warning", "https://example.org/ann", "ex:name", '"A"', "A is not a name"),
    ]


def test_a_query_that_does_not_parse_is_a_fault_of_the_shapes():
    shapes = Graph().parse(data=SMALL_SHAPES.replace("FILTER (?value > 120)", "FILTER ("))
    with pytest.raises(ShapesError, match="the shapes cannot be applied"):
        validate_graph(Graph().parse(data=SMALL_DATA), shapes, None, engine="oxigraph")
