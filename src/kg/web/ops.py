"""Operational routes: ``/health`` for load balancers and monitors."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from kg.web.state import state

blueprint = Blueprint("ops", __name__)

#: seconds the health check gives a query process to count the served quads
HEALTH_SECONDS = 5.0


@blueprint.get("/health")
def health() -> Response:
    """The served version, and its quads as a query process counts them: a server whose
    query processes cannot read the data is not healthy, whatever else still answers."""
    served = state().served
    version = served.current()
    report = served.report(version)
    return jsonify(
        status="ok",
        release=report.release,
        version=version.id,
        generation=report.generation,
        triples=served.call("count", timeout=HEALTH_SECONDS),
        store=state().config.store,
    )
