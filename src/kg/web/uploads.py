"""Parsing an uploaded graph (Graph Store PUT/POST) without letting it reach the network.

- RDF/XML with a document type declaration is refused: no external entity is fetched
  (XXE) and no entity is expanded (the "billion laughs").
- JSON-LD that names a remote ``@context`` (or ``@import``) is refused: rdflib would fetch
  it. Inline contexts are fine.
- ``owl:imports`` is data like any other triple: nothing here or in the store follows it.
"""

from __future__ import annotations

import json
import re

from rdflib import Graph

from kg.formats import by_name

_DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.I)


class UploadRefused(Exception):
    """The upload is refused before it is parsed; the message says why."""


def parse_upload(data: bytes, format_name: str) -> Graph:
    """The graph in ``data`` (a :mod:`kg.formats` name); raises :class:`UploadRefused` or the
    parser's error."""
    if format_name == "rdfxml":
        _refuse_declarations(data)
    elif format_name == "jsonld":
        _refuse_remote_contexts(data)
    graph = Graph()
    graph.parse(data=data, format=by_name(format_name).rdflib)
    return graph


def _refuse_declarations(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UploadRefused("send RDF/XML encoded as UTF-8") from None
    if _DECLARATION.search(text):
        raise UploadRefused("RDF/XML with a DOCTYPE or ENTITY declaration is refused: external "
                            "entities and entity expansion are not processed here")


def _refuse_remote_contexts(data: bytes) -> None:
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise UploadRefused(f"the JSON-LD body is not JSON: {e}") from None
    if _names_remote_context(document):
        raise UploadRefused("JSON-LD with a remote @context (or @import) is refused: this "
                            "server does not fetch URLs; put the context inline")


def _names_remote_context(node: object) -> bool:
    if isinstance(node, list):
        return any(_names_remote_context(item) for item in node)
    if not isinstance(node, dict):
        return False
    for key, value in node.items():
        if key == "@context" and _is_remote(value):
            return True
        if key == "@import":
            return True
        if _names_remote_context(value):
            return True
    return False


def _is_remote(context: object) -> bool:
    if isinstance(context, str):
        return True
    if isinstance(context, list):
        return any(_is_remote(item) for item in context)
    return False
