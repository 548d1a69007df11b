"""The SPARQL 1.1 Protocol endpoint (``/sparql``, ``/update``), Graph Store reads and the query UI.

- ``/sparql``: queries by GET, POST form and POST ``application/sparql-query``;
  a bare GET gives the Service Description (RDF Accept) or the query UI (HTML);
  updates by POST when ``KG_UPDATE_TOKEN`` is set (``Authorization: Bearer``).
- ``/update``: the same updates, by POST only.
- ``/rdf-graph-store``: SPARQL 1.1 Graph Store HTTP Protocol, ``?graph=IRI`` or
  ``?default``; GET and HEAD for everyone, PUT/POST/DELETE with the token.

Every answer carries CORS headers for any origin; answers are gzipped when the
client accepts it; query answers have an ETag tied to the served data and the
request, and ``If-None-Match`` gives a 304 without running the query.
"""

from __future__ import annotations

import functools
import gzip
import hmac
from collections.abc import Callable

from flask import Blueprint, Response, request

from kg import formats
from kg.formats import Format
from kg.served import UpdateFailed
from kg.sparql.description import service_description
from kg.sparql.examples import example_queries
from kg.sparql.negotiate import choose
from kg.sparql.protocol import (
    ABSOLUTE_IRI,
    ProtocolError,
    ProtocolRequest,
    check_utf8,
    parse_request,
)
from kg.sparql.service import (
    TRUNCATED_HEADER,
    QueryService,
    inspect_text,
    refuse_remote_calls,
    with_protocol_dataset,
)
from kg.web.html import HTML, page, prefers_page
from kg.web.state import state
from kg.web.uploads import UploadRefused, parse_upload

blueprint = Blueprint("sparql", __name__)

_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]
#: answers smaller than this are not worth compressing
GZIP_MIN_BYTES = 512
#: the challenge of a 401 (RFC 6750): updates take a bearer token
CHALLENGE = 'Bearer realm="KazKor KG updates"'


def _service() -> QueryService:
    return state().queries


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain", headers=headers)


#: the CORS headers of every answer of the protocol's paths
_CORS = (("Access-Control-Allow-Origin", "*"),
         ("Access-Control-Expose-Headers", f"ETag, {TRUNCATED_HEADER}"))


@blueprint.after_app_request
def _protocol_headers(response: Response) -> Response:
    if request.path not in ("/sparql", "/update", "/rdf-graph-store"):
        return response
    headers = response.headers
    for name, value in _CORS:
        headers[name] = value
    if "Vary" in headers:
        response.vary.update(("Accept", "Accept-Encoding"))
    else:
        headers["Vary"] = "Accept, Accept-Encoding"
    if (response.status_code == 200 and not response.direct_passthrough
            and response.content_length and response.content_length >= GZIP_MIN_BYTES
            and "gzip" in _encodings(request.headers.get("Accept-Encoding", ""))):
        response.set_data(gzip.compress(response.get_data(), compresslevel=5, mtime=0))
        headers["Content-Encoding"] = "gzip"
    return response


@functools.lru_cache(maxsize=256)
def _encodings(header: str) -> frozenset[str]:
    """The content codings an Accept-Encoding header accepts (a few headers, sent again and
    again: remembered)."""
    accepted = set()
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000"):
            accepted.add(name.strip().lower())
    return frozenset(accepted)


def _preflight(methods: str) -> Response:
    response = Response(status=204)
    response.headers["Allow"] = methods
    response.headers["Access-Control-Allow-Methods"] = methods
    response.headers["Access-Control-Allow-Headers"] = (
        request.headers.get("Access-Control-Request-Headers")
        or "Accept, Content-Type, Authorization, If-None-Match")
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


def _read_protocol_request() -> ProtocolRequest:
    form_post = request.mimetype == "application/x-www-form-urlencoded"
    check_utf8(request.query_string, "query string")
    if form_post:
        # read whole first (and kept: the form is parsed from it) to see its bytes
        check_utf8(request.get_data(cache=True), "form body")
    return parse_request(
        request.method,
        request.content_type,
        request.args.to_dict(flat=False),
        request.form.to_dict(flat=False) if form_post else {},
        # a GET's body means nothing to the protocol: it is not read
        b"" if form_post or request.method in ("GET", "HEAD") else request.get_data(cache=False),
        max_query_bytes=state().config.max_query_bytes,
    )


def _protocol_errors(allow: str) -> Callable[[Callable[[], Response]], Callable[[], Response]]:
    """A handler whose :class:`ProtocolError` becomes its status and message (with the
    ``Allow`` header on a 405)."""
    def decorate(handler: Callable[[], Response]) -> Callable[[], Response]:
        @functools.wraps(handler)
        def answer() -> Response:
            try:
                return handler()
            except ProtocolError as e:
                headers = dict(e.headers)
                if e.status == 405:
                    headers["Allow"] = allow
                if e.status == 401:
                    headers["WWW-Authenticate"] = CHALLENGE
                return _error(e.status, e.message, headers)
        return answer
    return decorate


