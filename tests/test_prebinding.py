"""Pre-binding in SHACL-SPARQL queries (kg.pipeline.prebinding) and its use by the oxigraph
engine: the restrictions SHACL puts on such queries, where the values are joined, and the
cases the W3C suite does not reach (blank-node focus nodes, $currentShape, ?message)."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef
from tests.test_shacl_engines import both_engines

from kg.pipeline.prebinding import PreBindingError, prebind, read_query
from kg.pipeline.validate import ShapesError, validate_graph

PREFIXES = "PREFIX ex: <https://example.org/>\n"


@pytest.mark.parametrize(("query", "what"), [
    ("SELECT $this WHERE { $this ?p ?o MINUS { $this ?p 1 } }", "MINUS"),
    ("SELECT $this WHERE { SERVICE <https://example.org/sparql> { ?s ?p ?o } }", "SERVICE"),
    ("SELECT $this WHERE { VALUES ?x { 1 } }", "VALUES"),
    ("SELECT $this WHERE { BIND (1 AS $this) }", r"assigns the pre-bound variable \$this"),
    ("SELECT (1 AS ?currentShape) WHERE { }", r"variable \$currentShape with AS"),
    ("SELECT $this WHERE { { SELECT ?o WHERE { ?s ?p ?o } } }", r"sub-select must return"),
    ("SELECT $this WHERE { { SELECT * WHERE { FILTER ($this = ex:a) } } }", "SELECT \\*"),
])
def test_queries_outside_the_restrictions_are_refused(query: str, what: str) -> None:
    with pytest.raises(PreBindingError, match=what):
        read_query(PREFIXES + query)


@pytest.mark.parametrize("query", [
    # keywords inside strings, IRIs, comments and prefixed names are not keywords
    'SELECT $this WHERE { $this ex:VALUES "MINUS { }" . # SERVICE VALUES\n }',
    "SELECT $this WHERE { $this <https://example.org/MINUS> ?o }",
    # a sub-select that returns $this, by name or because SELECT * binds it
    "SELECT $this WHERE { { SELECT $this (COUNT(*) AS ?n) WHERE { $this ?p ?o } GROUP BY $this } }",
    "SELECT $this WHERE { { SELECT * WHERE { $this ?p ?o } } }",
    # $currentShape and $shapesGraph need not be returned by a sub-select
    "SELECT $this WHERE { { SELECT $this WHERE { $this ?p $currentShape } } }",
])
def test_queries_within_the_restrictions_are_accepted(query: str) -> None:
    assert read_query(PREFIXES + query).group_starts


def test_the_values_are_joined_to_every_group_but_a_sub_select_wrapper() -> None:
    query = ("SELECT $this WHERE { { FILTER (bound($this)) } UNION { SELECT $this WHERE "
             "{ OPTIONAL { $this ?p ?o } FILTER NOT EXISTS { ?o ?q '}' } } } }")
    read = read_query(query)
    bound = prebind(read.text, read.group_starts, "V")
    assert bound.count(" V ") == 5
    assert "{ SELECT" in bound and "{ V  SELECT" not in bound
    assert "'}'" in bound  # a brace inside a string is left alone
    assert read.variables == {"this", "p", "o", "q"}


def test_escapes_and_prefixes_known_only_when_the_query_runs() -> None:
    """Codepoint escapes are applied before the groups are found (SPARQL §19.2): an escaped
    U makes MINUS. A prefix neither declared nor known here (the data graph declares it when
    the query runs) does not stop the reading."""
    with pytest.raises(PreBindingError, match=r"MINUS \(line 1, column 34\)"):
        read_query("SELECT $this WHERE { $this ?p ?o MIN\\u0055S { $this ?p 1 } }")
    read = read_query("SELECT $this WHERE { $this data:p ?o }")
    assert prebind(read.text, read.group_starts, "V") == (
        "SELECT $this WHERE { V  $this data:p ?o }")
    with pytest.raises(PreBindingError, match="not SPARQL 1.1: line 1, column 28"):
        read_query("SELECT $this WHERE { ?o ?p }")


SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <https://example.org/> .
ex: sh:declare [ sh:prefix "ex" ; sh:namespace "https://example.org/" ] .
ex:AddressShape a sh:NodeShape ;
    sh:targetObjectsOf ex:address ;
    ex:requiredKey ex:city ;
    sh:sparql [
        sh:prefixes ex: ;
        sh:message "an address without {?key}" ;
        sh:select '''SELECT $this ?key WHERE {
            BIND ($this AS ?address)
            FILTER (isBlank(?address))
            $currentShape ex:requiredKey ?key .
            FILTER NOT EXISTS { $this ?key ?any }
        }''' ;
    ] .
"""
DATA = """
@prefix ex: <https://example.org/> .
ex:ann ex:address [ ex:city "Almaty" ] .
ex:bob ex:address [ ex:street "Abai 1" ] .
"""


def test_blank_focus_nodes_and_the_current_shape_on_both_engines() -> None:
    """A blank node cannot be written in a query: the oxigraph engine joins it from a graph
    of the store, and it stays a blank node (isBlank); pySHACL binds it in rdflib. The
    shape's own triples are in the data graph too, where pySHACL reads $currentShape."""
    shapes = Graph().parse(data=SHAPES)
    data = Graph().parse(data=DATA) + shapes
    found = both_engines(data, shapes, None)
    assert found["oxigraph"] == found["pyshacl"]
    [street_holder] = data.subjects(URIRef("https://example.org/street"), None)
    assert [(key[0], key[1], key[7]) for key in found["oxigraph"]] == [
        ("Violation", str(street_holder), "an address without ex:city")]


def test_a_message_bound_by_the_query_is_the_result_message() -> None:
    shapes = Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix ex: <https://example.org/> .
        ex:S a sh:NodeShape ; sh:targetNode ex:a ;
            sh:sparql [ sh:message "not used" ;
                sh:select "SELECT $this (CONCAT('bad: ', STR($this)) AS ?message) WHERE { }" ] .
    """)
    report = validate_graph(Graph(), shapes, None, engine="oxigraph")
    [result] = report.results
    assert result.message == "bad: ex:a"  # the text report writes IRIs as prefixed names


def test_a_failure_bound_true_stops_the_validation_and_false_does_not() -> None:
    shapes_text = """
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix ex: <https://example.org/> .
        ex:S a sh:NodeShape ; sh:targetNode ex:a ;
            sh:sparql [ sh:select "SELECT $this (FLAG AS ?failure) WHERE { }" ] .
    """
    with pytest.raises(ShapesError, match="reported a failure"):
        validate_graph(Graph(), Graph().parse(data=shapes_text.replace("FLAG", "true")),
                       None, engine="oxigraph")
    report = validate_graph(Graph(), Graph().parse(data=shapes_text.replace("FLAG", "false")),
                            None, engine="oxigraph")
    assert len(report.results) == 1


def test_warnings_alone_make_the_report_not_conform() -> None:
    """SHACL §3.6.1: sh:conforms is false when there is any result, whatever its severity;
    the build stops on violations only (the summary's "conforms")."""
    shapes = Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix ex: <https://example.org/> .
        ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:severity sh:Warning ; sh:class ex:C .
        ex:T a sh:NodeShape ; sh:targetNode ex:a ; sh:severity sh:Warning ;
            sh:sparql [ sh:select "SELECT $this WHERE { }" ] .
    """)
    for engine in ("oxigraph", "pyshacl"):
        report = validate_graph(Graph(), shapes, None, engine=engine)
        assert len(report.warnings) == 2 and not report.violations
        assert report.conforms is False and report.summary()["conforms"] is True
