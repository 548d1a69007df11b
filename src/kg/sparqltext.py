"""What a SPARQL text is: its form, dataset clause, SERVICE calls and update operations.

TEMPORARY: a stand-in with the parser's interface over the old scans, replaced by the
grammar-complete parser before this lands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from kg import querytext


class SparqlSyntaxError(ValueError):
    def __init__(self, message: str, line: int = 0, column: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Service:
    target: str
    variable: bool
    silent: bool


@dataclass(frozen=True)
class Operation:
    kind: str
    graphs: tuple[str, ...]
    silent: bool


@dataclass(frozen=True)
class Inspection:
    kind: Literal["query", "update"]
    form: str | None
    text: str
    from_graphs: tuple[str, ...] = ()
    from_named: tuple[str, ...] = ()
    services: tuple[Service, ...] = ()
    operations: tuple[Operation, ...] = ()
    variables: tuple[str, ...] = ()
    select_star: bool = False
    star_span: tuple[int, int] | None = None
    undeclared: tuple[str, ...] = ()
    prefixes: dict[str, str] = field(default_factory=dict)
    depth: int = 0

    @property
    def has_dataset_clause(self) -> bool:
        return bool(self.from_graphs or self.from_named)


def inspect(text: str, *, predefined: Mapping[str, str] | None = None,
            max_depth: int = 128) -> Inspection:
    form = querytext.query_form(text)
    services = tuple(Service(t, t.startswith(("?", "$")), False)
                     for t in querytext.service_targets(text))
    if form is None:
        ops = (Operation("LOAD", (), False),) if querytext.has_load(text) else ()
        return Inspection("update", None, text, services=services, operations=ops)
    has_from = querytext.has_dataset_clause(text)
    return Inspection("query", form, text, from_graphs=("?",) if has_from else (),
                      services=services)


@lru_cache(maxsize=4096)
def _cached(text: str, predefined: tuple[tuple[str, str], ...], max_depth: int) -> Inspection:
    return inspect(text, predefined=dict(predefined), max_depth=max_depth)


def inspect_cached(text: str, *, predefined: Mapping[str, str] | None = None,
                   max_depth: int = 128) -> Inspection:
    return _cached(text, tuple(sorted((predefined or {}).items())), max_depth)


def names_dataset(text: str) -> bool:
    """Whether a query names its own dataset (FROM / FROM NAMED); False when it does not
    parse (the engine then says why)."""
    try:
        return inspect_cached(text).has_dataset_clause
    except SparqlSyntaxError:
        return False
