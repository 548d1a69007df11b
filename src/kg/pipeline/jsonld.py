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
from typing import Any

from rdflib import Dataset, Graph

from kg.config import Config

#: the file of the context beside the dumps, and the path it is served at
CONTEXT_FILE = "context.jsonld"


def context(config: Config) -> dict[str, Any]:
    """The JSON-LD context document."""
    return {"@context": dict(sorted(config.prefixes.items()))}


def context_bytes(config: Config) -> bytes:
    return (json.dumps(context(config), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def compact(rdf: Graph | Dataset, config: Config) -> bytes:
    """``rdf`` as compacted JSON-LD with the context embedded: one graph as a node (or an
    ``@graph`` of nodes), a dataset with each named graph as an ``@graph`` of its own."""
    return rdf.serialize(format="json-ld", context=context(config)["@context"],
                         auto_compact=True, encoding="utf-8")
