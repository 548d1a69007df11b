"""What the query editor offers: example queries and the graph's prefixes.

Examples are the competency-question files ``queries/cq/*.rq`` of the project that
carry a ``# example: yes`` comment line; ``# title: ...`` names them.
Prefixes are the ones the ontology and data sources declare.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kg.config import Config
from kg.pipeline.load import discover_sources

_EXAMPLE = re.compile(r"^#\s*example:\s*yes\s*$", re.I | re.M)
_TITLE = re.compile(r"^#\s*title:\s*(.+?)\s*$", re.I | re.M)
_PREFIX = re.compile(r"^\s*(?:@prefix|PREFIX)\s+([\w.-]*):\s*<([^<>\s]*)>", re.I | re.M)


@dataclass(frozen=True)
class Example:
    name: str
    title: str
    query: str


def example_queries(root: Path) -> list[Example]:
    examples = []
    for path in sorted((root / "queries" / "cq").glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        if not _EXAMPLE.search(text):
            continue
        title = _TITLE.search(text)
        examples.append(Example(path.stem, title.group(1) if title else path.stem, text))
    return examples


def graph_prefixes(config: Config) -> dict[str, str]:
    """Prefix -> namespace, as declared in the sources (first declaration wins)."""
    prefixes: dict[str, str] = {}
    for source in discover_sources(config):
        for name, iri in _PREFIX.findall(source.path.read_text(encoding="utf-8")):
            prefixes.setdefault(name, iri)
    return dict(sorted(prefixes.items()))
