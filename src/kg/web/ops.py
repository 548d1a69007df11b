"""Operational routes: ``/health`` for load balancers and monitors."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

blueprint = Blueprint("ops", __name__)


@blueprint.get("/health")
def health():  # type: ignore[no-untyped-def]
    served = current_app.extensions["kg"]
    return jsonify(
        status="ok",
        release=served.release.id,
        triples=served.store.count(),
        store=served.config.store,
    )
