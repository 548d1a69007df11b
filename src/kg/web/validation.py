"""The validation report of the served release at ``/validation``.

An HTML page a person can read (results grouped by source file and subject, with
their messages), the SHACL validation report as RDF (Turtle, N-Triples, JSON-LD,
RDF/XML) and the same results as JSON, chosen by the Accept header or ``?format=``.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, render_template, request
from rdflib import Graph

from kg import formats
from kg.formats import Format
from kg.pipeline.release import VALIDATION, VALIDATION_JSON
from kg.sparql.negotiate import choose
from kg.web import prefixes
from kg.web.html import HTML, site_context
from kg.web.state import state

blueprint = Blueprint("validation", __name__)

JSON = Format("report-json", "application/json", "JSON", "report", "json")
#: the report is one graph: it comes in the registry's formats of one graph
RDF_FORMATS = tuple(formats.graph_formats())
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
    served = state().served
    version = served.current()
    report = served.report(version)
    if chosen in (HTML, JSON):
        details = _details(version.path / VALIDATION_JSON)
        if chosen is JSON:
            body = json.dumps(details, indent=2, ensure_ascii=False)
            response = Response(body, mimetype=JSON.media_type)
        else:
            response = Response(render_template("validation.html", **{
                **site_context(), "release": report.release,
                "generation": report.generation, "report": {"validation": report.validation},
                "details": details, "base_iri": state().config.base_iri,
                "rdf_formats": RDF_FORMATS}), mimetype="text/html")
    else:
        graph = Graph()
        graph.parse(version.path / VALIDATION, format="turtle")
        prefixes.bind(graph)
        rdf = graph.serialize(format=chosen.rdflib, encoding="utf-8")
        response = Response(rdf, content_type=chosen.media_type)
    response.headers["Vary"] = "Accept"
    return response


def _details(path: Any) -> dict[str, Any]:
    """The grouped results written by the build (empty for a release built before they were)."""
    if not path.is_file():
        return {"files": []}
    return json.loads(path.read_text(encoding="utf-8"))
