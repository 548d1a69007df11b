"""The HTTP benchmarks: answers checked on every server, then interleaved rounds of wrk runs.

Before any timing, every item of every workload is asked of every server that runs it,
as it is and made distinct: an item whose answers differ (between the servers, or
between its two texts) or that is not answered 200 is left out of the runs, and the
report says so. This pass also warms every server up.

In each round every server runs every workload, cached then uncached, the order of the
servers rotating from round to round; a workload's runs on the servers follow each
other, so that what else the machine does hits them alike. ``/proc/loadavg`` is read
before and after each round; the CPU time of each server's processes is read before and
after each run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests
from bench import wrk
from bench.servers import Server
from bench.workloads import JSON_RESULTS, Item, Workload, distinct_path, lua_script

#: ``n`` of the distinct texts of the answer checks: beyond what the runs reach
CHECK_N = 5_000_000
VARIANTS = ("cached", "uncached")


@dataclass
class Run(wrk.WrkFigures):
    """One wrk run of a workload's variant on a server, with the server's CPU time."""

    round: int
    workload: str
    variant: str
    server: str
    #: CPU seconds of the processes holding the listening socket (web workers, master)
    cpu_web: float
    #: CPU seconds of the server's other processes (query processes)
    cpu_workers: float
    #: CPU seconds of processes that ended during the run
    cpu_reaped: float


@dataclass
class RoundLoad:
    round: int
    order: list[str]
    before: str
    after: str = ""


@dataclass
class HttpResults:
    runs: list[Run] = field(default_factory=list)
    loads: list[RoundLoad] = field(default_factory=list)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages of ``/proc/loadavg``."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def answer_of(response: requests.Response) -> str:
    """What is compared between servers: the number of solutions, the boolean of an ASK,
    or for a document its status alone."""
    if response.status_code != 200:
        return f"status {response.status_code}"
    if "sparql-results+json" not in response.headers.get("Content-Type", ""):
        return "200"
    body = response.json()
    if "boolean" in body:
        return f"ASK {body['boolean']}"
    return f"{len(body['results']['bindings'])} rows"


def check_answers(workload: Workload, servers: dict[str, Server],
                  say: Callable[[str], None]) -> None:
    """Drop the items whose answers differ or fail; keep the answers in ``workload``."""
    sessions = {name: requests.Session() for name in workload.servers}

    def answers(item: Item) -> dict[str, tuple[str, str]]:
        out = {}
        for name in workload.servers:
            url = servers[name].base_url
            got = []
            for path in (item.path, distinct_path(item, CHECK_N)):
                response = sessions[name].get(url + path, headers={"Accept": workload.accept},
                                              timeout=300)
                got.append(answer_of(response))
            out[name] = (got[0], got[1])
        return out

    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(answers, workload.items))
    kept = []
    for item, by_server in zip(workload.items, found, strict=True):
        values = {v for pair in by_server.values() for v in pair}
        first = by_server[workload.servers[0]][0]
        expected = ("ASK", "rows") if workload.accept == JSON_RESULTS else ("200",)
        if len(values) != 1 or not any(word in first for word in expected):
            workload.dropped[item.name] = "; ".join(
                f"{name}: {a}" + ("" if a == b else f" (distinct text: {b})")
                for name, (a, b) in by_server.items())
        else:
            kept.append(item)
            workload.answers[item.name] = first
    say(f"  {workload.key}: {len(kept)} of {len(workload.items)} requests give the same "
        f"answers on {', '.join(workload.servers)}"
        + (f"; left out: {', '.join(workload.dropped)}" if workload.dropped else ""))
    workload.items = kept


def run_rounds(workloads: Sequence[Workload], servers: dict[str, Server], rounds: int,
               duration: float, work: Path, say: Callable[[str], None]) -> HttpResults:
    results = HttpResults()
    log = work / "wrk.log"
    log.write_text("")
    meters = {name: server.cpu_meter() for name, server in servers.items()}
    names = list(servers)
    base = 0
    for r in range(1, rounds + 1):
        shift = (r - 1) % len(names)
        order = names[shift:] + names[:shift]
        load = RoundLoad(r, order, load_average())
        results.loads.append(load)
        say(f"round {r}/{rounds}: servers in the order {', '.join(order)}; load {load.before}")
        for workload in workloads:
            if not workload.items:
                continue
            for variant in VARIANTS:
                for name in (n for n in order if n in workload.servers):
                    script = lua_script(workload.items, workload.accept, variant == "uncached",
                                        base, wrk.THREADS,
                                        work / f"{workload.key}-{variant}-{name}.lua")
                    meters[name].start()
                    figures = wrk.run(servers[name].base_url + "/", script, duration, log)
                    cpu = meters[name].stop()
                    # every thread's counter stays below all requests (+ those in flight)
                    base += wrk.THREADS * (figures.requests + 10 * wrk.CONNECTIONS)
                    run = Run(**vars(figures), round=r, workload=workload.key,
                              variant=variant, server=name, cpu_web=cpu.web,
                              cpu_workers=cpu.workers, cpu_reaped=cpu.reaped)
                    results.runs.append(run)
                    per_request = 1000 * cpu.total / max(1, figures.requests)
                    say(f"  {workload.key:5} {variant:8} {name:8} {figures.rps:7.0f} req/s  "
                        f"p50 {1000 * figures.p50:6.1f} ms  p99 {1000 * figures.p99:6.1f} ms  "
                        f"server CPU {per_request:.2f} ms/request  errors {figures.errors}")
        load.after = load_average()
    (work / "http-runs.json").write_text(json.dumps(
        {"runs": [vars(run) for run in results.runs],
         "loads": [vars(load) for load in results.loads]}, indent=1))
    return results
