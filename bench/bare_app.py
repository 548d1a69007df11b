"""The bare baseline for the HTTP benchmarks: Flask + pyoxigraph, nothing else.

``BARE_STORE=<oxigraph folder> gunicorn -w 2 bare_app:app``: GET /sparql?query=... answers
SPARQL JSON over the union of the named graphs. No negotiation, limits, timeouts, query
processes or logging: what our endpoint's features are measured against. The store is
opened on the first request, after gunicorn forked the worker.
"""

from __future__ import annotations

import os

import pyoxigraph as ox
from flask import Flask, Response, request

app = Flask(__name__)
_store: ox.Store | None = None


@app.get("/sparql")
def sparql() -> Response:
    global _store
    if _store is None:
        _store = ox.Store.read_only(os.environ["BARE_STORE"])
    result = _store.query(request.args["query"], use_default_graph_as_union=True)
    return Response(result.serialize(format=ox.QueryResultsFormat.JSON),
                    content_type="application/sparql-results+json")
