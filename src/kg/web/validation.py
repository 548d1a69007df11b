"""The validation report of the served release at ``/validation``.

An HTML page a person can read (results grouped by source file and subject, with
their messages), the SHACL validation report as RDF (Turtle, N-Triples, JSON-LD,
RDF/XML) and the same results as JSON, chosen by the Accept header or ``?format=``.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from rdflib import Graph

from kg import formats
from kg.formats import Format
from kg.pipeline.release import VALIDATION, VALIDATION_JSON
from kg.sparql.dataset import ServedDataset
from kg.sparql.negotiate import choose

blueprint = Blueprint("validation", __name__)

HTML = Format("html", "text/html", "HTML", "page", "html", ("application/xhtml+xml",))
JSON = Format("report-json", "application/json", "JSON", "report", "json")
#: the RDF formats of the registry the report is offered in, with rdflib's name for each
RDF_SERIALIZERS = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml"}
RDF_FORMATS = tuple(formats.by_name(name) for name in RDF_SERIALIZERS)
#: what /validation offers, in the server's order of preference
OFFERED: tuple[Format, ...] = (HTML, *RDF_FORMATS, JSON)


def _error(status: int, message: str) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def _chosen_format() -> Format | None:
    name = request.args.get("format")
    if name is not None:
        by_name = {f.name: f for f in OFFERED}
        return by_name.get(name)
    return choose(request.headers.get("Accept"), OFFERED)


@blueprint.get("/validation")
def report() -> Response:
    chosen = _chosen_format()
    if chosen is None:
        offered = ", ".join(f.media_type for f in OFFERED)
        if request.args.get("format") is not None:
            names = ", ".join(f.name for f in OFFERED)
            return _error(400, f"unknown format {request.args['format']!r}; use one of {names}")
        return _error(406, f"the validation report is available as {offered}")
    served = current_app.extensions["kg"]
    state, report = ServedDataset.of(served.config, served.release).validated()
    if chosen in (HTML, JSON):
        details = _details(state.path / VALIDATION_JSON)
        if chosen is JSON:
            body = json.dumps(details, indent=2, ensure_ascii=False)
            response = Response(body, mimetype=JSON.media_type)
        else:
            response = Response(render_template(
                "validation.html", release=served.release.id, generation=state.number,
                report=report,
                details=details, base_iri=served.config.base_iri,
                rdf_formats=RDF_FORMATS), mimetype="text/html")
    else:
        graph = Graph()
        graph.parse(state.path / VALIDATION, format="turtle")
        rdf = graph.serialize(format=RDF_SERIALIZERS[chosen.name], encoding="utf-8")
        response = Response(rdf,
                            content_type=chosen.media_type)
    response.headers["Vary"] = "Accept"
    return response


def _details(path: Any) -> dict[str, Any]:
    """The grouped results written by the build (empty for a release built before they were)."""
    if not path.is_file():
        return {"files": []}
    return json.loads(path.read_text(encoding="utf-8"))
