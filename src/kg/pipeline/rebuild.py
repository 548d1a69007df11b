"""The one rebuild path: asserted graphs in, a served version out.

:func:`rebuild` runs the steps every new version goes through, in this order:
validate (SHACL, the asserted graphs) -> reason (the closure) -> check (consistency)
-> validate (the closure) -> index (Oxigraph) -> describe (VoID/DCAT/PROV, the meta
graph) -> write (dumps, their checksums into the meta graph, dataset, validation report,
:class:`BuildReport`) -> swap (the version becomes current). ``kg build`` (small and large inputs,
:mod:`kg.pipeline.build`) and every SPARQL Update or Graph Store write (:func:`apply_update`)
call it.

How a step is computed depends on the size of the inputs: :class:`SmallInputs` holds
rdflib graphs (pySHACL and the SHACL-SPARQL engine, owlrl or reasonable, a closure
cache); :class:`LargeInputs` (:mod:`kg.pipeline.large`) never builds an rdflib graph of
the data. Both give the same named graphs, statistics and report.

Updates run in a process of their own (``python -m kg.pipeline.rebuild``, see
:func:`main`), so that a web worker never opens an engine it inherited across a fork and
an update can be bounded in time and memory and killed without harm: the version it was
writing is a staging folder, removed by the next writer.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

from kg.config import Config
from kg.pipeline.changes import canonical_nquads
from kg.pipeline.consistency import InconsistentGraph
from kg.pipeline.dumps import DUMP_FORMATS, write_dumps
from kg.pipeline.history import History, describe_version, revision_of
from kg.pipeline.load import SourceLocations, load_shapes
from kg.pipeline.meta import (
    describe_checksums,
    describe_release,
    example_resources,
    store_statistics,
)
from kg.pipeline.release import (
    CHECKSUMS,
    DATASET,
    OXIGRAPH_DIR,
    VALIDATION,
    VALIDATION_JSON,
    BuildReport,
    ReleaseError,
    Releases,
    Version,
    checksums,
    disk_full,
    generation_id,
)
from kg.store.oxigraph import from_rdflib, graph_to_rdflib
from kg.store.plan import STATISTICS
from kg.store.plan import collect as collect_statistics
from kg.system import Forked

if TYPE_CHECKING:  # pySHACL and the reasoners load when a rebuild needs them
    from kg.pipeline.validate import ValidationReport

Progress = Callable[[str], None]
#: the asserted named graphs, which sources and updates give; the others are computed
ASSERTED = ("ontology", "data", "links")
#: graphs an update may write besides the default graph (the data graph), unless
#: ``update_graphs`` is ``any`` (then any named graph but the computed ones)
WRITABLE = ("ontology", "links")
#: graphs an update may not leave empty unless ``allow_emptying`` (KG_ALLOW_EMPTYING) is set
KEPT_NONEMPTY = ("data", "ontology")
#: the graphs the rebuild computes, which neither sources nor updates write
COMPUTED = ("inferred", "meta")


class BuildError(Exception):
    """The inputs do not make a valid version: the message says why, ``report`` holds the
    SHACL results if any, ``status`` the HTTP status an update is answered with."""

    def __init__(self, message: str, report: ValidationReport | None = None,
                 status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.report = report
        self.status = status


@dataclass
class Reasoned:
    """The filtered inferred triples of a closure and its statistics."""

    inferred: Graph | list[tuple[Any, Any, Any]]
    stats: dict[str, Any]


class Inputs(Protocol):
    """The asserted graphs of a new version, and how each step is computed for them."""

    #: ``small`` or ``large`` (the report says which)
    build_path: str

    def prepare(self, staging: Path, say: Progress) -> None:
        """Read the inputs (the large path indexes them into ``staging`` as it reads)."""
        ...

    def validate(self, shapes: Graph, reasoned: Reasoned | None) -> ValidationReport | None:
        """The SHACL report of the asserted graphs, or with ``reasoned`` of the closure
        (``None``: these inputs are validated once, with the closure)."""
        ...

    def reason(self, config: Config, say: Progress) -> Reasoned:
        """The closure, filtered and checked for consistency (raises InconsistentGraph)."""
        ...

    def index(self, staging: Path, reasoned: Reasoned, config: Config) -> ox.Store:
        """The Oxigraph store in ``staging`` holding the asserted and inferred graphs."""
        ...

    def write_dataset(self, store: ox.Store, path: Path) -> int:
        """The version's dataset (``store``, the meta graph included) as N-Quads at
        ``path``, flushed to disk; its size."""
        ...

    def prefixes(self) -> dict[str, str]: ...

    def finish(self) -> None:
        """Let go of what the inputs hold (files, stores)."""
        ...


@dataclass(frozen=True)
class Origin:
    """Where a new version comes from: the sources (a build) or an update of ``parent``."""

    kind: str
    input_hash: str
    release: str
    generation: int = 0
    parent: str | None = None
    #: source file -> SHA-256 (builds)
    inputs: dict[str, str] = field(default_factory=dict)

    @property
    def version_id(self) -> str:
        return generation_id(self.release, self.generation)

    @classmethod
    def update_of(cls, parent: Version) -> Origin:
        report = parent.report
        return cls("update", report.input_hash, report.release, report.generation + 1,
                   parent.id)


class SmallInputs:
    """Asserted graphs held as rdflib graphs: the sources of our graph, or an updated copy."""

    build_path = "small"

    def __init__(self, config: Config, graphs: dict[str, Graph],
                 locations: SourceLocations | None = None, root: Path | None = None,
                 closure_key: str | None = None,
                 known_prefixes: dict[str, str] | None = None) -> None:
        self.config = config
        self.graphs = graphs
        #: prefixes the graphs' sources declared (an update keeps its parent's)
        self.known_prefixes = known_prefixes or {}
        self.locations = locations
        self.root = root
        #: the closure cache's key (the inputs' hash); ``None``: no cache
        self.closure_key = closure_key
        self._asserted: Graph | None = None

    @property
    def asserted(self) -> Graph:
        if self._asserted is None:
            union = Graph()
            for graph in self.graphs.values():
                union += graph
                for prefix, ns in graph.namespaces():
                    union.bind(prefix, ns, override=False)
            self._asserted = union
        return self._asserted

    def prepare(self, staging: Path, say: Progress) -> None:
        say(f"asserted: {len(self.asserted)} triples in {len(self.graphs)} graphs")

    def validate(self, shapes: Graph, reasoned: Reasoned | None) -> ValidationReport:
        from kg.pipeline.validate import validate_graph

        engine = self.config.shacl
        if reasoned is None:
            return validate_graph(self.asserted, shapes, None, self.locations, self.root,
                                  engine)
        assert isinstance(reasoned.inferred, Graph)
        return validate_graph(self.asserted + reasoned.inferred, shapes, None, self.locations,
                              self.root, engine)

    def reason(self, config: Config, say: Progress) -> Reasoned:
        from kg.pipeline.reason_cache import cached_closure, checked_closure

        if self.closure_key is not None:
            result = cached_closure(self.closure_key, self.asserted, config, self.locations,
                                    say)
        else:
            result = checked_closure(self.asserted, config, subject_files=self.locations)
            say(f"reasoning ({config.reasoning}, {result.engine}): {len(result.inferred)} "
                f"inferred triples in {result.seconds:.2f} s; consistent")
        return Reasoned(result.inferred, {**result.stats(), "cached": result.cached})

    def index(self, staging: Path, reasoned: Reasoned, config: Config) -> ox.Store:
        assert isinstance(reasoned.inferred, Graph)
        store = ox.Store(str(staging / OXIGRAPH_DIR))
        # one document: Oxigraph gives each document's blank nodes fresh labels, and the
        # inferred graph speaks of the ontology's blank nodes (restrictions, lists)
        quads = []
        for name, graph in (*self.graphs.items(), ("inferred", reasoned.inferred)):
            target = ox.NamedNode(config.graph_iri(name))
            quads += [ox.Quad(from_rdflib(s), from_rdflib(p), from_rdflib(o), target)  # type: ignore[arg-type]
                      for s, p, o in graph]
        store.bulk_extend(quads)
        return store

    def write_dataset(self, store: ox.Store, path: Path) -> int:
        """The store as N-Quads, sorted with blank nodes named by their content (the same
        version always gives the same bytes, and two versions compare line by line:
        kg.pipeline.changes)."""
        with path.open("wb") as out:
            out.writelines(canonical_nquads(store.quads_for_pattern(None, None, None)))
            out.flush()
            os.fsync(out.fileno())
        return path.stat().st_size

    def prefixes(self) -> dict[str, str]:
        return {**{prefix: str(ns) for prefix, ns in self.asserted.namespaces()},
                **self.known_prefixes}

    def finish(self) -> None:
        self._asserted = None


def no_shape_applies(shapes: Graph) -> ValidationReport:
    from kg.pipeline.validate import ValidationReport, shape_statistics

    sh = "http://www.w3.org/ns/shacl#"
    report = Graph()
    report.bind("sh", sh)
    node = BNode()
    report.add((node, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                URIRef(sh + "ValidationReport")))
    report.add((node, URIRef(sh + "conforms"), Literal(True)))
    return ValidationReport(True, [], report, shape_statistics(shapes))


def _sorted_lines(store: ox.Store) -> list[bytes]:
    """The store as sorted N-Quads lines (:func:`canonical_nquads`)."""
    return canonical_nquads(store.quads_for_pattern(None, None, None))


def _asserted_report(inputs: Inputs, shapes: Graph) -> ValidationReport | None:
    """The validation of the asserted graph, as a forked copy sends it back: its results
    without the report graph (nothing reads it)."""
    report = inputs.validate(shapes, None)
    return None if report is None else replace(report, graph=Graph())


def _check(report: ValidationReport, stage: str, kind: str) -> None:
    if report.violations:
        stays = ("the build stopped and the previous release stays served" if kind == "sources"
                 else "the update was not applied")
        raise BuildError(f"SHACL validation {stage} found {len(report.violations)} "
                         f"violation(s); {stays}:\n" + report.to_text(), report)


@contextmanager
def _timed(timings: dict[str, float], step: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    timings[step] = timings.get(step, 0.0) + time.perf_counter() - start


def rebuild(config: Config, inputs: Inputs, origin: Origin, releases: Releases,
            say: Progress) -> Version:
    """Make a new version from ``inputs`` and make it current (the caller holds the writer
    lock of ``releases``). Raises :class:`BuildError` when the inputs break the shapes or
    contradict the ontology; nothing is served from a failed rebuild."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    history = History(releases)
    history.record(config.base_iri, say)
    previous = releases.current()
    staging = releases.stage(origin.version_id)
    try:
        with _timed(timings, "load"):
            inputs.prepare(staging, say)
            shapes = load_shapes(config)
        with ExitStack() as beside:
            # a build validates the asserted graph in a forked copy while it reasons and
            # validates the closure (2 of a cold build's 7 s); an update, under its memory
            # bound, does one after the other
            forked = (beside.enter_context(Forked(_asserted_report, inputs, shapes))
                      if origin.kind == "sources" and inputs.build_path == "small" else None)

            def check_asserted() -> ValidationReport | None:
                with _timed(timings, "validate_asserted"):
                    report = forked.result() if forked else inputs.validate(shapes, None)
                    if report is not None:
                        _check(report, "before reasoning", origin.kind)
                    return report

            before = check_asserted() if forked is None else None
            with _timed(timings, "reason"):
                try:
                    reasoned = inputs.reason(config, say)
                except InconsistentGraph as e:
                    if forked is not None:
                        check_asserted()
                    what = "" if origin.kind == "sources" else "the update was not applied: "
                    raise BuildError(f"{what}the graph is inconsistent.\n{e}") from e
            with _timed(timings, "validate_closure"):
                after = inputs.validate(shapes, reasoned)
                assert after is not None
            if forked is not None:
                before = check_asserted()
            _check(after, "after reasoning", origin.kind)
            say(f"validated: {len(after.violations)} violations, {len(after.warnings)} "
                "warnings")
        with _timed(timings, "index"):
            store = inputs.index(staging, reasoned, config)
        with _timed(timings, "describe"):
            own = set(config.graph_iris.values())
            kept = sorted(g.value for g in store.named_graphs()
                          if isinstance(g, ox.NamedNode) and g.value not in own)
            names = (*ASSERTED, *kept, "inferred")
            stats = store_statistics(store, config, names)
            links = graph_to_rdflib(store, ox.NamedNode(config.graph_iri("links")))
            present = [e for e in example_resources(config) if store.query(
                f"ASK {{ GRAPH ?g {{ <{e}> ?p ?o }} }}")]
            dump_formats = DUMP_FORMATS if inputs.build_path == "small" else ("nquads",)
            revision = revision_of(
                history, origin.version_id, previous,
                partial(_sorted_lines, store) if inputs.build_path == "small" else None,
                config.graph_iri("meta"))
            graph_names = {iri: name for name, iri in config.graph_iris.items()}
            meta = describe_release(config, origin.version_id, stats, links, present,
                                    dump_formats, validation=after.summary(),
                                    created=revision.created,
                                    record=describe_version(config.base_iri, revision,
                                                            graph_names))
            meta_iri = ox.NamedNode(config.graph_iri("meta"))
            store.bulk_extend([ox.Quad(from_rdflib(s), from_rdflib(p), from_rdflib(o),  # type: ignore[arg-type]
                                       meta_iri) for s, p, o in meta])
            store.flush()
            collect_statistics(store, staging / STATISTICS)
        with _timed(timings, "write"):
            small = inputs.build_path == "small"
            # the dataset file is the N-Quads dump (the changesets apply to it); the other
            # dumps are written from the store
            dataset_bytes = inputs.write_dataset(store, staging / DATASET)
            dumps = write_dumps(staging, store, origin.version_id, config,
                                config.graph_iri("links"), dump_formats,
                                compresslevel=9 if small else 1, dataset=staging / DATASET)
            # the dumps' checksums go into the served meta graph now that they are written;
            # the dumps and the dataset file hold it without them (a file cannot hold its own
            # checksum)
            checksums_graph = describe_checksums(config, origin.version_id, dumps)
            checksum_quads = [ox.Quad(from_rdflib(s), from_rdflib(p), from_rdflib(o),  # type: ignore[arg-type]
                                      meta_iri) for s, p, o in checksums_graph]
            store.bulk_extend(checksum_quads)
            (staging / CHECKSUMS).write_bytes(
                ox.serialize(checksum_quads, format=ox.RdfFormat.N_QUADS) or b"")
            store.flush()
            store.optimize()
            del store
            after.graph.serialize(staging / VALIDATION, format="turtle")
            (staging / VALIDATION_JSON).write_text(after.to_json(), encoding="utf-8")
        say(f"writing: dataset, dumps and validation report in {timings['write']:.1f} s")
        prefixes = inputs.prefixes()  # read from the asserted graph, which finish() lets go
        inputs.finish()
        # the index is closed (its store let go of above and by finish()): its files are final
        files = checksums(staging)
        counts = {**stats.graph_triples, "meta": len(meta) + len(checksums_graph)}
        timings["total"] = time.perf_counter() - started
        BuildReport(
            version=origin.version_id, release=origin.release, generation=origin.generation,
            origin=origin.kind, parent=origin.parent, created=revision.created,
            input_hash=origin.input_hash, base_iri=config.base_iri,
            reasoning=config.reasoning, build_path=inputs.build_path,
            graphs={**config.graph_iris, **{iri: iri for iri in kept}},
            triples={**counts, "total": sum(counts.values())},
            closure=reasoned.stats,
            validation={"before_reasoning": (before or after).summary(),
                        "after_reasoning": after.summary()},
            warnings=[r.describe() for r in after.warnings], prefixes=prefixes,
            timings_seconds={k: round(v, 3) for k, v in timings.items()},
            inputs=origin.inputs, dataset_bytes=dataset_bytes, dumps=list(dump_formats),
            files=files,
        ).write(staging)
        version = releases.publish(staging, origin.version_id)
    except BaseException:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise
    say(f"version {version.id} written to {version.path} in {timings['total']:.2f} s")
    history.record(config.base_iri, say)
    history.prune(config.keep_versions, say)
    return version


