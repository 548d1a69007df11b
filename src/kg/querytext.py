"""Reading what a SPARQL text is without parsing it: its form and whether it names a dataset.

Strings, IRIs and comments are blanked first, so a keyword inside them never counts.
The engine's parser still decides whether the text is valid.
"""

from __future__ import annotations

import re

# strings, IRIs and comments, matched in one pass so that each hides the others' characters
_NOISE = re.compile(
    r"'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\""
    r"|<[^<>\s]*>|#[^\n]*",
    re.S,
)


def _keyword(words: str) -> re.Pattern[str]:
    # not part of a prefixed name (ask:x), a variable (?select) or a longer word
    return re.compile(rf"(?<![\w:?$])({words})(?![\w:])", re.I)


_FORM = _keyword("SELECT|ASK|CONSTRUCT|DESCRIBE")
_FROM = _keyword("FROM")


def strip_noise(query: str) -> str:
    return _NOISE.sub(" ", query)


def mask_noise(query: str) -> str:
    """The text with its strings, IRIs and comments blanked by as many spaces: offsets into
    it are offsets into ``query``."""
    return _NOISE.sub(lambda m: " " * len(m.group(0)), query)


def query_form(query: str) -> str | None:
    """``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE``."""
    match = _FORM.search(strip_noise(query))
    return match.group(1).upper() if match else None


def has_dataset_clause(query: str) -> bool:
    """Whether the query names its own dataset with ``FROM`` / ``FROM NAMED``."""
    return _FROM.search(strip_noise(query)) is not None


# an IRI needs no space before it ("SERVICE<http://...>"); anything else does
_SERVICE = re.compile(
    r"(?<![\w:?$])SERVICE(?:\s+SILENT)?(?:\s*(<[^<>\s]*>)|\s+([^\s{]+))", re.I)
_LOAD = _keyword("LOAD")
_STRINGS_AND_COMMENTS = re.compile(
    r"'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n]|\\.)*'|\"(?:[^\"\\\n]|\\.)*\"|#[^\n]*", re.S)


def service_targets(query: str) -> list[str]:
    """The endpoints a text's ``SERVICE`` clauses call: IRIs without ``<>``, else the token."""
    # an IRI may hold '#': comments are blanked outside IRIs only
    text = re.sub(r"<[^<>\s]*>", lambda m: m.group(0).replace("#", "\0"), query)
    text = _STRINGS_AND_COMMENTS.sub(" ", text).replace("\0", "#")
    return [(m.group(1) or m.group(2)).strip("<>") for m in _SERVICE.finditer(text)]


def has_load(update: str) -> bool:
    """Whether an update text uses ``LOAD`` (which fetches a URL)."""
    return _LOAD.search(strip_noise(update)) is not None
