"""The meta graph: what the release is (VoID/DCAT), its statistics, and how it was built (PROV).

Computed at build time from the other named graphs (:func:`describe_release`), and
completed with the SHA-256 of each dump once the dumps are written
(:func:`describe_checksums`). Its IRIs use the base IRI; the web layer maps them to the
serving host when it renders.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pyoxigraph as ox
from rdflib import (
    DCAT,
    DCTERMS,
    FOAF,
    OWL,
    PROV,
    RDF,
    RDFS,
    VOID,
    XSD,
    BNode,
    Graph,
    Literal,
    URIRef,
)
from rdflib.namespace import Namespace
from rdflib.term import Node

from kg import __version__, formats
from kg.config import GRAPH_NAMES, Config
from kg.pipeline.dumps import (
    DUMP_FORMATS,
    Dump,
    checksum_file_name,
    dump_file_name,
    linkset_file_name,
)
from kg.pipeline.links import Linkset, Target, linksets
from kg.store.oxigraph import run_select, to_rdflib

DQV = Namespace("http://www.w3.org/ns/dqv#")
OA = Namespace("http://www.w3.org/ns/oa#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
CC_BY = URIRef("https://creativecommons.org/licenses/by/4.0/")
DCAT_VERSION = URIRef("http://www.w3.org/ns/dcat#version")
DCAT_HAS_CURRENT_VERSION = URIRef("http://www.w3.org/ns/dcat#hasCurrentVersion")
SD_NAME = URIRef("http://www.w3.org/ns/sparql-service-description#name")

#: the triples that give one distribution's checksum (:func:`describe_checksums`)
CHECKSUM_TRIPLES = 4
#: example resources a visitor should look at first (slugs of docs/iris.md)
EXAMPLE_SLUGS = ("kazakhstan", "south-korea", "declaration-1995", "dataset/table-1")


def _int(n: int) -> Literal:
    return Literal(n, datatype=XSD.integer)


@dataclass(frozen=True)
class Statistics:
    """The VoID figures of the union of a release's named graphs (the meta graph aside)."""

    triples: int
    #: subjects that are IRIs under the dataset's URI space
    entities: int
    distinct_subjects: int
    distinct_objects: int
    #: class -> entities of that class
    classes: dict[Node, int]
    #: property -> triples with that property
    properties: dict[Node, int]
    #: named graph (short name) -> triples
    graph_triples: dict[str, int]


def _count(store: ox.Store, query: str) -> int:
    return int(next(iter(run_select(store, query)))["n"].value)


def _per_property(store: ox.Store, pattern: str) -> dict[Node, int]:
    """How many solutions of ``pattern`` (a group or a sub-select) each ``?p`` has."""
    return {to_rdflib(row["p"]): int(row["n"].value) for row in run_select(store,  # type: ignore[misc]
        f"SELECT ?p (COUNT(*) AS ?n) {{ {pattern} }} GROUP BY ?p")}


