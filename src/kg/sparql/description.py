"""The SPARQL 1.1 Service Description of the endpoint (https://www.w3.org/TR/sparql11-service-description/).

Built from the format registry and the release's named graphs, so it always says
what the endpoint really does. The prefixes every query may use without declaring them are
stated with SHACL's vocabulary for prefix declarations (``sh:declare`` of an
``sh:PrefixDeclaration`` with ``sh:prefix`` and ``sh:namespace``, SHACL §5.2.1): the one W3C
vocabulary for "this prefix stands for this namespace" as data, which SHACL-SPARQL tools
already read to declare prefixes in queries; the Service Description vocabulary has no term
for it.
"""

from __future__ import annotations

from collections.abc import Mapping

from rdflib import RDF, SH, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, VOID, XSD

from kg import formats
from kg.config import Config

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")


def service_description(config: Config, endpoint: str, graphs: dict[str, int],
                        *, updates: bool, prefixes: Mapping[str, str] | None = None) -> Graph:
    """The description of the endpoint at ``endpoint``; ``graphs`` maps graph IRIs to sizes;
    ``prefixes`` are those every query may use undeclared."""
    g = Graph()
    g.bind("sd", SD)
    g.bind("sh", SH)
    g.bind("void", VOID)
    g.bind("dcterms", DCTERMS)
    service = URIRef(endpoint)
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, service))
    g.add((service, DCTERMS.title, Literal("KazKor KG SPARQL endpoint")))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    if updates:
        g.add((service, SD.supportedLanguage, SD.SPARQL11Update))
    for feature in (SD.UnionDefaultGraph, SD.BasicFederatedQuery
                    if config.allowed_services else None):
        if feature is not None:
            g.add((service, SD.feature, feature))
    for fmt in formats.FORMATS:
        if fmt.iri:
            g.add((service, SD.resultFormat, URIRef(fmt.iri)))
    for prefix, namespace in sorted((prefixes or {}).items()):
        declaration = BNode()
        g.add((service, SH.declare, declaration))
        g.add((declaration, RDF.type, SH.PrefixDeclaration))
        g.add((declaration, SH.prefix, Literal(prefix)))
        g.add((declaration, SH.namespace, Literal(namespace, datatype=XSD.anyURI)))
    dataset = BNode()
    default = BNode()
    g.add((service, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    g.add((default, DCTERMS.description, Literal(
        "The union of the named graphs; inference=false leaves out the inferred graph.")))
    g.add((default, VOID.triples, Literal(sum(graphs.values()), datatype=XSD.integer)))
    for iri, size in sorted(graphs.items()):
        named = BNode()
        description = BNode()
        g.add((dataset, SD.namedGraph, named))
        g.add((named, RDF.type, SD.NamedGraph))
        g.add((named, SD.name, URIRef(iri)))
        g.add((named, SD.graph, description))
        g.add((description, RDF.type, SD.Graph))
        g.add((description, VOID.triples, Literal(size, datatype=XSD.integer)))
    return g
