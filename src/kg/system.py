"""What the processes of KazKor KG ask of the operating system: a memory limit, a limit on
processor time, to end with the process that started them, and a forked copy of the
process to work beside it."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import pickle
import resource
import signal
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

T = TypeVar("T")

_PR_SET_PDEATHSIG = 1


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library, for what Python does not wrap (None where it cannot be found)."""
    name = ctypes.util.find_library("c")
    return None if name is None else ctypes.CDLL(name, use_errno=True)


def limit_memory(megabytes: int, most: int | None = None) -> None:
    """At most ``megabytes`` of heap (and other private memory) for this process, from now on
    (a limit its parent may raise up to ``most`` megabytes): an allocation past it fails.
    Rust code (Oxigraph) then aborts the process; Python raises MemoryError."""
    soft = megabytes * 1024 * 1024
    hard = max(soft, (most or megabytes) * 1024 * 1024)
    resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))


#: the stack each thread started from now on reserves (glibc's default is the stack limit,
#: 8 MB): RocksDB starts threads of its own per store, and a memory limit counts the stacks'
#: reserved address space whether or not it is used
THREAD_STACK_MB = 2


def limit_thread_stacks(megabytes: int = THREAD_STACK_MB) -> None:
    """Threads started from now on without a stack size of their own (the engine's, in
    C++) reserve ``megabytes`` of stack instead of the stack limit's 8 MB (glibc, Linux)."""
    libc = _libc()
    if libc is None:
        return
    attributes = ctypes.create_string_buffer(128)  # a pthread_attr_t is 56 bytes
    if libc.pthread_attr_init(attributes) != 0:
        return
    try:
        if libc.pthread_attr_setstacksize(attributes, ctypes.c_size_t(megabytes << 20)) == 0:
            libc.pthread_setattr_default_np(attributes)
    finally:
        libc.pthread_attr_destroy(attributes)


def limit_processor_time(seconds: float) -> None:
    """The process is killed once it has used ``seconds`` of processor time."""
    limit = max(1, int(seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (limit, limit + 5))


def end_with_parent() -> None:
    """Be killed when the process that started this one ends (Linux), so that no orphan
    goes on working for a web worker that is gone."""
    libc = _libc()
    if libc is None:
        return
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` runs (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Forked(Generic[T]):
    """``function(*args)`` run in a forked copy of this process while this one goes on: for
    work on data already in memory, which a fork shares instead of sending it. Use it as a
    context manager; :meth:`result` waits for the value (or raises what the function
    raised, :class:`ChildProcessError` when the copy ended without an answer). Leaving the
    block without asking for it ends the copy."""

    def __init__(self, function: Callable[..., T], *args: Any) -> None:
        read, write = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the copy: compute, answer, end without running any clean-up
            os.close(read)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            try:
                try:
                    outcome: tuple[bool, object] = (True, function(*args))
                except BaseException as e:  # noqa: BLE001 - sent to the parent, raised there
                    outcome = (False, e)
                data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as e:  # noqa: BLE001 - an answer that does not pickle
                data = pickle.dumps((False, ChildProcessError(f"{e!r}")))
            with os.fdopen(write, "wb") as out:
                out.write(data)
            os._exit(0)
        os.close(write)
        self._read: int | None = read

    def result(self) -> T:
        if self._read is None:
            raise RuntimeError("the result was taken already")
        with os.fdopen(self._read, "rb") as stream:
            self._read = None
            data = stream.read()
        _, status = os.waitpid(self.pid, 0)
        if not data:
            raise ChildProcessError(f"the forked process ended without an answer "
                                    f"(wait status {status})")
        ok, value = pickle.loads(data)
        if not ok:
            raise value
        return value

    def __enter__(self) -> Forked[T]:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._read is not None:
            os.close(self._read)
            self._read = None
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
