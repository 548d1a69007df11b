"""What a SPARQL 1.1 text asks for, read by the grammar: query or update, its form, the
dataset it names, the SERVICE endpoints it calls, what each update operation loads or changes.

A recursive-descent parser of the whole SPARQL 1.1 Query and Update grammar
(https://www.w3.org/TR/sparql11-query/#grammar) that checks the text and builds no syntax
tree, only an :class:`Inspection`. Codepoint escapes (``\\u0053``, ``\\U00000053``) are
applied to the whole text first (§19.2), so ``SERV\\u0049CE`` is a SERVICE; the lexer
follows the grammar's terminals; the grammar notes that make a text invalid (§19.8, the
W3C negative syntax tests) are checked: no variable in INSERT DATA / DELETE DATA, no blank
node in DELETE DATA, DELETE WHERE or a DELETE template, a blank node label in one basic
graph pattern only (§19.6), BIND and ``AS`` only for new variables (§18.2.1), grouped
projection (§11.4), aggregates only in SELECT, HAVING and ORDER BY, VALUES rows as long as
their variable list, fixed arities of the built-in calls.

The work is bounded: the text is tokenized once (one compiled regular expression, linear),
its nesting is measured from the tokens and refused past ``max_depth`` before any recursion
(tokenizing stops there: a text nested 30,000 deep costs no more than one nested 129 deep),
and the descent is LL(1) over the tokens.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal, NoReturn

__all__ = [
    "Inspection",
    "PatternTerm",
    "RDF_TYPE",
    "Operation",
    "Service",
    "SparqlSyntaxError",
    "Subselect",
    "inspect",
    "inspect_cached",
]


class SparqlSyntaxError(ValueError):
    """A text that is not SPARQL 1.1, with where (in the text as sent) and what is wrong."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"line {line}, column {column}: {message}")
        self.message = message
        self.line = line
        self.column = column

    def __reduce__(self) -> tuple[type[SparqlSyntaxError], tuple[str, int, int]]:
        return type(self), (self.message, self.line, self.column)


@dataclass(frozen=True)
class Service:
    """A SERVICE call: an absolute IRI, or the name of the variable that holds the endpoint."""

    target: str
    variable: bool
    silent: bool


@dataclass(frozen=True)
class Operation:
    """One operation of an update request.

    ``graphs`` names what the operation acts on: for LOAD the source IRI, then the target
    graph if any; for CLEAR, DROP and CREATE the graph or ``DEFAULT`` / ``NAMED`` / ``ALL``;
    for ADD, MOVE and COPY the source and the target (an IRI or ``DEFAULT``); for
    INSERT DATA, DELETE DATA, DELETE WHERE and MODIFY the graphs its data or templates write:
    the IRI of each GRAPH block, ``DEFAULT`` for triples outside one (the WITH IRI in a
    MODIFY that has one) and ``?name`` for a ``GRAPH ?name`` block.
    """

    kind: str
    graphs: tuple[str, ...]
    silent: bool
    #: the offset of its first keyword in :attr:`Inspection.text` (after its prologue)
    start: int = field(default=0, compare=False)
    #: MODIFY: the offset of its WHERE, where USING clauses go (else -1)
    where: int = field(default=-1, compare=False)


@dataclass(frozen=True)
class Subselect:
    """A sub-select: the variables it returns (for ``SELECT *``, those in scope in its
    WHERE pattern, §18.2.1) and where its SELECT is written."""

    variables: tuple[str, ...]
    star: bool
    line: int
    column: int


@dataclass(frozen=True)
class PatternTerm:
    """A term of a triple pattern as written (``text``, a slice of :attr:`Inspection.text`)
    and what it names: ``?name`` for a variable, ``<IRI>`` (resolved) for an IRI or ``a``;
    ``None`` for a literal."""

    text: str
    name: str | None

    @property
    def variable(self) -> str | None:
        """The variable's name with its ``?`` if the term is one, else None."""
        return self.name if self.name is not None and self.name.startswith("?") else None


#: Inspection.where_bgp: the offsets of the WHERE pattern's content and its triple patterns
WhereBgp = tuple[int, int, tuple[tuple[PatternTerm, PatternTerm, PatternTerm], ...]]


@dataclass(frozen=True)
class Inspection:
    """What a valid SPARQL text is and what it names (IRIs resolved against BASE and prefixes)."""

    kind: Literal["query", "update"]
    form: Literal["SELECT", "ASK", "CONSTRUCT", "DESCRIBE"] | None
    base: str | None
    #: the prefixes the text declares (read-only: inspections are shared by the cache)
    prefixes: Mapping[str, str]
    #: prefixes the text uses without declaring them, taken from ``predefined``
    undeclared: tuple[str, ...]
    from_graphs: tuple[str, ...]
    from_named: tuple[str, ...]
    #: every SERVICE, in the order of the text, nested ones and those in updates too
    services: tuple[Service, ...]
    operations: tuple[Operation, ...]
    #: SELECT: the projected variables in order; SELECT * the in-scope ones (§18.2.1)
    variables: tuple[str, ...]
    select_star: bool
    #: the offsets of the ``*`` of ``SELECT *`` in :attr:`text`
    star_span: tuple[int, int] | None
    #: calls of functions named by an IRI: (IRI, line, column in the text as sent)
    functions: tuple[tuple[str, int, int], ...]
    #: the deepest nesting of ( ) { } [ ] in the text
    depth: int
    #: the text after codepoint-escape processing
    text: str
    #: updates: USING, USING NAMED and WITH IRIs
    using_graphs: tuple[str, ...] = ()
    using_named: tuple[str, ...] = ()
    with_graphs: tuple[str, ...] = ()
    #: each '{' that opens a group graph pattern (WHERE, nested groups, OPTIONAL, UNION
    #: branches, GRAPH, MINUS, SERVICE, EXISTS): the offset just after it in :attr:`text`,
    #: and whether a sub-select fills the group
    groups: tuple[tuple[int, bool], ...] = ()
    #: MINUS, VALUES (inline or after a query), SERVICE and BIND where the text first uses
    #: them: (line, column in the text as sent)
    constructs: Mapping[str, tuple[int, int]] = field(
        default_factory=lambda: _NO_CONSTRUCTS)
    #: variables given a value by BIND (... AS ?v) or (... AS ?v) in SELECT and GROUP BY,
    #: with where each is named (line, column)
    assigned: tuple[tuple[str, int, int], ...] = ()
    subselects: tuple[Subselect, ...] = ()
    #: the variables of the top-level ORDER BY in order (None: the solutions are unordered)
    order_by: tuple[str, ...] | None = None
    #: a query whose cost is bounded by what its constants name: every triple pattern has
    #: an IRI or a literal as its subject or its object (no pattern ranges over the whole
    #: store), no path repeats (``*``, ``+``), no sub-select, no SERVICE, and no value
    #: computed by BIND or ``(... AS ?v)``; or a DESCRIBE of IRIs alone. Servers may give
    #: such lookups a lane of their own (:mod:`kg.served`)
    lookup: bool = False
    #: a query whose WHERE pattern is one basic graph pattern and nothing else (no FILTER,
    #: OPTIONAL, nested group, path, blank node or list): the offsets in :attr:`text` of its
    #: content (after its '{', at its '}') and its triple patterns in order; else None
    where_bgp: WhereBgp | None = None

    @property
    def mentioned_variables(self) -> frozenset[str]:
        """The names of every variable the text writes (outside strings, IRIs and comments)."""
        return frozenset(m["VAR"][1:] for m in _TOKEN.finditer(self.text) if m["VAR"])

    @property
    def has_dataset_clause(self) -> bool:
        """Whether the text names its own dataset (FROM / FROM NAMED, or USING / USING NAMED /
        WITH in an update): the clauses the protocol's graph parameters may not be added to."""
        return bool(self.from_graphs or self.from_named or self.using_graphs
                    or self.using_named or self.with_graphs)


# ---------------------------------------------------------------------------------------------
# Codepoint escapes (§19.2): applied once to the whole text, before tokenizing

_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


class _Positions:
    """Maps an offset in the unescaped text to its line and column in the text as sent."""

    def __init__(self, original: str, escapes: list[tuple[int, int, int]]) -> None:
        self.original = original
        # (offset in the unescaped text, offset in the original, length in the original)
        self.escapes = escapes
        self.unescaped_offsets = [e[0] for e in escapes]

    def original_offset(self, offset: int) -> int:
        k = bisect_right(self.unescaped_offsets, offset) - 1
        if k < 0:
            return offset
        at, original_at, length = self.escapes[k]
        return original_at if offset == at else original_at + length + offset - at - 1

    def line_column(self, offset: int) -> tuple[int, int]:
        offset = self.original_offset(offset)
        text = self.original
        line_start = text.rfind("\n", 0, offset) + 1
        return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _unescape(text: str) -> tuple[str, _Positions]:
    if "\\u" not in text and "\\U" not in text:
        return text, _Positions(text, [])
    pieces: list[str] = []
    escapes: list[tuple[int, int, int]] = []
    last = 0
    length = 0
    for m in _CODEPOINT.finditer(text):
        codepoint = int(m.group(1) or m.group(2), 16)
        if 0xD800 <= codepoint <= 0xDFFF or codepoint > 0x10FFFF:
            positions = _Positions(text, escapes)
            line, column = positions.line_column(length + m.start() - last)
            what = ("is half of a UTF-16 surrogate pair: write the character itself or "
                    "its \\U00XXXXXX escape" if codepoint <= 0xDFFF
                    else "is beyond the last Unicode character U+10FFFF")
            raise SparqlSyntaxError(f"the escape {m.group(0)} {what}", line, column)
        pieces.append(text[last:m.start()])
        length += m.start() - last
        escapes.append((length, m.start(), m.end() - m.start()))
        pieces.append(chr(codepoint))
        length += 1
        last = m.end()
    pieces.append(text[last:])
    return "".join(pieces), _Positions(text, escapes)


