"""The SPARQL 1.1 parser (kg.sparqltext): the W3C syntax suites, agreement with rdflib's
parse (and pyoxigraph's where rdflib is wrong), the cases a regular expression got wrong,
error messages, the nesting bound, and random queries built from valid fragments."""

from __future__ import annotations

import pickle
from pathlib import Path

import pyoxigraph
import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib.collection import Collection
from rdflib.namespace import RDF
from rdflib.plugins.sparql import algebra
from rdflib.plugins.sparql import parser as rdflib_parser

from kg import sparqltext as sparql_parser
from kg.sparqltext import (
    Operation,
    Service,
    SparqlSyntaxError,
    inspect,
    inspect_cached,
)

#: the W3C test suites in the project's shared material, beside the checkout (or its worktrees)
W3C = next((p for up in Path(__file__).resolve().parents[2:4]
            if (p := up / "shared" / "conformance" / "w3c-sparql11").is_dir()),
           Path("shared/conformance/w3c-sparql11"))
SUITES = ("syntax-query", "syntax-update-1", "syntax-update-2", "syntax-fed")
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
OX_BASE = "http://example.org/base/"


def w3c_cases() -> list[pytest.param]:
    """Each test of the four syntax manifests as (file, positive, update), id folder/file."""
    cases = []
    for suite in SUITES:
        manifest = rdflib.Graph().parse(W3C / suite / "manifest.ttl", format="turtle")
        root = next(manifest.subjects(RDF.type, MF.Manifest))
        for test in Collection(manifest, manifest.value(root, MF.entries)):
            kind = str(manifest.value(test, RDF.type)).rsplit("#", 1)[1]
            action = str(manifest.value(test, MF.action))
            path = W3C / suite / action.rsplit("/", 1)[1]
            cases.append(pytest.param(path, kind.startswith("Positive"), "Update" in kind,
                                      id=f"{suite}/{path.name}"))
    return cases


CASES = w3c_cases() if W3C.is_dir() else []
POSITIVE = [case for case in CASES if case.values[1]]


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# --- the W3C syntax suites -------------------------------------------------------------------


def test_the_suites_are_all_there() -> None:
    assert W3C.is_dir(), f"the W3C SPARQL 1.1 test suites are not at {W3C}"
    counts = {suite: sum(case.id.startswith(suite + "/") for case in CASES) for suite in SUITES}
    assert len({case.id for case in CASES}) == len(CASES)
    assert counts == {"syntax-query": 94, "syntax-update-1": 54, "syntax-update-2": 1,
                      "syntax-fed": 3}


@pytest.mark.parametrize(("path", "positive", "update"), CASES)
def test_w3c_syntax(path: Path, positive: bool, update: bool) -> None:
    text = read(path)
    if positive:
        assert inspect(text).kind == ("update" if update else "query")
    else:
        with pytest.raises(SparqlSyntaxError):
            inspect(text)


# --- agreement with a reference parse ---------------------------------------------------------

_FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT",
          "DescribeQuery": "DESCRIBE"}
_OPERATIONS = {"Load": "LOAD", "Clear": "CLEAR", "Drop": "DROP", "Create": "CREATE",
               "Add": "ADD", "Move": "MOVE", "Copy": "COPY", "InsertData": "INSERT DATA",
               "DeleteData": "DELETE DATA", "DeleteWhere": "DELETE WHERE", "Modify": "MODIFY"}


