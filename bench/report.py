"""docs/benchmarks.md from one run's results: tables, same-round ratios, the goals, met or not.

Every req/s, latency and CPU figure is the median over the rounds with (min–max); a
ratio is computed within a round (both figures from the same round) and then reported as
the median (min–max) over rounds, so that a busy moment of the machine hits both sides.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bench.builds import BuildResults, Timed
from bench.lubm import QUERY_NAMES, BackendResults, LubmResults, QueryTimes
from bench.rounds import HttpResults, Run
from bench.servers import UNION_GRAPH, WorkerModel
from bench.workloads import Workload
from bench.wrk import CONNECTIONS, THREADS

SPARQL_WORKLOADS = ("cheap", "iri", "cq")
DOCUMENTS = {"data": 0.6, "page": 0.4}


@dataclass
class Results:
    command: str
    commit: str
    machine: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    duration: float = 0.0
    rounds: int = 0
    model: WorkerModel | None = None
    servers: dict[str, str] = field(default_factory=dict)
    ours_start_seconds: float | None = None
    workloads: list[Workload] = field(default_factory=list)
    http: HttpResults | None = None
    builds: BuildResults = field(default_factory=BuildResults)
    backends: BackendResults | None = None
    lubm: LubmResults | None = None
    lubm_expected: dict[str, int] = field(default_factory=dict)
    lubm1_expected: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


# -- figures ----------------------------------------------------------------------------------


def spread(values: Sequence[float | None], scale: float = 1.0, digits: int = 2,
           unit: str = "") -> str:
    """``median (min–max)`` of the values that are not ``None``."""
    done = [scale * v for v in values if v is not None]
    if not done:
        return "timeout" if values else "-"
    unit = f" {unit}" if unit else ""
    text = f"{statistics.median(done):.{digits}f}{unit}"
    if len(done) > 1:
        text += f" ({min(done):.{digits}f}–{max(done):.{digits}f})"
    if len(done) < len(values):
        text += f", {len(values) - len(done)} over the cap"
    return text


def median(values: Sequence[float | None]) -> float | None:
    done = [v for v in values if v is not None]
    return statistics.median(done) if done else None


def _runs(http: HttpResults, workload: str, variant: str, server: str) -> list[Run]:
    return [r for r in http.runs
            if (r.workload, r.variant, r.server) == (workload, variant, server)]


def round_ratios(http: HttpResults, a: tuple[str, str, str], b: tuple[str, str, str]
                 ) -> list[float]:
    """rps(a) ÷ rps(b) within each round where both ran; (workload, variant, server) each."""
    left = {r.round: r.rps for r in _runs(http, *a)}
    right = {r.round: r.rps for r in _runs(http, *b)}
    return [left[k] / right[k] for k in sorted(left) if k in right and right[k]]


def _total(seconds: dict[str, list[float | None]]) -> float | None:
    medians = [median(v) for v in seconds.values()]
    return None if any(m is None for m in medians) else sum(medians)  # type: ignore[misc]


def lubm_ratio(res: LubmResults) -> tuple[float | None, list[float]]:
    """Our sum of the 14 medians ÷ Virtuoso's, and the same ratio run by run."""
    ours, virt = res.queries.seconds.get("ours", {}), res.queries.seconds.get("virtuoso", {})
    total = _total(ours), _total(virt)
    whole = total[0] / total[1] if total[0] and total[1] else None
    per_run = []
    for k in range(max((len(v) for v in ours.values()), default=0)):
        pairs = [(ours[q][k], virt[q][k]) for q in ours
                 if q in virt and k < len(ours[q]) and k < len(virt[q])]
        if len(pairs) == len(ours) and all(a is not None and b is not None for a, b in pairs):
            per_run.append(sum(a for a, _ in pairs) / sum(b for _, b in pairs))  # type: ignore[misc]
    return whole, per_run


# -- goals ------------------------------------------------------------------------------------


@dataclass
class Goal:
    text: str
    measured: str
    met: bool | None