# ---------------------------------------------------------------------------------------------
# Terminals (§19.8, productions 139-173) and the lexer

_PN_CHARS_BASE = ("A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF"
                  "\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF"
                  "\uFDF0-\uFFFD\U00010000-\U000EFFFF")
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_VARNAME_CHARS = _PN_CHARS_U + "0-9\u00B7\u0300-\u036F\u203F-\u2040"
_PN_CHARS = _VARNAME_CHARS + "\\-"
_PN_PREFIX = f"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_LOCAL = (f"(?:[{_PN_CHARS_U}:0-9]|{_PLX})"
             f"(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?")
_ECHAR = r"""\\[tbnrf\\"']"""
_EXPONENT = r"[eE][+-]?[0-9]+"
_DOUBLE = rf"[0-9]+\.[0-9]*{_EXPONENT}|\.[0-9]+{_EXPONENT}|[0-9]+{_EXPONENT}"
_UNSIGNED = rf"{_DOUBLE}|[0-9]*\.[0-9]+|[0-9]+"
_WS = "[ \t\r\n]"

# One alternative per terminal. The order gives the grammar's longest match where two
# terminals can start alike (IRIREF before '<', NIL before '(', a signed number before '+',
# a variable before '?', a prefixed name before a keyword) and otherwise puts the frequent
# ones first. Whitespace and comments before a token are skipped by the possessive prefix.
_TOKEN = re.compile(
    rf"(?:{_WS}++|#[^\r\n]*+)*+(?:"
    r"(?P<PUNCT>\^\^|&&|\|\||!=|[{})\];,*/=|!^])"  # punctuation that starts no other token
    rf"|(?P<VAR>[?$][{_PN_CHARS_U}0-9][{_VARNAME_CHARS}]*)"
    rf"|(?P<PNAME>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)"
    r"|(?P<WORD>[A-Za-z][A-Za-z0-9_]*)"
    r"|(?P<IRIREF><[^<>\"{}|^`\\\x00-\x20]*>)"
    rf"|(?P<STRING>'''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}))*'''"
    rf'|"""(?:(?:"|"")?(?:[^"\\]|{_ECHAR}))*"""'
    rf"|'(?:[^'\\\n\r]|{_ECHAR})*'"
    rf'|"(?:[^"\\\n\r]|{_ECHAR})*")'
    rf"|(?P<BLANK_NODE_LABEL>_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)"
    rf"|(?P<SIGNED>[+-](?:{_UNSIGNED}))"
    rf"|(?P<DOUBLE>{_DOUBLE})"
    r"|(?P<DECIMAL>[0-9]*\.[0-9]+)"
    r"|(?P<INTEGER>[0-9]+)"
    r"|(?P<LANGTAG>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*)"
    rf"|(?P<NIL>\({_WS}*\))"
    rf"|(?P<ANON>\[{_WS}*\])"
    r"|(?P<OPERATOR><=|>=|[(\[.+\-<>?])"  # punctuation that may start a longer token
    r"|(?P<EOF>\Z)"
    r"|(?P<ERROR>.))",
    re.S,
)

_BUILTIN_NAMES = (
    "STR LANG LANGMATCHES DATATYPE BOUND IRI URI BNODE RAND ABS CEIL FLOOR ROUND CONCAT "
    "SUBSTR STRLEN REPLACE UCASE LCASE ENCODE_FOR_URI CONTAINS STRSTARTS STRENDS STRBEFORE "
    "STRAFTER YEAR MONTH DAY HOURS MINUTES SECONDS TIMEZONE TZ NOW UUID STRUUID MD5 SHA1 "
    "SHA256 SHA384 SHA512 COALESCE IF STRLANG STRDT sameTerm isIRI isURI isBLANK isLITERAL "
    "isNUMERIC REGEX EXISTS NOT"
).split()
_AGGREGATE_NAMES = ("COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT")
#: how the specification spells each built-in, by its token kind
_SPELLING = {name.upper(): name for name in (*_BUILTIN_NAMES, *_AGGREGATE_NAMES)}
_KEYWORDS = frozenset((
    "BASE PREFIX SELECT DISTINCT REDUCED AS CONSTRUCT WHERE DESCRIBE ASK FROM NAMED GROUP BY "
    "HAVING ORDER ASC DESC LIMIT OFFSET VALUES LOAD SILENT INTO CLEAR DROP CREATE ADD TO MOVE "
    "COPY INSERT DATA DELETE WITH USING DEFAULT GRAPH ALL OPTIONAL SERVICE BIND UNDEF MINUS "
    "UNION FILTER IN SEPARATOR TRUE FALSE"
).split()) | _SPELLING.keys()
# keywords that may begin a word written without a space before a number ("LIMIT10")
_KEYWORDS_BY_LENGTH = sorted(_KEYWORDS, key=len, reverse=True)

_OPEN = {"(": ")", "{": "}", "[": "]"}
_CLOSE = frozenset(_OPEN.values())


class _Tokens:
    """The token stream: parallel lists of kinds, values and start offsets, ending in EOF.

    A kind is the terminal's name (IRIREF, PNAME, VAR, STRING, ...), the upper-cased keyword,
    ``a``, or the punctuation itself. An ERROR token, the last before EOF, carries the
    lexer's diagnosis as its value.
    """

    __slots__ = ("kinds", "values", "starts", "depth", "too_deep_at")

    def __init__(self, text: str, max_depth: int) -> None:
        kinds: list[str] = []
        values: list[str] = []
        starts: list[int] = []
        depth = max_seen = 0
        too_deep_at = -1
        for m in _TOKEN.finditer(text):
            kind = m.lastgroup
            assert kind is not None  # every alternative of _TOKEN is a named group
            value = m[kind]
            start = m.end() - len(value)
            if kind == "PUNCT" or kind == "OPERATOR":
                kind = value
                if kind in _OPEN:
                    depth += 1
                    if depth > max_seen:
                        max_seen = depth
                        if depth > max_depth:
                            too_deep_at = len(kinds)
                elif kind in _CLOSE and depth:
                    depth -= 1
            elif kind == "WORD":
                if value == "a":
                    kind = "a"
                else:
                    kind = value.upper()
                    if kind not in _KEYWORDS:
                        keyword = _keyword_before_number(kind)
                        if keyword:  # "LIMIT10": the keyword, then the number
                            kinds.append(keyword)
                            values.append(value[:len(keyword)])
                            starts.append(start)
                            start += len(keyword)
                            value = value[len(keyword):]
                            kind = "INTEGER" if value.isdigit() else "WORD"
                        else:
                            kind = "WORD"
            elif kind == "NIL" or kind == "ANON":
                if depth + 1 > max_seen:
                    max_seen = depth + 1
                    if max_seen > max_depth:
                        too_deep_at = len(kinds)
            elif kind == "EOF":
                break
            elif kind == "ERROR":
                kinds.append("ERROR")
                values.append(_diagnose(text, start))
                starts.append(start)
                break
            kinds.append(kind)
            values.append(value)
            starts.append(start)
            if too_deep_at >= 0:
                break
        kinds.append("EOF")
        values.append("")
        starts.append(len(text))
        self.kinds = kinds
        self.values = values
        self.starts = starts
        self.depth = max_seen
        self.too_deep_at = too_deep_at


def _keyword_before_number(word: str) -> str | None:
    for keyword in _KEYWORDS_BY_LENGTH:
        if word.startswith(keyword) and word[len(keyword)].isdigit():
            return keyword
    return None


_LOCAL_ESCAPES = "_~.-!$&'()*+,;=/?#@%"
_STRING_ESCAPES = frozenset("tbnrf\\\"'")


def _diagnose_string(text: str, at: int) -> str:
    """Why the string starting at ``at`` is not a STRING_LITERAL (156-160)."""
    quote = text[at]
    long = text.startswith(quote * 3, at)
    k = at + (3 if long else 1)
    while k < len(text):
        char = text[k]
        if char == "\\":
            if text[k + 1:k + 2] not in _STRING_ESCAPES:
                return (f"\\{text[k + 1:k + 2]} is not an escape SPARQL knows in a string "
                        "(\\t \\b \\n \\r \\f \\\" \\' \\\\)")
            k += 2
            continue
        if char in "\r\n" and not long:
            break
        k += 1
    if long:
        return f"the string that starts here is never closed by {quote * 3}"
    return (f"the string that starts here is not closed by {quote} on the same line "
            f"(a string over several lines is written {quote * 3}...{quote * 3})")


def _diagnose(text: str, at: int) -> str:
    """Why no terminal matches at ``at``, in the user's terms."""
    char = text[at]
    rest = text[at + 1:at + 2]
    if char in "\"'":
        return _diagnose_string(text, at)
    if char == "\\":
        if rest and rest in _LOCAL_ESCAPES:
            return f"\\{rest} is allowed only inside a prefixed name or a string"
        return (f"\\{rest} is not allowed here: after a backslash a prefixed name allows only "
                f"one of {_LOCAL_ESCAPES}, and a string \\t \\b \\n \\r \\f \\\" \\' \\\\")
    if char in "?$":
        return f"{char} must be followed by a variable name, as in {char}name"
    if char == "_":
        return "_: must be followed by a blank node label, as in _:b1"
    if char == "@":
        return "@ must follow a string and start a language tag, as in \"chat\"@fr"
    if char.isprintable() and not char.isspace():
        return f"unexpected character {char!r}"
    return f"unexpected character U+{ord(char):04X}"