def _services(node: object, found: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    if isinstance(node, dict):
        if getattr(node, "name", None) == "ServiceGraphPattern":
            term = node["term"]
            found.append((str(term), isinstance(term, rdflib.Variable)))
        for value in node.values():
            _services(value, found)
    elif isinstance(node, list | tuple):
        for value in node:
            _services(value, found)
    return found


def rdflib_view(text: str, update: bool) -> dict[str, object]:
    """What rdflib's parse and algebra say of a text, in the terms of an Inspection."""
    if update:
        translated = algebra.translateUpdate(rdflib_parser.parseUpdate(text))
        operations = getattr(translated, "algebra", translated)  # [] for an empty request
        loads = [tuple(str(op[k]) for k in ("iri", "graphiri") if k in op)
                 for op in operations if op.name == "Load"]
        return {"kind": "update", "operations": [_OPERATIONS[op.name] for op in operations],
                "loads": loads, "services": sorted(_services(list(operations), []))}
    query = algebra.translateQuery(rdflib_parser.parseQuery(text))
    clauses = query.algebra.get("datasetClause") or []
    return {"kind": "query", "form": _FORMS[query.algebra.name],
            "from": [str(c["default"]) for c in clauses if "default" in c],
            "from_named": [str(c["named"]) for c in clauses if "named" in c],
            "services": sorted(_services(query.algebra, []))}


def our_view(text: str) -> dict[str, object]:
    inspection = inspect(text)
    services = sorted((s.target, s.variable) for s in inspection.services)
    if inspection.kind == "update":
        return {"kind": "update", "operations": [op.kind for op in inspection.operations],
                "loads": [op.graphs for op in inspection.operations if op.kind == "LOAD"],
                "services": services}
    return {"kind": "query", "form": inspection.form, "from": list(inspection.from_graphs),
            "from_named": list(inspection.from_named), "services": services}


@pytest.mark.parametrize(("path", "positive", "update"), POSITIVE)
def test_inspection_agrees_with_rdflib(path: Path, positive: bool, update: bool) -> None:
    text = read(path)
    assert our_view(text) == rdflib_view(text, update)


def oxigraph_accepts(text: str, update: bool = False) -> bool:
    """Whether pyoxigraph parses the text (never called on a text with SERVICE or LOAD,
    which it would carry out by fetching a URL)."""
    assert "SERVICE" not in text.upper() and "LOAD " not in text.upper()
    store = pyoxigraph.Store()
    try:
        if update:
            store.update(text, base_iri=OX_BASE)
        else:
            store.query(text, base_iri=OX_BASE)
    except SyntaxError:
        return False
    except (RuntimeError, OSError):  # parsed, then failed to run (a custom function)
        return True
    return True


# rdflib's parser does not check the grammar notes of SPARQL 1.1 (§19.8) or the blank node
# rules (§19.6): it accepts all of these, which the W3C suites and pyoxigraph reject.
RDFLIB_ACCEPTS_INVALID = [
    pytest.param("SELECT * { ?s ?p ?o } GROUP BY ?s", False,
                 id="§11.4 SELECT * with GROUP BY"),
    pytest.param("SELECT ?o { ?s ?p ?o } GROUP BY ?s", False, id="§11.4 ungrouped projection"),
    pytest.param("SELECT ?x { ?x ?p ?o } HAVING (COUNT(?o) > 1)", False,
                 id="§11.4 HAVING aggregate makes the query grouped"),
    pytest.param("SELECT ?x ?x { ?x ?p ?o }", False, id="§18.2.4.4 projected twice"),
    pytest.param("SELECT * { BIND(1 AS ?x) BIND(2 AS ?x) }", False, id="§18.2.1 BIND twice"),
    pytest.param("SELECT * { { ?a ?b ?c } BIND(1 AS ?b) }", False,
                 id="§18.2.1 BIND after group"),
    pytest.param("SELECT ?x (1 AS ?y) { { SELECT ?y { ?y ?p ?o } } }", False,
                 id="§19.8 note 12 AS of a sub-select variable"),
    pytest.param("SELECT * { FILTER(COUNT(?x) > 1) }", False,
                 id="§19.8 note 14 aggregate in FILTER"),
    pytest.param("SELECT * { _:a ?p ?v OPTIONAL { ?x ?y ?z } _:a ?q 1 }", False,
                 id="§19.6 label in two BGPs"),
    pytest.param("SELECT * { ?s ?p ?o FILTER EXISTS { _:a ?q 1 } _:a ?r 2 }", False,
                 id="§19.6 label in EXISTS and outside"),
    pytest.param("SELECT * { ?s ?p ?o } VALUES (?s ?s) { (1 2) }", False,
                 id="§10.2 VALUES ?s twice"),
    pytest.param("SELECT * { VALUES (?a ?b) { (1) } }", False,
                 id="§19.8 note 11 VALUES row length"),
    pytest.param("DELETE DATA { ?s <http://x/p> <http://x/o> }", True,
                 id="§19.8 note 7 variable in DELETE DATA"),
    pytest.param("DELETE WHERE { ?a <http://x/p> [] }", True,
                 id="§19.8 note 8 blank node in DELETE WHERE"),
    pytest.param("DELETE DATA { <http://x/a> <http://x/b> ( 1 2 ) }", True,
                 id="§19.8 note 8 list in DELETE DATA"),
    pytest.param("INSERT DATA { _:b <http://x/p> 1 } ; INSERT DATA { _:b <http://x/p> 2 }", True,
                 id="§19.6 label in two INSERT DATA"),
]


@pytest.mark.parametrize(("text", "update"), RDFLIB_ACCEPTS_INVALID)
def test_rejected_where_rdflib_is_wrong(text: str, update: bool) -> None:
    with pytest.raises(SparqlSyntaxError):
        inspect(text)
    assert not oxigraph_accepts(text, update)
    # the reference this test does not use: rdflib takes the text
    if update:
        algebra.translateUpdate(rdflib_parser.parseUpdate(text))
    else:
        algebra.translateQuery(rdflib_parser.parseQuery(text))


# rdflib's pyparsing grammar rejects these valid texts: a keyword followed by a number with
# no space (§19.8 note 3: the longest token is taken, LIMIT then 10), DESCRIBE * WHERE (§16.4),
# a path followed by a variable with no space (?x is a VAR1 token, §19.8 [143]), a negative
# decimal in a triple pattern (§19.8 [153]; its parse action fails with "Not a number").
RDFLIB_REJECTS_VALID = [
    pytest.param("SELECT*{?s ?p ?o}LIMIT10", id="§19.8 keyword then number"),
    pytest.param("DESCRIBE * WHERE { ?s ?p ?o }", id="§16.4 DESCRIBE * WHERE"),
    pytest.param("SELECT * { ?s <http://x/p>?x }", id="§19.8 [143] path then variable"),
    pytest.param("SELECT * { ?s ?p 1e10, -1.5, +.5e-3 }", id="§19.8 [153] negative decimal"),
]


@pytest.mark.parametrize("text", RDFLIB_REJECTS_VALID)
def test_accepted_where_rdflib_is_wrong(text: str) -> None:
    inspect(text)
    assert oxigraph_accepts(text)
    with pytest.raises(Exception):  # noqa: B017 - pyparsing's own error type
        algebra.translateQuery(rdflib_parser.parseQuery(text))


# --- what the regular expressions got wrong ----------------------------------------------------

KKO = "PREFIX kko: <https://w3id.org/kazkor/ontology#>\n"


@pytest.mark.parametrize("text", [
    KKO + "SELECT ?s WHERE { ?s kko:text-differs-from-table ?o }",
    KKO + "SELECT ?s WHERE { ?s kko:from ?o . ?o kko:from-named ?n }",
    KKO + "SELECT ?s WHERE { ?s kko:a.from.b ?o }",
    KKO + "SELECT ?from WHERE { ?from kko:p ?o }",
    KKO + "ASK { ?s kko:p 'FROM <http://x/>' } # FROM <http://y/>",
])
def test_no_dataset_clause_where_there_is_none(text: str) -> None:
    inspection = inspect(text)
    assert not inspection.has_dataset_clause
    assert (inspection.from_graphs, inspection.from_named) == ((), ())
    assert rdflib_view(text, update=False)["from"] == []


def test_from_in_any_case_and_relative_to_base() -> None:
    assert inspect("SELECT * fRoM <http://x/g> { ?s ?p ?o }").from_graphs == ("http://x/g",)
    text = ("BASE <http://example.org/base/>\nPREFIX g: <graphs/>\n"
            "SELECT * FROM <../g1> FROM g:two FrOm NaMeD <g2#x> { }")
    inspection = inspect(text)
    assert inspection.base == "http://example.org/base/"
    assert inspection.prefixes == {"g": "http://example.org/base/graphs/"}
    assert inspection.from_graphs == ("http://example.org/g1", "http://example.org/base/graphs/two")
    assert inspection.from_named == ("http://example.org/base/g2#x",)
    assert inspection.has_dataset_clause
    reference = rdflib_view(text, update=False)
    assert (list(inspection.from_graphs), list(inspection.from_named)) == (
        reference["from"], reference["from_named"])


# RFC 3986 §5.4: references resolved against http://a/b/c/d;p?q
RFC3986 = {
    "g:h": "g:h", "g": "http://a/b/c/g", "./g": "http://a/b/c/g", "g/": "http://a/b/c/g/",
    "/g": "http://a/g", "//g": "http://g", "?y": "http://a/b/c/d;p?y",
    "g?y": "http://a/b/c/g?y", "#s": "http://a/b/c/d;p?q#s", "g#s": "http://a/b/c/g#s",
    "g?y#s": "http://a/b/c/g?y#s", ";x": "http://a/b/c/;x", "g;x?y#s": "http://a/b/c/g;x?y#s",
    "": "http://a/b/c/d;p?q", ".": "http://a/b/c/", "./": "http://a/b/c/", "..": "http://a/b/",
    "../g": "http://a/b/g", "../..": "http://a/", "../../g": "http://a/g",
    "../../../g": "http://a/g", "/./g": "http://a/g", "/../g": "http://a/g",
    "g.": "http://a/b/c/g.", "..g": "http://a/b/c/..g", "./../g": "http://a/b/g",
    "./g/.": "http://a/b/c/g/", "g/../h": "http://a/b/c/h", "g;x=1/../y": "http://a/b/c/y",
    "g?y/../x": "http://a/b/c/g?y/../x", "g#s/../x": "http://a/b/c/g#s/../x",
}


@pytest.mark.parametrize(("reference", "resolved"), RFC3986.items())
def test_relative_iris_are_resolved_as_rfc_3986_says(reference: str, resolved: str) -> None:
    text = f"BASE <http://a/b/c/d;p?q> SELECT * FROM <{reference}> {{}}"
    assert inspect(text).from_graphs == (resolved,)


@pytest.mark.parametrize(("text", "services"), [
    ("SELECT * { \\u0053ERVICE <http://x/> { ?s ?p ?o } }", [Service("http://x/", False, False)]),
    ("SELECT * { SERV\\u0049CE <http://x/> { ?s ?p ?o } }", [Service("http://x/", False, False)]),
    ("SELECT * { SERVICE\\u003chttp://x/> { } }", [Service("http://x/", False, False)]),
    ("SELECT * { SERVICE<http://x/>{ ?s ?p ?o } }", [Service("http://x/", False, False)]),
    ("SELECT * { service silent <http://x/> { } }", [Service("http://x/", False, True)]),
    ("SELECT * { SERVICE ?endpoint { ?s ?p ?o } }", [Service("endpoint", True, False)]),
    ("SELECT * { SERVICE $endpoint { ?s ?p ?o } }", [Service("endpoint", True, False)]),
    ("PREFIX e: <http://e/> SELECT * { SERVICE e:point { } }",
     [Service("http://e/point", False, False)]),
    ("BASE <http://e/a/> SELECT * { SERVICE <../b> { } }", [Service("http://e/b", False, False)]),
    ("SELECT * { ?s ?p ?o OPTIONAL { SERVICE <http://x/opt> { ?s ?p ?o } } }",
     [Service("http://x/opt", False, False)]),
    ("SELECT * { { SELECT ?s { SERVICE <http://x/sub> { ?s ?p ?o } } } }",
     [Service("http://x/sub", False, False)]),
    ("SELECT * { ?s ?p ?o FILTER EXISTS { SERVICE <http://x/e> { ?s ?p ?o } } }",
     [Service("http://x/e", False, False)]),
    ("SELECT (EXISTS { SERVICE <http://x/p> { } } AS ?e) { }",
     [Service("http://x/p", False, False)]),
    ("SELECT * { SERVICE <http://x/a> { } MINUS { SERVICE ?c { } } }",
     [Service("http://x/a", False, False), Service("c", True, False)]),
    ("INSERT { ?s ?p ?o } WHERE { SERVICE <http://x/u> { ?s ?p ?o } }",
     [Service("http://x/u", False, False)]),
    ("SELECT * { ?s ?p ?o # SERVICE <http://x/> { }\n }", []),
    ("SELECT * { ?s ?p \"SERVICE <http://x/> {}\" }", []),
    ("SELECT * { ?s ?p '''SERVICE\n<http://x/> {}''' }", []),
    ("SELECT * { ?s <http://x/SERVICE> ?o }", []),
    ("PREFIX service: <http://s/> SELECT * { ?s service:x ?o }", []),
    ("SELECT ?service { ?service ?p ?o }", []),
])
def test_services_are_found_where_they_are(text: str, services: list[Service]) -> None:
    inspection = inspect(text)
    assert list(inspection.services) == services
    reference = rdflib_view(text, update=inspection.kind == "update")
    assert reference["services"] == sorted((s.target, s.variable) for s in services)


def test_nested_services() -> None:
    text = "SELECT * { SERVICE <http://x/a> { SERVICE SILENT <http://x/b> { ?s ?p ?o } } }"
    assert inspect(text).services == (Service("http://x/a", False, False),
                                      Service("http://x/b", False, True))
    # the reference cannot say: rdflib's parser recurses without end on a SERVICE inside a
    # SERVICE (SPARQL 1.1 Federated Query §3 allows it), and pyoxigraph would fetch the URLs
    with pytest.raises(RecursionError):
        rdflib_parser.parseQuery(text)


def test_escapes_keep_the_positions_of_the_text_as_sent() -> None:
    text = "SELECT * {\n  SERV\\u0049CE <http://x/> { ?s ?p ?o } ?x ?y ?z\n}"
    inspection = inspect(text)
    assert inspection.services == (Service("http://x/", False, False),)
    assert "SERVICE <http://x/>" in inspection.text
    broken = text.replace("?z", "?z ?w")
    with pytest.raises(SparqlSyntaxError) as error:
        inspect(broken)
    line = broken.splitlines()[1]
    assert (error.value.line, error.value.column) == (2, line.index("?w") + 1)


@pytest.mark.parametrize(("text", "operations"), [
    ("LOAD <http://x/doc>", [Operation("LOAD", ("http://x/doc",), False)]),
    ("load silent <http://x/doc> into graph <http://x/g>",
     [Operation("LOAD", ("http://x/doc", "http://x/g"), True)]),
    ("PREFIX x: <http://x/> CLEAR ALL ; LOAD x:doc ;",
     [Operation("CLEAR", ("ALL",), False), Operation("LOAD", ("http://x/doc",), False)]),
    ("INSERT DATA { <http://a> <http://b> 1 } ; BASE <http://x/> LOAD <doc> INTO GRAPH <g>",
     [Operation("INSERT DATA", ("DEFAULT",), False),
      Operation("LOAD", ("http://x/doc", "http://x/g"), False)]),
    ("CREATE GRAPH <http://g> ; LOAD <http://d> ; DROP SILENT GRAPH <http://g>",
     [Operation("CREATE", ("http://g",), False), Operation("LOAD", ("http://d",), False),
      Operation("DROP", ("http://g",), True)]),
    ("WITH <http://g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o } ; LOAD <http://d>",
     [Operation("MODIFY", ("http://g",), False), Operation("LOAD", ("http://d",), False)]),
    ("DELETE WHERE { ?s ?p ?o } ; LOAD <http://d>",
     [Operation("DELETE WHERE", ("DEFAULT",), False), Operation("LOAD", ("http://d",), False)]),
    ("DELETE DATA { GRAPH <http://g> { <http://s> <http://p> 1 } } ;\nLOAD <http://d>",
     [Operation("DELETE DATA", ("http://g",), False), Operation("LOAD", ("http://d",), False)]),
    ("COPY <http://a> TO DEFAULT ; MOVE DEFAULT TO <http://b> ; ADD SILENT GRAPH <http://c> "
     "TO GRAPH <http://d> ; LOAD <http://e>",
     [Operation("COPY", ("http://a", "DEFAULT"), False),
      Operation("MOVE", ("DEFAULT", "http://b"), False),
      Operation("ADD", ("http://c", "http://d"), True), Operation("LOAD", ("http://e",), False)]),
    ("INSERT DATA { <http://s> <http://p> 'LOAD <http://x/>' } # LOAD <http://y/>",
     [Operation("INSERT DATA", ("DEFAULT",), False)]),
    ("PREFIX load: <http://l/> INSERT DATA { GRAPH load:g { load:a load:b load:c } }",
     [Operation("INSERT DATA", ("http://l/g",), False)]),
    ("INSERT { GRAPH ?g { ?s ?p 1 } ?s ?p 2 } USING <http://u> WHERE { GRAPH ?g { ?s ?p ?o } }",
     [Operation("MODIFY", ("?g", "DEFAULT"), False)]),
])
def test_operations_and_load(text: str, operations: list[Operation]) -> None:
    inspection = inspect(text)
    assert inspection.kind == "update" and inspection.form is None
    assert list(inspection.operations) == operations
    reference = rdflib_view(text, update=True)
    assert reference["operations"] == [op.kind for op in operations]
    assert reference["loads"] == [op.graphs for op in operations if op.kind == "LOAD"]


def test_operations_say_where_they_start() -> None:
    """After the prologue of each: where a reset may go before an update's first operation."""
    text = "PREFIX x: <http://x/>\n# c\nWITH x:g DELETE { ?s ?p ?o } WHERE { ?s ?p ?o } ;\n" \
           "BASE <http://b/> CLEAR ALL"
    inspection = inspect(text)
    assert [inspection.text[op.start:op.start + 5] for op in inspection.operations] == [
        "WITH ", "CLEAR"]
    modify, clear = inspection.operations
    assert inspection.text[modify.where:].startswith("WHERE { ?s") and clear.where == -1


def test_update_dataset_clauses() -> None:
    inspection = inspect("WITH <http://g> DELETE { ?s ?p ?o } USING <http://u> "
                         "USING NAMED <http://n> WHERE { ?s ?p ?o }")
    assert inspection.with_graphs == ("http://g",)
    assert inspection.using_graphs == ("http://u",)
    assert inspection.using_named == ("http://n",)
    assert inspection.has_dataset_clause
    assert not inspect("INSERT DATA { <http://s> <http://p> 1 }").has_dataset_clause


def test_an_empty_request_is_an_empty_update() -> None:
    inspection = inspect("# nothing\nPREFIX x: <http://x/>\n")
    assert (inspection.kind, inspection.operations) == ("update", ())


# --- prefixes, variables, functions -------------------------------------------------------------

PREDEFINED = {"rdf": str(RDF), "xsd": "http://www.w3.org/2001/XMLSchema#"}


def test_predefined_prefixes_are_reported_as_undeclared() -> None:
    text = ("PREFIX ex: <http://ex/>\nSELECT * { ?s rdf:type ex:C ;\n"
            "  ex:n ?n FILTER(xsd:integer(?n) > 1) }")
    inspection = inspect(text, predefined=PREDEFINED)
    assert inspection.undeclared == ("rdf", "xsd")
    assert inspection.prefixes == {"ex": "http://ex/"}
    column = text.splitlines()[2].index("xsd:integer") + 1
    assert inspection.functions == (("http://www.w3.org/2001/XMLSchema#integer", 3, column),)


def test_a_declared_prefix_wins_over_a_predefined_one() -> None:
    inspection = inspect("PREFIX rdf: <http://mine/> SELECT * { ?s rdf:type ?o }",
                         predefined=PREDEFINED)
    assert inspection.undeclared == ()


def test_function_calls_with_escaped_local_names() -> None:
    text = "PREFIX f: <http://f/> SELECT (f:a\\.b(?x) AS ?y) { ?x ?p ?o FILTER(f:c-d()) }"
    assert [iri for iri, *_ in inspect(text).functions] == ["http://f/a.b", "http://f/c-d"]


@pytest.mark.parametrize(("text", "variables"), [
    ("SELECT * {?s ?p ?o}", ("s", "p", "o")),
    ("SELECT ?o ?s {?s ?p ?o}", ("o", "s")),
    ("SELECT * { ?s ?p ?o OPTIONAL { ?s ?q ?x } MINUS { ?m ?n ?k } FILTER(?zz) "
     "BIND(1 AS ?b) VALUES ?v { 1 } }", ("s", "p", "o", "q", "x", "b", "v")),
    ("SELECT * { GRAPH ?g { ?s ?p ?o } { SELECT ?k (1 AS ?j) { ?k ?l ?m } } "
     "FILTER EXISTS { ?e ?f ?h } }", ("g", "s", "p", "o", "k", "j")),
    ("SELECT * { SERVICE ?e { ?s ?p ?o } }", ("e", "s", "p", "o")),
    ("SELECT * { { ?a ?b ?c } UNION { ?d ?e ?a } } VALUES ?z { 1 }",
     ("a", "b", "c", "d", "e", "z")),
    ("SELECT * { ?s <http://p>/<http://q>* [ <http://r> ?w ] ; <http://t> ( ?l1 ?l2 ) }",
     ("s", "w", "l1", "l2")),
    ("SELECT (COUNT(?o) AS ?n) ?s { ?s ?p ?o } GROUP BY ?s", ("n", "s")),
])
def test_variables(text: str, variables: tuple[str, ...]) -> None:
    inspection = inspect(text)
    assert inspection.variables == variables
    assert inspection.select_star == text.startswith("SELECT *")
    if not inspection.services:
        assert set(variables) == {v.value for v in pyoxigraph.Store().query(text).variables}


def test_star_span() -> None:
    text = "PREFIX e: <http://e/>\nSELECT  DISTINCT *\nWHERE { ?s ?p ?o }"
    inspection = inspect(text)
    start, end = inspection.star_span
    assert inspection.text[start:end] == "*" and inspection.text[:start].endswith("DISTINCT ")
    assert inspect("SELECT ?s { ?s ?p ?o }").star_span is None
    escaped = inspect("SELECT \\u002A { ?s ?p ?o }")
    assert escaped.select_star and escaped.text[slice(*escaped.star_span)] == "*"


def test_groups_are_the_group_graph_patterns() -> None:
    """Each '{' of a group graph pattern, with whether a sub-select fills it; not the
    braces of a CONSTRUCT template, a VALUES block, a string or an IRI."""
    text = ("CONSTRUCT { ?s ?p '{' } WHERE { ?s ?p ?o OPTIONAL { ?o <x:y> '{' } "
            "{ SELECT ?s { ?s ?q ?r } } UNION { FILTER NOT EXISTS { ?z ?y ?w } } "
            "GRAPH ?g { } MINUS { ?a ?b ?c } VALUES ?v { 1 } }")
    inspection = inspect(text)
    opened = [at for at, char in enumerate(text) if char == "{"]
    assert [at - 1 for at, _ in inspection.groups] == [opened[k] for k in range(2, 11)
                                                       if k != 4]
    assert [sub for _, sub in inspection.groups] == [False, False, True, False, False,
                                                     False, False, False]
    assert inspect("INSERT { ?s ?p 1 } WHERE { ?s ?p 0 }").groups == ((26, False),)


def test_constructs_assignments_and_subselects() -> None:
    text = ("SELECT ?s (1 AS ?one) {\n ?s ?p ?o BIND (2 AS ?two) MINUS { ?s ?p 1 }\n"
            "  { SELECT * { ?s ?q ?x OPTIONAL { ?x ?r ?y } FILTER (?z) } }\n"
            "  { SELECT ?x (COUNT(*) AS ?n) { ?x ?r ?y } GROUP BY ?x (STR(?y) AS ?k) }\n"
            "} VALUES ?s { <x:a> }")
    inspection = inspect(text)
    assert dict(inspection.constructs) == {"BIND": (2, 11), "MINUS": (2, 28),
                                           "VALUES": (5, 3)}
    assert inspection.assigned == (("one", 1, 17), ("two", 2, 22), ("n", 4, 28),
                                   ("k", 4, 69))
    assert [(s.variables, s.star, s.line, s.column) for s in inspection.subselects] == [
        (("s", "q", "x", "r", "y"), True, 3, 5), (("x", "n"), False, 4, 5)]
    assert dict(inspect("SELECT * { SERVICE <http://e/sparql> { ?s ?p ?o } }").constructs) \
        == {"SERVICE": (1, 12)}
    assert inspection.mentioned_variables == {"s", "one", "p", "o", "two", "q", "x", "r",
                                              "y", "z", "n", "k"}


@pytest.mark.parametrize(("text", "order_by"), [
    ("SELECT * { ?s ?p ?o } ORDER BY DESC(?o) ?s LIMIT 3", ("o", "s")),
    ("SELECT * { ?s ?p ?o } ORDER BY str(?o) ASC(?o) ?p", ("o", "p")),
    ("SELECT * { { SELECT ?s { ?s ?p ?o } ORDER BY ?s LIMIT 1 } }", None),
    ('SELECT * { ?s ?p "ORDER BY ?x" }', None),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } ORDER BY ?o", ("o",)),
    ("SELECT ?s { { SELECT ?s { ?s ?p ?o } ORDER BY ?o } } ORDER BY ?s", ("s",)),
])
def test_order_by_of_the_query_itself(text: str, order_by: tuple[str, ...] | None) -> None:
    assert inspect(text).order_by == order_by


