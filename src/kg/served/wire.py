"""The framing between a web worker and its query processes: jobs out, outcomes back.

Each message is a pickled object after its length (eight bytes, network order). rdflib's
IRIs and literals are pickled as rdflib pickles them (their text, language and datatype),
but made again through a memo on the receiving side: a page's answer names the same
classes, properties and labels as the last one, and building a ``Literal`` (which parses
its value) cost a web worker a tenth of its time on pages.
"""

from __future__ import annotations

import copyreg
import functools
import io
import pickle
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

from rdflib import Literal, URIRef

HEADER = struct.Struct("!Q")
#: the first message of a query process: the store is open, jobs are welcome
READY = "ready"


@dataclass(frozen=True)
class Job:
    #: the name of a function of :mod:`kg.served.jobs`
    function: str
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Outcome:
    #: ``ok``, ``syntax`` (the query does not parse), ``invalid`` (the job's input is refused:
    #: the message says why), ``unavailable`` (a remote store cannot be reached), ``missing``
    #: (there is no version to serve), ``memory`` (it needed more memory than a query may
    #: use), ``storage`` (the store's files could not be read: the message names them, for
    #: the operator only) or ``error`` (the work failed)
    status: str
    value: Any = None
    message: str = ""
    #: the version that answered
    version: str = ""


_made_literal = functools.lru_cache(maxsize=1 << 14)(Literal)
_made_iri = functools.lru_cache(maxsize=1 << 14)(URIRef)


def literal(text: str, language: str | None, datatype: str | None) -> Literal:
    """An rdflib literal from a message: made once while it is in use (terms are
    immutable)."""
    return _made_literal(text, language, datatype)


def iri(text: str) -> URIRef:
    return _made_iri(text)


_REDUCERS = copyreg.dispatch_table.copy()
_REDUCERS[Literal] = lambda term: (literal, (str(term), term.language, term.datatype))
_REDUCERS[URIRef] = lambda term: (iri, (str(term),))


def dumps(message: object) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _REDUCERS
    pickler.dump(message)
    return buffer.getvalue()


def send(stream: BinaryIO, message: object) -> None:
    data = dumps(message)
    # two writes: an answer of many megabytes is not copied to put its length first
    stream.write(HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def receive(stream: BinaryIO) -> object | None:
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    return pickle.loads(stream.read(size))
