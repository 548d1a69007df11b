"""The format registry and content negotiation."""

import pytest

from kg import formats
from kg.sparql.negotiate import choose
from kg.sparql.protocol import ProtocolError
from kg.sparql.service import select_format
from kg.sparqltext import SparqlSyntaxError, inspect

RESULTS = formats.for_kind("results")


def test_registry_has_every_protocol_format():
    media = {f.media_type for f in formats.FORMATS}
    for m in ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
              "text/tab-separated-values", "text/turtle", "application/n-triples",
              "application/ld+json", "application/rdf+xml", "application/trig",
              "application/n-quads"):
        assert m in media


def test_unknown_format_name_is_a_clear_error():
    with pytest.raises(ValueError, match="known formats"):
        formats.by_name("yaml")


@pytest.mark.parametrize("accept,expected", [
    (None, "json"),
    ("*/*", "json"),
    ("application/sparql-results+xml", "xml"),
    ("text/csv;q=0.5, text/tab-separated-values", "tsv"),
    ("text/csv;q=0.9, application/sparql-results+json;q=0.1", "csv"),
    ("text/*", "csv"),
    ("application/json", "json"),
    ("application/sparql-results+json;q=0, */*;q=0.1", "xml"),
])
def test_choose_honours_q_values(accept, expected):
    assert choose(accept, RESULTS).name == expected


def test_nothing_acceptable_gives_none():
    assert choose("image/png", RESULTS) is None


@pytest.mark.parametrize("query,form", [
    ("SELECT * WHERE {?s ?p ?o}", "SELECT"),
    ("PREFIX ask: <http://ask/select#> # SELECT in a comment\nCONSTRUCT WHERE {?s ?p ?o}",
     "CONSTRUCT"),
    ("ask { ?s ?p 'SELECT' }", "ASK"),
    ("DESCRIBE <http://x>", "DESCRIBE"),
])
def test_query_form(query, form):
    assert inspect(query).form == form


def test_a_text_that_is_no_query_is_refused():
    with pytest.raises(SparqlSyntaxError):
        inspect("nonsense")


def test_every_format_says_which_query_forms_it_carries():
    for fmt in formats.FORMATS:
        assert fmt.forms in (formats.SOLUTION_FORMS, formats.GRAPH_FORMS)
        assert fmt.rdflib and fmt.oxigraph is not None
    assert [f.name for f in formats.for_form("ASK")] == [f.name for f in RESULTS]


def test_graph_results_negotiate_rdf_formats():
    assert select_format("CONSTRUCT", None, None).name == "turtle"
    assert select_format("DESCRIBE", "application/n-triples", None).name == "ntriples"


def test_format_parameter_wins_and_is_checked():
    assert select_format("SELECT", "application/sparql-results+xml", "csv").name == "csv"
    with pytest.raises(ProtocolError) as e:
        select_format("SELECT", None, "turtle")
    assert e.value.status == 400


def test_unacceptable_accept_is_406():
    with pytest.raises(ProtocolError) as e:
        select_format("SELECT", "image/png", None)
    assert e.value.status == 406
