"""Dereferencing against the real server: /id 303s by Accept, /data in every RDF format,
what a description holds, and 404 pages that offer a search."""

from __future__ import annotations

import re

import pytest
from conftest import Server
from rdflib import DCTERMS, RDF, RDFS, Dataset, Graph, Literal, URIRef

BASE = "https://w3id.org/kazkor/"
KKO = BASE + "ontology#"
KAZAKHSTAN = URIRef(BASE + "id/kazakhstan")


@pytest.mark.parametrize(("accept", "target"), [
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "/page/kazakhstan"),
    ("text/turtle", "/data/kazakhstan"),
    ("application/ld+json", "/data/kazakhstan"),
    ("application/rdf+xml;q=0.9, text/html;q=0.5", "/data/kazakhstan"),
])
def test_id_answers_303_by_accept(ld_server: Server, accept: str, target: str) -> None:
    r = ld_server.get("/id/kazakhstan", headers={"Accept": accept}, allow_redirects=False)
    assert r.status_code == 303
    assert r.headers["Location"].endswith(target)
    assert "Accept" in r.headers["Vary"]


def test_id_with_slashes_in_the_path(ld_server: Server) -> None:
    path = "dataset/test-census/obs/1989-koreans"
    r = ld_server.get(f"/id/{path}", headers={"Accept": "text/html"}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/page/{path}")
    r = ld_server.get(f"/id/{path}", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    graph = Graph().parse(data=r.text, format="turtle")
    assert (URIRef(BASE + "id/" + path), URIRef("https://w3id.org/kazkor/test#population"),
            Literal(103315)) in graph


@pytest.mark.parametrize(("suffix", "media_type", "parser"), [
    ("ttl", "text/turtle", "turtle"),
    ("nt", "application/n-triples", "nt"),
    ("jsonld", "application/ld+json", "json-ld"),
    ("rdf", "application/rdf+xml", "xml"),
])
def test_data_suffixes_give_each_format(ld_server: Server, suffix: str, media_type: str,
                                        parser: str) -> None:
    r = ld_server.get(f"/data/kazakhstan.{suffix}")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith(media_type)
    graph = Graph().parse(data=r.content, format=parser)
    assert (KAZAKHSTAN, RDFS.label, Literal("Republic of Kazakhstan", lang="en")) in graph


@pytest.mark.parametrize("entity", ["kazakhstan", "astana", "dataset/table-7", "paper"])
def test_every_data_format_says_the_same(ld_server: Server, entity: str) -> None:
    """Oxigraph writes the documents and our writer compacts the JSON-LD: every format of
    one description parses to the same graph (blank nodes up to isomorphism), and the
    dataset formats keep each triple in its named graph."""
    from rdflib.compare import isomorphic

    graphs = {}
    for suffix, parser in (("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld"),
                           ("rdf", "xml")):
        r = ld_server.get(f"/data/{entity}.{suffix}")
        assert r.status_code == 200, suffix
        graphs[suffix] = Graph().parse(data=r.content, format=parser)
    assert len(graphs["nt"]) > 50
    for suffix, graph in graphs.items():
        assert isomorphic(graph, graphs["nt"]), suffix
    datasets = {}
    for suffix, parser in (("trig", "trig"), ("nq", "nquads")):
        datasets[suffix] = Dataset().parse(data=ld_server.get(f"/data/{entity}.{suffix}").content,
                                           format=parser)
    named = {str(g.identifier): len(g) for g in datasets["nq"].graphs() if len(g)}
    assert "https://w3id.org/kazkor/graph/data" in named
    assert {str(g.identifier): len(g) for g in datasets["trig"].graphs() if len(g)} == named


def test_data_negotiates_and_refuses_what_it_cannot_offer(ld_server: Server) -> None:
    r = ld_server.get("/data/kazakhstan", headers={"Accept": "application/n-triples"})
    assert r.headers["Content-Type"].startswith("application/n-triples")
    r = ld_server.get("/data/kazakhstan", headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert "text/turtle" in r.text


def test_description_holds_outgoing_incoming_labels_and_sources(ld_server: Server) -> None:
    graph = Graph().parse(data=ld_server.get("/data/kazakhstan.ttl").text, format="turtle")
    declaration = URIRef(BASE + "id/declaration-1995")
    # its own triples, in every language
    assert {o.language for o in graph.objects(KAZAKHSTAN, RDFS.label)} >= {"en", "ru", "kk", "ko"}
    # the triples pointing to it
    assert (declaration, URIRef(KKO + "party"), KAZAKHSTAN) in graph
    # labels of what it mentions: the document that points to it, the property, the class
    assert (declaration, RDFS.label, None) in graph
    assert (URIRef(KKO + "party"), RDFS.label, Literal("party", lang="en")) in graph
    assert (URIRef(KKO + "Country"), RDFS.label, None) in graph
    # provenance: the source and the work it is part of
    abstract = URIRef(BASE + "id/paper/section/abstract")
    assert (KAZAKHSTAN, DCTERMS.source, abstract) in graph
    assert (abstract, DCTERMS.isPartOf, URIRef(BASE + "id/paper")) in graph


def test_description_keeps_inferred_triples_in_their_graph(ld_server: Server) -> None:
    dataset = Dataset()
    dataset.parse(data=ld_server.get("/data/kazakhstan.nq").text, format="nquads")
    inferred = dataset.graph(URIRef(BASE + "graph/inferred"))
    data = dataset.graph(URIRef(BASE + "graph/data"))
    assert (KAZAKHSTAN, RDF.type, URIRef(KKO + "Place")) in inferred
    assert (KAZAKHSTAN, RDF.type, URIRef(KKO + "Country")) in data
    assert (KAZAKHSTAN, RDF.type, URIRef(KKO + "Place")) not in data


@pytest.mark.parametrize(("path", "headers", "vary"), [
    ("/data/kazakhstan.ttl", {}, "Accept"),
    ("/data/kazakhstan", {"Accept": "application/n-triples"}, "Accept"),
    ("/page/kazakhstan", {"Accept-Language": "ru"}, "Accept-Language"),
])
def test_a_document_held_is_not_sent_again(ld_server: Server, path: str,
                                           headers: dict[str, str], vary: str) -> None:
    """A page or data document has an ETag; a browser or a mirror that asks again with it
    (If-None-Match) gets 304 and no body; asked again without it, the same bytes."""
    first = ld_server.get(path, headers=headers)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    again = ld_server.get(path, headers=headers)
    assert again.headers["ETag"] == etag and again.content == first.content
    held = ld_server.get(path, headers={**headers, "If-None-Match": etag})
    assert held.status_code == 304 and held.content == b""
    assert held.headers["ETag"] == etag and vary in held.headers["Vary"]


def test_each_format_and_language_has_its_own_etag(ld_server: Server) -> None:
    turtle = ld_server.get("/data/kazakhstan.ttl")
    triples = ld_server.get("/data/kazakhstan.nt",
                            headers={"If-None-Match": turtle.headers["ETag"]})
    assert triples.status_code == 200 and triples.headers["ETag"] != turtle.headers["ETag"]
    english = ld_server.get("/page/kazakhstan", headers={"Accept-Language": "en"})
    russian = ld_server.get("/page/kazakhstan", headers={
        "Accept-Language": "ru", "If-None-Match": english.headers["ETag"]})
    assert russian.status_code == 200 and russian.headers["ETag"] != english.headers["ETag"]
    assert 'lang="ru"' in russian.text and 'lang="ru"' not in english.text[:200]


def test_unknown_iri_is_a_404_page_that_offers_a_search(ld_server: Server) -> None:
    for path in ("/id/no-such-thing", "/page/no-such-thing", "/data/no-such-thing.ttl"):
        r = ld_server.get(path, headers={"Accept": "text/html"}, allow_redirects=False)
        assert r.status_code == 404, path
        assert r.headers["Content-Type"].startswith("text/html")
        assert 'action="/search"' in r.text
        assert 'value="no-such-thing"' in r.text


def test_invalid_path_is_a_client_error(ld_server: Server) -> None:
    r = ld_server.get("/page/a%3Eb%20c")
    assert r.status_code == 404
    assert "not a valid name" in r.text


def test_pages_link_locally_whatever_the_host(ld_server: Server) -> None:
    html = ld_server.get("/page/kazakhstan").text
    assert 'href="/page/declaration-1995"' in html
    assert 'href="/ontology#Country"' in html
    assert 'href="https://w3id.org/kazkor/id/' not in html


def test_id_keeps_the_language_switch(ld_server: Server) -> None:
    r = ld_server.get("/id/kazakhstan?lang=ru", headers={"Accept": "text/html"},
                      allow_redirects=False)
    assert r.headers["Location"].endswith("/page/kazakhstan?lang=ru")
    assert ld_server.get("/id/kazakhstan?lang=ru").text.count("Республика Казахстан") >= 2


def test_the_iri_folders_lead_to_the_browse_page(ld_server: Server) -> None:
    for folder in ("/id/", "/page/", "/data/"):
        r = ld_server.get(folder, allow_redirects=False)
        assert r.status_code == 303 and r.headers["Location"].endswith("/browse")


def test_jsonld_is_compacted_with_the_published_context(ld_server: Server) -> None:
    """Issue 14: a JavaScript developer gets ``rdfs:label`` keys, not full IRIs; the context
    is served at a stable address and each document embeds it (readable offline)."""
    context = ld_server.get("/context.jsonld")
    assert context.status_code == 200
    assert context.headers["Content-Type"].startswith("application/ld+json")
    prefixes = context.json()["@context"]
    assert prefixes["kko"] == "https://w3id.org/kazkor/ontology#"
    assert prefixes["rdfs"] == "http://www.w3.org/2000/01/rdf-schema#"
    document = ld_server.get("/data/kazakhstan.jsonld").json()
    assert document["@context"] == prefixes
    nodes = document.get("@graph", [document])
    [kazakhstan] = [n for n in nodes if n.get("@id") == "kkid:kazakhstan"]
    assert "rdfs:label" in kazakhstan and "kko:Country" in kazakhstan["@type"]
    # an IRI of a namespace of the context is never written whole
    assert not any(k.startswith(tuple(prefixes.values())) for k in kazakhstan)
    listing = ld_server.get("/dumps/", headers={"Accept": "application/json"}).json()
    assert ld_server.get("/dumps/" + listing["context"]).json() == context.json()


@pytest.mark.parametrize("path", ["/data/kazakhstan.ttl", "/data/kazakhstan.trig",
                                  "/data/kazakhstan.rdf", "/data/dataset/table-7.ttl",
                                  "/.well-known/void", "/ontology.ttl", "/ontology.rdf",
                                  "/validation?format=turtle"])
def test_documents_use_the_graphs_prefixes(ld_server: Server, path: str) -> None:
    """Every RDF document binds the prefixes the sources declare and the usual ones: no
    generated ``ns1:``."""
    r = ld_server.get(path, headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    declared = set(re.findall(r"@prefix ([\w-]*):|xmlns:([\w-]+)=", r.text))
    names = {a or b for a, b in declared}
    assert names and not {n for n in names if re.fullmatch(r"ns\d+", n)}, names
    if path.startswith("/data/kazakhstan"):
        assert {"sdmx-dimension", "skosxl"} <= names
    if path == "/.well-known/void":
        assert {"sd", "dqv", "oa"} <= names
