"""The bare baseline for the HTTP benchmark: Flask + pyoxigraph, nothing else.

``BARE_STORE=<oxigraph folder> gunicorn -w 2 bare_app:app``: GET /sparql?query=... answers
SPARQL JSON over the union of the named graphs. No negotiation, limits, timeouts or
logging: what our endpoint's features are measured against.
"""

import os

import pyoxigraph as ox
from flask import Flask, Response, request

store = ox.Store.read_only(os.environ["BARE_STORE"])
app = Flask(__name__)


@app.get("/sparql")
def sparql() -> Response:
    result = store.query(request.args["query"], use_default_graph_as_union=True)
    body = result.serialize(format=ox.QueryResultsFormat.JSON)
    return Response(body, content_type="application/sparql-results+json")
