"""The W3C SPARQL 1.1 Protocol, Service Description and Graph Store Protocol tests, replayed
against the served endpoint.

The protocol and graph store manifests are HTTP exchanges (the W3C HTTP vocabulary ``ht:``):
each test is a list of requests (method, path, headers, body) and the response expected to
each (a status or class of statuses, a result format, an ASK answer, a Content-Type, an RDF
body). :func:`replay` sends them in order, with the paths of the test (``/sparql/``,
``/gsp``) mapped to ours (``/sparql``, ``/rdf-graph-store``); a test that writes runs on the
scratch update server, with its token (our contract asks for one), the others on the query
server, which holds the graphs the tests name (``ut:graphData``, by their ``rdfs:label``).
A body is sent in the charset its Content-Type names (the non-UTF-8 tests send UTF-16).

The service description tests have no exchange: :func:`service_description_tests` checks
what each one names (the description comes as RDF, names the endpoint with ``sd:endpoint``,
uses the vocabulary as its schema says).

Tests of an optional feature we do not offer are listed in :data:`NOT_APPLICABLE` with why.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from rdflib import RDF, RDFS, Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.term import Node
from tests.conformance import known
from tests.conformance.manifest import MF, UT, ManifestEntry, Suite, entries, sparql_suite
from tests.conformance.results import Boolean, Solutions, parse
from tests.conformance.served import Served

HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")

MANIFESTS = {"protocol": "protocol/manifest.ttl",
             "graph store protocol": "graph-store-protocol/manifest-indirect.ttl",
             "service description": "service-description/manifest.ttl"}
#: manifests of the same folders not run, and why
LEFT_OUT = {
    "graph-store-protocol/manifest-direct.ttl":
        "direct graph identification (the graph's IRI is the address of the request) is an "
        "optional feature the endpoint does not offer: its graphs are named under the base "
        "IRI, not under the server's address, and reached as /rdf-graph-store?graph=IRI",
    "http-rdf-update/manifest.ttl":
        "the 2011 draft of the graph store tests, superseded by graph-store-protocol/",
}
#: tests of a manifest that is run, for a feature the endpoint does not offer
NOT_APPLICABLE = {
    "http-rdf-update/manifest#post_get_new_graph":
        "graph creation by a POST to the graph store itself (mf:POSTGraphCreation) is an "
        "optional feature: the endpoint's graph store names every graph (?graph= or "
        "?default)",
}
_PATHS = {"/sparql/": "/sparql", "/gsp": "/rdf-graph-store"}
_STATUS = {"OK": 200, "Created": 201, "NoContent": 204, "NotFound": 404, "BadRequest": 400}
_FORMATS = {
    "boolean": ("application/sparql-results+json", "application/sparql-results+xml"),
    "tabular": ("application/sparql-results+json", "application/sparql-results+xml",
                "text/csv", "text/tab-separated-values"),
    "RDF": ("application/rdf+xml", "text/turtle", "application/n-triples"),
}


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    #: the statuses that pass: codes, or classes as "2xx"
    statuses: frozenset[str]
    result_format: str | None = None
    boolean: bool | None = None
    content_type: str | None = None
    rdf_body: str | None = None


@dataclass(frozen=True)
class ProtocolTest:
    entry: ManifestEntry
    exchanges: tuple[Exchange, ...]
    #: graph name -> file, for the query server
    graphs: dict[str, Path] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.entry.id

    @property
    def writes(self) -> bool:
        """Whether it changes the store: an update or a graph store write."""
        for exchange in self.exchanges:
            body = exchange.body or b""
            kind = exchange.headers.get("content-type", "")
            if exchange.method in ("PUT", "DELETE") or exchange.path.startswith("/gsp"):
                return True
            if "sparql-update" in kind or body.startswith(b"update=") or "update=" in \
                    exchange.path:
                return True
        return False


def _status_names(graph: Graph, response: Node) -> frozenset[str]:
    found = set()
    for status in graph.objects(response, MF.expectedStatus):
        name = str(status).removeprefix(str(HTS))
        if name.startswith("StatusCode"):
            found.add(name.removeprefix("StatusCode"))
        else:
            found.add(str(_STATUS[name]))
    return frozenset(found)


def _headers(graph: Graph, node: Node) -> dict[str, str]:
    value = graph.value(node, HT.headers)
    if value is None:
        return {}
    return {str(graph.value(h, HT.fieldName)).lower(): str(graph.value(h, HT.fieldValue))
            for h in Collection(graph, value)}


def _exchange(graph: Graph, request: Node) -> Exchange:
    headers = _headers(graph, request)
    body_node = graph.value(request, HT.body)
    body = None
    if body_node is not None:
        text = str(graph.value(body_node, CNT.chars))
        charset = headers.get("content-type", "").lower().partition("charset=")[2].strip()
        body = text.encode(charset or "utf-8")
    response = graph.value(request, HT.resp)
    response_body = graph.value(response, HT.body)
    expected_format = graph.value(response, MF.expectedFormat)
    boolean = graph.value(response, MF.expectedBoolean)
    return Exchange(
        method=str(graph.value(request, HT.methodName)),
        path=str(graph.value(request, HT.absolutePath)), headers=headers, body=body,
        statuses=_status_names(graph, response),
        result_format=str(expected_format) if expected_format is not None else None,
        boolean=bool(boolean.toPython()) if boolean is not None else None,  # type: ignore[union-attr]
        content_type=_headers(graph, response).get("content-type"),
        rdf_body=str(graph.value(response_body, CNT.chars)) if response_body else None)


def protocol_tests(name: str, suite: Suite | None = None) -> list[ProtocolTest]:
    suite = suite or sparql_suite()
    tests = []
    for entry in entries(suite, MANIFESTS[name]):
        graph = entry.graph
        requests_node = graph.value(entry.action, HT.requests) if entry.action else None
        exchanges = tuple(_exchange(graph, r) for r in Collection(graph, requests_node)) \
            if requests_node is not None else ()
        graphs = {str(graph.value(d, RDFS.label)): suite.path(graph.value(d, UT.graph))
                  for d in graph.objects(entry.iri, UT.graphData)}
        tests.append(ProtocolTest(entry, exchanges, graphs))
    return tests


def protocol_graphs() -> dict[str, Path]:
    """The graphs the protocol tests name, by name: the query server holds them."""
    return {name: path for test in protocol_tests("protocol") for name, path in
            test.graphs.items()}


@dataclass(frozen=True)
class Outcome:
    passed: bool
    cause: str = ""
    detail: str = ""


def _path(path: str) -> str:
    for theirs, ours in _PATHS.items():
        if path.startswith(theirs):
            return ours + path[len(theirs):]
    return path


def _status_ok(status: int, allowed: frozenset[str]) -> bool:
    return str(status) in allowed or f"{status // 100}xx" in allowed


def _check(exchange: Exchange, answer: requests.Response) -> str | None:
    """What is wrong with ``answer``, or None."""
    if not _status_ok(answer.status_code, exchange.statuses):
        first = answer.text.strip().splitlines()[0] if answer.text.strip() else ""
        return (f"{exchange.method} {exchange.path}: HTTP {answer.status_code} where "
                f"{', '.join(sorted(exchange.statuses))} is expected ({first[:160]})")
    media = answer.headers.get("Content-Type", "").split(";")[0].strip()
    if exchange.result_format and media not in _FORMATS[exchange.result_format]:
        return f"a {exchange.result_format} answer expected, {media} given"
    if exchange.boolean is not None:
        result = parse(answer.content, media)
        if not isinstance(result, Boolean) or result.value != exchange.boolean:
            return f"the ASK answer {exchange.boolean} expected"
    if exchange.result_format == "tabular" and not isinstance(
            parse(answer.content, media), Solutions):
        return "solutions expected"
    if exchange.content_type and answer.headers.get("Content-Type", "").replace(
            " ", "").lower() != exchange.content_type.replace(" ", "").lower():
        return f"Content-Type {exchange.content_type} expected, " \
               f"{answer.headers.get('Content-Type')} given"
    if exchange.rdf_body is not None and answer.status_code == 200:
        expected = Graph().parse(data=exchange.rdf_body, format="turtle")
        actual = Graph().parse(data=answer.text, format="turtle")
        if not isomorphic(expected, actual):
            return f"the graph has {len(actual)} triples where {len(expected)} are expected"
    return None


def replay(test: ProtocolTest, served: Served, token: dict[str, str]) -> Outcome:
    """The test's exchanges in order; a graph store test starts on an empty store (its
    first request assumes none of the graphs the others wrote)."""
    if test.entry.folder == "graph-store-protocol":
        emptied = served.request("POST", "/update", data=b"DROP ALL",
                                 headers={**token, "Content-Type": "application/sparql-update"})
        emptied.raise_for_status()
    for exchange in test.exchanges:
        headers = {**exchange.headers, **token}
        if exchange.body is None or "content-type" not in headers:
            # requests adds no Content-Type to raw bytes; the tests without one mean none
            headers.pop("content-type", None)
        answer = served.request(exchange.method, _path(exchange.path), data=exchange.body,
                                headers=headers)
        wrong = _check(exchange, answer)
        if wrong:
            return Outcome(False, "different response", wrong)
    return Outcome(True)


# ---------------------------------------------------------------- service description

def _description(served: Served) -> tuple[requests.Response, Graph | None]:
    answer = served.request("GET", "/sparql", headers={"Accept": "text/turtle"})
    if answer.status_code != 200:
        return answer, None
    return answer, Graph().parse(data=answer.text, format="turtle")


#: the terms of the SPARQL 1.1 Service Description vocabulary (its §3), and the class each
#: property's subject must be (its rdfs:domain)
SD_CLASSES = {"Service", "Feature", "Language", "Function", "Aggregate", "EntailmentRegime",
              "EntailmentProfile", "GraphCollection", "Dataset", "Graph", "NamedGraph"}
SD_DOMAINS = {
    "endpoint": "Service", "feature": "Service", "defaultEntailmentRegime": "Service",
    "supportedEntailmentProfile": "Service", "extensionFunction": "Service",
    "extensionAggregate": "Service", "languageExtension": "Service",
    "supportedLanguage": "Service", "propertyFeature": "Service",
    "defaultDataset": "Service", "availableGraphs": "Service", "resultFormat": "Service",
    "inputFormat": "Service", "defaultSupportedEntailmentProfile": "Service",
    "entailmentRegime": "Graph", "defaultGraph": "Dataset", "namedGraph": "GraphCollection",
    "name": "NamedGraph", "graph": "NamedGraph",
}
SD_INSTANCES = {"SPARQL10Query", "SPARQL11Query", "SPARQL11Update", "DereferencesURIs",
                "UnionDefaultGraph", "RequiresDataset", "EmptyGraphs", "BasicFederatedQuery"}
#: subclasses the schema states (a Dataset is a GraphCollection)
_SUBCLASSES = {"Dataset": {"GraphCollection"}}


def _schema_problems(graph: Graph) -> list[str]:
    problems = []
    for s, p, o in graph:
        for term in (p, o):
            if isinstance(term, URIRef) and str(term).startswith(str(SD)):
                local = str(term)[len(str(SD)):]
                if local not in SD_CLASSES | set(SD_DOMAINS) | SD_INSTANCES:
                    problems.append(f"sd:{local} is not a term of the vocabulary")
        if str(p).startswith(str(SD)):
            domain = SD_DOMAINS.get(str(p)[len(str(SD)):])
            types = {str(t)[len(str(SD)):] for t in graph.objects(s, RDF.type)}
            types |= {sup for t in types for sup in _SUBCLASSES.get(t, ())}
            if domain and domain not in types:
                problems.append(f"the subject of {p.n3(graph.namespace_manager)} is not "
                                f"typed sd:{domain}")
    return sorted(set(problems))


def _returns_rdf(served: Served) -> str | None:
    answer, graph = _description(served)
    if graph is None or not len(graph):
        return f"GET /sparql with Accept: text/turtle gave HTTP {answer.status_code}"
    return None


def _has_endpoint_triple(served: Served) -> str | None:
    _, graph = _description(served)
    endpoint = URIRef(served.url + "/sparql")
    if graph is None or (None, SD.endpoint, endpoint) not in graph:
        return f"no sd:endpoint <{endpoint}> in the description"
    return None


def _conforms_to_schema(served: Served) -> str | None:
    _, graph = _description(served)
    problems = _schema_problems(graph) if graph is not None else ["no description"]
    return "; ".join(problems) or None


SERVICE_DESCRIPTION_CHECKS: dict[str, Callable[[Served], str | None]] = {
    "returns-rdf": _returns_rdf,
    "has-endpoint-triple": _has_endpoint_triple,
    "conforms-to-schema": _conforms_to_schema,
}


def check_description(test: ProtocolTest, served: Served) -> Outcome:
    check = SERVICE_DESCRIPTION_CHECKS[test.id.rsplit("#", 1)[1]]
    wrong = check(served)
    return Outcome(wrong is None, "different response" if wrong else "", wrong or "")


RUNNERS = ("served",)


def known_failures() -> dict[tuple[str, str], known.KnownFailure]:
    return known.known_failures("protocol", "runner", RUNNERS)


def quote(iri: str) -> str:
    return urllib.parse.quote(iri, safe="")
