"""``/ontology``: documentation of the ontology generated from the ontology graph (HTML),
or the ontology itself (RDF) for RDF clients; every ``BASE/ontology#Term`` lands on its anchor."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, Response, request
from rdflib import OWL, RDF, RDFS, Graph, URIRef
from rdflib.term import Node

from kg import formats
from kg.sparql.negotiate import choose
from kg.web import prefixes
from kg.web.html import HTML, not_acceptable, page
from kg.web.resources import add_labels
from kg.web.state import state
from kg.web.terms import Labels, TermView, choose_language, view

blueprint = Blueprint("ontology_doc", __name__)

PROPERTY_TYPES = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
                  RDF.Property)
CHARACTERISTICS = (OWL.TransitiveProperty, OWL.SymmetricProperty, OWL.FunctionalProperty,
                   OWL.InverseFunctionalProperty, OWL.AsymmetricProperty,
                   OWL.ReflexiveProperty, OWL.IrreflexiveProperty)
EXAMPLES = 3


@dataclass
class TermDoc:
    anchor: str
    term: TermView
    comment: str
    kinds: list[TermView] = field(default_factory=list)
    parents: list[TermView] = field(default_factory=list)
    children: list[TermView] = field(default_factory=list)
    domain: list[TermView] = field(default_factory=list)
    range: list[TermView] = field(default_factory=list)
    inverse: list[TermView] = field(default_factory=list)
    disjoint: list[TermView] = field(default_factory=list)
    used_by: list[TermView] = field(default_factory=list)
    examples: list[tuple[TermView, TermView, TermView]] = field(default_factory=list)


def ontology_graph() -> Graph:
    graph = Graph()
    prefixes.bind(graph)
    for triple in state().served.call("graph_triples", state().config.graph_iri("ontology")):
        graph.add(triple)
    return graph


def _examples(classes: list[URIRef], properties: list[URIRef]
              ) -> dict[URIRef, list[tuple[Node, Node, Node]]]:
    """Up to ``EXAMPLES`` asserted uses of each term: instances of a class, triples of a
    property; two queries for the whole ontology."""
    base = state().config.base_iri
    store = state().served.store
    found: dict[URIRef, list[tuple[Node, Node, Node]]] = {}

    def keep(term: Node, triple: tuple[Node, Node, Node]) -> None:
        examples = found.setdefault(term, [])  # type: ignore[arg-type]
        if len(examples) < EXAMPLES:
            examples.append(triple)

    if classes:
        values = " ".join(f"<{c}>" for c in classes)
        for s, c in store.query(f"SELECT DISTINCT ?s ?c WHERE {{ VALUES ?c {{ {values} }} "
                                f"GRAPH <{base}graph/data> {{ ?s a ?c }} }} ORDER BY ?s").rows():
            keep(c, (s, RDF.type, c))  # type: ignore[arg-type]
    if properties:
        values = " ".join(f"<{p}>" for p in properties)
        for s, p, o in store.query(f"SELECT ?s ?p ?o WHERE {{ VALUES ?p {{ {values} }} "
                                   f"GRAPH <{base}graph/data> {{ ?s ?p ?o }} }} "
                                   "ORDER BY ?s").rows():
            keep(p, (s, p, o))  # type: ignore[arg-type]
    return found


def documentation(graph: Graph, labels: Labels) -> dict[str, object]:
    namespace = state().config.base_iri + "ontology#"
    ours = sorted({s for s in graph.subjects() if isinstance(s, URIRef)
                   and str(s).startswith(namespace)})
    classes = [s for s in ours if (s, RDF.type, OWL.Class) in graph
               or (s, RDF.type, RDFS.Class) in graph]
    properties = [s for s in ours if any((s, RDF.type, t) in graph for t in PROPERTY_TYPES)]
    examples = _examples(classes, properties)

    def views(nodes) -> list[TermView]:  # type: ignore[no-untyped-def]
        return sorted((view(n, labels) for n in set(nodes) if isinstance(n, URIRef)),
                      key=lambda v: v.text.casefold())

    def doc(term: URIRef, is_class: bool) -> TermDoc:
        d = TermDoc(str(term)[len(namespace):], view(term, labels),
                    str(graph.value(term, RDFS.comment) or ""))
        if is_class:
            d.parents = views(graph.objects(term, RDFS.subClassOf))
            d.children = views(graph.subjects(RDFS.subClassOf, term))
            d.disjoint = views([*graph.objects(term, OWL.disjointWith),
                                *graph.subjects(OWL.disjointWith, term)])
            d.used_by = views([*graph.subjects(RDFS.domain, term),
                               *graph.subjects(RDFS.range, term)])
        else:
            d.kinds = views(t for t in graph.objects(term, RDF.type)
                            if t in PROPERTY_TYPES or t in CHARACTERISTICS)
            d.parents = views(graph.objects(term, RDFS.subPropertyOf))
            d.children = views(graph.subjects(RDFS.subPropertyOf, term))
            d.domain = views(graph.objects(term, RDFS.domain))
            d.range = views(graph.objects(term, RDFS.range))
            d.inverse = views([*graph.objects(term, OWL.inverseOf),
                               *graph.subjects(OWL.inverseOf, term)])
        d.examples = [(view(s, labels), view(p, labels), view(o, labels))
                      for s, p, o in examples.get(term, [])]
        return d

    def tree(parent: URIRef | None) -> list[tuple[TermView, list]]:  # type: ignore[type-arg]
        if parent is None:
            roots = [c for c in classes if not any(
                p in classes for p in graph.objects(c, RDFS.subClassOf))]
        else:
            roots = [c for c in classes if (c, RDFS.subClassOf, parent) in graph]
        return sorted(((view(c, labels), tree(c)) for c in roots),
                      key=lambda n: n[0].text.casefold())

    ontology = URIRef(namespace.rstrip("#"))
    return {
        "ontology_title": str(graph.value(ontology, URIRef("http://purl.org/dc/terms/title"))
                              or "Ontology"),
        "ontology_description": str(graph.value(
            ontology, URIRef("http://purl.org/dc/terms/description")) or ""),
        "version": str(graph.value(ontology, OWL.versionInfo) or ""),
        "namespace": namespace,
        "hierarchy": tree(None),
        "classes": sorted((doc(c, True) for c in classes), key=lambda d: d.anchor),
        "properties": sorted((doc(p, False) for p in properties), key=lambda d: d.anchor),
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
    graph = ontology_graph()
    rdf_formats = [f for f in formats.rdf_formats() if f.kind == "rdf"]
    if extension is not None:
        fmt = next((f for f in rdf_formats if f.extension == extension), None)
        if fmt is None:
            known = ", ".join("." + f.extension for f in rdf_formats)
            return Response(f"The ontology is offered as {known}, not .{extension}.\n",
                            status=404, mimetype="text/plain")
        return _rdf(graph, fmt)
    chosen = choose(request.headers.get("Accept"), [HTML, *rdf_formats])
    if chosen is None:
        return not_acceptable([HTML, *rdf_formats])
    if chosen is not HTML:
        return _rdf(graph, chosen)
    labels = Labels(state().config.base_iri, choose_language(request))
    add_labels(labels, {str(t) for triple in graph for t in triple if isinstance(t, URIRef)})
    response = page("ontology.html", downloads=[(f.label, f"/ontology.{f.extension}")
                                                for f in rdf_formats],
                    **documentation(graph, labels))
    response.vary.add("Accept")
    return response