@blueprint.route("/sparql", methods=_METHODS, provide_automatic_options=False)
@_protocol_errors("GET, HEAD, POST, OPTIONS")
def endpoint() -> Response:
    if request.method in ("GET", "HEAD") and not ("query" in request.args
                                                  or "update" in request.args):
        return _bare_get()
    if (request.method in ("GET", "HEAD") and "query" in request.args
            and "format" not in request.args and prefers_page()):
        return _query_page()
    protocol_request = _read_protocol_request()
    if protocol_request.update is not None:
        return _update(protocol_request.update, protocol_request)
    return _query(protocol_request)


@blueprint.route("/sparql", methods=["OPTIONS"])
def endpoint_options() -> Response:
    return _preflight("GET, HEAD, POST, OPTIONS")


def _query(protocol_request: ProtocolRequest) -> Response:
    service = _service()
    plan = service.plan(protocol_request, request.headers.get("Accept"),
                        request.values.get("format"))
    etag = plan.etag()
    if request.if_none_match.contains_weak(etag.removeprefix("W/").strip('"')):
        return Response(status=304, headers={"ETag": etag})
    answer = service.run(plan, request.remote_addr or "unknown")
    headers = [*answer.headers.items(), ("ETag", answer.etag)]
    if "format" in request.values:
        headers.append(("Content-Disposition",
                        f'inline; filename="result.{plan.format.extension}"'))
    return Response(answer.body, status=answer.status, headers=headers,
                    content_type=answer.media_type)


def _bare_get() -> Response:
    offered = [*formats.rdf_formats(), HTML]
    accept = request.headers.get("Accept")
    format_param = request.args.get("format")
    wanted = (next((f for f in offered if f.name == format_param), None) if format_param
              else choose(accept, offered))
    if wanted is None:
        types = ", ".join(f.media_type for f in offered)
        raise ProtocolError(406, f"the service description comes as {types}")
    if wanted is HTML:
        return _query_page()
    return Response(_describe(wanted), content_type=wanted.content_type)


#: service descriptions by (version, address, format): a few per version
_descriptions: dict[tuple[str, str, str], bytes] = {}


def _describe(fmt: Format) -> bytes:
    """The service description of the current version at the address asked: one graph, so
    as N-Quads its N-Triples and as TriG its Turtle."""
    served = state().served
    report = served.report()
    key = (report.version, request.base_url, fmt.name)
    if key not in _descriptions:
        if len(_descriptions) > 32:
            _descriptions.clear()
        counts = {report.graphs.get(name, name): n for name, n in report.triples.items()
                  if name != "total"}
        description = service_description(state().config, request.base_url, counts,
                                          updates=state().config.update_token is not None,
                                          prefixes=state().queries.prefixes)
        single = {"nquads": "ntriples", "trig": "turtle"}.get(fmt.name, fmt.name)
        _descriptions[key] = description.serialize(format=formats.by_name(single).rdflib,
                                                   encoding="utf-8")
    return _descriptions[key]


# ---- updates -------------------------------------------------------------------------------

def _authorize() -> None:
    token = state().config.update_token
    if token is None:
        raise ProtocolError(403, "SPARQL Update is not enabled on this endpoint (read-only). "
                                 "An operator enables it by setting KG_UPDATE_TOKEN; clients "
                                 "then send 'Authorization: Bearer <token>'.")
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(),
                                                             token.encode()):
        raise ProtocolError(401, "updates need 'Authorization: Bearer <token>' with the "
                                 "token the operator configured")


def _update(text: str, protocol_request: ProtocolRequest | None = None,
            status: int = 200) -> Response:
    # what the text is comes first: a query sent as an update (a client that guessed the
    # kind of a text from its words, comments included) is told so whoever sends it
    prefixes = state().queries.prefixes
    inspection = inspect_text(text, prefixes, "update")
    if inspection.kind != "update":
        raise ProtocolError(400, "this is a query, not an update: send it as 'query' (a GET "
                                 "or form parameter, or an application/sparql-query body); "
                                 "'update' and application/sparql-update are for SPARQL "
                                 "Update")
    _authorize()
    refuse_remote_calls(inspection, state().config.allowed_services)
    using = protocol_request or ProtocolRequest()
    try:
        summary = state().served.update(
            with_protocol_dataset(inspection, using.using_graph_uris,
                                  using.using_named_graph_uris),
            {p: prefixes[p] for p in inspection.undeclared})
    except UpdateFailed as e:
        raise ProtocolError(e.status, e.message) from e
    return Response(summary + "\n", status=status, mimetype="text/plain")


@blueprint.route("/update", methods=_METHODS, provide_automatic_options=False)
@_protocol_errors("POST, OPTIONS")
def update_endpoint() -> Response:
    if request.method != "POST":
        raise ProtocolError(405, "SPARQL Update is sent by POST")
    protocol_request = _read_protocol_request()
    if protocol_request.update is None:
        raise ProtocolError(400, "send an update: POST 'update' as a form field or the "
                                 "text as application/sparql-update")
    return _update(protocol_request.update, protocol_request)