# ---------------------------------------------------------------------------------------------
# IRI resolution (RFC 3986 §5.2), for the IRIs an inspection reports

_IRI_PARTS = re.compile(r"(?:([A-Za-z][A-Za-z0-9+.\-]*):)?(?://([^/?#]*))?([^?#]*)"
                        r"(?:\?([^#]*))?(?:#(.*))?", re.S)


def _remove_dot_segments(path: str) -> str:
    if "." not in path:
        return path
    output: list[str] = []
    segments = path.split("/")
    for k, segment in enumerate(segments):
        last = k == len(segments) - 1
        if segment == ".":
            if last:
                output.append("")
        elif segment == "..":
            if len(output) > 1 or (output and output[0] != ""):
                output.pop()
            if last:
                output.append("")
        else:
            output.append(segment)
    return "/".join(output)


def _resolve(base: str | None, reference: str) -> str:
    if base is None:
        return reference
    match = _IRI_PARTS.fullmatch(reference)
    if match is None or match.group(1):
        return reference
    base_match = _IRI_PARTS.fullmatch(base)
    if base_match is None:
        return reference
    scheme, authority, path, query, fragment = base_match.groups()
    _, r_authority, r_path, r_query, r_fragment = match.groups()
    if r_authority is not None:
        authority, path, query = r_authority, _remove_dot_segments(r_path), r_query
    elif r_path == "":
        if r_query is not None:
            query = r_query
    else:
        if r_path.startswith("/"):
            path = _remove_dot_segments(r_path)
        else:
            if authority is not None and path == "":
                merged = "/" + r_path
            else:
                merged = path[:path.rfind("/") + 1] + r_path
            path = _remove_dot_segments(merged)
        query = r_query
    return (f"{scheme + ':' if scheme else ''}{'//' + authority if authority is not None else ''}"
            f"{path}{'?' + query if query is not None else ''}"
            f"{'#' + r_fragment if r_fragment is not None else ''}")


# ---------------------------------------------------------------------------------------------
# Token classes the productions branch on

_IRI = frozenset(("IRIREF", "PNAME"))
_NUMBERS = frozenset(("INTEGER", "DECIMAL", "DOUBLE", "SIGNED"))
_LITERALS = _NUMBERS | {"STRING", "TRUE", "FALSE"}
#: VarOrTerm (106)
_TERMS = _IRI | _LITERALS | {"VAR", "BLANK_NODE_LABEL", "NIL", "ANON"}
#: what can begin TriplesSameSubject(Path) (75, 81)
_TRIPLES_START = _TERMS | {"(", "["}
_VERB_START = _IRI | {"VAR", "a"}
_PATH_START = _IRI | {"VAR", "a", "^", "!", "("}
_QUERY_FORMS = frozenset(("SELECT", "CONSTRUCT", "DESCRIBE", "ASK"))
_RELATIONAL = frozenset(("=", "!=", "<", ">", "<=", ">="))
_BINARY = frozenset(("||", "&&", "+", "-", "*", "/"))
_DATA_BLOCK_VALUES = _IRI | _LITERALS | {"UNDEF"}
_BLANK = frozenset(("BLANK_NODE_LABEL", "ANON", "(", "["))
#: the terms of a triple pattern that name one node (not a variable or a blank node)
_CONSTANTS = _IRI | _LITERALS | {"NIL"}

#: built-in calls (121) and how many arguments each takes (at least, at most; None: any)
_ARITY: dict[str, tuple[int, int | None]] = {
    "STR": (1, 1), "LANG": (1, 1), "LANGMATCHES": (2, 2), "DATATYPE": (1, 1),
    "IRI": (1, 1), "URI": (1, 1), "BNODE": (0, 1), "RAND": (0, 0), "ABS": (1, 1),
    "CEIL": (1, 1), "FLOOR": (1, 1), "ROUND": (1, 1), "CONCAT": (0, None),
    "SUBSTR": (2, 3), "STRLEN": (1, 1), "REPLACE": (3, 4), "UCASE": (1, 1), "LCASE": (1, 1),
    "ENCODE_FOR_URI": (1, 1), "CONTAINS": (2, 2), "STRSTARTS": (2, 2), "STRENDS": (2, 2),
    "STRBEFORE": (2, 2), "STRAFTER": (2, 2), "YEAR": (1, 1), "MONTH": (1, 1), "DAY": (1, 1),
    "HOURS": (1, 1), "MINUTES": (1, 1), "SECONDS": (1, 1), "TIMEZONE": (1, 1), "TZ": (1, 1),
    "NOW": (0, 0), "UUID": (0, 0), "STRUUID": (0, 0), "MD5": (1, 1), "SHA1": (1, 1),
    "SHA256": (1, 1), "SHA384": (1, 1), "SHA512": (1, 1), "COALESCE": (0, None),
    "IF": (3, 3), "STRLANG": (2, 2), "STRDT": (2, 2), "SAMETERM": (2, 2), "ISIRI": (1, 1),
    "ISURI": (1, 1), "ISBLANK": (1, 1), "ISLITERAL": (1, 1), "ISNUMERIC": (1, 1),
    "REGEX": (2, 3),
}
_AGGREGATES = frozenset(_AGGREGATE_NAMES)
_BUILTINS = frozenset(_ARITY) | _AGGREGATES | {"BOUND", "EXISTS", "NOT"}
_CONSTRAINT_START = _BUILTINS | _IRI | {"("}


def _arity_text(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low} argument{'s' if low != 1 else ''}"
    if high == 0:
        return "no arguments"
    if low == high:
        return f"{low} argument{'s' if low != 1 else ''}"
    return f"{low} or {high} argument{'s' if high != 1 else ''}"


class _Select:
    """A SELECT clause while the rest of its query is read: what it projects, and where."""

    __slots__ = ("star", "items")

    def __init__(self) -> None:
        #: the token index of ``*`` in SELECT *, else -1
        self.star = -1
        #: (variable, its token index, the variables its expression uses outside aggregates,
        #: or None for a plain variable)
        self.items: list[tuple[str, int, list[tuple[str, int]] | None]] = []


# ---------------------------------------------------------------------------------------------
# The parser: one method per production, grouped as §19.8 groups them