def store_statistics(store: ox.Store, config: Config, names: Sequence[str]) -> Statistics:
    """The VoID figures of the union of the named graphs ``names``, by SPARQL on the store."""
    graphs = " ".join(f"<{config.graph_iri(n)}>" for n in names)
    union = f"VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?s ?p ?o }}"
    space = f"{config.base_iri}id/"
    # the subjects counted here, the entities among them too: STRSTARTS(STR(?s)) in SPARQL
    # looks up the text of each one, several times slower
    subjects = entities = 0
    for row in run_select(store, f"SELECT DISTINCT ?s {{ {union} }}"):
        subjects += 1
        subject = row[0]
        if isinstance(subject, ox.NamedNode) and subject.value.startswith(space):
            entities += 1
    entity = f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{space}"))'
    # statements per property, less the copies of a triple in a second asserted graph (the
    # inferred graph holds no asserted triple): the distinct triples, without a DISTINCT
    # over millions of them. A release with graphs of its own (dataset sources, updates)
    # may hold a triple in any two: its distinct triples are counted.
    if set(names) - set(GRAPH_NAMES):
        properties = _per_property(store, f"SELECT DISTINCT ?s ?p ?o {{ {union} }}")
    else:
        properties = _per_property(store, union)
        iri = {n: f"<{config.graph_iri(n)}>" for n in ("ontology", "data", "links")}
        copies = _per_property(
            store, f"{{ GRAPH {iri['ontology']} {{ ?s ?p ?o }} FILTER EXISTS "
            f"{{ VALUES ?h {{ {iri['data']} {iri['links']} }} GRAPH ?h {{ ?s ?p ?o }} }} }} "
            f"UNION {{ GRAPH {iri['links']} {{ ?s ?p ?o }} FILTER EXISTS {{ GRAPH {iri['data']} "
            "{ ?s ?p ?o } } }")
        for prop, n in copies.items():
            properties[prop] -= n
    classes = {to_rdflib(row["c"]): int(row["n"].value) for row in run_select(store,
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
        properties=properties,
        graph_triples=counts,
    )


def _statistics(g: Graph, subject: URIRef, stats: Statistics) -> None:
    g.add((subject, VOID.triples, _int(stats.triples)))
    g.add((subject, VOID.entities, _int(stats.entities)))
    g.add((subject, VOID.distinctSubjects, _int(stats.distinct_subjects)))
    g.add((subject, VOID.distinctObjects, _int(stats.distinct_objects)))
    g.add((subject, VOID.classes, _int(len(stats.classes))))
    g.add((subject, VOID.properties, _int(len(stats.properties))))
    base = str(subject)
    for cls, n in sorted(stats.classes.items()):
        part = URIRef(f"{base}void/class/{_key(cls)}")
        g.add((subject, VOID.classPartition, part))
        g.add((part, VOID["class"], cls))
        g.add((part, VOID.entities, _int(n)))
    for prop, n in sorted(stats.properties.items()):
        part = URIRef(f"{base}void/property/{_key(prop)}")
        g.add((subject, VOID.propertyPartition, part))
        g.add((part, VOID.property, prop))
        g.add((part, VOID.triples, _int(n)))


def _key(term: Node) -> str:
    """A stable IRI-safe key for a class or property partition."""
    return hashlib.sha256(str(term).encode()).hexdigest()[:12]


def _linksets(g: Graph, dataset: URIRef, links: Graph, dump: URIRef) -> None:
    """One ``void:Linkset`` per target dataset, with its link predicates and link count; the
    linkset dump (the links graph with its evidence) holds them all."""
    by_target: defaultdict[Target, list[Linkset]] = defaultdict(list)
    for linkset in linksets(links):
        by_target[linkset.target].append(linkset)
    for target, parts in sorted(by_target.items(), key=lambda item: item[0].name):
        node = URIRef(f"{dataset}void/linkset/{target.name.lower()}")
        g.add((dataset, VOID.subset, node))
        g.add((node, RDF.type, VOID.Linkset))
        g.add((node, VOID.dataDump, dump))
        g.add((node, DCTERMS.title, Literal(f"Links to {target.name}", lang="en")))
        g.add((node, VOID.subjectsTarget, dataset))
        g.add((node, VOID.objectsTarget, URIRef(target.dataset)))
        g.add((node, VOID.triples, _int(sum(part.triples for part in parts))))
        for part in parts:
            g.add((node, VOID.linkPredicate, part.predicate))
        g.add((URIRef(target.dataset), RDF.type, VOID.Dataset))
        g.add((URIRef(target.dataset), DCTERMS.title, Literal(target.name)))
        g.add((URIRef(target.dataset), VOID.uriSpace, Literal(parts[0].uri_space)))


def _validation(g: Graph, dataset: URIRef, version: str, summary: dict[str, object]) -> None:
    """The release's SHACL validation report (served at /validation) as a DQV quality
    annotation of the dataset, with its counts."""
    report = URIRef(f"{dataset}validation")
    g.add((dataset, RDFS.seeAlso, report))
    g.add((dataset, DQV.hasQualityAnnotation, report))
    g.add((report, RDF.type, DQV.QualityAnnotation))
    g.add((report, OA.hasTarget, dataset))
    g.add((report, OA.motivatedBy, DQV.qualityAssessment))
    g.add((report, DCTERMS.title,
           Literal(f"SHACL validation report of KazKor KG {version}", lang="en")))
    g.add((report, RDFS.comment, Literal(
        f"{summary['violations']} violation(s), {summary['warnings']} warning(s): a warning "
        "names an inconsistency of the paper, published rather than hidden.", lang="en")))


def _distribution(config: Config, version: str, format_name: str) -> URIRef:
    """The DCAT distribution of a dump: its download location under the base IRI."""
    return URIRef(f"{config.base_iri}dumps/{dump_file_name(version, format_name)}")


def describe_checksums(config: Config, version: str, dumps: Sequence[Dump]) -> Graph:
    """The SHA-256 of each distribution's file as written (``spdx:checksum``, as DCAT
    gives it), for the meta graph once the dumps are written. A file cannot hold its own
    checksum: the dumps hold the meta graph without these triples, the endpoint and
    ``/.well-known/void`` with them."""
    g = Graph()
    for dump in dumps:
        if dump.file != dump_file_name(version, dump.format):
            continue  # the named graphs as JSON-LD: a file of the JSON-LD distribution
        checksum = BNode()
        g.add((_distribution(config, version, dump.format), SPDX.checksum, checksum))
        g.add((checksum, RDF.type, SPDX.Checksum))
        g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
        g.add((checksum, SPDX.checksumValue, Literal(dump.sha256, datatype=XSD.hexBinary)))
    return g


def example_resources(config: Config) -> list[URIRef]:
    return [URIRef(f"{config.base_iri}id/{slug}") for slug in EXAMPLE_SLUGS]


def describe_release(config: Config, version: str, stats: Statistics, links: Graph,
                     examples: list[URIRef], dump_formats: tuple[str, ...] = DUMP_FORMATS,
                     validation: dict[str, object] | None = None, created: str | None = None,
                     record: Graph | None = None) -> Graph:
    """VoID/DCAT description and PROV of a version from its statistics, its links graph,
    the example resources it holds, the formats of its dumps and the summary of its
    validation report; ``created`` (ISO 8601) is when the version was made (now by
    default), ``record`` its place in the history (kg.pipeline.history)."""
    base = config.base_iri
    dataset = URIRef(base)
    build = URIRef(f"{base}build/{version}")
    project = URIRef(f"{base}id/kazkor-kg-project")
    now = (Literal(created, datatype=XSD.dateTime) if created is not None else
           Literal(datetime.now(UTC).replace(microsecond=0), datatype=XSD.dateTime))
    g = Graph()
    for prefix, ns in (("void", VOID), ("dcat", DCAT), ("dcterms", DCTERMS), ("prov", PROV),
                       ("foaf", FOAF), ("dqv", DQV), ("oa", OA), ("spdx", SPDX)):
        g.bind(prefix, ns)
    g.add((dataset, RDF.type, VOID.Dataset))
    g.add((dataset, RDF.type, DCAT.Dataset))
    g.add((dataset, DCTERMS.title, Literal("KazKor KG", lang="en")))
    g.add((dataset, DCTERMS.description, Literal(
        "A knowledge graph of the cultural and humanitarian cooperation between the Republic "
        "of Kazakhstan and the Republic of Korea, built from one research paper.", lang="en")))
    g.add((dataset, DCTERMS.license, CC_BY))
    g.add((dataset, DCTERMS.creator, project))
    g.add((dataset, DCTERMS.publisher, project))
    g.add((project, RDF.type, FOAF.Organization))
    g.add((project, FOAF.name, Literal("KazKor KG project", lang="en")))
    g.add((project, FOAF.homepage, dataset))
    g.add((dataset, DCTERMS.source, URIRef(f"{base}id/paper")))
    g.add((dataset, DCTERMS.issued, now))
    g.add((dataset, DCTERMS.modified, now))
    g.add((dataset, DCTERMS.hasVersion, Literal(version)))
    g.add((dataset, DCAT_VERSION, Literal(version)))
    g.add((dataset, OWL.versionInfo, Literal(version)))
    g.add((dataset, FOAF.homepage, dataset))
    g.add((dataset, VOID.uriSpace, Literal(f"{base}id/")))
    g.add((dataset, VOID.sparqlEndpoint, URIRef(f"{base}sparql")))
    g.add((dataset, VOID.vocabulary, URIRef(f"{base}ontology#")))
    for example in examples:
        g.add((dataset, VOID.exampleResource, example))
    for name in dump_formats:
        fmt = formats.by_name(name)
        url = _distribution(config, version, name)
        g.add((dataset, VOID.dataDump, url))
        g.add((dataset, DCAT.distribution, url))
        g.add((url, RDF.type, DCAT.Distribution))
        g.add((url, DCTERMS.title, Literal(f"KazKor KG {version} as {fmt.label}", lang="en")))
        g.add((url, DCAT.downloadURL, url))
        g.add((url, DCAT.mediaType, URIRef(f"https://www.iana.org/assignments/media-types/"
                                             f"{fmt.media_type}")))
        g.add((url, DCAT.compressFormat,
               URIRef("https://www.iana.org/assignments/media-types/application/gzip")))
        g.add((url, DCTERMS.license, CC_BY))
    g.add((dataset, RDFS.seeAlso, URIRef(f"{base}dumps/{checksum_file_name(version)}")))
    if validation is not None:
        _validation(g, dataset, version, validation)

    _statistics(g, dataset, stats)
    for name, triples in stats.graph_triples.items():
        named = URIRef(config.graph_iri(name))
        g.add((dataset, VOID.subset, named))
        g.add((named, RDF.type, VOID.Dataset))
        g.add((named, SD_NAME, named))
        g.add((named, DCTERMS.title, Literal(f"the {name} graph" if name in GRAPH_NAMES
                                             else "a graph of the sources", lang="en")))
        g.add((named, VOID.triples, _int(triples)))
    _linksets(g, dataset, links, URIRef(f"{base}dumps/{linkset_file_name(version)}"))

    g.add((dataset, PROV.wasGeneratedBy, build))
    g.add((build, RDF.type, PROV.Activity))
    g.add((build, PROV.endedAtTime, now))
    g.add((build, PROV.wasAssociatedWith, URIRef(f"{base}software/kg/{__version__}")))
    if record is not None:
        g += record
        g.add((dataset, DCAT_HAS_CURRENT_VERSION, URIRef(f"{base}release/{version}")))
        g.add((dataset, RDFS.seeAlso, URIRef(f"{base}releases")))
    # the meta graph describes itself too; its count includes the triple that states it and
    # the checksums of the dumps, added once they are written (describe_checksums)
    meta = URIRef(config.graph_iri("meta"))
    g.add((dataset, VOID.subset, meta))
    g.add((meta, RDF.type, VOID.Dataset))
    g.add((meta, SD_NAME, meta))
    g.add((meta, DCTERMS.title, Literal("the meta graph", lang="en")))
    g.add((meta, VOID.triples, _int(len(g) + 1 + CHECKSUM_TRIPLES * len(dump_formats))))
    return g

