"""A per-client bound on the reading endpoints that take costly input besides SPARQL
(``/reconcile`` and its suggest and extend services, ``/search``).

A client address may have at most ``client_concurrency`` of these requests running at once
in a web worker (the same setting as the SPARQL endpoints' bound, :mod:`kg.web.guard`, with
a count of its own); one more is refused with 429 and ``Retry-After`` before its input is
read, so that one client cannot hold every request thread of a worker.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, request

from kg.web.guard import RETRY_AFTER_SECONDS, ClientBound
from kg.web.state import state

_EXTENSION = "kg.per_client"

View = Callable[..., Response]


def _bound() -> ClientBound:
    bounds: dict[str, ClientBound] = current_app.extensions.setdefault(_EXTENSION, {})
    # one count for all these endpoints, made on the first request of the app
    return bounds.setdefault("reading", ClientBound(state().config.client_concurrency))


def too_many_message(limit: int) -> str:
    return (f"too many requests: this client already has {limit} requests running on the "
            f"search and reconciliation services; wait for them and retry after "
            f"{RETRY_AFTER_SECONDS} s")


def bounded(refuse: Callable[[str, int], Response]) -> Callable[[View], View]:
    """The view, run only while its client has fewer than ``client_concurrency`` such requests
    running; otherwise ``refuse(message, 429)`` with ``Retry-After``."""
    def decorate(view: View) -> View:
        @functools.wraps(view)
        def run(*args: Any, **kwargs: Any) -> Response:
            bound = _bound()
            client = request.remote_addr or "unknown"
            if not bound.enter(client):
                response = refuse(too_many_message(bound.limit), 429)
                response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
                return response
            try:
                return view(*args, **kwargs)
            finally:
                bound.leave(client)
        return run
    return decorate
