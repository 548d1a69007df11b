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
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef
from rdflib.term import Node

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
from kg.pipeline.rebuild import BuildError, Reasoned, no_shape_applies
from kg.pipeline.release import OXIGRAPH_DIR
from kg.pipeline.shacl_sparql import target_queries, targeting_shapes
from kg.pipeline.validate import ValidationReport, validate_graph
from kg.store.oxigraph import from_rdflib, graph_to_rdflib, to_rdflib

Progress = Callable[[str], None]
Triple = tuple[Node, Node, Node]
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


class _Terms:
    """Oxigraph terms as rdflib terms, each converted once; blank nodes labelled by the
    file's content and their order of appearance (as kg.pipeline.load labels them)."""

    def __init__(self) -> None:
        self._known: dict[object, Node] = {}

    def triples(self, path: Path, source: Path) -> list[Triple]:
        """The triples of ``path`` (the text of ``source``)."""
        salt = _salt(source)
        blank: dict[str, BNode] = {}
        known = self._known
        triples: list[Triple] = []
        fmt = formats.by_name(source_format(source) or "turtle").oxigraph
        try:
            with path.open("rb") as stream:
                for quad in ox.parse(stream, format=fmt, base_iri=source.resolve().as_uri()):
                    terms = []
                    for term in (quad.subject, quad.predicate, quad.object):
                        if isinstance(term, ox.BlankNode):
                            node: Node = blank.setdefault(term.value, BNode(f"{salt}b{len(blank)}"))
                        elif (node := known.get(term)) is None:  # type: ignore[assignment]
                            node = known[term] = to_rdflib(term)  # type: ignore[assignment]
                        terms.append(node)
                    triples.append((terms[0], terms[1], terms[2]))
        except SyntaxError as e:
            raise SourceError(source, e.lineno, f"syntax error: {e.msg}") from e
        except OSError as e:
            raise SourceError(source, None, f"cannot read: {e}") from e
        return triples


def _nt(term: Node) -> str:
    if isinstance(term, URIRef):
        return f"<{term}>"
    return str(from_rdflib(term))


def nquads(triples: Sequence[Triple], graph: str) -> Iterator[str]:
    suffix = f" <{graph}> .\n"
    for s, p, o in triples:
        yield f"{_nt(s)} {_nt(p)} {_nt(o)}{suffix}"


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
        self.asserted: list[Triple] = []
        self._with_blank: list[tuple[list[Triple], str]] = []
        self._indexed: list[Future[None]] = []
        self._indexer = ThreadPoolExecutor(max_workers=1)
        self._scratch: Path | None = None
        self._say: Progress = lambda _message: None

    def prepare(self, staging: Path, say: Progress) -> None:
        config = self.config
        self._say = say
        store = self.store = ox.Store(str(staging / OXIGRAPH_DIR))
        terms = _Terms()
        scratch = self._scratch = staging / "scratch"
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
            triples = terms.triples(path, source.path)
            self.asserted += triples
            if not by_file:
                self._with_blank.append((triples, graph))
            say(f"loading: {source.path.name}: {len(triples)} triples into the "
                f"{source.graph} graph in {time.perf_counter() - t:.1f} s")

    def validate(self, shapes: Graph, reasoned: Reasoned | None) -> ValidationReport | None:
        """Once, on the closure (``None`` before reasoning), and only when a shape has a
        focus node in the store."""
        if reasoned is None:
            return None
        assert self.store is not None
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
        from kg.pipeline.reason import entail, filter_closure

        assert self.store is not None
        t = time.perf_counter()
        if config.reasoning == "none":
            full: set[Triple] | list[Triple] = self.asserted
        else:
            say(f"reasoning: closing {len(self.asserted)} triples (OWL 2 RL, reasonable)")
            full, _ = entail(self.asserted, "owlrl", "reasonable")
        seconds = time.perf_counter() - t
        external = frozenset(to_rdflib(row["o"]) for row in self.store.query(  # type: ignore[index]
            "SELECT DISTINCT ?o { GRAPH ?g { ?s <http://www.w3.org/2002/07/owl#sameAs> ?o } "
            "FILTER(isIRI(?o)) FILTER NOT EXISTS { GRAPH ?h { ?o ?p ?x } } }"))
        inferred, entailed, filtered = filter_closure(full, set(self.asserted), external)  # type: ignore[arg-type]
        del full
        say(f"reasoning: {entailed} new triples in {seconds:.1f} s; kept {len(inferred)} after "
            f"filtering {entailed - len(inferred)}")
        checked = time.perf_counter()
        check_consistency(relevant_triples(self.asserted + inferred))
        say(f"reasoning: consistent (checked in {time.perf_counter() - checked:.1f} s)")
        self.asserted = []
        self._load_inferred(inferred, say)
        return Reasoned(inferred, {
            "mode": config.reasoning, "engine": "reasonable", "entailed_new": entailed,
            "filtered": filtered, "filtered_total": sum(filtered.values()),
            "inferred": len(inferred), "seconds": round(seconds, 3), "cached": False})

    def _load_inferred(self, inferred: list[Triple], say: Progress) -> None:
        """The inferred triples, and the sources with blank nodes, into the store: the
        validation of the closure reads them there."""
        assert self.store is not None
        t = time.perf_counter()
        for done in self._indexed:
            done.result()
        self._indexer.shutdown()
        if self._scratch is not None:
            shutil.rmtree(self._scratch)
        document = [line for triples, graph in self._with_blank
                    for line in nquads(triples, graph)]
        document += nquads(inferred, self.config.graph_iri("inferred"))
        self.store.bulk_load("".join(document).encode(), format=ox.RdfFormat.N_QUADS)
        self._with_blank = []
        say(f"indexing: {len(inferred)} inferred triples loaded in "
            f"{time.perf_counter() - t:.1f} s")

    def index(self, staging: Path, reasoned: Reasoned, config: Config) -> ox.Store:
        assert self.store is not None
        return self.store

    def prefixes(self) -> dict[str, str]:
        return {}

    def finish(self) -> None:
        self._indexer.shutdown(wait=False)
        self.store = None
