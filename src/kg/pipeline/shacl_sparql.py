"""SHACL-SPARQL constraints (W3C SHACL §5) evaluated on Oxigraph instead of rdflib.

pySHACL evaluates a ``sh:sparql`` constraint once per focus node with rdflib's pure-Python
SPARQL engine: on our graph that is most of a validation. Here the data graph is copied
into an in-memory ``pyoxigraph.Store`` and each constraint runs there, with the results
written into pySHACL's report graph exactly as pySHACL writes them (same properties,
same message substitution), so that everything downstream reads one report.

What this relies on, and where it follows the recommendation:

- pySHACL gets the shapes without these constraints, and with every ``sh:SPARQLTarget``
  replaced by the nodes it selects on Oxigraph (as ``sh:targetNode``): the same focus nodes.
- Focus nodes come from the shape's own targets (``sh:targetClass`` with
  ``rdf:type/rdfs:subClassOf*``, implicit class targets, ``sh:targetNode``,
  ``sh:targetSubjectsOf``, ``sh:targetObjectsOf``, ``sh:SPARQLTarget``). A shape that
  other shapes reach (``sh:property``, ``sh:node``, ``sh:not``, a list of ``sh:and``/
  ``sh:or``/``sh:xone``, ``sh:qualifiedValueShape``), a deactivated one, or one with a target
  of another kind, keeps its constraints in pySHACL.
- ``$this``, ``$currentShape`` and ``$shapesGraph`` are pre-bound as the recommendation
  defines it (appendix "Pre-binding of Variables"): the values are joined to every group
  graph pattern of the query (:mod:`kg.pipeline.prebinding`), written as ``VALUES`` or, for a
  blank node, as a pattern on a graph of the store that holds the values for the query's
  run. A query outside the restrictions that definition needs (``MINUS``, ``SERVICE``,
  ``VALUES``, ``AS $this``, a sub-select without ``$this``) is a failure of the shapes, as
  the recommendation requires. One query runs per focus node (Oxigraph parses and answers
  one in well under a millisecond). ``$shapesGraph`` names the shapes graph, held in the
  store as the named graph :data:`SHAPES_GRAPH` when a query uses it; ``$PATH`` is replaced
  by the shape's path in SPARQL syntax.
- Prefixes: those of the ``sh:declare`` of every ``sh:prefixes`` value, plus ``rdf``,
  ``rdfs`` and ``owl``, which pySHACL declares for every query; a prefix declared nowhere
  is taken from the data graph's bindings, as rdflib does for pySHACL (a shapes file
  checked without the file that declares its prefixes still works with both engines).
- A solution's ``?this`` (else the focus node), ``?path`` when it is an IRI (else the
  shape's ``sh:path``) and ``?value`` (else, for a node shape, the focus node) make the
  result (§5.3.2); identical solutions are reported once, as pySHACL does; the message is
  ``?message`` when the solution binds it, else the messages of the constraint and of the
  shape (pySHACL reports both), ``{?var}``/``{$var}`` taking the value of each bound
  variable as a plain string. A solution with ``?failure`` true is a failure of the shapes
  (§5.3), not a result.
- Oxigraph writes typed literals in canonical form (``1.5`` for ``1.50``): ``?this``,
  ``?path`` and ``?value`` are mapped back to the data's own literal, so that reports name
  what the sources say. Other variables (numbers a query computes) keep Oxigraph's form,
  the canonical one of XSD 1.1 (``200`` where rdflib writes ``200.0``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain

import pyoxigraph as ox
from pyshacl.rdfutil import clone_blank_node
from rdflib import OWL, RDF, RDFS, SH, BNode, Graph, Literal, URIRef
from rdflib.term import Node

from kg.pipeline.prebinding import PreBindingError, prebind, read_query
from kg.store.oxigraph import from_rdflib, quad_from_rdflib, run_select, to_rdflib

#: shapes that point to other shapes: those are evaluated inside their parent, by pySHACL
_SHAPE_REFERENCES = (SH.property, SH.node, SH["not"], SH.qualifiedValueShape)
_SHAPE_LISTS = (SH["and"], SH["or"], SH.xone)
_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)
#: what a shape may say besides its targets and SPARQL constraints without constraining
_DESCRIPTIVE = {RDF.type, RDFS.label, RDFS.comment, SH.severity, SH.message, SH.sparql,
                SH.name, SH.description, SH.deactivated, SH.prefixes, SH.order, SH.group}
#: prefixes pySHACL declares for every SHACL-SPARQL query
_DEFAULT_PREFIXES = {"rdf": str(RDF), "rdfs": str(RDFS), "owl": str(OWL)}
_PATH_VARIABLE = re.compile(r"([\s{}()])[$?]PATH\b")
_RESULT_VARIABLES = ("this", "path", "value", "failure")
#: the name of the shapes graph in the store, the value of ``$shapesGraph``
SHAPES_GRAPH = ox.NamedNode("urn:kg:shacl:shapes-graph")
#: the graph that holds pre-bound values that cannot be written in a query (blank nodes)
_PREBOUND_GRAPH = ox.NamedNode("urn:kg:shacl:pre-bound")
_PREBOUND_SUBJECT = ox.NamedNode("urn:kg:shacl:pre-bound")


class SparqlShapesError(Exception):
    """A SHACL-SPARQL constraint or target cannot be evaluated (syntax, prefixes, failure)."""


@dataclass(frozen=True)
class SparqlConstraint:
    """One ``sh:sparql`` constraint of one shape, ready to run."""

    shape: Node
    constraint: Node
    query: str
    severity: Node
    #: the constraint's sh:message values, and the shape's (pySHACL reports both)
    messages: tuple[Literal, ...]
    shape_messages: tuple[Literal, ...]
    #: the shape's sh:path (a property shape), else None
    path: Node | None
    #: the variables pre-bound for it (this, and currentShape, shapesGraph where used), and
    #: where their values are joined in ``query`` (:func:`kg.pipeline.prebinding.prebind`)
    prebound: tuple[str, ...]
    group_starts: tuple[int, ...]

    def bound_query(self, values: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]) -> str:
        """The query with ``values`` joined to every group: as ``VALUES``, or as a pattern on
        :data:`_PREBOUND_GRAPH` when one is a blank node (which a query cannot name)."""
        names = [name for name in self.prebound if name in values]
        if any(isinstance(values[name], ox.BlankNode) for name in names):
            table = "GRAPH {} {{ {} }}".format(_PREBOUND_GRAPH, " ".join(
                f"{_PREBOUND_SUBJECT} <urn:kg:shacl:var:{name}> ?{name} ." for name in names))
        else:
            table = "VALUES ({}) {{ ({}) }}".format(" ".join(f"?{name}" for name in names),
                                                    " ".join(str(values[n]) for n in names))
        return prebind(self.query, self.group_starts, table)


def sparql_property_path(shapes: Graph, path: Node) -> str:
    """A SHACL property path (§2.3.1) in SPARQL syntax."""
    if isinstance(path, URIRef):
        return f"<{path}>"
    for predicate, template in ((SH.inversePath, "^({})"), (SH.zeroOrMorePath, "({})*"),
                                (SH.oneOrMorePath, "({})+"), (SH.zeroOrOnePath, "({})?")):
        inner = shapes.value(path, predicate)
        if inner is not None:
            return template.format(sparql_property_path(shapes, inner))
    alternatives = shapes.value(path, SH.alternativePath)
    if alternatives is not None:
        members = [sparql_property_path(shapes, m) for m in shapes.items(alternatives)]
        return "(" + "|".join(members) + ")"
    members = [sparql_property_path(shapes, m) for m in shapes.items(path)]
    if not members:
        raise SparqlShapesError(f"{path} is not a SHACL property path")
    return "(" + "/".join(members) + ")"


def _prefix_declarations(shapes: Graph, node: Node) -> str:
    prefixes = dict(_DEFAULT_PREFIXES)
    for holder in shapes.objects(node, SH.prefixes):
        for declaration in shapes.objects(holder, SH.declare):
            prefix, namespace = (shapes.value(declaration, SH.prefix),
                                 shapes.value(declaration, SH.namespace))
            if prefix is None or namespace is None:
                raise SparqlShapesError(f"sh:declare {declaration} of {holder} needs "
                                        "one sh:prefix and one sh:namespace")
            prefixes[str(prefix)] = str(namespace)
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items())


def _is_true(value: Node | None) -> bool:
    return isinstance(value, Literal) and value.value is True


def _referenced(shapes: Graph, shape: Node) -> bool:
    if any(True for p in _SHAPE_REFERENCES for _ in shapes.subjects(p, shape)):
        return True
    # a member of an RDF list (sh:and, sh:or, sh:xone)
    return any(True for _ in shapes.subjects(RDF.first, shape))


def _targets_supported(shapes: Graph) -> Iterator[tuple[Node, bool]]:
    for shape in set(shapes.subjects(SH.sparql)):
        custom = [t for t in shapes.objects(shape, SH.target)
                  if (t, RDF.type, SH.SPARQLTarget) not in shapes
                  or shapes.value(t, SH.select) is None]
        yield shape, not custom


def _offloadable(shapes: Graph) -> list[Node]:
    """The shapes whose SPARQL constraints run here: top-level, active, with known targets."""
    return sorted(
        (shape for shape, supported in _targets_supported(shapes)
         if supported and not _referenced(shapes, shape)
         and not _is_true(shapes.value(shape, SH.deactivated))),
        key=str)


def sparql_constraints(shapes: Graph) -> tuple[Graph, list[SparqlConstraint]]:
    """The shapes graph for pySHACL, without the constraints that run here, and those."""
    constraints: list[SparqlConstraint] = []
    kept = Graph()
    for prefix, namespace in shapes.namespaces():
        kept.bind(prefix, namespace)
    taken: set[tuple[Node, Node]] = set()
    for shape in _offloadable(shapes):
        path = shapes.value(shape, SH.path)
        severity = shapes.value(shape, SH.severity) or SH.Violation
        shape_messages = tuple(m for m in shapes.objects(shape, SH.message)
                               if isinstance(m, Literal))
        for constraint in sorted(shapes.objects(shape, SH.sparql), key=str):
            select = shapes.value(constraint, SH.select)
            if select is None:
                continue  # pySHACL reports the fault
            taken.add((shape, constraint))
            if _is_true(shapes.value(constraint, SH.deactivated)):
                continue
            text = str(select)
            if path is not None:
                sparql_path = sparql_property_path(shapes, path)
                text = _PATH_VARIABLE.sub(_after_group(sparql_path), text)
            elif _PATH_VARIABLE.search(text):
                raise SparqlShapesError(f"the query of {constraint} uses $PATH, but its shape "
                                        f"{shape} has no sh:path")
            try:
                query = read_query(_prefix_declarations(shapes, constraint) + text)
            except PreBindingError as e:
                raise SparqlShapesError(f"the query of the SPARQL constraint {constraint} of "
                                        f"{shape} cannot be evaluated: {e}") from e
            used = query.variables
            constraints.append(SparqlConstraint(
                shape=shape, constraint=constraint, query=query.text, severity=severity,
                messages=tuple(m for m in shapes.objects(constraint, SH.message)
                               if isinstance(m, Literal)),
                shape_messages=shape_messages, path=path,
                prebound=tuple(n for n in ("this", "currentShape", "shapesGraph")
                               if n == "this" or n in used),
                group_starts=query.group_starts))
    # a shape left with nothing to check in pySHACL keeps no targets there either: pySHACL
    # would compute its focus nodes (SPARQL targets with rdflib) for nothing
    inert = {shape for shape, _ in taken
             if set(shapes.predicates(shape)) <= _DESCRIPTIVE | set(_TARGETS)}
    for triple in shapes:
        if triple[1] == SH.sparql and (triple[0], triple[2]) in taken:
            continue
        if triple[0] in inert and triple[1] in _TARGETS:
            continue
        kept.add(triple)
    return kept, constraints


# ---------------------------------------------------------------- the data in Oxigraph

class DataStore:
    """The data graph in an in-memory Oxigraph store, with the way back to its own terms."""

    def __init__(self, data: Iterable[tuple[Node, Node, Node]],
                 prefixes: dict[str, str] | None = None) -> None:
        self.store = ox.Store()
        self.prefixes = prefixes or {}
        self.has_shapes_graph = False
        #: the focus nodes each target query selected
        self.targets: dict[str, list[object]] = {}
        triples = list(data)
        self.store.extend(quad_from_rdflib(s, p, o) for s, p, o in triples)
        self._literals = self._canonical_literals({o for _, _, o in triples
                                                   if isinstance(o, Literal) and o.datatype})

    @staticmethod
    def _canonical_literals(literals: set[Literal]) -> dict[Literal, Literal]:
        """Oxigraph's canonical form of each typed literal -> the data's own, where the two
        differ and one literal of the data has that form."""
        scratch = ox.Store()
        ordered = sorted(literals, key=lambda lit: (str(lit.datatype), str(lit)))
        predicate = ox.NamedNode("urn:kg:literal")
        scratch.extend(ox.Quad(ox.NamedNode(f"urn:kg:literal:{i}"), predicate, from_rdflib(lit))
                       for i, lit in enumerate(ordered))
        found: dict[Literal, list[Literal]] = {}
        for row in run_select(scratch, "SELECT ?s ?o WHERE { ?s <urn:kg:literal> ?o }"):
            original = ordered[int(row["s"].value.rsplit(":", 1)[1])]
            canonical = to_rdflib(row["o"])
            if isinstance(canonical, Literal) and str(canonical) != str(original):
                found.setdefault(canonical, []).append(original)
        return {c: originals[0] for c, originals in found.items()
                if len(originals) == 1 and c not in literals}

    def term(self, term: object) -> Node | None:
        node = to_rdflib(term)
        if isinstance(node, Literal):
            return self._literals.get(node, node)
        return node

    def select(self, query: str) -> list[dict[str, object]]:
        """The solutions of a SELECT query on the data graph, each as its bound variables."""
        try:
            solutions = run_select(self.store, query, self.prefixes)
        except SyntaxError as e:
            raise SparqlShapesError(f"{e}\nin the query\n{query}") from e
        names = [v.value for v in solutions.variables]
        return [{name: solution[name] for name in names if solution[name] is not None}
                for solution in solutions]

    def add_shapes_graph(self, shapes: Graph) -> None:
        """The shapes graph as the named graph :data:`SHAPES_GRAPH` (for ``$shapesGraph``)."""
        if not self.has_shapes_graph:
            self.store.extend(quad_from_rdflib(s, p, o, SHAPES_GRAPH) for s, p, o in shapes)
            self.has_shapes_graph = True

    def select_prebound(self, constraint: SparqlConstraint,
                        values: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal],
                        ) -> list[dict[str, object]]:
        """The solutions of ``constraint`` with ``values`` pre-bound."""
        query = constraint.bound_query(values)
        if _PREBOUND_GRAPH.value not in query:
            return self.select(query)
        quads = [ox.Quad(_PREBOUND_SUBJECT, ox.NamedNode(f"urn:kg:shacl:var:{name}"),
                         values[name], _PREBOUND_GRAPH) for name in constraint.prebound]
        self.store.extend(quads)
        try:
            return self.select(query)
        finally:
            for quad in quads:
                self.store.remove(quad)


# ---------------------------------------------------------------- focus nodes

def _select_nodes(store: DataStore, query: str) -> list[object]:
    if query not in store.targets:
        store.targets[query] = [row["this"] for row in store.select(query) if "this" in row]
    return store.targets[query]


def _sparql_target_query(shapes: Graph, target: Node) -> str | None:
    """The query of an active ``sh:SPARQLTarget``, else None."""
    select = shapes.value(target, SH.select)
    if ((target, RDF.type, SH.SPARQLTarget) not in shapes or select is None
            or _is_true(shapes.value(target, SH.deactivated))):
        return None
    return _prefix_declarations(shapes, target) + str(select)


def resolve_sparql_targets(shapes: Graph, store: DataStore) -> None:
    """Replace each SPARQL-based target of ``shapes`` by the nodes it selects on ``store``, as
    ``sh:targetNode`` values: the same focus nodes (a shape's targets are a union), found
    by Oxigraph instead of by rdflib inside pySHACL."""
    for shape, target in list(shapes.subject_objects(SH.target)):
        query = _sparql_target_query(shapes, target)
        if query is None:
            continue
        shapes.remove((shape, SH.target, target))
        for node in _select_nodes(store, query):
            focus = store.term(node)
            assert focus is not None  # a solution binds ?this or is not selected
            shapes.add((shape, SH.targetNode, focus))


def target_queries(shapes: Graph, shape: Node) -> Iterator[str]:
    """SELECT queries of ?this for the targets of ``shape`` other than ``sh:targetNode``
    (SHACL §2.1.3): class targets through ``rdf:type/rdfs:subClassOf*``, the implicit
    class target, subjects-of, objects-of and active SPARQL-based targets."""
    classes = list(shapes.objects(shape, SH.targetClass))
    if (shape, RDF.type, RDFS.Class) in shapes:
        classes.append(shape)
    for cls in classes:
        yield (f"SELECT DISTINCT ?this WHERE {{ ?this <{RDF.type}>/<{RDFS.subClassOf}>* "
               f"{from_rdflib(cls)} }}")
    for predicate in shapes.objects(shape, SH.targetSubjectsOf):
        yield f"SELECT DISTINCT ?this WHERE {{ ?this {from_rdflib(predicate)} ?o }}"
    for predicate in shapes.objects(shape, SH.targetObjectsOf):
        yield f"SELECT DISTINCT ?this WHERE {{ ?s {from_rdflib(predicate)} ?this }}"
    for target in shapes.objects(shape, SH.target):
        query = _sparql_target_query(shapes, target)
        if query is not None:
            yield query


def targeting_shapes(shapes: Graph) -> set[Node]:
    """The shapes that have targets (explicit, or the implicit class target)."""
    found = {shape for predicate in _TARGETS for shape in shapes.subjects(predicate)}
    return found | {shape for shape in shapes.subjects(RDF.type, RDFS.Class)
                    if (shape, RDF.type, SH.NodeShape) in shapes}


def focus_nodes(store: DataStore, shapes: Graph, shape: Node) -> list[object]:
    """The focus nodes of ``shape`` by its own targets (SHACL §2.1.3), without duplicates."""
    found: dict[object, None] = dict.fromkeys(
        from_rdflib(node) for node in shapes.objects(shape, SH.targetNode))
    for query in target_queries(shapes, shape):
        found.update(dict.fromkeys(_select_nodes(store, query)))
    return list(found)


# ---------------------------------------------------------------- results

def _constant(text: str) -> Callable[[re.Match[str]], str]:
    """A replacement for :func:`re.sub` that inserts ``text`` as it is (no escapes)."""
    return lambda _match: text


def _after_group(text: str) -> Callable[[re.Match[str]], str]:
    """A replacement for :func:`re.sub` that keeps the match's first group, then ``text``."""
    return lambda match: match.group(1) + text


def _message(text: str, variables: dict[str, Node]) -> str:
    for name, value in variables.items():
        text = re.sub("{[?$]" + re.escape(name) + "}", _constant(str(value)), text)
    return text


def _copy(source: Graph, node: Node, report: Graph) -> Node:
    """A term for the report; a blank node with its description, as pySHACL copies it."""
    if isinstance(node, BNode):
        return clone_blank_node(source, node, report, keepid=True)
    return node


@dataclass
class _Result:
    focus: Node
    path: Node | None
    value: Node | None
    messages: list[Literal]


def constraint_results(constraint: SparqlConstraint, store: DataStore, focus: object
                       ) -> Iterator[_Result]:
    """The results of ``constraint`` for one focus node (§5.3.2), as pySHACL makes them."""
    values = {"this": focus, "currentShape": from_rdflib(constraint.shape),
              "shapesGraph": SHAPES_GRAPH}
    focus_node = store.term(focus)
    assert focus_node is not None
    seen: set[tuple[tuple[str, Node | None], ...]] = set()
    for row in store.select_prebound(constraint, values):  # type: ignore[arg-type]
        # the terms that name data are the data's own; computed ones as Oxigraph writes them
        terms = {name: store.term(term) if name in _RESULT_VARIABLES else to_rdflib(term)
                 for name, term in row.items()}
        if _is_true(terms.get("failure")):
            raise SparqlShapesError(f"the SPARQL constraint {constraint.constraint} of "
                                    f"{constraint.shape} reported a failure for {focus_node}")
        key = tuple(sorted(terms.items()))
        if key in seen:
            continue
        seen.add(key)
        this, path, value = terms.pop("this", None), terms.pop("path", None), terms.pop("value",
                                                                                        None)
        if not isinstance(path, URIRef):
            path = constraint.path
        if value is None and constraint.path is None:
            value = focus_node
        # a row holds the variables a solution binds: no term is None
        bound = {k: v for k, v in terms.items() if v is not None}
        bound.update({k: v for k, v in (("this", this), ("path", path), ("value", value))
                      if v is not None})
        message = terms.get("message")
        if isinstance(message, Literal):
            messages = [message]
        else:
            messages = [Literal(_message(str(m), bound)) for m in constraint.messages
                        if m not in constraint.shape_messages]
            messages += [Literal(_message(str(m), bound)) for m in constraint.shape_messages]
        yield _Result(this or focus_node, path, value, messages)


def data_store(data: Graph, ontology: Graph | None = None) -> DataStore:
    """``data`` with ``ontology`` mixed in (as pySHACL does) in Oxigraph."""
    return DataStore(chain(data, ontology if ontology is not None else ()),
                     {prefix: str(ns) for prefix, ns in data.namespaces() if prefix})


def evaluate(store: DataStore, data: Graph, shapes: Graph,
             constraints: list[SparqlConstraint], report: Graph) -> int:
    """Run ``constraints`` on ``store`` (``data`` in Oxigraph) and add their results to
    pySHACL's ``report`` graph (its ``sh:conforms`` false when there is one, whatever its
    severity: SHACL §3.6.1); returns how many results it added."""
    if not constraints:
        return 0
    report_node = next(report.subjects(RDF.type, SH.ValidationReport))
    if any("shapesGraph" in c.prebound for c in constraints):
        store.add_shapes_graph(shapes)
    targets: dict[Node, list[object]] = {}
    found = 0
    for constraint in constraints:
        if constraint.shape not in targets:
            targets[constraint.shape] = focus_nodes(store, shapes, constraint.shape)
        for focus in targets[constraint.shape]:
            for result in constraint_results(constraint, store, focus):
                node = BNode()
                report.add((report_node, SH.result, node))
                report.add((node, RDF.type, SH.ValidationResult))
                report.add((node, SH.sourceConstraintComponent, SH.SPARQLConstraintComponent))
                report.add((node, SH.sourceShape, _copy(shapes, constraint.shape, report)))
                report.add((node, SH.resultSeverity, constraint.severity))
                report.add((node, SH.focusNode, _copy(data, result.focus, report)))
                if result.value is not None:
                    report.add((node, SH.value, _copy(data, result.value, report)))
                if result.path is not None:
                    report.add((node, SH.resultPath, _copy(shapes, result.path, report)))
                report.add((node, SH.sourceConstraint,
                            _copy(shapes, constraint.constraint, report)))
                for message in result.messages:
                    report.add((node, SH.resultMessage, message))
                found += 1
    if found:
        report.set((report_node, SH.conforms, Literal(False)))
    return found
