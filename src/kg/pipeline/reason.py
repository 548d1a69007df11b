"""Reason: materialize the OWL 2 RL (or RDFS) closure, and keep only what a user wants.

Two engines compute the same closure: ``owlrl`` (pure Python, the reference) and
``reasonable`` (Rust, OWL 2 RL only, 20 times faster on our graph, the only one that
closes LUBM(10)); ``auto`` picks ``reasonable`` for OWL 2 RL from a size threshold (1 triple by
default: always; decision 0012). Only new triples are kept, for the inferred
named graph, and entailments no user wants to read are filtered out by category
(:data:`FILTERS`), so that ``kg reason --stats`` can say how many each removed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import product

from rdflib import OWL, RDF, RDFS, XSD, Graph, URIRef
from rdflib.term import Node

from kg.pipeline.ntriples import Terms, TextTriple, iri, of_rdflib, to_rdflib_triples
from kg.pipeline.ntriples import reason as reason_texts

Triple = tuple[Node, Node, Node]

MODES = ("owlrl", "rdfs", "none")
ENGINES = ("auto", "owlrl", "reasonable")
#: ``auto`` uses ``reasonable`` from this many asserted triples on (decision 0012)
AUTO_THRESHOLD = 1

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


#: terms the filter and the rules compare with, as texts (kg.pipeline.ntriples)
TYPE, SAME_AS, THING = iri(RDF.type), iri(OWL.sameAs), iri(OWL.Thing)
FIRST, REST, NIL = iri(RDF.first), iri(RDF.rest), iri(RDF.nil)
SUB_CLASS, SUB_PROPERTY = iri(RDFS.subClassOf), iri(RDFS.subPropertyOf)
EQUIVALENT_CLASS, EQUIVALENT_PROPERTY = iri(OWL.equivalentClass), iri(OWL.equivalentProperty)
DOMAIN, RANGE = iri(RDFS.domain), iri(RDFS.range)
ON_PROPERTY, ON_CLASS = iri(OWL.onProperty), iri(OWL.onClass)
SOME_VALUES, ALL_VALUES, HAS_VALUE = (iri(OWL.someValuesFrom), iri(OWL.allValuesFrom),
                                      iri(OWL.hasValue))
INTERSECTION, UNION, ONE_OF = iri(OWL.intersectionOf), iri(OWL.unionOf), iri(OWL.oneOf)
CHAIN, HAS_KEY = iri(OWL.propertyChainAxiom), iri(OWL.hasKey)
MAX_CARDINALITY = frozenset((iri(OWL.maxCardinality), iri(OWL.maxQualifiedCardinality)))

#: the namespace of owlrl's error-message triples
ERROR_NAMESPACE = "http://www.daml.org/2002/03/agents/agent-ont#"

_VOCABULARIES = tuple(f"<{ns}" for ns in (RDF, RDFS, OWL, XSD))
_TOP = frozenset((THING, iri(RDFS.Resource)))
_META_CLASSES = frozenset(iri(c) for c in (RDFS.Class, OWL.Class, RDF.Property, RDFS.Datatype,
                                           RDFS.ContainerMembershipProperty))
_SCHEMA = frozenset((SUB_CLASS, SUB_PROPERTY, EQUIVALENT_CLASS, EQUIVALENT_PROPERTY))
_DOMAIN_RANGE = frozenset((DOMAIN, RANGE))
_ERRORS, _XSD_NS = f"<{ERROR_NAMESPACE}", f"<{XSD}"
#: predicates (and classes) of the schema: RDFS and OWL statements, lists
SCHEMA_NAMESPACES = (f"<{RDFS}", f"<{OWL}")
LIST_PREDICATES = frozenset((FIRST, REST))


def is_schema(triple: TextTriple) -> bool:
    """Whether a triple belongs to the schema: an RDFS or OWL statement, a list cell, or the
    declaration of an RDFS or OWL kind of thing."""
    _, p, o = triple
    return (p.startswith(SCHEMA_NAMESPACES) or p in LIST_PREDICATES
            or (p == TYPE and o.startswith(SCHEMA_NAMESPACES)))


def external_iris(asserted: Graph) -> frozenset[Node]:
    """IRIs known only as the far end of an owl:sameAs link: nothing is asserted about them."""
    linked = {o for o in asserted.objects(None, OWL.sameAs) if isinstance(o, URIRef)}
    return frozenset(iri for iri in linked if (iri, None, None) not in asserted)


def text_category(triple: TextTriple, external: frozenset[str] = frozenset()) -> str | None:
    """The :data:`FILTERS` category that removes ``triple`` (texts, kg.pipeline.ntriples), or
    ``None`` if a user wants it. ``external`` holds the texts of :func:`external_iris`."""
    s, p, o = triple
    if s.startswith('"'):
        return "literal-subject"
    is_type = p == TYPE
    if p.startswith(_ERRORS) or (is_type and o.startswith(_ERRORS)):
        return "engine-error"
    is_same_as = p == SAME_AS
    if is_same_as and s == o:
        return "reflexive-sameAs"
    if s.startswith(_VOCABULARIES):
        return "vocabulary"
    if is_type:
        if o in _TOP:
            return "top-type"
        if o in _META_CLASSES:
            return "meta-type"
        if o.startswith(('"', _XSD_NS)):
            return "datatype"
    if p in _SCHEMA and (s == o or o.startswith(_VOCABULARIES)):
        return "trivial-schema"
    if p in _DOMAIN_RANGE and o in _TOP:
        return "trivial-schema"
    if (s in external or o in external) and not (is_same_as and
                                                  (s in external) != (o in external)):
        return "external-copy"
    return None


def filter_category(triple: Triple, external: frozenset[Node] = frozenset()) -> str | None:
    """The :data:`FILTERS` category that removes an rdflib ``triple``, or ``None`` if a user
    wants it (:func:`text_category`). ``external`` holds the link targets of
    :func:`external_iris`."""
    terms = Terms()
    return text_category(of_rdflib([triple], terms)[0],
                         frozenset(terms.of_rdflib(node) for node in external))


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


def owlrl_closure(asserted: Graph, mode: str) -> tuple[Graph, list[str]]:
    """The closure of ``asserted`` by owlrl (asserted triples included) and owlrl's error
    messages."""
    import owlrl

    semantics = {"owlrl": owlrl.OWLRL_Semantics, "rdfs": owlrl.RDFS_Semantics}[mode]
    expanded = Graph()
    expanded += asserted
    rules = owlrl.DeductiveClosure(semantics, axiomatic_triples=False, datatype_axioms=False)
    rules.expand(expanded)
    errors = [str(o) for o in expanded.objects(None, URIRef(ERROR_NAMESPACE + "error"))]
    return expanded, sorted(errors)


def reasonable_closure(asserted: Sequence[TextTriple], terms: Terms) -> set[TextTriple]:
    """Every triple of the OWL 2 RL closure of ``asserted`` (reasoner-ready triples of
    ``terms``, asserted ones included), by reasonable and the rules kg adds around it."""
    import reasonable

    extra = _schema_completion(asserted, terms)
    while True:
        reasoner = reasonable.PyReasoner()
        reasoner.from_graph(asserted)
        if extra:
            reasoner.from_graph(terms.triples(extra))
        closed = reason_texts(reasoner)
        del reasoner
        full = set(closed)
        schema = [t for t in closed if is_schema(t)]
        del closed
        # the rules below read OWL axioms first: without them they add nothing
        axioms = {p for _, p, _ in schema}
        added: set[TextTriple] = set()
        if CHAIN in axioms:
            added |= _property_chains(full)
        if axioms & MAX_CARDINALITY:
            added |= _max_cardinality_one(full)
        if HAS_KEY in axioms:
            added |= _keys(full)
        added -= full
        if not added:
            # domain, range, subclass and subproperty statements are all schema
            full |= _domain_range_hierarchy(set(schema))
            return full
        extra |= added


def _schema_completion(asserted: Iterable[TextTriple], terms: Terms) -> set[TextTriple]:
    """Schema axioms that reasonable does not derive (OWL 2 RL scm-svf1, scm-svf2,
    scm-avf1, scm-avf2, scm-hv between restrictions; scm-int, scm-uni for
    intersections and unions; scm-spo, subproperty transitivity; scm-eqc1/2,
    scm-eqp1/2 and the symmetry of equivalence; cls-oo, the members of an
    enumeration), to a fixpoint.

    They are given to reasonable as extra input, so that it draws their consequences
    (the members of the restrictions) itself.
    """
    import reasonable

    schema = [t for t in asserted if is_schema(t)]
    extra: set[TextTriple] = set()
    while True:
        reasoner = reasonable.PyReasoner()
        reasoner.from_graph(schema + terms.triples(extra))
        closed = set(reason_texts(reasoner))
        new = (_restriction_subclasses(closed) | _set_subclasses(closed)
               | _subproperty_transitivity(closed) | _equivalences(closed)
               | _enumerations(closed)) - closed
        if not new:
            return extra
        extra |= new


def _restriction_subclasses(closed: set[TextTriple]) -> set[TextTriple]:
    on: dict[str, set[str]] = {}
    kinds: dict[str, dict[str, set[str]]] = {}
    sub: dict[str, set[str]] = {}
    for s, p, o in closed:
        if p == ON_PROPERTY:
            on.setdefault(s, set()).add(o)
        elif p in (SOME_VALUES, ALL_VALUES, HAS_VALUE):
            kinds.setdefault(p, {}).setdefault(s, set()).add(o)
        elif p in (SUB_CLASS, SUB_PROPERTY):
            sub.setdefault(s, set()).add(o)

    def below(a: str, b: str) -> bool:
        return a == b or b in sub.get(a, set())

    added: set[TextTriple] = set()
    for kind, fillers in kinds.items():
        for c1, ys1 in fillers.items():
            for c2, ys2 in fillers.items():
                if c1 == c2:
                    continue
                for p1 in on.get(c1, set()):
                    for p2 in on.get(c2, set()):
                        for y1 in ys1:
                            for y2 in ys2:
                                if kind == HAS_VALUE:
                                    holds = y1 == y2 and below(p1, p2)
                                elif kind == SOME_VALUES:
                                    holds = (p1 == p2 and below(y1, y2)) or (
                                        y1 == y2 and below(p1, p2))
                                else:  # allValuesFrom: covariant in the filler, not the property
                                    holds = (p1 == p2 and below(y1, y2)) or (
                                        y1 == y2 and below(p2, p1))
                                if holds:
                                    added.add((c1, SUB_CLASS, c2))
    return added


def _lists(closed: set[TextTriple]) -> Callable[[str], list[str]]:
    first: dict[str, str] = {}
    rest: dict[str, str] = {}
    for s, p, o in closed:
        if p == FIRST:
            first[s] = o
        elif p == REST:
            rest[s] = o

    def members(head: str) -> list[str]:
        found: list[str] = []
        while head in first and len(found) < 10_000:
            found.append(first[head])
            head = rest.get(head, NIL)
        return found

    return members


def _property_chains(full: set[TextTriple]) -> set[TextTriple]:
    """OWL 2 RL prp-spo2 (property chains), which reasonable does not apply: one round;
    the caller gives the result back to reasonable until nothing new follows."""
    chains = [(s, o) for s, p, o in full if p == CHAIN]
    if not chains:
        return set()
    members = _lists(full)
    values = _values(full)
    added: set[TextTriple] = set()
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


def _enumerations(closed: set[TextTriple]) -> set[TextTriple]:
    members = _lists(closed)
    return {(m, TYPE, s) for s, p, o in closed if p == ONE_OF for m in members(o)}


def _values(full: set[TextTriple]) -> dict[str, dict[str, set[str]]]:
    """predicate -> subject -> objects."""
    values: dict[str, dict[str, set[str]]] = {}
    for s, p, o in full:
        values.setdefault(p, {}).setdefault(s, set()).add(o)
    return values


def _lexical(text: str) -> str:
    """The lexical form of a literal's text (without unescaping: for plain numbers)."""
    return text[1:text.rindex('"')] if text.startswith('"') else ""


