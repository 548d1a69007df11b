"""The SPARQL 1.1 Protocol over HTTP, against the real gunicorn server.

One server with small limits (a 5 s timeout, 50 result rows) serves the real
release; every test talks to it as a client would.
"""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from pathlib import Path

import pytest
import requests
from rdflib import Dataset, Graph, Namespace, URIRef
from tests.conftest import Server, start_server, stop_server

from kg import formats

BASE = "https://w3id.org/kazkor/"
GRAPH = BASE + "graph/"
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
JSON = "application/sparql-results+json"
COUNTRIES = ("PREFIX kko: <https://w3id.org/kazkor/ontology#> "
             "SELECT ?c WHERE { ?c a kko:Country } ORDER BY ?c")
AGREEMENT = BASE + "id/agreement-cultural-scientific-technological-1995"
# asserted only as a kko:CooperationAgreement: a BilateralDocument by reasoning
INFERRED_ASK = f"ASK {{ <{AGREEMENT}> a <https://w3id.org/kazkor/ontology#BilateralDocument> }}"
# every triple with every triple, four times over: runs far past any timeout
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
TIMEOUT = 5
MAX_ROWS = 50


@pytest.fixture(scope="module")
def endpoint(release, release_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    log = tmp_path_factory.mktemp("endpoint") / "server.log"
    srv = start_server(release_dir, log=log, env={"KG_QUERY_TIMEOUT": str(TIMEOUT),
                                                  "KG_MAX_RESULT_ROWS": str(MAX_ROWS)})
    yield srv
    stop_server(srv.process)


def sparql(endpoint: Server, query: str, accept: str = JSON, **params: str) -> requests.Response:
    return endpoint.get("/sparql", params={"query": query, **params}, headers={"Accept": accept})


def values(response: requests.Response, var: str) -> list[str]:
    assert response.status_code == 200, response.text
    return [b[var]["value"] for b in response.json()["results"]["bindings"]]


# ---- queries, forms and formats ---------------------------------------------------------------

def test_get_form_post_and_direct_post_give_the_same_answer(endpoint):
    by_get = values(sparql(endpoint, COUNTRIES), "c")
    by_form = values(endpoint.post("/sparql", data={"query": COUNTRIES},
                                   headers={"Accept": JSON}), "c")
    by_body = values(endpoint.post("/sparql", data=COUNTRIES.encode(), headers={
        "Accept": JSON, "Content-Type": "application/sparql-query"}), "c")
    assert by_get == by_form == by_body
    assert BASE + "id/kazakhstan" in by_get and BASE + "id/south-korea" in by_get


@pytest.mark.parametrize("fmt", formats.for_kind("results"), ids=lambda f: f.name)
def test_select_in_every_results_format(endpoint, fmt):
    r = sparql(endpoint, COUNTRIES, accept=fmt.media_type)
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == fmt.media_type
    if fmt.name == "json":
        found = [b["c"]["value"] for b in r.json()["results"]["bindings"]]
    elif fmt.name == "xml":
        import xml.etree.ElementTree as ET
        ns = {"r": "http://www.w3.org/2005/sparql-results#"}
        found = [e.text for e in ET.fromstring(r.content).iterfind(".//r:uri", ns)]
    elif fmt.name == "csv":
        found = [row["c"] for row in csv.DictReader(io.StringIO(r.text))]
    else:
        lines = r.text.splitlines()
        assert lines[0] == "?c"
        found = [line.strip("<>") for line in lines[1:]]
    assert BASE + "id/kazakhstan" in found


@pytest.mark.parametrize("accept,expected", [
    (JSON, '"boolean":true'), ("application/sparql-results+xml", "<boolean>true</boolean>"),
    ("text/csv", "true"), ("text/tab-separated-values", "true")])
def test_ask_in_every_results_format(endpoint, accept, expected):
    r = sparql(endpoint, INFERRED_ASK, accept=accept)
    assert r.status_code == 200 and expected in r.text.replace(" ", "")


@pytest.mark.parametrize("fmt", formats.rdf_formats(), ids=lambda f: f.name)
@pytest.mark.parametrize("form", ["CONSTRUCT", "DESCRIBE"])
def test_graph_queries_in_every_rdf_format(endpoint, fmt, form):
    query = (f"CONSTRUCT {{ <{AGREEMENT}> ?p ?o }} WHERE {{ <{AGREEMENT}> ?p ?o }}"
             if form == "CONSTRUCT" else f"DESCRIBE <{AGREEMENT}>")
    r = sparql(endpoint, query, accept=fmt.media_type)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == fmt.media_type
    rdflib_format = {"ntriples": "nt", "rdfxml": "xml", "jsonld": "json-ld"}.get(fmt.name, fmt.name)
    parsed = Dataset() if fmt.kind == "dataset" else Graph()
    parsed.parse(data=r.content, format=rdflib_format)
    subjects = {str(t[0]) for t in (parsed.quads() if fmt.kind == "dataset" else parsed)}
    assert subjects == {AGREEMENT}


def test_q_values_pick_the_format(endpoint):
    r = sparql(endpoint, COUNTRIES, accept="application/sparql-results+json;q=0.4, "
                                           "text/csv;q=0.9, */*;q=0.1")
    assert r.headers["Content-Type"].startswith("text/csv")


def test_format_parameter_wins_over_accept(endpoint):
    r = sparql(endpoint, COUNTRIES, accept="text/csv", format="xml")
    assert r.headers["Content-Type"].startswith("application/sparql-results+xml")
    assert "attachment" in r.headers["Content-Disposition"] or "filename=" in \
        r.headers["Content-Disposition"]


# ---- the dataset ------------------------------------------------------------------------------

def test_default_graph_uri_and_named_graph_uri(endpoint):
    only_ontology = sparql(endpoint, COUNTRIES, **{"default-graph-uri": GRAPH + "ontology"})
    assert values(only_ontology, "c") == []
    r = endpoint.get("/sparql", headers={"Accept": JSON}, params={
        "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }",
        "named-graph-uri": [GRAPH + "data", GRAPH + "ontology"]})
    assert sorted(values(r, "g")) == [GRAPH + "data", GRAPH + "ontology"]


def test_from_and_graph_in_the_query(endpoint):
    r = sparql(endpoint, f"ASK FROM <{GRAPH}data> {{ <{AGREEMENT}> a "
                         "<https://w3id.org/kazkor/ontology#BilateralDocument> }")
    assert r.json()["boolean"] is False
    r = sparql(endpoint, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert {GRAPH + n for n in ("ontology", "data", "inferred", "meta")} <= set(values(r, "g"))


def test_inference_false_leaves_out_the_inferred_graph(endpoint):
    assert sparql(endpoint, INFERRED_ASK).json()["boolean"] is True
    assert sparql(endpoint, INFERRED_ASK, inference="false").json()["boolean"] is False
    assert sparql(endpoint, INFERRED_ASK, inference="maybe").status_code == 400


# ---- service description and the bare GET -----------------------------------------------------

def test_service_description(endpoint):
    r = endpoint.get("/sparql", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    g = Graph().parse(data=r.text, format="turtle")
    service = URIRef(endpoint.url + "/sparql")
    assert (service, SD.endpoint, service) in g
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in g
    assert (service, SD.supportedLanguage, SD.SPARQL11Update) not in g
    assert {str(o) for o in g.objects(service, SD.resultFormat)} == {
        f.iri for f in formats.FORMATS}
    names = {str(n) for n in g.objects(None, SD.name)}
    assert {GRAPH + n for n in ("ontology", "data", "inferred", "meta")} <= names
    as_jsonld = endpoint.get("/sparql", headers={"Accept": "application/ld+json"})
    assert Graph().parse(data=as_jsonld.text, format="json-ld").isomorphic(g)
    by_parameter = endpoint.get("/sparql", params={"format": "ntriples"})
    assert by_parameter.headers["Content-Type"].startswith("application/n-triples")
    assert endpoint.get("/sparql", params={"format": "json"}).status_code == 406


def test_browser_gets_the_query_page(endpoint):
    r = endpoint.get("/sparql", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert 'class="kg-query-editor"' in r.text


# ---- HTTP: HEAD, OPTIONS, CORS, gzip, ETag -----------------------------------------------------

def test_head_has_the_headers_of_get_and_no_body(endpoint):
    get = sparql(endpoint, COUNTRIES)
    head = requests.head(endpoint.url + "/sparql", params={"query": COUNTRIES},
                         headers={"Accept": JSON}, timeout=30)
    assert head.status_code == 200 and head.content == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
    assert head.headers["ETag"] == get.headers["ETag"]
    bare = requests.head(endpoint.url + "/sparql", headers={"Accept": "text/turtle"}, timeout=30)
    assert bare.status_code == 200 and bare.headers["Content-Type"].startswith("text/turtle")
    graph = requests.head(endpoint.url + "/rdf-graph-store", params={"graph": GRAPH + "data"},
                          headers={"Accept": "text/turtle"}, timeout=30)
    assert graph.status_code == 200 and graph.content == b""


def test_cors_for_any_origin_and_preflight(endpoint):
    r = endpoint.get("/sparql", params={"query": COUNTRIES}, headers={"Origin": "https://x.org"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    pre = requests.options(endpoint.url + "/sparql", timeout=30, headers={
        "Origin": "https://x.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 204
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert pre.headers["Access-Control-Allow-Origin"] == "*"
    assert "content-type" in pre.headers["Access-Control-Allow-Headers"].lower()


def test_gzip_when_the_client_accepts_it(endpoint):
    query = "SELECT * WHERE { ?s ?p ?o } LIMIT 40"
    zipped = endpoint.get("/sparql", params={"query": query},
                          headers={"Accept": JSON, "Accept-Encoding": "gzip"})
    plain = endpoint.get("/sparql", params={"query": query},
                         headers={"Accept": JSON, "Accept-Encoding": "identity"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain.headers
    assert int(zipped.headers["Content-Length"]) < int(plain.headers["Content-Length"])
    assert zipped.json() == plain.json()  # requests un-gzips


def test_etag_and_if_none_match(endpoint):
    first = sparql(endpoint, COUNTRIES)
    etag = first.headers["ETag"]
    again = endpoint.get("/sparql", params={"query": COUNTRIES},
                         headers={"Accept": JSON, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other_format = endpoint.get("/sparql", params={"query": COUNTRIES},
                                headers={"Accept": "text/csv", "If-None-Match": etag})
    assert other_format.status_code == 200
    assert sparql(endpoint, COUNTRIES + " LIMIT 1").headers["ETag"] != etag


# ---- errors -----------------------------------------------------------------------------------

def _status(r: requests.Response, status: int, *words: str) -> None:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("text/plain")
    for word in words:
        assert word in r.text


def test_malformed_query_is_400_with_message_and_position(endpoint):
    _status(sparql(endpoint, "SELECT * WHERE { ?s ?p }"), 400, "malformed query",
            "line 1, column 24")


@pytest.mark.parametrize(("query", "message"), [
    ("SELECT ?c WHERE {\n  ?c a kko2:Country }", "line 2, column 8: prefix kko2: is not declared"),
    ("SELECT ?c WHERE { ?c ?p ?o\n  FILTER (<http://example.org/f>(?o)) }",
     "line 2, column 11: unknown function <http://example.org/f>"),
    ("SELECT ?c WHERE { ?c ?p ?o FILTER (STRLEN(?o, 2)) }",
     "line 1, column 36: STRLEN takes 1 argument, 2 given"),
])
def test_errors_are_one_line_in_the_users_terms(endpoint, query, message):
    """Issue 14: an undeclared prefix, an unknown function, a wrong number of arguments."""
    r = sparql(endpoint, query)
    _status(r, 400, message)
    assert r.text.count("\n") == 1 and len(r.text) < 300


def test_the_usual_prefixes_are_predefined_and_described(endpoint):
    r = sparql(endpoint, "SELECT ?c WHERE { ?c rdf:type kko:Country . ?c rdfs:label ?l } LIMIT 1")
    assert values(r, "c")
    description = Graph().parse(data=endpoint.get(
        "/sparql", headers={"Accept": "text/turtle"}).text, format="turtle")
    sh = Namespace("http://www.w3.org/ns/shacl#")
    declared = {str(description.value(d, sh.prefix)): str(description.value(d, sh.namespace))
                for d in description.objects(URIRef(endpoint.url + "/sparql"), sh.declare)}
    assert declared["kko"] == BASE + "ontology#" and declared["kkid"] == BASE + "id/"
    assert {"rdf", "rdfs", "owl", "xsd", "skos", "dcterms", "foaf", "prov", "org", "qb",
            "void", "dcat"} <= set(declared)


def test_select_star_answers_in_the_order_of_the_query(endpoint):
    r = sparql(endpoint, "SELECT * WHERE { ?s ?p ?o } LIMIT 1")
    assert r.json()["head"]["vars"] == ["s", "p", "o"]
    as_csv = sparql(endpoint, "SELECT * { ?z ?a ?m } LIMIT 1", accept="text/csv")
    assert as_csv.text.splitlines()[0] == "z,a,m"


def test_relative_iris_resolve_against_the_base_iri(endpoint):
    """The W3C protocol test query_content_type_construct."""
    r = endpoint.post("/sparql", data=b"CONSTRUCT { <s> <p> 1 } WHERE {}",
                      headers={"Content-Type": "application/sparql-query",
                               "Accept": "application/n-triples"})
    assert r.status_code == 200, r.text
    assert r.text.strip() == (f'<{BASE}s> <{BASE}p> '
                              '"1"^^<http://www.w3.org/2001/XMLSchema#integer> .')


def test_a_query_that_is_not_utf8_is_refused(endpoint):
    """%FF%FE is no UTF-8: decoded leniently the query would run with U+FFFD in it."""
    url = endpoint.url + "/sparql?query=SELECT%20%2A%20%7B%20%3Fs%20%3Fp%20%22%FF%FE%22%20%7D"
    _status(requests.get(url, timeout=30), 400, "not UTF-8")
    form = b"query=ASK%20%7B%20%3Fs%20%3Fp%20%22%FF%22%20%7D"
    _status(requests.post(endpoint.url + "/sparql", data=form, timeout=30, headers={
        "Content-Type": "application/x-www-form-urlencoded"}), 400, "not UTF-8")
    good = "query=" + requests.utils.quote('ASK { ?s ?p "Астана" }')
    assert requests.get(endpoint.url + "/sparql?" + good, timeout=30,
                        headers={"Accept": JSON}).status_code == 200


@pytest.mark.parametrize(("form", "name", "media_type"), [
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 2", "xml", "application/rdf+xml"),
    ("DESCRIBE <https://w3id.org/kazkor/id/kazakhstan>", "xml", "application/rdf+xml"),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 2", "json", "application/ld+json"),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 2", "n3", "text/turtle"),
    ("SELECT * { ?s ?p ?o } LIMIT 2", "xml", "application/sparql-results+xml"),
])
def test_format_names_mean_the_format_of_the_query_form(endpoint, form, name, media_type):
    """What SPARQLWrapper sends by default (format=xml&output=xml), answered as Virtuoso and
    Fuseki answer it: RDF/XML for a graph, SPARQL XML for solutions."""
    r = sparql(endpoint, form, accept="*/*", format=name, output=name)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].split(";")[0] == media_type
    if media_type.startswith("application/rdf") or media_type == "text/turtle":
        parsed = Graph().parse(data=r.text, format="xml" if "rdf" in media_type else "turtle")
        assert len(parsed) > 0
    _status(sparql(endpoint, form, format="png"), 400, "cannot carry")


def test_protocol_errors(endpoint):
    url = endpoint.url + "/sparql"
    _status(requests.get(url, params=[("query", COUNTRIES), ("query", COUNTRIES)], timeout=30),
            400, "exactly one")
    _status(requests.post(url, data=COUNTRIES.encode(), timeout=30,
                          headers={"Content-Type": ""}), 400, "Content-Type")
    _status(requests.post(url, data=COUNTRIES.encode(), timeout=30,
                          headers={"Content-Type": "text/plain"}), 415, "application/sparql-query")
    _status(sparql(endpoint, COUNTRIES, accept="image/png"), 406, "application/sparql-results+json")
    _status(requests.get(url, params={"update": "CLEAR ALL"}, timeout=30), 400, "POST")
    _status(requests.put(url, data=b"x", timeout=30), 405, "PUT")
    _status(requests.post(url, data={"update": "CLEAR ALL"}, timeout=30), 403, "KG_UPDATE_TOKEN")
    # a query sent as an update is named a query, token or not (a client guessed wrong)
    _status(requests.post(url, data={"update": COUNTRIES}, timeout=30), 400,
            "this is a query, not an update: send it as 'query'")
    _status(requests.post(url, data=COUNTRIES.encode(), timeout=30,
                          headers={"Content-Type": "application/sparql-update"}), 400,
            "this is a query")
    _status(requests.post(url, data={"query": "SELECT * {} #" + "x" * 200_000}, timeout=30),
            413, "limit")


def test_service_and_load_are_refused(endpoint):
    r = sparql(endpoint, "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    _status(r, 403, "SERVICE", "KG_ALLOWED_SERVICES")


# ---- limits -----------------------------------------------------------------------------------

def test_results_are_cut_at_the_row_limit_and_say_so(endpoint):
    r = sparql(endpoint, "SELECT * WHERE { ?s ?p ?o }")
    assert len(r.json()["results"]["bindings"]) == MAX_ROWS
    assert f"max-rows={MAX_ROWS}" in r.headers["KG-Result-Truncated"]
    as_csv = sparql(endpoint, "SELECT * WHERE { ?s ?p ?o }", accept="text/csv")
    assert len(list(csv.DictReader(io.StringIO(as_csv.text)))) == MAX_ROWS
    triples = sparql(endpoint, "CONSTRUCT WHERE { ?s ?p ?o }", accept="application/n-triples")
    assert len(triples.text.splitlines()) == MAX_ROWS and "KG-Result-Truncated" in triples.headers
    small = sparql(endpoint, COUNTRIES)
    assert "KG-Result-Truncated" not in small.headers


def _runner_states(server: Server) -> list[str]:
    """The process states (R running, S sleeping...) of the server's query processes."""
    return [state for _, state in _runners(server)]


def _runner_pids(server: Server) -> list[int]:
    return [pid for pid, _ in _runners(server)]


def _runners(server: Server) -> list[tuple[int, str]]:
    """(pid, state) of the server's query processes (in its session): the children of its
    web workers' template processes (``python -m kg.served.runner``)."""
    processes = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes()
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if b"kg.served.runner" in cmdline and int(fields[3]) == server.process.pid:
            processes[int(proc.name)] = (int(fields[1]), fields[0])
    return [(pid, state) for pid, (parent, state) in processes.items()
            if state != "Z" and parent in processes]


def test_timeout_stops_the_query_and_others_are_served_meanwhile(endpoint):
    slow: dict[str, requests.Response] = {}
    thread = threading.Thread(target=lambda: slow.update(r=sparql(endpoint, ENDLESS)))
    thread.start()
    answered_meanwhile = [values(sparql(endpoint, COUNTRIES), "c") for _ in range(5)]
    still_running = thread.is_alive()
    thread.join(60)
    assert still_running
    assert all(BASE + "id/kazakhstan" in a for a in answered_meanwhile)
    _status(slow["r"], 503, f"{TIMEOUT} s", "stopped")
    # the killed query uses no CPU any more: every query process is idle (waits for a job)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and set(_runner_states(endpoint)) - {"S"}:
        time.sleep(0.2)
    assert _runner_states(endpoint) and set(_runner_states(endpoint)) == {"S"}
    assert values(sparql(endpoint, COUNTRIES), "c") == answered_meanwhile[0]


def test_a_client_may_ask_for_a_shorter_timeout(endpoint):
    _status(sparql(endpoint, ENDLESS, timeout="2.5"), 503, "the 2.5 s limit")
    # never shorter than the minimum (KG_MIN_QUERY_TIMEOUT, 1 s)
    _status(sparql(endpoint, ENDLESS, timeout="0.000001"), 503, "the 1 s limit")
    assert sparql(endpoint, COUNTRIES, timeout="0").status_code == 400
    # never longer than the server allows
    _status(sparql(endpoint, ENDLESS, timeout="1000"), 503, f"{TIMEOUT} s")


def test_a_query_process_that_dies_is_replaced(endpoint):
    import os
    import signal

    for pid in _runner_pids(endpoint):
        os.kill(pid, signal.SIGKILL)
    # a different text each time, so that no answer comes from the answer cache
    answers = [sparql(endpoint, f"{COUNTRIES}\n# attempt {i}") for i in range(10)]
    assert [r.status_code for r in answers] == [200] * 10
    assert _runner_pids(endpoint)


def test_results_json_is_the_w3c_shape(endpoint):
    body = json.loads(sparql(endpoint, COUNTRIES).text)
    assert body["head"]["vars"] == ["c"]
    assert body["results"]["bindings"][0]["c"]["type"] == "uri"


@pytest.mark.parametrize("method,path,kwargs", [
    ("GET", "/sparql", {"params": {"query": "SELECT"}}),
    ("GET", "/sparql", {"params": {"query": "ASK {}", "format": "nope"}}),
    ("GET", "/sparql", {"params": {"format": "json"}, "headers": {"Accept": "*/*"}}),
    ("GET", "/sparql", {"params": {"query": "ASK {}"}, "headers": {"Accept": ";;,q=x/"}}),
    ("GET", "/sparql", {"params": {"query": "ASK {}"}, "headers": {"If-None-Match": "\"x"}}),
    ("GET", "/sparql", {"params": {"query": "SELECT * FROM <nope> { ?s ?p ?o }"}}),
    ("GET", "/sparql", {"params": {"query": "ASK {}", "default-graph-uri": "not an iri"}}),
    ("GET", "/sparql", {"params": {"query": "\x00\ufffe"}}),
    ("POST", "/sparql", {"data": b"\xff", "headers": {
        "Content-Type": "application/x-www-form-urlencoded"}}),
    ("POST", "/sparql", {"data": "query=%ZZ", "headers": {
        "Content-Type": "application/x-www-form-urlencoded"}}),
    ("DELETE", "/sparql", {}),
    ("GET", "/rdf-graph-store", {"params": {"graph": "<>"}}),
    ("GET", "/rdf-graph-store", {"params": {"graph": "x", "default": ""}}),
    ("PUT", "/rdf-graph-store", {"params": {"default": ""}, "data": b"x"}),
    ("POST", "/update", {"data": {"update": "CLEAR ALL"}}),
])
def test_odd_requests_are_client_errors_never_500(endpoint, method, path, kwargs):
    r = requests.request(method, endpoint.url + path, timeout=30, **kwargs)
    assert r.status_code < 500, r.text
    assert r.status_code in (200, 400, 401, 403, 404, 405, 406, 413, 415), r.text
