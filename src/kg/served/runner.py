"""A query process: runs the read jobs of a web worker against the current version.

Neither pyoxigraph nor rdflib can cancel a running query from Python. Each web
worker therefore keeps a few of these processes (:mod:`kg.served.pool`): the worker
sends a :class:`Job`, waits up to its deadline, and kills the process when the time is
up. A process opens the current version once (Oxigraph read-only: many readers are
fine), reopens it when a swap made another version current (it watches the release
folder's swap counter before each job), and does the work itself: it runs SPARQL and
serializes the answer, describes a resource, searches, reconciles. The worker only
copies what comes back.

Run as ``python -m kg.served.runner`` with the settings (JSON) on the first line of
its standard input; it then reads jobs until end of file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from kg.config import Config
from kg.pipeline.release import Releases, Version
from kg.served.wire import READY, Job, Outcome, receive, send
from kg.store import QuerySyntaxError, Store, StoreUnavailable


class Reader:
    """The current version's store in this process, and what was computed from it."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.releases = Releases.of(config)
        self.version: Version | None = None
        self._store: Store | None = None
        self._sequence = -1
        #: per-version results (indexes), dropped when the version changes
        self.cache: dict[str, Any] = {}

    def refresh(self) -> Version | None:
        """The current version, reopened when another one became current."""
        sequence = self.releases.sequence
        if sequence != self._sequence or self.version is None:
            current = self.releases.current()
            self._sequence = sequence
            if current != self.version:
                if self._store is not None:
                    self._store.close()
                self._store = None
                self.cache = {}
                self.version = current
        return self.version

    @property
    def store(self) -> Store:
        if self._store is None:
            if self.version is None:
                raise LookupError("there is no release to serve")
            self._store = self.version.open_store(self.config.store)
        return self._store

    def cached(self, key: str, compute: Callable[[], Any]) -> Any:
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    def run(self, job: Job) -> Outcome:
        from kg.served import jobs

        version = self.refresh()
        name = version.id if version is not None else ""
        function = jobs.FUNCTIONS.get(job.function)
        if function is None:
            return Outcome("error", message=f"no job called {job.function!r}", version=name)
        try:
            return Outcome("ok", function(self, *job.args), version=name)
        except QuerySyntaxError as e:
            return Outcome("syntax", message=str(e), version=name)
        except StoreUnavailable as e:
            return Outcome("unavailable", message=str(e), version=name)
        except LookupError as e:
            return Outcome("missing", message=str(e), version=name)
        except ValueError as e:
            return Outcome("invalid", message=str(e), version=name)
        except (OSError, RuntimeError) as e:
            return Outcome("error", message=str(e), version=name)


def main() -> None:
    # the pipe is for jobs and outcomes only: anything printed goes to the log instead
    jobs = os.fdopen(os.dup(0), "rb")
    outcomes = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    config = Config.from_json(jobs.readline().decode("utf-8"))
    reader = Reader(config)
    try:
        if reader.refresh() is not None:
            _ = reader.store
    except RuntimeError:  # a damaged version: the first job says what is wrong
        pass
    send(outcomes, READY)
    while (job := receive(jobs)) is not None:
        assert isinstance(job, Job)
        send(outcomes, reader.run(job))


if __name__ == "__main__":
    main()
