"""The served dataset: the one door through which every reader in a web worker gets at the data.

:class:`ServedDataset` knows the current version (a swap by any process is noticed by
reading the release folder's swap counter, eight shared bytes) and runs every read in a
query process of its pool, under a deadline: SPARQL queries, the pages' descriptions and
labels, search, reconciliation, explanations, counts. It hands out the current version's
report, validation report and dumps, and it sends updates to a writer process of their
own (:func:`kg.pipeline.rebuild.main`), bounded in time.

A web worker never opens a store itself: no engine handle crosses a ``fork()``, and no
read escapes the time limit.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from kg.config import Config
from kg.pipeline.release import BuildReport, Releases, Version
from kg.served.admission import PAUSE_SECONDS, Admission, Refused
from kg.served.jobs import Table
from kg.served.pool import (
    QueryPool,
    QueryProcessDied,
    QueryStopped,
    QueryTimeout,
    short_memory_mb,
)
from kg.served.wire import Job, Outcome

__all__ = ["JobFailed", "PooledStore", "Refused", "ServedDataset", "UpdateFailed", "deadline"]

#: the lane of each job: the work clients send (SPARQL queries, reconciliation), under the
#: admission rules, apart from everything the pages read; and the lookups of clients in good
#: standing (:attr:`kg.sparqltext.Inspection.lookup`), in a process of their own
SPARQL_LANE, PAGES_LANE, LOOKUPS_LANE = "sparql", "pages", "lookups"
#: query processes per web worker for lookups
LOOKUP_PROCESSES = 1
#: the priority (nice value) of the SPARQL lane's processes: below the web workers, the
#: pages' and the lookups' processes, which keep the cores while clients' costly queries
#: run (the operating system gives a process at nice 10 a tenth of the share of one at 0)
SPARQL_NICE = 10

#: the time by which the work of the current request must be done (``time.monotonic()``)
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline",
                                                                         default=None)
#: the version the current request reads instead of the current one (a memento)
_pinned: contextvars.ContextVar[Version | None] = contextvars.ContextVar("pinned",
                                                                         default=None)


class JobFailed(Exception):
    """A read did not give an answer. ``kind``: ``timeout`` (stopped at its deadline, or no
    query process was free before it), ``busy`` (stopped as long work while the server's
    slots for long work were taken), ``memory`` (it needed more memory than a query may
    use), ``died`` (its process ended), ``syntax``, ``invalid``, ``unavailable`` (a remote
    store), ``missing`` (no version to serve) or ``error``. ``retry_after``: seconds to wait
    before trying again, when it helps to say."""

    def __init__(self, kind: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after


class UpdateFailed(Exception):
    """An update was not applied; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Every read made inside the block shares one deadline, ``seconds`` from now."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


class PooledStore:
    """The store as the pages see it: each query runs in a query process, whole."""

    name = "pooled"

    def __init__(self, served: ServedDataset) -> None:
        self._served = served

    def query(self, sparql: str, *, default_graph_uris: Sequence[str] = (),
              named_graph_uris: Sequence[str] = (), union_default_graph: bool | None = None,
              base_iri: str | None = None) -> Table:
        return self._served.call("select", sparql, tuple(default_graph_uris),
                                 tuple(named_graph_uris))

    def count(self, graph: str | None = None) -> int:
        return self._served.call("count")