def test_depth() -> None:
    assert inspect("SELECT * { ?s ?p ?o }").depth == 1
    assert inspect("SELECT * { { ?s ?p [ ?q ( 1 ) ] } FILTER((1)) }").depth == 4


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("PREFIX kkid: <https://w3id.org/kazkor/id/>\nSELECT ?x\nWHERE { ?x kko:p kkid:a }",
     "line 3, column 12: prefix kko: is not declared (declare it with PREFIX kko: <...>)"),
    ("SELECT (STRLEN(?a, ?b) AS ?n) {}", "line 1, column 9: STRLEN takes 1 argument, 2 given"),
    ("SELECT * WHERE { ?s ?p ?o\n    LIMIT 1 }",
     "line 2, column 5: expected '}' to close the group opened at line 1, column 16, "
     "found 'LIMIT'"),
    ("SELECT * WHERE { ?s ?p ?o ",
     "line 1, column 27: unexpected end of the query: expected '}' to close the group "
     "opened at line 1, column 16"),
    ("DELETE DATA { ?s <http://p> 1 }",
     "line 1, column 15: DELETE DATA cannot contain variables (?s): use DELETE WHERE { ... } "
     "to work with variables"),
    ("SELECT * { ?s ?p 'it\\'s\n' }",
     "line 1, column 18: the string that starts here is not closed by ' on the same line "
     "(a string over several lines is written '''...''')"),
    ("SELECT * { ?s ?p \"a\\qb\" }",
     "line 1, column 18: \\q is not an escape SPARQL knows in a string "
     "(\\t \\b \\n \\r \\f \\\" \\' \\\\)"),
    ("SELECT ?x { ?x ?p ?o } GROUP BY ?p",
     "line 1, column 8: ?x is neither grouped nor aggregated: add it to GROUP BY, or project "
     "an aggregate of it such as (SAMPLE(?x) AS ?any)"),
    ("SELECT * { ?s ?p ?o } ORDER BY COUNT(?o)",
     "line 1, column 8: SELECT * cannot be used with GROUP BY or aggregates: list the grouped "
     "variables and the aggregates to project"),
    ("SELECT * { ?s ?p ?o . BIND(1 AS ?o) }",
     "line 1, column 33: ?o is already bound before this BIND in the same group: BIND must "
     "introduce a new variable"),
    ("SELECT * {\n  ?s a ?o FILTER(?o < 1 < 2) }",
     "line 2, column 25: expected &&, || or the end of the expression: comparisons do not "
     "chain (write a < b && b < c), found '<'"),
    ("SELECT * { ?s A ?o }",
     "line 1, column 15: expected a predicate after the subject, found 'A', which is not a "
     "SPARQL keyword (the keyword a is written in lower case)"),
    ("SELECT * { ?s ?p ?o } BINDINGS ?s { (1) }",
     "line 1, column 23: expected the end of the query, found 'BINDINGS', which is not a "
     "SPARQL keyword (a prefixed name needs a colon (BINDINGS:name), a variable a ? "
     "(?BINDINGS))"),
    ("SELECT * { ?s ?p ?o FILTER(\\uD83D\\uDE00) }",
     "line 1, column 28: the escape \\uD83D is half of a UTF-16 surrogate pair: write the "
     "character itself or its \\U00XXXXXX escape"),
    ("SELECT * { FILTER(SUM(?x) > 1) }",
     "line 1, column 19: SUM is an aggregate: aggregates are allowed only in SELECT, HAVING "
     "and ORDER BY"),
    ("SELECT * { _:b ?p ?o . { _:b ?q ?r } }",
     "line 1, column 26: the blank node _:b is already used in another basic graph pattern "
     "(at line 1, column 12); a blank node label stands for one node of one basic graph "
     "pattern: use a variable such as ?b to join patterns"),
    ("INSERT WHERE { ?s ?p ?o }",
     "line 1, column 8: expected DATA or '{' after INSERT, found 'WHERE'"),
    ("CREATE GRAPH <http://g>\nLOAD <http://d>",
     "line 2, column 1: expected ';' between update operations, or the end of the update, "
     "found 'LOAD'"),
])
def test_error_messages(text: str, message: str) -> None:
    with pytest.raises(SparqlSyntaxError) as error:
        inspect(text)
    assert str(error.value) == message
    assert "\n" not in str(error.value)
    line, column = message.split(":", 1)[0].removeprefix("line ").split(", column ")
    assert (error.value.line, error.value.column) == (int(line), int(column))
    assert str(error.value).endswith(error.value.message)


