"""The meta graph: what the release is (VoID/DCAT) and how it was built (PROV)."""

from __future__ import annotations

from datetime import UTC, datetime

from rdflib import DCAT, DCTERMS, PROV, RDF, VOID, XSD, Graph, Literal, URIRef

from kg import __version__
from kg.config import Config

CC_BY = URIRef("https://creativecommons.org/licenses/by/4.0/")


def meta_graph(config: Config, digest: str, counts: dict[str, int]) -> Graph:
    base = config.base_iri
    dataset = URIRef(base)
    build = URIRef(f"{base}build/{digest[:16]}")
    g = Graph()
    g.bind("void", VOID)
    g.bind("dcat", DCAT)
    g.bind("dcterms", DCTERMS)
    g.bind("prov", PROV)
    g.add((dataset, RDF.type, VOID.Dataset))
    g.add((dataset, RDF.type, DCAT.Dataset))
    g.add((dataset, DCTERMS.title, Literal("KazKor KG", lang="en")))
    g.add((dataset, DCTERMS.description, Literal(
        "A knowledge graph of the cultural and humanitarian cooperation between the Republic "
        "of Kazakhstan and the Republic of Korea, built from one research paper.", lang="en")))
    g.add((dataset, DCTERMS.license, CC_BY))
    g.add((dataset, VOID.uriSpace, Literal(f"{base}id/")))
    g.add((dataset, VOID.sparqlEndpoint, URIRef(f"{base}sparql")))
    g.add((dataset, DCTERMS.hasVersion, Literal(digest[:16])))
    g.add((dataset, VOID.triples, Literal(sum(counts.values()), datatype=XSD.integer)))
    for name, count in counts.items():
        graph = URIRef(config.graph_iri(name))
        g.add((dataset, VOID.subset, graph))
        g.add((graph, RDF.type, VOID.Dataset))
        g.add((graph, VOID.triples, Literal(count, datatype=XSD.integer)))
    g.add((dataset, PROV.wasGeneratedBy, build))
    g.add((build, RDF.type, PROV.Activity))
    g.add((build, PROV.endedAtTime, Literal(datetime.now(UTC).replace(microsecond=0),
                                            datatype=XSD.dateTime)))
    g.add((build, PROV.wasAssociatedWith, URIRef(f"{base}software/kg/{__version__}")))
    return g
