"""Validate: check the graph against the SHACL shapes with pySHACL.

The result is a :class:`ValidationReport`: every result with its severity, focus
node (and label), path, value, rule and message, and the source file and line of
the focus node where it is known. Violations stop a build; warnings are published.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from pyshacl import validate as shacl_validate
from rdflib import RDFS, SH, Graph, Literal
from rdflib.term import Node

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


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

    def describe(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else (self.file or "?")
        label = f" ({self.focus_label})" if self.focus_label else ""
        parts = [f"{self.severity}: {where}: {self.focus_node}{label}"]
        if self.path:
            parts.append(f"path {self.path}")
        if self.value is not None:
            parts.append(f"value {self.value}")
        parts.append(f"rule {self.rule}")
        return "; ".join(parts) + f"\n    {self.message}"


@dataclass
class ValidationReport:
    conforms: bool
    results: list[ValidationResult]
    graph: Graph

    @property
    def violations(self) -> list[ValidationResult]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[ValidationResult]:
        return [r for r in self.results if r.severity == "Warning"]

    def summary(self) -> dict[str, object]:
        return {
            "conforms": not self.violations,
            "violations": len(self.violations),
            "warnings": len(self.warnings),
            "infos": len(self.results) - len(self.violations) - len(self.warnings),
        }

    def to_text(self) -> str:
        if not self.results:
            return "The graph conforms to the shapes: no violations, no warnings."
        lines = [r.describe() for r in self.results]
        s = self.summary()
        lines.append(f"{s['violations']} violation(s), {s['warnings']} warning(s)")
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {**self.summary(), "results": [asdict(r) for r in self.results]},
            indent=2,
            ensure_ascii=False,
        )


def _short(node: Node | None, graph: Graph) -> str | None:
    if node is None:
        return None
    if isinstance(node, Literal):
        return node.n3(graph.namespace_manager)
    try:
        return node.n3(graph.namespace_manager)
    except Exception:
        return str(node)


def validate_graph(
    data: Graph,
    shapes: Graph,
    ontology: Graph | None = None,
    subject_files: dict[Node, tuple[Path, int | None]] | None = None,
    root: Path | None = None,
) -> ValidationReport:
    """Validate ``data`` (with ``ontology`` for class hierarchy) against ``shapes``."""
    conforms, report_graph, _ = shacl_validate(
        data,
        shacl_graph=shapes,
        ont_graph=ontology,
        inference="none",
        advanced=True,
        allow_warnings=True,
    )
    subject_files = subject_files or {}
    results: list[ValidationResult] = []
    for result in report_graph.subjects(predicate=None, object=SH.ValidationResult, unique=True):
        def get(p: Node, result: Node = result) -> Node | None:
            return report_graph.value(result, p)

        focus = get(SH.focusNode)
        label = data.value(focus, RDFS.label) if focus is not None else None
        file, line = subject_files.get(focus, (None, None)) if focus is not None else (None, None)
        if file is not None and root is not None:
            try:
                file = file.relative_to(root)
            except ValueError:
                pass
        component = get(SH.sourceConstraintComponent)
        message = get(SH.resultMessage)
        results.append(
            ValidationResult(
                severity=SEVERITIES.get(get(SH.resultSeverity), str(get(SH.resultSeverity))),
                focus_node=_short(focus, data) or "",
                focus_label=str(label) if label is not None else None,
                path=_short(get(SH.resultPath), data),
                value=_short(get(SH.value), data),
                rule=_short(component, shapes) or "",
                shape=_short(get(SH.sourceShape), shapes),
                message=str(message) if message is not None else "",
                file=str(file) if file is not None else None,
                line=line,
            )
        )
    results.sort(key=lambda r: (r.severity != "Violation", r.file or "", r.line or 0, r.focus_node))
    return ValidationReport(conforms=bool(conforms), results=results, graph=report_graph)
