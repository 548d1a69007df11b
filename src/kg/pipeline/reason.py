"""Reason: materialize the OWL 2 RL (or RDFS) closure, and keep only what a user wants.

Two engines compute the same closure: ``owlrl`` (pure Python, the reference) and
``reasonable`` (Rust, OWL 2 RL only, far faster on large graphs); ``auto`` picks
``reasonable`` above a size threshold. Only new triples are kept, for the inferred
named graph, and entailments no user wants to read are filtered out by category
(:data:`FILTERS`), so that ``kg reason --stats`` can say how many each removed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from itertools import product

from rdflib import OWL, RDF, RDFS, XSD, Graph, Literal, URIRef
from rdflib.term import Node

from kg.pipeline.consistency import ERROR_NAMESPACE

Triple = tuple[Node, Node, Node]

MODES = ("owlrl", "rdfs", "none")
ENGINES = ("auto", "owlrl", "reasonable")
#: ``auto`` uses ``reasonable`` from this many asserted triples on
AUTO_THRESHOLD = 50_000

_VOCABULARIES = (str(RDF), str(RDFS), str(OWL), str(XSD))
_TOP = {OWL.Thing, RDFS.Resource}
_META_CLASSES = {RDFS.Class, OWL.Class, RDF.Property, RDFS.Datatype,
                 RDFS.ContainerMembershipProperty}
_SCHEMA = {RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass, OWL.equivalentProperty}

#: the filter categories, in the order they are tried, with what each removes
FILTERS = {
    "literal-subject": "generalised triples with a literal subject (not RDF)",
    "engine-error": "owlrl's own error-message triples (inconsistencies are checked apart)",
    "reflexive-sameAs": "?x owl:sameAs ?x",
    "vocabulary": "statements about RDF, RDFS, OWL and XSD terms themselves",
    "top-type": "?x rdf:type owl:Thing / rdfs:Resource",
    "meta-type": "?x rdf:type rdfs:Class / owl:Class / rdf:Property / rdfs:Datatype",
    "trivial-schema": "reflexive or top-level subClassOf, subPropertyOf, equivalence, "
                      "domain and range (X rdfs:subClassOf X, X rdfs:subClassOf owl:Thing)",
    "datatype": "typing of literals and datatype values",
    "external-copy": "copies of our facts onto the IRIs of other datasets that owl:sameAs links "
                     "name (Wikidata, GeoNames...), and sameAs between two of those IRIs; the "
                     "links themselves, both ways, stay",
}


class ReasoningError(ValueError):
    """The reasoning settings do not fit together (an unknown engine, or reasonable for RDFS)."""


#: terms the filter compares with, looked up once: a namespace attribute costs a Python call
_TYPE, _SAME_AS, _XSD_NS = RDF.type, OWL.sameAs, str(XSD)
_DOMAIN_RANGE = (RDFS.domain, RDFS.range)


def _in_vocabulary(node: Node) -> bool:
    return isinstance(node, URIRef) and str.startswith(node, _VOCABULARIES)


def external_iris(asserted: Graph) -> frozenset[Node]:
    """IRIs known only as the far end of an owl:sameAs link: nothing is asserted about them."""
    linked = {o for o in asserted.objects(None, OWL.sameAs) if isinstance(o, URIRef)}
    return frozenset(iri for iri in linked if (iri, None, None) not in asserted)


def filter_category(triple: Triple, external: frozenset[Node] = frozenset()) -> str | None:
    """The :data:`FILTERS` category that removes ``triple``, or ``None`` if a user wants it.

    ``external`` holds the link targets of :func:`external_iris`."""
    s, p, o = triple
    if isinstance(s, Literal):
        return "literal-subject"
    is_type = p == _TYPE
    if str.startswith(p, ERROR_NAMESPACE) or (is_type and str.startswith(o, ERROR_NAMESPACE)):
        return "engine-error"
    is_same_as = p == _SAME_AS
    if is_same_as and s == o:
        return "reflexive-sameAs"
    if _in_vocabulary(s):
        return "vocabulary"
    if is_type:
        if o in _TOP:
            return "top-type"
        if o in _META_CLASSES:
            return "meta-type"
        if isinstance(o, Literal) or str.startswith(o, _XSD_NS):
            return "datatype"
    if p in _SCHEMA and (s == o or _in_vocabulary(o)):
        return "trivial-schema"
    if p in _DOMAIN_RANGE and o in _TOP:
        return "trivial-schema"
    if (s in external or o in external) and not (is_same_as and
                                                  (s in external) != (o in external)):
        return "external-copy"
    return None


def choose_engine(engine: str, mode: str, asserted: Graph, threshold: int = AUTO_THRESHOLD
                  ) -> str:
    """The engine that computes the closure of ``asserted`` in ``mode``.

    ``auto`` takes reasonable from ``threshold`` triples on, and whenever the graph has
    an ``owl:hasKey``: owlrl 7.6.2 ignores the last property of a key (so with a key of
    one property, every two members of the class become the same resource).
    """
    if engine not in ENGINES:
        raise ReasoningError(f"unknown reasoner {engine!r}; use {', '.join(ENGINES)}")
    if mode not in MODES:
        raise ReasoningError(f"unknown reasoning mode {mode!r}; use {', '.join(MODES)}")
    if engine == "auto":
        fast = len(asserted) >= threshold or (None, OWL.hasKey, None) in asserted
        return "reasonable" if mode == "owlrl" and fast else "owlrl"
    if engine == "reasonable" and mode != "owlrl":
        raise ReasoningError("the reasonable engine computes OWL 2 RL only; "
                             f"use --reasoner owlrl for --reasoning {mode}")
    return engine


def entail(asserted: Graph | Collection[Triple], mode: str, engine: str
           ) -> tuple[set[Triple], list[str]]:
    """Every triple of the closure (asserted ones included) and the engine's error messages.

    ``asserted`` may be a plain collection of triples for the reasonable engine (the
    large-input build path holds no rdflib graph of the data)."""
    if mode == "none":
        return set(asserted), []
    if engine == "reasonable":
        import reasonable

        extra = _schema_completion(asserted)
        while True:
            reasoner = reasonable.PyReasoner()
            reasoner.from_graph(asserted)
            reasoner.from_graph(list(extra))
            full, schema = _closed(reasoner.reason())
            del reasoner
            # the rules below read OWL axioms first: without them they add nothing
            axioms = {p for _, p, _ in schema}
            added: set[Triple] = set()
            if OWL.propertyChainAxiom in axioms:
                added |= _property_chains(full)
            if axioms & {OWL.maxCardinality, OWL.maxQualifiedCardinality}:
                added |= _max_cardinality_one(full)
            if OWL.hasKey in axioms:
                added |= _keys(full)
            added -= full
            if not added:
                # domain, range, subclass and subproperty statements are all schema
                full |= _domain_range_hierarchy(set(schema))
                return full, []
            extra |= added
    import owlrl

    semantics = {"owlrl": owlrl.OWLRL_Semantics, "rdfs": owlrl.RDFS_Semantics}[mode]
    expanded = Graph()
    expanded += asserted
    rules = owlrl.DeductiveClosure(semantics, axiomatic_triples=False, datatype_axioms=False)
    rules.expand(expanded)
    errors = [str(o) for o in expanded.objects(None, URIRef(ERROR_NAMESPACE + "error"))]
    return set(expanded), sorted(errors)


_XSD_STRING = XSD.string
_SCHEMA_NAMESPACES = (str(RDFS), str(OWL))
#: sets, not tuples: a miss costs no call of rdflib's Python-level __eq__
_LIST_PREDICATES = frozenset((RDF.first, RDF.rest))
_TYPES = frozenset((RDF.type,))


def _closed(triples: list[Triple]) -> tuple[set[Triple], list[Triple]]:
    """reasonable's answer as a set, ``"x"^^xsd:string`` spelled ``"x"`` (the same RDF 1.1
    literal, as rdflib parses it), and its schema triples (RDFS and OWL predicates, lists):
    one pass, for a closure of millions of triples."""
    full: set[Triple] = set()
    schema: list[Triple] = []
    for s, p, o in triples:
        if isinstance(o, Literal) and o.datatype == _XSD_STRING:
            o = Literal(str(o))
        full.add((s, p, o))
        if str.startswith(p, _SCHEMA_NAMESPACES) or p in _LIST_PREDICATES:
            schema.append((s, p, o))
    return full, schema


def _schema_completion(asserted: Iterable[Triple]) -> set[Triple]:
    """Schema axioms that reasonable does not derive (OWL 2 RL scm-svf1, scm-svf2,
    scm-avf1, scm-avf2, scm-hv between restrictions; scm-int, scm-uni for
    intersections and unions; scm-spo, subproperty transitivity; scm-eqc1/2,
    scm-eqp1/2 and the symmetry of equivalence; cls-oo, the members of an
    enumeration), to a fixpoint.

    They are given to reasonable as extra input, so that it draws their consequences
    (the members of the restrictions) itself.
    """
    import reasonable

    schema = [(s, p, o) for s, p, o in asserted
              if str.startswith(p, _SCHEMA_NAMESPACES) or p in _LIST_PREDICATES
              or (p in _TYPES and str.startswith(o, _SCHEMA_NAMESPACES))]
    extra: set[Triple] = set()
    while True:
        reasoner = reasonable.PyReasoner()
        reasoner.from_graph(schema + list(extra))
        closed = set(reasoner.reason())
        new = (_restriction_subclasses(closed) | _set_subclasses(closed)
               | _subproperty_transitivity(closed) | _equivalences(closed)
               | _enumerations(closed)) - closed
        if not new:
            return extra
        extra |= new


def _restriction_subclasses(closed: set[Triple]) -> set[Triple]:
    on: dict[Node, set[Node]] = {}
    kinds: dict[Node, dict[Node, set[Node]]] = {}
    sub: dict[Node, set[Node]] = {}
    for s, p, o in closed:
        if p == OWL.onProperty:
            on.setdefault(s, set()).add(o)
        elif p in (OWL.someValuesFrom, OWL.allValuesFrom, OWL.hasValue):
            kinds.setdefault(p, {}).setdefault(s, set()).add(o)
        elif p in (RDFS.subClassOf, RDFS.subPropertyOf):
            sub.setdefault(s, set()).add(o)

    def below(a: Node, b: Node) -> bool:
        return a == b or b in sub.get(a, set())

    added: set[Triple] = set()
    for kind, fillers in kinds.items():
        for c1, ys1 in fillers.items():
            for c2, ys2 in fillers.items():
                if c1 == c2:
                    continue
                for p1 in on.get(c1, set()):
                    for p2 in on.get(c2, set()):
                        for y1 in ys1:
                            for y2 in ys2:
                                if kind == OWL.hasValue:
                                    holds = y1 == y2 and below(p1, p2)
                                elif kind == OWL.someValuesFrom:
                                    holds = (p1 == p2 and below(y1, y2)) or (
                                        y1 == y2 and below(p1, p2))
                                else:  # allValuesFrom: covariant in the filler, not the property
                                    holds = (p1 == p2 and below(y1, y2)) or (
                                        y1 == y2 and below(p2, p1))
                                if holds:
                                    added.add((c1, RDFS.subClassOf, c2))
    return added


def _lists(closed: set[Triple]) -> Callable[[Node], list[Node]]:
    first: dict[Node, Node] = {}
    rest: dict[Node, Node] = {}
    for s, p, o in closed:
        if p == RDF.first:
            first[s] = o
        elif p == RDF.rest:
            rest[s] = o

    def members(head: Node) -> list[Node]:
        found: list[Node] = []
        while head in first and len(found) < 10_000:
            found.append(first[head])
            head = rest.get(head, RDF.nil)
        return found

    return members


def _property_chains(full: set[Triple]) -> set[Triple]:
    """OWL 2 RL prp-spo2 (property chains), which reasonable does not apply: one round;
    the caller gives the result back to reasonable until nothing new follows."""
    chains = [(s, o) for s, p, o in full if p == OWL.propertyChainAxiom]
    if not chains:
        return set()
    members = _lists(full)
    values = _values(full)
    added: set[Triple] = set()
    for prop, head in chains:
        steps = members(head)
        if not steps:
            continue
        for start, firsts in values.get(steps[0], {}).items():
            reached = set(firsts)
            for step in steps[1:]:
                index = values.get(step, {})
                reached = {o for x in reached for o in index.get(x, ())}
            added |= {(start, prop, end) for end in reached}
    return added


def _enumerations(closed: set[Triple]) -> set[Triple]:
    members = _lists(closed)
    return {(m, RDF.type, s) for s, p, o in closed if p == OWL.oneOf for m in members(o)}


def _values(full: set[Triple]) -> dict[Node, dict[Node, set[Node]]]:
    """predicate -> subject -> objects."""
    values: dict[Node, dict[Node, set[Node]]] = {}
    for s, p, o in full:
        values.setdefault(p, {}).setdefault(s, set()).add(o)
    return values


def _max_cardinality_one(full: set[Triple]) -> set[Triple]:
    """OWL 2 RL cls-maxc2 and cls-maxqc4: two values of a property that a class allows
    at most once are the same resource (reasonable does not apply them)."""
    if not any(p in (OWL.maxCardinality, OWL.maxQualifiedCardinality) for _, p, _ in full):
        return set()
    values = _values(full)
    restrictions = [r for key in (OWL.maxCardinality, OWL.maxQualifiedCardinality)
                    for r, n in values.get(key, {}).items()
                    if any(str(v) == "1" for v in n)
                    and values.get(OWL.onClass, {}).get(r, {OWL.Thing}) == {OWL.Thing}]
    members = values.get(RDF.type, {})
    added: set[Triple] = set()
    for r in restrictions:
        for prop in values.get(OWL.onProperty, {}).get(r, ()):
            for u in (x for x, types in members.items() if r in types):
                found = sorted(values.get(prop, {}).get(u, ()))
                added |= {(a, OWL.sameAs, b) for a in found for b in found if a != b}
    return added


def _keys(full: set[Triple]) -> set[Triple]:
    """OWL 2 RL prp-key: members of a class with the same key values are the same resource."""
    keys = [(s, o) for s, p, o in full if p == OWL.hasKey]
    if not keys:
        return set()
    values = _values(full)
    lists = _lists(full)
    added: set[Triple] = set()
    for cls, head in keys:
        props = lists(head)
        by_key: dict[tuple[Node, ...], list[Node]] = {}
        for x, types in values.get(RDF.type, {}).items():
            if cls not in types:
                continue
            found = [values.get(p, {}).get(x, set()) for p in props]
            for combination in product(*found):
                by_key.setdefault(combination, []).append(x)
        for same in by_key.values():
            added |= {(a, OWL.sameAs, b) for a in same for b in same if a != b}
    return added


def _set_subclasses(closed: set[Triple]) -> set[Triple]:
    members = _lists(closed)
    added: set[Triple] = set()
    for s, p, o in closed:
        if p == OWL.intersectionOf:
            added |= {(s, RDFS.subClassOf, m) for m in members(o)}
        elif p == OWL.unionOf:
            added |= {(m, RDFS.subClassOf, s) for m in members(o)}
    return added


def _equivalences(closed: set[Triple]) -> set[Triple]:
    added: set[Triple] = set()
    for s, p, o in closed:
        if p in (OWL.equivalentClass, OWL.equivalentProperty):
            sub = RDFS.subClassOf if p == OWL.equivalentClass else RDFS.subPropertyOf
            added |= {(o, p, s), (s, sub, o), (o, sub, s)}
        elif p in (RDFS.subClassOf, RDFS.subPropertyOf) and s != o and (o, p, s) in closed:
            added.add((s, OWL.equivalentClass if p == RDFS.subClassOf else OWL.equivalentProperty,
                       o))
    return added


def _subproperty_transitivity(closed: set[Triple]) -> set[Triple]:
    sub: dict[Node, set[Node]] = {}
    for s, p, o in closed:
        if p == RDFS.subPropertyOf:
            sub.setdefault(s, set()).add(o)
    return {(a, RDFS.subPropertyOf, c) for a, bs in sub.items() for b in bs
            for c in sub.get(b, set())}


def _domain_range_hierarchy(full: set[Triple]) -> set[Triple]:
    """OWL 2 RL rules scm-dom1/2 and scm-rng1/2, which reasonable does not apply.

    A domain (range) holds for every subproperty and every superclass; one pass
    suffices because ``full`` already has the transitive subclass and subproperty
    hierarchies.
    """
    superclasses: dict[Node, set[Node]] = {}
    subproperties: dict[Node, set[Node]] = {}
    for s, p, o in full:
        if p == RDFS.subClassOf:
            superclasses.setdefault(s, set()).add(o)
        elif p == RDFS.subPropertyOf:
            subproperties.setdefault(o, set()).add(s)
    added: set[Triple] = set()
    for s, p, o in full:
        if p in (RDFS.domain, RDFS.range):
            for prop in subproperties.get(s, set()) | {s}:
                for cls in superclasses.get(o, set()) | {o}:
                    added.add((prop, p, cls))
    return added - full


@dataclass
class Closure:
    """The filtered inferred graph and what it took to get it."""

    inferred: Graph
    mode: str
    engine: str
    #: new triples the engine entailed, before filtering
    entailed: int
    #: filter category -> triples it removed
    filtered: dict[str, int]
    #: wall-clock and processor time of the engine
    seconds: float
    cpu_seconds: float
    engine_errors: list[str] = field(default_factory=list)
    cached: bool = False

    def stats(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "engine": self.engine,
            "entailed_new": self.entailed,
            "filtered": dict(self.filtered),
            "filtered_total": sum(self.filtered.values()),
            "inferred": len(self.inferred),
            "seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu_seconds, 3),
        }


def filter_closure(full: Iterable[Triple], given: Collection[Triple],
                   external: frozenset[Node] = frozenset()
                   ) -> tuple[list[Triple], int, dict[str, int]]:
    """The triples of ``full`` not in ``given`` that no :data:`FILTERS` category removes,
    how many were new, and how many each category removed.

    Most of a large closure is ``x rdf:type C``: for a subject that no rule singles out
    (an IRI or blank node outside the vocabularies and ``external``), the category
    depends on the predicate and object alone, and is computed once per pair.
    """
    kept: list[Triple] = []
    filtered: Counter[str] = Counter()
    entailed = 0
    by_pair: dict[tuple[Node, Node], str | None] = {}
    for triple in full:
        if triple in given:
            continue
        entailed += 1
        s, p, o = triple
        if p in _TYPES and not isinstance(s, Literal) and not _in_vocabulary(s) and not (
                external and (s in external or o in external)):
            key = (p, o)
            if key not in by_pair:
                by_pair[key] = filter_category(triple, external)
            category = by_pair[key]
        else:
            category = filter_category(triple, external)
        if category is None:
            kept.append(triple)
        else:
            filtered[category] += 1
    return kept, entailed, dict(sorted(filtered.items()))


def closure(asserted: Graph, mode: str = "owlrl", engine: str = "owlrl",
            threshold: int = AUTO_THRESHOLD) -> Closure:
    """The triples that ``mode`` entails beyond ``asserted``, filtered, computed by ``engine``."""
    chosen = choose_engine(engine, mode, asserted, threshold)
    start, cpu = time.perf_counter(), time.process_time()
    full, errors = entail(asserted, mode, chosen)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    kept, entailed, filtered = filter_closure(full, set(asserted), external_iris(asserted))
    inferred = Graph()
    for triple in kept:
        inferred.add(triple)
    for prefix, namespace in asserted.namespaces():
        inferred.bind(prefix, namespace, override=False)
    return Closure(inferred, mode, chosen, entailed, filtered, seconds, cpu_seconds, errors)
