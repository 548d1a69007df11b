"""Reading a SPARQL 1.1 Protocol request (https://www.w3.org/TR/sparql11-protocol/).

:func:`parse_request` turns the method, content type, URL parameters, form and
body of an HTTP request into a :class:`ProtocolRequest`, or raises
:class:`ProtocolError` with the status and a message for the client.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


class ProtocolError(Exception):
    def __init__(self, status: int, message: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        #: headers of the answer (Retry-After, Allow, WWW-Authenticate)
        self.headers = headers or {}


@dataclass(frozen=True)
class ProtocolRequest:
    query: str | None = None
    update: str | None = None
    default_graph_uris: list[str] = field(default_factory=list)
    named_graph_uris: list[str] = field(default_factory=list)
    #: ``inference=false``: the default graph holds the asserted graphs only
    inference: bool = True
    #: ``timeout=SECONDS``: a shorter time limit than the server's for this query (the
    #: query service raises one below ``min_query_timeout`` to it)
    timeout: float | None = None
    #: updates: ``using-graph-uri`` and ``using-named-graph-uri`` (§2.2.3)
    using_graph_uris: list[str] = field(default_factory=list)
    using_named_graph_uris: list[str] = field(default_factory=list)


Params = Mapping[str, Sequence[str]]


def _single(params: Params, name: str) -> str | None:
    values = list(params.get(name, ()))
    if len(values) > 1:
        raise ProtocolError(400, f"the request has {len(values)} '{name}' parameters; "
                                 "the SPARQL protocol allows exactly one")
    return values[0] if values else None


def parse_request(
    method: str,
    content_type: str | None,
    args: Params,
    form: Params,
    body: bytes,
    *,
    max_query_bytes: int,
) -> ProtocolRequest:
    media = (content_type or "").split(";")[0].strip().lower()
    if method in ("GET", "HEAD"):
        if "update" in args:
            raise ProtocolError(400, "SPARQL Update must be sent by POST, not GET")
        params: Params = args
        query = _single(args, "query")
        update = None
    elif method == "POST":
        if media == "application/x-www-form-urlencoded":
            params = form
            for name in ("query", "update"):
                if name in args:
                    raise ProtocolError(400, f"with a form POST, '{name}' goes in the body, "
                                             "not in the URL")
            query = _single(form, "query")
            update = _single(form, "update")
        elif media == "application/sparql-query":
            params = args
            query = _decode(body)
            update = None
        elif media == "application/sparql-update":
            params = args
            query = None
            update = _decode(body)
        elif not media:
            raise ProtocolError(400, "a POST needs a Content-Type: application/sparql-query, "
                                     "application/sparql-update or "
                                     "application/x-www-form-urlencoded")
        else:
            raise ProtocolError(415, f"Content-Type {media} is not supported; use "
                                     "application/sparql-query, application/sparql-update or "
                                     "application/x-www-form-urlencoded")
    else:
        raise ProtocolError(405, f"method {method} is not allowed on the SPARQL endpoint")

    if query is not None and update is not None:
        raise ProtocolError(400, "a request carries either 'query' or 'update', not both")
    text = query if query is not None else update
    if text is not None and len(text.encode("utf-8")) > max_query_bytes:
        raise ProtocolError(413, f"the query is {len(text.encode('utf-8'))} bytes; "
                                 f"the limit is {max_query_bytes} bytes")
    if text is not None and not text.strip():
        raise ProtocolError(400, "the query is empty")
    graphs = {name: list(params.get(name, ())) for name in (
        "default-graph-uri", "named-graph-uri", "using-graph-uri", "using-named-graph-uri")}
    for name, iris in graphs.items():
        for iri in iris:
            if not ABSOLUTE_IRI.fullmatch(iri):
                raise ProtocolError(400, f"{name}={iri!r} is not an absolute IRI")
    return ProtocolRequest(
        query=query,
        update=update,
        default_graph_uris=graphs["default-graph-uri"],
        named_graph_uris=graphs["named-graph-uri"],
        using_graph_uris=graphs["using-graph-uri"],
        using_named_graph_uris=graphs["using-named-graph-uri"],
        inference=_flag(_single(args, "inference") or _single(params, "inference")),
        timeout=_seconds(_single(args, "timeout") or _single(params, "timeout")),
    )


#: an absolute IRI with none of the characters SPARQL forbids inside <...>
ABSOLUTE_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\x00-\x20<>\"{}|^`\\]*")


def check_utf8(encoded: bytes, where: str) -> None:
    """URL-encoded parameters (a query string, a form body) whose values are not UTF-8 are a
    400: decoded leniently they would run with U+FFFD in place of what was sent."""
    # decoded whole: the separators (& =) are ASCII, so a value that is not UTF-8 is not
    # UTF-8 beside them either
    try:
        urllib.parse.unquote_to_bytes(encoded.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProtocolError(400, f"the {where} is not UTF-8 once its %XX escapes are "
                                 f"decoded ({e.reason}); send the query in UTF-8") from None


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ProtocolError(400, f"timeout={value!r}: give a number of seconds above 0")
    return seconds


def _flag(value: str | None) -> bool:
    if value is None or value.lower() in ("true", "1", "yes"):
        return True
    if value.lower() in ("false", "0", "no"):
        return False
    raise ProtocolError(400, f"inference={value!r}: use true or false")


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProtocolError(400, f"the request body is not UTF-8: {e}") from e
