"""A query process: runs the read jobs of a web worker against the current version.

Neither pyoxigraph nor rdflib can cancel a running query from Python. Each web
worker therefore keeps a few of these processes (:mod:`kg.served.pool`): the worker
sends a :class:`Job`, waits up to its deadline, and kills the process when the time is
up. A process opens the current version once (Oxigraph read-only: many readers are
fine), reopens it when a swap made another version current (it watches the release
folder's swap counter before each job), and does the work itself: it runs SPARQL and
serializes the answer, describes a resource, searches, reconciles. The worker only
copies what comes back.

``python -m kg.served.runner`` is the template the query processes are forked from
(:mod:`kg.served.template`); each fork runs :func:`serve`.
"""

from __future__ import annotations

import os
import socket

from kg.config import Config
from kg.pipeline.release import ReleaseError
from kg.served import jobs, template
from kg.served.pool import short_memory_mb
from kg.served.reader import NoVersion, Reader
from kg.served.wire import READY, Job, Outcome, receive, send
from kg.store import QuerySyntaxError, StoreUnavailable
from kg.system import end_with_parent, limit_memory, limit_thread_stacks


def run(reader: Reader, job: Job) -> Outcome:
    """The outcome of one job: its value, or what went wrong in the user's terms."""
    version = reader.refresh()
    name = version.id if version is not None else ""
    function = jobs.FUNCTIONS.get(job.function)
    if function is None:
        return Outcome("error", message=f"no job called {job.function!r}", version=name)
    try:
        return Outcome("ok", function(reader, *job.args), version=name)
    except QuerySyntaxError as e:
        return Outcome("syntax", message=str(e), version=name)
    except StoreUnavailable as e:
        return Outcome("unavailable", message=str(e), version=name)
    except NoVersion as e:
        return Outcome("missing", message=str(e), version=name)
    except MemoryError:
        return Outcome("memory", message="the work needed more memory than a query may use",
                       version=name)
    except ValueError as e:
        return Outcome("invalid", message=str(e), version=name)
    except (OSError, ReleaseError) as e:
        return Outcome("storage", message=str(e), version=name)
    except RuntimeError as e:
        kind = "storage" if storage_failure(e) else "error"
        return Outcome(kind, message=str(e), version=name)


#: how RocksDB (under Oxigraph) begins the messages of its storage failures
_STORAGE_STATUSES = ("Corruption", "IO error", "Incomplete", "Not found:")


def storage_failure(error: RuntimeError) -> bool:
    """Whether the engine failed reading its files (a damaged or missing index), as opposed
    to failing on the query: pyoxigraph raises both as RuntimeError, with RocksDB's status
    at the head of a storage failure's message."""
    text = str(error)
    return text.startswith(_STORAGE_STATUSES) or "may be corrupted" in text


def serve(settings: str, jobs_pipe: int, outcomes_pipe: int) -> None:
    """A query process: open the current version, say so, then run the jobs read from
    ``jobs_pipe`` until it closes, each outcome written to ``outcomes_pipe``."""
    end_with_parent()
    incoming = os.fdopen(jobs_pipe, "rb")
    outcomes = os.fdopen(outcomes_pipe, "wb")
    config = Config.from_json(settings)
    # the engine's threads then reserve 2 MB of stack each, not 8 MB of the memory limit
    limit_thread_stacks()
    # until a job is promoted to long work (its pool raises the soft limit then)
    limit_memory(short_memory_mb(config.query_memory_mb), config.query_memory_mb)
    reader = Reader(config)
    try:
        if reader.refresh() is not None:
            _ = reader.store
    except RuntimeError:  # a damaged version: the first job says what is wrong
        pass
    send(outcomes, READY)
    while (job := receive(incoming)) is not None:
        assert isinstance(job, Job)
        send(outcomes, run(reader, job))


def main() -> None:
    """The template of a web worker's query processes (:mod:`kg.served.template`), with its
    socket as standard input; what a process prints goes to standard error (the log)."""
    control = socket.socket(fileno=os.dup(0))
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)
    os.close(nothing)
    os.dup2(2, 1)
    template.serve(control, serve)


if __name__ == "__main__":
    main()
