"""The VoID/DCAT description at /.well-known/void against the real server."""

from __future__ import annotations

import hashlib

import pytest
from conftest import Server
from rdflib import DCAT, DCTERMS, OWL, RDF, RDFS, SKOS, VOID, XSD, Graph, Literal, Namespace, URIRef

BASE = "https://w3id.org/kazkor/"
DATASET = URIRef(BASE)


@pytest.fixture(scope="module")
def void(ld_server: Server) -> Graph:
    r = ld_server.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/turtle")
    return Graph().parse(data=r.text, format="turtle")


def test_describes_the_dataset(void: Graph) -> None:
    assert (DATASET, RDF.type, VOID.Dataset) in void
    assert (DATASET, RDF.type, DCAT.Dataset) in void
    for prop in (DCTERMS.title, DCTERMS.description, DCTERMS.creator, DCTERMS.publisher,
                 DCTERMS.issued, DCTERMS.modified, DCTERMS.hasVersion):
        assert void.value(DATASET, prop) is not None, prop
    assert (DATASET, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")) \
        in void
    assert (DATASET, VOID.uriSpace, Literal(BASE + "id/")) in void
    assert (DATASET, VOID.exampleResource, URIRef(BASE + "id/kazakhstan")) in void


def test_service_locations_are_on_the_serving_host(void: Graph, ld_server: Server) -> None:
    endpoint = void.value(DATASET, VOID.sparqlEndpoint)
    assert str(endpoint) == ld_server.url + "/sparql"
    dumps = sorted(str(d) for d in void.objects(DATASET, VOID.dataDump))
    assert len(dumps) == 6
    for url in dumps:
        assert url.startswith(ld_server.url + "/dumps/kazkor-kg-")
        r = ld_server.get(url[len(ld_server.url):])
        assert r.status_code == 200
    distribution = next(void.objects(DATASET, DCAT.distribution))
    assert void.value(distribution, DCAT.mediaType) is not None


def test_statistics_agree_with_the_endpoint(void: Graph, ld_server: Server) -> None:
    def ask(query: str) -> int:
        r = ld_server.get("/sparql", params={"query": query},
                          headers={"Accept": "application/sparql-results+json"})
        return int(r.json()["results"]["bindings"][0]["n"]["value"])

    graphs = "FILTER (?g != <https://w3id.org/kazkor/graph/meta>)"
    triples = ask("SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE "
                  f"{{ GRAPH ?g {{ ?s ?p ?o }} {graphs} }} }}")
    assert int(void.value(DATASET, VOID.triples)) == triples
    entities = ask("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
                   f"{graphs} FILTER STRSTARTS(STR(?s), '{BASE}id/') }}")
    assert int(void.value(DATASET, VOID.entities)) == entities
    subjects = ask("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE "
                   f"{{ GRAPH ?g {{ ?s ?p ?o }} {graphs} }}")
    assert int(void.value(DATASET, VOID.distinctSubjects)) == subjects
    assert int(void.value(DATASET, VOID.distinctObjects)) > 0
    partitions = {void.value(p, VOID["class"]): int(void.value(p, VOID.entities))
                  for p in void.objects(DATASET, VOID.classPartition)}
    assert partitions[URIRef(BASE + "ontology#Country")] >= 2
    properties = {void.value(p, VOID.property): int(void.value(p, VOID.triples))
                  for p in void.objects(DATASET, VOID.propertyPartition)}
    assert properties[RDF.type] > 0


def _links_to(server: Server, uri_space: str, predicate: URIRef) -> int:
    query = (f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{BASE}graph/links> {{ ?s <{predicate}> ?o }}"
             f" FILTER(STRSTARTS(STR(?o), \"{uri_space}\")) }}")
    r = server.get("/sparql", params={"query": query}, headers={"Accept": "text/csv"})
    return int(r.text.splitlines()[1])


def test_linksets_one_per_target_dataset(void: Graph, ld_server: Server) -> None:
    linksets = {str(void.value(ls, DCTERMS.title)): ls
                for ls in void.subjects(RDF.type, VOID.Linkset)}
    assert set(linksets) >= {"Links to Wikidata", "Links to GeoNames", "Links to ROR",
                             "Links to DBpedia"}
    wikidata = linksets["Links to Wikidata"]
    assert (wikidata, VOID.subjectsTarget, DATASET) in void
    assert (wikidata, VOID.objectsTarget, URIRef("http://www.wikidata.org/")) in void
    assert (wikidata, VOID.linkPredicate, OWL.sameAs) in void
    # the linkset counts the links only, not the evidence that also names the targets
    links = sum(_links_to(ld_server, "http://www.wikidata.org/entity/", p)
                for p in (OWL.sameAs, SKOS.exactMatch, SKOS.closeMatch))
    assert int(void.value(wikidata, VOID.triples)) == links > 0
    assert (linksets["Links to Wikidata"], VOID.linkPredicate, SKOS.exactMatch) in void
    dump = str(void.value(wikidata, VOID.dataDump))
    assert dump.startswith(ld_server.url + "/dumps/") and dump.endswith("-links.nt.gz")
    assert ld_server.get(dump[len(ld_server.url):]).status_code == 200


def test_named_graphs_are_subsets(void: Graph) -> None:
    subsets = set(void.objects(DATASET, VOID.subset))
    for name in ("ontology", "data", "links", "inferred", "meta"):
        graph = URIRef(f"{BASE}graph/{name}")
        assert graph in subsets
        assert void.value(graph, VOID.triples) is not None


@pytest.mark.parametrize(("accept", "parser"), [("application/ld+json", "json-ld"),
                                                ("application/n-triples", "nt"),
                                                ("application/rdf+xml", "xml")])
def test_void_in_other_formats(ld_server: Server, accept: str, parser: str) -> None:
    r = ld_server.get("/.well-known/void", headers={"Accept": accept})
    graph = Graph().parse(data=r.content, format=parser)
    assert (DATASET, RDF.type, VOID.Dataset) in graph


def test_void_for_browsers(ld_server: Server) -> None:
    r = ld_server.get("/.well-known/void", headers={"Accept": "text/html,*/*;q=0.8"})
    assert r.headers["Content-Type"].startswith("text/html")
    assert "Links to Wikidata" in r.text and "void:sparqlEndpoint" in r.text
    assert 'href="/.well-known/void"' in ld_server.get("/").text


def test_validation_report_is_linked_and_served(server: Server) -> None:
    """The real graph's release, whose report has the paper's inconsistencies as warnings."""
    r = server.get("/.well-known/void", headers={"Accept": "text/turtle"})
    void = Graph().parse(data=r.text, format="turtle")
    dqv = "http://www.w3.org/ns/dqv#"
    report = URIRef(BASE + "validation")
    assert (DATASET, URIRef(dqv + "hasQualityAnnotation"), report) in void
    assert (report, URIRef("http://www.w3.org/ns/oa#hasTarget"), DATASET) in void
    summary = str(void.value(report, RDFS.comment))
    location = server.url + "/validation"
    assert (DATASET, RDFS.seeAlso, URIRef(location)) in void
    r = server.get("/validation", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    shacl = Graph().parse(data=r.text, format="turtle")
    sh = "http://www.w3.org/ns/shacl#"
    warnings = len(set(shacl.subjects(URIRef(sh + "resultSeverity"), URIRef(sh + "Warning"))))
    violations = len(set(shacl.subjects(URIRef(sh + "resultSeverity"),
                                        URIRef(sh + "Violation"))))
    assert summary.startswith(f"{violations} violation(s), {warnings} warning(s)")
    assert warnings > 0


def test_each_distribution_has_the_sha256_of_its_file(void: Graph, ld_server: Server) -> None:
    """DCAT's spdx:checksum of every distribution is the SHA-256 of the file served."""
    spdx = Namespace("http://spdx.org/rdf/terms#")
    distributions = list(void.objects(DATASET, DCAT.distribution))
    assert len(distributions) == 6
    for distribution in distributions:
        checksum = void.value(distribution, spdx.checksum)
        assert (checksum, RDF.type, spdx.Checksum) in void
        assert void.value(checksum, spdx.algorithm) == spdx.checksumAlgorithm_sha256
        value = void.value(checksum, spdx.checksumValue)
        assert value.datatype == XSD.hexBinary
        url = str(void.value(distribution, DCAT.downloadURL))
        body = ld_server.get(url[len(ld_server.url):]).content
        assert str(value) == hashlib.sha256(body).hexdigest(), url


def test_the_meta_graph_counts_its_own_triples(void: Graph, ld_server: Server) -> None:
    meta = URIRef(BASE + "graph/meta")
    r = ld_server.get("/sparql", params={"query": f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{meta}> "
                                                  "{ ?s ?p ?o } }"},
                      headers={"Accept": "application/sparql-results+json"})
    assert int(void.value(meta, VOID.triples)) == int(
        r.json()["results"]["bindings"][0]["n"]["value"])
