"""The prefixes of every RDF document the server writes (data documents, VoID, the ontology,
the validation report): those the graph's sources declare, as the version's build report
records them, and the usual ones, so that a document reads ``sdmx-dimension:refArea`` or
``sd:name``, never a generated ``ns1:``.
"""

from __future__ import annotations

from rdflib import Dataset, Graph

from kg.web.state import state

#: vocabularies the server's own documents use that the sources need not declare
USUAL_PREFIXES = {
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "oa": "http://www.w3.org/ns/oa#",
    "dqv": "http://www.w3.org/ns/dqv#",
    "sh": "http://www.w3.org/ns/shacl#",
    "skosxl": "http://www.w3.org/2008/05/skos-xl#",
    "bibo": "http://purl.org/ontology/bibo/",
    "spdx": "http://spdx.org/rdf/terms#",
}


def declared() -> dict[str, str]:
    """Prefix -> namespace: the usual ones, the configuration's (``kko:``, ``kkid:``), then
    the graph's own, which win."""
    config = state().config
    return {**USUAL_PREFIXES, **config.prefixes, **state().served.report().prefixes}


def bind(rdf: Graph | Dataset) -> Graph | Dataset:
    """``rdf`` with every declared prefix bound (replacing rdflib's own defaults)."""
    for prefix, namespace in declared().items():
        rdf.bind(prefix, namespace, override=True, replace=True)
    return rdf
