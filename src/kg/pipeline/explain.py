"""Explain: how an inferred triple follows from asserted ones, as a tree of OWL 2 RL rules.

:class:`Explainer` works from the asserted graphs (by name: ontology, data,
links) and the inferred graph of a release. For a triple it finds every rule
instance (subclass, domain, inverse, transitivity, property chain, sameAs…)
whose premises hold, then picks, bottom-up from the asserted triples, a
derivation of least depth: the proof never goes round in a circle, and every
leaf is an asserted triple with the graph it was asserted in.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import OWL, RDF, RDFS, XSD, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import NamespaceManager
from rdflib.term import Node
from rdflib.util import from_n3

from kg.store.oxigraph import to_rdflib
from kg.terms import sorted_terms

Triple = tuple[Node, Node, Node]

#: how many triples one explanation may look at before it gives up
SEARCH_LIMIT = 200_000


@dataclass(frozen=True)
class Rule:
    id: str
    family: str
    description: str


def _rules(*rows: tuple[str, str, str]) -> dict[str, Rule]:
    return {row[0]: Rule(*row) for row in rows}


#: the OWL 2 RL rules the explainer knows, by their names in the OWL 2 RL profile
RULES = _rules(
    ("cax-sco", "subclass", "a member of a class is a member of its superclasses"),
    ("cax-eqc", "equivalent class", "a member of a class is a member of its equivalent classes"),
    ("prp-dom", "domain", "the subject of a property is a member of its domain"),
    ("prp-rng", "range", "the object of a property is a member of its range"),
    ("cls-svf", "someValuesFrom", "something with a value of the right kind for the property "
                                  "is a member of the someValuesFrom restriction"),
    ("cls-hv1", "hasValue", "something with the given value of the property is a member of "
                            "the hasValue restriction"),
    ("cls-hv2", "hasValue", "a member of a hasValue restriction has the given value"),
    ("cls-avf", "allValuesFrom", "every value of the property of a member of an allValuesFrom "
                                 "restriction is of the given class"),
    ("cls-int1", "intersection", "a member of every class of an intersection is a member of it"),
    ("cls-int2", "intersection", "a member of an intersection is a member of each of its classes"),
    ("cls-uni", "union", "a member of a class of a union is a member of the union"),
    ("scm-sco", "subclass", "subclass is transitive"),
    ("scm-eqc1", "equivalent class", "equivalent classes are subclasses of each other"),
    ("scm-eqc2", "equivalent class", "classes that are subclasses of each other are equivalent"),
    ("scm-int", "intersection", "an intersection is a subclass of each of its classes"),
    ("scm-svf", "someValuesFrom", "a someValuesFrom restriction is a subclass of one with a "
                                  "wider class or a superproperty"),
    ("scm-avf", "allValuesFrom", "an allValuesFrom restriction is a subclass of one with a "
                                 "wider class or a subproperty"),
    ("scm-hv", "hasValue", "a hasValue restriction is a subclass of one on a superproperty"),
    ("scm-uni", "union", "each class of a union is a subclass of the union"),
    ("scm-spo", "subproperty", "subproperty is transitive"),
    ("scm-eqp1", "equivalent property", "equivalent properties are subproperties of each other"),
    ("scm-eqp2", "equivalent property", "properties that are subproperties of each other "
                                        "are equivalent"),
    ("scm-dom1", "domain", "a domain extends to its superclasses"),
    ("scm-dom2", "domain", "a property has the domains of its superproperties"),
    ("scm-rng1", "range", "a range extends to its superclasses"),
    ("scm-rng2", "range", "a property has the ranges of its superproperties"),
    ("symmetric-equivalence", "equivalence", "equivalence is symmetric"),
    ("prp-spo1", "subproperty", "a statement with a property holds for its superproperties"),
    ("prp-spo2", "property chain", "a chain of properties implies the chained property"),
    ("prp-eqp", "equivalent property", "a statement holds for the equivalent properties"),
    ("prp-inv", "inverse", "a statement holds, the other way round, for the inverse property"),
    ("prp-symp", "symmetric", "a symmetric property holds both ways"),
    ("prp-trp", "transitivity", "a transitive property carries over a chain of statements"),
    ("cls-maxc2", "max cardinality", "two values of a property that a class allows at most "
                                     "once are the same resource"),
    ("prp-key", "key", "members of a class with the same key values are the same resource"),
    ("cls-oo", "enumeration", "each listed individual is a member of the enumerated class"),
    ("prp-fp", "functional", "two values of a functional property are the same resource"),
    ("prp-ifp", "inverse functional", "two subjects that share a value of an inverse-functional "
                                      "property are the same resource"),
    ("eq-sym", "sameAs", "owl:sameAs is symmetric"),
    ("eq-trans", "sameAs", "owl:sameAs is transitive"),
    ("eq-rep-s", "sameAs", "what holds of a resource holds of every resource the same as it"),
    ("eq-rep-p", "sameAs", "what holds with a property holds with a property the same as it"),
    ("eq-rep-o", "sameAs", "what holds of a value holds of every resource the same as it"),
)

TYPE, SC, SPO = RDF.type, RDFS.subClassOf, RDFS.subPropertyOf
EQC, EQP, SAME = OWL.equivalentClass, OWL.equivalentProperty, OWL.sameAs
_VOCABULARY = (str(RDF), str(RDFS), str(OWL))


@dataclass
class Step:
    """One triple of a proof: asserted (``graph`` says where) or inferred by ``rule``."""

    triple: Triple
    rule: Rule | None = None
    graph: str | None = None
    premises: list[Step] = field(default_factory=list)


@dataclass
class Explanation:
    """Why a triple holds; ``status`` is asserted, inferred, unexplained or not-entailed."""

    triple: Triple
    status: str
    proof: Step | None
    namespace_manager: NamespaceManager | None = field(default=None, repr=False)
    #: other rules that derive the triple too (from premises that follow as well)
    also_by: list[Rule] = field(default_factory=list)

    def _n3(self, triple: Triple) -> str:
        return " ".join(term.n3(self.namespace_manager) for term in triple)

    def rules(self) -> list[Rule]:
        used: dict[str, Rule] = {}

        def walk(step: Step) -> None:
            if step.rule is not None:
                used.setdefault(step.rule.id, step.rule)
            for premise in step.premises:
                walk(premise)

        if self.proof is not None:
            walk(self.proof)
        return list(used.values())

    def to_text(self) -> str:
        head = self._n3(self.triple)
        if self.status == "not-entailed":
            return (f"{head}\n  is neither asserted nor entailed by the ontology, data and "
                    "links: the graph does not say it.")
        if self.status == "unexplained":
            return (f"{head}\n  is in the inferred graph, but none of the rules the explainer "
                    "knows derives it from asserted triples.")
        assert self.proof is not None
        if self.status == "asserted":
            return f"{head}\n  is asserted (in the {self.proof.graph} graph): nothing to infer."
        lines = [f"{head}   [{self._label(self.proof)}]"]
        shown: set[Triple] = {self.proof.triple}

        def walk(step: Step, indent: str) -> None:
            for i, premise in enumerate(step.premises):
                last = i == len(step.premises) - 1
                again = premise.rule is not None and premise.triple in shown
                note = " (derived above)" if again else ""
                lines.append(f"{indent}{'└── ' if last else '├── '}{self._n3(premise.triple)}"
                             f"   [{self._label(premise)}]{note}")
                if not again:
                    shown.add(premise.triple)
                    walk(premise, indent + ("    " if last else "│   "))

        walk(self.proof, "")
        if self.also_by:
            lines.append("also follows by: " + ", ".join(f"{r.family} ({r.id})"
                                                          for r in self.also_by))
        lines.append("rules:")
        lines += [f"  {r.family} ({r.id}): {r.description}" for r in self.rules()]
        return "\n".join(lines)

    @staticmethod
    def _label(step: Step) -> str:
        if step.rule is None:
            return f"asserted in {step.graph}"
        return f"{step.rule.family} ({step.rule.id})"

    def to_dict(self) -> dict[str, Any]:
        def step(s: Step) -> dict[str, Any]:
            entry: dict[str, Any] = {"triple": [t.n3() for t in s.triple]}
            if s.rule is None:
                entry["asserted_in"] = s.graph
            else:
                entry["rule"] = {"id": s.rule.id, "family": s.rule.family,
                                 "description": s.rule.description}
                entry["premises"] = [step(p) for p in s.premises]
            return entry

        return {"triple": [t.n3() for t in self.triple], "status": self.status,
                "proof": step(self.proof) if self.proof is not None else None,
                "also_by": [r.id for r in self.also_by]}


class Explainer:
    """Explanations over one dataset: asserted graphs by name, and the inferred graph."""

    def __init__(self, asserted: Mapping[str, Graph], inferred: Graph,
                 prefixes: Mapping[str, str] | None = None) -> None:
        self.asserted = dict(asserted)
        self.graph = Graph()
        for prefix, ns in (prefixes or {}).items():
            self.graph.bind(prefix, ns, override=True, replace=True)
        for g in [*self.asserted.values(), inferred]:
            self.graph += g
            for prefix, ns in g.namespaces():
                self.graph.bind(prefix, ns, override=False)
        self._derivations: dict[Triple, list[tuple[Rule, tuple[Triple, ...]]]] = {}

    def asserted_in(self, triple: Triple) -> str | None:
        return next((name for name, g in self.asserted.items() if triple in g), None)

    def explain(self, triple: Triple) -> Explanation:
        nsm = self.graph.namespace_manager
        where = self.asserted_in(triple)
        if where is not None:
            return Explanation(triple, "asserted", Step(triple, graph=where), nsm)
        if triple not in self.graph:
            return Explanation(triple, "not-entailed", None, nsm)
        proof, others = self._prove(triple)
        if proof is None:
            return Explanation(triple, "unexplained", None, nsm)
        return Explanation(triple, "inferred", proof, nsm, others)

    # -- proof search ------------------------------------------------------------------------

    def _prove(self, goal: Triple) -> tuple[Step | None, list[Rule]]:
        """A proof of least depth, and the other rules that also derive ``goal``."""
        relevant: list[Triple] = []
        seen = {goal}
        queue = [goal]
        while queue and len(seen) < SEARCH_LIMIT:
            triple = queue.pop()
            if self.asserted_in(triple) is not None:
                continue
            relevant.append(triple)
            for _rule, premises in self._candidates(triple):
                for premise in premises:
                    if premise not in seen:
                        seen.add(premise)
                        queue.append(premise)
        depth: dict[Triple, int] = {t: 0 for t in seen if self.asserted_in(t) is not None}
        chosen: dict[Triple, tuple[Rule, tuple[Triple, ...]]] = {}
        level = 0
        pending = set(relevant)
        while pending:
            level += 1
            found = {}
            for triple in pending:
                for rule, premises in self._candidates(triple):
                    if all(depth.get(p, level) < level for p in premises):
                        found[triple] = (rule, premises)
                        break
            if not found:
                break
            for triple, derivation in found.items():
                depth[triple] = level
                chosen[triple] = derivation
            pending -= found.keys()
        if goal not in chosen:
            return None, []
        others: dict[str, Rule] = {}
        for rule, premises in self._candidates(goal):
            if rule.id != chosen[goal][0].id and all(p in depth for p in premises):
                others.setdefault(rule.id, rule)
        return self._step(goal, chosen), list(others.values())

    def _step(self, triple: Triple, chosen: dict[Triple, tuple[Rule, tuple[Triple, ...]]]
              ) -> Step:
        if triple not in chosen:
            return Step(triple, graph=self.asserted_in(triple))
        rule, premises = chosen[triple]
        return Step(triple, rule, None, [self._step(p, chosen) for p in premises])

    def _candidates(self, triple: Triple) -> list[tuple[Rule, tuple[Triple, ...]]]:
        if triple not in self._derivations:
            self._derivations[triple] = [
                (RULES[rule], premises) for rule, premises in self._instances(triple)
                if triple not in premises and all(p in self.graph for p in premises)]
        return self._derivations[triple]

    def _list(self, head: Node) -> list[Node]:
        return list(Collection(self.graph, head))

    def _instances(self, t: Triple) -> Iterator[tuple[str, tuple[Triple, ...]]]:
        """Rule instances that conclude ``t``; their premises are checked by the caller."""
        g = self.graph
        s, p, o = t
        if p == TYPE:
            yield from self._type_instances(s, o)
        elif p == SC:
            for b in g.objects(s, SC):
                yield "scm-sco", ((s, SC, b), (b, SC, o))
            yield "scm-eqc1", ((s, EQC, o),)
            yield "scm-eqc1", ((o, EQC, s),)
            for head in g.objects(s, OWL.intersectionOf):
                if o in self._list(head):
                    yield "scm-int", ((s, OWL.intersectionOf, head),)
            for head in g.objects(o, OWL.unionOf):
                if s in self._list(head):
                    yield "scm-uni", ((o, OWL.unionOf, head),)
            yield from self._restriction_instances(s, o)
        elif p == SPO:
            for b in g.objects(s, SPO):
                yield "scm-spo", ((s, SPO, b), (b, SPO, o))
            yield "scm-eqp1", ((s, EQP, o),)
            yield "scm-eqp1", ((o, EQP, s),)
        elif p in (EQC, EQP):
            yield "symmetric-equivalence", ((o, p, s),)
            sub = SC if p == EQC else SPO
            yield ("scm-eqc2" if p == EQC else "scm-eqp2"), ((s, sub, o), (o, sub, s))
        elif p in (RDFS.domain, RDFS.range):
            one, two = ("scm-dom1", "scm-dom2") if p == RDFS.domain else ("scm-rng1", "scm-rng2")
            for c in g.objects(s, p):
                yield one, ((s, p, c), (c, SC, o))
            for q in g.objects(s, SPO):
                yield two, ((s, SPO, q), (q, p, o))
        elif p == SAME:
            yield "eq-sym", ((o, SAME, s),)
            for x in g.objects(s, SAME):
                yield "eq-trans", ((s, SAME, x), (x, SAME, o))
            for q in g.subjects(TYPE, OWL.FunctionalProperty):
                for x in g.subjects(q, s):
                    yield "prp-fp", ((q, TYPE, OWL.FunctionalProperty), (x, q, s), (x, q, o))
            for r in g.subjects(OWL.maxCardinality, None):
                for n in g.objects(r, OWL.maxCardinality):
                    for q in g.objects(r, OWL.onProperty):
                        for u in g.subjects(q, s):
                            yield "cls-maxc2", ((r, OWL.maxCardinality, n),
                                                (r, OWL.onProperty, q), (u, TYPE, r),
                                                (u, q, s), (u, q, o))
            for c, head in g.subject_objects(OWL.hasKey):
                shared = []
                for q in self._list(head):
                    common = sorted_terms(set(g.objects(s, q)) & set(g.objects(o, q)))
                    if not common:
                        break
                    shared += [(s, q, common[0]), (o, q, common[0])]
                else:
                    yield "prp-key", ((c, OWL.hasKey, head), (s, TYPE, c), (o, TYPE, c),
                                      *shared)
            for q in g.subjects(TYPE, OWL.InverseFunctionalProperty):
                for x in g.objects(s, q):
                    yield "prp-ifp", ((q, TYPE, OWL.InverseFunctionalProperty), (s, q, x),
                                      (o, q, x))
        if not str(p).startswith(_VOCABULARY):
            yield from self._property_instances(s, p, o)
        yield from self._same_as_instances(s, p, o)

    def _restriction_instances(self, sub: Node, sup: Node
                               ) -> Iterator[tuple[str, tuple[Triple, ...]]]:
        """scm-svf1/2, scm-avf1/2, scm-hv: subclass between restrictions."""
        g = self.graph
        for kind, rule in ((OWL.someValuesFrom, "scm-svf"), (OWL.allValuesFrom, "scm-avf"),
                           (OWL.hasValue, "scm-hv")):
            for y1 in g.objects(sub, kind):
                for y2 in g.objects(sup, kind):
                    for p1 in g.objects(sub, OWL.onProperty):
                        for p2 in g.objects(sup, OWL.onProperty):
                            base = ((sub, kind, y1), (sub, OWL.onProperty, p1),
                                    (sup, kind, y2), (sup, OWL.onProperty, p2))
                            if p1 == p2 and y1 != y2 and kind != OWL.hasValue:
                                yield rule, (*base, (y1, SC, y2))
                            elif y1 == y2 and p1 != p2:
                                below = (p2, SPO, p1) if kind == OWL.allValuesFrom else (
                                    p1, SPO, p2)
                                yield rule, (*base, below)
                            elif y1 == y2 and p1 == p2:
                                yield rule, base

    def _type_instances(self, s: Node, c: Node) -> Iterator[tuple[str, tuple[Triple, ...]]]:
        g = self.graph
        for b in g.subjects(SC, c):
            yield "cax-sco", ((s, TYPE, b), (b, SC, c))
        for b in g.objects(c, EQC):
            yield "cax-eqc", ((s, TYPE, b), (c, EQC, b))
        for b in g.subjects(EQC, c):
            yield "cax-eqc", ((s, TYPE, b), (b, EQC, c))
        for q in g.subjects(RDFS.domain, c):
            for x in g.objects(s, q):
                yield "prp-dom", ((s, q, x), (q, RDFS.domain, c))
        for q in g.subjects(RDFS.range, c):
            for x in g.subjects(q, s):
                yield "prp-rng", ((x, q, s), (q, RDFS.range, c))
        for q in g.objects(c, OWL.onProperty):
            for y in g.objects(c, OWL.someValuesFrom):
                for x in g.objects(s, q):
                    kind = () if y == OWL.Thing else ((x, TYPE, y),)
                    yield "cls-svf", ((s, q, x), *kind, (c, OWL.someValuesFrom, y),
                                      (c, OWL.onProperty, q))
            for v in g.objects(c, OWL.hasValue):
                yield "cls-hv1", ((s, q, v), (c, OWL.hasValue, v), (c, OWL.onProperty, q))
        for head in g.objects(c, OWL.intersectionOf):
            members = self._list(head)
            yield "cls-int1", (*((s, TYPE, m) for m in members), (c, OWL.intersectionOf, head))
        for i in g.subjects(OWL.intersectionOf, None):
            for head in g.objects(i, OWL.intersectionOf):
                if c in self._list(head):
                    yield "cls-int2", ((s, TYPE, i), (i, OWL.intersectionOf, head))
        for head in g.objects(c, OWL.unionOf):
            for m in self._list(head):
                yield "cls-uni", ((s, TYPE, m), (c, OWL.unionOf, head))
        for head in g.objects(c, OWL.oneOf):
            if s in self._list(head):
                yield "cls-oo", ((c, OWL.oneOf, head),)
        for r in g.subjects(OWL.allValuesFrom, c):
            for q in g.objects(r, OWL.onProperty):
                for x in g.subjects(q, s):
                    yield "cls-avf", ((x, TYPE, r), (r, OWL.allValuesFrom, c),
                                      (r, OWL.onProperty, q), (x, q, s))

    def _property_instances(self, s: Node, p: Node, o: Node
                            ) -> Iterator[tuple[str, tuple[Triple, ...]]]:
        g = self.graph
        for q in g.subjects(SPO, p):
            yield "prp-spo1", ((s, q, o), (q, SPO, p))
        for q in g.objects(p, EQP):
            yield "prp-eqp", ((s, q, o), (p, EQP, q))
        for q in g.subjects(EQP, p):
            yield "prp-eqp", ((s, q, o), (q, EQP, p))
        for q in g.objects(p, OWL.inverseOf):
            yield "prp-inv", ((o, q, s), (p, OWL.inverseOf, q))
        for q in g.subjects(OWL.inverseOf, p):
            yield "prp-inv", ((o, q, s), (q, OWL.inverseOf, p))
        yield "prp-symp", ((p, TYPE, OWL.SymmetricProperty), (o, p, s))
        if (p, TYPE, OWL.TransitiveProperty) in g:
            for x in g.objects(s, p):
                if x not in (s, o):
                    yield "prp-trp", ((p, TYPE, OWL.TransitiveProperty), (s, p, x), (x, p, o))
        for head in g.objects(p, OWL.propertyChainAxiom):
            for path in self._chain_paths(s, self._list(head), o):
                yield "prp-spo2", ((p, OWL.propertyChainAxiom, head), *path)
        for r in g.subjects(OWL.hasValue, o):
            if (r, OWL.onProperty, p) in g:
                yield "cls-hv2", ((s, TYPE, r), (r, OWL.hasValue, o), (r, OWL.onProperty, p))

    def _chain_paths(self, start: Node, chain: list[Node], end: Node
                     ) -> Iterator[tuple[Triple, ...]]:
        if not chain:
            return
        first, rest = chain[0], chain[1:]
        for x in self.graph.objects(start, first):
            if not rest:
                if x == end:
                    yield ((start, first, x),)
            else:
                for tail in self._chain_paths(x, rest, end):
                    yield ((start, first, x), *tail)

    def _same_as_instances(self, s: Node, p: Node, o: Node
                           ) -> Iterator[tuple[str, tuple[Triple, ...]]]:
        g = self.graph
        if p == SAME:
            return
        for x in g.objects(s, SAME):
            if x != s:
                yield "eq-rep-s", ((x, SAME, s), (x, p, o))
        for x in g.objects(p, SAME):
            if x != p:
                yield "eq-rep-p", ((x, SAME, p), (s, x, o))
        for x in g.objects(o, SAME):
            if x != o:
                yield "eq-rep-o", ((x, SAME, o), (s, p, x))


class TermError(ValueError):
    """A term of a triple to explain cannot be read."""


def parse_term(text: str, prefixes: Mapping[str, str]) -> Node:
    """An IRI (``<...>`` or bare ``http...``), a prefixed name, ``a``, or a literal in N3."""
    text = text.strip()
    if text == "a":
        return RDF.type
    if text.startswith(("http://", "https://", "urn:")):
        return URIRef(text)
    namespaces = NamespaceManager(Graph(), bind_namespaces="none")
    for prefix, ns in {"rdf": str(RDF), "rdfs": str(RDFS), "owl": str(OWL), "xsd": str(XSD),
                       **prefixes}.items():
        namespaces.bind(prefix, ns, override=True, replace=True)
    if text.startswith('"') and (text.count('"') < 2 or text.endswith('\\"')):
        raise TermError(f"{text!r} is not a complete literal; write it as '\"text\"@en'")
    try:
        term = from_n3(text, nsm=namespaces)
    except KeyError as e:
        known = ", ".join(sorted(p for p, _ in namespaces.namespaces() if p))
        raise TermError(f"unknown prefix {e.args[0]!r} in {text!r}; the prefixes are {known}"
                        ) from e
    except Exception as e:  # from_n3 raises several kinds for malformed terms
        raise TermError(f"cannot read the term {text!r}: {e}") from e
    if not isinstance(term, URIRef | Literal):
        raise TermError(f"cannot read the term {text!r}: write an IRI as <...> or prefix:name, "
                        "a literal in quotes")
    return term


def release_graphs(dataset: Path, graph_iris: Mapping[str, str]) -> dict[str, Graph]:
    """The named graphs of a release's N-Quads dataset, as rdflib graphs by short name."""
    names = {iri: name for name, iri in graph_iris.items()}
    graphs = {name: Graph() for name in graph_iris}
    for quad in ox.parse(path=str(dataset), format=ox.RdfFormat.N_QUADS):
        name = names.get(getattr(quad.graph_name, "value", ""))
        if name is not None:
            graphs[name].add((to_rdflib(quad.subject), to_rdflib(quad.predicate),  # type: ignore[arg-type]
                              to_rdflib(quad.object)))
    return graphs
