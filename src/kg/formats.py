"""The one registry of serialization formats.

Content negotiation, the service description, the query UI, the dumps, the store
backends, the uploads and the ``kg`` command all read this table: a format's media
types, file extension, rdflib plugin name, Oxigraph format and the query forms whose
answers it can carry. Adding a format is adding one row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

#: the query forms, by what their answers are
SOLUTION_FORMS = frozenset({"SELECT", "ASK"})
GRAPH_FORMS = frozenset({"CONSTRUCT", "DESCRIBE"})


@dataclass(frozen=True)
class Format:
    #: short name, used by ``?format=`` and ``--format``
    name: str
    media_type: str
    label: str
    #: ``results`` (SELECT/ASK results), ``rdf`` (triples), ``dataset`` (quads), or a kind of
    #: page (``page``, ``report``) for formats a view adds beside the registry's
    kind: str
    extension: str
    #: further media types that select this format in an Accept header
    aliases: tuple[str, ...] = ()
    #: the W3C format IRI (http://www.w3.org/ns/formats/), for the service description
    iri: str = ""
    #: rdflib's parser and serializer name
    rdflib: str = ""
    #: Oxigraph's format (``ox.RdfFormat`` or ``ox.QueryResultsFormat``)
    oxigraph: Any = None

    def __hash__(self) -> int:
        # by what tells formats apart: negotiation keys its memo by the formats on offer
        return hash((self.name, self.kind, self.media_type))

    @property
    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)

    @property
    def forms(self) -> frozenset[str]:
        """The query forms whose answers this format carries."""
        if self.kind == "results":
            return SOLUTION_FORMS
        if self.kind in ("rdf", "dataset"):
            return GRAPH_FORMS
        return frozenset()

    @property
    def keeps_named_graphs(self) -> bool:
        return self.kind == "dataset"

    @property
    def content_type(self) -> str:
        """The Content-Type header: text and JSON/XML types say their charset."""
        if self.media_type.startswith("text/") or self.media_type.endswith(
                ("+json", "+xml", "/json")):
            return self.media_type + "; charset=utf-8"
        return self.media_type


_NS = "http://www.w3.org/ns/formats/"
_R = ox.QueryResultsFormat
_G = ox.RdfFormat

FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", "SPARQL JSON", "results", "srj",
           ("application/json",), _NS + "SPARQL_Results_JSON", "json", _R.JSON),
    Format("xml", "application/sparql-results+xml", "SPARQL XML", "results", "srx",
           ("application/xml", "text/xml"), _NS + "SPARQL_Results_XML", "xml", _R.XML),
    Format("csv", "text/csv", "CSV", "results", "csv", (), _NS + "SPARQL_Results_CSV",
           "csv", _R.CSV),
    Format("tsv", "text/tab-separated-values", "TSV", "results", "tsv", (),
           _NS + "SPARQL_Results_TSV", "tsv", _R.TSV),
    Format("turtle", "text/turtle", "Turtle", "rdf", "ttl", ("application/x-turtle",),
           _NS + "Turtle", "turtle", _G.TURTLE),
    Format("ntriples", "application/n-triples", "N-Triples", "rdf", "nt", (),
           _NS + "N-Triples", "nt", _G.N_TRIPLES),
    Format("jsonld", "application/ld+json", "JSON-LD", "rdf", "jsonld", (), _NS + "JSON-LD",
           "json-ld", _G.JSON_LD),
    Format("rdfxml", "application/rdf+xml", "RDF/XML", "rdf", "rdf", (), _NS + "RDF_XML",
           "xml", _G.RDF_XML),
    Format("trig", "application/trig", "TriG", "dataset", "trig", (), _NS + "TriG", "trig",
           _G.TRIG),
    Format("nquads", "application/n-quads", "N-Quads", "dataset", "nq", (), _NS + "N-Quads",
           "nquads", _G.N_QUADS),
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


def by_media_type(media_type: str) -> Format | None:
    """The format a media type (or one of its aliases) names."""
    wanted = media_type.split(";")[0].strip().lower()
    return next((f for f in FORMATS if wanted in f.media_types), None)


#: format names clients send in ``format=`` / ``output=`` (SPARQLWrapper, YASGUI, curl users
#: of Virtuoso and Fuseki), by what they mean for solutions and for a graph: a name means
#: its query form's format, as on those servers (``format=xml`` asks RDF/XML of a CONSTRUCT)
CLIENT_NAMES: dict[str, tuple[str | None, str | None]] = {
    "xml": ("xml", "rdfxml"), "json": ("json", "jsonld"), "csv": ("csv", None),
    "tsv": ("tsv", None), "json-ld": (None, "jsonld"), "rdf": (None, "rdfxml"),
    "rdf+xml": (None, "rdfxml"), "n3": (None, "turtle"), "ttl": (None, "turtle"),
    "nt": (None, "ntriples"), "n-triples": (None, "ntriples"), "nq": (None, "nquads"),
    "n-quads": (None, "nquads"), "srj": ("json", None), "srx": ("xml", None),
}


def by_client_name(name: str, form: str | None) -> Format | None:
    """The format ``name`` asks for the answer of a query of ``form``: a short name of the
    registry that carries it, else what the name means for that form (:data:`CLIENT_NAMES`),
    else a media type of a format that carries it."""
    form = form or "SELECT"
    fmt = BY_NAME.get(name)
    if fmt is not None and form in fmt.forms:
        return fmt
    solutions, graph = CLIENT_NAMES.get(name.lower(), (None, None))
    meant = graph if form in GRAPH_FORMS else solutions
    if meant is not None:
        return BY_NAME[meant]
    found = by_media_type(name)
    return found if found is not None and form in found.forms else None


def for_kind(*kinds: str) -> list[Format]:
    return [f for f in FORMATS if f.kind in kinds]


def for_form(form: str | None) -> list[Format]:
    """The formats that can carry the answer of a query of ``form`` (SELECT when unknown)."""
    return [f for f in FORMATS if (form or "SELECT") in f.forms]


def rdf_formats() -> list[Format]:
    """Formats that can carry triples (a graph is also a dataset of one default graph)."""
    return for_kind("rdf", "dataset")


def graph_formats() -> list[Format]:
    """Formats of one graph (no named graphs): what a single description or report comes in."""
    return for_kind("rdf")