def goals(res: Results) -> list[Goal]:
    out: list[Goal] = []

    def ratio_goal(text: str, values: list[float], at_least: float) -> None:
        m = median(values)
        out.append(Goal(text, spread(values) if values else "not measured",
                        None if m is None else m >= at_least))

    http = res.http
    for key, label in (("iri", "uncached IRI lookups"), ("cq", "uncached cq mix")):
        for other, bound, name in (("bare", 0.9, "bare app"), ("virtuoso", 2.0, "Virtuoso")):
            values = round_ratios(http, (key, "uncached", "ours"),
                                  (key, "uncached", other)) if http else []
            ratio_goal(f"{label}: ours ÷ {name} ≥ {bound:g}", values, bound)
    for key, share in DOCUMENTS.items():
        values = round_ratios(http, (key, "uncached", "ours"),
                              ("iri", "uncached", "ours")) if http else []
        ratio_goal(f"/{key}/&lt;id&gt;{'.ttl' if key == 'data' else ''}, uncached: req/s ≥ "
                   f"{share:g} × the uncached IRI lookups' (ours, same round)", values, share)
    if res.lubm is not None and res.lubm.scale == 10:
        whole, per_run = lubm_ratio(res.lubm)
        out.append(Goal("LUBM(10) queries: our sum of medians ≤ 0.8 × Virtuoso's",
                        f"{whole:.2f} (run by run {spread(per_run)})" if whole else "-",
                        None if whole is None else whole <= 0.8))
    else:
        out.append(Goal("LUBM(10) queries: our sum of medians ≤ 0.8 × Virtuoso's",
                        "not measured", None))
    lubm = res.builds.lubm if res.builds.lubm_scale == 10 else None
    out.append(Goal("LUBM(10) build (`kg build`, large-input path) ≤ 60 s and ≤ 3 GiB",
                    f"{lubm.wall_seconds:.1f} s, {lubm.peak_rss_mib / 1024:.2f} GiB" if lubm
                    else "not measured",
                    None if lubm is None else lubm.wall_seconds <= 60
                    and lubm.peak_rss_mib <= 3 * 1024))
    cold = [t.wall_seconds for t in res.builds.cold]
    out.append(Goal("cold build of our graph ≤ 5 s", spread(cold, unit="s") if cold
                    else "not measured", None if not cold else median(cold) <= 5))  # type: ignore[operator]
    return out


def _met(goal: Goal) -> str:
    return {True: "met", False: "**missed**", None: "not measured"}[goal.met]


# -- the document -----------------------------------------------------------------------------