def test_error_positions_are_in_the_text_as_sent() -> None:
    # \u0041 is six characters in the text as sent, one after escape processing
    with pytest.raises(SparqlSyntaxError) as error:
        inspect("SELECT * { ?s ?p '\\u0041' ?x }")
    assert (error.value.line, error.value.column) == (1, 27)


def test_errors_survive_pickling() -> None:
    with pytest.raises(SparqlSyntaxError) as error:
        inspect("SELECT")
    copy = pickle.loads(pickle.dumps(error.value))
    assert (str(copy), copy.line, copy.column) == (str(error.value), 1, 7)


# the built-in calls of §17.4 / §19.8 [121-124] and the numbers of arguments they take
ARITIES = {
    "STR": (1, 1), "LANG": (1, 1), "LANGMATCHES": (2, 2), "DATATYPE": (1, 1), "IRI": (1, 1),
    "URI": (1, 1), "BNODE": (0, 1), "RAND": (0, 0), "ABS": (1, 1), "CEIL": (1, 1),
    "FLOOR": (1, 1), "ROUND": (1, 1), "CONCAT": (0, 5), "SUBSTR": (2, 3), "STRLEN": (1, 1),
    "REPLACE": (3, 4), "UCASE": (1, 1), "LCASE": (1, 1), "ENCODE_FOR_URI": (1, 1),
    "CONTAINS": (2, 2), "STRSTARTS": (2, 2), "STRENDS": (2, 2), "STRBEFORE": (2, 2),
    "STRAFTER": (2, 2), "YEAR": (1, 1), "MONTH": (1, 1), "DAY": (1, 1), "HOURS": (1, 1),
    "MINUTES": (1, 1), "SECONDS": (1, 1), "TIMEZONE": (1, 1), "TZ": (1, 1), "NOW": (0, 0),
    "UUID": (0, 0), "STRUUID": (0, 0), "MD5": (1, 1), "SHA1": (1, 1), "SHA256": (1, 1),
    "SHA384": (1, 1), "SHA512": (1, 1), "COALESCE": (0, 5), "IF": (3, 3), "STRLANG": (2, 2),
    "STRDT": (2, 2), "sameTerm": (2, 2), "isIRI": (1, 1), "isURI": (1, 1), "isBLANK": (1, 1),
    "isLITERAL": (1, 1), "isNUMERIC": (1, 1), "REGEX": (2, 3),
}


