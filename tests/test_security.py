"""Hostile input against the real gunicorn server: server-side request forgery, XML entities,
oversized requests, escaping and security headers, tokens, the per-client bound.

SSRF is tested with a listening socket on loopback that must see no connection.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter
from tests.conftest import Server, start_server, stop_server, wait_for

BASE = "https://w3id.org/kazkor/"
TOKEN = "security-token-3f9a"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JSON = "application/sparql-results+json"
MAX_BODY = 200_000
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
PREFIXES = """PREFIX kko: <https://w3id.org/kazkor/ontology#>
PREFIX kkid: <https://w3id.org/kazkor/id/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""


class Listener:
    """A socket on loopback that records every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    sink = Listener()
    yield sink
    time.sleep(1)  # a late connection would still be counted
    assert sink.connections == 0, "the server connected to the listening socket"
    sink.close()


@pytest.fixture(scope="module")
def guarded(release, release_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """A server with the update token, a small body limit, one request per client at a time,
    a short timeout, one worker (the client bound is per worker); it serves a copy of the
    releases, so its updates stay here."""
    copy = tmp_path_factory.mktemp("guarded") / "releases"
    shutil.copytree(release_dir, copy, symlinks=True)
    srv = start_server(copy, "--workers", "1", log=copy.parent / "server.log", env={
        "KG_UPDATE_TOKEN": TOKEN, "KG_MAX_REQUEST_BYTES": str(MAX_BODY),
        "KG_CLIENT_CONCURRENCY": "1", "KG_QUERY_TIMEOUT": "4"})
    yield srv
    stop_server(srv.process)


def put(server: Server, path: str, **kwargs: object) -> requests.Response:
    return requests.put(server.url + path, timeout=180, **kwargs)  # type: ignore[arg-type]


def _plain_error(r: requests.Response, status: int, *words: str) -> None:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("text/plain")
    for word in words:
        assert word in r.text, r.text


# ---- server-side request forgery ---------------------------------------------------------

@pytest.mark.parametrize("template", [
    "SELECT * WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE<{url}/sparql>{{ ?s ?p ?o }} }}",
    "select * where {{ service silent <{url}/sparql> {{ ?s ?p ?o }} }}",
    "PREFIX e: <{url}/> SELECT * WHERE {{ SERVICE e:sparql {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ BIND(<{url}/s> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE # a comment\n<{url}/sparql> {{ ?s ?p ?o }} }}",
])
def test_service_never_connects(guarded: Server, listener: Listener, template: str):
    r = guarded.get("/sparql", params={"query": template.format(url=listener.url)})
    _plain_error(r, 403, "SERVICE", "KG_ALLOWED_SERVICES")


@pytest.mark.parametrize("update", [
    "LOAD <{url}/data.ttl>",
    "LOAD SILENT <{url}/data.ttl> INTO GRAPH <https://w3id.org/kazkor/graph/links>",
    "load<{url}/data.ttl>",
    "INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}/sparql> {{ ?s ?p ?o }} }}",
])
def test_load_and_service_in_updates_never_connect(guarded: Server, listener: Listener,
                                                   update: str):
    r = guarded.post("/update", data={"update": update.format(url=listener.url)}, headers=AUTH)
    _plain_error(r, 403)


def test_jsonld_remote_context_is_refused_without_fetching(guarded: Server, listener: Listener):
    for context in (f"{listener.url}/context.jsonld", [f"{listener.url}/c.jsonld", {}],
                    {"@import": f"{listener.url}/c.jsonld"}):
        body = json.dumps({"@context": context, "@id": BASE + "id/x", "name": "x"})
        r = put(guarded, "/rdf-graph-store", params={"graph": BASE + "graph/links"}, data=body,
                        headers={**AUTH, "Content-Type": "application/ld+json"})
        _plain_error(r, 400, "@context")


def _asked(server: Server, pattern: str) -> bool:
    query = ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
             "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
             f"ASK {{ GRAPH <{BASE}graph/links> {{ {pattern} }} }}")
    r = server.get("/sparql", params={"query": query}, headers={"Accept": JSON})
    assert r.status_code == 200, r.text
    return r.json()["boolean"]


def test_inline_jsonld_context_is_accepted(guarded: Server):
    body = json.dumps({"@context": {"alt": "http://www.w3.org/2004/02/skos/core#altLabel",
                                    "@language": "en"},
                       "@id": BASE + "id/kazakhstan", "alt": "Kazakhstan (link test)"})
    r = guarded.post("/rdf-graph-store", params={"graph": BASE + "graph/links"}, data=body,
                     headers={**AUTH, "Content-Type": "application/ld+json"})
    assert r.status_code == 200, r.text
    assert _asked(guarded, f'<{BASE}id/kazakhstan> skos:altLabel "Kazakhstan (link test)"@en')


def test_owl_imports_is_never_followed(guarded: Server, listener: Listener):
    turtle = (f"<{BASE}id/kazakhstan> <http://www.w3.org/2002/07/owl#imports> "
              f"<{listener.url}/ontology.ttl> .\n")
    r = guarded.post("/rdf-graph-store", params={"graph": BASE + "graph/links"}, data=turtle,
                     headers={**AUTH, "Content-Type": "text/turtle"})
    assert r.status_code in (200, 422), r.text
    r = guarded.post("/update", headers=AUTH, data={
        "update": f"INSERT DATA {{ GRAPH <{BASE}graph/ontology> {{ <{BASE}ontology> "
                  f"<http://www.w3.org/2002/07/owl#imports> <{listener.url}/o.ttl> }} }}"})
    assert r.status_code in (200, 422), r.text


# ---- XML entities ------------------------------------------------------------------------

def test_xml_external_entities_are_refused(guarded: Server, listener: Listener):
    xxe = f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY ext SYSTEM "{listener.url}/secret">
  <!ENTITY file SYSTEM "file:///etc/passwd"> ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">
  <rdf:Description rdf:about="{BASE}id/kazakhstan"><rdfs:comment>&ext;&file;</rdfs:comment>
  </rdf:Description>
</rdf:RDF>"""
    r = put(guarded, "/rdf-graph-store", params={"graph": BASE + "graph/links"}, data=xxe,
                    headers={**AUTH, "Content-Type": "application/rdf+xml"})
    _plain_error(r, 400, "DOCTYPE")
    assert "root:" not in r.text


