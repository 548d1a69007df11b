"""The layering of src/kg: imports run downward only, and no module imports itself back.

Layers, lowest first (docs/decisions/0008-one-served-dataset.md): the leaf modules
(formats, the SPARQL parser), the store backends, the settings, the pipeline and the
reconciliation service, the served dataset, the SPARQL protocol, the web layer, and the
command line on top. Every import counts, those inside functions too.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("kg", "kg.formats", "kg.sparqltext", "kg.system"),
    ("kg.store",),
    ("kg.config",),
    ("kg.pipeline", "kg.reconcile"),
    ("kg.served",),
    ("kg.sparql",),
    ("kg.web",),
    ("kg.cli", "kg.__main__"),
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """The kg modules ``path`` imports (``from kg.x import y`` counts ``kg.x.y`` when that is
    a module, else ``kg.x``)."""
    found = set()
    package = _module_name(path)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("kg")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kg"):
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in MODULES else node.module)
    found.discard(package)
    return found


MODULES = {_module_name(p): p for p in SRC.rglob("*.py")}
GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def _layer(module: str) -> int:
    best = -1, -1
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                best = max(best, (len(prefix), rank))
    assert best[1] >= 0, f"{module} is in no layer: add it to LAYERS"
    return best[1]


def test_every_import_runs_downward() -> None:
    upward = [f"{module} (layer {_layer(module)}) imports {target} (layer {_layer(target)})"
              for module, targets in GRAPH.items() for target in targets
              if target in MODULES and _layer(target) > _layer(module)]
    assert upward == []


def test_no_import_cycle() -> None:
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for target in sorted(GRAPH.get(module, ())):
            if target not in MODULES or target == "kg":
                continue
            if state.get(target) == 1:
                cycles.append(" -> ".join(stack[stack.index(target):] + [target]))
            elif target not in state:
                visit(target)
        stack.pop()
        state[module] = 2

    for module in sorted(MODULES):
        if module not in state:
            visit(module)
    assert cycles == []


def test_store_and_pipeline_know_nothing_of_http() -> None:
    for module, targets in GRAPH.items():
        if _layer(module) <= _layer("kg.pipeline"):
            source = MODULES[module].read_text(encoding="utf-8")
            assert "import flask" not in source and "from flask" not in source, module
            assert not any(t.startswith(("kg.web", "kg.sparql.")) for t in targets), module
