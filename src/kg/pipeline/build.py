"""Build: sources -> validation -> closure -> release, or reuse the release of the same inputs."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rdflib import Graph

from kg.config import Config
from kg.pipeline import release as rel
from kg.pipeline.consistency import InconsistentGraph
from kg.pipeline.dumps import read_manifest, write_dumps
from kg.pipeline.load import load_shapes, load_sources
from kg.pipeline.meta import meta_graph
from kg.pipeline.reason_cache import cached_closure

if TYPE_CHECKING:  # pySHACL is imported when a build validates, not to serve a release
    from kg.pipeline.validate import ValidationReport

Progress = Callable[[str], None]


class BuildError(Exception):
    """The sources do not make a valid release; ``report`` holds the SHACL results if any."""

    def __init__(self, message: str, report: ValidationReport | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class BuildResult:
    release: rel.Release
    reused: bool


def _check(report: ValidationReport, stage: str) -> None:
    if report.violations:
        raise BuildError(
            f"SHACL validation {stage} found {len(report.violations)} violation(s); "
            "the build stopped and the previous release stays served:\n" + report.to_text(),
            report,
        )


def _write_dataset(staging: Path, graphs: dict[str, Graph], config: Config,
                   version: str) -> int:
    """Index and write the named graphs and the dumps; returns the size of the N-Quads file."""
    store = rel.write_dataset(staging, graphs, config)
    write_dumps(staging, store, version, config.graph_iri("links"))
    del store
    return (staging / rel.DATASET).stat().st_size


def build(config: Config, *, force: bool = False, progress: Progress | None = None) -> BuildResult:
    say = progress or (lambda _msg: None)
    digest = rel.input_hash(config)
    problem = rel.release_problem(config, digest)
    if problem is not None:
        say(f"{problem}: it is not served; building the release again")
    existing = None if force else rel.find_release(config, digest)
    if existing is not None and read_manifest(existing.path) is None:
        say(f"release {existing.id} has no dumps (built by an older kg): building it again")
        existing = None
    if existing is not None:
        rel.make_current(config, existing)
        say(f"inputs unchanged (hash {digest[:16]}): reusing release {existing.path}")
        return BuildResult(existing, reused=True)
    from kg.pipeline.large import build_large
    from kg.pipeline.load import takes_large_path

    if takes_large_path(config):
        return BuildResult(build_large(config, digest, say), reused=False)

    from kg.pipeline.validate import validate_graph

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    loaded = load_sources(config)
    shapes = load_shapes(config)
    timings["load"] = time.perf_counter() - t0
    say(f"loaded {len(loaded.sources)} sources "
        f"({sum(len(g) for g in loaded.graphs.values())} triples) in {timings['load']:.2f} s")

    t = time.perf_counter()
    asserted = loaded.union()
    before = validate_graph(asserted, shapes, loaded.graphs["ontology"], loaded.subject_files,
                            config.root, config.shacl)
    _check(before, "before reasoning")
    timings["validate_asserted"] = time.perf_counter() - t

    t = time.perf_counter()
    try:
        reasoned = cached_closure(loaded, asserted, config, say)
    except InconsistentGraph as e:
        raise BuildError(str(e)) from e
    inferred = reasoned.inferred
    timings["reason"] = time.perf_counter() - t

    t = time.perf_counter()
    after = validate_graph(asserted + inferred, shapes, None, loaded.subject_files, config.root,
                           config.shacl)
    _check(after, "after reasoning")
    timings["validate_closure"] = time.perf_counter() - t
    say(f"validated: {len(after.violations)} violations, {len(after.warnings)} warnings")

    graphs = {**loaded.graphs, "inferred": inferred}
    counts = {name: len(g) for name, g in graphs.items()}
    graphs["meta"] = meta_graph(config, digest, graphs, after.summary())
    counts["meta"] = len(graphs["meta"])

    t = time.perf_counter()
    staging = rel.staging_path(config, digest)
    dataset_bytes = _write_dataset(staging, graphs, config, digest[:16])
    after.graph.serialize(staging / rel.VALIDATION, format="turtle")
    (staging / rel.VALIDATION_JSON).write_text(after.to_json(), encoding="utf-8")
    timings["write"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0

    rel.write_report(staging, {
        "release": digest[:16],
        "input_hash": digest,
        "base_iri": config.base_iri,
        "reasoning": config.reasoning,
        "closure": {**reasoned.stats(), "cached": reasoned.cached},
        "prefixes": {prefix: str(ns) for prefix, ns in asserted.namespaces()},
        "graphs": config.graph_iris,
        "triples": {**counts, "total": sum(counts.values())},
        "validation": {"before_reasoning": before.summary(), "after_reasoning": after.summary()},
        "warnings": [r.describe() for r in after.warnings],
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
        "inputs": rel.file_hashes(config),
        "dataset_bytes": dataset_bytes,
        "complete": True,
    })
    release = rel.publish(config, staging, digest)
    say(f"release {release.id} written to {release.path} in {timings['total']:.2f} s")
    return BuildResult(release, reused=False)
