"""Validate: check the graph against the SHACL shapes with pySHACL.

Two engines (setting ``KG_SHACL``): ``oxigraph`` (the default) leaves the core constraint
components to pySHACL and evaluates the SHACL-SPARQL constraints on Oxigraph
(:mod:`kg.pipeline.shacl_sparql`); ``pyshacl`` runs everything in pySHACL, the reference.

The result is a :class:`ValidationReport`: every result with its severity, focus
node (and label), path, value, rule and message, and the source file and line of
the statement at fault where it is known. The report reads as text grouped by
file and subject, as JSON, or as the SHACL report graph itself. Violations stop
a build; warnings are published.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from pyshacl import validate as shacl_validate
from pyshacl.errors import ReportableRuntimeError
from rdflib import RDF, RDFS, SH, BNode, Graph, Literal, URIRef
from rdflib.namespace import NamespaceManager
from rdflib.term import Node

from kg.config import Config
from kg.pipeline.load import (
    LoadedSources,
    SourceLocations,
    load_shapes,
    load_sources,
    named_owner,
)
from kg.pipeline.prepared_queries import prepared_queries
from kg.pipeline.shacl_sparql import (
    DataStore,
    SparqlConstraint,
    SparqlShapesError,
    data_store,
    evaluate,
    resolve_sparql_targets,
    sparql_constraints,
)

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
#: the language a label is shown in when a subject has several
LABEL_LANGUAGES = ("en", "", "ru", "kk", "ko")
#: the exit codes of ``kg validate``
CONFORMS, VIOLATIONS, UNUSABLE_INPUT = 0, 1, 2
#: the validation engines (see the module's documentation)
SHACL_ENGINES = ("oxigraph", "pyshacl")


class ShapesError(Exception):
    """The shapes cannot be applied (pySHACL or Oxigraph rejected one): a fault in shapes/."""


@dataclass(frozen=True)
class ValidationResult:
    severity: str
    focus_node: str
    focus_label: str | None
    path: str | None
    value: str | None
    rule: str
    shape: str | None
    message: str
    file: str | None
    line: int | None
    #: the focus node's full IRI (or blank node id), for machines
    focus_iri: str = ""
    #: the SPARQL constraint that found it, when the rule is sh:SPARQLConstraintComponent
    constraint: str | None = None

    def describe(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else (self.file or "?")
        label = f" ({self.focus_label})" if self.focus_label else ""
        parts = [f"{self.severity}: {where}: {self.focus_node}{label}"]
        if self.path:
            parts.append(f"path {self.path}")
        if self.value is not None:
            parts.append(f"value {self.value}")
        parts.append(f"rule {self.constraint or self.rule}")
        return "; ".join(parts) + f"\n    {self.message}"

    def detail(self) -> dict[str, object]:
        """The result without what its subject group already says."""
        return {k: v for k, v in asdict(self).items()
                if k not in ("focus_node", "focus_label", "focus_iri", "file", "line")}


@dataclass(frozen=True)
class SubjectResults:
    """The results about one focus node."""

    focus_node: str
    focus_iri: str
    label: str | None
    line: int | None
    results: list[ValidationResult]


@dataclass(frozen=True)
class FileResults:
    """The results about the subjects of one source file (``None``: no file states them)."""

    file: str | None
    subjects: list[SubjectResults]


@dataclass
class ValidationReport:
    #: the report's sh:conforms: no result at all, warnings included (SHACL §3.6.1); what stops
    #: a build is a violation (:attr:`violations`, the "conforms" of :meth:`summary`)
    conforms: bool
    results: list[ValidationResult]
    graph: Graph
    #: how many shapes and constraints were checked (see :func:`shape_statistics`)
    shapes: dict[str, int] = field(default_factory=dict)
    #: results about the rest of the graph left out of a contributor's report (warnings)
    left_out: int = 0
    #: what a reader of the summary should know (the large path: no shape applied)
    note: str | None = None

    @property
    def violations(self) -> list[ValidationResult]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[ValidationResult]:
        return [r for r in self.results if r.severity == "Warning"]

    def summary(self) -> dict[str, object]:
        summary: dict[str, object] = {
            "conforms": not self.violations,
            "violations": len(self.violations),
            "warnings": len(self.warnings),
            "infos": len(self.results) - len(self.violations) - len(self.warnings),
        }
        if self.note:
            summary["note"] = self.note
        return summary

    def by_file(self) -> list[FileResults]:
        """The results grouped by source file, then by subject, in file and line order."""
        files: dict[str | None, dict[str, list[ValidationResult]]] = {}
        for result in self.results:
            files.setdefault(result.file, {}).setdefault(result.focus_iri, []).append(result)
        groups = []
        for file in sorted(files, key=lambda f: (f is None, f or "")):
            subjects = [
                SubjectResults(rs[0].focus_node, iri, rs[0].focus_label, rs[0].line, rs)
                for iri, rs in files[file].items()
            ]
            subjects.sort(key=lambda s: (s.line or 0, s.focus_node))
            groups.append(FileResults(file, subjects))
        return groups

    def to_text(self) -> str:
        if not self.results:
            return "The graph conforms to the shapes: no violations, no warnings."
        lines: list[str] = []
        for group in self.by_file():
            lines.append(group.file or "(not stated in a source file: inferred or missing)")
            for subject in group.subjects:
                label = f'  "{subject.label}"' if subject.label else ""
                line = f"  line {subject.line}" if subject.line else ""
                lines.append(f"  {subject.focus_node}{label}{line}")
                for r in subject.results:
                    what = [r.severity]
                    if r.path:
                        what.append(f"path {r.path}")
                    if r.value is not None:
                        what.append(f"value {r.value}")
                    rule = r.constraint or r.rule
                    rule = f"{rule}, shape {r.shape}" if r.shape else rule
                    lines.append(f"    {'  '.join(what)}  [{rule}]")
                    lines.append(f"      {r.message}")
            lines.append("")
        lines.append(self.summary_line())
        return "\n".join(lines)

    def summary_line(self) -> str:
        s = self.summary()
        subjects = len({r.focus_iri for r in self.results})
        files = len({r.file for r in self.results})
        line = (f"{s['violations']} violation(s), {s['warnings']} warning(s), {s['infos']} "
                f"info(s) on {subjects} subject(s) in {files} file(s)")
        if self.left_out:
            line += (f"; {self.left_out} warning(s) the published graph already has are not "
                     "shown (kg validate without files lists them)")
        return line

    def to_json(self) -> str:
        return json.dumps({
            **self.summary(),
            "shapes": self.shapes,
            "files": [
                {"file": group.file, "subjects": [
                    {"focus_node": s.focus_node, "focus_iri": s.focus_iri, "label": s.label,
                     "line": s.line, "results": [r.detail() for r in s.results]}
                    for s in group.subjects]}
                for group in self.by_file()
            ],
        }, indent=2, ensure_ascii=False)

    def to_turtle(self) -> str:
        return self.graph.serialize(format="turtle")


def shape_statistics(shapes: Graph) -> dict[str, int]:
    """How many node shapes, property shapes and constraints (parameters such as sh:minCount,
    each SPARQL constraint counted once) the shapes graph holds."""
    node_shapes = set(shapes.subjects(RDF.type, SH.NodeShape))
    property_shapes = set(shapes.objects(None, SH.property)) | set(
        shapes.subjects(RDF.type, SH.PropertyShape))
    parameters = (SH["class"], SH.datatype, SH.nodeKind, SH.minCount, SH.maxCount,
                  SH.minInclusive, SH.maxInclusive, SH.minExclusive, SH.maxExclusive,
                  SH.minLength, SH.maxLength, SH.pattern, SH.languageIn, SH.uniqueLang,
                  SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals, SH["not"],
                  SH["and"], SH["or"], SH.xone, SH.node, SH.hasValue, SH["in"], SH.closed,
                  SH.qualifiedValueShape, SH.sparql)
    constraints = sum(1 for p in parameters for _ in shapes.subject_objects(p))
    return {"node_shapes": len(node_shapes), "property_shapes": len(property_shapes),
            "constraints": constraints}


def _namespaces(*graphs: Graph) -> NamespaceManager:
    manager = NamespaceManager(Graph(bind_namespaces="core"))
    for graph in graphs:
        for prefix, namespace in graph.namespaces():
            if prefix:
                manager.bind(prefix, namespace, override=False, replace=False)
    return manager


def _short(node: Node | None, namespaces: NamespaceManager) -> str | None:
    """A term as a person reads it: ``kkid:kazakhstan``, ``kkid:paper/footnote/3``, a literal
    in Turtle syntax; an IRI outside the known namespaces in full."""
    if node is None:
        return None
    if isinstance(node, URIRef):
        text = node.n3(namespaces)
        if text.startswith("<"):
            # rdflib will not write a prefixed name with '/' in it; people do
            matches = [(len(ns), prefix) for prefix, ns in namespaces.namespaces()
                       if prefix and str(node).startswith(str(ns)) and len(node) > len(ns)]
            if matches:
                length, prefix = max(matches)
                return f"{prefix}:{node[length:]}"
        return text
    if isinstance(node, Literal):
        return node.n3(namespaces)
    return node.n3()


def _path_text(report: Graph, path: Node | None, namespaces: NamespaceManager) -> str | None:
    """A result path as SPARQL property path syntax (``^p``, ``p/q``, ``p*``...)."""
    if path is None or isinstance(path, URIRef):
        return _short(path, namespaces)
    inverse = report.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + (_path_text(report, inverse, namespaces) or "")
    for predicate, suffix in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+"),
                              (SH.zeroOrOnePath, "?")):
        inner = report.value(path, predicate)
        if inner is not None:
            return f"({_path_text(report, inner, namespaces)}){suffix}"
    alternatives = report.value(path, SH.alternativePath)
    members = list(report.items(alternatives if alternatives is not None else path))
    if members:
        joiner = "|" if alternatives is not None else "/"
        return joiner.join(_path_text(report, m, namespaces) or "" for m in members)
    return path.n3()


_IRI_IN_TEXT = re.compile(r"https?://[^\s,;()<>\"']+[^\s,;()<>\"'.:]")


def _compact_iris(text: str, namespaces: NamespaceManager) -> str:
    """``text`` with the IRIs that pySHACL writes into messages shortened to prefixed names."""
    def compact(match: re.Match[str]) -> str:
        iri = match.group(0)
        short = _short(URIRef(iri), namespaces)
        return short if short and not short.startswith("<") else iri
    return _IRI_IN_TEXT.sub(compact, text)


def _shape_text(shapes: Graph, shape: Node | None, namespaces: NamespaceManager) -> str | None:
    """A shape by name; a blank-node property shape through its node shape and its sh:name."""
    if shape is None:
        return None
    if not isinstance(shape, BNode):
        return _short(shape, namespaces)
    parent = next(shapes.subjects(SH.property, shape), None)
    name = shapes.value(shape, SH.name) or shapes.value(shape, RDFS.label)
    owner = _shape_text(shapes, parent, namespaces) if parent is not None else None
    if owner and name:
        return f"{owner} ({name})"
    return owner or (str(name) if name else None)


def label_of(graph: Graph, node: Node) -> str | None:
    """The label a person should see: English first, then untagged, Russian, Kazakh, Korean."""
    labels = list(graph.objects(node, RDFS.label))
    if not labels:
        return None
    for language in LABEL_LANGUAGES:
        for label in labels:
            if isinstance(label, Literal) and (label.language or "") == language:
                return str(label)
    return str(labels[0])


def validate_graph(
    data: Graph,
    shapes: Graph,
    ontology: Graph | None = None,
    subject_files: SourceLocations | None = None,
    root: Path | None = None,
    engine: str = "oxigraph",
) -> ValidationReport:
    """Validate ``data`` (with ``ontology`` for the class hierarchy) against ``shapes``;
    ``subject_files`` places each result in the file and line that state it. ``engine``
    is one of :data:`SHACL_ENGINES`."""
    if engine not in SHACL_ENGINES:
        raise ValueError(f"the SHACL engine is one of {', '.join(SHACL_ENGINES)}, not {engine!r}")
    store: DataStore | None = None
    core_shapes = shapes
    constraints: list[SparqlConstraint] = []
    if engine == "oxigraph":
        store = data_store(data, ontology)
        try:
            core_shapes, constraints = sparql_constraints(shapes)
            resolve_sparql_targets(core_shapes, store)
        except SparqlShapesError as e:
            raise ShapesError(f"the shapes cannot be applied: {e}") from e
    try:
        with prepared_queries():
            conforms, report_graph, _ = shacl_validate(
                data,
                shacl_graph=core_shapes,
                ont_graph=ontology,
                inference="none",
                advanced=True,
            )
    except (ReportableRuntimeError, NotImplementedError) as e:
        # pySHACL's failures (a shape it cannot load, a query outside SHACL's restrictions,
        # $shapesGraph, which it does not support) are faults of the shapes, not of the data
        raise ShapesError(f"the shapes cannot be applied: {e}") from e
    if not isinstance(report_graph, Graph):
        raise ShapesError(f"the shapes cannot be applied: {report_graph}")
    if store is not None:
        try:
            found = evaluate(store, data, shapes, constraints, report_graph)
        except SparqlShapesError as e:
            raise ShapesError(f"the shapes cannot be applied: {e}") from e
        conforms = bool(conforms) and not found
    namespaces = _namespaces(shapes, data)
    report_graph.namespace_manager = _namespaces(shapes, data, report_graph)
    results = [
        _result(report_graph, result, data, shapes, namespaces, subject_files, root)
        for result in report_graph.subjects(RDF.type, SH.ValidationResult, unique=True)
    ]
    results.sort(key=lambda r: (r.file is None, r.file or "", r.line or 0, r.focus_node,
                                r.severity != "Violation", r.path or "", r.rule, r.value or ""))
    return ValidationReport(bool(conforms), results, report_graph, shape_statistics(shapes))


def _result(report: Graph, result: Node, data: Graph, shapes: Graph,
            namespaces: NamespaceManager, locations: SourceLocations | None,
            root: Path | None) -> ValidationResult:
    def get(predicate: URIRef) -> Node | None:
        return report.value(result, predicate)

    focus = get(SH.focusNode)
    path, value = get(SH.resultPath), get(SH.value)
    shown: Node | None = focus
    focus_text = _short(focus, namespaces) or ""
    if isinstance(focus, BNode) and (owner := named_owner(data, focus)) is not None:
        # a blank node is shown through the named subject that holds it
        focus_text = f"[] in {_short(owner, namespaces)}"
        shown = owner
    where = locations.locate(focus, path, value) if locations and focus is not None else None
    file, line = where if where else (None, None)
    if file is not None and root is not None and file.is_relative_to(root):
        file = file.relative_to(root)
    severity = get(SH.resultSeverity)
    message = "\n".join(sorted(_compact_iris(str(m), namespaces)
                               for m in report.objects(result, SH.resultMessage)))
    return ValidationResult(
        severity=(SEVERITIES.get(severity, str(severity)) if isinstance(severity, URIRef)
                  else str(severity)),
        focus_node=focus_text,
        focus_label=label_of(data, shown) if shown is not None else None,
        path=_path_text(report, path, namespaces),
        value=_short(value, namespaces),
        rule=_short(get(SH.sourceConstraintComponent), namespaces) or "",
        shape=_shape_text(shapes, get(SH.sourceShape), namespaces),
        message=message,
        file=str(file) if file is not None else None,
        line=line,
        focus_iri=str(focus) if focus is not None else "",
        constraint=_short(get(SH.sourceConstraint), namespaces)
        if isinstance(get(SH.sourceConstraint), URIRef) else None,
    )


def validate_sources(config: Config, contributed: Sequence[Path] = ()) -> ValidationReport:
    """Validate the sources (ontology, data, links) as they stand, or with ``contributed``
    files added to them (each replacing the data file of the same name): what ``kg validate``
    and ``kg validate FILE...`` report. Raises ``SourceError`` for a file that cannot be read.
    """
    loaded = load_sources(config, contributed)
    report = validate_loaded(loaded, load_shapes(config), config.root, config.shacl)
    if not contributed:
        return report
    # a contributor sees what the files bring: their results and any violation; the warnings
    # the published graph already has (the paper's own inconsistencies) are only counted
    names = {str(p) for p in contributed}
    for p in contributed:
        try:
            names.add(str(p.relative_to(config.root)))
        except ValueError:
            pass
    kept = [r for r in report.results if r.severity == "Violation" or r.file in names]
    return replace(report, results=kept, left_out=len(report.results) - len(kept))


def validate_loaded(loaded: LoadedSources, shapes: Graph, root: Path | None,
                    engine: str = "oxigraph") -> ValidationReport:
    """Validate loaded sources; their union holds the ontology already (its class hierarchy
    is what sh:class and sh:targetClass follow), so pySHACL need not mix it in again."""
    return validate_graph(loaded.union(), shapes, None, loaded.subject_files, root, engine)