@blueprint.route("/update", methods=["OPTIONS"])
def update_options() -> Response:
    return _preflight("POST, OPTIONS")


# ---- Graph Store Protocol --------------------------------------------------------------------

def _target_graph() -> str | None:
    """The graph IRI of a Graph Store request; ``None`` is the default graph."""
    graph = request.args.getlist("graph")
    if len(graph) == 1 and "default" not in request.args:
        if not ABSOLUTE_IRI.fullmatch(graph[0]):
            raise ProtocolError(400, f"{graph[0]!r} is not an absolute IRI")
        return graph[0]
    if not graph and "default" in request.args:
        return None
    raise ProtocolError(400, "name exactly one graph: ?graph=IRI or ?default")


@blueprint.route("/rdf-graph-store", methods=_METHODS,
                 provide_automatic_options=False)
@_protocol_errors("GET, HEAD, PUT, POST, DELETE, OPTIONS")
def graph_store() -> Response:
    graph = _target_graph()
    if request.method in ("GET", "HEAD"):
        return _read_graph(graph)
    if request.method in ("PUT", "POST", "DELETE"):
        return _write_graph(graph)
    raise ProtocolError(405, f"method {request.method} is not allowed on the graph store")


@blueprint.route("/rdf-graph-store", methods=["OPTIONS"])
def graph_store_options() -> Response:
    return _preflight("GET, HEAD, PUT, POST, DELETE, OPTIONS")


def _exists(service: QueryService, graph: str) -> bool:
    return b"true" in service.run(service.plan(ProtocolRequest(
        query=f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"), None, "tsv")).body


def _must_exist(service: QueryService, graph: str) -> None:
    if not _exists(service, graph):
        raise ProtocolError(404, f"there is no graph <{graph}> in this dataset; "
                                 "the service description lists the named graphs")


def _read_graph(graph: str | None) -> Response:
    """A graph; ``?default`` is the data graph, the one ``?default`` writes (and SPARQL
    Update's default graph): the default graph of queries is the union of all graphs."""
    service = _service()
    if graph is not None:
        _must_exist(service, graph)
    iri = graph or state().config.graph_iri("data")
    return _query(ProtocolRequest(
        query=f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"))


def _write_graph(graph: str | None) -> Response:
    _authorize()
    config = state().config
    target = ("DEFAULT" if graph in (None, config.graph_iri("data")) else f"GRAPH <{graph}>")
    inside = (lambda body: body) if target == "DEFAULT" else (
        lambda body: f"GRAPH <{graph}> {{ {body} }}")
    if request.method == "DELETE":
        if graph is not None:
            _must_exist(_service(), graph)
        return _update(f"DROP {target}")
    if request.mimetype == "multipart/form-data":  # §5.5: each part an RDF document
        parts = [(part.mimetype, part.read()) for part in request.files.values()]
    else:  # a body over the size limit is refused here (413)
        parts = [(request.mimetype, request.get_data())]
    triples = "".join(_triples(media_type, body) for media_type, body in parts)
    created = graph is not None and not _exists(_service(), graph)
    clear = f"DROP SILENT {target} ;\n" if request.method == "PUT" else ""
    return _update(f"{clear}INSERT DATA {{ {inside(triples)} }}", status=201 if created else 200)


def _triples(media_type: str, body: bytes) -> str:
    """A graph sent to the graph store, as N-Triples."""
    fmt = choose(media_type or None, formats.rdf_formats()) if media_type else None
    if fmt is None or fmt.kind != "rdf":
        names = ", ".join(f.media_type for f in formats.for_kind("rdf"))
        raise ProtocolError(415, f"send the graph as one of {names}")
    try:
        parsed = parse_upload(body, fmt.name)
    except UploadRefused as e:
        raise ProtocolError(400, str(e)) from e
    except Exception as e:  # rdflib raises many parser types
        raise ProtocolError(400, f"the {fmt.label} body does not parse: {e}") from e
    return parsed.serialize(format="nt", encoding="utf-8").decode("utf-8")


# ---- the query UI ----------------------------------------------------------------------------

def _query_page() -> Response:
    """The query UI; ``?query=`` (a permalink, as a browser opens it) fills the editor and runs."""
    return page("sparql.html", permalink=True, shared_query=request.args.get("query"),
                inference=request.args.get("inference") != "false")


@blueprint.app_context_processor
def _query_editor_context() -> dict[str, object]:
    """What ``_query_editor.html`` needs; any page that includes the editor gets it."""
    config = state().config

    def editor() -> dict[str, object]:
        return {
            "endpoint": "/sparql",
            "base_iri": config.base_iri,
            "examples": example_queries(config.root),
            "prefixes": dict(sorted(state().served.report().prefixes.items())),
            "result_formats": formats.for_kind("results"),
            "graph_formats": formats.rdf_formats(),
        }

    return {"query_editor": editor}
