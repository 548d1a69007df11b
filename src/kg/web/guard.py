"""Protections of every response: a per-client bound, a body size limit, HTML security headers.

- A client address may have at most ``client_concurrency`` requests to the SPARQL
  endpoints (``/sparql``, ``/update``, ``/rdf-graph-store``) running at once in a web
  worker; one more is answered 429 with ``Retry-After`` instead of taking a query process
  from everyone else.
- A request body larger than ``max_request_bytes`` is refused with 413 before it is read.
- Every HTML response (pages, the query UI, error pages) carries the Content-Security-Policy
  and ``X-Content-Type-Options: nosniff``.
"""

from __future__ import annotations

import threading
from collections import Counter

from flask import Flask, Response, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from kg.config import Config
from kg.web.html import secure

#: the paths whose requests may run queries or updates
BOUNDED_PATHS = frozenset({"/sparql", "/update", "/rdf-graph-store"})
#: seconds a refused client is asked to wait
RETRY_AFTER_SECONDS = 1


class ClientBound:
    """How many bounded requests each client address has running in this process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._running: Counter[str] = Counter()
        self._lock = threading.Lock()

    def enter(self, client: str) -> bool:
        with self._lock:
            if self.limit and self._running[client] >= self.limit:
                return False
            self._running[client] += 1
            return True

    def leave(self, client: str) -> None:
        with self._lock:
            self._running[client] -= 1
            if self._running[client] <= 0:
                del self._running[client]


def install(app: Flask, config: Config) -> None:
    app.config["MAX_CONTENT_LENGTH"] = config.max_request_bytes
    bound = ClientBound(config.client_concurrency)

    @app.before_request
    def _bound_client() -> Response | None:
        if request.path not in BOUNDED_PATHS or request.method == "OPTIONS":
            return None
        client = request.remote_addr or "unknown"
        if not bound.enter(client):
            return Response(
                f"too many requests: this client already has {bound.limit} requests running "
                f"on this endpoint; wait for them and retry after {RETRY_AFTER_SECONDS} s\n",
                status=429, mimetype="text/plain",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        g.kg_bound_client = client
        return None

    @app.teardown_request
    def _release_client(_error: BaseException | None) -> None:
        client = g.pop("kg_bound_client", None)
        if client is not None:
            bound.leave(client)

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(_error: RequestEntityTooLarge) -> Response:
        return Response(f"the request body is larger than this server accepts "
                        f"({config.max_request_bytes} bytes); send less\n",
                        status=413, mimetype="text/plain")

    @app.after_request
    def _secure_html(response: Response) -> Response:
        if response.mimetype == "text/html":
            secure(response)
        return response
