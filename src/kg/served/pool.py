"""A small pool of query processes per web worker, with a deadline that really stops the work.

Processes are reused, never started per request: the first with the pool, the
others in the background once it is ready (all at once, they would share the cores
while the first query waits for one of them). A job
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

from kg.served.wire import HEADER, READY, Job, Outcome

#: how long a new query process may take to import and open the store
STARTUP_SECONDS = 120.0


class QueryTimeout(Exception):
    """The job ran past its deadline; its process was killed."""


class QueryProcessDied(Exception):
    """The query process ended without answering (crashed or was killed from outside)."""


class QueryProcess:
    def __init__(self, settings: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kg.served.runner"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._in = self.process.stdin
        self._out = self.process.stdout.fileno()
        self._ready = False
        try:
            self._in.write(settings.encode("utf-8") + b"\n")
            self._in.flush()
        except OSError:  # it died at once: the first job finds out
            pass

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

    def _receive(self, deadline: float) -> object:
        (size,) = HEADER.unpack(self._read(HEADER.size, deadline))
        return pickle.loads(self._read(size, deadline))

    @property
    def said_ready(self) -> bool:
        """Whether the process has opened its store: its ready message was read, or waits to
        be (looked at for 50 ms, not read)."""
        if self._ready:
            return True
        try:
            readable, _, _ = select.select([self._out], [], [], 0.05)
        except (OSError, ValueError):  # killed and closed meanwhile
            return True
        return bool(readable)

    def wait_ready(self) -> None:
        """Wait for the process to open the store: its start-up never counts against a query."""
        if not self._ready:
            try:
                ready = self._receive(time.monotonic() + STARTUP_SECONDS)
            except QueryTimeout:
                raise QueryProcessDied("the query process did not start in time") from None
            if ready != READY:
                raise QueryProcessDied(f"the query process said {ready!r} instead of ready")
            self._ready = True

    def run(self, job: Job, timeout: float) -> Outcome:
        self.wait_ready()
        deadline = time.monotonic() + timeout
        data = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self._in.write(HEADER.pack(len(data)) + data)
            self._in.flush()
        except (BrokenPipeError, OSError) as e:
            raise QueryProcessDied from e
        outcome = self._receive(deadline)
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

    def __init__(self, settings: str, size: int) -> None:
        """``settings``: the JSON of the :class:`~kg.config.Config` the processes serve."""
        self._settings = settings
        self._size = max(1, size)
        self._idle: queue.LifoQueue[QueryProcess] = queue.LifoQueue()
        self._started = 0
        self._lock = threading.Lock()
        self.pid = os.getpid()
        self._closed = False
        first = self._start()
        self._idle.put(first)
        if self._size > 1:
            threading.Thread(target=self._start_others, args=(first,), daemon=True).start()

    def _start_others(self, first: QueryProcess) -> None:
        """Start the rest of the pool once the first process has opened the store (or after
        the start-up a process may take)."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and first.process.poll() is None and not first.said_ready:
            pass
        for _ in range(self._size - 1):
            with self._lock:
                if self._closed or self._started >= self._size:
                    return
            process = self._start()
            with self._lock:
                if not self._closed:
                    self._idle.put(process)
                    continue
            process.stop()  # the pool closed while it started
            return

    def _start(self) -> QueryProcess:
        with self._lock:
            self._started += 1
        return QueryProcess(self._settings)

    def _take(self) -> QueryProcess:
        try:
            process = self._idle.get_nowait()
        except queue.Empty:
            with self._lock:
                room = self._started < self._size
            process = self._start() if room else self._idle.get()
        if process.process.poll() is not None:
            # it died while idle (killed from outside, out of memory): no job was lost
            self._replace(process)
            return self._take()
        return process

    def _replace(self, process: QueryProcess) -> None:
        process.kill()
        with self._lock:
            self._started -= 1
        self._idle.put(self._start())

    def run(self, job: Job, timeout: float) -> Outcome:
        """The outcome of ``job``; raises :class:`QueryTimeout` when it ran past ``timeout``
        seconds, :class:`QueryProcessDied` when its process ended before answering. Either
        way the process is replaced, and the job is not run again: a job that took a process
        down may take the next one down too."""
        process = self._take()
        try:
            outcome = process.run(job, timeout)
        except (QueryTimeout, QueryProcessDied):
            self._replace(process)
            raise
        self._idle.put(process)
        return outcome

    def close(self) -> None:
        if os.getpid() != self.pid:
            return
        with self._lock:
            self._closed = True
        while True:
            try:
                self._idle.get_nowait().stop()
            except queue.Empty:
                return
