"""The reconciliation service at ``/reconcile``: W3C Entity Reconciliation Service API 0.2.

``GET /reconcile`` is the manifest; ``queries=`` (GET or POST form) a batch, ``query=`` a
single query, ``extend=`` a data-extension request, each with an optional JSONP
``callback``. Preview, suggest and property proposals live under ``/reconcile/…``.

Every request is bounded before any work is done: its size (``reconcile_max_bytes``: 413),
its JSON (nesting, batch size, text lengths, property lists: 400, see
:mod:`kg.reconcile.bounds`), the requests its client has running (:mod:`kg.web.per_client`:
429) and its time (``reconcile_timeout``: 503). Errors are JSON ``{"error": ...}``.
"""

from __future__ import annotations

import functools
import json
import re
from html import escape
from typing import Any

from flask import Blueprint, Response, request, url_for

from kg.reconcile import bounds
from kg.reconcile.index import DEFAULT_TYPES
from kg.reconcile.service import QueryError
from kg.served import JobFailed
from kg.served import Refused as NotAdmitted
from kg.web.per_client import bounded
from kg.web.state import state

blueprint = Blueprint("reconcile", __name__, url_prefix="/reconcile")
_CALLBACK = re.compile(r"[A-Za-z_$][\w$.]{0,63}")
#: the preview's policy: the site's, but any page may frame it (OpenRefine runs on the
#: user's machine, at any address), and nothing but its style sheet loads
PREVIEW_CONTENT_SECURITY_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; "
                                   "base-uri 'none'; form-action 'none'; frame-ancestors *")