def _max_cardinality_one(full: set[TextTriple]) -> set[TextTriple]:
    """OWL 2 RL cls-maxc2 and cls-maxqc4: two values of a property that a class allows
    at most once are the same resource (reasonable does not apply them)."""
    values = _values(full)
    restrictions = [r for key in MAX_CARDINALITY for r, n in values.get(key, {}).items()
                    if any(_lexical(v) == "1" for v in n)
                    and values.get(ON_CLASS, {}).get(r, {THING}) == {THING}]
    members = values.get(TYPE, {})
    added: set[TextTriple] = set()
    for r in restrictions:
        for prop in values.get(ON_PROPERTY, {}).get(r, ()):
            for u in (x for x, types in members.items() if r in types):
                found = sorted(values.get(prop, {}).get(u, ()))
                added |= {(a, SAME_AS, b) for a in found for b in found if a != b}
    return added


def _keys(full: set[TextTriple]) -> set[TextTriple]:
    """OWL 2 RL prp-key: members of a class with the same key values are the same resource."""
    keys = [(s, o) for s, p, o in full if p == HAS_KEY]
    values = _values(full)
    lists = _lists(full)
    added: set[TextTriple] = set()
    for cls, head in keys:
        props = lists(head)
        by_key: dict[tuple[str, ...], list[str]] = {}
        for x, types in values.get(TYPE, {}).items():
            if cls not in types:
                continue
            found = [values.get(p, {}).get(x, set()) for p in props]
            for combination in product(*found):
                by_key.setdefault(combination, []).append(x)
        for same in by_key.values():
            added |= {(a, SAME_AS, b) for a in same for b in same if a != b}
    return added


