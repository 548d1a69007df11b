"""One truth served: after an update, and after a restart, every view shows the same data.

The server starts on an empty release folder, as `make run` does on a fresh checkout: it
builds the release first, then forks its workers. An INSERT and then a DELETE go through
SPARQL Update; after each, and again after a restart, the SPARQL endpoint, the entity pages,
the data documents in all six formats, /id, search, reconciliation, /health, VoID and the
N-Triples dump must all agree.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import SKOS, VOID
from tests.conftest import Server, start_server, stop_server

from kg import formats

BASE = "https://w3id.org/kazkor/"
TOKEN = "one-truth-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ASTANA = URIRef(BASE + "id/astana")
NEW = URIRef(BASE + "id/zzq-test-agreement")
LABEL = Literal("Zzqtest", lang="en")
PREFIXES = f"""PREFIX kko: <{BASE}ontology#>
PREFIX kkid: <{BASE}id/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""
FACTS = """kkid:astana skos:altLabel "Zzqtest"@en .
kkid:zzq-test-agreement a kko:CooperationAgreement ;
    rdfs:label "Zzqtest agreement"@en ;
    kko:party kkid:kazakhstan, kkid:south-korea ;
    dcterms:source <https://w3id.org/kazkor/id/paper/section/abstract> ."""


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty release folder: the server builds the release before it forks."""
    return tmp_path_factory.mktemp("one-truth") / "releases"


def _serve(releases: Path, log: Path) -> Server:
    return start_server(releases, log=log, env={"KG_UPDATE_TOKEN": TOKEN}, startup=600)


@pytest.fixture(scope="module")
def server(releases: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[Server]]:
    """The server, in a list so that a test may restart it."""
    assert not releases.exists()
    holder = [_serve(releases, tmp_path_factory.mktemp("log") / "first.log")]
    yield holder
    stop_server(holder[0].process)


def _restart(holder: list[Server], log: Path) -> Server:
    releases = Path(holder[0].releases)
    stop_server(holder[0].process)
    holder[0] = _serve(releases, log)
    return holder[0]


def _update(server: Server, operation: str) -> None:
    r = server.post("/update", data={"update": f"{PREFIXES}{operation} DATA {{ {FACTS} }}"},
                    headers=AUTH, timeout=600)
    assert r.status_code == 200, r.text


def _ask(server: Server, pattern: str) -> bool:
    r = server.get("/sparql", params={"query": f"{PREFIXES}ASK {{ {pattern} }}"},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return bool(r.json()["boolean"])


def _count(server: Server, query: str) -> int:
    r = server.get("/sparql", params={"query": query},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def _description(server: Server, slug: str, fmt: formats.Format) -> Graph:
    r = server.get(f"/data/{slug}.{fmt.extension}")
    assert r.status_code == 200, r.text
    if fmt.keeps_named_graphs:
        dataset = Dataset()
        dataset.parse(data=r.content, format=fmt.rdflib)
        union = Graph()
        for s, p, o, _g in dataset.quads((None, None, None, None)):
            union.add((s, p, o))
        return union
    return Graph().parse(data=r.content, format=fmt.rdflib)


def _dump(server: Server) -> Graph:
    listing = server.get("/dumps/", headers={"Accept": "application/json"}).json()
    name = next(d["file"] for d in listing["dumps"] if d["format"] == "ntriples")
    body = gzip.decompress(server.get(f"/dumps/{name}").content)
    graph = Graph().parse(io.BytesIO(body), format="nt")
    assert len(graph) == body.count(b"\n")
    return graph


def _void_triples(server: Server) -> int:
    void = Graph().parse(data=server.get("/.well-known/void",
                                         headers={"Accept": "text/turtle"}).content,
                         format="turtle")
    return int(void.value(URIRef(BASE), VOID.triples))


def _check(server: Server, present: bool, gone: bool = False) -> dict[str, int]:
    """Every view shows the facts (``present``) or none does (the deleted agreement is
    ``gone``: 410 with its last memento); returns the counts."""
    absent = 410 if gone else 404
    assert _ask(server, FACTS.replace(" .", " .\n")) is present
    page = server.get("/page/astana")
    assert page.status_code == 200 and ("Zzqtest" in page.text) is present
    for fmt in formats.rdf_formats():
        assert ((ASTANA, SKOS.altLabel, LABEL) in _description(server, "astana", fmt)) \
            is present, fmt.name
    r = server.get("/id/zzq-test-agreement", allow_redirects=False,
                   headers={"Accept": "text/turtle"})
    assert r.status_code == (303 if present else absent)
    new_page = server.get("/page/zzq-test-agreement")
    assert new_page.status_code == (200 if present else absent)
    hits = server.get("/search", params={"q": "Zzqtest"},
                      headers={"Accept": "application/json"}).json()["hits"]
    assert ({h["iri"] for h in hits} >= {str(ASTANA), str(NEW)}) is present
    if not present:
        assert hits == []
    reconciled = server.get("/reconcile", params={"query": "Zzqtest agreement"}).json()
    assert (any(c["id"] == "zzq-test-agreement" for c in reconciled["result"])) is present
    dump = _dump(server)
    assert ((ASTANA, SKOS.altLabel, LABEL) in dump) is present
    assert ((NEW, None, None) in dump) is present
    quads = _count(server, "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }")
    union = _count(server, "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o "
                           "{ GRAPH ?g { ?s ?p ?o } } }")
    described = _count(server, f"SELECT (COUNT(*) AS ?n) {{ SELECT DISTINCT ?s ?p ?o "
                               f"{{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{BASE}graph/meta>) }} }}")
    # a dump cannot hold its own checksum: the dumps leave out the spdx:checksum statements
    # of the version's distributions, which the endpoint has
    checksums = _count(server, "PREFIX spdx: <http://spdx.org/rdf/terms#>\n"
                               "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { "
                               "{ ?d spdx:checksum ?s . ?s ?p ?o } UNION "
                               "{ ?s spdx:checksum ?o BIND(spdx:checksum AS ?p) } } }")
    assert checksums > 0
    health = server.get("/health").json()
    assert health["triples"] == quads
    assert len(dump) == union - checksums
    assert _void_triples(server) == described
    return {"quads": quads, "union": union, "described": described}


def test_updates_and_restarts_keep_every_view_in_agreement(
        server: list[Server], tmp_path: Path) -> None:
    before = _check(server[0], present=False)
    version = server[0].get("/health").json()["version"]
    # what a browser or a mirror holds: asked again with its ETag, it is not sent again...
    held = {path: server[0].get(path).headers["ETag"]
            for path in ("/page/astana", "/data/astana.ttl")}
    for path, etag in held.items():
        assert server[0].get(path, headers={"If-None-Match": etag}).status_code == 304

    _update(server[0], "INSERT")
    inserted = _check(server[0], present=True)
    # ... until an update changes the graph
    for path, etag in held.items():
        r = server[0].get(path, headers={"If-None-Match": etag})
        assert r.status_code == 200 and r.headers["ETag"] != etag and "Zzqtest" in r.text
    assert server[0].get("/health").json()["version"] != version
    # the inserted agreement brings its own facts and those the closure adds to it
    assert all(inserted[k] > before[k] for k in before)
    assert _check(_restart(server, tmp_path / "second.log"), present=True) == inserted

    _update(server[0], "DELETE")
    deleted = _check(server[0], present=False, gone=True)
    assert deleted["described"] == before["described"]
    assert _check(_restart(server, tmp_path / "third.log"), present=False, gone=True) == deleted


def test_a_dump_names_the_version_it_holds(server: list[Server]) -> None:
    version = server[0].get("/health").json()["version"]
    listing = server[0].get("/dumps/", headers={"Accept": "application/json"}).json()
    assert listing["version"] == version
    assert all(version in d["file"] for d in listing["dumps"])
    with pytest.raises(requests.HTTPError):
        server[0].get("/dumps/kazkor-kg-nosuchversion.nt.gz").raise_for_status()
