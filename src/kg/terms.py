"""The order of rdflib terms, for output that is the same from one run to the next.

rdflib types the terms a graph gives back as ``Node``, which has no order; the terms of a
graph are ``Identifier`` objects (IRIs, blank nodes, literals), which rdflib orders.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar, cast

from rdflib.term import Identifier, Node

TermT = TypeVar("TermT", bound=Node)


def sorted_terms(terms: Iterable[TermT]) -> list[TermT]:
    """``terms`` in rdflib's order of terms."""
    return cast("list[TermT]", sorted(cast("Iterable[Identifier]", terms)))