def _set_subclasses(closed: set[TextTriple]) -> set[TextTriple]:
    members = _lists(closed)
    added: set[TextTriple] = set()
    for s, p, o in closed:
        if p == INTERSECTION:
            added |= {(s, SUB_CLASS, m) for m in members(o)}
        elif p == UNION:
            added |= {(m, SUB_CLASS, s) for m in members(o)}
    return added


def _equivalences(closed: set[TextTriple]) -> set[TextTriple]:
    added: set[TextTriple] = set()
    for s, p, o in closed:
        if p in (EQUIVALENT_CLASS, EQUIVALENT_PROPERTY):
            sub = SUB_CLASS if p == EQUIVALENT_CLASS else SUB_PROPERTY
            added |= {(o, p, s), (s, sub, o), (o, sub, s)}
        elif p in (SUB_CLASS, SUB_PROPERTY) and s != o and (o, p, s) in closed:
            added.add((s, EQUIVALENT_CLASS if p == SUB_CLASS else EQUIVALENT_PROPERTY, o))
    return added


def _subproperty_transitivity(closed: set[TextTriple]) -> set[TextTriple]:
    sub: dict[str, set[str]] = {}
    for s, p, o in closed:
        if p == SUB_PROPERTY:
            sub.setdefault(s, set()).add(o)
    return {(a, SUB_PROPERTY, c) for a, bs in sub.items() for b in bs
            for c in sub.get(b, set())}


