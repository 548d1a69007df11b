"""Query processes forked from a template process: a start costs a fork, not an interpreter.

A query process killed for its cost (past its deadline, its first stretch or its memory)
must be replaced, and under attack that happens several times a second. Started as
``python -m kg.served.runner``, a process spent a third of a second of processor time
before its first job (0.27 s importing rdflib, pyoxigraph and our modules): a core's worth
of starts under the combined attack of ``bench/attack.py``. So each web worker keeps one
*template* process, which imported all of that once and never opens a store or starts a
thread; a new query process is a ``fork()`` of it, which then opens the store itself (no
engine handle ever crosses a fork).

The web worker asks the template over a Unix socket (one message per start: the settings,
with the ends of three pipes passed along, ``SCM_RIGHTS``): the job pipe's read end, the
outcome pipe's write end, and the write end of a *status pipe*, on which the template
writes how the child ended once it has reaped it (the worker cannot ``waitpid()`` a
process that is not its child). The template answers with the child's pid and, where Linux
has them, a pidfd, with which the worker signals exactly that process (never another that
reused its pid). The template ends when the worker closes the socket (or dies: it has asked
to be killed with its parent), and its children end with their job pipes and with it.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable

from kg.system import end_with_parent

_PID = struct.Struct("!q")
_CODE = struct.Struct("!i")
#: what a request says besides the settings: the child's nice value
_REQUEST = struct.Struct("!i")
_MESSAGE_BYTES = 1 << 20


class Child:
    """A process started by the template, as :class:`subprocess.Popen` offers one."""

    def __init__(self, pid: int, status: int, pidfd: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._status = status
        self._pidfd = pidfd

    def _read_status(self, timeout: float | None) -> None:
        if self._status < 0:
            return
        ready, _, _ = select.select([self._status], [], [], timeout)
        if not ready:
            return
        data = os.read(self._status, _CODE.size)
        # no status: the template ended without reaping it (its children end with it)
        self.returncode = (_CODE.unpack(data)[0] if len(data) == _CODE.size
                           else -signal.SIGKILL)
        os.close(self._status)
        self._status = -1
        if self._pidfd >= 0:
            os.close(self._pidfd)
            self._pidfd = -1

    def poll(self) -> int | None:
        self._read_status(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self._read_status(timeout)
        if self.returncode is None:
            raise subprocess.TimeoutExpired("query process", timeout or 0)
        return self.returncode

    def kill(self) -> None:
        if self.poll() is not None:
            return
        try:
            if self._pidfd >= 0:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:  # it has just ended: the template says how
            pass


class Template:
    """This process's template process, started on first use (a forked web worker starts
    its own: the one it inherited serves its parent)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock_pid = -1
        self._process: subprocess.Popen[bytes] | None = None
        self._socket: socket.socket | None = None
        self._pid = -1

    def _start(self) -> socket.socket:
        self.close()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            # a process group of its own: a Ctrl-C at the terminal signals the foreground
            # group, the server's; the template, perhaps still importing, would print a
            # KeyboardInterrupt traceback. It ends with its web worker (end_with_parent, or
            # the socket's end), its query processes with it.
            self._process = subprocess.Popen([sys.executable, "-m", "kg.served.runner"],
                                             stdin=theirs.fileno(), close_fds=True,
                                             process_group=0)
        self._socket, self._pid = ours, os.getpid()
        return ours

    def spawn(self, settings: str, nice: int = 0) -> tuple[Child, int, int]:
        """A new query process serving ``settings`` at priority ``nice``: (the process, the
        write end of its job pipe, the read end of its outcome pipe). A template that ended
        is started again."""
        jobs_in, jobs_out = os.pipe()
        outcomes_in, outcomes_out = os.pipe()
        status_in, status_out = os.pipe()
        try:
            with self._own_lock():
                for attempt in range(2):
                    control = self._socket
                    if (control is None or self._pid != os.getpid() or self._process is None
                            or self._process.poll() is not None):
                        control = self._start()
                    try:
                        socket.send_fds(control, [_REQUEST.pack(nice)
                                                  + settings.encode("utf-8")],
                                        [jobs_in, outcomes_out, status_out])
                        data, fds, _, _ = socket.recv_fds(control, _PID.size, 1)
                    except OSError:
                        data, fds = b"", []
                    if len(data) == _PID.size:
                        break
                    for fd in fds:
                        os.close(fd)
                    self.close()  # started again on the next attempt
                    if attempt:
                        raise OSError("the template of the query processes does not answer")
        except BaseException:
            for fd in (jobs_out, outcomes_in, status_in):
                os.close(fd)
            raise
        finally:
            for fd in (jobs_in, outcomes_out, status_out):
                os.close(fd)
        (pid,) = _PID.unpack(data)
        return Child(pid, status_in, fds[0] if fds else -1), jobs_out, outcomes_in

    def _own_lock(self) -> threading.Lock:
        """The lock of this process's requests, made in this process: a web worker patched by
        gevent after it was forked needs a lock of its green threads (a lock made before
        would block the worker's one thread while a request waits for its answer)."""
        with _CREATING:
            if self._lock_pid != os.getpid():
                self._lock, self._lock_pid = threading.Lock(), os.getpid()
            return self._lock

    def close(self) -> None:
        """End the template (its children end with it)."""
        if self._socket is not None and self._pid == os.getpid():
            self._socket.close()
            if self._process is not None:
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
        self._forget()

    def _forget(self) -> None:
        """Let go of the template without waiting for it; in a forked child (run at fork),
        the inherited socket is the parent's, closed here so that the parent's template
        ends when the parent closes its own."""
        if self._socket is not None:
            self._socket.close()
        self._socket, self._process, self._pid = None, None, -1


