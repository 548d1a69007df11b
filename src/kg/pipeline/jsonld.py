"""JSON-LD people can use: compacted with the project's context, the same everywhere.

The context (:func:`context`) maps the usual prefixes and the graph's own (``kko:``,
``kkid:``, :attr:`kg.config.Config.prefixes`), so that keys read ``rdfs:label`` and
``kko:documentSigned`` instead of full IRIs. Every document embeds it, so that a JSON-LD
processor reads it offline (rdflib, jsonld.js: no fetch of a remote context); the same
context is served at ``/context.jsonld`` and written beside the dumps, for anyone who
compacts or frames their own data with it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pyoxigraph as ox

from kg.config import Config

#: the file of the context beside the dumps, and the path it is served at
CONTEXT_FILE = "context.jsonld"


def context(config: Config) -> dict[str, Any]:
    """The JSON-LD context document."""
    return {"@context": dict(sorted(config.prefixes.items()))}


def context_bytes(config: Config) -> bytes:
    return (json.dumps(context(config), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_KEY = {ox.NamedNode: 0, ox.BlankNode: 1, ox.Literal: 2}


class _Compactor:
    """IRIs as compact IRIs of the context's prefixes (the longest namespace first), and
    terms as JSON-LD values."""

    def __init__(self, prefixes: dict[str, str]) -> None:
        self.namespaces = sorted(((ns, p) for p, ns in prefixes.items()),
                                 key=lambda item: -len(item[0]))
        self._iris: dict[str, str] = {}

    def iri(self, iri: str) -> str:
        found = self._iris.get(iri)
        if found is None:
            found = iri
            for namespace, prefix in self.namespaces:
                # a suffix starting with // would read as an absolute IRI (JSON-LD 1.1 §4.4)
                if iri.startswith(namespace) and not iri[len(namespace):].startswith("//"):
                    found = f"{prefix}:{iri[len(namespace):]}"
                    break
            self._iris[iri] = found
        return found

    def node_id(self, term: ox.NamedNode | ox.BlankNode) -> str:
        return self.iri(term.value) if isinstance(term, ox.NamedNode) else f"_:{term.value}"

    def value(self, term: ox.NamedNode | ox.BlankNode | ox.Literal) -> object:
        if not isinstance(term, ox.Literal):
            return {"@id": self.node_id(term)}
        if term.language:
            return {"@value": term.value, "@language": term.language}
        if term.datatype.value == XSD_STRING:
            return term.value
        return {"@value": term.value, "@type": self.iri(term.datatype.value)}


def _nodes(triples: Iterable[tuple[Any, Any, Any]], compactor: _Compactor
           ) -> list[dict[str, Any]]:
    """Node objects of ``triples``, one per subject, subjects, keys and values in a stable
    order."""
    by_subject: dict[tuple[int, str], dict[str, list[Any]]] = {}
    for s, p, o in triples:
        properties = by_subject.setdefault((_KEY[type(s)], s.value), {})
        if p.value == RDF_TYPE and not isinstance(o, ox.Literal):
            properties.setdefault("@type", []).append((_KEY[type(o)], o.value, o))
        else:
            properties.setdefault(p.value, []).append((_KEY[type(o)], str(o), o))
    nodes = []
    for (kind, subject), properties in sorted(by_subject.items()):
        node: dict[str, Any] = {"@id": compactor.iri(subject) if kind == 0 else f"_:{subject}"}
        keyed = {(k if k == "@type" else compactor.iri(k)): v for k, v in properties.items()}
        for key in sorted(keyed):
            values = sorted(set(keyed[key]), key=lambda v: v[:2])
            if key == "@type":
                node[key] = [compactor.node_id(v[2]) for v in values]
            else:
                node[key] = [compactor.value(v[2]) for v in values]
        nodes.append(node)
    return nodes


def compact(statements: Iterable[ox.Quad] | Iterable[ox.Triple], config: Config,
            indent: int | None = None) -> bytes:
    """``statements`` as compacted JSON-LD with the context embedded: triples as an
    ``@graph`` of nodes; quads with the default graph's nodes first, then each named graph
    as a node with an ``@graph`` of its own (JSON-LD 1.1 §4.9). Written from Oxigraph's
    terms, without rdflib (whose JSON-LD writer took a second of a build for the dumps)."""
    prefixes = context(config)["@context"]
    compactor = _Compactor(prefixes)
    graphs: dict[tuple[int, str], list[tuple[Any, Any, Any]]] = {}
    for statement in statements:
        name = getattr(statement, "graph_name", None)
        key = (-1, "") if name is None or isinstance(name, ox.DefaultGraph) else (
            _KEY[type(name)], name.value)
        graphs.setdefault(key, []).append((statement.subject, statement.predicate,
                                           statement.object))
    top = _nodes(graphs.pop((-1, ""), []), compactor)
    for (kind, name), triples in sorted(graphs.items()):
        top.append({"@id": compactor.iri(name) if kind == 0 else f"_:{name}",
                    "@graph": _nodes(triples, compactor)})
    document = {"@context": prefixes, "@graph": top}
    return json.dumps(document, ensure_ascii=False, indent=indent,
                      separators=None if indent else (",", ":")).encode("utf-8")
