"""The large-input build path: a release of a million triples without an rdflib graph of them.

Chosen by ``build_path`` (``KG_BUILD_PATH``): ``large``, or ``auto`` from
``large_input_bytes`` of sources. The sources are bulk-loaded by Oxigraph
straight from their files into the release's store (a source with blank nodes
is loaded with the inferred graph, in one document, so that both speak of the
same blank nodes); ``reasonable`` computes the OWL 2 RL closure from the parsed
triples; the filtered inferred triples are bulk-loaded into the inferred graph;
the statistics of the meta graph are SPARQL queries on the store.

What it does as the small path does: the named graphs, the closure filter, the
consistency checks (on the triples they read, :func:`relevant_triples`), the
VoID/DCAT description, the report. What differs, because it is too costly at
this size: SHACL validation runs only when some shape has a focus node in the
store (else the report says that no shape applies); the closure is not cached;
the only dump is N-Quads (gzip level 1) besides the linkset; ``dataset.nq``
is in the store's order, not sorted; source lines are not located in reports.
"""

from __future__ import annotations

import gzip
import os
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from kg.config import Config
from kg.pipeline import release as rel
from kg.pipeline.build import BuildError
from kg.pipeline.consistency import InconsistentGraph, check_consistency, relevant_triples
from kg.pipeline.dumps import write_dumps
from kg.pipeline.load import (
    SourceError,
    _salt,
    discover_sources,
    load_shapes,
    source_format,
)
from kg.pipeline.meta import Statistics, describe_release, example_resources
from kg.pipeline.reason import entail, filter_closure
from kg.pipeline.shacl_sparql import target_queries, targeting_shapes
from kg.pipeline.validate import ValidationReport, shape_statistics, validate_graph
from kg.store.oxigraph import from_rdflib, graph_to_rdflib, to_rdflib

Progress = Callable[[str], None]
Triple = tuple[Node, Node, Node]

#: Oxigraph's parser for each source syntax of kg.pipeline.load
_OX_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
               "rdfxml": ox.RdfFormat.RDF_XML}
#: the dumps of a large release
LARGE_DUMP_FORMATS = ("nquads",)
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
        fmt = _OX_FORMATS[source_format(source) or "turtle"]
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


def _count(store: ox.Store, query: str) -> int:
    return int(next(iter(store.query(query)))["n"].value)  # type: ignore[index]