def _http_table(res: Results, variant: str) -> list[str]:
    http = res.http
    assert http is not None
    lines = [
        "| workload | server | req/s | p50 | p99 | server CPU per request: web processes "
        "+ query processes = total | wrk's CPU per request | errors / requests |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for workload in res.workloads:
        for server in (s for s in res.servers if s in workload.servers):
            runs = _runs(http, workload.key, variant, server)
            if not runs:
                continue

            def per_request(get: Callable[[Run], float], runs: list[Run] = runs) -> str:
                return spread([1000 * get(r) / r.requests for r in runs if r.requests])

            cpu = (f"{per_request(lambda r: r.cpu_web)} + "
                   f"{per_request(lambda r: r.cpu_workers + r.cpu_reaped)} = "
                   f"{per_request(lambda r: r.cpu_web + r.cpu_workers + r.cpu_reaped)} ms")
            lines.append(
                f"| {workload.key} | {server} | {spread([r.rps for r in runs], digits=0)} | "
                f"{spread([r.p50 for r in runs], 1000, 1)} ms | "
                f"{spread([r.p99 for r in runs], 1000, 1)} ms | {cpu} | "
                f"{per_request(lambda r: r.client_cpu)} ms | "
                f"{sum(r.errors for r in runs)} / {sum(r.requests for r in runs)} |")
    return lines


def _ratio_table(res: Results) -> list[str]:
    http = res.http
    assert http is not None
    pairs = [(a, b) for a, b in (("ours", "bare"), ("ours", "isolated"), ("isolated", "bare"),
                                 ("ours", "virtuoso")) if a in res.servers and b in res.servers]
    lines = ["| workload | variant | " + " | ".join(f"{a} ÷ {b}" for a, b in pairs) + " |",
             "|---|---|" + "---|" * len(pairs)]
    for key in SPARQL_WORKLOADS:
        for variant in ("uncached", "cached"):
            cells = [spread(round_ratios(http, (key, variant, a), (key, variant, b)))
                     for a, b in pairs]
            lines.append(f"| {key} | {variant} | " + " | ".join(cells) + " |")
    lines += ["", "| document | variant | ours: its req/s ÷ IRI-lookup req/s (same variant) "
                  "| goal (uncached) |", "|---|---|---|---|"]
    for key, share in DOCUMENTS.items():
        for variant in ("uncached", "cached"):
            values = round_ratios(http, (key, variant, "ours"), ("iri", variant, "ours"))
            lines.append(f"| /{key}/ | {variant} | {spread(values)} | "
                         f"{'≥ ' + format(share, '.2f') if variant == 'uncached' else ''} |")
    return lines


def _lubm_cell(times: QueryTimes, backend: str, name: str, expected: dict[str, int]) -> str:
    values = times.seconds.get(backend, {}).get(name)
    counts = times.counts.get(backend, {}).get(name, [])
    if values is None:
        return "-"
    if median(values) is None:
        return "over the cap"
    if counts == [expected[name]]:
        count = str(counts[0])
    else:
        count = f"**{'/'.join(map(str, counts)) or 'none'}** (expected {expected[name]})"
    return f"{spread(values, 1000, 1)} ms; {count}"


def _answers(workload: Workload) -> str:
    """The answers of a workload's requests in short: the range of rows, ASK values."""
    rows = sorted(int(a.split()[0]) for a in workload.answers.values() if a.endswith(" rows"))
    others = sorted({a for a in workload.answers.values() if not a.endswith(" rows")})
    shown = [f"{rows[0]}–{rows[-1]} rows" if rows[0] != rows[-1] else f"{rows[0]} rows"
             ] if rows else []
    return ", ".join(shown + others)


def _timed_row(label: str, runs: Sequence[Timed]) -> str:
    return (f"| {label} | {spread([t.wall_seconds for t in runs], unit='s')} | "
            f"{spread([t.peak_rss_mib for t in runs], digits=0, unit='MiB')} | "
            f"{spread([t.user_seconds + t.system_seconds for t in runs], unit='s')} |")


def _cpu_ms(http: HttpResults, key: str, server: str) -> tuple[float, float] | None:
    """Median CPU ms per uncached request of ``key`` on ``server``: (web, query processes)."""
    runs = [r for r in _runs(http, key, "uncached", server) if r.requests]
    web = median([1000 * r.cpu_web / r.requests for r in runs])
    rest = median([1000 * (r.cpu_workers + r.cpu_reaped) / r.requests for r in runs])
    return None if web is None or rest is None else (web, rest)


def _steps(builds: BuildResults) -> str:
    """The LUBM build's step timings, as its report names them."""
    return ", ".join(f"{k[:-len('_seconds')]} {float(v):.1f} s"
                     for k, v in builds.lubm_steps.items()
                     if k.endswith("_seconds") and k != "closure_seconds" and v is not None)


def _closing(res: Results, met: list[Goal]) -> list[str]:
    """What stands in the way of each goal, from this run's measurements: the CPU each
    server spends per request (on 2 shared cores, throughput follows it), the client's
    share, the slowest LUBM queries against Virtuoso, the builds' CPU time and steps."""
    lines = ["## Where the time goes (measured in this run)", ""]
    http = res.http
    if http is not None:
        for key in ("iri", "cq", "page", "data"):
            cells = []
            for server in res.servers:
                cpu = _cpu_ms(http, key, server)
                if cpu is not None:
                    web, rest = cpu
                    cells.append(f"{server} {web + rest:.2f} ms (web processes {web:.2f}"
                                 + (f", query processes {rest:.2f})" if rest >= 0.005 else ")"))
            if cells:
                lines.append(f"- CPU per uncached {key} request: " + "; ".join(cells) + ".")
        client = [r.client_cpu / r.seconds for r in http.runs if r.seconds]
        if client:
            lines.append(f"- wrk itself used {spread(client)} of a core during the runs; the "
                         "client and the servers share the machine's cores.")
    if res.lubm is not None:
        ours = res.lubm.queries.seconds.get("ours", {})
        virt = res.lubm.queries.seconds.get("virtuoso", {})
        gaps = sorted(((median(ours[q]) or 0) - (median(virt.get(q, [])) or 0), q)
                      for q in ours)
        worst = [f"{q} +{1000 * gap:.0f} ms" for gap, q in reversed(gaps[-3:]) if gap > 0]
        if worst:
            lines.append(f"- LUBM({res.lubm.scale}): the queries where ours loses most time "
                         f"to Virtuoso (median against median): {', '.join(worst)}.")
    builds = res.builds
    if builds.lubm:
        lines.append(f"- LUBM({builds.lubm_scale}) build: {builds.lubm.wall_seconds:.1f} s "
                     f"wall clock for {builds.lubm.user_seconds + builds.lubm.system_seconds:.1f}"
                     f" s of CPU, peak {builds.lubm.peak_rss_mib:,.0f} MiB; its steps: "
                     f"{_steps(builds)}.")
    if builds.cold:
        cpu = median([t.user_seconds + t.system_seconds for t in builds.cold])
        wall = median([t.wall_seconds for t in builds.cold])
        lines.append(f"- Cold build of our graph: {wall:.1f} s wall clock for {cpu:.1f} s of "
                     "CPU (median); the build's own step timings are in its release's "
                     "report.json.")
    missed = [g for g in met if g.met is False]
    if missed:
        lines.append("- Goals missed in this run: " + "; ".join(
            f"{g.text} ({g.measured})" for g in missed) + ".")
    lines.append("")
    return lines


def report(res: Results) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    met = goals(res)
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{res.command}` ({now}, commit {res.commit}). A benchmark, not a test: "
        "nothing here is asserted. Figures are the median (min–max) over the rounds; "
        "ratios are taken within a round, then the median (min–max) over rounds is given. "
        "Raw figures: `build/bench/` after a run (`results.json`, `wrk.log`, the Lua "
        "scripts, server logs).",
        "",
        "## Machine and versions",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in res.machine.items()],
        *[f"| {k} | {v} |" for k, v in res.versions.items()],
        "",
        "## Goals",
        "",
        "| goal | measured | |",
        "|---|---|---|",
        *[f"| {g.text} | {g.measured} | {_met(g)} |" for g in met],
        "",
    ]
    if res.http is not None:
        lines += [
            "## HTTP: how it was measured",
            "",
            f"- Client: wrk, {THREADS} threads, {CONNECTIONS} keep-alive connections, "
            f"{res.duration:g} s per run, a Lua script per run; {res.rounds} round(s); in each "
            "round every server runs every workload, cached then uncached, one server after "
            "the other, the order of the servers rotating from round to round.",
            "- Servers:",
            *[f"  - {label}" for label in res.servers.values()],
            f"- Virtuoso holds each of the release's named graphs and their union as one more "
            f"graph (`{UNION_GRAPH}`), made the default graph of every request that names "
            "none (`DB.DBA.SYS_SPARQL_HOST`, host `*`): it is sent the same plain requests as "
            "the others, with no dataset parameters.",
            "- **Cached**: the workload's texts repeated as they are (what an answer cache "
            "serves). **Uncached**: every request distinct — a SPARQL query gets its first "
            "variable renamed (`?s` to `?s_n` throughout: another query to a cache keyed by "
            "text or by algebra, the same work and rows to every engine), a page or data "
            "document `?request=n` (another URI to the web worker's recent documents, which "
            "key on the URI as HTTP caches do); `n` never repeats within a benchmark. (A "
            "distinct "
            "`LIMIT` was tried first: it slowed Virtuoso, which sizes its sort by the "
            "LIMIT, by 1.5–5×.)",
            "- Before any timing, every request of every workload is sent to every server "
            "that runs it, as it is and made distinct; the answers (rows, or an ASK's "
            "boolean; status 200 for documents) must be the same everywhere, else the "
            "request is left out of the runs (listed below).",
            "- CPU per request: user + system time from `/proc/<pid>/stat` of every process "
            "of the server's process tree before and after the run, divided by the requests "
            "served. *Web processes* hold the listening socket (gunicorn's master and its "
            "workers; Virtuoso's one process); *query processes* are the rest of the tree, "
            "with those that ended during the run. wrk's own CPU time comes from "
            "`getrusage` of the finished child.",
            "",
            "### Uncached (a distinct text per request)",
            "",
            *_http_table(res, "uncached"),
            "",
            "### Cached (repeated texts)",
            "",
            *_http_table(res, "cached"),
            "",
            "### Ratios within a round",
            "",
            *(["*isolated* is the bare app with its queries run in query processes, as many "
               "per web worker as ours (`bench/isolated_app.py`): what any server pays whose "
               "queries can be stopped at their time limit (an engine in Python cannot be "
               "stopped otherwise). *isolated ÷ bare* is that price; *ours ÷ isolated* is "
               "what our endpoint's features cost beyond it.", ""]
              if "isolated" in res.servers else []),
            *_ratio_table(res),
            "",
            "### Load average, round by round (1, 5, 15 min)",
            "",
            "| round | order of the servers | before | after |",
            "|---|---|---|---|",
            *[f"| {load.round} | {', '.join(load.order)} | {load.before} | {load.after} |"
              for load in res.http.loads],
            "",
            "### The workloads",
            "",
            "| workload | requests | servers | answers | left out (answers differed or "
            "failed) |",
            "|---|---|---|---|---|",
        ]
        for w in res.workloads:
            lines.append(f"| {w.key}: {w.title} | {len(w.items)} | {', '.join(w.servers)} | "
                         f"{_answers(w)} | "
                         + ("; ".join(f"`{k}`: {v}" for k, v in w.dropped.items()) or "none")
                         + " |")
        lines.append("")
    if res.lubm is not None:
        lubm = res.lubm
        expected = res.lubm_expected
        whole, per_run = lubm_ratio(lubm)
        servers = [s for s in ("ours", "virtuoso") if s in lubm.queries.seconds]
        steps = res.builds.lubm_steps
        lines += [
            f"## The 14 LUBM queries on closed LUBM({lubm.scale}) over HTTP",
            "",
            f"Data: LUBM({lubm.scale}) + univ-bench.owl built by `kg build` on the "
            f"large-input path ({steps.get('triples', 0):,} triples in the release's named "
            "graphs). Ours: `kg serve` over that release; Virtuoso: the union of the "
            "release's graphs as its default graph, by its bulk loader "
            f"({lubm.virtuoso_load_seconds:.1f} s). Each run of a query sends a text of "
            "its own (its first variable renamed); the servers take turns query by query, "
            "who goes first alternating; one untimed pass first (warm-up and counts). A "
            "request is timed from sending to the last byte of the SPARQL JSON answer. "
            f"Counts checked against `answers-lubm{lubm.scale}.tsv`; a wrong count is in bold.",
            "",
            "| query | " + " | ".join(servers) + " |",
            "|---|" + "---|" * len(servers),
            *[f"| {q} | " + " | ".join(_lubm_cell(lubm.queries, s, q, expected)
                                        for s in servers) + " |" for q in QUERY_NAMES],
            "| sum of medians | " + " | ".join(
                f"{_total(lubm.queries.seconds[s]) or 0:.3f} s" for s in servers) + " |",
            "",
            f"Our sum of medians ÷ Virtuoso's: {whole:.2f}; the same ratio run by run: "
            f"{spread(per_run)}." if whole else "",
            f"`kg serve` of the LUBM({lubm.scale}) release, start to its first answer: "
            f"{lubm.serve_seconds:.1f} s.",
            "",
        ]
    builds = res.builds
    if builds.cold or builds.lubm:
        lines += ["## Builds", "",
                  "`/usr/bin/time -v`: wall clock, peak resident memory, user + system CPU.", "",
                  "| build | wall clock | peak memory | CPU |", "|---|---|---|---|"]
        if builds.cold:
            lines.append(_timed_row(f"cold build of our graph (`kg build --force` into an "
                                    f"empty release folder, {len(builds.cold)} runs)",
                                    builds.cold))
        if builds.lubm:
            lines.append(_timed_row(f"LUBM({builds.lubm_scale}) (`KG_BUILD_PATH=large KG_BASE_IRI="
                                    "http://lubm.example/ kg --root PROJECT build`, one run)",
                                    [builds.lubm]))
            steps = builds.lubm_steps
            lines += [
                "",
                f"LUBM({builds.lubm_scale}) build steps (the release report's timings): "
                f"{_steps(builds)}; the closure {steps.get('closure_seconds')} s, "
                f"{steps.get('inferred', 0):,} inferred triples kept; "
                f"validation: {steps.get('validation')}.",
            ]
        if res.ours_start_seconds is not None:
            lines.append(f"\n`kg serve` of our built release, start to its first answer: "
                         f"{res.ours_start_seconds:.2f} s.")
        lines.append("")
    if res.backends is not None:
        b = res.backends
        labels = {"oxigraph": "oxigraph (in process)", "memory": "rdflib (in process)",
                  "virtuoso": "Virtuoso (HTTP, plain requests)"}
        keys = [k for k in labels if k in b.load]
        lines += [
            "## Store backends on closed LUBM(1)",
            "",
            "Data: `lubm1-closed-owlrl.nt.gz` (185,493 triples: LUBM(1) + ontology, owlrl "
            "closure). Load: oxigraph `bulk_load` into a new on-disk store (+ optimize), "
            "rdflib `Graph.parse`, Virtuoso's bulk loader into a new database (one run). "
            "Queries: a distinct text per run; rdflib in a forked process with a cap "
            "(\"over the cap\"); a query slower than 10 s is run once. Counts checked "
            "against `answers-lubm1.tsv`.",
            "",
            "| | " + " | ".join(labels[k] for k in keys) + " |",
            "|---|" + "---|" * len(keys),
            "| load | " + " | ".join(spread(b.load[k], digits=3, unit="s") for k in keys) + " |",
            *[f"| {q} | " + " | ".join(_lubm_cell(b.queries, k, q, res.lubm1_expected)
                                        for k in keys) + " |" for q in QUERY_NAMES],
            "| sum of medians | " + " | ".join(
                f"{t:.3f} s" if (t := _total(b.queries.seconds.get(k, {}))) is not None
                else "over the cap" for k in keys) + " |",
            "",
        ]
    lines += _closing(res, met)
    if res.notes:
        lines += ["## Notes", "", *res.notes, ""]
    return "\n".join(lines).rstrip() + "\n"


