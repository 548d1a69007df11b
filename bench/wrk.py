"""One wrk run: 2 threads, 8 keep-alive connections, a Lua script, and what it cost.

The figures are wrk's own (requests/s, latency percentiles from its histogram, errors);
the client's CPU time comes from the kernel's account of the finished child
(``getrusage(RUSAGE_CHILDREN)``), so that its share of the 2 cores is known.
"""

from __future__ import annotations

import re
import resource
import subprocess
from dataclasses import dataclass
from pathlib import Path

THREADS = 2
CONNECTIONS = 8
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass
class WrkFigures:
    requests: int
    seconds: float
    rps: float
    p50: float
    p99: float
    errors: int
    #: CPU seconds (user + system) of wrk itself
    client_cpu: float


def _seconds(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(found.group(1)) * _UNITS[found.group(2)]


def _search(pattern: str, text: str) -> str:
    found = re.search(pattern, text, re.M)
    if found is None:
        raise RuntimeError(f"wrk's output has no {pattern!r}:\n{text}")
    return found.group(1)


def parse(text: str) -> tuple[int, float, float, float, float, int]:
    """(requests, seconds, requests/s, p50, p99, errors) of wrk's ``--latency`` output."""
    requests = int(_search(r"(\d+) requests in", text))
    seconds = _seconds(_search(r"\d+ requests in ([\d.]+(?:us|ms|s|m))", text))
    errors = 0
    if found := re.search(r"Non-2xx or 3xx responses: (\d+)", text):
        errors += int(found.group(1))
    if found := re.search(r"Socket errors: (.*)", text):
        errors += sum(int(x) for x in re.findall(r"\d+", found.group(1)))
    return (requests, seconds, float(_search(r"Requests/sec:\s+([\d.]+)", text)),
            _seconds(_search(r"^\s+50%\s+(\S+)", text)),
            _seconds(_search(r"^\s+99%\s+(\S+)", text)), errors)


def run(url: str, script: Path, duration: float, log: Path) -> WrkFigures:
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{duration:g}s", "--timeout", "60s",
               "--latency", "-s", str(script), url]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n{done.stdout}{done.stderr}\n")
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return WrkFigures(*parse(done.stdout), client_cpu=cpu)
