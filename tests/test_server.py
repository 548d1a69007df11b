"""The real server process (gunicorn) answering over HTTP."""

import requests


def test_health(server, release):
    r = server.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "release": release.id, "version": release.id,
                        "generation": 0, "triples": release.triple_count, "store": "oxigraph"}


def test_select_over_http(server):
    r = server.get("/sparql", params={"query": "SELECT * WHERE {?s ?p ?o} LIMIT 3"},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/sparql-results+json")
    assert len(r.json()["results"]["bindings"]) == 3


def test_inference_visible_through_the_endpoint(server):
    q = ("PREFIX kko: <https://w3id.org/kazkor/ontology#> "
         "SELECT ?d WHERE { ?d a kko:BilateralDocument }")
    r = server.post("/sparql", data={"query": q},
                    headers={"Accept": "application/sparql-results+json"})
    found = {b["d"]["value"] for b in r.json()["results"]["bindings"]}
    assert "https://w3id.org/kazkor/id/agreement-cultural-scientific-technological-1995" in found
    # asserted only as a CooperationAgreement: found for the general class through reasoning
    q_asserted = ("ASK { GRAPH <https://w3id.org/kazkor/graph/data> { "
                  "<https://w3id.org/kazkor/id/agreement-cultural-scientific-technological-1995> "
                  "a <https://w3id.org/kazkor/ontology#BilateralDocument> } }")
    r = server.get("/sparql", params={"query": q_asserted},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.json()["boolean"] is False


def test_malformed_query_is_400_never_500(server):
    r = server.get("/sparql", params={"query": "SELECT ?x WHERE { ?x"})
    assert r.status_code == 400
    assert "malformed query" in r.text


def test_server_keeps_answering_after_errors(server):
    for _ in range(5):
        server.get("/sparql", params={"query": "nonsense"})
    assert requests.get(server.url + "/health", timeout=5).status_code == 200
