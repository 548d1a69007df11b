"""``/why``: how an inferred fact follows from asserted ones (the explanation of ``kg why``).

The entity pages link each inferred fact here. The explainer is built once per process
from the served release's graphs, read through the store interface.
"""

from __future__ import annotations

import threading

from flask import Blueprint, Response, current_app, jsonify, request
from rdflib import Graph, URIRef
from rdflib.term import Node
from rdflib.util import from_n3

from kg.config import GRAPH_NAMES
from kg.pipeline.explain import Explainer, Step
from kg.sparql.negotiate import choose
from kg.web.html import HTML, JSON, page

blueprint = Blueprint("why", __name__)

#: above this many triples the explainer (which holds the graphs in memory) is not built
MAX_TRIPLES = 500_000
_lock = threading.Lock()


def _explainer() -> Explainer | None:
    served = current_app.extensions["kg"]
    cached = current_app.extensions.get("kg.why")
    if cached is not None and cached[0] == served.release.id:
        return cached[1]
    with _lock:
        store = served.store
        if store.count() > MAX_TRIPLES:
            return None
        graphs: dict[str, Graph] = {}
        for name in GRAPH_NAMES:
            result = store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH "
                                 f"<{served.config.graph_iri(name)}> {{ ?s ?p ?o }} }}")
            graph = Graph()
            for triple in result.triples():
                graph.add(triple)
            graphs[name] = graph
        inferred = graphs.pop("inferred")
        explainer = Explainer(graphs, inferred, served.report.get("prefixes"))
        current_app.extensions["kg.why"] = (served.release.id, explainer)
        return explainer


def _term(text: str | None, what: str) -> Node:
    if not text:
        raise ValueError(f"the {what} is missing")
    text = text.strip()
    if not text.startswith(("<", '"', "_:")):
        text = f"<{text}>"
    term = from_n3(text)
    if what != "object" and not isinstance(term, URIRef):
        raise ValueError(f"the {what} must be an IRI")
    return term


def _step_view(step: Step, explainer: Explainer) -> dict[str, object]:
    nsm = explainer.graph.namespace_manager
    return {
        "triple": " ".join(t.n3(nsm) for t in step.triple),
        "rule": step.rule,
        "graph": step.graph,
        "premises": [_step_view(p, explainer) for p in step.premises],
    }


@blueprint.get("/why")
def why() -> Response:
    try:
        triple = (_term(request.args.get("s"), "subject"),
                  _term(request.args.get("p"), "predicate"),
                  _term(request.args.get("o"), "object"))
    except (ValueError, SyntaxError, KeyError) as e:
        return Response(f"Give the fact to explain as s=IRI, p=IRI and o=IRI or an N-Triples "
                        f"literal: {e}\n", status=400, mimetype="text/plain")
    explainer = _explainer()
    if explainer is None:
        return Response("The graph is too large to explain facts on the web; use `kg why`.\n",
                        status=503, mimetype="text/plain")
    explanation = explainer.explain(triple)
    if choose(request.headers.get("Accept"), [HTML, JSON]) is JSON:
        return jsonify(explanation.to_dict())
    proof = _step_view(explanation.proof, explainer) if explanation.proof else None
    return page("why.html", explanation=explanation, proof=proof,
                head=" ".join(t.n3(explainer.graph.namespace_manager) for t in triple),
                also_by=explanation.also_by)
