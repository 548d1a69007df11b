"""Parse each SPARQL text once while pySHACL validates.

pySHACL runs a SPARQL-based constraint once per focus node, and rdflib parses the
query text on every run (about 0.1 s each): on a graph of a few hundred entities
that is most of the validation time. :func:`prepared_queries` swaps rdflib's SPARQL
processor plugin, for the duration of a ``with`` block, for one that keeps the
parsed and translated query of each text (rdflib's prepared queries are made for
reuse with other initial bindings).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from rdflib import plugin
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.processor import SPARQLProcessor
from rdflib.plugins.sparql.sparql import Query
from rdflib.query import Processor

_prepared: dict[tuple[str, str | None], Query] = {}


def _prepare(text: str, base: str | None, namespaces: Mapping[str, Any]) -> Query:
    """The query of ``text``, parsed on first use. pySHACL writes the PREFIX declarations of
    the shapes into the text; prefixes it leaves to the graph's bindings are resolved with
    those of the first graph queried, so they are keyed by text alone."""
    key = (text, base)
    if key not in _prepared:
        if len(_prepared) >= _CAPACITY:
            _prepared.clear()
        _prepared[key] = translateQuery(parseQuery(text), base, dict(namespaces))
    return _prepared[key]


_CAPACITY = 1024


class PreparedQueryProcessor(SPARQLProcessor):
    """rdflib's SPARQL processor, parsing each distinct query text only once."""

    def query(  # type: ignore[override]
        self,
        strOrQuery: str | Query,  # noqa: N803 (rdflib's parameter names)
        initBindings: Mapping[str, Any] | None = None,  # noqa: N803
        initNs: Mapping[str, Any] | None = None,  # noqa: N803
        base: str | None = None,
        DEBUG: bool = False,  # noqa: N803
    ) -> Mapping[str, Any]:
        if isinstance(strOrQuery, str):
            strOrQuery = _prepare(strOrQuery, base, initNs or {})
        return super().query(strOrQuery, initBindings, initNs, base, DEBUG)


@contextmanager
def prepared_queries() -> Iterator[None]:
    """Within the block, ``Graph.query`` parses each distinct SPARQL text once."""
    original = plugin.get("sparql", Processor)
    plugin.register("sparql", Processor, __name__, PreparedQueryProcessor.__name__)
    try:
        yield
    finally:
        plugin.register("sparql", Processor, original.__module__, original.__name__)
