"""The baseline for bench/sparql_overhead.py: a bare Flask + pyoxigraph SPARQL app.

No negotiation, limits, timeouts or query processes: the query runs in the web
worker and the answer is SPARQL JSON. ``KG_BENCH_OXIGRAPH`` is the release's
Oxigraph folder.
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
        _store = ox.Store.read_only(os.environ["KG_BENCH_OXIGRAPH"])
    result = _store.query(request.args["query"], use_default_graph_as_union=True)
    return Response(result.serialize(format=ox.QueryResultsFormat.JSON),
                    content_type="application/sparql-results+json")