def _domain_range_hierarchy(full: set[TextTriple]) -> set[TextTriple]:
    """OWL 2 RL rules scm-dom1/2 and scm-rng1/2, which reasonable does not apply.

    A domain (range) holds for every subproperty and every superclass; one pass
    suffices because ``full`` already has the transitive subclass and subproperty
    hierarchies.
    """
    superclasses: dict[str, set[str]] = {}
    subproperties: dict[str, set[str]] = {}
    for s, p, o in full:
        if p == SUB_CLASS:
            superclasses.setdefault(s, set()).add(o)
        elif p == SUB_PROPERTY:
            subproperties.setdefault(o, set()).add(s)
    added: set[TextTriple] = set()
    for s, p, o in full:
        if p in _DOMAIN_RANGE:
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


def filter_closure(full: Iterable[TextTriple], given: Collection[TextTriple],
                   external: frozenset[str] = frozenset()
                   ) -> tuple[list[TextTriple], int, dict[str, int]]:
    """The triples of ``full`` not in ``given`` that no :data:`FILTERS` category removes,
    how many were new, and how many each category removed (texts, kg.pipeline.ntriples).

    Most of a large closure is ``x rdf:type C``: for a subject that no rule singles out
    (an IRI or blank node outside the vocabularies and ``external``), the category
    depends on the predicate and object alone, and is computed once per pair.
    """
    kept: list[TextTriple] = []
    filtered: Counter[str] = Counter()
    entailed = 0
    by_pair: dict[tuple[str, str], str | None] = {}
    for triple in full:
        if triple in given:
            continue
        entailed += 1
        s, p, o = triple
        if p == TYPE and not s.startswith(('"', *_VOCABULARIES)) and not (
                external and (s in external or o in external)):
            key = (p, o)
            if key not in by_pair:
                by_pair[key] = text_category(triple, external)
            category = by_pair[key]
        else:
            category = text_category(triple, external)
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
    terms = Terms()
    given = of_rdflib(asserted, terms)
    errors: list[str] = []
    as_rdflib: dict[TextTriple, Triple] = {}
    if mode == "none":
        full: set[TextTriple] = set(given)
    elif chosen == "reasonable":
        full = reasonable_closure(given, terms)
    else:
        expanded, errors = owlrl_closure(asserted, mode)
        as_rdflib = dict(zip(of_rdflib(expanded, terms), expanded, strict=True))
        full = set(as_rdflib)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    external = frozenset(terms.of_rdflib(node) for node in external_iris(asserted))
    kept, entailed, filtered = filter_closure(full, set(given), external)
    inferred = Graph()
    for triple in ([as_rdflib[t] for t in kept] if as_rdflib else to_rdflib_triples(kept)):
        inferred.add(triple)
    for prefix, namespace in asserted.namespaces():
        inferred.bind(prefix, namespace, override=False)
    return Closure(inferred, mode, chosen, entailed, filtered, seconds, cpu_seconds, errors)
