"""Answering a protocol request: choose the result format, run the query, serialize.

Framework-free: :meth:`QueryService.answer` takes what the web layer read off the
request and returns an :class:`Answer` (status, media type, body).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from kg import formats
from kg.formats import Format
from kg.sparql.negotiate import choose, query_form, result_kind
from kg.sparql.protocol import ProtocolError, ProtocolRequest
from kg.store import QuerySyntaxError, Store


@dataclass
class Answer:
    status: int
    media_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def candidates_for(form: str | None) -> list[Format]:
    if result_kind(form) == "rdf":
        return formats.rdf_formats()
    return formats.for_kind("results")


def select_format(query: str, accept: str | None, format_param: str | None) -> Format:
    """The result format for ``query``: ``?format=`` first, else the Accept header."""
    offered = candidates_for(query_form(query))
    if format_param:
        fmt = formats.BY_NAME.get(format_param) or next(
            (f for f in offered if format_param in f.media_types), None)
        if fmt is None or fmt not in offered:
            names = ", ".join(f.name for f in offered)
            raise ProtocolError(400, f"format {format_param!r} cannot carry this query's "
                                     f"results; use one of {names}")
        return fmt
    fmt = choose(accept, offered)
    if fmt is None:
        types = ", ".join(f.media_type for f in offered)
        raise ProtocolError(406, f"none of the media types in Accept ({accept}) can carry this "
                                 f"query's results; available: {types}")
    return fmt


class QueryService:
    def __init__(self, store: Callable[[], Store]) -> None:
        self._store = store

    def answer(self, request: ProtocolRequest, accept: str | None,
               format_param: str | None = None) -> Answer:
        if request.query is None:
            raise ProtocolError(400, "the request has no 'query' parameter")
        fmt = select_format(request.query, accept, format_param)
        try:
            result = self._store().query(
                request.query,
                default_graph_uris=request.default_graph_uris,
                named_graph_uris=request.named_graph_uris,
            )
            body = result.serialize(fmt.name)
        except QuerySyntaxError as e:
            raise ProtocolError(400, f"malformed query: {e}") from e
        media_type = fmt.media_type
        if media_type.startswith("text/") or media_type.endswith(("+json", "+xml", "/json")):
            media_type += "; charset=utf-8"
        return Answer(200, media_type, body)