def call(name: str, count: int) -> str:
    arguments = ", ".join(f'"{k}"' for k in range(count))
    return f"SELECT ({name}({arguments}) AS ?v) {{}}"


@pytest.mark.parametrize("name", ARITIES)
def test_builtin_arities(name: str) -> None:
    low, high = ARITIES[name]
    for count in range(low, high + 1):
        inspect(call(name, count))
        inspect(call(name.lower(), count))
    for count in {low - 1, high + 1} - {-1}:
        if name in ("CONCAT", "COALESCE") and count > high:
            continue  # any number
        with pytest.raises(SparqlSyntaxError, match=rf"^line 1, column 9: {name} takes .*, "
                                                    rf"{count} given$"):
            inspect(call(name, count))


def test_aggregate_arguments() -> None:
    inspect("SELECT (GROUP_CONCAT(DISTINCT ?x ; SEPARATOR = ', ') AS ?g) { ?x ?p ?o }")
    inspect("SELECT (COUNT(DISTINCT *) AS ?n) { ?x ?p ?o }")
    with pytest.raises(SparqlSyntaxError, match="SUM takes 1 argument, 2 given"):
        inspect("SELECT (SUM(?x, ?y) AS ?s) {}")
    with pytest.raises(SparqlSyntaxError, match="only COUNT takes \\*"):
        inspect("SELECT (AVG(*) AS ?s) {}")
    with pytest.raises(SparqlSyntaxError, match="BOUND takes one variable"):
        inspect("SELECT * { FILTER(BOUND(1)) }")


