"""``/.well-known/void``: the VoID and DCAT description of the dataset (RFC 8615 well-known
location), from the meta graph written at build time; RDF by negotiation, HTML for browsers.

The meta graph names service locations under the base IRI (``BASE/sparql``,
``BASE/dumps/…``, ``BASE/validation``); they are shown at the host the server runs on, so
that the links work wherever it runs. Resource identifiers stay as they are.
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from rdflib import DCAT, DCTERMS, RDFS, VOID, Graph, URIRef

from kg import formats
from kg.sparql.negotiate import choose
from kg.terms import sorted_terms
from kg.web import prefixes
from kg.web.html import HTML, not_acceptable, page
from kg.web.state import state

blueprint = Blueprint("void", __name__)

#: properties whose objects are web locations of this service, not identifiers
LOCATION_PROPERTIES = (VOID.sparqlEndpoint, VOID.dataDump, DCAT.downloadURL, DCAT.accessURL,
                       RDFS.seeAlso)


def void_graph(host_url: str) -> Graph:
    base = state().config.base_iri
    graph = Graph()
    prefixes.bind(graph)
    for s, p, o in state().served.call("graph_triples", state().config.graph_iri("meta")):
        if p in LOCATION_PROPERTIES and isinstance(o, URIRef) and str(o).startswith(base):
            o = URIRef(host_url + str(o)[len(base):])
        graph.add((s, p, o))
    return graph


@blueprint.get("/.well-known/void")
def void() -> Response:
    graph = void_graph(request.host_url)
    rdf_formats = [f for f in formats.rdf_formats() if f.kind == "rdf"]
    chosen = choose(request.headers.get("Accept"), [*rdf_formats, HTML])
    if chosen is None:
        return not_acceptable([*rdf_formats, HTML])
    if chosen is HTML:
        base = state().config.base_iri
        dataset = URIRef(base)
        stats = [(name, graph.value(dataset, VOID[name])) for name in
                 ("triples", "entities", "distinctSubjects", "distinctObjects", "classes",
                  "properties")]
        linksets = [(str(graph.value(ls, DCTERMS.title)), str(graph.value(ls, VOID.objectsTarget)),
                     graph.value(ls, VOID.triples))
                    for ls in sorted_terms(graph.subjects(VOID.subjectsTarget, dataset))]
        response = page("void.html", stats=stats, linksets=linksets,
                        turtle=graph.serialize(format="turtle"))
    else:
        body = graph.serialize(format=chosen.rdflib, encoding="utf-8")
        response = Response(body, content_type=f"{chosen.media_type}; charset=utf-8")
        response.headers["Access-Control-Allow-Origin"] = "*"
    response.vary.add("Accept")
    return response
