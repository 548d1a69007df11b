"""Admission: who may run what, shared by every web worker of a server.

Three rules, as large public endpoints have them (the Wikidata Query Service gives each
client a budget of query seconds per minute):

- **Long work is scarce.** A query still running after ``short_query_seconds`` needs one of
  the server's ``long_queries`` slots to go on (one per client at a time); without one it is
  stopped at once, so short queries always find the cores and the memory free.
- **A budget per client.** Every client may use ``client_budget_seconds`` of query time per
  minute, refilled continuously; once spent, its queries are answered 429 until it refills.
- **A pause after a stopped query.** A client whose query was stopped for want of a long
  slot, or ended its process by needing too much memory, waits ``PAUSE_SECONDS`` before
  its next one: a client cannot make the server start and kill query processes in a loop.
  For ``PROBATION_SECONDS`` after that, its queries leave a worker's last idle query
  process to the other clients (:meth:`Admission.stopped_lately`).

The state lives in a small file that every worker maps into memory (``RELEASES/admission``),
changed under an exclusive ``flock``. Each worker keeps its long slots in a region of its
own, so the slots of a worker that died are freed with it. A short query touches the file
only to look at its client's budget, at most every :data:`REFRESH_SECONDS`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import math
import mmap
import os
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kg.system import process_alive

#: seconds a client waits after one of its queries was stopped for want of a long slot
PAUSE_SECONDS = 5.0
#: seconds after a stopped query during which its client may not take a worker's last idle
#: query process (it is left for the others)
PROBATION_SECONDS = 60.0
#: how long a worker trusts what it read of a client's budget
REFRESH_SECONDS = 0.5
#: query time a worker gathers for a client before it writes it to the shared budget
FLUSH_SECONDS = 0.25

_MAGIC = b"kgadmit1"
_REGIONS = 64
_LONG_PER_REGION = 8
_REGION = struct.Struct("=qi4x" + "q" * _LONG_PER_REGION)
_BUDGETS = 4096
_BUDGET = struct.Struct("=qddd")
_REGIONS_AT = len(_MAGIC)
_BUDGETS_AT = _REGIONS_AT + _REGIONS * _REGION.size
_SIZE = _BUDGETS_AT + _BUDGETS * _BUDGET.size


class Refused(Exception):
    """The client may not run more now: answer ``status`` (429) with ``message`` and a
    Retry-After of ``retry_after`` seconds."""

    def __init__(self, message: str, retry_after: int, status: int = 429) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
        self.status = status


def client_key(client: str) -> int:
    """A stable 63-bit key for a client address (the same in every process)."""
    digest = hashlib.blake2b(client.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1 or 1


@dataclass
class _Local:
    """What this worker knows of one client between visits to the shared file."""

    #: query seconds not yet written to the shared budget
    unflushed: float = 0.0
    #: when the shared entry was read, and the time before which the client is refused
    read_at: float = -math.inf
    refused_until: float = 0.0
    reason: str = ""
    #: until when a query of the client counts as stopped lately
    probation_until: float = 0.0


class Admission:
    """The admission state of one server (the workers that serve one release folder)."""

    def __init__(self, path: Path, *, long_queries: int, budget_seconds: float) -> None:
        self.path = path
        self.long_queries = long_queries
        self.budget = budget_seconds
        self._map: mmap.mmap | None = None
        self._fd = -1
        self._pid = -1
        self._region = -1
        self._local: dict[str, _Local] = {}
        self._lock = threading.Lock()

    # -- the shared file ----------------------------------------------------------------

    def _open(self) -> mmap.mmap:
        """The mapped file of this process (a forked worker maps its own)."""
        if self._map is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if os.fstat(fd).st_size < _SIZE:
                os.ftruncate(fd, _SIZE)
            self._map = mmap.mmap(fd, _SIZE)
            self._fd, self._pid, self._region = fd, os.getpid(), -1
            with self._locked() as shared:
                if shared[:len(_MAGIC)] != _MAGIC:
                    shared[:_SIZE] = bytes(_SIZE)
                    shared[:len(_MAGIC)] = _MAGIC
        return self._map

    @contextlib.contextmanager
    def _locked(self) -> Iterator[mmap.mmap]:
        assert self._map is not None
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            yield self._map
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _regions(self, shared: mmap.mmap) -> Iterator[tuple[int, int, int, tuple[int, ...]]]:
        """(index, pid, long slots held, the clients holding them) of every live region."""
        for index in range(_REGIONS):
            pid, held, *clients = _REGION.unpack_from(shared, _REGIONS_AT + index * _REGION.size)
            if pid and (pid == os.getpid() or process_alive(pid)):
                yield index, pid, held, tuple(clients)

    def _own_region(self, shared: mmap.mmap) -> int:
        """This worker's region, claimed on first use from a free one or a dead worker's."""
        if self._region < 0:
            for index in range(_REGIONS):
                pid = _REGION.unpack_from(shared, _REGIONS_AT + index * _REGION.size)[0]
                if pid == 0 or pid == os.getpid() or not process_alive(pid):
                    _REGION.pack_into(shared, _REGIONS_AT + index * _REGION.size, os.getpid(), 0,
                                      *([0] * _LONG_PER_REGION))
                    self._region = index
                    break
            else:
                raise RuntimeError("more than 64 web workers share one release folder")
        return self._region

    def _budget_slot(self, shared: mmap.mmap, key: int) -> tuple[int, tuple[int, float, float,
                                                                            float]]:
        """The budget entry of ``key`` (open addressing; a full table reuses the oldest)."""
        start = key % _BUDGETS
        oldest, oldest_at = start, math.inf
        for step in range(32):
            index = (start + step) % _BUDGETS
            entry = _BUDGET.unpack_from(shared, _BUDGETS_AT + index * _BUDGET.size)
            if entry[0] in (key, 0):
                return index, entry
            if entry[2] < oldest_at:
                oldest, oldest_at = index, entry[2]
        return oldest, (0, 0.0, 0.0, 0.0)

    def _tokens(self, entry: tuple[int, float, float, float], key: int, now: float) -> float:
        if entry[0] != key or not self.budget:
            return self.budget
        _, tokens, stamp, _ = entry
        return min(self.budget, tokens + (now - stamp) * self.budget / 60.0)

    # -- the rules ----------------------------------------------------------------------

    def check(self, client: str) -> None:
        """Raise :class:`Refused` when ``client`` has spent its budget or must pause."""
        now = time.time()
        with self._lock:
            local = self._local.setdefault(client, _Local())
            if now - local.read_at > REFRESH_SECONDS:
                self._refresh(client, local, now)
            if now < local.refused_until:
                wait = max(1, math.ceil(local.refused_until - now))
                raise Refused(f"{local.reason}; retry in {wait} s", wait)

    def _refresh(self, client: str, local: _Local, now: float) -> None:
        self._open()
        key = client_key(client)
        with self._locked() as shared:
            index, entry = self._budget_slot(shared, key)
            tokens = self._tokens(entry, key, now) - local.unflushed
            pause = entry[3] if entry[0] == key else 0.0
            _BUDGET.pack_into(shared, _BUDGETS_AT + index * _BUDGET.size, key, tokens, now,
                              pause)
        local.unflushed, local.read_at = 0.0, now
        if pause:
            local.probation_until = pause - PAUSE_SECONDS + PROBATION_SECONDS
        if pause > now:
            local.refused_until = pause
            local.reason = ("this client's last query was stopped (it ran long while the "
                            "server's slots for long queries were taken, or it needed more "
                            "memory than a query may use)")
        elif self.budget and tokens <= 0:
            local.refused_until = now + -tokens * 60.0 / self.budget + 1
            local.reason = (f"this client has used its {self.budget:g} s of query time per "
                            "minute")
        else:
            local.refused_until = 0.0

    def stopped_lately(self, client: str) -> bool:
        """Whether a query of ``client`` was stopped in the last ``PROBATION_SECONDS``, as
        this worker last read it (:meth:`check` reads it; no access to the shared file)."""
        local = self._local.get(client)
        return local is not None and time.time() < local.probation_until

    def start_long(self, client: str) -> bool:
        """A slot for a long query of ``client``: ``False`` when the server's slots are taken
        or the client already holds one."""
        self._open()
        key = client_key(client)
        with self._locked() as shared:
            own = self._own_region(shared)
            held = 0
            for _index, _pid, count, clients in self._regions(shared):
                held += count
                if key in clients:
                    return False
            if held >= self.long_queries:
                return False
            at = _REGIONS_AT + own * _REGION.size
            pid, count, *slots = _REGION.unpack_from(shared, at)
            if 0 not in slots:
                return False
            slots[slots.index(0)] = key
            _REGION.pack_into(shared, at, pid, count + 1, *slots)
            return True

    def finish(self, client: str, seconds: float, *, long: bool = False,
               stopped: bool = False) -> None:
        """Account a query of ``client`` that took ``seconds``: its long slot is freed, its
        time spent from the budget, and a query stopped for want of a slot makes it pause."""
        key = client_key(client)
        with self._lock:
            local = self._local.setdefault(client, _Local())
            local.unflushed += seconds
            if len(self._local) > 10_000:
                self._local = {client: local}
            flush = long or stopped or local.unflushed >= FLUSH_SECONDS
        if not (flush or long):
            return
        self._open()
        now = time.time()
        with self._locked() as shared:
            if long:
                at = _REGIONS_AT + self._own_region(shared) * _REGION.size
                pid, count, *clients = _REGION.unpack_from(shared, at)
                if key in clients:
                    clients[clients.index(key)] = 0
                    _REGION.pack_into(shared, at, pid, max(0, count - 1), *clients)
            index, entry = self._budget_slot(shared, key)
            with self._lock:
                spent, local.unflushed = local.unflushed, 0.0
                local.read_at = -math.inf
            pause = entry[3] if entry[0] == key else 0.0
            if stopped:
                pause = now + PAUSE_SECONDS
                local.probation_until = now + PROBATION_SECONDS
            _BUDGET.pack_into(shared, _BUDGETS_AT + index * _BUDGET.size, key,
                              self._tokens(entry, key, now) - spent, now, pause)

    def long_running(self) -> int:
        """The long queries the server runs now (all workers)."""
        self._open()
        with self._locked() as shared:
            return sum(count for _i, _p, count, _c in self._regions(shared))