class _Parser:
    def __init__(self, tokens: _Tokens, positions: _Positions,
                 predefined: Mapping[str, str]) -> None:
        self.kinds = tokens.kinds
        self.values = tokens.values
        self.starts = tokens.starts
        self.positions = positions
        self.i = 0
        self.predefined = predefined
        self.unit = "query"
        # the prologue
        self.base: str | None = None
        self.prefixes: dict[str, str] = {}
        self.undeclared: dict[str, None] = {}
        # what the inspection reports
        self.form: str | None = None
        self.from_graphs: list[str] = []
        self.from_named: list[str] = []
        self.services: list[Service] = []
        self.operations: list[Operation] = []
        self.using_graphs: list[str] = []
        self.using_named: list[str] = []
        self.with_graphs: list[str] = []
        self.functions: list[tuple[str, int]] = []
        self.variables: list[str] = []
        self.star = -1
        self.groups: list[tuple[int, bool]] = []
        #: construct -> the token index of its first use
        self.constructs: dict[str, int] = {}
        #: (variable, token index) of each BIND / AS target
        self.assigned: list[tuple[str, int]] = []
        #: (variables, star, token index of SELECT) of each sub-select
        self.subselects: list[tuple[tuple[str, ...], bool, int]] = []
        self.order_by: list[str] | None = None
        # the shape of the patterns (Inspection.lookup): triple patterns read, those with a
        # variable or blank node at both ends, whether a path repeats; the CONSTRUCT
        # template is not a pattern
        self.triples = 0
        self.open_triples = 0
        self.repeated_path = False
        self.in_template = False
        self.describes_iris = False
        # the top-level WHERE pattern (Inspection.where_bgp): the token index of its '{',
        # and its triple patterns as token ranges while it is one basic graph pattern
        self.where_open = -1
        self.where_close = -1
        self.where_triples: list[tuple[int, int, int, int, int, int]] | None = None
        # graph patterns: in-scope variables of the group being read, blank node labels by
        # the basic graph pattern that owns them, and what the context forbids
        self.scope: dict[str, None] = {}
        self.labels: dict[str, tuple[int, int]] = {}
        self.bgp = 0
        self.bgps = 0
        self.no_variables = ""
        self.no_blank_nodes = ""
        #: graphs written by the update operation being read
        self.written: dict[str, None] | None = None
        self.default_graph = "DEFAULT"
        self.operation_start = 0
        self.modify_where = -1
        # expressions
        self.aggregates_allowed = False
        self.aggregate_seen = False
        self.in_aggregate = False
        self.expression_vars: list[tuple[str, int]] | None = None

    # --- errors --------------------------------------------------------------------------

    def _error(self, i: int, message: str) -> SparqlSyntaxError:
        line, column = self.positions.line_column(self.starts[i])
        return SparqlSyntaxError(message, line, column)

    def _at(self, i: int) -> str:
        line, column = self.positions.line_column(self.starts[i])
        return f"line {line}, column {column}"

    def _fail(self, expected: str, i: int | None = None) -> NoReturn:
        if i is None:
            i = self.i
        kind = self.kinds[i]
        value = self.values[i]
        if kind == "ERROR":
            raise self._error(i, value)
        if kind == "EOF":
            raise self._error(i, f"unexpected end of the {self.unit}: expected {expected}")
        if kind == "WORD":
            hint = ("the keyword a is written in lower case" if value == "A" else
                    f"a prefixed name needs a colon ({value}:name), a variable a ? (?{value})")
            raise self._error(i, f"expected {expected}, found '{value}', which is not a "
                                 f"SPARQL keyword ({hint})")
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise self._error(i, f"expected {expected}, found '{shown}'")

    def _expect(self, kind: str, expected: str) -> int:
        i = self.i
        if self.kinds[i] != kind:
            self._fail(expected)
        self.i = i + 1
        return i

    def _close(self, kind: str, opened: int, what: str) -> None:
        if self.kinds[self.i] != kind:
            self._fail(f"'{kind}' to close the {what} opened at {self._at(opened)}")
        self.i += 1

    # --- terms (106-109, 128-138) --------------------------------------------------------

    def _namespace(self, i: int) -> str:
        value = self.values[i]
        prefix = value[:value.index(":")]
        namespace = self.prefixes.get(prefix)
        if namespace is None:
            namespace = self.predefined.get(prefix)
            if namespace is None:
                raise self._error(i, f"prefix {prefix}: is not declared "
                                     f"(declare it with PREFIX {prefix}: <...>)")
            self.undeclared[prefix] = None
        return namespace

    def _iri_value(self, i: int) -> str:
        """The absolute IRI of the IRIREF or prefixed name at token ``i``."""
        value = self.values[i]
        if self.kinds[i] == "IRIREF":
            return _resolve(self.base, value[1:-1])
        local = value[value.index(":") + 1:]
        if "\\" in local:
            local = re.sub(r"\\(.)", r"\1", local)
        return self._namespace(i) + local

    def _iri(self, expected: str) -> str:
        i = self.i
        if self.kinds[i] not in _IRI:
            self._fail(expected)
        self.i = i + 1
        return self._iri_value(i)

    def _pattern_var(self, i: int) -> None:
        if self.no_variables:
            instead = ("INSERT { ... } WHERE { ... }" if self.no_variables == "INSERT DATA"
                       else "DELETE WHERE { ... }")
            raise self._error(i, f"{self.no_variables} cannot contain variables "
                                 f"({self.values[i]}): use {instead} to work with variables")
        self.scope[self.values[i][1:]] = None

    def _blank_node(self, i: int) -> None:
        if self.no_blank_nodes:
            shown = {"(": "a list ( ... )", "[": "[ ... ]"}.get(self.values[i], self.values[i])
            instead = ("name the node by its IRI" if self.no_blank_nodes == "DELETE DATA"
                       else "use a variable")
            raise self._error(i, f"{self.no_blank_nodes} cannot contain blank nodes "
                                 f"({shown}): a blank node never matches the store's nodes; "
                                 f"{instead}")

    def _label(self, i: int) -> None:
        self._blank_node(i)
        label = self.values[i][2:]
        owner = self.labels.get(label)
        if owner is None:
            self.labels[label] = (self.bgp, i)
        elif owner[0] != self.bgp:
            raise self._error(i, f"the blank node _:{label} is already used in another basic "
                                 f"graph pattern (at {self._at(owner[1])}); a blank node "
                                 f"label stands for one node of one basic graph pattern: "
                                 f"use a variable such as ?{label} to join patterns")

    def _term(self) -> None:
        """VarOrTerm or DataBlockValue, the current token known to be one."""
        i = self.i
        kind = self.kinds[i]
        self.i = i + 1
        if kind == "VAR":
            self._pattern_var(i)
        elif kind == "PNAME":
            self._namespace(i)
        elif kind == "STRING":
            self._literal_end()
        elif kind == "BLANK_NODE_LABEL":
            self._label(i)
        elif kind == "ANON":
            self._blank_node(i)

    def _literal_end(self) -> None:
        """The language tag or datatype after a string (129)."""
        kind = self.kinds[self.i]
        if kind == "LANGTAG":
            self.i += 1
        elif kind == "^^":
            self.i += 1
            self._iri("a datatype IRI after ^^")

    def _var_or_iri(self, expected: str) -> tuple[str, bool]:
        """VarOrIri (107) as (IRI or variable name, whether a variable)."""
        i = self.i
        if self.kinds[i] == "VAR":
            self.i = i + 1
            self._pattern_var(i)
            return self.values[i][1:], True
        return self._iri(expected), False

    # --- prologue (4-6) ------------------------------------------------------------------

    def _prologue(self) -> None:
        kinds = self.kinds
        while True:
            kind = kinds[self.i]
            if kind == "BASE":
                self.i += 1
                i = self._expect("IRIREF", "an IRI in <...> after BASE")
                self.base = _resolve(self.base, self.values[i][1:-1])
            elif kind == "PREFIX":
                self.i += 1
                i = self.i
                value = self.values[i]
                if kinds[i] != "PNAME" or value.index(":") != len(value) - 1:
                    self._fail("a prefix name ending in a colon, such as ex:, after PREFIX")
                self.i += 1
                iri = self._expect("IRIREF", f"an IRI in <...> after PREFIX {value}")
                self.prefixes[value[:-1]] = _resolve(self.base, self.values[iri][1:-1])
            else:
                return

    # --- queries (1-28) ------------------------------------------------------------------

    def _query(self) -> None:
        kind = self.kinds[self.i]
        self.form = kind
        if kind == "SELECT":
            select = self._select_query(subquery=False)
            self.star = select.star
        elif kind == "CONSTRUCT":
            self._construct_query()
        elif kind == "DESCRIBE":
            self._describe_query()
        else:
            self.i += 1
            self._dataset_clauses()
            self._where_clause()
            self._solution_modifier(top=True)
        if self.kinds[self.i] == "VALUES":
            self.constructs.setdefault("VALUES", self.i)
            self.i += 1
            values = self._data_block()
            if self.form == "SELECT" and self.star >= 0:
                self.variables.extend(v for v in values if v not in self.variables)
        if self.kinds[self.i] != "EOF":
            self._fail("the end of the query")

    def _select_query(self, subquery: bool) -> _Select:
        """SelectQuery (7) or SubSelect (8): sets the in-scope variables it gives to ``scope``."""
        saved = (self.aggregates_allowed, self.aggregate_seen, self.in_aggregate,
                 self.expression_vars)
        select_at = self.i
        select = self._select_clause()
        if not subquery:
            self._dataset_clauses()
        where = self._where_clause()
        grouped_by = self._solution_modifier(top=not subquery)
        self._check_projection(select, where, grouped_by)
        if select.star >= 0:
            projected = where
        else:
            projected = dict.fromkeys(item[0] for item in select.items)
        if subquery and self.kinds[self.i] == "VALUES":
            self.constructs.setdefault("VALUES", self.i)
            self.i += 1
            values = self._data_block()
            if select.star >= 0:
                projected.update(values)
        if subquery:
            self.subselects.append((tuple(projected), select.star >= 0, select_at))
        else:
            self.variables = list(projected)
        self.scope.update(projected)
        (self.aggregates_allowed, self.aggregate_seen, self.in_aggregate,
         self.expression_vars) = saved
        return select

    def _select_clause(self) -> _Select:
        kinds = self.kinds
        select = _Select()
        self.i += 1
        if kinds[self.i] in ("DISTINCT", "REDUCED"):
            self.i += 1
        self.aggregate_seen = False
        if kinds[self.i] == "*":
            select.star = self.i
            self.i += 1
            return select
        projected: dict[str, int] = {}
        while True:
            i = self.i
            kind = kinds[i]
            used: list[tuple[str, int]] | None
            if kind == "VAR":
                self.i += 1
                variable, used = i, None
            elif kind == "(":
                self.i += 1
                self.aggregates_allowed = True
                self.in_aggregate = False
                self.expression_vars = used = []
                self._expression()
                self.expression_vars = None
                self.aggregates_allowed = False
                if kinds[self.i] != "AS":
                    self._fail("AS and a variable: an expression in SELECT is named, as in "
                               "(expression AS ?name)")
                self.i += 1
                variable = self._expect("VAR", "a variable after AS")
                self.assigned.append((self.values[variable][1:], variable))
                self._close(")", i, "parenthesis")
            elif not select.items:
                hint = (f" (an aggregate in SELECT is named: ({kind}(...) AS ?name))"
                        if kind in _AGGREGATES else "")
                self._fail(f"a variable, (expression AS ?name) or * after SELECT{hint}")
            else:
                return select
            name = self.values[variable][1:]
            if name in projected:
                raise self._error(variable, f"?{name} is projected twice in this SELECT "
                                            f"(first at {self._at(projected[name])})")
            projected[name] = variable
            select.items.append((name, variable, used))

    def _check_projection(self, select: _Select, where: dict[str, None],
                          grouped_by: set[str] | None) -> None:
        """The projection rules: AS names a new variable (§19.8 note 12), and a grouped
        query projects only what it groups by or aggregates (§11.4, §18.2.4.1).

        After grouping only the group keys are in scope, so there AS may reuse a name the
        WHERE pattern binds but not a key: ``(COUNT(?s) AS ?s)`` is allowed.
        """
        grouped = grouped_by is not None or self.aggregate_seen
        in_scope = grouped_by or () if grouped else where
        for name, i, used in select.items:
            if used is not None and name in in_scope:
                raise self._error(i, f"?{name} is already bound in the "
                                     f"{'GROUP BY' if grouped else 'WHERE pattern'}: "
                                     "(expression AS ?name) must name a new variable")
        if not grouped:
            return
        if select.star >= 0:
            raise self._error(select.star, "SELECT * cannot be used with GROUP BY or "
                                           "aggregates: list the grouped variables and the "
                                           "aggregates to project")
        allowed = set(grouped_by or ())
        for name, i, used in select.items:
            for variable, at in used if used is not None else ((name, i),):
                if variable not in allowed:
                    raise self._error(at, f"?{variable} is neither grouped nor aggregated: "
                                          "add it to GROUP BY, or project an aggregate of it "
                                          f"such as (SAMPLE(?{variable}) AS ?any)")
            allowed.add(name)

    def _construct_query(self) -> None:
        kinds = self.kinds
        self.i += 1
        if kinds[self.i] == "{":
            opened = self.i
            self.i += 1
            labels, bgp, scope = self.labels, self.bgp, self.scope
            self.labels, self.scope = {}, {}
            self.bgp = self._new_bgp()
            self.in_template = True
            self._triples_template(opened, "template")
            self.in_template = False
            self.labels, self.bgp, self.scope = labels, bgp, scope
            self._dataset_clauses()
            self._where_clause()
        else:
            self._dataset_clauses()
            self._expect("WHERE", "a template { ... } or WHERE after CONSTRUCT")
            opened = self._expect("{", "'{' after CONSTRUCT WHERE")
            self.bgp = self._new_bgp()
            self._triples_template(opened, "pattern")
        self._solution_modifier(top=True)

    def _describe_query(self) -> None:
        kinds = self.kinds
        self.i += 1
        if kinds[self.i] == "*":
            self.i += 1
        else:
            variables = self._var_or_iri("a variable, an IRI or * after DESCRIBE")[1]
            while kinds[self.i] in _VERB_START and kinds[self.i] != "a":
                variables |= self._var_or_iri("a variable or an IRI")[1]
            self.describes_iris = not variables
        self._dataset_clauses()
        if kinds[self.i] in ("WHERE", "{"):
            self.describes_iris = False
            self._where_clause()
        self._solution_modifier(top=True)

    def _dataset_clauses(self) -> None:
        """DatasetClause* (13-16)."""
        while self.kinds[self.i] == "FROM":
            self.i += 1
            if self.kinds[self.i] == "NAMED":
                self.i += 1
                self.from_named.append(self._iri("a graph IRI after FROM NAMED"))
            else:
                self.from_graphs.append(self._iri("a graph IRI or NAMED after FROM"))

    def _where_clause(self) -> dict[str, None]:
        if self.kinds[self.i] == "WHERE":
            self.i += 1
        if self.kinds[self.i] != "{":
            self._fail("'{' to open the WHERE pattern")
        if self.where_open < 0:
            self.where_open = self.i
        return self._group()

    def _solution_modifier(self, top: bool) -> set[str] | None:
        """SolutionModifier (18-27): the GROUP BY keys (None without GROUP BY); ``top``: of
        the query itself, whose ORDER BY orders the answer."""
        kinds = self.kinds
        keys: set[str] | None = None
        if kinds[self.i] == "GROUP":
            self.i += 1
            self._expect("BY", "BY after GROUP")
            keys = set()
            conditions = 0
            while True:
                i = self.i
                kind = kinds[i]
                if kind == "VAR":
                    self.i += 1
                    keys.add(self.values[i][1:])
                elif kind == "(":
                    if kinds[i + 1] == "VAR" and kinds[i + 2] == ")":  # (?x) groups by ?x
                        keys.add(self.values[i + 1][1:])
                    self.i += 1
                    self._expression()
                    if kinds[self.i] == "AS":
                        self.i += 1
                        named = self._expect("VAR", "a variable after AS")
                        keys.add(self.values[named][1:])
                        self.assigned.append((self.values[named][1:], named))
                    self._close(")", i, "parenthesis")
                elif kind in _BUILTINS:
                    self._builtin_call()
                elif kind in _IRI:
                    self._iri_or_function(call=True)
                elif conditions:
                    break
                else:
                    self._fail("a variable or an expression after GROUP BY")
                conditions += 1
        if kinds[self.i] == "HAVING":
            self.i += 1
            self.aggregates_allowed = True
            self._constraint("a condition after HAVING")
            while kinds[self.i] in _CONSTRAINT_START:
                self._constraint("a condition")
            self.aggregates_allowed = False
        if kinds[self.i] == "ORDER":
            self.i += 1
            self._expect("BY", "BY after ORDER")
            self.aggregates_allowed = True
            first = self.i
            self._order_condition("an ordering condition after ORDER BY")
            while kinds[self.i] in _CONSTRAINT_START or kinds[self.i] in (
                    "VAR", "ASC", "DESC"):
                self._order_condition("an ordering condition")
            self.aggregates_allowed = False
            if top:
                self.order_by = list(dict.fromkeys(
                    self.values[k][1:] for k in range(first, self.i) if kinds[k] == "VAR"))
        limits: set[str] = set()  # LIMIT and OFFSET, each once, in either order (25)
        while (clause := kinds[self.i]) in ("LIMIT", "OFFSET") and clause not in limits:
            limits.add(clause)
            self.i += 1
            self._expect("INTEGER", f"a whole number after {clause}")
        return keys

    def _order_condition(self, expected: str) -> None:
        kind = self.kinds[self.i]
        if kind in ("ASC", "DESC"):
            self.i += 1
            if self.kinds[self.i] != "(":
                self._fail(f"'(' and an expression after {kind}")
            self._bracketted()
        elif kind == "VAR":
            self.i += 1
        else:
            self._constraint(expected)

    def _data_block(self) -> dict[str, None]:
        """DataBlock (62-65): its variables."""
        kinds = self.kinds
        i = self.i
        if kinds[i] == "VAR":
            self.i += 1
            variables = {self.values[i][1:]: None}
            opened = self._expect("{", f"'{{' and the values of {self.values[i]}")
            while kinds[self.i] in _DATA_BLOCK_VALUES:
                self._term()  # a DataBlockValue (65)
            self._close("}", opened, "VALUES block")
            return variables
        variables = {}
        if kinds[i] == "NIL":
            self.i += 1
        elif kinds[i] == "(":
            self.i += 1
            while kinds[self.i] == "VAR":
                name = self.values[self.i][1:]
                if name in variables:
                    raise self._error(self.i, f"?{name} appears twice in this VALUES list")
                variables[name] = None
                self.i += 1
            self._close(")", i, "variable list")
        else:
            self._fail("a variable or a list of variables in ( ) after VALUES")
        width = len(variables)
        opened = self._expect("{", "'{' and the rows of values")
        while True:
            row = self.i
            if kinds[row] == "NIL":
                self.i += 1
                count = 0
            elif kinds[row] == "(":
                self.i += 1
                count = 0
                while kinds[self.i] in _DATA_BLOCK_VALUES:
                    self._term()  # a DataBlockValue (65)
                    count += 1
                self._close(")", row, "row of values")
            else:
                break
            if count != width:
                raise self._error(row, f"this row of VALUES has {count} value"
                                       f"{'s' if count != 1 else ''} for {width} variable"
                                       f"{'s' if width != 1 else ''}")
        self._close("}", opened, "VALUES block")
        return variables

    # --- updates (29-52) -----------------------------------------------------------------

    def _update(self) -> None:
        kinds = self.kinds
        self.unit = "update"
        insert_data_labels: dict[str, int] = {}
        while True:
            self._prologue()
            kind = kinds[self.i]
            if kind == "EOF":
                return
            self.labels = {}
            self.scope = {}
            self.bgp = self._new_bgp()
            self.operation_start = self.starts[self.i]
            if kind == "LOAD":
                self._load()
            elif kind in ("CLEAR", "DROP", "CREATE"):
                self._clear_drop_create(kind)
            elif kind in ("ADD", "MOVE", "COPY"):
                self._add_move_copy(kind)
            elif kind in ("INSERT", "DELETE", "WITH"):
                self._insert_delete(kind, insert_data_labels)
            else:
                self._fail("an update operation (INSERT, DELETE, LOAD, CLEAR, DROP, CREATE, "
                           "ADD, MOVE, COPY or WITH) or a query form (SELECT, ASK, CONSTRUCT, "
                           "DESCRIBE)" if not self.operations else
                           "an update operation after ';'")
            if kinds[self.i] == ";":
                self.i += 1
            elif kinds[self.i] != "EOF":
                self._fail("';' between update operations, or the end of the update")

    def _silent(self) -> bool:
        if self.kinds[self.i] == "SILENT":
            self.i += 1
            return True
        return False

    def _load(self) -> None:
        self.i += 1
        silent = self._silent()
        graphs = [self._iri("the IRI of the document to load after LOAD")]
        if self.kinds[self.i] == "INTO":
            self.i += 1
            self._expect("GRAPH", "GRAPH after INTO")
            graphs.append(self._iri("a graph IRI after INTO GRAPH"))
        self.operations.append(Operation("LOAD", tuple(graphs), silent,
                                         self.operation_start))

    def _clear_drop_create(self, kind: str) -> None:
        self.i += 1
        silent = self._silent()
        k = self.kinds[self.i]
        if k == "GRAPH":
            self.i += 1
            graph = self._iri("a graph IRI after GRAPH")
        elif k in ("DEFAULT", "NAMED", "ALL") and kind != "CREATE":
            self.i += 1
            graph = k
        else:
            self._fail("GRAPH and an IRI" if kind == "CREATE"
                       else "GRAPH <iri>, DEFAULT, NAMED or ALL")
        self.operations.append(Operation(kind, (graph,), silent, self.operation_start))

    def _add_move_copy(self, kind: str) -> None:
        self.i += 1
        silent = self._silent()
        source = self._graph_or_default(kind)
        self._expect("TO", f"TO after the source graph of {kind}")
        target = self._graph_or_default("TO")
        self.operations.append(Operation(kind, (source, target), silent,
                                         self.operation_start))

    def _graph_or_default(self, after: str) -> str:
        if self.kinds[self.i] == "DEFAULT":
            self.i += 1
            return "DEFAULT"
        if self.kinds[self.i] == "GRAPH":
            self.i += 1
        return self._iri(f"DEFAULT or a graph IRI after {after}")

    def _insert_delete(self, kind: str, insert_data_labels: dict[str, int]) -> None:
        kinds = self.kinds
        self.i += 1
        following = kinds[self.i]
        self.written = {}
        if kind == "INSERT" and following == "DATA":
            self.i += 1
            self.no_variables = "INSERT DATA"
            self._quads("INSERT DATA")
            self.no_variables = ""
            for label, (_, i) in self.labels.items():
                if label in insert_data_labels:
                    raise self._error(i, f"the blank node _:{label} is already used by an "
                                         f"earlier INSERT DATA of this request (at "
                                         f"{self._at(insert_data_labels[label])}): a label "
                                         "names one node in one INSERT DATA")
            for label, (_, i) in self.labels.items():
                insert_data_labels[label] = i
            operation = "INSERT DATA"
        elif kind == "DELETE" and following in ("DATA", "WHERE"):
            self.i += 1
            operation = f"DELETE {following}"
            self.no_variables = "DELETE DATA" if following == "DATA" else ""
            self.no_blank_nodes = operation
            self._quads(operation)
            self.no_variables = self.no_blank_nodes = ""
        else:
            self._modify(kind)
            operation = "MODIFY"
        self.operations.append(Operation(operation, tuple(self.written), False,
                                         self.operation_start,
                                         self.modify_where if operation == "MODIFY" else -1))
        self.written = None

    def _modify(self, kind: str) -> None:
        """Modify (41-44): WITH, DELETE and INSERT templates, USING, WHERE."""
        kinds = self.kinds
        self.default_graph = "DEFAULT"
        if kind == "WITH":
            self.default_graph = self._iri("a graph IRI after WITH")
            self.with_graphs.append(self.default_graph)
            kind = kinds[self.i]
            if kind not in ("DELETE", "INSERT"):
                self._fail("DELETE { ... } or INSERT { ... } after WITH <graph>")
            self.i += 1
        if kinds[self.i] != "{":
            self._fail("DATA or '{' after INSERT" if kind == "INSERT"
                       else "DATA, WHERE or '{' after DELETE")
        labels = self.labels
        if kind == "DELETE":
            self.no_blank_nodes = "a DELETE template"
            self._template()
            self.no_blank_nodes = ""
            if kinds[self.i] == "INSERT":
                self.i += 1
                if kinds[self.i] != "{":
                    self._fail("'{' after INSERT")
                self._template()
        else:
            self._template()
        self.labels = labels
        self.default_graph = "DEFAULT"
        while kinds[self.i] == "USING":
            self.i += 1
            if kinds[self.i] == "NAMED":
                self.i += 1
                self.using_named.append(self._iri("a graph IRI after USING NAMED"))
            else:
                self.using_graphs.append(self._iri("a graph IRI or NAMED after USING"))
        if kinds[self.i] != "WHERE":
            self._fail("WHERE and a pattern: INSERT { ... } and DELETE { ... } take their "
                       "solutions from WHERE { ... }")
        self.modify_where = self.starts[self.i]
        self.i += 1
        if kinds[self.i] != "{":
            self._fail("'{' to open the WHERE pattern")
        self._group()

    def _template(self) -> None:
        """A DELETE or INSERT template: its own blank node labels, one pattern."""
        self.labels = {}
        self.bgp = self._new_bgp()
        self._quads("template")

    def _quads(self, what: str) -> None:
        """QuadPattern / QuadData (48-51): '{' Quads '}'."""
        kinds = self.kinds
        opened = self._expect("{", f"'{{' after {what}")
        triples_allowed = True
        while True:
            kind = kinds[self.i]
            if kind == "}":
                self.i += 1
                return
            if kind == "GRAPH":
                self.i += 1
                graph, variable = self._var_or_iri("a graph IRI or variable after GRAPH")
                self._written("?" + graph if variable else graph)
                inner = self._expect("{", "'{' after the graph name")
                self._triples_template(inner, "GRAPH block")
                if kinds[self.i] == ".":
                    self.i += 1
                triples_allowed = True
            elif kind in _TRIPLES_START:
                if not triples_allowed:
                    self._fail(f"'.' or '}}' to close the {what} opened at {self._at(opened)}")
                self._written(self.default_graph)
                self._triples_same_subject(path=False)
                triples_allowed = kinds[self.i] == "."
                if triples_allowed:
                    self.i += 1
            else:
                self._fail(f"'}}' to close the {what} opened at {self._at(opened)}")

    def _written(self, graph: str) -> None:
        if self.written is not None:
            self.written[graph] = None

    def _triples_template(self, opened: int, what: str) -> None:
        """TriplesTemplate? '}' (52, 73-74), after its '{'."""
        kinds = self.kinds
        while kinds[self.i] != "}":
            if kinds[self.i] not in _TRIPLES_START:
                if kinds[self.i] == "GRAPH" and what == "GRAPH block":
                    self._fail(f"'}}' to close the {what} opened at {self._at(opened)} "
                               "(GRAPH blocks do not nest)")
                self._fail(f"'}}' to close the {what} opened at {self._at(opened)}")
            self._triples_same_subject(path=False)
            if kinds[self.i] == ".":
                self.i += 1
            elif kinds[self.i] != "}":
                self._fail(f"'.' or '}}' to close the {what} opened at {self._at(opened)}")
        self.i += 1

    # --- graph patterns (53-69) ----------------------------------------------------------

    def _new_bgp(self) -> int:
        self.bgps += 1
        return self.bgps

    def _group(self) -> dict[str, None]:
        """GroupGraphPattern (53), at its '{': the variables in scope in it (§18.2.1)."""
        opened = self.i
        self.i += 1
        saved = (self.scope, self.bgp, self.expression_vars, self.aggregates_allowed,
                 self.in_aggregate)
        scope = self.scope = {}
        self.expression_vars = None
        self.aggregates_allowed = self.in_aggregate = False
        self.bgp = self._new_bgp()
        subselect = self.kinds[self.i] == "SELECT"
        self.groups.append((self.starts[opened] + 1, subselect))
        if subselect:
            self._select_query(subquery=True)
            if self.kinds[self.i] != "}":
                self._fail(f"'}}' to close the group opened at {self._at(opened)} "
                           "(a sub-select is alone in its { })")
            self.i += 1
        else:
            self._group_graph_pattern_sub(opened)
        (self.scope, self.bgp, self.expression_vars, self.aggregates_allowed,
         self.in_aggregate) = saved
        return scope

    def _group_graph_pattern_sub(self, opened: int) -> None:
        """GroupGraphPatternSub (54-56), up to and with its '}'."""
        kinds = self.kinds
        scope = self.scope
        triples_allowed = True
        top = opened == self.where_open
        if top:
            self.where_triples = []
        while True:
            kind = kinds[self.i]
            if top and kind not in _TRIPLES_START and kind != "}":
                self.where_triples = None
            if kind in _TRIPLES_START:
                if not triples_allowed:
                    self._fail(f"'.' between triple patterns, or '}}' to close the group "
                               f"opened at {self._at(opened)}")
                self._triples_same_subject(path=True)
                triples_allowed = kinds[self.i] == "."
                if triples_allowed:
                    self.i += 1
                continue
            if kind == "}":
                if top:
                    self.where_close = self.i
                self.i += 1
                return
            if kind == "{":
                scope.update(self._group_or_union())
                self.bgp = self._new_bgp()
            elif kind == "OPTIONAL":
                self.i += 1
                self._open_group("OPTIONAL")
                scope.update(self._group())
                self.bgp = self._new_bgp()
            elif kind == "MINUS":
                self.constructs.setdefault("MINUS", self.i)
                self.i += 1
                self._open_group("MINUS")
                self._group()
                self.bgp = self._new_bgp()
            elif kind == "GRAPH":
                self.i += 1
                self._var_or_iri("a graph IRI or variable after GRAPH")
                self._open_group("the graph name")
                scope.update(self._group())
                self.bgp = self._new_bgp()
            elif kind == "SERVICE":
                self._service()
                self.bgp = self._new_bgp()
            elif kind == "FILTER":
                self.i += 1
                self._constraint("a condition after FILTER: (expression), a built-in call or "
                                 "a function call")
            elif kind == "BIND":
                self._bind()
            elif kind == "VALUES":
                self.constructs.setdefault("VALUES", self.i)
                self.i += 1
                scope.update(self._data_block())
            elif kind == "SELECT":
                self._fail(f"'}}' to close the group opened at {self._at(opened)} (a "
                           "sub-select goes alone in its own { }: { SELECT ... })")
            else:
                self._fail(f"'}}' to close the group opened at {self._at(opened)}")
            if kinds[self.i] == ".":
                self.i += 1
            triples_allowed = True

    def _open_group(self, after: str) -> None:
        if self.kinds[self.i] != "{":
            self._fail(f"'{{' after {after}")

    def _group_or_union(self) -> dict[str, None]:
        """GroupOrUnionGraphPattern (67)."""
        scope = self._group()
        while self.kinds[self.i] == "UNION":
            self.i += 1
            self._open_group("UNION")
            scope.update(self._group())
        return scope

    def _service(self) -> None:
        """ServiceGraphPattern (59)."""
        self.constructs.setdefault("SERVICE", self.i)
        self.i += 1
        silent = self._silent()
        target, variable = self._var_or_iri("an endpoint IRI or variable after SERVICE")
        self.services.append(Service(target, variable, silent))
        self._open_group("the SERVICE endpoint")
        self.scope.update(self._group())

    def _bind(self) -> None:
        """Bind (60): the variable must not be in scope before it in the group (§18.2.1)."""
        self.constructs.setdefault("BIND", self.i)
        self.i += 1
        opened = self._expect("(", "'(' after BIND")
        self._expression()
        self._expect("AS", "AS and a variable in BIND(expression AS ?name)")
        i = self._expect("VAR", "a variable after AS")
        name = self.values[i][1:]
        if name in self.scope:
            raise self._error(i, f"?{name} is already bound before this BIND in the same "
                                 "group: BIND must introduce a new variable")
        self.scope[name] = None
        self.assigned.append((name, i))
        self._close(")", opened, "BIND")

    def _constraint(self, expected: str) -> None:
        """Constraint (69): a bracketted expression, a built-in call or a function call."""
        kind = self.kinds[self.i]
        if kind == "(":
            self._bracketted()
        elif kind in _BUILTINS:
            self._builtin_call()
        elif kind in _IRI:
            self._iri_or_function(call=True)
        else:
            self._fail(expected)

    # --- triples and property paths (75-105) ---------------------------------------------

    def _triples_same_subject(self, path: bool) -> None:
        """TriplesSameSubject (75) or TriplesSameSubjectPath (81)."""
        kind = self.kinds[self.i]
        if kind == "(":
            self.where_triples = None
            self._collection(path)
        elif kind == "[":
            self.where_triples = None
            self._blank_node_property_list(path)
        else:
            subject = self.i
            self._term()
            if self.kinds[self.i] not in (_PATH_START if path else _VERB_START):
                self._fail("a predicate after the subject")
            self._property_list(path, kind in _CONSTANTS, subject)
            return
        if self.kinds[self.i] in (_PATH_START if path else _VERB_START):
            self._property_list(path)

    def _property_list(self, path: bool, named_subject: bool = False,
                       subject: int = -1) -> None:
        """PropertyListNotEmpty (77) / PropertyListPathNotEmpty (83), objects included;
        ``named_subject``: the subject is an IRI or a literal; ``subject``: its token (-1:
        a blank node property list or a list)."""
        kinds = self.kinds
        verbs = _PATH_START if path else _VERB_START
        while True:
            verb = self.i
            self._verb(path)
            if self.i != verb + 1:
                self.where_triples = None  # a path
            self._object_of(named_subject, subject, verb, path)
            while kinds[self.i] == ",":
                self.i += 1
                self._object_of(named_subject, subject, verb, path)
            if kinds[self.i] != ";":
                return
            while kinds[self.i] == ";":
                self.i += 1
            if kinds[self.i] not in verbs:
                return

    def _object_of(self, named_subject: bool, subject: int, verb: int, path: bool) -> None:
        """An object and the triple pattern it ends (kept in :attr:`where_triples`)."""
        first = self.i
        self._pattern(named_subject, self._object(path))
        if self.where_triples is not None:
            if subject < 0 or self.kinds[subject] in _BLANK or self.kinds[first] in _BLANK:
                self.where_triples = None
            else:
                self.where_triples.append((subject, subject + 1, verb, verb + 1, first,
                                           self.i))

    def _pattern(self, named_subject: bool, named_object: bool) -> None:
        """Count a triple pattern read (:attr:`Inspection.lookup`)."""
        if not self.in_template:
            self.triples += 1
            if not (named_subject or named_object):
                self.open_triples += 1

    def _verb(self, path: bool) -> None:
        i = self.i
        kind = self.kinds[i]
        if kind == "VAR":
            self.i = i + 1
            self._pattern_var(i)
        elif path:
            self._path()
        elif not self._iri_or_a():
            self._fail("a predicate: an IRI, a prefixed name, a variable or a")

    def _iri_or_a(self) -> bool:
        """An IRI or ``a`` as a predicate, read if it is there."""
        i = self.i
        kind = self.kinds[i]
        if kind == "PNAME":
            self._namespace(i)
        elif kind != "IRIREF" and kind != "a":
            return False
        self.i = i + 1
        return True

    def _object(self, path: bool) -> bool:
        """GraphNode (104) / GraphNodePath (105); whether it is an IRI or a literal."""
        kind = self.kinds[self.i]
        if kind in _TERMS:
            self._term()
            return kind in _CONSTANTS
        if kind == "(":
            self._collection(path)
        elif kind == "[":
            self._blank_node_property_list(path)
        else:
            self._fail("an object: an IRI, a literal, a variable or a blank node")
        return False

    def _collection(self, path: bool) -> None:
        """Collection (102) / CollectionPath (103)."""
        opened = self.i
        self._blank_node(opened)
        self.i += 1
        self._object(path)
        while self.kinds[self.i] != ")":
            if self.kinds[self.i] not in _TRIPLES_START:
                self._fail(f"')' to close the list opened at {self._at(opened)}")
            self._object(path)
        self.i += 1

    def _blank_node_property_list(self, path: bool) -> None:
        """BlankNodePropertyList (99) / BlankNodePropertyListPath (101)."""
        opened = self.i
        self._blank_node(opened)
        self.i += 1
        if self.kinds[self.i] not in (_PATH_START if path else _VERB_START):
            self._fail("a predicate after '['")
        self._property_list(path)
        self._close("]", opened, "blank node")

    def _path(self) -> None:
        """Path (88-90): PathEltOrInverse joined by | and /."""
        self._path_element()
        while self.kinds[self.i] in ("|", "/"):
            self.i += 1
            self._path_element()

    def _path_element(self) -> None:
        """PathEltOrInverse, PathElt, PathPrimary, PathMod (91-96)."""
        kinds = self.kinds
        if kinds[self.i] == "^":
            self.i += 1
        i = self.i
        kind = kinds[i]
        if kind == "!":
            self.i = i + 1
            self._negated_property_set()
        elif kind == "(":
            self.i = i + 1
            self._path()
            self._close(")", i, "path")
        elif not self._iri_or_a():
            self._fail("a property path: an IRI, a, ^, ! or a path in ( )")
        if kinds[self.i] in ("*", "?", "+"):
            self.repeated_path |= kinds[self.i] != "?"
            self.i += 1

    def _negated_property_set(self) -> None:
        kinds = self.kinds
        if kinds[self.i] == "(":
            opened = self.i
            self.i += 1
            self._path_one_in_property_set()
            while kinds[self.i] == "|":
                self.i += 1
                self._path_one_in_property_set()
            self._close(")", opened, "negated property set")
        else:
            self._path_one_in_property_set()

    def _path_one_in_property_set(self) -> None:
        if self.kinds[self.i] == "^":
            self.i += 1
        if not self._iri_or_a():
            self._fail("an IRI or a after !")

    # --- expressions (110-127) -----------------------------------------------------------

    def _expression(self) -> None:
        """Expression (110-118) read flat: unary expressions joined by operators.

        Precedence does not change whether a text is valid; what the grammar restricts is
        kept: one comparison (or IN) per operand of && and ||, nothing but && and || after
        an IN list, and a signed number standing for + or - and its operand.
        """
        kinds = self.kinds
        self._unary()
        compared = closed = False
        while True:
            kind = kinds[self.i]
            if kind in _BINARY:
                if kind == "||" or kind == "&&":
                    compared = closed = False
                elif closed:
                    return
                self.i += 1
                self._unary()
            elif kind in _RELATIONAL:
                if compared:
                    self._fail("&&, || or the end of the expression: comparisons do not chain "
                               "(write a < b && b < c)")
                compared = True
                self.i += 1
                self._unary()
            elif kind == "IN" or (kind == "NOT" and kinds[self.i + 1] == "IN"):
                if compared:
                    self._fail("&&, || or the end of the expression: comparisons do not chain")
                compared = closed = True
                self.i += 2 if kind == "NOT" else 1
                self._argument_list(self.i, "IN")
            elif kind == "SIGNED" and not closed:
                self.i += 1
            else:
                return

    def _unary(self) -> None:
        """UnaryExpression (118) and PrimaryExpression (119)."""
        kinds = self.kinds
        if kinds[self.i] in ("!", "+", "-"):
            self.i += 1
        i = self.i
        kind = kinds[i]
        if kind == "VAR":
            self.i = i + 1
            if self.expression_vars is not None and not self.in_aggregate:
                self.expression_vars.append((self.values[i][1:], i))
        elif kind in _NUMBERS or kind == "TRUE" or kind == "FALSE":
            self.i = i + 1
        elif kind == "STRING":
            self.i = i + 1
            self._literal_end()
        elif kind == "(":
            self._bracketted()
        elif kind in _IRI:
            self._iri_or_function(call=False)
        elif kind in _BUILTINS:
            self._builtin_call()
        else:
            self._fail("an expression")

    def _bracketted(self) -> None:
        opened = self.i
        self.i += 1
        self._expression()
        self._close(")", opened, "parenthesis")

    def _iri_or_function(self, call: bool) -> None:
        """iriOrFunction (128) / FunctionCall (70-71): an IRI, called if arguments follow."""
        i = self.i
        self.i = i + 1
        kind = self.kinds[self.i]
        if kind != "NIL" and kind != "(":
            if call:
                self._fail("'(' and the arguments of the function")
            if self.kinds[i] == "PNAME":
                self._namespace(i)
            return
        self.functions.append((self._iri_value(i), i))
        if kind == "NIL":
            self.i += 1
        elif self.kinds[self.i + 1] == "DISTINCT":
            # only a custom aggregate takes DISTINCT (§19.8 note 15)
            self._aggregate_use(i, f"{self.values[i]}(DISTINCT ...)")
            saved, self.in_aggregate = self.in_aggregate, True
            self.i += 2
            self._arguments(self.i - 2)
            self.in_aggregate = saved
        else:
            self.i += 1
            self._arguments(self.i - 1)

    def _arguments(self, opened: int) -> int:
        """Expression ( ',' Expression )* ')' after an opening '(': how many expressions."""
        self._expression()
        count = 1
        while self.kinds[self.i] == ",":
            self.i += 1
            self._expression()
            count += 1
        self._close(")", opened, "argument list")
        return count

    def _argument_list(self, at: int, name: str) -> int:
        """ExpressionList (72) or the arguments of a built-in: NIL or '(' arguments ')'."""
        kind = self.kinds[self.i]
        if kind == "NIL":
            self.i += 1
            return 0
        if kind != "(":
            self._fail(f"'(' and the arguments of {name}")
        self.i += 1
        return self._arguments(self.i - 1)

    def _builtin_call(self) -> None:
        """BuiltInCall (121-126), with the arity of each function checked."""
        kinds = self.kinds
        i = self.i
        kind = kinds[i]
        name = _SPELLING.get(kind, kind)
        if kind in _AGGREGATES:
            self._aggregate()
            return
        self.i = i + 1
        if kind == "EXISTS" or kind == "NOT":
            if kind == "NOT":
                self._expect("EXISTS", "EXISTS after NOT")
            self._open_group(f"{name} EXISTS" if kind == "NOT" else "EXISTS")
            self._group()
            return
        if kind == "BOUND":
            opened = self._expect("(", "'(' and a variable after BOUND")
            var = self.i
            self._expect("VAR", "a variable: BOUND takes one variable")
            if self.expression_vars is not None and not self.in_aggregate:
                self.expression_vars.append((self.values[var][1:], var))
            self._close(")", opened, "BOUND")
            return
        count = self._argument_list(i, name)
        low, high = _ARITY[kind]
        if count < low or (high is not None and count > high):
            raise self._error(i, f"{name} takes {_arity_text(low, high)}, {count} given")

    def _aggregate_use(self, i: int, name: str) -> None:
        if not self.aggregates_allowed:
            raise self._error(i, f"{name} is an aggregate: aggregates are allowed only in "
                                 "SELECT, HAVING and ORDER BY")
        self.aggregate_seen = True

    def _aggregate(self) -> None:
        """Aggregate (127)."""
        kinds = self.kinds
        i = self.i
        name = _SPELLING[kinds[i]]
        self._aggregate_use(i, name)
        self.i += 1
        if kinds[self.i] == "NIL":
            raise self._error(i, f"{name} takes 1 argument, 0 given")
        opened = self._expect("(", f"'(' after {name}")
        if kinds[self.i] == "DISTINCT":
            self.i += 1
        saved, self.in_aggregate = self.in_aggregate, True
        if kinds[self.i] == "*":
            if name != "COUNT":
                self._fail(f"an expression: only COUNT takes *, not {name}")
            self.i += 1
            count = 1
        else:
            self._expression()
            count = 1
            while kinds[self.i] == ",":
                self.i += 1
                self._expression()
                count += 1
        if count > 1:
            raise self._error(i, f"{name} takes 1 argument, {count} given")
        if name == "GROUP_CONCAT" and kinds[self.i] == ";":
            self.i += 1
            self._expect("SEPARATOR", "SEPARATOR after ';' in GROUP_CONCAT")
            self._expect("=", "'=' after SEPARATOR")
            self._expect("STRING", "a string after SEPARATOR =")
        self.in_aggregate = saved
        self._close(")", opened, name)

    # --- the whole text (1, 3) -----------------------------------------------------------

    def parse(self) -> None:
        self._prologue()
        if self.kinds[self.i] in _QUERY_FORMS:
            self._query()
        else:
            self._update()


