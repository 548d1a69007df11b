"""SPARQL Update and the Graph Store Protocol, against the real gunicorn server.

The server here has an update token and serves a copy of the release folder, so
that its updates never reach the other tests' release.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests
from rdflib import Graph, URIRef
from tests.conftest import Server, start_server, stop_server

BASE = "https://w3id.org/kazkor/"
GRAPH = BASE + "graph/"
TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = "application/sparql-results+json"
PREFIXES = """PREFIX kko: <https://w3id.org/kazkor/ontology#>
PREFIX kkid: <https://w3id.org/kazkor/id/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""
NEW_AGREEMENT = PREFIXES + """INSERT DATA {
  kkid:test-agreement-2024 a kko:CooperationAgreement ;
    rdfs:label "Test agreement"@en ;
    kko:party kkid:kazakhstan, kkid:south-korea ;
    dcterms:source <https://w3id.org/kazkor/id/paper/section/abstract> .
}"""


@pytest.fixture(scope="module")
def updatable(release, release_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    copy = tmp_path_factory.mktemp("updatable") / "releases"
    shutil.copytree(release_dir, copy, symlinks=True)
    log = copy.parent / "server.log"
    srv = start_server(copy, log=log, env={"KG_UPDATE_TOKEN": TOKEN})
    yield srv, copy
    stop_server(srv.process)


def ask(server: Server, query: str) -> bool:
    r = server.get("/sparql", params={"query": PREFIXES + query}, headers={"Accept": JSON})
    assert r.status_code == 200, r.text
    return bool(r.json()["boolean"])


def test_updates_need_the_token(updatable):
    server, _ = updatable
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        r = server.post("/update", data={"update": NEW_AGREEMENT}, headers=headers)
        assert r.status_code == 401 and "Bearer" in r.text
    assert not ask(server, "ASK { kkid:test-agreement-2024 ?p ?o }")


def test_update_is_applied_reasoned_and_survives_a_restart(updatable, tmp_path):
    server, releases = updatable
    etag_before = server.get("/sparql", params={"query": "ASK {}"}).headers["ETag"]
    r = server.post("/sparql", data={"update": NEW_AGREEMENT}, headers=AUTH)
    assert r.status_code == 200, r.text
    # the same request now names another state of the data
    assert server.get("/sparql", params={"query": "ASK {}"}).headers["ETag"] != etag_before
    assert ask(server, f"ASK {{ GRAPH <{GRAPH}data> {{ kkid:test-agreement-2024 a "
                       "kko:CooperationAgreement } }")
    # the inferred graph was recomputed: the new agreement is a BilateralDocument there
    assert ask(server, f"ASK {{ GRAPH <{GRAPH}inferred> {{ kkid:test-agreement-2024 a "
                       "kko:BilateralDocument } }")
    # a new server process reads what the acknowledged update left on disk
    restarted = start_server(releases, log=tmp_path / "restart.log")
    try:
        assert ask(restarted, "ASK { kkid:test-agreement-2024 a kko:BilateralDocument }")
    finally:
        stop_server(restarted.process)


def _report(server: Server) -> dict:
    r = server.get("/validation", params={"format": "report-json"})
    assert r.status_code == 200, r.text
    return r.json()


def test_validation_report_follows_the_updates(updatable):
    """/validation serves the report of the data as it is after the last update."""
    server, _ = updatable
    before = _report(server)
    figure = PREFIXES + """INSERT DATA {
  <https://w3id.org/kazkor/id/stated/test-figure-2018> a kko:QuantitativeStatement ;
    rdfs:label "A test figure for 2018"@en ;
    kko:value 7 ;
    kko:unit kko:unit-persons ;
    kko:qualifier <https://w3id.org/kazkor/id/qualifier/exactly> ;
    kko:refersTo <https://w3id.org/kazkor/id/dataset/table-1/obs/2018> ;
    kko:quotation "there are 7 Koreans"@en ;
    dcterms:source <https://w3id.org/kazkor/id/paper/section/korean-diaspora> .
}"""
    r = server.post("/update", data={"update": figure}, headers=AUTH)
    assert r.status_code == 200, r.text
    after = _report(server)
    assert after["warnings"] == before["warnings"] + 1
    assert "there are 7 Koreans" in r.text or "there are 7 Koreans" in str(after)
    page = server.get("/validation", headers={"Accept": "text/html"}).text
    assert "update(s)" in page and "A test figure for 2018" in page


def test_update_breaking_the_shapes_is_rejected_with_the_report(updatable):
    server, _ = updatable
    broken = PREFIXES + "INSERT DATA { kkid:half-a-declaration a kko:Declaration ; " \
                        "kko:party kkid:kazakhstan }"
    r = server.post("/update", data=broken.encode(),
                    headers={**AUTH, "Content-Type": "application/sparql-update"})
    assert r.status_code == 422
    assert "needs two parties" in r.text and "half-a-declaration" in r.text
    assert not ask(server, "ASK { kkid:half-a-declaration ?p ?o }")


def test_update_errors(updatable):
    server, _ = updatable
    r = server.post("/update", data={"update": "INSERT DATA { <a> }"}, headers=AUTH)
    assert r.status_code == 400 and "malformed update" in r.text
    r = server.post("/update", headers=AUTH, data={
        "update": f"INSERT DATA {{ GRAPH <{GRAPH}inferred> {{ <{BASE}id/x> a <{BASE}id/y> }} }}"})
    assert r.status_code == 400 and "inferred" in r.text
    r = server.post("/update", data={"update": "LOAD <http://example.org/data.ttl>"},
                    headers=AUTH)
    assert r.status_code == 403 and "LOAD" in r.text
    assert server.get("/update").status_code == 405
    r = server.post("/update", data={"update": "DROP GRAPH <https://example.org/nothing>"},
                    headers=AUTH)
    assert r.status_code == 400 and "does not exist" in r.text


def test_description_lists_update_when_enabled(updatable):
    server, _ = updatable
    r = server.get("/sparql", headers={"Accept": "application/n-triples"})
    assert "http://www.w3.org/ns/sparql-service-description#SPARQL11Update" in r.text


# ---- Graph Store Protocol -----------------------------------------------------------------------

def test_graph_store_reads(updatable):
    server, _ = updatable
    r = server.get("/rdf-graph-store", params={"graph": GRAPH + "ontology"},
                   headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    ontology = Graph().parse(data=r.text, format="turtle")
    assert (URIRef("https://w3id.org/kazkor/ontology#Country"), None, None) in ontology
    everything = server.get("/rdf-graph-store?default", headers={"Accept": "application/n-triples"})
    assert everything.status_code == 200 and len(everything.text.splitlines()) > len(ontology)
    missing = server.get("/rdf-graph-store", params={"graph": BASE + "graph/nothing"})
    assert missing.status_code == 404
    assert server.get("/rdf-graph-store").status_code == 400


def test_graph_store_writes_need_the_token(updatable):
    server, _ = updatable
    body = f"<{BASE}id/kazakhstan> <http://www.w3.org/2002/07/owl#sameAs> " \
           "<http://www.wikidata.org/entity/Q232> .\n"
    target = {"graph": GRAPH + "links"}
    r = requests.put(server.url + "/rdf-graph-store", params=target, data=body, timeout=180,
                     headers={"Content-Type": "application/n-triples"})
    assert r.status_code == 401
    r = requests.put(server.url + "/rdf-graph-store", params=target, data=body, timeout=180,
                     headers={**AUTH, "Content-Type": "application/n-triples"})
    assert r.status_code == 200, r.text
    links = server.get("/rdf-graph-store", params=target,
                       headers={"Accept": "application/n-triples"})
    assert "Q232" in links.text
    r = requests.delete(server.url + "/rdf-graph-store", params=target, headers=AUTH, timeout=180)
    assert r.status_code == 200
    assert server.get("/rdf-graph-store", params=target).status_code == 404
    r = requests.delete(server.url + "/rdf-graph-store", params=target, headers=AUTH, timeout=180)
    assert r.status_code == 404
