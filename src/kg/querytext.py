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


def query_form(query: str) -> str | None:
    """``SELECT``, ``ASK``, ``CONSTRUCT`` or ``DESCRIBE``."""
    match = _FORM.search(strip_noise(query))
    return match.group(1).upper() if match else None


def has_dataset_clause(query: str) -> bool:
    """Whether the query names its own dataset with ``FROM`` / ``FROM NAMED``."""
    return _FROM.search(strip_noise(query)) is not None
