"""What the query editor offers: example queries.

Examples are the competency-question files ``queries/cq/*.rq`` of the project that
carry a ``# example: yes`` comment line; ``# title: ...`` names them. They are read once
per process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_EXAMPLE = re.compile(r"^#\s*example:\s*yes\s*$", re.I | re.M)
_TITLE = re.compile(r"^#\s*title:\s*(.+?)\s*$", re.I | re.M)


@dataclass(frozen=True)
class Example:
    name: str
    title: str
    query: str


@cache
def example_queries(root: Path) -> tuple[Example, ...]:
    examples = []
    for path in sorted((root / "queries" / "cq").glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        if not _EXAMPLE.search(text):
            continue
        title = _TITLE.search(text)
        examples.append(Example(path.stem, title.group(1) if title else path.stem, text))
    return tuple(examples)