def test_entity_expansion_is_refused(guarded: Server):
    laughs = "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    bomb = f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [ <!ENTITY l0 "lol"> {laughs} ]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">
  <rdf:Description rdf:about="{BASE}id/kazakhstan"><rdfs:comment>&l9;</rdfs:comment>
  </rdf:Description>
</rdf:RDF>"""
    r = guarded.post("/rdf-graph-store", params={"graph": BASE + "graph/links"}, data=bomb,
                     headers={**AUTH, "Content-Type": "application/rdf+xml"})
    _plain_error(r, 400, "ENTITY")


def test_plain_rdfxml_upload_is_accepted(guarded: Server):
    rdfxml = f"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#">
  <rdf:Description rdf:about="{BASE}id/kazakhstan"><rdfs:comment xml:lang="en">xml ok</rdfs:comment>
  </rdf:Description>
</rdf:RDF>"""
    r = guarded.post("/rdf-graph-store", params={"graph": BASE + "graph/links"}, data=rdfxml,
                     headers={**AUTH, "Content-Type": "application/rdf+xml"})
    assert r.status_code == 200, r.text
    assert _asked(guarded, f'<{BASE}id/kazakhstan> rdfs:comment "xml ok"@en')


# ---- oversized requests ------------------------------------------------------------------

def test_oversized_bodies_are_refused_with_413(guarded: Server):
    big = b"x" * (MAX_BODY + 1)
    for path, headers in (("/sparql", {"Content-Type": "application/sparql-query"}),
                          ("/sparql", {"Content-Type": "application/x-www-form-urlencoded"}),
                          ("/update", {**AUTH, "Content-Type": "application/sparql-update"})):
        _plain_error(guarded.post(path, data=big, headers=headers), 413, "larger")
    r = put(guarded, "/rdf-graph-store", params={"graph": BASE + "graph/links"}, data=big,
                    headers={**AUTH, "Content-Type": "text/turtle"})
    _plain_error(r, 413, "larger")


def test_oversized_body_announced_but_not_sent_is_refused_at_once(guarded: Server):
    """A client that announces a huge body gets 413 before it sends it."""
    host, port = guarded.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as s:
        s.sendall(b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/sparql-query"
                  b"\r\nContent-Length: 10000000000\r\n\r\nSELECT")
        answer = s.recv(4096).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413"), answer


