"""Triples as N-Triples text: how closures of millions of triples are held in Python.

An rdflib term costs microseconds to make, hash and compare (its ``__hash__`` and
``__eq__`` are Python code). The N-Triples text of a term (``<http://…>``, ``_:b0``,
``"x"@en``, ``"1"^^<http://…#integer>``) is a ``str``: hashed once, compared at C speed,
and a triple's N-Quads line is a join. The reasoning of both build paths (the filter, the
rules kg adds around reasonable) and the large-input path's graphs work on these texts;
rdflib terms are made only for small parts (the schema, the triples the consistency checks
read, the inferred graph of a small build).

The texts are oxigraph's: :func:`term_text` spells a parsed term, and a term read back
from reasonable is spelled by oxigraph too, so the same term always has the same text.

reasonable (``PyReasoner``) reads terms by their type's name and ``str()``
(``reasonable/python/src/pyreason.rs``, 0.4.x): :class:`IRI`, :class:`BNode` and
:class:`Literal` are texts whose ``str()`` is what it reads. It returns terms by calling
``rdflib.URIRef``, ``rdflib.Literal`` and ``rdflib.BNode``, looked up in the ``rdflib``
module when it answers: :func:`reason` puts a module of text makers in its place for that
call, so that millions of rdflib terms are never made.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any

import pyoxigraph as ox
from rdflib import BNode as RdflibBNode
from rdflib import URIRef
from rdflib.term import Node

from kg.store.oxigraph import from_rdflib, to_rdflib

TextTriple = tuple[str, str, str]
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def iri(value: str) -> str:
    """The text of an IRI."""
    return f"<{value}>"


class IRI(str):
    """An IRI's text ``<…>``; ``str()`` gives the IRI, as reasonable reads it (so a text is
    put into a line by ``+`` or ``join``, never by ``str()`` or an f-string)."""

    __slots__ = ()
    datatype = None
    language = None

    def __str__(self) -> str:
        return self[1:-1]


class BNode(str):
    """A blank node's text ``_:label``; ``str()`` gives the label. reasonable knows a blank
    node by this class's name."""

    __slots__ = ()
    datatype = None
    language = None

    def __str__(self) -> str:
        return self[2:]


class Literal(str):
    """A literal's text; ``str()`` gives its lexical form, ``datatype`` and ``language``
    what reasonable reads besides (a simple literal has neither). reasonable knows a literal
    by this class's name."""

    datatype: str | None
    language: str | None
    lexical: str

    def __str__(self) -> str:
        return self.lexical


def literal(lexical: str, language: str | None = None, datatype: str | None = None) -> str:
    """The text of a literal (``xsd:string`` is a simple literal, as in RDF 1.1)."""
    if language:
        return str(ox.Literal(lexical, language=language))
    if datatype is None or datatype == _XSD_STRING:
        return str(ox.Literal(lexical))
    return str(ox.Literal(lexical, datatype=ox.NamedNode(datatype)))


def term_text(term: Any) -> str:
    """The text of an oxigraph term."""
    if isinstance(term, ox.NamedNode):
        return f"<{term.value}>"
    return str(term)


class Terms:
    """Reasoner-ready terms (:class:`IRI`, :class:`BNode`, :class:`Literal`), one object per
    distinct term, made from oxigraph or rdflib terms or from texts."""

    def __init__(self) -> None:
        self._known: dict[object, str] = {}

    def of_oxigraph(self, term: Any) -> str:
        """A named node or literal (blank nodes are labelled by the caller, :meth:`blank`)."""
        if (node := self._known.get(term)) is None:
            if isinstance(term, ox.NamedNode):
                node = IRI(f"<{term.value}>")
            else:
                made = Literal(str(term))
                made.lexical = term.value
                made.language = term.language
                made.datatype = None if term.language else term.datatype.value
                node = made
            self._known[term] = node
        return node

    def blank(self, label: str) -> str:
        return self._known.setdefault(("_:", label), BNode(f"_:{label}"))

    def of_rdflib(self, term: Node) -> str:
        if isinstance(term, URIRef):
            return self._known.get(term) or self._known.setdefault(term, IRI(f"<{term}>"))
        if isinstance(term, RdflibBNode):
            return self.blank(str(term))
        return self.of_oxigraph(from_rdflib(term))

    def of_text(self, text: str) -> str:
        """The reasoner-ready term of a text (as :func:`reason` returns them)."""
        if text.startswith("<"):
            return self._known.get(text) or self._known.setdefault(text, IRI(text))
        if text.startswith("_:"):
            return self.blank(text[2:])
        if (node := self._known.get(text)) is None:
            node = self._known[text] = self.of_oxigraph(
                next(iter(ox.parse("<x:s> <x:p> " + text + " .", format=ox.RdfFormat.N_TRIPLES))
                     ).object)
        return node

    def triples(self, triples: Iterable[TextTriple]) -> list[TextTriple]:
        """Triples of texts as reasoner-ready triples."""
        of = self.of_text
        return [(of(s), of(p), of(o)) for s, p, o in triples]


def of_rdflib(triples: Iterable[tuple[Node, Node, Node]], terms: Terms | None = None
              ) -> list[TextTriple]:
    """rdflib triples as reasoner-ready text triples."""
    of = (terms or Terms()).of_rdflib
    return [(of(s), of(p), of(o)) for s, p, o in triples]


def to_rdflib_triples(triples: Iterable[TextTriple]) -> Iterator[tuple[Node, Node, Node]]:
    """Text triples as rdflib triples (blank nodes keep their labels), for small sets."""
    document = "".join(" ".join((s, p, o, ".\n")) for s, p, o in triples)
    for t in ox.parse(document, format=ox.RdfFormat.N_TRIPLES):
        yield to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)  # type: ignore[misc]


def _text_makers() -> types.ModuleType:
    """A stand-in for the ``rdflib`` module while reasonable answers: its ``URIRef``,
    ``BNode`` and ``Literal`` make texts, each distinct one once."""
    makers = types.ModuleType("rdflib")
    makers.URIRef = lru_cache(maxsize=None)("<{}>".format)  # type: ignore[attr-defined]
    makers.BNode = lru_cache(maxsize=None)("_:{}".format)  # type: ignore[attr-defined]
    makers.Literal = lru_cache(maxsize=None)(literal)  # type: ignore[attr-defined]
    return makers


def reason(reasoner: Any) -> list[TextTriple]:
    """``reasoner.reason()`` (a reasonable ``PyReasoner``): every triple of the closure, as
    texts."""
    real = sys.modules["rdflib"]
    sys.modules["rdflib"] = _text_makers()
    try:
        closed: list[TextTriple] = reasoner.reason()
    finally:
        sys.modules["rdflib"] = real
    if closed and type(closed[0][0]) is not str:
        raise RuntimeError("reasonable no longer makes its terms through the rdflib module "
                           "(kg.pipeline.ntriples.reason): pin the reasonable version this "
                           "code was written for (pyproject.toml)")
    return closed

