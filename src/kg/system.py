"""What the processes of KazKor KG ask of the operating system: a memory limit, a limit on
processor time, and to end with the process that started them."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import resource
import signal

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
