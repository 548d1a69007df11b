"""The benchmark's servers as processes: started and stopped here, seen through /proc.

A server is found from its process tree, never from its internals: the processes that
hold its listening socket answer HTTP (gunicorn's master and web workers, Virtuoso), the
other processes of the tree work for them (our query processes). :class:`CpuMeter`
reads their user + system CPU time from ``/proc/<pid>/stat`` before and after a run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import requests

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Process:
    """A server we started in its own session, so that stopping it stops its workers."""

    def __init__(self, command: Sequence[str], log: Path, cwd: Path,
                 env: dict[str, str] | None = None) -> None:
        self.log = log
        self.popen = subprocess.Popen(list(command), stdout=log.open("wb"),
                                      stderr=subprocess.STDOUT, cwd=cwd,
                                      env={**os.environ, **(env or {})}, start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def wait_until(self, url: str, timeout: float = 300, params: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None) -> float:
        """Seconds until ``url`` answered 200; RuntimeError with the log's end if it exits."""
        start = time.perf_counter()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{' '.join(map(str, self.popen.args))} exited: "
                                   + self.log.read_text(errors="replace")[-2000:])
            try:
                if requests.get(url, params=params, headers=headers, timeout=5).status_code == 200:
                    return time.perf_counter() - start
            except requests.RequestException:
                pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{url} did not answer within {timeout:.0f} s; see {self.log}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()


# -- the process tree -----------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (field 3 on), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat_fields(int(entry))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def listening_sockets(port: int) -> set[str]:
    """The inodes of the sockets listening on TCP ``port`` (IPv4 or IPv6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def holds_socket(pid: int, inodes: set[str]) -> bool:
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            return True
    return False


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(user + system CPU of ``pid``, of its children already waited for), in seconds."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0.0, 0.0
    # after the name: state ppid ... utime(11) stime(12) cutime(13) cstime(14), 0-based
    own = int(fields[11]) + int(fields[12])
    reaped = int(fields[13]) + int(fields[14])
    return own / CLOCK_TICKS, reaped / CLOCK_TICKS


@dataclass
class CpuUse:
    """CPU seconds spent by a server's processes over one run."""

    #: processes holding the listening socket (web workers, gunicorn's master, Virtuoso)
    web: float = 0.0
    #: the other processes of the tree (our query processes)
    workers: float = 0.0
    #: processes that ended during the run, as counted by their parents
    reaped: float = 0.0
    web_pids: int = 0
    worker_pids: int = 0

    @property
    def total(self) -> float:
        return self.web + self.workers + self.reaped


@dataclass
class CpuMeter:
    """Samples the CPU time of the processes of a server's tree (root ``pid``, ``port``)."""

    pid: int
    port: int
    _start: dict[int, tuple[float, float]] = field(default_factory=dict)

    def start(self) -> None:
        self._start = {p: cpu_seconds(p) for p in process_tree(self.pid)}

    def stop(self) -> CpuUse:
        inodes = listening_sockets(self.port)
        use = CpuUse()
        for pid in process_tree(self.pid):
            own, reaped = cpu_seconds(pid)
            own0, reaped0 = self._start.get(pid, (0.0, 0.0))
            use.reaped += reaped - reaped0
            if holds_socket(pid, inodes):
                use.web += own - own0
                use.web_pids += 1
            else:
                use.workers += own - own0
                use.worker_pids += 1
        return use