# --- bounds ---------------------------------------------------------------------------------------


def test_depth_limit_refuses_30000_parentheses_cleanly() -> None:
    text = "SELECT * { FILTER(" + "(" * 30000 + "1" + ")" * 30000 + ") }"
    with pytest.raises(SparqlSyntaxError) as error:
        inspect(text)
    assert str(error.value) == ("line 1, column 145: the query nests more than 128 levels "
                                "deep; this endpoint accepts at most 128")
    with pytest.raises(SparqlSyntaxError, match="the update nests more than 128 levels deep"):
        inspect("(" * 30000)


@pytest.mark.parametrize("make", [
    lambda n: "SELECT * { FILTER(" + "(" * (n - 2) + "1" + ")" * (n - 2) + ") }",
    lambda n: "SELECT * " + "{ OPTIONAL " * (n - 1) + "{}" + "}" * (n - 1),
    lambda n: "SELECT * " + "{ SELECT * " * (n - 1) + "{}" + "}" * (n - 1),
    lambda n: "SELECT * { ?s ?p " + "[ ?p " * (n - 1) + "1" + "]" * (n - 1) + "}",
    lambda n: "SELECT * { ?s ?p " + "( " * (n - 1) + "1" + ")" * (n - 1) + "}",
    lambda n: "SELECT * { ?s " + "(" * (n - 1) + "<http://p>" + ")*" * (n - 1) + " ?o }",
    lambda n: "SELECT * " + "{ FILTER NOT EXISTS " * (n // 2) + "{}" + "}" * (n // 2),
], ids=["parentheses", "groups", "subselects", "blank nodes", "lists", "paths", "exists"])
def test_the_deepest_accepted_nesting_parses(make: object) -> None:
    """At the limit every nesting construct parses, even from a deep call stack."""
    text = make(128)  # type: ignore[operator]
    assert inspect(text).depth <= 128

    def nested(levels: int) -> int:
        return nested(levels - 1) if levels else inspect(text).depth

    assert nested(150) <= 128


def test_a_large_max_depth_gives_an_error_not_a_crash() -> None:
    text = "SELECT * { FILTER(" + "(" * 20000 + "1" + ")" * 20000 + ") }"
    with pytest.raises(SparqlSyntaxError, match="nests too deeply to be parsed here"):
        inspect(text, max_depth=30000)


# --- the cache --------------------------------------------------------------------------------


def test_inspect_cached() -> None:
    text = "SELECT * { ?s rdf:type ?o }"
    first = inspect_cached(text, predefined=PREDEFINED)
    assert inspect_cached(text, predefined=dict(PREDEFINED)) is first
    assert first.undeclared == ("rdf",)
    with pytest.raises(SparqlSyntaxError, match="prefix rdf: is not declared"):
        inspect_cached(text)
    with pytest.raises(SparqlSyntaxError, match="prefix rdf: is not declared"):
        inspect_cached(text)
    with pytest.raises(TypeError):
        first.prefixes["x"] = "y"  # type: ignore[index]


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sparql_parser, "CACHE_ENTRIES", 8)
    for k in range(20):
        inspect_cached(f"SELECT * {{ ?s ?p {k} }}")
    assert len(sparql_parser._cache) == 8
    assert ("SELECT * { ?s ?p 19 }", frozenset(), 128) in sparql_parser._cache


