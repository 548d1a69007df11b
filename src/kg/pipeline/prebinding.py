"""Pre-binding of variables in SHACL-SPARQL queries, as the SHACL recommendation defines it.

SHACL (appendix "Pre-binding of Variables in SPARQL Queries") evaluates a query ``Q`` with
pre-bound variables ``μ`` (``$this``, and ``$shapesGraph``, ``$currentShape`` where supported)
as ``Q`` with every basic graph pattern, property path and ``GRAPH`` pattern ``Y`` replaced by
``Join(Y, Table(μ))``. Every group graph pattern of a query starts with a basic graph
pattern (the empty one when it has no triple), so the same evaluation is reached by writing
``μ`` as one inline table (``VALUES``, or a pattern that binds the same variables) at the start
of every group ``{ ... }`` of the text: the top one, nested groups, ``OPTIONAL``, ``UNION``
branches, ``GRAPH``, ``FILTER (NOT) EXISTS`` and the ``WHERE`` of sub-selects. The variables
are then bound wherever they are read, ``bound($this)`` and ``BIND ($this AS ?x)`` included.

The definition only holds for queries within the restrictions the appendix puts on them, and
"SHACL-SPARQL processors MUST report a failure" for any other: no ``MINUS``, no ``SERVICE``, no
``VALUES``, no ``AS ?var`` for a pre-bound variable, and every sub-select returns ``$this``
(``$shapesGraph`` and ``$currentShape`` are optional there). :func:`read_query` checks them
and raises :class:`PreBindingError` for a query outside them.

What the query holds (its groups, constructs, assignments and sub-selects) comes from the
project's SPARQL parser (:mod:`kg.sparqltext`), so a keyword or a brace inside a string, an
IRI, a comment or a prefixed name never counts.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass

from kg.sparqltext import SparqlSyntaxError, inspect

#: the variables SHACL-SPARQL may pre-bind, and those a sub-select need not return
PREBOUND = frozenset({"this", "shapesGraph", "currentShape"})
OPTIONAL_IN_SUBSELECTS = frozenset({"shapesGraph", "currentShape"})
RESTRICTIONS = ("https://www.w3.org/TR/shacl/#pre-binding (SHACL, appendix: Pre-binding of "
                "Variables in SPARQL Queries)")
_FORBIDDEN = {"MINUS": "MINUS", "SERVICE": "a federated query (SERVICE)", "VALUES": "VALUES"}


class PreBindingError(ValueError):
    """A query outside the restrictions SHACL puts on queries with pre-bound variables."""


class _AnyPrefix(Mapping[str, str]):
    """Stands for the prefixes the engine is given when the query runs (the data graph's
    bindings among them), unknown here: the groups of a query do not depend on them."""

    def __getitem__(self, prefix: str) -> str:
        return f"urn:kg:prefix:{prefix}:"

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


@dataclass(frozen=True)
class PreBindable:
    """A query within the restrictions: the text the values are joined to, where, and the
    variables it names."""

    #: the query after codepoint-escape processing (the offsets are in it)
    text: str
    #: the offsets just after each '{' where the pre-bound values are joined
    group_starts: tuple[int, ...]
    variables: frozenset[str]


def read_query(query: str, prebound: Collection[str] = PREBOUND) -> PreBindable:
    """``query`` read by the parser and checked against the restrictions for the variables
    ``prebound``. Raises :class:`PreBindingError` (a text that is not SPARQL among them)."""
    try:
        inspection = inspect(query, predefined=_AnyPrefix())
    except SparqlSyntaxError as e:
        raise PreBindingError(f"the query is not SPARQL 1.1: {e}") from None
    for construct, (line, column) in inspection.constructs.items():
        if construct in _FORBIDDEN:
            raise PreBindingError(f"the query uses {_FORBIDDEN[construct]} (line {line}, "
                                  f"column {column}), which a query with pre-bound variables "
                                  f"must not; see {RESTRICTIONS}")
    for name, line, column in inspection.assigned:
        if name in prebound:
            raise PreBindingError(f"the query assigns the pre-bound variable ${name} with AS "
                                  f"(line {line}, column {column}); see {RESTRICTIONS}")
    required = sorted(set(prebound) - OPTIONAL_IN_SUBSELECTS)
    for subselect in inspection.subselects:
        for name in required:
            if name in subselect.variables:
                continue
            how = ("SELECT * there does not bind it" if subselect.star else
                   f"it selects {' '.join('?' + v for v in subselect.variables) or 'nothing'}")
            raise PreBindingError(f"a sub-select must return the pre-bound variable ${name}, "
                                  f"and {how} (line {subselect.line}, column "
                                  f"{subselect.column}); see {RESTRICTIONS}")
    starts = tuple(at for at, subselect in inspection.groups if not subselect)
    return PreBindable(inspection.text, starts, inspection.mentioned_variables)


def prebind(query: str, starts: Sequence[int], table: str) -> str:
    """``query`` with ``table`` (an inline table or pattern binding the pre-bound variables)
    written at each of ``starts`` (:attr:`PreBindable.group_starts` of that text)."""
    parts, last = [], 0
    for at in starts:
        parts += [query[last:at], " ", table, " "]
        last = at
    parts.append(query[last:])
    return "".join(parts)