# ---- updates ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class UpdateSummary:
    version: str
    generation: int
    asserted_before: int
    asserted_after: int
    inferred: int

    def describe(self) -> str:
        return (f"update applied: version {self.version} (generation {self.generation}); "
                f"asserted triples {self.asserted_before} -> {self.asserted_after}; "
                f"inferred graph recomputed ({self.inferred} triples)")


def _working_copy(config: Config, dataset: Path) -> tuple[ox.Store, dict[str, Graph]]:
    """The graphs of a version an update may write, the data graph as the default graph
    (what an update's default graph is), and the asserted graphs it may not (carried over
    as they are)."""
    version = ox.Store()
    version.bulk_load(path=str(dataset), format=ox.RdfFormat.N_QUADS)
    work = ox.Store()
    data = ox.NamedNode(config.graph_iri("data"))
    work.extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph())
                for q in version.quads_for_pattern(None, None, None, data))
    computed = {config.graph_iri(name) for name in COMPUTED}
    writable = {config.graph_iri(name) for name in WRITABLE}
    kept: dict[str, Graph] = {}
    for graph in version.named_graphs():
        if not isinstance(graph, ox.NamedNode) or graph == data or graph.value in computed:
            continue
        if config.update_graphs == "any" or graph.value in writable:
            work.extend(version.quads_for_pattern(None, None, None, graph))
        else:
            kept[graph.value] = graph_to_rdflib(version, graph)
    return work, kept