# --- random queries from valid fragments ----------------------------------------------------------

VARIABLES = st.sampled_from(["?s", "?p", "?o", "?x", "$y", "?long_name", "?z9"])
IRIS = st.sampled_from(["<http://example.org/a>", "ex:thing", "ex:text-differs-from-table",
                        "ex:from", "ex:a.b", "ex:", ":x", "<rel>", "<http://x/#frag>",
                        "ex:%41b", "ex:a\\-b"])
LITERALS = st.sampled_from(['"text"', "'t'", '"""long\n"text"""', "'''x'''", '"chat"@fr',
                            '"1"^^<http://www.w3.org/2001/XMLSchema#int>', "42", "-7", "3.14",
                            "+.5", "1e10", "true", "false", '"FROM <http://no/>"'])
KEYWORD_CASE = st.sampled_from([str.upper, str.lower, str.title])
SPACE = st.sampled_from([" ", "\n", "\t", " # FROM <http://comment/> SELECT\n", "  "])
GRAPH_IRIS = st.sampled_from(["<http://example.org/a>", "ex:thing", "ex:from-table", "ex:a.b",
                              "ex:", ":x", "<rel>", "<../up>", "<http://x/#frag>"])


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    if depth > 2 or draw(st.booleans()):
        return draw(st.one_of(VARIABLES, LITERALS, IRIS))
    form = draw(st.sampled_from([
        "({} + {})", "({} - {})", "({} * {})", "({} / {})", "({} && {})", "({} || {})",
        "({} = {})", "({} != {})", "({} < {})", "({} >= {})", "STR({})", "REGEX({}, {})",
        "COALESCE({}, {}, {})", "({} IN ({}, {}))", "ex:fn({})", "IF({}, {}, {})", "-({})",
        "!BOUND(?x)",
    ]))
    return form.format(*(draw(expressions(depth + 1)) for _ in range(form.count("{}"))))


@st.composite
def triples(draw: st.DrawFn, paths: bool = True) -> str:
    subject = draw(st.one_of(VARIABLES, IRIS, st.just("[]")))
    verbs = [VARIABLES, IRIS, st.just("a")]
    if paths:
        verbs += [IRIS.map(lambda i: f"{i}/^{i}*"), IRIS.map(lambda i: f"!({i}|a)")]
    verb = draw(st.one_of(*verbs))
    objects = draw(st.lists(st.one_of(VARIABLES, IRIS, LITERALS,
                                      st.just("( 1 ?o )"), st.just("[ ex:p ?o ]")),
                            min_size=1, max_size=3))
    return f"{subject} {verb} {', '.join(objects)} ."


@st.composite
def groups(draw: st.DrawFn, depth: int = 0) -> str:
    elements = []
    bound: set[str] = set()
    for _ in range(draw(st.integers(0, 4))):
        choices = ["triples", "filter", "bind"]
        if depth < 2:
            choices += ["optional", "union", "minus", "graph", "group", "exists"]
        choice = draw(st.sampled_from(choices))
        if choice == "triples":
            elements.append(draw(triples()))
        elif choice == "filter":
            elements.append(f"FILTER({draw(expressions())})")
        elif choice == "bind":
            name = f"?bound{len(bound)}_{depth}"
            bound.add(name)
            elements.append(f"BIND({draw(expressions())} AS {name})")
        elif choice == "optional":
            elements.append(f"OPTIONAL {draw(groups(depth + 1))}")
        elif choice == "union":
            elements.append(f"{draw(groups(depth + 1))} UNION {draw(groups(depth + 1))}")
        elif choice == "minus":
            elements.append(f"MINUS {draw(groups(depth + 1))}")
        elif choice == "graph":
            elements.append(f"GRAPH {draw(st.one_of(VARIABLES, IRIS))} {draw(groups(depth + 1))}")
        elif choice == "exists":
            elements.append(f"FILTER NOT EXISTS {draw(groups(depth + 1))}")
        else:
            elements.append(draw(groups(depth + 1)))
    return "{ " + draw(SPACE).join(elements) + " }"


