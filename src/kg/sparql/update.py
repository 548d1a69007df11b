"""SPARQL 1.1 Update on top of a release: validated, reasoned, written as a new generation.

An update is applied to a copy of the asserted graphs, in memory:

- the *default graph* of the update is the data graph (``BASE/graph/data``);
  ``GRAPH <BASE/graph/ontology>`` and ``GRAPH <BASE/graph/links>`` reach those
  graphs; the inferred and meta graphs are computed and cannot be written;
- the result is checked against the SHACL shapes (before and after reasoning,
  as a build does) and rejected with the report when it breaks them;
- the OWL 2 RL (or RDFS) closure is recomputed over the asserted graphs;
- the new dataset is written as a complete generation and made current
  (:mod:`kg.sparql.dataset`), under an exclusive file lock: one writer at a time.

The graph is small (one paper), so recomputing everything keeps this simple and
always consistent.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyoxigraph as ox
from rdflib import Graph

from kg.config import Config
from kg.pipeline.release import VALIDATION, VALIDATION_JSON, write_dataset, write_report
from kg.sparql.dataset import ServedDataset
from kg.store import QuerySyntaxError
from kg.store.oxigraph import graph_to_rdflib

if TYPE_CHECKING:  # the pipeline's validation and reasoning load when an update comes
    from kg.pipeline.validate import ValidationReport

#: graphs an update may write besides the default graph (the data graph)
WRITABLE = ("ontology", "links")
#: generations kept on disk (readers that still have an older one open keep working)
KEEP_GENERATIONS = 3


class UpdateRejected(Exception):
    def __init__(self, status: int, message: str, report: ValidationReport | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.report = report


@dataclass(frozen=True)
class UpdateSummary:
    generation: int
    asserted_before: int
    asserted_after: int
    inferred: int

    def describe(self) -> str:
        return (f"update applied: generation {self.generation}; asserted triples "
                f"{self.asserted_before} -> {self.asserted_after}; "
                f"inferred graph recomputed ({self.inferred} triples)")


def _working_copy(config: Config, dataset: ox.Store) -> ox.Store:
    work = ox.Store()
    data = ox.NamedNode(config.graph_iri("data"))
    for quad in dataset.quads_for_pattern(None, None, None, data):
        work.add(ox.Quad(quad.subject, quad.predicate, quad.object, ox.DefaultGraph()))
    for name in WRITABLE:
        graph = ox.NamedNode(config.graph_iri(name))
        work.extend(dataset.quads_for_pattern(None, None, None, graph))
    return work


def _check(report: ValidationReport, stage: str) -> None:
    if report.violations:
        raise UpdateRejected(422, f"the update was not applied: SHACL validation {stage} found "
                                  f"{len(report.violations)} violation(s)\n" + report.to_text(),
                             report)


def apply_update(config: Config, served: ServedDataset, text: str) -> UpdateSummary:
    from kg.pipeline.consistency import InconsistentGraph
    from kg.pipeline.load import load_shapes
    from kg.pipeline.meta import meta_graph
    from kg.pipeline.reason_cache import checked_closure
    from kg.pipeline.validate import validate_graph

    served.live_dir.mkdir(parents=True, exist_ok=True)
    with (served.live_dir / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = served.current()
        dataset = ox.Store()
        dataset.bulk_load(path=str(current.dataset), format=ox.RdfFormat.N_QUADS)
        work = _working_copy(config, dataset)
        before = len(work)
        try:
            work.update(text)
        except SyntaxError as e:
            raise QuerySyntaxError(str(e)) from e
        except (RuntimeError, OSError, ValueError) as e:
            raise UpdateRejected(400, f"the update failed and was not applied: {e}") from e
        allowed = {config.graph_iri(name) for name in WRITABLE}
        stray = sorted(g.value for g in work.named_graphs()
                       if isinstance(g, ox.NamedNode) and g.value not in allowed)
        if stray:
            raise UpdateRejected(400, "the update was not applied: it writes to "
                                      f"{', '.join(stray)}; an update may change the default "
                                      "graph (the data graph) and the graphs "
                                      f"{', '.join(sorted(allowed))}")
        graphs = {"data": graph_to_rdflib(work, ox.DefaultGraph())}
        for name in WRITABLE:
            graphs[name] = graph_to_rdflib(work, ox.NamedNode(config.graph_iri(name)))
        asserted = graphs["ontology"] + graphs["data"] + graphs["links"]
        shapes = load_shapes(config)
        checked = validate_graph(asserted, shapes, graphs["ontology"], engine=config.shacl)
        _check(checked, "of the asserted graphs")
        try:
            inferred = checked_closure(asserted, config).inferred
        except InconsistentGraph as e:
            raise UpdateRejected(422, f"the update was not applied: it makes the graph "
                                      f"inconsistent.\n{e}") from e
        closed = validate_graph(asserted + inferred, shapes, None, engine=config.shacl)
        _check(closed, "after reasoning")
        graphs["inferred"] = inferred
        digest = str(served.release.report.get("input_hash", served.release.id))
        graphs["meta"] = meta_graph(config, digest, graphs, closed.summary())
        number = current.number + 1
        _write_generation(config, served, number, graphs, checked, closed)
        return UpdateSummary(number, before, len(work), len(inferred))


def _write_generation(config: Config, served: ServedDataset, number: int,
                      graphs: dict[str, Graph], before: ValidationReport,
                      after: ValidationReport) -> None:
    """The generation's dataset and its validation report (what /validation serves), written
    completely before the ``current`` pointer moves to it."""
    folder = served.live_dir / f"gen-{number}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    write_dataset(folder, graphs, config)  # the store it returns closes as it is dropped
    after.graph.serialize(folder / VALIDATION, format="turtle")
    (folder / VALIDATION_JSON).write_text(after.to_json(), encoding="utf-8")
    write_report(folder, {"release": served.release.id, "generation": number,
                          "validation": {"before_reasoning": before.summary(),
                                         "after_reasoning": after.summary()}})
    pointer = served.pointer
    tmp = served.live_dir / f".current-{os.getpid()}"
    if tmp.is_symlink():
        tmp.unlink()
    tmp.symlink_to(folder.name)
    os.replace(tmp, pointer)
    directory = os.open(served.live_dir, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    for old in served.live_dir.glob("gen-*"):
        if int(old.name.removeprefix("gen-")) <= number - KEEP_GENERATIONS:
            shutil.rmtree(old, ignore_errors=True)