# ---------------------------------------------------------------------------------------------
# Inspecting a text


def _unit(tokens: _Tokens) -> str:
    """Query or update, from the first token after the prologue (for messages)."""
    for kind in tokens.kinds:
        if kind not in ("BASE", "PREFIX", "IRIREF", "PNAME"):
            return "query" if kind in _QUERY_FORMS else "update"
    return "update"


def inspect(text: str, *, predefined: Mapping[str, str] = MappingProxyType({}),
            max_depth: int = 128) -> Inspection:
    """Parse ``text`` as a SPARQL 1.1 query or update and tell what it is and names.

    ``predefined`` are prefixes the service declares for every text: a prefix used but
    neither declared nor predefined is an error. A text nesting ( ) { } [ ] deeper than
    ``max_depth`` is refused before it is parsed. Raises :class:`SparqlSyntaxError`.
    """
    unescaped, positions = _unescape(text)
    tokens = _Tokens(unescaped, max_depth)
    parser = _Parser(tokens, positions, predefined)
    parser.unit = _unit(tokens)
    if tokens.too_deep_at >= 0:
        raise parser._error(tokens.too_deep_at,
                            f"the {parser.unit} nests more than {max_depth} levels deep; "
                            f"this endpoint accepts at most {max_depth}")
    try:
        parser.parse()
    except RecursionError:
        raise parser._error(parser.i, f"the {parser.unit} nests too deeply to be parsed "
                                      f"here") from None
    star = parser.star
    line_column = positions.line_column
    return Inspection(
        kind="query" if parser.form else "update",
        form=parser.form,  # type: ignore[arg-type]
        base=parser.base,
        prefixes=MappingProxyType(parser.prefixes),
        undeclared=tuple(parser.undeclared),
        from_graphs=tuple(parser.from_graphs),
        from_named=tuple(parser.from_named),
        services=tuple(parser.services),
        operations=tuple(parser.operations),
        variables=tuple(parser.variables),
        select_star=star >= 0,
        star_span=(tokens.starts[star], tokens.starts[star] + 1) if star >= 0 else None,
        functions=tuple((iri, *positions.line_column(tokens.starts[i]))
                        for iri, i in parser.functions),
        depth=tokens.depth,
        text=unescaped,
        using_graphs=tuple(parser.using_graphs),
        using_named=tuple(parser.using_named),
        with_graphs=tuple(parser.with_graphs),
        groups=tuple(parser.groups),
        constructs=MappingProxyType({name: line_column(tokens.starts[i])
                                     for name, i in parser.constructs.items()})
        if parser.constructs else _NO_CONSTRUCTS,
        assigned=tuple((name, *line_column(tokens.starts[i])) for name, i in parser.assigned)
        if parser.assigned else (),
        subselects=tuple(Subselect(variables, star, *line_column(tokens.starts[i]))
                         for variables, star, i in parser.subselects)
        if parser.subselects else (),
        order_by=None if parser.order_by is None else tuple(parser.order_by),
        lookup=parser.form is not None and not (parser.services or parser.subselects
                                                or parser.assigned or parser.repeated_path)
        and (parser.describes_iris or parser.triples > 0 and not parser.open_triples),
        where_bgp=_where_bgp(parser, tokens, unescaped),
    )


