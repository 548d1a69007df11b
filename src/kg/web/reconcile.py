"""The reconciliation service at ``/reconcile``: W3C Entity Reconciliation Service API 0.2.

``GET /reconcile`` is the manifest; ``queries=`` (GET or POST form) a batch, ``query=`` a
single query, ``extend=`` a data-extension request, each with an optional JSONP
``callback``. Preview, suggest and property proposals live under ``/reconcile/…``.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

from flask import Blueprint, Response, request

from kg.reconcile.index import DEFAULT_TYPES
from kg.reconcile.service import QueryError
from kg.served import JobFailed
from kg.web.state import state

blueprint = Blueprint("reconcile", __name__, url_prefix="/reconcile")
_CALLBACK = re.compile(r"[A-Za-z_$][\w$.]{0,63}")


def _call(method: str, *args: Any) -> Any:
    """A call of the reconciliation service, in a query process (its index is built there,
    once per version); a query the service refuses is a :class:`QueryError`."""
    try:
        return state().served.call("reconcile", method, *args)
    except JobFailed as e:
        if e.kind == "invalid":
            raise QueryError(e.message) from None
        raise


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
    return Response(json.dumps({"error": message}), status=status, mimetype="application/json")


def _json_parameter(name: str) -> Any:
    try:
        return json.loads(request.values[name])
    except ValueError as e:
        raise QueryError(f"the {name!r} parameter is not valid JSON: {e}") from e


def _int_parameter(name: str, default: int) -> int:
    raw = request.values.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise QueryError(f"{name!r} must be a positive integer")
    return int(raw)


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
def endpoint() -> Response:
    try:
        if "queries" in request.values:
            queries = _json_parameter("queries")
            if not isinstance(queries, dict):
                raise QueryError("'queries' must be a JSON object of queries by key")
            return _answer(_call("reconcile_batch", queries))
        if "query" in request.values:
            raw = request.values["query"]
            query = _json_parameter("query") if raw.lstrip().startswith("{") else raw
            return _answer(_call("reconcile", query))
        if "extend" in request.values:
            return _answer(_call("extend", _json_parameter("extend")))
    except QueryError as e:
        return _error(str(e))
    return _answer(manifest())


@blueprint.get("/preview")
def preview() -> Response:
    entity_id = request.args.get("id", "")
    entity = _call("preview", entity_id)
    if entity is None:
        return Response(f"<p>No entity {escape(entity_id)!s} in KazKor KG.</p>", status=404,
                        mimetype="text/html")
    labels = "".join(
        f"<li><span lang=\"{escape(lang)}\">{escape(', '.join(texts))}</span>"
        f"{f' <small>({escape(lang)})</small>' if lang else ''}</li>"
        for lang, texts in sorted(entity["labels"].items()))
    page = f"{request.host_url.rstrip('/')}/page/{escape(entity['id'])}"
    html = (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>"
            f"{escape(entity['label'])}</title></head>"
            f"<body style=\"font:14px sans-serif;margin:6px\">"
            f"<strong><a href=\"{page}\" target=\"_blank\">{escape(entity['label'])}</a>"
            f"</strong><div>{escape(entity['description'])}</div><ul>{labels}</ul>"
            f"<div><small>{escape(entity['iri'])}</small></div></body></html>")
    return Response(html, mimetype="text/html")


@blueprint.get("/suggest/entity")
def suggest_entity() -> Response:
    try:
        return _answer(_call("suggest_entities", request.args.get("prefix", ""),
                             request.args.get("type") or None, _int_parameter("limit", 10)))
    except QueryError as e:
        return _error(str(e))


@blueprint.get("/suggest/type")
def suggest_type() -> Response:
    try:
        return _answer(_call("suggest_types", request.args.get("prefix", ""),
                             _int_parameter("limit", 10)))
    except QueryError as e:
        return _error(str(e))


@blueprint.get("/suggest/property")
def suggest_property() -> Response:
    try:
        return _answer(_call("suggest_properties", request.args.get("prefix", ""),
                             _int_parameter("limit", 10)))
    except QueryError as e:
        return _error(str(e))


@blueprint.get("/properties")
def propose_properties() -> Response:
    type_id = request.args.get("type") or None
    try:
        return _answer(_call("propose_properties", type_id, _int_parameter("limit", 20)))
    except QueryError as e:
        return _error(str(e))