#: held only to make a lock (never while waiting for anything)
_CREATING = threading.Lock()
#: the template of this process
TEMPLATE = Template()
os.register_at_fork(after_in_child=TEMPLATE._forget)


def serve(control: socket.socket, start: Callable[[str, int, int], None]) -> None:
    """The template's loop: fork a child for each request on ``control`` that runs
    ``start(settings, job pipe, outcome pipe)`` at the nice value asked; report how each
    child ended on its status pipe. Returns when the web worker closes ``control``."""
    end_with_parent()
    # a stop of the server (Ctrl-C, SIGTERM to its process group, which the template is
    # not in) is the web worker's to handle: the template ends when the worker closes its
    # socket, and keeps reporting how its children ended until then
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    children: dict[int, int] = {}
    wake_in, wake_out = os.pipe()
    os.set_blocking(wake_in, False)
    os.set_blocking(wake_out, False)
    signal.set_wakeup_fd(wake_out)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    while True:
        ready, _, _ = select.select([control.fileno(), wake_in], [], [])
        if wake_in in ready:
            _drain(wake_in)
            _reap(children)
        if control.fileno() not in ready:
            continue
        try:
            data, fds, _, _ = socket.recv_fds(control, _MESSAGE_BYTES, 3)
        except OSError:
            break
        if len(data) < _REQUEST.size or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            if not data:
                break
            continue
        jobs, outcomes, status = fds
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                control.close()
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                # SIGINT stays ignored: a Ctrl-C is the web worker's to handle (its query
                # processes end when their job pipes close, or with their template)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                for fd in (wake_in, wake_out, status, *children.values()):
                    os.close(fd)
                (nice,) = _REQUEST.unpack_from(data)
                if nice:
                    os.setpriority(os.PRIO_PROCESS, 0, nice)
                start(data[_REQUEST.size:].decode("utf-8"), jobs, outcomes)
                code = 0
            except BrokenPipeError:
                code = 0  # its web worker ended before it: nobody is left to answer
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        os.close(jobs)
        os.close(outcomes)
        children[pid] = status
        pidfds = []
        try:
            pidfds.append(os.pidfd_open(pid))
        except (AttributeError, OSError):  # an older Linux: the pid alone
            pass
        try:
            socket.send_fds(control, [_PID.pack(pid)], pidfds)
        except OSError:
            break
        finally:
            for fd in pidfds:
                os.close(fd)
        _reap(children)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except BlockingIOError:
        pass


def _reap(children: dict[int, int]) -> None:
    """Write how each ended child ended (its exit code, or minus its signal) to its status
    pipe."""
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        fd = children.pop(pid, -1)
        if fd >= 0:
            try:
                os.write(fd, _CODE.pack(os.waitstatus_to_exitcode(status)))
            except OSError:
                pass
            os.close(fd)