def _where_bgp(parser: _Parser, tokens: _Tokens, text: str) -> WhereBgp | None:
    """:attr:`Inspection.where_bgp`, from the token ranges the parser kept."""
    if parser.where_triples is None or parser.where_close < 0 or parser.form not in (
            "SELECT", "ASK", "CONSTRUCT"):
        return None
    kinds, values, starts = tokens.kinds, tokens.values, tokens.starts

    def term(first: int, end: int) -> PatternTerm:
        written = text[starts[first]:starts[end - 1] + len(values[end - 1])]
        kind = kinds[first]
        if kind == "VAR":
            return PatternTerm(written, "?" + values[first][1:])
        if kind == "a":
            return PatternTerm(written, f"<{RDF_TYPE}>")
        if kind in _IRI:
            return PatternTerm(written, f"<{parser._iri_value(first)}>")
        return PatternTerm(written, None)

    return (starts[parser.where_open] + 1, starts[parser.where_close],
            tuple((term(s, s1), term(p, p1), term(o, o1))
                  for s, s1, p, p1, o, o1 in parser.where_triples))


RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


_NO_CONSTRUCTS: Mapping[str, tuple[int, int]] = MappingProxyType({})


#: inspections kept by :func:`inspect_cached` (and the longest text it keeps)
CACHE_ENTRIES = 1024
CACHE_MAX_TEXT = 64 * 1024

