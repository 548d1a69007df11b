"""The cost of one SHACL validation of the real graph, per shapes file and engine.

    .venv/bin/python bench/validation.py              # both engines, each file alone, then all
    .venv/bin/python bench/validation.py --constraints  # each SPARQL constraint on Oxigraph

Each shapes file is applied alone to the asserted graph (ontology, data, links), so a
file's figure includes the fixed cost of one validation (pySHACL's set-up, the copy of
the data into Oxigraph); the last row applies all the files at once, as ``kg validate``
does. A benchmark asserts nothing; figures are wall-clock seconds of one run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rdflib import Graph

from kg.config import Config
from kg.pipeline.load import load_shapes, load_sources
from kg.pipeline.shacl_sparql import (
    constraint_results,
    data_store,
    focus_nodes,
    sparql_constraints,
)
from kg.pipeline.validate import SHACL_ENGINES, validate_graph


def per_file(config: Config) -> None:
    loaded = load_sources(config)
    data, ontology = loaded.union(), loaded.graphs["ontology"]
    print(f"{len(data)} asserted triples")
    print("| shapes | " + " | ".join(SHACL_ENGINES) + " |")
    print("|---|" + "---:|" * len(SHACL_ENGINES))
    files = sorted(config.shapes_dir.glob("*.ttl"))
    for name, shapes in [(f.name, Graph().parse(f)) for f in files] + [
            ("all", load_shapes(config))]:
        cells = []
        for engine in SHACL_ENGINES:
            start = time.perf_counter()
            validate_graph(data, shapes, ontology, engine=engine)
            cells.append(f"{time.perf_counter() - start:.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |")


def per_constraint(config: Config) -> None:
    loaded = load_sources(config)
    shapes = load_shapes(config)
    store = data_store(loaded.union(), loaded.graphs["ontology"])
    _, constraints = sparql_constraints(shapes)
    print("| constraint | focus nodes | results | ms (targets + queries) |")
    print("|---|---:|---:|---:|")
    for constraint in constraints:
        start = time.perf_counter()
        nodes = focus_nodes(store, shapes, constraint.shape)
        found = sum(1 for node in nodes for _ in constraint_results(constraint, store, node))
        name = constraint.constraint.n3(shapes.namespace_manager)
        print(f"| {name} | {len(nodes)} | {found} | {(time.perf_counter() - start) * 1000:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--constraints", action="store_true",
                        help="time each SPARQL constraint on Oxigraph instead")
    parser.add_argument("--root", type=Path, default=None, help="the project folder")
    args = parser.parse_args()
    config = Config.from_env(root=args.root)
    (per_constraint if args.constraints else per_file)(config)


if __name__ == "__main__":
    main()
