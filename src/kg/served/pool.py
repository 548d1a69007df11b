"""A small pool of query processes per web worker, with a deadline that really stops the work.

Processes are reused, never started per request: the first with the pool, the others in
the background once it is ready (all at once, they would share the cores while the first
query waits for one of them). Each is forked from the web worker's template process
(:mod:`kg.served.template`), which has imported what a query process needs. A pool may
keep a standby process, started and idle, to take the place of a killed one at once. Each
process runs under a memory limit (``RLIMIT_DATA``, set by the process itself before it
opens the store): an allocation past it ends the process.

A job waits for an idle process no longer than its deadline (and then runs for at least
:data:`MIN_RUN_SECONDS`). A job that runs past its deadline gets its process killed
(SIGKILL: the engine stops at once, its memory is freed) and a fresh process takes its
place. A job may also be *promoted*: when it is still running after a short first stretch,
the caller is asked whether it may go on (the server has a few slots for long work); if
not, it is stopped at once, and if so its process is lowered in priority, so that short
jobs in the other processes keep the cores. A job that took its process down is never run
again. Other requests keep being served by the other processes of the pool meanwhile.
"""

from __future__ import annotations

import logging
import os
import pickle
import resource
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable

from kg.served.template import TEMPLATE
from kg.served.wire import HEADER, READY, Job, Outcome, dumps

log = logging.getLogger(__name__)

#: how long a new query process may take to import and open the store
STARTUP_SECONDS = 120.0
#: the run time a job is given after it waited for a process, at least (or its timeout)
MIN_RUN_SECONDS = 1.0
#: what one read from a query process asks for, at least
READ_BYTES = 64 * 1024
#: the priority (nice value) of a process while it runs a promoted (long) job
LONG_WORK_NICE = 15


