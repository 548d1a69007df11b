"""Bounds on one reconciliation request, checked in the web worker before any work is sent to
a query process: how deeply its JSON nests, how many queries a batch holds, how long a query
text is, how many property constraints (and values of one) a query has, how many candidates
it asks for. A request over a bound is refused with what was too large and the bound
(:class:`~kg.reconcile.service.QueryError`); ``limit`` is cut to :data:`MAX_LIMIT` instead.

The request size and the batch size are settings (``KG_RECONCILE_MAX_BYTES``,
``KG_RECONCILE_MAX_QUERIES``); the others are far above what OpenRefine sends.
"""

from __future__ import annotations

import json
from typing import Any

from kg.reconcile.service import QueryError

#: the deepest nesting of a request's JSON; OpenRefine's deepest is 6 (a batch, a query,
#: its properties, a constraint, its values, a value object)
MAX_DEPTH = 12
#: characters of one query text (or suggest prefix): names, not documents
MAX_QUERY_CHARS = 1000
#: property constraints of one query, values of one constraint, properties of an extend
MAX_PROPERTIES = 50
#: candidates a query or suggest request may ask for; a larger ``limit`` is cut to this
MAX_LIMIT = 100


def depth(value: Any) -> int:
    """How deeply ``value`` nests objects and arrays (a scalar: 0), counted without recursion."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def read_json(text: str, name: str) -> Any:
    """The JSON of the request parameter ``name``, refused when it does not parse or nests
    deeper than :data:`MAX_DEPTH`."""
    too_deep = (f"the {name!r} parameter is nested too deeply: this service reads at most "
                f"{MAX_DEPTH} levels of objects and arrays")
    try:
        value = json.loads(text)
    except RecursionError:
        raise QueryError(too_deep) from None
    except ValueError as e:
        raise QueryError(f"the {name!r} parameter is not valid JSON: {e}") from e
    if depth(value) > MAX_DEPTH:
        raise QueryError(too_deep)
    return value


def check_text(text: str, what: str = "a query text") -> str:
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"{what} is {len(text)} characters long; this service matches names "
                         f"of at most {MAX_QUERY_CHARS} characters")
    return text


def cap_limit(limit: int) -> int:
    return min(limit, MAX_LIMIT)


def _count(items: Any, what: str, most: int) -> None:
    if isinstance(items, list) and len(items) > most:
        raise QueryError(f"{what} has {len(items)} entries; this service takes at most {most}")


def check_query(query: Any) -> Any:
    """One reconciliation query within the bounds, its ``limit`` cut to :data:`MAX_LIMIT`;
    what is not of the right shape is left to the service to refuse."""
    if isinstance(query, str):
        return check_text(query)
    if not isinstance(query, dict):
        return query
    if isinstance(query.get("query"), str):
        check_text(query["query"])
    constraints = query.get("properties")
    _count(constraints, "'properties' of a query", MAX_PROPERTIES)
    for constraint in constraints if isinstance(constraints, list) else ():
        if isinstance(constraint, dict):
            _count(constraint.get("v"), "the values of a property constraint", MAX_PROPERTIES)
    limit = query.get("limit")
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > MAX_LIMIT:
        return {**query, "limit": MAX_LIMIT}
    return query


def check_batch(queries: Any, max_queries: int) -> dict[str, Any]:
    """A batch of queries by key within the bounds."""
    if not isinstance(queries, dict):
        raise QueryError("'queries' must be a JSON object of queries by key")
    if len(queries) > max_queries:
        raise QueryError(f"the batch has {len(queries)} queries; this service takes at most "
                         f"{max_queries} at a time: send smaller batches (in OpenRefine, a "
                         "smaller batch size for the service)")
    return {key: check_query(query) for key, query in queries.items()}


def check_extend(extend: Any, max_ids: int) -> Any:
    """A data-extension request within the bounds: at most ``max_ids`` entities and
    :data:`MAX_PROPERTIES` properties."""
    if isinstance(extend, dict):
        _count(extend.get("ids"), "'ids' of an extend request", max_ids)
        _count(extend.get("properties"), "'properties' of an extend request", MAX_PROPERTIES)
    return extend