@st.composite
def queries(draw: st.DrawFn) -> tuple[str, str, list[str], list[str]]:
    """A random valid query, its form and its FROM / FROM NAMED IRIs."""
    case = draw(KEYWORD_CASE)
    space = draw(SPACE)
    prologue = f"{case('base')} <http://example.org/base/>{space}" if draw(st.booleans()) else ""
    prologue += f"{case('prefix')} ex: <http://example.org/ex/>{space}" \
                f"{case('PREFIX')} : <http://example.org/empty/>{space}"
    form = draw(st.sampled_from(["SELECT", "ASK", "CONSTRUCT", "DESCRIBE"]))
    graphs = draw(st.lists(st.tuples(st.booleans(), GRAPH_IRIS), max_size=3))
    dataset = "".join(f"{case('from')} {case('named') + ' ' if named else ''}{iri}{space}"
                      for named, iri in graphs)
    where = f"{case('where')} {draw(groups())}"
    if form == "SELECT":
        head = draw(st.sampled_from(["*", "?s", "?s ?o", "DISTINCT ?s", "(STR(?s) AS ?label)"]))
        text = f"{case('select')} {head}{space}{dataset}{where}"
    elif form == "ASK":
        text = f"{case('ask')}{space}{dataset}{where}"
    elif form == "CONSTRUCT":
        text = f"{case('construct')} {{ {draw(triples(paths=False))} }}{space}{dataset}{where}"
    else:
        text = f"{case('describe')} {draw(st.one_of(VARIABLES, IRIS))}{space}{dataset}{where}"
    modifier = draw(st.sampled_from(["", " ORDER BY ?s", " LIMIT 5", " OFFSET 2 LIMIT 1",
                                     " ORDER BY DESC(STR(?o)) LIMIT 3"]))
    if form == "ASK":
        modifier = ""
    return prologue + text + case(modifier), form, [
        iri for named, iri in graphs if not named], [iri for named, iri in graphs if named]


def absolute(iri: str) -> str:
    inspection = inspect(f"BASE <http://example.org/base/> PREFIX ex: <http://example.org/ex/> "
                         f"PREFIX : <http://example.org/empty/> SELECT * FROM {iri} {{}}")
    return inspection.from_graphs[0]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries())
def test_random_queries_parse_and_agree_with_rdflib(
        query: tuple[str, str, list[str], list[str]]) -> None:
    text, form, from_graphs, from_named = query
    inspection = inspect(text)
    assert (inspection.kind, inspection.form) == ("query", form)
    reference = rdflib_view(text, update=False)
    assert reference["form"] == form
    assert (list(inspection.from_graphs), list(inspection.from_named)) == (
        reference["from"], reference["from_named"])
    if "<http://example.org/base/>" in text:
        assert list(inspection.from_graphs) == [absolute(iri) for iri in from_graphs]
        assert list(inspection.from_named) == [absolute(iri) for iri in from_named]
    assert inspection.has_dataset_clause == bool(from_graphs or from_named)
    assert oxigraph_accepts(text.replace("ex:fn(", "STR("))


@settings(max_examples=300, deadline=None)
@given(queries(), st.data())
def test_broken_queries_give_a_syntax_error_and_never_crash(
        query: tuple[str, str, list[str], list[str]], data: st.DataObject) -> None:
    text = query[0]
    at = data.draw(st.integers(0, len(text)))
    broken = data.draw(st.sampled_from([
        text[:at], text[:at] + text[at + 1:], text[:at] + "{" + text[at:],
        text[:at] + ")" + text[at:], text[:at] + "\\u0022" + text[at:],
        text[:at] + data.draw(st.text(max_size=4)) + text[at:],
    ]))
    try:
        inspect(broken)
    except SparqlSyntaxError as error:
        assert error.line >= 1 and error.column >= 1
        assert "\n" not in str(error)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*"{}()[]<>?$:_.;,'\"#\\@^|/*+-!=&aA1eE \n", "SELECT", "WHERE",
                                 "SERVICE", "FILTER", "ex:", "\\u0041", "'''", '"""']),
                max_size=40).map("".join))
def test_any_text_gives_an_inspection_or_a_syntax_error(text: str) -> None:
    try:
        inspect(text)
    except SparqlSyntaxError as error:
        assert error.line >= 1 and error.column >= 1


#: (query, whether it is a lookup): every triple pattern names an IRI or a literal at one
#: end, no repeated path, no sub-select, SERVICE or computed value
LOOKUPS = [
    ("SELECT ?p ?o WHERE { <http://x/a> ?p ?o } LIMIT 3", True),
    ("SELECT * { ?s <http://x/p> 'Astana'@en }", True),
    ("SELECT * { [] <http://x/p> 42 }", True),
    ("SELECT ?l { <http://x/a> <http://x/label> ?l ; <http://x/see> <http://x/b> } "
     "ORDER BY ?l", True),
    ("SELECT ?o { <http://x/a> <http://x/p>/<http://x/q>? ?o }", True),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p <http://x/a> }", True),
    ("DESCRIBE <http://x/a> <http://x/b>", True),
    ("DESCRIBE ?x WHERE { ?x <http://x/label> 'a' }", True),
    ("ASK { ?s ?p ?o }", False),
    ("SELECT * { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f LIMIT 1", False),
    ("SELECT ?l { <http://x/a> <http://x/see> ?s . ?s <http://x/label> ?l }", False),
    ("SELECT ?o { <http://x/a> <http://x/p>* ?o }", False),
    ("SELECT ?o { <http://x/a> (<http://x/p>|<http://x/q>)+ ?o }", False),
    ("SELECT (COUNT(*) AS ?n) { <http://x/a> ?p ?o }", False),
    ('SELECT ?x { <http://x/a> ?p ?o BIND(CONCAT(?o, ?o) AS ?x) }', False),
    ('SELECT ?x { BIND("a" AS ?x) }', False),
    ("SELECT * { { SELECT ?s { ?s <http://x/p> 'x' } } }", False),
    ("SELECT * { SERVICE <http://x/sparql> { <http://x/a> ?p ?o } }", False),
    ("SELECT * { <http://x/a> ?p ?o OPTIONAL { ?o ?q ?r } }", False),
    ("CONSTRUCT WHERE { ?s ?p ?o }", False),
    ("DESCRIBE ?x", False),
    ("INSERT DATA { <http://x/a> <http://x/p> 1 }", False),
]


@pytest.mark.parametrize(("text", "lookup"), LOOKUPS)
def test_a_lookup_is_told_by_the_grammar(text: str, lookup: bool) -> None:
    """What the server gives the lane it keeps for lookups (kg.served)."""
    assert inspect(text).lookup is lookup