def short_memory_mb(memory_mb: int) -> int:
    """The memory a query process may use until its job is promoted to long work: half of
    what long work may use, and never less than a process needs to open the store."""
    return max(192, memory_mb // 2)


def ended_by(code: int) -> str:
    """How a process ended, from its return code: a signal's name or its exit status."""
    if code < 0:
        try:
            return signal.Signals(-code).name
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"


class QueryTimeout(Exception):
    """The job ran past its deadline (its process was killed), or no process became free
    before it (``waited``)."""

    def __init__(self, waited: bool = False) -> None:
        super().__init__("waited for a process" if waited else "ran past its deadline")
        self.waited = waited


class QueryProcessDied(Exception):
    """The query process ended without answering: ``memory`` when it ran out of the memory
    it may use (an allocation failed and the process aborted), else it crashed or was killed
    from outside."""

    def __init__(self, memory: bool = False, killed: bool = False) -> None:
        super().__init__("out of memory" if memory else "the process ended")
        self.memory = memory
        #: it got SIGKILL, not from its pool: killed from outside, not by its job
        self.killed = killed


class QueryStopped(Exception):
    """The job ran past its first stretch and the caller did not let it go on: its process
    was killed."""


class QueryProcess:
    def __init__(self, settings: str, nice: int = 0) -> None:
        self.process, jobs, self._out = TEMPLATE.spawn(settings, nice)
        # read without waiting first: an answer already there is taken at once (a wait
        # through select() gives the other requests of a gevent worker their turn, which an
        # answer already there does not need)
        os.set_blocking(self._out, False)
        self.nice = nice
        self._in = jobs
        self._buffer = bytearray()
        self._ready = False

    def _fill(self, size: int, deadline: float) -> None:
        """Read until the buffer holds ``size`` bytes; what was read stays in the buffer when
        the deadline passes first (:class:`QueryTimeout`)."""
        while len(self._buffer) < size:
            try:
                # more than the size asked for: a message's length and its body come in one
                # read (what follows stays in the buffer)
                chunk = os.read(self._out, min(max(size - len(self._buffer), READ_BYTES),
                                               1 << 20))
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise QueryTimeout from None
                ready, _, _ = select.select([self._out], [], [], remaining)
                if not ready:
                    raise QueryTimeout from None
                continue
            if not chunk:
                code = self._exit_code()
                raise QueryProcessDied(memory=code in (-signal.SIGABRT, 128 + signal.SIGABRT),
                                       killed=code == -signal.SIGKILL)
            self._buffer += chunk  # a bytearray: a long answer is not copied per chunk

    def _exit_code(self) -> int | None:
        """How the process ended (it closed its pipe): SIGABRT when an allocation failed
        (Rust aborts then)."""
        try:
            return self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return None

    def _ran_out_of_memory(self) -> bool:
        return self._exit_code() in (-signal.SIGABRT, 128 + signal.SIGABRT)

    def _receive(self, deadline: float) -> object:
        self._fill(HEADER.size, deadline)
        (size,) = HEADER.unpack_from(self._buffer)
        self._fill(HEADER.size + size, deadline)
        with memoryview(self._buffer) as view:
            message = pickle.loads(view[HEADER.size:HEADER.size + size])
        del self._buffer[:HEADER.size + size]
        return message

    def said_ready(self, wait: float = 0.0) -> bool:
        """Whether the process has opened its store: its ready message was read, or waits to
        be (looked at for up to ``wait`` seconds, not read)."""
        if self._ready:
            return True
        try:
            readable, _, _ = select.select([self._out], [], [], wait)
        except (OSError, ValueError):  # killed and closed meanwhile
            return True
        return bool(readable)

    def wait_ready(self) -> None:
        """Wait for the process to open the store: its start-up never counts against a job."""
        if not self._ready:
            try:
                ready = self._receive(time.monotonic() + STARTUP_SECONDS)
            except QueryTimeout:
                raise QueryProcessDied() from None
            if ready != READY:
                raise QueryProcessDied()
            self._ready = True

    def send(self, job: Job) -> None:
        self.wait_ready()
        data = dumps(job)
        message = memoryview(HEADER.pack(len(data)) + data)
        try:
            while message:
                message = message[os.write(self._in, message):]
        except (BrokenPipeError, OSError) as e:
            raise QueryProcessDied(memory=self._ran_out_of_memory()) from e

    def outcome(self, deadline: float) -> Outcome:
        outcome = self._receive(deadline)
        assert isinstance(outcome, Outcome)
        return outcome

    def promote(self, memory_mb: int) -> None:
        """Let the job go on as long work: a lower priority, and the memory a long job may
        use (the process is replaced after it)."""
        try:
            os.setpriority(os.PRIO_PROCESS, self.process.pid,
                           max(self.nice, LONG_WORK_NICE))
            if memory_mb:
                limit = memory_mb * 1024 * 1024
                resource.prlimit(self.process.pid, resource.RLIMIT_DATA, (limit, limit))
        except (OSError, ValueError):  # it has just ended: its outcome says how
            pass

    def kill(self) -> None:
        """Kill the process; one that had ended by itself is reported in the log (a crash,
        or SIGABRT: an allocation past its memory limit)."""
        code = self.process.poll()
        if code is None:
            self.process.kill()
        else:
            log.warning("query process %d ended by itself (%s)", self.process.pid,
                        ended_by(code))
        self.process.wait()
        self._close()

    def _close(self) -> None:
        self._close_jobs()
        self._out = _closed(self._out)

    def _close_jobs(self) -> None:
        self._in = _closed(self._in)

    def stop(self) -> None:
        """End the process gently: it exits when its job pipe closes."""
        self._close_jobs()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            return
        self._close()


def _closed(fd: int) -> int:
    """Close the pipe ``fd`` unless it is closed already (-1); -1. A number is closed once:
    another file may have it afterwards."""
    if fd >= 0:
        try:
            os.close(fd)
        except OSError:
            pass
    return -1


class QueryPool:
    """Up to ``size`` query processes of this web worker; one job per process at a time.

    With ``standby``, one more process is kept started and idle, outside the pool: when a
    process is killed (a job ran past its deadline or its first stretch) the standby takes
    its place at once, and a new standby starts in the background. A job that was waiting
    for a process then never waits for a start-up (imports, opening the store), which would
    take a second when the cores are busy."""

    def __init__(self, settings: str, size: int, *, memory_mb: int = 0,
                 standby: bool = False, nice: int = 0) -> None:
        """``settings``: the JSON of the :class:`~kg.config.Config` the processes serve;
        ``memory_mb``: the memory a promoted job may use (the processes start with a lower
        limit, :func:`short_memory_mb`); ``nice``: the priority the processes run at."""
        self._settings = settings
        self._nice = nice
        self._size = max(1, size)
        self._memory_mb = memory_mb
        self._keeps_standby = standby
        self._standby: QueryProcess | None = None
        self._idle: list[QueryProcess] = []
        self._started = 0
        self._free = threading.Condition()
        self.pid = os.getpid()
        self._closed = False
        first = self._start()
        self._give_back(first, fresh=True)
        if self._size > 1 or standby:
            threading.Thread(target=self._start_others, args=(first,), daemon=True).start()

    def _start_others(self, first: QueryProcess) -> None:
        """Start the rest of the pool, then its standby, once the first process has opened
        the store (or after the start-up a process may take)."""
        deadline = time.monotonic() + STARTUP_SECONDS
        while (time.monotonic() < deadline and first.process.poll() is None
               and not first.said_ready(0.05)):
            pass
        for _ in range(self._size - 1):
            with self._free:
                if self._closed or self._started >= self._size:
                    break
            process = self._start()
            with self._free:
                if not self._closed:
                    self._idle.insert(0, process)  # still starting: last in line
                    self._free.notify_all()
                    continue
            process.stop()  # the pool closed while it started
            return
        if self._keeps_standby:
            self._new_standby()

    def _start(self) -> QueryProcess:
        with self._free:
            self._started += 1
        return QueryProcess(self._settings, self._nice)

    def _give_back(self, process: QueryProcess, *, fresh: bool = False) -> None:
        """An idle process back to the pool; a ``fresh`` one (still starting) goes last in
        line, so that jobs take processes that are ready first."""
        with self._free:
            if fresh:
                self._idle.insert(0, process)
            else:
                self._idle.append(process)
            # every waiter looks: one that keeps a reserve may not take it, another may
            self._free.notify_all()

    def _take(self, deadline: float, reserve: int) -> QueryProcess:
        """An idle process, started if the pool has room; raises ``QueryTimeout(waited=True)``
        when none is free before ``deadline``. A job with a ``reserve`` may only take a
        process while more than ``reserve`` are idle (at most all but one of the pool): the
        reserve is kept for favoured work (:meth:`kg.served.ServedDataset.run`)."""
        reserve = min(reserve, self._size - 1)
        process: QueryProcess | None
        with self._free:
            while True:
                process = self._idle_process(reserve)
                if process is not None:
                    break
                if self._started < self._size and reserve == 0:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise QueryTimeout(waited=True)
                self._free.wait(remaining)
        if process is None:
            process = self._start()
        if process.process.poll() is not None:
            # it died while idle (killed from outside, out of memory): no job was lost
            self._replace(process)
            return self._take(deadline, reserve)
        return process

    def _idle_process(self, reserve: int) -> QueryProcess | None:
        """The idle process a job with ``reserve`` takes (under the lock), if any: one that is
        ready, unless taking it would leave fewer than ``reserve`` ready ones while others
        are still starting (the job waits for a start-up then, the favoured work does not)."""
        if len(self._idle) <= reserve:
            return None
        ready = [at for at, process in enumerate(self._idle) if process.said_ready()]
        if len(ready) > reserve:
            return self._idle.pop(ready[-1])
        if reserve == 0:  # none is ready: one still starting
            return self._idle.pop()
        starting = [at for at in range(len(self._idle)) if at not in ready]
        return self._idle.pop(starting[-1])

    def _replace(self, process: QueryProcess) -> None:
        """Kill ``process`` and put the standby (or a new process) in its place."""
        process.kill()
        with self._free:
            standby, self._standby = self._standby, None
        if standby is not None and standby.process.poll() is not None:
            standby.kill()  # it died while it stood by (killed from outside)
            standby = None
        if standby is None:
            standby = QueryProcess(self._settings, self._nice)
        self._give_back(standby, fresh=not standby.said_ready())
        if self._keeps_standby:
            self._new_standby()

    def _new_standby(self) -> None:
        """Start a standby unless there is one (starting one is a fork and an exec: its
        start-up runs in the new process)."""
        with self._free:
            if not self._closed and self._standby is None:
                self._standby = QueryProcess(self._settings, self._nice)

    def run(self, job: Job, timeout: float, *, first_stretch: float | None = None,
            go_on: Callable[[], bool] | None = None, reserve: int = 0) -> Outcome:
        """The outcome of ``job``. Raises :class:`QueryTimeout` when it ran past ``timeout``
        seconds (or waited that long for a process), :class:`QueryProcessDied` when its
        process ended before answering, :class:`QueryStopped` when it was still running
        after ``first_stretch`` seconds and ``go_on()`` said no. A process whose job did not
        answer is replaced, and the job is not run again: a job that took a process down may
        take the next one down too (a job that never reached its process, or whose process
        was killed from outside, is given to another, once). A promoted job's process is
        replaced after it (it ran at a lower priority, with more memory). ``reserve``: see
        :meth:`_take`."""
        deadline = time.monotonic() + timeout
        try:
            return self._run(job, deadline, timeout, first_stretch, go_on, reserve)
        except QueryProcessDied as died:
            if not died.killed:
                raise
        # its process was killed from outside while it ran: the job did not end it
        return self._run(job, deadline, timeout, first_stretch, go_on, reserve)

    def _run(self, job: Job, deadline: float, timeout: float, first_stretch: float | None,
             go_on: Callable[[], bool] | None, reserve: int) -> Outcome:
        process = self._send(job, deadline, reserve)
        # the job's time runs from when a process took it (it waited for one within the
        # deadline): a short timeout never stops a job that waited for a start-up
        deadline = max(deadline, time.monotonic() + min(timeout, MIN_RUN_SECONDS))
        promoted = False
        try:
            if go_on is not None and first_stretch is not None and first_stretch < timeout:
                try:
                    outcome = process.outcome(min(deadline, time.monotonic() + first_stretch))
                except QueryTimeout:
                    if not go_on():
                        raise QueryStopped from None
                    promoted = True
                    process.promote(self._memory_mb)
                    outcome = process.outcome(deadline)
            else:
                outcome = process.outcome(deadline)
        except (QueryTimeout, QueryProcessDied, QueryStopped):
            self._replace(process)
            raise
        if promoted:
            self._replace(process)
        else:
            self._give_back(process)
        return outcome

    def _send(self, job: Job, deadline: float, reserve: int) -> QueryProcess:
        """A process that took ``job``. A process that ended while idle (killed from outside,
        its pipe closed) never got the job: it is replaced and another takes the job, twice
        at most (a process that cannot start at all fails the job)."""
        for attempt in range(3):
            process = self._take(deadline, reserve)
            try:
                process.send(job)
                return process
            except QueryProcessDied:
                self._replace(process)
                if attempt == 2:
                    raise
        raise QueryProcessDied()

    @property
    def idle(self) -> int:
        return len(self._idle)

    def close(self) -> None:
        if os.getpid() != self.pid:
            return
        with self._free:
            self._closed = True
            idle, self._idle = self._idle, []
            if self._standby is not None:
                idle.append(self._standby)
                self._standby = None
        for process in idle:
            process.stop()