class Refused(Exception):
    """A request answered with an error status other than 400 (and, for 429 and 503, the
    seconds to wait before trying again)."""

    def __init__(self, message: str, status: int, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after


def _call(method: str, *args: Any) -> Any:
    """A call of the reconciliation service, in a query process (its index is built there,
    once per version) within ``reconcile_timeout``, as the work of the request's client:
    under the admission rules of SPARQL queries (:mod:`kg.served.admission`: long work is
    scarce, a budget per client, a pause after a stopped call). A query the service refuses
    is a :class:`QueryError`; one that ran out of time, was stopped as long work or was not
    admitted is :class:`Refused` (503 or 429)."""
    config = state().config
    seconds = min(config.reconcile_timeout, config.query_timeout)
    try:
        return state().served.call("reconcile", method, *args, timeout=seconds,
                                   client=request.remote_addr or "unknown")
    except NotAdmitted as e:
        raise Refused(e.message, e.status, e.retry_after) from None
    except JobFailed as e:
        if e.kind == "invalid":
            raise QueryError(e.message) from None
        if e.kind == "timeout" and not e.retry_after:
            raise Refused(f"the reconciliation ran longer than the {seconds:g} s limit and was "
                          "stopped; send smaller batches or shorter texts", 503) from None
        if e.kind in ("timeout", "busy", "memory"):
            raise Refused(f"{e.message}; send smaller batches or shorter texts", 503,
                          e.retry_after) from None
        raise


@blueprint.before_request
def _size() -> Response | None:
    """A request larger than ``reconcile_max_bytes`` is refused before it is read; so is a
    body of unknown length (chunked), which could only be measured by reading it."""
    if request.content_length is None and "Transfer-Encoding" in request.headers:
        return _error("send the request with its Content-Length (not chunked)", 411)
    size = (request.content_length or 0) + len(request.query_string)
    if size > state().config.reconcile_max_bytes:
        return _too_large(size)
    return None


def _too_large(size: int) -> Response:
    return _error(f"the request is {size} bytes; this service takes at most "
                  f"{state().config.reconcile_max_bytes} bytes at a time: send smaller "
                  "batches", 413)


def _answer(payload: Any, status: int = 200) -> Response:
    body = json.dumps(payload, ensure_ascii=False)
    callback = request.values.get("callback")
    if callback:
        if not _CALLBACK.fullmatch(callback):
            return _error("the callback must be a JavaScript identifier")
        return Response(f"{callback}({body});", status=status, mimetype="text/javascript")
    response = Response(body, status=status, mimetype="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _error(message: str, status: int = 400) -> Response:
    response = Response(json.dumps({"error": message}), status=status,
                        mimetype="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _json_parameter(name: str) -> Any:
    return bounds.read_json(request.values[name], name)


def _int_parameter(name: str, default: int) -> int:
    """A positive integer parameter, cut to :data:`kg.reconcile.bounds.MAX_LIMIT`."""
    raw = request.values.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or int(raw) < 1:
        raise QueryError(f"{name!r} must be a positive integer")
    return bounds.cap_limit(int(raw))


def _prefix() -> str:
    return bounds.check_text(request.args.get("prefix", ""), "the prefix")


def _answering(view: Any) -> Any:
    """The view with its refusals answered as JSON errors, and the per-client bound."""
    @bounded(_error)
    @functools.wraps(view)
    def answer(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except QueryError as e:
            return _error(str(e))
        except Refused as e:
            response = _error(e.message, e.status)
            if e.retry_after:
                response.headers["Retry-After"] = str(e.retry_after)
            return response
    return answer


def manifest() -> dict[str, Any]:
    config = state().config
    host = request.host_url.rstrip("/")
    service = f"{host}/reconcile"
    return {
        "versions": ["0.1", "0.2"],
        "name": "KazKor KG reconciliation",
        "identifierSpace": f"{config.base_iri}id/",
        "schemaSpace": f"{config.base_iri}ontology#",
        "defaultTypes": [{"id": t.id, "name": t.name} for t in DEFAULT_TYPES],
        "view": {"url": f"{host}/page/{{{{id}}}}"},
        "preview": {"url": f"{service}/preview?id={{{{id}}}}", "width": 420, "height": 180},
        "suggest": {
            "entity": {"service_url": service, "service_path": "/suggest/entity"},
            "type": {"service_url": service, "service_path": "/suggest/type"},
            "property": {"service_url": service, "service_path": "/suggest/property"},
        },
        "extend": {
            "propose_properties": {"service_url": service, "service_path": "/properties"},
            "property_settings": [],
        },
    }


@blueprint.route("", methods=["GET", "POST"])
@_answering
def endpoint() -> Response:
    config = state().config
    if "queries" in request.values:
        queries = bounds.check_batch(_json_parameter("queries"), config.reconcile_max_queries)
        return _answer(_call("reconcile_batch", queries))
    if "query" in request.values:
        raw = request.values["query"]
        query = _json_parameter("query") if raw.lstrip().startswith("{") else raw
        return _answer(_call("reconcile", bounds.check_query(query)))
    if "extend" in request.values:
        extend = bounds.check_extend(_json_parameter("extend"), config.reconcile_max_queries)
        return _answer(_call("extend", extend))
    return _answer(manifest())


@blueprint.get("/preview")
@_answering
def preview() -> Response:
    """A small card of an entity for OpenRefine, which shows it in a frame of its own page
    (at whatever address OpenRefine runs): any page may frame it, and it is styled by a
    style sheet, as the policy allows no inline style."""
    entity_id = bounds.check_text(request.args.get("id", ""), "the id")
    entity = _call("preview", entity_id)
    if entity is None:
        return _preview_response(f"<p>No entity {escape(entity_id)!s} in KazKor KG.</p>", 404)
    labels = "".join(
        f"<li><span lang=\"{escape(lang)}\">{escape(', '.join(texts))}</span>"
        f"{f' <small>({escape(lang)})</small>' if lang else ''}</li>"
        for lang, texts in sorted(entity["labels"].items()))
    page = f"{request.host_url.rstrip('/')}/page/{escape(entity['id'])}"
    body = (f"<strong><a href=\"{page}\" target=\"_blank\" rel=\"noopener\">"
            f"{escape(entity['label'])}</a></strong>"
            f"<div class=\"description\">{escape(entity['description'])}</div>"
            f"<ul>{labels}</ul><div class=\"iri\"><small>{escape(entity['iri'])}</small></div>")
    return _preview_response(body, 200, escape(entity["label"]))


def _preview_response(body: str, status: int, title: str = "KazKor KG") -> Response:
    style = url_for("static", filename="reconcile-preview.css")
    html = (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"<link rel=\"stylesheet\" href=\"{style}\"></head>"
            f"<body class=\"preview\">{body}</body></html>")
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PREVIEW_CONTENT_SECURITY_POLICY
    return response


@blueprint.get("/suggest/entity")
@_answering
def suggest_entity() -> Response:
    return _answer(_call("suggest_entities", _prefix(), request.args.get("type") or None,
                         _int_parameter("limit", 10)))


@blueprint.get("/suggest/type")
@_answering
def suggest_type() -> Response:
    return _answer(_call("suggest_types", _prefix(), _int_parameter("limit", 10)))


@blueprint.get("/suggest/property")
@_answering
def suggest_property() -> Response:
    return _answer(_call("suggest_properties", _prefix(), _int_parameter("limit", 10)))


@blueprint.get("/properties")
@_answering
def propose_properties() -> Response:
    type_id = request.args.get("type") or None
    return _answer(_call("propose_properties", type_id, _int_parameter("limit", 20)))
