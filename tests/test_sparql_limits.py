"""The row limit's counting: never fewer rows than an answer really has."""

import pyoxigraph as ox
import pytest

from kg.served.jobs import most_rows

TRICKY = ["x", "},{", "<result>", "a\nb\nc", "tab\there", '" , ; .']


def _store() -> ox.Store:
    store = ox.Store()
    for i, text in enumerate(TRICKY):
        store.add(ox.Quad(ox.NamedNode(f"http://e/{i}"), ox.NamedNode("http://e/p"),
                          ox.Literal(text), ox.DefaultGraph()))
    store.add(ox.Quad(ox.BlankNode(), ox.NamedNode("http://e/p"), ox.Literal("1", language="en"),
                      ox.DefaultGraph()))
    return store


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_solutions_are_never_undercounted(fmt):
    store = _store()
    query = "SELECT * WHERE { ?s ?p ?o OPTIONAL { ?s <http://e/none> ?x } }"
    body = store.query(query).serialize(format=getattr(ox.QueryResultsFormat, fmt.upper()))
    assert most_rows(body, fmt) >= len(TRICKY) + 1


@pytest.mark.parametrize("fmt", ["turtle", "ntriples", "nquads", "trig", "jsonld", "rdfxml"])
def test_triples_are_never_undercounted(fmt):
    store = _store()
    names = {"ntriples": "N_TRIPLES", "nquads": "N_QUADS", "jsonld": "JSON_LD",
             "rdfxml": "RDF_XML"}
    body = store.query("CONSTRUCT WHERE { ?s ?p ?o }").serialize(
        format=getattr(ox.RdfFormat, names.get(fmt, fmt.upper())))
    assert most_rows(body, fmt) >= len(TRICKY) + 1
