"""The one registry of serialization formats.

Content negotiation, the service description, the query UI, the dumps and the
``kg`` command all read this table; adding a format is adding one row.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    #: short name, used by ``?format=`` and ``--format``
    name: str
    media_type: str
    label: str
    #: ``results`` (SELECT/ASK results), ``rdf`` (triples) or ``dataset`` (quads)
    kind: str
    extension: str
    #: further media types that select this format in an Accept header
    aliases: tuple[str, ...] = ()
    #: the W3C format IRI (http://www.w3.org/ns/formats/), for the service description
    iri: str = ""

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)


_NS = "http://www.w3.org/ns/formats/"

FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", "SPARQL JSON", "results", "srj",
           ("application/json",), _NS + "SPARQL_Results_JSON"),
    Format("xml", "application/sparql-results+xml", "SPARQL XML", "results", "srx",
           ("application/xml", "text/xml"), _NS + "SPARQL_Results_XML"),
    Format("csv", "text/csv", "CSV", "results", "csv", (), _NS + "SPARQL_Results_CSV"),
    Format("tsv", "text/tab-separated-values", "TSV", "results", "tsv", (),
           _NS + "SPARQL_Results_TSV"),
    Format("turtle", "text/turtle", "Turtle", "rdf", "ttl", ("application/x-turtle",),
           _NS + "Turtle"),
    Format("ntriples", "application/n-triples", "N-Triples", "rdf", "nt", (),
           _NS + "N-Triples"),
    Format("jsonld", "application/ld+json", "JSON-LD", "rdf", "jsonld", (), _NS + "JSON-LD"),
    Format("rdfxml", "application/rdf+xml", "RDF/XML", "rdf", "rdf", (), _NS + "RDF_XML"),
    Format("trig", "application/trig", "TriG", "dataset", "trig", (), _NS + "TriG"),
    Format("nquads", "application/n-quads", "N-Quads", "dataset", "nq", (), _NS + "N-Quads"),
)

BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}
BY_EXTENSION: dict[str, Format] = {f.extension: f for f in FORMATS}


def by_name(name: str) -> Format:
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(
            f"unknown format {name!r}; known formats: {', '.join(BY_NAME)}"
        ) from None


def for_kind(*kinds: str) -> list[Format]:
    return [f for f in FORMATS if f.kind in kinds]


def rdf_formats() -> list[Format]:
    """Formats that can carry triples (a graph is also a dataset of one default graph)."""
    return for_kind("rdf", "dataset")
