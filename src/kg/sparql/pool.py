"""A small pool of query processes per web worker, with a timeout that really stops the work.

Processes are started ahead of need (never one per request) and reused. A job
that runs past its deadline gets its process killed (SIGKILL: the engine stops
at once, its memory is freed) and a fresh process takes its place; the caller
gets :class:`QueryTimeout`. Other requests keep being served by the other
processes of the pool meanwhile.
"""

from __future__ import annotations

import os
import pickle
import queue
import select
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

from kg.sparql.runner import _HEADER, Job, Outcome


class QueryTimeout(Exception):
    """The job ran past its deadline; its process was killed."""


class QueryProcessDied(Exception):
    """The query process ended without answering (crashed or was killed from outside)."""


class QueryProcess:
    def __init__(self, argv: Sequence[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kg.sparql.runner", *argv],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._in = self.process.stdin
        self._out = self.process.stdout.fileno()

    def _read(self, size: int, deadline: float) -> bytes:
        chunks: list[bytes] = []
        while size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise QueryTimeout
            ready, _, _ = select.select([self._out], [], [], remaining)
            if not ready:
                raise QueryTimeout
            chunk = os.read(self._out, min(size, 1 << 20))
            if not chunk:
                raise QueryProcessDied
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def run(self, job: Job, timeout: float) -> Outcome:
        deadline = time.monotonic() + timeout
        data = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self._in.write(_HEADER.pack(len(data)) + data)
            self._in.flush()
        except (BrokenPipeError, OSError) as e:
            raise QueryProcessDied from e
        (size,) = _HEADER.unpack(self._read(_HEADER.size, deadline))
        outcome = pickle.loads(self._read(size, deadline))
        assert isinstance(outcome, Outcome)
        return outcome

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._in.close()
        if self.process.stdout is not None:
            self.process.stdout.close()

    def stop(self) -> None:
        """End the process gently: it exits when its job pipe closes."""
        try:
            self._in.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()


class QueryPool:
    """Up to ``size`` query processes of this web worker; one job per process at a time."""

    def __init__(self, argv: Sequence[str], size: int) -> None:
        self._argv = list(argv)
        self._size = max(1, size)
        self._idle: queue.LifoQueue[QueryProcess] = queue.LifoQueue()
        self._started = 0
        self._lock = threading.Lock()
        self._pid = os.getpid()
        # all started at once: a process takes a moment to import and open the store
        for _ in range(self._size):
            self._idle.put(self._start())

    def _start(self) -> QueryProcess:
        with self._lock:
            self._started += 1
        return QueryProcess(self._argv)

    def _take(self) -> QueryProcess:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            room = self._started < self._size
        return self._start() if room else self._idle.get()

    def run(self, job: Job, timeout: float) -> Outcome:
        process = self._take()
        try:
            outcome = process.run(job, timeout)
        except (QueryTimeout, QueryProcessDied):
            process.kill()
            with self._lock:
                self._started -= 1
            self._idle.put(self._start())
            raise
        self._idle.put(process)
        return outcome

    def close(self) -> None:
        if os.getpid() != self._pid:
            return
        while True:
            try:
                self._idle.get_nowait().stop()
            except queue.Empty:
                return