def store_statistics(store: ox.Store, config: Config, names: Sequence[str]) -> Statistics:
    """The VoID figures of the union of the named graphs ``names``, by SPARQL on the store."""
    graphs = " ".join(f"<{config.graph_iri(n)}>" for n in names)
    union = f"VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?s ?p ?o }}"
    space = f"{config.base_iri}id/"
    # the subjects counted here, the entities among them too: STRSTARTS(STR(?s)) in SPARQL
    # looks up the text of each one, several times slower
    subjects = entities = 0
    for row in store.query(f"SELECT DISTINCT ?s {{ {union} }}"):
        subjects += 1
        subject = row[0]  # type: ignore[index]
        if isinstance(subject, ox.NamedNode) and subject.value.startswith(space):
            entities += 1
    entity = f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{space}"))'
    # statements per property, less the copies of a triple in a second asserted graph (the
    # inferred graph holds no asserted triple): the distinct triples, without a DISTINCT
    # over millions of them
    properties = {to_rdflib(row["p"]): int(row["n"].value) for row in store.query(  # type: ignore[index]
        f"SELECT ?p (COUNT(*) AS ?n) {{ {union} }} GROUP BY ?p")}
    iri = {n: f"<{config.graph_iri(n)}>" for n in ("ontology", "data", "links")}
    copies = store.query(
        f"SELECT ?p (COUNT(*) AS ?n) {{ {{ GRAPH {iri['ontology']} {{ ?s ?p ?o }} FILTER EXISTS "
        f"{{ VALUES ?h {{ {iri['data']} {iri['links']} }} GRAPH ?h {{ ?s ?p ?o }} }} }} UNION "
        f"{{ GRAPH {iri['links']} {{ ?s ?p ?o }} FILTER EXISTS {{ GRAPH {iri['data']} "
        "{ ?s ?p ?o } } } } GROUP BY ?p")
    for row in copies:
        properties[to_rdflib(row["p"])] -= int(row["n"].value)  # type: ignore[index]
    classes = {to_rdflib(row["c"]): int(row["n"].value) for row in store.query(  # type: ignore[index]
        f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) {{ VALUES ?g {{ {graphs} }} "
        f"GRAPH ?g {{ ?s a ?c }} {entity} }} GROUP BY ?c")} if entities else {}
    counts = {n: _count(store, f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{config.graph_iri(n)}> "
                               "{ ?s ?p ?o } }") for n in names}
    return Statistics(
        triples=sum(properties.values()),
        entities=entities,
        distinct_subjects=subjects,
        distinct_objects=_count(store, f"SELECT (COUNT(DISTINCT ?o) AS ?n) {{ {union} }}"),
        classes=classes,  # type: ignore[arg-type]
        properties=properties,  # type: ignore[arg-type]
        graph_triples=counts,
    )


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


def _no_shape_applies(shapes: Graph) -> ValidationReport:
    report = Graph()
    report.bind("sh", _SH)
    node = BNode()
    report.add((node, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                URIRef(_SH + "ValidationReport")))
    report.add((node, URIRef(_SH + "conforms"), Literal(True)))
    return ValidationReport(True, [], report, shape_statistics(shapes))


def _graph_of(store: ox.Store, graph: str) -> Graph:
    return graph_to_rdflib(store, ox.NamedNode(graph))


def build_large(config: Config, digest: str, say: Progress) -> rel.Release:
    """Build the release of ``digest`` by the large-input path; returns it, published."""
    if config.reasoning == "rdfs":
        raise BuildError("the large-input build path reasons with reasonable (OWL 2 RL) or "
                         "not at all: set KG_REASONING to owlrl or none, or KG_BUILD_PATH=small")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    sources = discover_sources(config)
    staging = rel.staging_path(config, digest)
    store = ox.Store(str(staging / rel.OXIGRAPH_DIR))
    terms = _Terms()
    asserted: list[Triple] = []
    with_blank: list[tuple[list[Triple], str]] = []
    scratch = staging / "scratch"
    scratch.mkdir()
    # Oxigraph indexes the blank-node-free N-Triples sources from their files in a thread of
    # its own (it lets go of the interpreter) while Python reads them for the reasoner
    indexer = ThreadPoolExecutor(max_workers=1)
    indexed: list[Future[None]] = []
    for source in sources:
        t = time.perf_counter()
        path = _plain_file(source.path, scratch)
        graph = config.graph_iri(source.graph)
        by_file = source_format(source.path) == "ntriples" and not _mentions_blank_nodes(path)
        if by_file:
            indexed.append(indexer.submit(store.bulk_load, path=str(path),
                                          format=ox.RdfFormat.N_TRIPLES,
                                          to_graph=ox.NamedNode(graph)))
        triples = terms.triples(path, source.path)
        asserted += triples
        if not by_file:
            with_blank.append((triples, graph))
        say(f"loading: {source.path.name}: {len(triples)} triples into the {source.graph} "
            f"graph in {time.perf_counter() - t:.1f} s")
    timings["load"] = time.perf_counter() - t0

    t = time.perf_counter()
    if config.reasoning == "none":
        full: set[Triple] | list[Triple] = asserted
    else:
        say(f"reasoning: closing {len(asserted)} triples (OWL 2 RL, reasonable)")
        full, _ = entail(asserted, "owlrl", "reasonable")
    reason_seconds = time.perf_counter() - t
    given = set(asserted)
    external = frozenset(to_rdflib(row["o"]) for row in store.query(  # type: ignore[index]
        "SELECT DISTINCT ?o { GRAPH ?g { ?s <http://www.w3.org/2002/07/owl#sameAs> ?o } "
        "FILTER(isIRI(?o)) FILTER NOT EXISTS { GRAPH ?h { ?o ?p ?x } } }"))
    inferred, entailed, filtered = filter_closure(full, given, external)  # type: ignore[arg-type]
    del full
    say(f"reasoning: {entailed} new triples in {reason_seconds:.1f} s; kept {len(inferred)} "
        f"after filtering {entailed - len(inferred)} ({time.perf_counter() - t:.1f} s)")
    t = time.perf_counter()
    try:
        check_consistency(relevant_triples(asserted + inferred))
    except InconsistentGraph as e:
        raise BuildError(str(e)) from e
    del given, asserted
    timings["reason"] = time.perf_counter() - t0 - timings["load"]
    say(f"reasoning: consistent (checked in {time.perf_counter() - t:.1f} s)")

    t = time.perf_counter()
    for done in indexed:
        done.result()
    indexer.shutdown()
    shutil.rmtree(scratch)
    document = [line for triples, graph in with_blank for line in nquads(triples, graph)]
    document += nquads(inferred, config.graph_iri("inferred"))
    store.bulk_load("".join(document).encode(), format=ox.RdfFormat.N_QUADS)
    del document
    kept = len(inferred)
    del inferred
    inferred_load = time.perf_counter() - t
    say(f"indexing: {kept} inferred triples loaded in {inferred_load:.1f} s")

    t = time.perf_counter()
    shapes = load_shapes(config)
    applies = focus_nodes(store, shapes)
    names = ("ontology", "data", "links", "inferred")
    if applies:
        say(f"validating: {applies} focus node(s) for the shapes: SHACL in rdflib (slow)")
        data = Graph()
        for name in names:
            data += _graph_of(store, config.graph_iri(name))
        validation = validate_graph(data, shapes, engine=config.shacl)
        if validation.violations:
            raise BuildError(f"SHACL validation found {len(validation.violations)} "
                             "violation(s); the build stopped and the previous release stays "
                             "served:\n" + validation.to_text(), validation)
        del data
    else:
        validation = _no_shape_applies(shapes)
        n = validation.shapes["node_shapes"] + validation.shapes["property_shapes"]
        say(f"validating: no shape applies ({n} shapes, 0 focus nodes)")
    timings["validate"] = time.perf_counter() - t

    t = time.perf_counter()
    stats = store_statistics(store, config, names)
    links = _graph_of(store, config.graph_iri("links"))
    present = [e for e in example_resources(config) if store.query(
        f"ASK {{ GRAPH ?g {{ <{e}> ?p ?o }} }}")]
    meta = describe_release(config, digest, stats, links, present, LARGE_DUMP_FORMATS,
                            validation=validation.summary())
    store.bulk_load("".join(nquads(list(meta), config.graph_iri("meta"))).encode(),
                    format=ox.RdfFormat.N_QUADS)
    counts = {**stats.graph_triples, "meta": len(meta)}
    store.flush()
    store.optimize()
    say(f"indexing: statistics and meta graph, optimized in {time.perf_counter() - t:.1f} s")
    timings["index"] = inferred_load + time.perf_counter() - t

    t = time.perf_counter()
    with (staging / rel.DATASET).open("wb") as out:
        store.dump(out, format=ox.RdfFormat.N_QUADS)
        out.flush()
        os.fsync(out.fileno())
    write_dumps(staging, store, digest[:16], config.graph_iri("links"), LARGE_DUMP_FORMATS,
                compresslevel=1, dataset=staging / rel.DATASET)
    del store
    validation.graph.serialize(staging / rel.VALIDATION, format="turtle")
    (staging / rel.VALIDATION_JSON).write_text(validation.to_json(), encoding="utf-8")
    timings["write"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    say(f"writing: dataset and dumps in {timings['write']:.1f} s")
    summary = validation.summary()
    if not applies:
        summary["note"] = "no shape applies ({} shapes, 0 focus nodes)".format(
            validation.shapes["node_shapes"] + validation.shapes["property_shapes"])
    rel.write_report(staging, {
        "release": digest[:16],
        "input_hash": digest,
        "base_iri": config.base_iri,
        "reasoning": config.reasoning,
        "build_path": "large",
        "closure": {"mode": config.reasoning, "engine": "reasonable", "entailed_new": entailed,
                    "filtered": filtered, "filtered_total": sum(filtered.values()),
                    "inferred": kept, "seconds": round(reason_seconds, 3), "cached": False},
        "prefixes": {},
        "graphs": config.graph_iris,
        "triples": {**counts, "total": sum(counts.values())},
        "validation": {"before_reasoning": summary, "after_reasoning": summary},
        "warnings": [r.describe() for r in validation.warnings],
        "timings_seconds": {k: round(v, 3) for k, v in timings.items()},
        "inputs": rel.file_hashes(config),
        "dataset_bytes": (staging / rel.DATASET).stat().st_size,
        "complete": True,
    })
    release = rel.publish(config, staging, digest)
    say(f"release {release.id} written to {release.path} in {timings['total']:.2f} s")
    return release
