"""The Flask app, through its test client (the real server is in test_server.py)."""

import pytest

from kg.web import create_app

Q = "SELECT ?s WHERE { ?s a <https://w3id.org/kazkor/ontology#Country> }"


@pytest.fixture(params=["oxigraph", "memory"])
def client(request, config, release):
    return create_app(config.with_(store=request.param)).test_client()


def test_health_reports_release_and_count(client, release):
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json["release"] == release.id
    assert r.json["triples"] == release.triple_count


def test_get_post_form_and_direct_agree(client):
    accept = {"Accept": "application/sparql-results+json"}
    answers = [
        client.get("/sparql", query_string={"query": Q}, headers=accept),
        client.post("/sparql", data={"query": Q}, headers=accept),
        client.post("/sparql", data=Q, content_type="application/sparql-query", headers=accept),
    ]
    values = []
    for r in answers:
        assert r.status_code == 200
        assert r.mimetype == "application/sparql-results+json"
        values.append(sorted(b["s"]["value"] for b in r.json["results"]["bindings"]))
    assert values[0] == values[1] == values[2]
    assert "https://w3id.org/kazkor/id/kazakhstan" in values[0]


def test_construct_as_turtle(client):
    r = client.get("/sparql", query_string={
        "query": "CONSTRUCT WHERE { ?s a <https://w3id.org/kazkor/ontology#Country> }"},
        headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.mimetype == "text/turtle"
    assert b"kazakhstan" in r.data


def test_malformed_query_is_400_with_parser_message(client):
    r = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p }"})
    assert r.status_code == 400
    assert r.mimetype == "text/plain"
    assert "malformed query" in r.get_data(as_text=True)


def test_update_is_refused_when_not_enabled(client):
    r = client.post("/sparql", data={"update": "CLEAR ALL"})
    assert r.status_code == 403
