"""The large-input build path: the inputs of a version of a million triples, without an rdflib
graph of them (the :class:`~kg.pipeline.rebuild.Inputs` of :func:`kg.pipeline.rebuild.rebuild`).

Chosen by ``build_path`` (``KG_BUILD_PATH``): ``large``, or ``auto`` from
``large_input_bytes`` of sources. The sources are bulk-loaded by Oxigraph
straight from their files into the version's store (a source with blank nodes
is loaded with the inferred graph, in one document, so that both speak of the
same blank nodes); ``reasonable`` computes the OWL 2 RL closure from the parsed
triples; the filtered inferred triples are bulk-loaded into the inferred graph.

What it does as the small path does: the named graphs, the closure filter, the
consistency checks (on the triples they read, :func:`relevant_triples`), the
VoID/DCAT description, the report. What differs, because it is too costly at
this size: SHACL validation runs once, on the closure, and only when some shape has
a focus node in the store (else the report says that no shape applies); the closure is
not cached; the only dump is N-Quads (gzip level 1) besides the linkset; ``dataset.nq``
is in the store's order, not sorted; source lines are not located in reports.
"""

from __future__ import annotations

import gzip
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox
from rdflib import Graph, URIRef

from kg import formats
from kg.config import Config
from kg.pipeline.consistency import check_consistency, relevant_triples
from kg.pipeline.load import (
    DATASET_SOURCES,
    SourceError,
    _salt,
    discover_sources,
    source_format,
)
from kg.pipeline.ntriples import Terms, TextTriple, term_text
from kg.pipeline.rebuild import BuildError, Reasoned, no_shape_applies
from kg.pipeline.release import DATASET, OXIGRAPH_DIR
from kg.pipeline.shacl_sparql import target_queries, targeting_shapes
from kg.pipeline.validate import ValidationReport, validate_graph
from kg.store.oxigraph import from_rdflib, graph_to_rdflib, run_select

Progress = Callable[[str], None]
_SH = "http://www.w3.org/ns/shacl#"


def _plain_file(path: Path, scratch: Path) -> Path:
    """``path``, or for a gzip file its content decompressed into ``scratch``."""
    if not path.name.endswith(".gz"):
        return path
    plain = scratch / path.name.removesuffix(".gz")
    try:
        with gzip.open(path, "rb") as packed, plain.open("wb") as out:
            shutil.copyfileobj(packed, out, 1 << 22)
    except (OSError, EOFError) as e:
        raise SourceError(path, None, f"cannot read: {e}") from e
    return plain


def _mentions_blank_nodes(path: Path) -> bool:
    """Whether an N-Triples file may name a blank node (``_:`` anywhere, even in a literal)."""
    with path.open("rb") as f:
        tail = b""
        while chunk := f.read(1 << 22):
            if b"_:" in tail + chunk[:1] or b"_:" in chunk:
                return True
            tail = chunk[-1:]
    return False


def _read_source(path: Path, source: Path, terms: Terms) -> list[TextTriple]:
    """The triples of ``path`` (the text of ``source``) as reasoner-ready texts; blank nodes
    labelled by the file's content and their order of appearance (as kg.pipeline.load
    labels them)."""
    salt = _salt(source)
    blank: dict[str, str] = {}
    triples: list[TextTriple] = []
    append, of = triples.append, terms.of_oxigraph
    fmt = formats.by_name(source_format(source) or "turtle").oxigraph
    try:
        with path.open("rb") as stream:
            for t in ox.parse(stream, format=fmt, base_iri=source.resolve().as_uri()):
                s, p, o = t.subject, t.predicate, t.object
                append((
                    terms.blank(blank.setdefault(s.value, f"{salt}b{len(blank)}"))
                    if isinstance(s, ox.BlankNode) else of(s),
                    of(p),
                    terms.blank(blank.setdefault(o.value, f"{salt}b{len(blank)}"))
                    if isinstance(o, ox.BlankNode) else of(o)))
    except SyntaxError as e:
        raise SourceError(source, e.lineno, f"syntax error: {e.msg}") from e
    except OSError as e:
        raise SourceError(source, None, f"cannot read: {e}") from e
    return triples


def nquads(triples: Iterable[TextTriple], graph: str) -> Iterator[str]:
    """N-Quads lines of text triples in the graph named ``graph`` (an IRI)."""
    suffix = f" <{graph}> .\n"
    for s, p, o in triples:
        yield " ".join((s, p, o)) + suffix