def _graph_keys(config: Config, work: ox.Store) -> dict[str, ox.NamedNode]:
    """The named graphs of an updated working copy by their keys (a short name of the
    release's graphs, else the IRI), or :class:`BuildError` for one the update may not
    write."""
    computed = {config.graph_iri(name) for name in (*COMPUTED, "data")}
    allowed = {config.graph_iri(name) for name in WRITABLE}
    names = {iri: name for name, iri in config.graph_iris.items()}
    found = {names.get(g.value, g.value): g for g in work.named_graphs()
             if isinstance(g, ox.NamedNode)}
    stray = sorted(g.value for g in found.values() if g.value in computed or not (
        config.update_graphs == "any" or g.value in allowed))
    if stray:
        where = ("any named graph but the computed ones (inferred, meta)"
                 if config.update_graphs == "any" else
                 f"the graphs {', '.join(sorted(allowed))}")
        raise BuildError("the update was not applied: it writes to "
                         f"{', '.join(stray)}; an update may change the default graph "
                         f"(the data graph) and {where}", status=400)
    return found


def _graph(config: Config, name: str) -> ox.NamedNode | ox.DefaultGraph:
    """A graph of the working copy of an update (the data graph is its default graph)."""
    return ox.DefaultGraph() if name == "data" else ox.NamedNode(config.graph_iri(name))