def decision_0001(res: Results) -> str:
    """docs/decisions/0001-default-store.md, its figures from the LUBM(1) backends."""
    b = res.backends
    assert b is not None
    totals = {k: _total(v) for k, v in b.queries.seconds.items()}
    over_cap = {k: sum(1 for runs in v.values() if median(runs) is None)
                for k, v in b.queries.seconds.items()}
    embedded = [k for k in ("oxigraph", "memory") if k in totals]
    winner = min(embedded, key=lambda k: (over_cap[k], totals[k] or float("inf")))
    rows = "\n".join(
        f"| {k} | {spread(b.load[k], digits=3, unit='s')} | "
        f"{f'{totals[k]:.3f} s' if totals[k] is not None else 'over the cap'} | {over_cap[k]} |"
        for k in b.queries.seconds)
    return f"""# 0001: the default store backend

Status: accepted (numbers from `make bench`, {datetime.now(UTC).strftime('%Y-%m-%d')};
see docs/benchmarks.md for every figure, the machine and the versions).

## Context

KazKor KG serves a release from one of the backends of `kg.store`: `memory`
(rdflib, pure Python), `oxigraph` (pyoxigraph, Rust, embedded, on disk) or `remote:URL`
(any SPARQL 1.1 Protocol + Graph Store Protocol server, such as Virtuoso). The default
must answer the standard LUBM queries completely and fast on one 2-core machine, start
without re-parsing sources, and need no server of its own.

## Options measured

Closed LUBM(1) (185,493 triples), the 14 LUBM queries, each run with a text of its own
(no answer cache is involved: oxigraph and rdflib are queried in process, Virtuoso over
HTTP with plain requests); rdflib capped per query ("over the cap"):

| backend | load | sum of the 14 query medians | queries over the cap |
|---|---|---|---|
{rows}

## Choice

`{winner}` is the default (`KG_STORE={winner}`). It loads and answers all 14 queries
in the time shown, with no timeout, in process; its index is written with the release,
so `kg serve` opens it read-only without parsing anything. `memory` stays for tests and
tiny graphs; `remote:URL` is the way to scale out onto a triple store that is already run
by someone (docs/remote-stores.md). How the endpoint built on it compares with Virtuoso
over HTTP, with and without its answer cache, is in docs/benchmarks.md.
"""
