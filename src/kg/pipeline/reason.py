"""Reason: materialize the OWL 2 RL (or RDFS) closure with owlrl.

Only the new triples are returned, for the inferred named graph; entailments no
user wants to read (``?x owl:sameAs ?x``, ``rdf:type rdfs:Resource``, statements
about the RDF/RDFS/OWL/XSD vocabularies themselves, literal subjects) are left out.
"""

from __future__ import annotations

import owlrl
from rdflib import OWL, RDF, RDFS, XSD, Graph, Literal, URIRef
from rdflib.term import Node

_VOCABULARIES = (str(RDF), str(RDFS), str(OWL), str(XSD))
_USELESS_TYPES = {RDFS.Resource, OWL.Thing, RDFS.Class, OWL.Class, RDF.Property,
                  RDFS.Datatype, RDFS.ContainerMembershipProperty}


def _wanted(triple: tuple[Node, Node, Node]) -> bool:
    s, p, o = triple
    if isinstance(s, Literal):
        return False
    if isinstance(s, URIRef) and str(s).startswith(_VOCABULARIES):
        return False
    if p == OWL.sameAs and s == o:
        return False
    if p == RDF.type and o in _USELESS_TYPES:
        return False
    if p in (RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass, OWL.equivalentProperty):
        if s == o or (isinstance(o, URIRef) and str(o).startswith(_VOCABULARIES)):
            return False
    if p in (RDFS.domain, RDFS.range) and o in (OWL.Thing, RDFS.Resource):
        return False
    return not (isinstance(o, Literal) and p == RDF.type)


def closure(asserted: Graph, mode: str = "owlrl") -> Graph:
    """The triples that ``mode`` (``owlrl`` or ``rdfs``) entails beyond ``asserted``."""
    if mode == "none":
        return Graph()
    semantics = {"owlrl": owlrl.OWLRL_Semantics, "rdfs": owlrl.RDFS_Semantics}[mode]
    expanded = Graph()
    expanded += asserted
    owlrl.DeductiveClosure(
        semantics, axiomatic_triples=False, datatype_axioms=False
    ).expand(expanded)
    inferred = Graph()
    for triple in expanded:
        if triple not in asserted and _wanted(triple):
            inferred.add(triple)
    return inferred