def _holds_triples(config: Config, work: ox.Store, name: str) -> bool:
    return next(iter(work.quads_for_pattern(None, None, None, _graph(config, name))),
                None) is not None


def _refuse_emptying(config: Config, work: ox.Store, holding: set[str]) -> None:
    """Refuse (409) an update that leaves the data or ontology graph empty when it held
    triples (``CLEAR ALL``, ``DROP DEFAULT``, ``DELETE WHERE { ?s ?p ?o }``)."""
    emptied = [name for name in KEPT_NONEMPTY
               if name in holding and not _holds_triples(config, work, name)]
    if emptied:
        graphs = " and ".join(f"the {name} graph <{config.graph_iri(name)}>" for name in emptied)
        raise BuildError(f"the update was not applied: it would leave {graphs} empty. An "
                         "operator who means to allow that sets KG_ALLOW_EMPTYING=1 on the "
                         "server", status=409)


def apply_update(config: Config, text: str, prefixes: dict[str, str] | None = None,
                 say: Progress | None = None) -> UpdateSummary:
    """Apply a SPARQL Update to the served version and make the result current, through
    :func:`rebuild`; ``prefixes`` are declared for the text besides its own. Raises
    :class:`BuildError` (with the status to answer) when the update does not parse, writes
    where it may not, breaks the shapes or the ontology."""
    say = say or (lambda _message: None)
    releases = Releases.of(config)
    with releases.writer():
        parent = releases.current()
        if parent is None:
            raise BuildError("there is no release to update; run `kg build` first", status=503)
        try:
            parent.check()
        except ReleaseError as e:
            raise BuildError(f"the served version cannot be updated: {e}", status=503) from e
        if parent.report.build_path != "small":
            raise BuildError("this release was built by the large-input path; SPARQL Update "
                             "recomputes the closure in memory and is offered for small "
                             "graphs only: change the sources and run `kg build`", status=409)
        work, kept = _working_copy(config, parent.dataset)
        before = len(work) + sum(len(graph) for graph in kept.values())
        holding = {name for name in KEPT_NONEMPTY if _holds_triples(config, work, name)}
        try:
            work.update(text, base_iri=config.base_iri, prefixes=prefixes or None)
        except SyntaxError as e:
            raise BuildError(f"malformed update: {e}", status=400) from e
        except (RuntimeError, OSError, ValueError) as e:
            raise BuildError(f"the update failed and was not applied: {e}", status=400) from e
        if not (config.allow_emptying or config.update_graphs == "any"):
            _refuse_emptying(config, work, holding)
        graphs = {name: Graph() for name in ASSERTED}
        graphs["data"] = graph_to_rdflib(work, ox.DefaultGraph())
        for key, graph in _graph_keys(config, work).items():
            graphs[key] = graph_to_rdflib(work, graph)
        graphs.update(kept)
        inputs = SmallInputs(config, graphs, known_prefixes=parent.report.prefixes)
        version = rebuild(config, inputs, Origin.update_of(parent), releases, say)
        report = version.report
        return UpdateSummary(version.id, report.generation, before,
                             sum(len(graph) for graph in graphs.values()),
                             report.triples.get("inferred", 0))


