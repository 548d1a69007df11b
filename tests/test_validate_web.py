"""The validation report served at /validation: a page for people, RDF and JSON for machines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import RDF, SH, SKOS, Graph, Namespace

from kg.config import Config
from kg.pipeline.build import build
from kg.pipeline.load import load_sources
from kg.pipeline.validate import validate_sources
from kg.web import create_app

ROOT = Path(__file__).resolve().parents[1]
KKO = Namespace("https://w3id.org/kazkor/ontology#")
KKID = Namespace("https://w3id.org/kazkor/id/")


@pytest.fixture(scope="module")
def client(config, release):
    return create_app(config.with_(store="memory")).test_client()


def test_the_page_says_whether_the_graph_conforms(client, release):
    r = client.get("/validation", headers={"Accept": "text/html,application/xhtml+xml"})
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert "Validation report" in page and release.id in page
    assert "The graph conforms to the shapes" in page
    assert 'href="?format=turtle"' in page
    assert r.headers["Vary"] == "Accept"


@pytest.mark.parametrize(("accept", "media_type", "rdflib_format"), [
    ("text/turtle", "text/turtle", "turtle"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("application/n-triples", "application/n-triples", "nt"),
    ("application/rdf+xml;q=0.9, text/html;q=0.5", "application/rdf+xml", "xml"),
])
def test_the_shacl_report_by_content_negotiation(client, accept, media_type, rdflib_format):
    r = client.get("/validation", headers={"Accept": accept})
    assert r.status_code == 200 and r.mimetype == media_type
    graph = Graph().parse(data=r.data, format=rdflib_format)
    [report] = graph.subjects(RDF.type, SH.ValidationReport)
    # SHACL §3.6.1: sh:conforms is true only without any result (the paper's warnings count)
    has_results = (report, SH.result, None) in graph
    assert graph.value(report, SH.conforms).toPython() is not has_results


def test_format_parameter_and_json(client):
    r = client.get("/validation?format=report-json")
    assert r.status_code == 200 and r.mimetype == "application/json"
    assert r.json["violations"] == 0 and "files" in r.json
    r = client.get("/validation?format=turtle", headers={"Accept": "text/html"})
    assert r.mimetype == "text/turtle"


def test_unknown_format_and_unacceptable_type_are_client_errors(client):
    r = client.get("/validation?format=pdf")
    assert r.status_code == 400 and "unknown format 'pdf'" in r.get_data(as_text=True)
    r = client.get("/validation", headers={"Accept": "image/png"})
    assert r.status_code == 406 and "text/turtle" in r.get_data(as_text=True)


def test_warnings_are_published_grouped_by_file_and_subject(project: Path, tmp_path: Path):
    """A release with warnings (a shape of severity sh:Warning added to a copy) shows them."""
    (project / "shapes" / "extra-warning.ttl").write_text("""
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix kko: <https://w3id.org/kazkor/ontology#> .
@prefix ex: <https://example.org/shapes#> .
ex:CountryAltLabel a sh:NodeShape ;
    rdfs:label "Country alternative names"@en ;
    rdfs:comment "A test shape."@en ;
    sh:targetClass kko:Country ;
    sh:property [ sh:path skos:altLabel ; sh:name "alternative name"@en ; sh:minCount 1 ;
                  sh:severity sh:Warning ;
                  sh:message "A country should have an alternative name."@en ] .
""", encoding="utf-8")
    config = Config(root=project, release_dir=tmp_path / "releases", testing=True)
    release = build(config).release
    # a warning per country without an alternative name, beside the paper's own warnings
    baseline = validate_sources(Config(root=ROOT)).summary()["warnings"]
    data = load_sources(Config(root=ROOT)).union()
    countries = set(data.subjects(RDF.type, KKO.Country))
    unnamed = [c for c in countries if (c, SKOS.altLabel, None) not in data]
    assert unnamed
    assert (release.report.validation["after_reasoning"]["warnings"]
            == baseline + len(unnamed))
    client = create_app(config.with_(store="memory")).test_client()
    page = client.get("/validation", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "data/ttl/places.ttl" in page
    assert page.count("A country should have an alternative name.") == len(unnamed)
    for country in unnamed:
        assert f'href="/id/{country.removeprefix(str(KKID))}"' in page
    details = json.loads(client.get("/validation?format=report-json").data)
    [places] = [g for g in details["files"] if g["file"] == "data/ttl/places.ttl"]
    assert sorted(s["focus_iri"] for s in places["subjects"]) == sorted(map(str, unnamed))


def test_the_real_server_serves_the_report(server):
    r = server.get("/validation", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    assert "ValidationReport" in r.text
    r = server.get("/validation", headers={"Accept": "text/html"})
    assert r.status_code == 200 and "Validation report" in r.text
