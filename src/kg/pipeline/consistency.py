"""Consistency: the clashes that make a closed graph contradict itself, in a person's words.

Checked on the graph after reasoning (asserted + inferred), whatever engine made it:
members of ``owl:Nothing``; members of two disjoint or complementary classes;
a functional (or inverse-functional) property with two values that differ;
resources both ``owl:sameAs`` and ``owl:differentFrom`` each other (or in one
``owl:AllDifferent``); irreflexive, asymmetric and disjoint properties violated.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from rdflib import OWL, RDF, RDFS, Graph, Literal
from rdflib.collection import Collection
from rdflib.namespace import NamespaceManager
from rdflib.term import Node

from kg.pipeline.load import SourceLocations
from kg.pipeline.ntriples import Terms, TextTriple, to_rdflib_triples
from kg.pipeline.reason import TYPE, is_schema
from kg.terms import sorted_terms

Triple = tuple[Node, Node, Node]
#: where the subjects of the sources are written (see kg.pipeline.load.SourceLocations)
SubjectFiles = SourceLocations


@dataclass(frozen=True)
class Clash:
    """One contradiction: a sentence with ``{0}``, ``{1}``… for the resources it names."""

    kind: str
    sentence: str
    resources: tuple[Node, ...]
    triples: tuple[Triple, ...]

    def describe(self, graph: Graph, subject_files: SubjectFiles | None = None,
                 root: Path | None = None, namespaces: NamespaceManager | None = None) -> str:
        namespaces = namespaces or graph.namespace_manager
        names = [describe_node(n, graph, subject_files, root, namespaces)
                 for n in self.resources]
        lines = [self.sentence.format(*names), "    the triples involved:"]
        lines += [f"      {' '.join(term.n3(namespaces) for term in t)}" for t in self.triples]
        return "\n".join(lines)


def describe_node(node: Node, graph: Graph, subject_files: SubjectFiles | None = None,
                  root: Path | None = None, namespaces: NamespaceManager | None = None) -> str:
    """``kkid:x ("its label", data/ttl/file.ttl:12)``: a name a person can look up."""
    name = node.n3(namespaces or graph.namespace_manager)
    if isinstance(node, Literal):
        return name
    notes = []
    labels = list(graph.objects(node, RDFS.label))
    if labels:
        label = next((x for x in labels if getattr(x, "language", None) == "en"), labels[0])
        notes.append(f'"{label}"')
    where = subject_files.locate(node) if subject_files is not None else None
    if where is not None:
        path, line = where
        if root is not None and path.is_relative_to(root):
            path = path.relative_to(root)
        notes.append(f"{path}:{line}" if line else str(path))
    return f"{name} ({', '.join(notes)})" if notes else name


class InconsistentGraph(Exception):
    """The closed graph contradicts itself; the message lists every clash in words."""

    def __init__(self, message: str, clashes: list[Clash], engine_errors: list[str]) -> None:
        super().__init__(message)
        self.clashes = clashes
        self.engine_errors = engine_errors


def _list(graph: Graph, head: Node) -> list[Node]:
    return list(Collection(graph, head))


def _different(graph: Graph, a: Node, b: Node) -> bool:
    return (a, OWL.differentFrom, b) in graph or (b, OWL.differentFrom, a) in graph


def _distinct_values(graph: Graph, a: Node, b: Node) -> bool:
    if isinstance(a, Literal) and isinstance(b, Literal):
        try:
            return not a.eq(b)
        except TypeError:
            return a != b
    return _different(graph, a, b)


def _nothing(graph: Graph) -> Iterator[Clash]:
    for x in sorted_terms(graph.subjects(RDF.type, OWL.Nothing)):
        yield Clash("nothing", "{0} is a member of owl:Nothing, the class that can have no member.",
                    (x,), ((x, RDF.type, OWL.Nothing),))


def _disjoint_pairs(graph: Graph) -> Iterator[tuple[Node, Node, Triple, str]]:
    for a, b in graph.subject_objects(OWL.disjointWith):
        yield a, b, (a, OWL.disjointWith, b), "disjoint"
    for a, b in graph.subject_objects(OWL.complementOf):
        yield a, b, (a, OWL.complementOf, b), "complementary"
    for group in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        for head in graph.objects(group, OWL.members):
            for a, b in combinations(_list(graph, head), 2):
                yield a, b, (group, OWL.members, head), "disjoint"


def _disjoint_classes(graph: Graph) -> Iterator[Clash]:
    for a, b, axiom, word in _disjoint_pairs(graph):
        for x in sorted_terms(set(graph.subjects(RDF.type, a)) & set(graph.subjects(RDF.type, b))):
            yield Clash(
                "disjoint-classes",
                "{0} is both a {1} and a {2}, but the ontology declares these classes " + word
                + ": nothing can be both.",
                (x, a, b), ((x, RDF.type, a), (x, RDF.type, b), axiom))


def _functional(graph: Graph) -> Iterator[Clash]:
    for p in sorted_terms(graph.subjects(RDF.type, OWL.FunctionalProperty)):
        for s in sorted_terms(set(graph.subjects(p, None))):
            for a, b in combinations(sorted_terms(graph.objects(s, p)), 2):
                if _distinct_values(graph, a, b):
                    yield Clash(
                        "functional",
                        "{0} has two different values of {1}, which the ontology declares "
                        "functional (at most one value): {2} and {3}.",
                        (s, p, a, b),
                        ((s, p, a), (s, p, b), (p, RDF.type, OWL.FunctionalProperty)))
    for p in sorted_terms(graph.subjects(RDF.type, OWL.InverseFunctionalProperty)):
        for o in sorted_terms(set(graph.objects(None, p))):
            for a, b in combinations(sorted_terms(graph.subjects(p, o)), 2):
                if _different(graph, a, b):
                    yield Clash(
                        "inverse-functional",
                        "{0} and {1}, stated to be different, share the value {3} of {2}, "
                        "which the ontology declares inverse-functional (a value identifies "
                        "its subject).",
                        (a, b, p, o),
                        ((a, p, o), (b, p, o), (p, RDF.type, OWL.InverseFunctionalProperty)))


def _same_and_different(graph: Graph) -> Iterator[Clash]:
    seen: set[frozenset[Node]] = set()
    for a, b in sorted(graph.subject_objects(OWL.differentFrom)):
        pair = frozenset((a, b))
        if pair in seen:
            continue
        if a == b or (a, OWL.sameAs, b) in graph or (b, OWL.sameAs, a) in graph:
            seen.add(pair)
            same = (a, OWL.sameAs, b) if (a, OWL.sameAs, b) in graph else (b, OWL.sameAs, a)
            yield Clash("same-and-different",
                        "{0} and {1} are stated to be different (owl:differentFrom) but are "
                        "the same resource (owl:sameAs).",
                        (a, b), ((a, OWL.differentFrom, b),) + (() if a == b else (same,)))
    for group in graph.subjects(RDF.type, OWL.AllDifferent):
        for key in (OWL.members, OWL.distinctMembers):
            for head in graph.objects(group, key):
                for a, b in combinations(_list(graph, head), 2):
                    if a == b or (a, OWL.sameAs, b) in graph:
                        yield Clash("same-and-different",
                                    "{0} and {1} are listed as all different (owl:AllDifferent) "
                                    "but are the same resource (owl:sameAs).",
                                    (a, b), ((group, key, head), (a, OWL.sameAs, b)))


def _property_characteristics(graph: Graph) -> Iterator[Clash]:
    for p in sorted_terms(graph.subjects(RDF.type, OWL.IrreflexiveProperty)):
        for s, o in sorted(graph.subject_objects(p)):
            if s == o:
                yield Clash("irreflexive", "{0} is related to itself by {1}, which the ontology "
                            "declares irreflexive.", (s, p),
                            ((s, p, s), (p, RDF.type, OWL.IrreflexiveProperty)))
    for p in sorted_terms(graph.subjects(RDF.type, OWL.AsymmetricProperty)):
        for s, o in sorted(graph.subject_objects(p)):
            if s != o and (o, p, s) in graph and str(s) < str(o):
                yield Clash("asymmetric", "{0} and {1} are related by {2} both ways, which the "
                            "ontology declares asymmetric.", (s, o, p),
                            ((s, p, o), (o, p, s), (p, RDF.type, OWL.AsymmetricProperty)))
    for p, q in sorted(graph.subject_objects(OWL.propertyDisjointWith)):
        for s, o in sorted(graph.subject_objects(p)):
            if (s, q, o) in graph:
                yield Clash("disjoint-properties", "{0} is related to {1} by both {2} and {3}, "
                            "which the ontology declares disjoint.", (s, o, p, q),
                            ((s, p, o), (s, q, o), (p, OWL.propertyDisjointWith, q)))


CHECKS = (_nothing, _disjoint_classes, _functional, _same_and_different,
          _property_characteristics)


def find_clashes(graph: Graph) -> list[Clash]:
    """Every clash in ``graph`` (asserted and inferred triples together).

    ``x owl:differentFrom x`` follows from any same-and-different clash (by sameAs
    replacement); it is reported only when it is the sole one.
    """
    clashes = [clash for check in CHECKS for clash in check(graph)]
    reflexive = [c for c in clashes if c.kind == "same-and-different"
                 and len(set(c.resources)) == 1]
    if len(reflexive) < sum(1 for c in clashes if c.kind == "same-and-different"):
        clashes = [c for c in clashes if c not in reflexive]
    return clashes


def relevant_triples(triples: Sequence[TextTriple]) -> Graph:
    """The triples the checks above read, out of a closure too large for an rdflib graph
    (texts, kg.pipeline.ntriples): the schema (RDFS/OWL statements, lists), ``owl:sameAs`` /
    ``owl:differentFrom``, labels (to name the resources), memberships of ``owl:Nothing``
    and of the classes in a disjointness axiom, and the statements of functional,
    inverse-functional, irreflexive, asymmetric and disjoint properties.
    :func:`find_clashes` finds the same clashes in it as in the whole closure."""
    axioms = Graph()
    for t in to_rdflib_triples(t for t in triples if is_schema(t)):
        axioms.add(t)
    classes: set[Node] = {OWL.Nothing}
    for a, b, _, _ in _disjoint_pairs(axioms):
        classes |= {a, b}
    kinds = (OWL.FunctionalProperty, OWL.InverseFunctionalProperty, OWL.IrreflexiveProperty,
             OWL.AsymmetricProperty)
    properties = {p for kind in kinds for p in axioms.subjects(RDF.type, kind)}
    for p, q in axioms.subject_objects(OWL.propertyDisjointWith):
        properties |= {p, q}
    properties |= {OWL.sameAs, OWL.differentFrom, RDFS.label}
    terms = Terms()
    class_texts = {terms.of_rdflib(c) for c in classes}
    property_texts = {terms.of_rdflib(p) for p in properties}
    relevant = Graph()
    relevant += axioms
    for t in to_rdflib_triples((s, p, o) for s, p, o in triples
                               if p in property_texts or (p == TYPE and o in class_texts)):
        relevant.add(t)
    return relevant


def check_consistency(graph: Graph, subject_files: SubjectFiles | None = None,
                      root: Path | None = None, engine_errors: list[str] | None = None,
                      namespaces: NamespaceManager | None = None) -> None:
    """Raise :class:`InconsistentGraph` if ``graph`` contradicts itself.

    ``graph`` may be a read-only aggregate of the asserted and inferred graphs, with
    ``namespaces`` for the prefixes. ``engine_errors`` are the reasoner's own
    messages: reported if no check above recognizes the contradiction.
    """
    clashes = find_clashes(graph)
    errors = list(engine_errors or [])
    if not clashes and not errors:
        return
    shown = [c.describe(graph, subject_files, root, namespaces) for c in clashes] or [
        f"the reasoner reports: {e}" for e in errors]
    message = (f"the graph is inconsistent ({len(shown)} contradiction(s)); the build stopped "
               "and the previous release stays served. Correct the data or the ontology:\n"
               + "\n".join(f"  - {s}" for s in shown))
    raise InconsistentGraph(message, clashes, errors)
