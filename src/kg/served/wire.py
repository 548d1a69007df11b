"""The framing between a web worker and its query processes: jobs out, outcomes back.

Each message is a pickled object after its length (eight bytes, network order).
"""

from __future__ import annotations

import pickle
import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

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


def send(stream: BinaryIO, message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
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