_cache: OrderedDict[tuple[str, frozenset[tuple[str, str]], int],
                    Inspection | SparqlSyntaxError] = OrderedDict()
_cache_lock = threading.Lock()


def inspect_cached(text: str, *, predefined: Mapping[str, str] = MappingProxyType({}),
                   max_depth: int = 128) -> Inspection:
    """:func:`inspect` through a bounded LRU cache keyed by the text and the predefined
    prefixes; a text that is not SPARQL raises the same error again from the cache."""
    key = (text, frozenset(predefined.items()), max_depth)
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
    if found is None:
        try:
            found = inspect(text, predefined=predefined, max_depth=max_depth)
        except SparqlSyntaxError as error:
            found = error
        if len(text) <= CACHE_MAX_TEXT:
            with _cache_lock:
                _cache[key] = found
                while len(_cache) > CACHE_ENTRIES:
                    _cache.popitem(last=False)
    if isinstance(found, SparqlSyntaxError):
        raise SparqlSyntaxError(found.message, found.line, found.column)
    return found


def names_dataset(text: str) -> bool:
    """Whether a query names its own dataset (FROM / FROM NAMED); ``False`` for a text that
    does not parse (the engine then says why). A text without the word ``FROM`` in any case
    and without codepoint escapes cannot have the clause: it is not parsed (the pages' own
    queries, a dozen per page)."""
    if "from" not in text.lower() and "\\u" not in text and "\\U" not in text:
        return False
    try:
        return inspect_cached(text).has_dataset_clause
    except SparqlSyntaxError:
        return False
