"""``/ontology``: documentation of the ontology generated from the ontology graph (HTML),
or the ontology itself (RDF) for RDF clients; every ``BASE/ontology#Term`` lands on its anchor.

The documentation is computed once per version in a query process
(:mod:`kg.served.ontology`), with the labels of every term in every language; a page
picks the reader's language from them, so neither a new language nor a new web worker
computes it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from flask import Blueprint, Response, request
from rdflib import Graph, URIRef
from rdflib.term import Node

from kg import formats
from kg.served.describe import labels_best_first
from kg.served.ontology import RELATIONS, Documentation, Term
from kg.sparql.negotiate import choose
from kg.web import prefixes
from kg.web.html import HTML, not_acceptable, page
from kg.web.state import state
from kg.web.terms import Labels, TermView, choose_language, view

blueprint = Blueprint("ontology_doc", __name__)


@dataclass
class TermDoc:
    anchor: str
    term: TermView
    comment: str
    #: the terms it relates to, by relation (:data:`kg.served.ontology.RELATIONS`)
    relations: dict[str, list[TermView]]
    examples: list[tuple[TermView, TermView, TermView]]


def ontology_graph() -> Graph:
    graph = Graph()
    for triple in state().served.call("graph_triples", state().config.graph_iri("ontology")):
        graph.add(triple)
    prefixes.bind(graph)
    return graph


#: the classes under a parent, each with the classes under it
ClassTree: TypeAlias = list[tuple[TermView, "ClassTree"]]


def documentation(doc: Documentation, labels: Labels) -> dict[str, Any]:
    """The template's context: the documentation with every term named in the reader's
    language."""
    namespace = doc.namespace

    def views(nodes: list[URIRef]) -> list[TermView]:
        return sorted((view(n, labels) for n in nodes), key=lambda v: v.text.casefold())

    def term_doc(t: Term) -> TermDoc:
        def triple(s: Node, p: Node, o: Node) -> tuple[TermView, TermView, TermView]:
            return view(s, labels), view(p, labels), view(o, labels)

        return TermDoc(str(t.iri)[len(namespace):], view(t.iri, labels), t.comment,
                       {r: views(getattr(t, r)) for r in RELATIONS},
                       [triple(*e) for e in t.examples])

    classes = {c.iri: c for c in doc.classes}

    def tree(parent: URIRef | None) -> ClassTree:
        if parent is None:
            roots = [c for c in classes.values() if not any(p in classes for p in c.parents)]
        else:
            roots = [c for c in classes.values() if parent in c.parents]
        return sorted(((view(c.iri, labels), tree(c.iri)) for c in roots),
                      key=lambda n: n[0].text.casefold())

    return {
        "ontology_title": doc.title,
        "ontology_description": doc.description,
        "version": doc.version,
        "namespace": namespace,
        "hierarchy": tree(None),
        "classes": sorted((term_doc(c) for c in doc.classes), key=lambda d: d.anchor),
        "properties": sorted((term_doc(p) for p in doc.properties), key=lambda d: d.anchor),
    }


def _rdf(graph: Graph, fmt: formats.Format) -> Response:
    body = graph.serialize(format=fmt.rdflib, encoding="utf-8")
    response = Response(body, content_type=f"{fmt.media_type}; charset=utf-8")
    response.vary.add("Accept")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@blueprint.get("/ontology")
@blueprint.get("/ontology.<extension>")
def ontology(extension: str | None = None) -> Response:
    rdf_formats = [f for f in formats.rdf_formats() if f.kind == "rdf"]
    if extension is not None:
        fmt = next((f for f in rdf_formats if f.extension == extension), None)
        if fmt is None:
            known = ", ".join("." + f.extension for f in rdf_formats)
            return Response(f"The ontology is offered as {known}, not .{extension}.\n",
                            status=404, mimetype="text/plain")
        return _rdf(ontology_graph(), fmt)
    chosen = choose(request.headers.get("Accept"), [HTML, *rdf_formats])
    if chosen is None:
        return not_acceptable([HTML, *rdf_formats])
    if chosen is not HTML:
        return _rdf(ontology_graph(), chosen)
    doc: Documentation = state().served.call("ontology")
    labels = Labels(state().config.base_iri, choose_language(request))
    for subject, _p, label in labels_best_first(doc.labels):
        labels.add(str(subject), label)
    response = page("ontology.html", downloads=[(f.label, f"/ontology.{f.extension}")
                                                for f in rdf_formats],
                    **documentation(doc, labels))
    response.vary.add("Accept")
    return response
