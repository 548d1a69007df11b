"""Both store backends answer the same queries the same way."""

import io
from pathlib import Path

import pytest
from rdflib import Graph, URIRef

from kg.store import QuerySyntaxError, StoreError, open_store

NQ = """\
<http://ex/a> <http://ex/p> "x"@en <http://ex/g1> .
<http://ex/a> <http://ex/p> <http://ex/b> <http://ex/g2> .
<http://ex/b> <http://ex/q> "2"^^<http://www.w3.org/2001/XMLSchema#integer> <http://ex/g2> .
"""


@pytest.fixture(params=["memory", "oxigraph"])
def store(request, tmp_path: Path):
    path = tmp_path / "d.nq"
    path.write_text(NQ)
    location = tmp_path / "ox" if request.param == "oxigraph" else None
    s = open_store(request.param, location)
    s.load(path)
    yield s
    s.close()


def test_graphs_and_counts(store):
    assert store.graphs() == ["http://ex/g1", "http://ex/g2"]
    assert store.count() == 3
    assert store.count("http://ex/g2") == 2


def test_default_graph_is_the_union(store):
    r = store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert [int(row[0]) for row in r.rows()] == [3]


def test_protocol_dataset_restricts_the_default_graph(store):
    r = store.query("SELECT ?o WHERE { ?s ?p ?o }", default_graph_uris=["http://ex/g1"])
    assert [str(row[0]) for row in r.rows()] == ["x"]
    r = store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
                    named_graph_uris=["http://ex/g2"])
    assert [(str(g), int(n)) for g, n in r.rows()] == [("http://ex/g2", 2)]


def test_from_clause(store):
    r = store.query("SELECT ?o FROM <http://ex/g1> WHERE { ?s ?p ?o }")
    assert [str(row[0]) for row in r.rows()] == ["x"]


@pytest.mark.parametrize("fmt,needle", [
    ("json", b'"bindings"'), ("xml", b"<sparql"), ("csv", b"http://ex/a"), ("tsv", b"<http://ex/a>"),
])
def test_select_serializations(store, fmt, needle):
    assert needle in store.query("SELECT * WHERE { ?s ?p ?o }").serialize(fmt)


def test_ask_and_construct(store):
    assert store.query("ASK { ?s <http://ex/q> 2 }").boolean is True
    assert b"true" in store.query("ASK { ?s ?p ?o }").serialize("json")
    assert store.query("ASK { ?s ?p ?o }").serialize("csv").splitlines()[1] == b"true"
    ttl = store.query("CONSTRUCT WHERE { ?s <http://ex/p> ?o }").serialize("turtle")
    parsed = Graph().parse(data=ttl, format="turtle")
    assert (URIRef("http://ex/a"), URIRef("http://ex/p"), URIRef("http://ex/b")) in parsed
    triples = list(store.query("CONSTRUCT WHERE { ?s <http://ex/q> ?o }").triples())
    assert len(triples) == 1


def test_syntax_error_names_the_problem(store):
    with pytest.raises(QuerySyntaxError) as e:
        store.query("SELECT * WHERE { ?s ?p }")
    assert str(e.value)


def test_dump(store):
    out = io.BytesIO()
    store.dump(out, "nquads")
    assert out.getvalue().count(b"<http://ex/g2>") == 2
    out = io.BytesIO()
    store.dump(out, "ntriples", graph="http://ex/g1")
    assert out.getvalue().count(b"\n") == 1


def test_unknown_backend():
    with pytest.raises(StoreError, match="unknown store backend"):
        open_store("nosuch")
