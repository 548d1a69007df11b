"""The documentation of the ontology, computed once per version in a query process.

What ``/ontology`` shows of each class and property (its comment, its place in the
hierarchies, domain, range, inverse, disjoint classes, up to :data:`EXAMPLES` asserted uses)
by IRI, and the asserted labels of every term it names in every language: the page picks
the reader's language from them, so the same result serves every language and every web
worker (:mod:`kg.served.jobs` keeps it in the process's per-version cache).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rdflib import OWL, RDF, RDFS, Graph, Literal, URIRef
from rdflib.term import Node

from kg.served.describe import labels_of
from kg.store import Store

PROPERTY_TYPES = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
                  RDF.Property)
CHARACTERISTICS = (OWL.TransitiveProperty, OWL.SymmetricProperty, OWL.FunctionalProperty,
                   OWL.InverseFunctionalProperty, OWL.AsymmetricProperty,
                   OWL.ReflexiveProperty, OWL.IrreflexiveProperty)
EXAMPLES = 3
DCTERMS = "http://purl.org/dc/terms/"
#: the statements of the ontology graph the documentation reads (not its labels and notes)
STRUCTURE = (RDF.type, RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range,
             RDFS.comment, OWL.inverseOf, OWL.disjointWith, OWL.versionInfo,
             URIRef(DCTERMS + "title"), URIRef(DCTERMS + "description"))


#: the relations of a term to other terms, as :class:`Term` names them
RELATIONS = ("kinds", "parents", "children", "domain", "range", "inverse", "disjoint",
             "used_by")


@dataclass
class Term:
    """One class or property of the ontology, its relations as IRIs."""

    iri: URIRef
    comment: str
    kinds: list[URIRef] = field(default_factory=list)
    parents: list[URIRef] = field(default_factory=list)
    children: list[URIRef] = field(default_factory=list)
    domain: list[URIRef] = field(default_factory=list)
    range: list[URIRef] = field(default_factory=list)
    inverse: list[URIRef] = field(default_factory=list)
    disjoint: list[URIRef] = field(default_factory=list)
    used_by: list[URIRef] = field(default_factory=list)
    examples: list[tuple[Node, Node, Node]] = field(default_factory=list)


@dataclass
class Documentation:
    title: str
    description: str
    version: str
    namespace: str
    classes: list[Term]
    properties: list[Term]
    #: (subject, label property, label) of every term it names, in every language
    labels: list[tuple[URIRef, URIRef, Literal]]


def _examples(store: Store, data_graph: str, classes: list[URIRef], properties: list[URIRef]
              ) -> dict[URIRef, list[tuple[Node, Node, Node]]]:
    """Up to ``EXAMPLES`` asserted uses of each term: instances of a class, triples of a
    property; two queries for the whole ontology."""
    found: dict[URIRef, list[tuple[Node, Node, Node]]] = {}

    def keep(term: Node, triple: tuple[Node, Node, Node]) -> None:
        examples = found.setdefault(term, [])  # type: ignore[arg-type]
        if len(examples) < EXAMPLES:
            examples.append(triple)

    if classes:
        values = " ".join(f"<{c}>" for c in classes)
        for s, c in store.query(f"SELECT DISTINCT ?s ?c WHERE {{ VALUES ?c {{ {values} }} "
                                f"GRAPH <{data_graph}> {{ ?s a ?c }} }} ORDER BY ?s").rows():
            keep(c, (s, RDF.type, c))  # type: ignore[arg-type]
    if properties:
        values = " ".join(f"<{p}>" for p in properties)
        for s, p, o in store.query(f"SELECT ?s ?p ?o WHERE {{ VALUES ?p {{ {values} }} "
                                   f"GRAPH <{data_graph}> {{ ?s ?p ?o }} }} "
                                   "ORDER BY ?s").rows():
            keep(p, (s, p, o))  # type: ignore[arg-type]
    return found


def document(store: Store, base: str, ontology_graph: str, data_graph: str,
             inferred_graph: str) -> Documentation:
    """The documentation of the ontology in ``ontology_graph``."""
    graph = Graph()
    wanted = " ".join(f"<{p}>" for p in STRUCTURE)
    for triple in store.query(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?p {{ {wanted} }} "
            f"GRAPH <{ontology_graph}> {{ ?s ?p ?o }} }}").triples():
        graph.add(triple)
    namespace = base + "ontology#"
    ours = sorted({s for s in graph.subjects() if isinstance(s, URIRef)
                   and str(s).startswith(namespace)})
    classes = [s for s in ours if (s, RDF.type, OWL.Class) in graph
               or (s, RDF.type, RDFS.Class) in graph]
    properties = [s for s in ours if any((s, RDF.type, t) in graph for t in PROPERTY_TYPES)]
    examples = _examples(store, data_graph, classes, properties)

    def iris(nodes: Iterable[Node]) -> list[URIRef]:
        return sorted({n for n in nodes if isinstance(n, URIRef)})

    def term(iri: URIRef, is_class: bool) -> Term:
        t = Term(iri, str(graph.value(iri, RDFS.comment) or ""),
                 examples=examples.get(iri, []))
        if is_class:
            t.parents = iris(graph.objects(iri, RDFS.subClassOf))
            t.children = iris(graph.subjects(RDFS.subClassOf, iri))
            t.disjoint = iris([*graph.objects(iri, OWL.disjointWith),
                               *graph.subjects(OWL.disjointWith, iri)])
            t.used_by = iris([*graph.subjects(RDFS.domain, iri),
                              *graph.subjects(RDFS.range, iri)])
        else:
            t.kinds = iris(k for k in graph.objects(iri, RDF.type)
                           if k in PROPERTY_TYPES or k in CHARACTERISTICS)
            t.parents = iris(graph.objects(iri, RDFS.subPropertyOf))
            t.children = iris(graph.subjects(RDFS.subPropertyOf, iri))
            t.domain = iris(graph.objects(iri, RDFS.domain))
            t.range = iris(graph.objects(iri, RDFS.range))
            t.inverse = iris([*graph.objects(iri, OWL.inverseOf),
                              *graph.subjects(OWL.inverseOf, iri)])
        return t

    documented = [term(c, True) for c in classes] + [term(p, False) for p in properties]
    named = {str(n) for t in documented for n in (
        t.iri, *t.kinds, *t.parents, *t.children, *t.domain, *t.range, *t.inverse,
        *t.disjoint, *t.used_by, *(x for triple in t.examples for x in triple))
        if isinstance(n, URIRef)}
    ontology = URIRef(namespace.rstrip("#"))
    return Documentation(
        title=str(graph.value(ontology, URIRef(DCTERMS + "title")) or "Ontology"),
        description=str(graph.value(ontology, URIRef(DCTERMS + "description")) or ""),
        version=str(graph.value(ontology, OWL.versionInfo) or ""),
        namespace=namespace,
        classes=documented[:len(classes)],
        properties=documented[len(classes):],
        labels=labels_of(store, named, inferred_graph))