class ServedDataset:
    """The current version of a release folder, read through a pool of query processes."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.releases = Releases.of(config)
        self._version: Version | None = None
        self._sequence = -1
        self._reports: dict[str, BuildReport] = {}
        self._lock = threading.Lock()
        self._pools: dict[str, QueryPool] = {}
        self._pools_pid = -1
        #: the SPARQL queries each client has running in this worker
        self._running: dict[str, int] = {}
        self.store = PooledStore(self)
        self.admission = Admission(self.releases.path / "admission",
                                   long_queries=config.long_queries,
                                   budget_seconds=config.client_budget_seconds)

    # -- the current version ------------------------------------------------------------

    @contextlib.contextmanager
    def pinned(self, version: Version) -> Iterator[None]:
        """Inside the block, every read of this request (and :meth:`current`, :meth:`report`)
        is of ``version`` instead of the current one: the views of ``/id``, ``/page`` and
        ``/data`` serve the mementos of ``/release/<version>/…`` unchanged."""
        token = _pinned.set(version)
        try:
            yield
        finally:
            _pinned.reset(token)

    def current(self) -> Version:
        """The served version (or the one pinned for this request); raises
        :class:`JobFailed` (``missing``) when there is none."""
        pinned = _pinned.get()
        if pinned is not None:
            return pinned
        sequence = self.releases.sequence
        if sequence != self._sequence or self._version is None:
            with self._lock:
                self._version = self.releases.current()
                self._sequence = sequence
        if self._version is None:
            raise JobFailed("missing", f"there is no release in {self.config.releases}; "
                                       "run `kg build`")
        return self._version

    @property
    def version_id(self) -> str:
        return self.current().id

    def report(self, version: Version | None = None) -> BuildReport:
        """The report of ``version`` (the current one by default), read once."""
        version = version or self.current()
        report = self._reports.get(version.id)
        if report is None:
            report = version.report
            if len(self._reports) > 16:
                self._reports.clear()
            self._reports[version.id] = report
        return report

    # -- reads in the query processes ---------------------------------------------------

    def pool(self, lane: str) -> QueryPool:
        """This process's pool of a lane: a forked web worker starts its own."""
        if self._pools_pid != os.getpid():
            with self._lock:
                if self._pools_pid != os.getpid():
                    # the update token stays in the web workers
                    settings = self.config.with_(update_token=None).to_json()
                    memory = self.config.query_memory_mb
                    # SPARQL queries are stopped and their processes replaced: a standby
                    # takes a stopped one's place at once
                    self._pools = {SPARQL_LANE: QueryPool(settings, self.config.query_processes,
                                                          memory_mb=memory, standby=True,
                                                          nice=SPARQL_NICE),
                                   PAGES_LANE: QueryPool(settings, self.config.page_processes,
                                                         memory_mb=memory),
                                   LOOKUPS_LANE: QueryPool(settings, LOOKUP_PROCESSES,
                                                           memory_mb=memory)}
                    self._pools_pid = os.getpid()
        return self._pools[lane]

    def start(self) -> None:
        """Start the query processes of every lane now, so that no first request waits."""
        self.pool(SPARQL_LANE)

    def close(self) -> None:
        if self._pools_pid == os.getpid():
            for pool in self._pools.values():
                pool.close()

    def time_left(self, limit: float | None = None) -> float:
        """Seconds a read may take: the request's deadline, at most ``limit`` (or the query
        timeout); never less than a millisecond, so that a spent deadline fails fast."""
        limit = self.config.query_timeout if limit is None else min(limit,
                                                                     self.config.query_timeout)
        end = _deadline.get()
        if end is not None:
            limit = min(limit, end - time.monotonic())
        return max(limit, 0.001)

    def run(self, job: Job, timeout: float | None = None, client: str | None = None, *,
            lookup: bool = False) -> Outcome:
        """The outcome of ``job`` in a query process. The work of a ``client`` (a SPARQL
        query, a reconciliation) runs in the SPARQL lane under the admission rules: raises
        :class:`Refused` when the client may not run it now. A ``lookup`` (a query whose
        cost its constants bound: :attr:`kg.sparqltext.Inspection.lookup`) of a client with
        nothing else running and no query stopped lately runs in the lookups' process when
        it is idle, else it may take the SPARQL lane's last idle process, which other work
        leaves free. Raises :class:`JobFailed` when the work ran past its time, was stopped
        as long work, ran out of memory or its process ended."""
        seconds = self.time_left(timeout)
        if client is None:
            lane = SPARQL_LANE if job.function == "query" else PAGES_LANE
            return self._run(lane, job, seconds, client, False, False)
        self.admission.check(client)
        return self._run(SPARQL_LANE, job, seconds, client, True, lookup)

    def _run(self, lane: str, job: Job, seconds: float, client: str | None,
             admitted: bool, lookup: bool) -> Outcome:
        long = False

        def go_on() -> bool:
            nonlocal long
            long = self.admission.start_long(client or "")
            return long

        started = time.monotonic()
        stopped = False
        if admitted:
            with self._lock:
                running = self._running.get(client or "", 0)
                self._running[client or ""] = running + 1
        try:
            if admitted:
                # every process but the last idle one may take any work; that one is kept
                # for lookups, of clients with nothing else running whose queries were not
                # stopped lately (other clients leave one more for those)
                favoured = not (running or self.admission.stopped_lately(client or ""))
                reserve = (0 if lookup else 1) if favoured else 2
                pool = self.pool(lane)
                if lookup and favoured and self.pool(LOOKUPS_LANE).idle:
                    pool = self.pool(LOOKUPS_LANE)
                return pool.run(job, seconds, first_stretch=self.config.short_query_seconds,
                                go_on=go_on, reserve=reserve)
            return self.pool(lane).run(job, seconds)
        except QueryStopped:
            stopped = True
            raise JobFailed("busy", f"the query ran longer than "
                                    f"{self.config.short_query_seconds:g} s while the "
                                    "server's slots for long queries were taken, and was "
                                    "stopped; this client may try again in "
                                    f"{PAUSE_SECONDS:g} s", retry_after=int(PAUSE_SECONDS)
                            ) from None
        except QueryTimeout as e:
            if e.waited:
                raise JobFailed("timeout", f"no query process was free within the "
                                           f"{seconds:g} s limit; the server is busy",
                                retry_after=1) from None
            raise JobFailed("timeout", f"the work ran longer than the {seconds:g} s limit "
                                       "and was stopped") from None
        except QueryProcessDied as e:
            if e.memory:
                # its process must be started again: the client pauses as after a stopped
                # query (a crash may be the operator's doing: no pause then)
                stopped = True
                raise JobFailed("memory", "the work needed more memory than a query may use "
                                          f"(at most {self.config.query_memory_mb} MB, "
                                          f"{short_memory_mb(self.config.query_memory_mb)} "
                                          "MB until it runs long), and was stopped",
                                retry_after=int(PAUSE_SECONDS) if admitted else None
                                ) from None
            raise JobFailed("died", "the query process ended before answering; the work "
                                    "was stopped") from None
        finally:
            if admitted and client is not None:
                with self._lock:
                    self._running[client] -= 1
                    if not self._running[client]:
                        del self._running[client]
                self.admission.finish(client, time.monotonic() - started, long=long,
                                      stopped=stopped)

    def call(self, function: str, *args: Any, timeout: float | None = None,
             client: str | None = None) -> Any:
        """The value of a read job (:data:`kg.served.jobs.FUNCTIONS`), as the work of
        ``client`` when given (:meth:`run`); raises :class:`JobFailed` for anything but an
        answer."""
        pinned = _pinned.get()
        if pinned is not None:
            function, args = "at_version", (pinned.id, function, *args)
        outcome = self.run(Job(function, args), timeout, client)
        if outcome.status == "memory":
            raise JobFailed("memory", f"the work needed more than the "
                                      f"{self.config.query_memory_mb} MB of memory a query "
                                      "may use, and was stopped")
        if outcome.status != "ok":
            raise JobFailed(outcome.status, outcome.message)
        return outcome.value

    # -- updates --------------------------------------------------------------------------

    def update(self, text: str, prefixes: dict[str, str] | None = None) -> str:
        """Apply a SPARQL Update in a writer process of its own (``prefixes`` declared for it
        besides its own); returns its summary, or
        raises :class:`UpdateFailed`. An update that runs past ``update_timeout`` is killed:
        nothing of it is served, and the next writer removes what it left on disk."""
        request = json.dumps({"config": self.config.to_json(), "update": text,
                              "prefixes": prefixes or {}}).encode()
        writer = subprocess.Popen([sys.executable, "-m", "kg.pipeline.rebuild"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, start_new_session=True)
        timeout = self.config.update_timeout
        try:
            out, err = writer.communicate(request, timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(writer.pid, signal.SIGKILL)
            writer.communicate()
            raise UpdateFailed(503, f"the update ran longer than the {timeout:g} s limit and "
                                    "was stopped; nothing of it was applied") from None
        try:
            outcome = json.loads(out.decode("utf-8").strip().splitlines()[-1])
        except (ValueError, IndexError):
            if writer.returncode in (-signal.SIGABRT, 128 + signal.SIGABRT):
                raise UpdateFailed(503, f"the update needed more than the "
                                        f"{self.config.update_memory_mb} MB of memory an "
                                        "update may use; it was not applied") from None
            said = err.decode("utf-8", "replace").strip().splitlines()
            raise UpdateFailed(500, "the update process failed and nothing was applied: "
                                    + (said[-1] if said else f"exit {writer.returncode}")
                               ) from None
        if outcome["status"] != 200:
            raise UpdateFailed(int(outcome["status"]), str(outcome["message"]))
        # the writer swapped the current version: read it at once in this process
        self._sequence = -1
        return str(outcome["message"])