def test_oversized_query_text_is_refused(guarded: Server):
    query = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 120_000
    _plain_error(guarded.post("/sparql", data=query,
                              headers={"Content-Type": "application/sparql-query"}), 413)


def test_oversized_results_are_cut_and_said_so(server: Server):
    r = server.get("/sparql", headers={"Accept": JSON}, params={
        "query": "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 200000"})
    assert r.status_code in (200, 503), r.text
    if r.status_code == 200:
        assert "KG-Result-Truncated" in r.headers
        assert len(r.json()["results"]["bindings"]) == 100_000


# ---- escaping and headers ----------------------------------------------------------------

def test_script_bearing_labels_and_parameters_are_escaped(ld_server: Server):
    page = ld_server.get("/page/test-script")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
    for path, params in (("/search", {"q": "<script>alert(1)</script>"}),
                         ("/page/<script>alert(1)</script>", {}),
                         ("/browse", {"class": "\"><script>alert(1)</script>"}),
                         ("/", {"lang": "<script>alert(1)</script>"})):
        r = ld_server.get(path, params=params)
        assert r.status_code < 500
        assert "<script>alert(1)" not in r.text, (path, r.text[:300])


@pytest.mark.parametrize("path", ["/page/kazakhstan\x1f", "/page/a\x00b", "/data/x\x08.ttl",
                                  "/page/kazakhstan\x7f", "/page/%EF%BF%BF",
                                  "/id/%7Bx%7D"])
def test_names_that_cannot_be_iris_are_404_not_500(server: Server, path: str):
    r = server.get(path)
    assert r.status_code == 404, (path, r.status_code)


@pytest.mark.parametrize("path", ["/", "/sparql", "/page/kazakhstan", "/search?q=x",
                                  "/browse", "/ontology", "/dumps/", "/page/no-such-thing",
                                  "/no/such/path", "/.well-known/void"])
def test_html_answers_carry_csp_and_nosniff(server: Server, path: str):
    r = server.get(path, headers={"Accept": "text/html"})
    assert r.headers["Content-Type"].startswith("text/html"), (path, r.status_code)
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Content-Type-Options"] == "nosniff"


# ---- tokens ------------------------------------------------------------------------------

def test_writes_need_the_token_and_it_is_never_logged(guarded: Server):
    update = PREFIXES + 'INSERT DATA { kkid:kazakhstan rdfs:comment "token test"@en }'
    wrong = TOKEN[:-1] + "b"
    for headers in ({}, {"Authorization": f"Bearer {wrong}"},
                    {"Authorization": f"Basic {TOKEN}"}, {"Authorization": TOKEN}):
        _plain_error(guarded.post("/update", data={"update": update}, headers=headers), 401,
                     "Bearer")
        r = put(guarded, "/rdf-graph-store", params={"graph": BASE + "graph/links"},
                        data="", headers={**headers, "Content-Type": "text/turtle"})
        assert r.status_code == 401
    r = guarded.post("/update", data={"update": update}, headers=AUTH)
    assert r.status_code == 200, r.text
    # the access log is there (written in batches, within moments)
    wait_for(lambda: '"POST /update HTTP/1.1" 200' in guarded.log.read_text(errors="replace"),
             10, "the access line")
    log = guarded.log.read_text(errors="replace")
    assert TOKEN not in log and wrong not in log and TOKEN[:10] not in log


# ---- per-client bound --------------------------------------------------------------------

class SourceAddress(HTTPAdapter):
    """Requests from another loopback address: another client, as far as the server knows."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


def test_a_client_over_its_bound_gets_429_with_retry_after(guarded: Server):
    busy: dict[str, requests.Response] = {}
    costly = threading.Thread(target=lambda: busy.update(
        r=guarded.get("/sparql", params={"query": ENDLESS})))
    costly.start()
    time.sleep(1)
    refused = guarded.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
    other = requests.Session()
    other.mount("http://", SourceAddress("127.0.0.9"))
    elsewhere = other.get(guarded.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"},
                          headers={"Accept": JSON}, timeout=180)
    costly.join(30)
    _plain_error(refused, 429, "too many requests")
    assert int(refused.headers["Retry-After"]) >= 1
    assert elsewhere.status_code == 200 and elsewhere.json()["boolean"] is True
    assert busy["r"].status_code == 503
    # the bound is released with the answer
    r = guarded.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers={"Accept": JSON})
    assert r.status_code == 200