def _write_lines(out: BinaryIO, lines: Iterable[str], batch: int = 100_000) -> None:
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == batch:
            out.write("".join(chunk).encode())
            chunk = []
    out.write("".join(chunk).encode())


def focus_nodes(store: ox.Store, shapes: Graph) -> int:
    """How many focus nodes the shapes' targets select in the store (every named graph),
    by the same target queries as the validation (kg.pipeline.shacl_sparql); a
    ``sh:targetNode`` counts when the store says something about it, a target of a kind
    not evaluated here counts as one focus node: the shapes must then be run."""
    found: set[str] = set()
    other = 0
    for shape in targeting_shapes(shapes):
        found.update(str(from_rdflib(node))
                     for node in shapes.objects(shape, URIRef(_SH + "targetNode"))
                     if store.query(f"ASK {{ {from_rdflib(node)} ?p ?o }}",
                                    use_default_graph_as_union=True))
        for query in target_queries(shapes, shape):
            found.update(str(row["this"]) for row in store.query(  # type: ignore[union-attr]
                query, use_default_graph_as_union=True))
        other += sum(1 for t in shapes.objects(shape, URIRef(_SH + "target"))
                     if (t, URIRef(_SH + "select"), None) not in shapes)
    return len(found) + other


class LargeInputs:
    """The sources of a large graph, bulk-loaded into the version's store as they are read."""

    build_path = "large"

    def __init__(self, config: Config) -> None:
        if config.reasoning == "rdfs":
            raise BuildError("the large-input build path reasons with reasonable (OWL 2 RL) "
                             "or not at all: set KG_REASONING to owlrl or none, or "
                             "KG_BUILD_PATH=small")
        self.config = config
        self.store: ox.Store | None = None
        self.terms = Terms()
        #: the triples of each source, the IRI of its graph, and whether Oxigraph loads it
        #: from its file (else, with blank nodes, it is loaded with the inferred graph as
        #: one document, so that both name the same blank nodes)
        self.sources: list[tuple[list[TextTriple], str, bool]] = []
        self._indexed: list[Future[None]] = []
        self._indexer = ThreadPoolExecutor(max_workers=1)
        self._staging: Path | None = None
        self._say: Progress = lambda _message: None

    @property
    def asserted(self) -> list[TextTriple]:
        return [t for triples, _, _ in self.sources for t in triples]

    def prepare(self, staging: Path, say: Progress) -> None:
        config = self.config
        self._say = say
        self._staging = staging
        store = self.store = ox.Store(str(staging / OXIGRAPH_DIR))
        scratch = staging / "scratch"
        scratch.mkdir()
        # Oxigraph indexes the blank-node-free N-Triples sources from their files in a
        # thread of its own (it lets go of the interpreter) while Python reads them for the
        # reasoner
        for source in discover_sources(config):
            if source_format(source.path) in DATASET_SOURCES:
                raise BuildError(f"{source.path}: the named graphs of a dataset source (.nq, "
                                 ".trig) are kept by the small build path only; set "
                                 "KG_BUILD_PATH=small, or give the data as N-Triples")
            t = time.perf_counter()
            path = _plain_file(source.path, scratch)
            graph = config.graph_iri(source.graph)
            by_file = (source_format(source.path) == "ntriples"
                       and not _mentions_blank_nodes(path))
            if by_file:
                self._indexed.append(self._indexer.submit(
                    store.bulk_load, path=str(path), format=ox.RdfFormat.N_TRIPLES,
                    to_graph=ox.NamedNode(graph)))
            triples = _read_source(path, source.path, self.terms)
            self.sources.append((triples, graph, by_file))
            say(f"loading: {source.path.name}: {len(triples)} triples into the "
                f"{source.graph} graph in {time.perf_counter() - t:.1f} s")

    def validate(self, shapes: Graph, reasoned: Reasoned | None) -> ValidationReport | None:
        """Once, on the closure (``None`` before reasoning), and only when a shape has a
        focus node in the store."""
        if reasoned is None:
            return None
        assert self.store is not None
        self._indexing_done()
        applies = focus_nodes(self.store, shapes)
        if not applies:
            report = no_shape_applies(shapes)
            n = report.shapes["node_shapes"] + report.shapes["property_shapes"]
            report.note = f"no shape applies ({n} shapes, 0 focus nodes)"
            self._say(f"validating: {report.note}")
            return report
        self._say(f"validating: {applies} focus node(s) for the shapes: SHACL in rdflib (slow)")
        data = Graph()
        for name in ("ontology", "data", "links", "inferred"):
            data += graph_to_rdflib(self.store, ox.NamedNode(self.config.graph_iri(name)))
        return validate_graph(data, shapes, engine=self.config.shacl)

    def reason(self, config: Config, say: Progress) -> Reasoned:
        from kg.pipeline.reason import filter_closure, reasonable_closure

        assert self.store is not None
        t = time.perf_counter()
        asserted = self.asserted
        if config.reasoning == "none":
            full: set[TextTriple] = set(asserted)
        else:
            say(f"reasoning: closing {len(asserted)} triples (OWL 2 RL, reasonable)")
            full = reasonable_closure(asserted, self.terms)
        seconds = time.perf_counter() - t
        external = frozenset(term_text(row["o"]) for row in run_select(self.store,
            "SELECT DISTINCT ?o { GRAPH ?g { ?s <http://www.w3.org/2002/07/owl#sameAs> ?o } "
            "FILTER(isIRI(?o)) FILTER NOT EXISTS { GRAPH ?h { ?o ?p ?x } } }"))
        inferred, entailed, filtered = filter_closure(full, set(asserted), external)
        del full
        say(f"reasoning: {entailed} new triples in {seconds:.1f} s; kept {len(inferred)} after "
            f"filtering {entailed - len(inferred)}")
        self._index_and_write(inferred)
        checked = time.perf_counter()
        try:
            check_consistency(relevant_triples(asserted + inferred))
        except BaseException:
            wait(self._indexed)  # it writes into the staging folder the caller removes
            raise
        say(f"reasoning: consistent (checked in {time.perf_counter() - checked:.1f} s)")
        return Reasoned(inferred, {
            "mode": config.reasoning, "engine": "reasonable", "entailed_new": entailed,
            "filtered": filtered, "filtered_total": sum(filtered.values()),
            "inferred": len(inferred), "seconds": round(seconds, 3), "cached": False})

    def _index_and_write(self, inferred: list[TextTriple]) -> None:
        """The inferred triples, and the sources with blank nodes, bulk-loaded by the
        indexing thread after the sources (while the consistency checks run); every graph
        but the meta graph written into the dataset file, once, from the texts."""
        assert self.store is not None and self._staging is not None
        # a source may state a triple twice, two sources of a graph the same triple: the
        # store keeps one, and so does the dataset file
        in_graph: dict[str, dict[TextTriple, None]] = {}
        by_document: dict[str, dict[TextTriple, None]] = {}
        for triples, graph, by_file in self.sources:
            in_graph.setdefault(graph, {}).update(dict.fromkeys(triples))
            if not by_file:
                by_document.setdefault(graph, {}).update(dict.fromkeys(triples))
        self.sources = []
        inferred_lines = "".join(nquads(inferred, self.config.graph_iri("inferred"))).encode()
        document = "".join(line for graph, unique in by_document.items()
                           for line in nquads(unique, graph)).encode() + inferred_lines
        self._indexed.append(self._indexer.submit(
            self.store.bulk_load, document, format=ox.RdfFormat.N_QUADS))
        del document, by_document
        with (self._staging / DATASET).open("wb") as out:
            for graph, unique in in_graph.items():
                _write_lines(out, nquads(unique, graph))
            out.write(inferred_lines)

    def _indexing_done(self) -> None:
        """Wait for the indexing thread; the store then holds every graph but the meta."""
        if not self._indexed:
            return
        t = time.perf_counter()
        for done in self._indexed:
            done.result()
        self._indexed = []
        self._indexer.shutdown()
        assert self._staging is not None
        shutil.rmtree(self._staging / "scratch")
        self._say(f"indexing: the sources and the inferred graph loaded "
                  f"({time.perf_counter() - t:.1f} s waited for)")

    def index(self, staging: Path, reasoned: Reasoned, config: Config) -> ox.Store:
        assert self.store is not None
        self._indexing_done()
        return self.store

    def write_dataset(self, store: ox.Store, path: Path) -> int:
        """The dataset file written while indexing, with the meta graph added."""
        with path.open("ab") as out:
            ox.serialize(store.quads_for_pattern(
                None, None, None, ox.NamedNode(self.config.graph_iri("meta"))), out,
                format=ox.RdfFormat.N_QUADS)
            out.flush()
            os.fsync(out.fileno())
        return path.stat().st_size

    def prefixes(self) -> dict[str, str]:
        return {}

    def finish(self) -> None:
        self._indexer.shutdown(wait=False)
        self.store = None
