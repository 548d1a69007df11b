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
(``$shapesGraph`` and ``$currentShape`` are optional there). :func:`group_starts` checks them
and raises :class:`PreBindingError` for a query outside them.

The text is read, not parsed: strings, IRIs and comments are masked first
(:func:`kg.querytext.mask_noise`), so a keyword or a brace inside them never counts; a
prefixed name such as ``ex:VALUES`` is not a keyword. The engine's parser still decides
whether the query is valid.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from kg.querytext import mask_noise

#: the variables SHACL-SPARQL may pre-bind, and those a sub-select need not return
PREBOUND = frozenset({"this", "shapesGraph", "currentShape"})
OPTIONAL_IN_SUBSELECTS = frozenset({"shapesGraph", "currentShape"})
RESTRICTIONS = ("https://www.w3.org/TR/shacl/#pre-binding (SHACL, appendix: Pre-binding of "
                "Variables in SPARQL Queries)")

_TOKEN = re.compile(
    r"(?P<var>[?$]\w+)"
    r"|(?P<word>(?:[A-Za-z_][\w.-]*)?:[\w.:%-]*|[A-Za-z_][\w-]*)"
    r"|(?P<punct>[{}()*])")
_FORBIDDEN = {"MINUS": "MINUS", "SERVICE": "a federated query (SERVICE)", "VALUES": "VALUES"}


class PreBindingError(ValueError):
    """A query outside the restrictions SHACL puts on queries with pre-bound variables."""


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    at: int

    @property
    def keyword(self) -> str:
        """The text of a word that can be a keyword (no prefix), upper-cased, else ''."""
        return self.text.upper() if self.kind == "word" and ":" not in self.text else ""

    @property
    def variable(self) -> str:
        return self.text[1:] if self.kind == "var" else ""


def _tokens(query: str) -> list[_Token]:
    return [_Token(m.lastgroup or "", m.group(0), m.start())
            for m in _TOKEN.finditer(mask_noise(query))]


def variables(query: str) -> set[str]:
    """The names of the variables the query text mentions (outside strings, IRIs, comments)."""
    return {t.variable for t in _tokens(query) if t.kind == "var"}


def _closing(tokens: Sequence[_Token], opening: int) -> int:
    """The index of the brace that closes the one at ``opening``."""
    depth = 0
    for i in range(opening, len(tokens)):
        if tokens[i].text == "{":
            depth += 1
        elif tokens[i].text == "}":
            depth -= 1
            if depth == 0:
                return i
    raise PreBindingError("the query has an unclosed '{'")


def _in_scope(tokens: Sequence[_Token], name: str) -> bool:
    """Whether ``name`` is bound by the pattern ``tokens`` (a group): it appears outside any
    expression (parentheses) and outside ``EXISTS`` groups, so in a triple pattern."""
    parentheses, exists_until = 0, -1
    for i, token in enumerate(tokens):
        if i <= exists_until:
            continue
        if token.keyword == "EXISTS" and i + 1 < len(tokens) and tokens[i + 1].text == "{":
            exists_until = _closing(tokens, i + 1)
        elif token.text == "(":
            parentheses += 1
        elif token.text == ")":
            parentheses -= 1
        elif token.variable == name and parentheses == 0:
            return True
    return False


def _check_subselect(tokens: Sequence[_Token], select: int, end: int,
                     required: Collection[str]) -> None:
    """A sub-select (``tokens[select]`` is its SELECT, ``tokens[end]`` the brace closing it)
    must return every variable of ``required``."""
    projected: set[str] = set()
    star, parentheses, i = False, 0, select + 1
    while i < end and not (parentheses == 0 and (tokens[i].text == "{"
                                                 or tokens[i].keyword == "WHERE")):
        token = tokens[i]
        if token.text == "(":
            parentheses += 1
        elif token.text == ")":
            parentheses -= 1
        elif token.text == "*" and parentheses == 0:
            star = True
        elif token.variable and (parentheses == 0 or tokens[i - 1].keyword == "AS"):
            projected.add(token.variable)
        i += 1
    body = tokens[i:end]
    for name in sorted(required):
        if name in projected or (star and _in_scope(body, name)):
            continue
        how = ("SELECT * there does not bind it" if star
               else f"it selects {' '.join('?' + v for v in sorted(projected)) or 'nothing'}")
        raise PreBindingError(f"a sub-select must return the pre-bound variable ${name}, and "
                              f"{how}; see {RESTRICTIONS}")


def group_starts(query: str, prebound: Collection[str] = PREBOUND) -> list[int]:
    """The offsets in ``query`` just after each ``{`` that opens a group graph pattern (where
    the pre-bound values are joined), once the query is checked against the restrictions
    for the variables ``prebound``. Raises :class:`PreBindingError`."""
    tokens = _tokens(query)
    required = set(prebound) - OPTIONAL_IN_SUBSELECTS
    starts, depth = [], 0
    for i, token in enumerate(tokens):
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.keyword in _FORBIDDEN:
            raise PreBindingError(f"the query uses {_FORBIDDEN[token.keyword]}, which a query "
                                  f"with pre-bound variables must not; see {RESTRICTIONS}")
        if token.keyword == "AS" and following and following.variable in prebound:
            raise PreBindingError(f"the query assigns the pre-bound variable "
                                  f"${following.variable} (AS {following.text}); see "
                                  f"{RESTRICTIONS}")
        if token.keyword == "SELECT" and depth > 0:
            _check_subselect(tokens, i, _closing(tokens, _opening(tokens, i)), required)
        if token.text == "{":
            depth += 1
            if not (following and following.keyword == "SELECT"):
                starts.append(token.at + 1)
        elif token.text == "}":
            depth -= 1
    return starts


def _opening(tokens: Sequence[_Token], select: int) -> int:
    """The brace a sub-select is written in (``{ SELECT ... }``)."""
    if select == 0 or tokens[select - 1].text != "{":
        raise PreBindingError("a sub-select must be written as { SELECT ... }")
    return select - 1


def prebind(query: str, starts: Sequence[int], table: str) -> str:
    """``query`` with ``table`` (an inline table or pattern binding the pre-bound variables)
    written at each of ``starts`` (from :func:`group_starts`)."""
    parts, last = [], 0
    for at in starts:
        parts += [query[last:at], " ", table, " "]
        last = at
    parts.append(query[last:])
    return "".join(parts)
