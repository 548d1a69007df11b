"""The comparison of SPARQL results (tests.conformance.results) on small hand-made results
that must match and must not match."""

from __future__ import annotations

import pytest
from rdflib import BNode, Literal, URIRef
from tests.conformance.results import (
    Boolean,
    ResultsError,
    Solutions,
    compare,
    order_variables,
    parse,
)

pytestmark = pytest.mark.conformance

EX = "http://example.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
INTEGER, DECIMAL, STRING = URIRef(XSD + "integer"), URIRef(XSD + "decimal"), URIRef(XSD + "string")
NEGATIVE_INTEGER = URIRef(XSD + "negativeInteger")


def srx(variables: list[str], *rows: str) -> str:
    head = "".join(f'<variable name="{v}"/>' for v in variables)
    body = "".join(f"<result>{row}</result>" for row in rows)
    return (f'<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f"<head>{head}</head><results>{body}</results></sparql>")


def binding(name: str, term: str) -> str:
    return f'<binding name="{name}">{term}</binding>'


def uri(local: str) -> str:
    return f"<uri>{EX}{local}</uri>"


def solutions(*rows: dict[str, object], variables: tuple[str, ...] = ("x", "y")) -> Solutions:
    return Solutions(variables, tuple(rows))  # type: ignore[arg-type]


def test_the_same_solutions_in_any_order_match_as_a_bag() -> None:
    a = parse(srx(["x"], binding("x", uri("a")), binding("x", uri("b"))),
              "application/sparql-results+xml")
    b = parse(srx(["x"], binding("x", uri("b")), binding("x", uri("a"))),
              "application/sparql-results+xml")
    assert compare(a, b) is None


def test_a_bag_counts_duplicates() -> None:
    one = solutions({"x": URIRef(EX + "a")}, {"x": URIRef(EX + "a")}, variables=("x",))
    two = solutions({"x": URIRef(EX + "a")}, {"x": URIRef(EX + "b")}, variables=("x",))
    difference = compare(one, two)
    assert difference is not None and "missing" in difference and "unexpected" in difference


def test_literals_compare_by_term_not_by_value() -> None:
    xml = srx(["n"], binding("n", f'<literal datatype="{INTEGER}">01</literal>'))
    json = ('{"head": {"vars": ["n"]}, "results": {"bindings": [{"n": {"type": "literal", '
            f'"datatype": "{INTEGER}", "value": "1"}}}}]}}}}')
    assert compare(parse(xml, "application/sparql-results+xml"),
                   parse(json, "application/sparql-results+json")) is not None
    same = json.replace('"value": "1"', '"value": "01"')
    assert compare(parse(xml, "application/sparql-results+xml"),
                   parse(same, "application/sparql-results+json")) is None


def test_a_simple_literal_is_an_xsd_string_and_language_tags_count() -> None:
    typed = srx(["s"], binding("s", f'<literal datatype="{STRING}">chat</literal>'))
    plain = srx(["s"], binding("s", "<literal>chat</literal>"))
    french = srx(["s"], binding("s", '<literal xml:lang="fr">chat</literal>'))
    kind = "application/sparql-results+xml"
    assert compare(parse(typed, kind), parse(plain, kind)) is None
    assert compare(parse(plain, kind), parse(french, kind)) is not None


def test_blank_nodes_match_by_one_consistent_mapping() -> None:
    expected = solutions({"x": BNode("a"), "y": BNode("a")}, {"x": BNode("b"), "y": BNode("c")})
    renamed = solutions({"x": BNode("q"), "y": BNode("r")}, {"x": BNode("p"), "y": BNode("p")})
    assert compare(expected, renamed) is None
    # the same label twice is the same node: _:a _:a cannot be _:p _:q
    split = solutions({"x": BNode("p"), "y": BNode("q")}, {"x": BNode("r"), "y": BNode("s")})
    assert compare(expected, split) is not None


def test_the_blank_node_mapping_holds_across_solutions() -> None:
    expected = solutions({"x": BNode("a"), "y": URIRef(EX + "1")},
                         {"x": BNode("a"), "y": URIRef(EX + "2")})
    two_nodes = solutions({"x": BNode("p"), "y": URIRef(EX + "1")},
                          {"x": BNode("q"), "y": URIRef(EX + "2")})
    one_node = solutions({"x": BNode("p"), "y": URIRef(EX + "2")},
                         {"x": BNode("p"), "y": URIRef(EX + "1")})
    assert compare(expected, two_nodes) is not None
    assert compare(expected, one_node) is None


def test_order_matters_only_for_the_ordered_variables() -> None:
    expected = solutions({"x": Literal(1), "y": URIRef(EX + "a")},
                         {"x": Literal(1), "y": URIRef(EX + "b")},
                         {"x": Literal(2), "y": URIRef(EX + "c")})
    ties_swapped = solutions(expected.rows[1], expected.rows[0], expected.rows[2])
    reversed_keys = solutions(expected.rows[2], expected.rows[0], expected.rows[1])
    assert compare(expected, ties_swapped, ["x"]) is None
    assert compare(expected, reversed_keys, ["x"]) is not None
    assert compare(expected, reversed_keys) is None  # unordered: a bag


def test_the_top_level_order_by_is_found_and_a_sub_select_one_is_not() -> None:
    assert order_variables("SELECT * { ?s ?p ?o } ORDER BY DESC(?o) ?s LIMIT 3") == ["o", "s"]
    assert order_variables("SELECT * { { SELECT ?s { ?s ?p ?o } ORDER BY ?s LIMIT 1 } }") is None
    assert order_variables('SELECT * { ?s ?p "ORDER BY ?x" }') is None


def test_csv_compares_lexical_forms() -> None:
    csv = "x,y\r\nhttp://example.org/a,1\r\n_:b0,chat\r\n"
    full = solutions({"x": URIRef(EX + "a"), "y": Literal("1", datatype=INTEGER)},
                     {"x": BNode("z"), "y": Literal("chat", lang="en")})
    assert compare(parse(csv, "text/csv"), full) is None
    other = solutions({"x": URIRef(EX + "a"), "y": Literal("2", datatype=INTEGER)},
                      {"x": BNode("z"), "y": Literal("chat", lang="en")})
    assert compare(parse(csv, "text/csv"), other) is not None


def test_tsv_terms_in_turtle_syntax() -> None:
    tsv = ('?x\t?y\n<http://example.org/a>\t"a\\tb"@en\n_:b1\t2.50\n'
           '<http://example.org/c>\t"-3"^^<http://www.w3.org/2001/XMLSchema#negativeInteger>\n'
           "<http://example.org/d>\t\n")
    found = parse(tsv, "text/tab-separated-values")
    expected = solutions(
        {"x": URIRef(EX + "a"), "y": Literal("a\tb", lang="en")},
        {"x": BNode("q"), "y": Literal("2.50", datatype=DECIMAL, normalize=False)},
        {"x": URIRef(EX + "c"), "y": Literal("-3", datatype=NEGATIVE_INTEGER)},
        {"x": URIRef(EX + "d")})
    assert compare(expected, found) is None


def test_booleans_and_kinds_of_results() -> None:
    yes = parse('{"head": {}, "boolean": true}', "application/sparql-results+json")
    assert yes == Boolean(True)
    assert compare(yes, parse(srx([]).replace("<results></results>", "<boolean>true</boolean>"),
                              "application/sparql-results+xml")) is None
    assert compare(yes, Boolean(False)) == "false where true is expected"
    assert compare(yes, solutions()) is not None


def test_an_rdf_result_set_in_turtle() -> None:
    turtle = """
        @prefix rs: <http://www.w3.org/2001/sw/DataAccess/tests/result-set#> .
        [] a rs:ResultSet ; rs:resultVariable "x" ;
           rs:solution [ rs:binding [ rs:variable "x" ; rs:value <graph.ttl> ] ] ."""
    found = parse(turtle, "text/turtle", base=EX + "folder/result.ttl")
    assert compare(found, solutions({"x": URIRef(EX + "folder/graph.ttl")},
                                    variables=("x",))) is None


def test_graphs_compare_by_isomorphism() -> None:
    one = parse("_:a <http://example.org/p> _:b .\n_:b <http://example.org/p> _:a .\n",
                "application/n-triples", graph_expected=True)
    same = parse("[ <http://example.org/p> [ <http://example.org/p> <http://example.org/o> ] ] .",
                 "text/turtle",
                 graph_expected=True)
    cycle = parse("_:x <http://example.org/p> _:y .\n_:y <http://example.org/p> _:x .\n",
                  "application/n-triples", graph_expected=True)
    assert compare(one, cycle) is None
    assert compare(one, same) is not None


def test_an_unreadable_document_is_an_error() -> None:
    with pytest.raises(ResultsError, match="cannot be read"):
        parse("{not json", "application/sparql-results+json")