#: what a client is told when an update ran out of disk space (507 Insufficient Storage)
DISK_FULL = "the disk is full: the update was not applied"


def main() -> None:
    """The writer process of an update: settings and update text as JSON on stdin, the
    outcome as one JSON object on stdout (``status`` 200 with the summary, or the status
    and message of the refusal)."""
    import json

    from kg.system import limit_memory, limit_processor_time

    request = json.loads(sys.stdin.read())
    config = Config.from_json(request["config"])
    limit_memory(config.update_memory_mb)
    # the web worker stops it at update_timeout; this bounds it should that worker be gone
    limit_processor_time(2 * config.update_timeout)
    try:
        summary = apply_update(config, request["update"], request.get("prefixes"))
    except BuildError as e:
        outcome: dict[str, object] = {"status": e.status, "message": e.message}
    except MemoryError:
        outcome = {"status": 503, "message": f"the update needed more than the "
                                             f"{config.update_memory_mb} MB of memory an update "
                                             "may use; it was not applied"}
    except OSError as e:
        # the details (paths, the system's words) are for the operator, on standard error
        print(f"the update was not applied: {e}", file=sys.stderr, flush=True)
        outcome = {"status": 507, "message": DISK_FULL} if disk_full(e) else {
            "status": 503, "message": "the update could not be written: the files of the "
                                      "served version could not be read or the new version "
                                      "could not be written; nothing of it was applied"}
    else:
        outcome = {"status": 200, "message": summary.describe(), "version": summary.version}
    sys.stdout.write(json.dumps(outcome) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
