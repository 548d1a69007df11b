"""``/why``: how an inferred fact follows from asserted ones (the explanation of ``kg why``).

The entity pages link each inferred fact here. The explainer is built once per version in
each query process (kg.served.jobs.explain).
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from rdflib import Graph, URIRef
from rdflib.namespace import NamespaceManager
from rdflib.term import Node
from rdflib.util import from_n3

from kg.pipeline.explain import Explanation, Step
from kg.sparql.negotiate import choose
from kg.web.html import HTML, JSON, page
from kg.web.state import state

blueprint = Blueprint("why", __name__)

#: above this many triples the explainer (which holds the graphs in memory) is not built
MAX_TRIPLES = 500_000


def _term(text: str | None, what: str) -> Node:
    if not text:
        raise ValueError(f"the {what} is missing")
    text = text.strip()
    if not text.startswith(("<", '"', "_:")):
        text = f"<{text}>"
    term = from_n3(text)
    if not isinstance(term, Node):
        raise ValueError(f"the {what} is not an IRI, a literal or a blank node")
    if what != "object" and not isinstance(term, URIRef):
        raise ValueError(f"the {what} must be an IRI")
    return term


def _step_view(step: Step, nsm: NamespaceManager) -> dict[str, object]:
    return {
        "triple": " ".join(t.n3(nsm) for t in step.triple),
        "rule": step.rule,
        "graph": step.graph,
        "premises": [_step_view(p, nsm) for p in step.premises],
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
    explained: tuple[Explanation, dict[str, str]] | None = state().served.call(
        "explain", triple, MAX_TRIPLES)
    if explained is None:
        return Response("The graph is too large to explain facts on the web; use `kg why`.\n",
                        status=503, mimetype="text/plain")
    explanation, prefixes = explained
    nsm = NamespaceManager(Graph(), bind_namespaces="none")
    for prefix, namespace in prefixes.items():
        nsm.bind(prefix, namespace, override=True)
    explanation.namespace_manager = nsm
    if choose(request.headers.get("Accept"), [HTML, JSON]) is JSON:
        return jsonify(explanation.to_dict())
    proof = _step_view(explanation.proof, nsm) if explanation.proof else None
    return page("why.html", explanation=explanation, proof=proof,
                head=" ".join(t.n3(nsm) for t in triple), also_by=explanation.also_by)
