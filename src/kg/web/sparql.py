"""The SPARQL 1.1 Protocol endpoint at ``/sparql``."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from kg.sparql.protocol import ProtocolError, parse_request

blueprint = Blueprint("sparql", __name__)


def _error(status: int, message: str) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


@blueprint.route("/sparql", methods=["GET", "POST"])
def endpoint() -> Response:
    config = current_app.extensions["kg"].config
    try:
        protocol_request = parse_request(
            request.method,
            request.content_type,
            request.args.to_dict(flat=False),
            request.form.to_dict(flat=False)
            if request.mimetype == "application/x-www-form-urlencoded" else {},
            request.get_data(cache=False)
            if request.mimetype != "application/x-www-form-urlencoded" else b"",
            max_query_bytes=config.max_query_bytes,
        )
        if protocol_request.update is not None:
            raise ProtocolError(403, "SPARQL Update is not enabled on this endpoint")
        answer = current_app.extensions["kg.query"].answer(
            protocol_request, request.headers.get("Accept"), request.args.get("format"))
    except ProtocolError as e:
        return _error(e.status, e.message)
    response = Response(answer.body, status=answer.status, content_type=answer.media_type)
    response.headers["Vary"] = "Accept"
    response.headers.update(answer.headers)
    return response
