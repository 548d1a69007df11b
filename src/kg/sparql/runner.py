"""A query process: runs SPARQL queries sent over a pipe, so that a runaway one can be killed.

Neither pyoxigraph nor rdflib can cancel a running query from Python. Each web
worker therefore keeps a few of these processes (see :mod:`kg.sparql.pool`): the
worker sends a :class:`Job`, waits up to the timeout, and kills the process when
the time is up. The process opens the served dataset once (Oxigraph read-only,
many readers are fine), reopens it when an update made a new generation, and
serializes the answer itself, so the worker only copies bytes.

Run as ``python -m kg.sparql.runner BACKEND RELEASES_DIR RELEASE_PATH``; it reads
jobs on stdin until end of file.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pyoxigraph as ox

from kg.formats import by_name
from kg.pipeline.release import Release
from kg.sparql.dataset import Generation, ServedDataset
from kg.store import QuerySyntaxError, Store, StoreUnavailable

_HEADER = struct.Struct("!Q")
#: the first message of a query process: the store is open, jobs are welcome
READY = "ready"


@dataclass(frozen=True)
class Job:
    query: str
    format_name: str
    default_graph_uris: list[str] = field(default_factory=list)
    named_graph_uris: list[str] = field(default_factory=list)
    max_rows: int = 0


@dataclass(frozen=True)
class Outcome:
    #: ``ok``, ``syntax`` (the query does not parse), ``unavailable`` (a remote store cannot
    #: be reached) or ``error`` (the engine failed)
    status: str
    body: bytes = b""
    message: str = ""
    #: rows (or triples) left out because of ``max_rows``; 0 when the answer is complete
    truncated: int = 0
    generation: int = 0


def send(stream: BinaryIO, message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def receive(stream: BinaryIO) -> object | None:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    return pickle.loads(stream.read(size))


_RESULTS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
            "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}
_RDF = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
        "nquads": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG,
        "jsonld": ox.RdfFormat.JSON_LD, "rdfxml": ox.RdfFormat.RDF_XML}


def _cap_lines(data: bytes, keep: int) -> tuple[bytes, int]:
    """The first ``keep`` lines of ``data`` and how many were dropped."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if len(lines) <= keep:
        return data, 0
    return b"\n".join(lines[:keep]) + b"\n", len(lines) - keep


def most_rows(body: bytes, format_name: str) -> int:
    """An upper bound on the rows (or triples) in ``body``, counted at C speed.

    Every row adds one separator (``},{`` between JSON bindings, ``<result>`` in XML,
    a line in CSV, TSV, N-Triples and N-Quads) and literals can only add more; in
    the other RDF formats a triple takes at least three bytes (``,:a``).
    """
    if format_name == "json":
        return body.count(b"},{") + 1
    if format_name == "xml":
        return body.count(b"<result>")
    if format_name in ("csv", "tsv", "ntriples", "nquads"):
        return body.count(b"\n")
    return len(body) // 3 + 1


def capped(store: Store, job: Job) -> tuple[bytes, int]:
    """The answer to ``job`` in its format, cut to ``max_rows`` rows or triples.

    The answer is serialized once. Only when it may hold more than ``max_rows``
    rows (:func:`most_rows`) is the query run again to count them on a line-based
    serialization (TSV for solutions, N-Triples for triples: one line per row or
    triple), which Oxigraph parses back into the wanted format after the cut.
    """
    def run():  # type: ignore[no-untyped-def]
        return store.query(job.query, default_graph_uris=job.default_graph_uris,
                           named_graph_uris=job.named_graph_uris)

    result = run()
    fmt = by_name(job.format_name)
    body = result.serialize(fmt.name)
    if (job.max_rows <= 0 or result.kind == "boolean"
            or most_rows(body, fmt.name) <= job.max_rows):
        return body, 0
    result = run()
    if result.kind == "bindings":
        tsv, dropped = _cap_lines(result.serialize("tsv"), job.max_rows + 1)
        if not dropped:
            return body, 0
        solutions = ox.parse_query_results(tsv, format=ox.QueryResultsFormat.TSV)
        return solutions.serialize(format=_RESULTS[fmt.name]), dropped  # type: ignore[union-attr]
    nt, dropped = _cap_lines(result.serialize("ntriples"), job.max_rows)
    if not dropped:
        return body, 0
    triples = ox.parse(nt, format=ox.RdfFormat.N_TRIPLES)
    if _RDF[fmt.name].supports_datasets:
        quads = (ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
        return ox.serialize(quads, format=_RDF[fmt.name]), dropped
    return ox.serialize(triples, format=_RDF[fmt.name]), dropped


class Reader:
    """The served dataset, opened once and reopened when a new generation appears."""

    def __init__(self, backend: str, served: ServedDataset) -> None:
        self.backend = backend
        self.served = served
        self.generation: Generation | None = None
        self.store: Store | None = None

    def current(self) -> tuple[Store, int]:
        generation = self.served.current()
        if self.store is None or generation != self.generation:
            if self.store is not None:
                self.store.close()
            self.store = generation.open_store(self.backend)
            self.generation = generation
        return self.store, generation.number

    def run(self, job: Job) -> Outcome:
        store, number = self.current()
        try:
            body, dropped = capped(store, job)
        except QuerySyntaxError as e:
            return Outcome("syntax", message=str(e), generation=number)
        except StoreUnavailable as e:
            return Outcome("unavailable", message=str(e), generation=number)
        except (OSError, ValueError, RuntimeError) as e:
            return Outcome("error", message=str(e), generation=number)
        return Outcome("ok", body=body, truncated=dropped, generation=number)


def main(argv: list[str]) -> None:
    backend, releases, release_path = argv
    # the pipe is for jobs and outcomes only: anything printed goes to the log instead
    jobs = os.fdopen(os.dup(0), "rb")
    outcomes = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    reader = Reader(backend, ServedDataset(Path(releases), Release(Path(release_path))))
    reader.current()
    send(outcomes, READY)
    while (job := receive(jobs)) is not None:
        assert isinstance(job, Job)
        send(outcomes, reader.run(job))


if __name__ == "__main__":
    # through the package, so that pickled jobs and outcomes name kg.sparql.runner's classes
    from kg.sparql import runner

    runner.main(sys.argv[1:])
