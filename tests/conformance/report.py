"""Write docs/conformance.md: the W3C test suites run through the project's code.

    .venv/bin/python -m tests.conformance.report           # runs the suites, writes the page
    .venv/bin/python -m tests.conformance.report --print   # the page on standard output

Each section of the page is one function that runs its suite and returns markdown
(:data:`SECTIONS`). The SPARQL sections ask the served endpoint: ``kg serve`` on scratch
projects (:mod:`tests.conformance.served`), started once for the whole run. The figures are
those of the run that wrote the page.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from importlib.metadata import version
from pathlib import Path

from tests.conformance import protocol_suite, shacl_suite, sparql_suite, update_suite
from tests.conformance.known import KnownFailure
from tests.conformance.manifest import ROOT, conformance_dir
from tests.conformance.served import Endpoints

from kg.pipeline.validate import SHACL_ENGINES

PAGE = ROOT / "docs" / "conformance.md"
SHACL_REPORTS = "https://github.com/w3c/data-shapes/tree/gh-pages/data-shapes-test-suite/reports"

#: what other implementations publish for the same SHACL suite (W3C implementation reports
#: in EARL, counted per folder from the files; the projects' own test runs)
SHACL_ANCHORS = [
    ("TopBraid SHACL API (reference implementation)", "2017", "98 / 98", "23 / 23",
     f"{SHACL_REPORTS}/topbraid-shacl-earl.ttl"),
    ("dotNetRDF", "2019", "98 / 98", "23 / 23", f"{SHACL_REPORTS}/dotnetrdf-shacl-earl.ttl"),
    ("pySHACL 0.9", "2018", "97 / 98 (datatype-ill-formed)", "22 / 23 (shapesGraph-001)",
     f"{SHACL_REPORTS}/pyshacl-earl.ttl"),
    ("Corese", "2017", "98 / 98", "not run", f"{SHACL_REPORTS}/corese-shacl-earl.ttl"),
    ("SHACLEX", "2018", "98 / 98", "not run", f"{SHACL_REPORTS}/SHACLEX_EarlReport_SHACL.ttl"),
    ("shawell", "2024", "97 / 98 (+1 partial)", "not run",
     f"{SHACL_REPORTS}/shawell_report.ttl"),
    ("NetAge", "2017", "78 / 89", "22 / 22", f"{SHACL_REPORTS}/netage-shacl-earl.ttl"),
    ("RDFUnit", "2017", "71 / 98 (+15 partial)", "11 / 22 (+4 partial)",
     f"{SHACL_REPORTS}/rdfunit-shacl-earl.ttl"),
]
SHACL_ANCHOR_NOTES = [
    "The W3C page that collects these reports: "
    "https://w3c.github.io/data-shapes/data-shapes-test-suite/ . The reports of 2017-2019 "
    "count 23 SHACL-SPARQL tests; the suite here lists 22 (sparql/component/nodeValidator-001 "
    "is `sht:proposed` and left out of its manifest).",
    "pySHACL's own test run today (test/test_sht_validate.py, v0.40.0, "
    "https://github.com/RDFLib/pySHACL/blob/master/test/test_sht_validate.py) requires every "
    "test to pass but `sparql/pre-binding/shapesGraph-001` (ALLOWABLE_FAILURES). It passes "
    "uniqueLang-002 because it parses the test files itself, with its patch of rdflib's "
    "boolean mapping; given parsed graphs, as here, it does not.",
    "Apache Jena SHACL (https://jena.apache.org/documentation/shacl/) implements SHACL Core and "
    "SHACL-SPARQL and runs the working group's tests in its build; in 2026 it withdrew "
    "pre-binding-006 and unsupported-sparql-004 from its copy (GH-4108, "
    "https://github.com/apache/jena/issues/4108), following SHACL 1.2's change of pre-binding.",
    "The Ruby SHACL gem publishes its run per test "
    "(https://ruby-rdf.github.io/shacl/file.earl.html); it reports core/complex/shacl-shacl "
    "as failed.",
    "SHACL 1.2 proposes to drop `$shapesGraph` and `$currentShape` "
    "(https://github.com/w3c/data-shapes/issues/426): shapesGraph-001 tests an optional feature.",
]
SPARQL_ANCHOR_NOTES = [
    "Oxigraph runs the same manifests in its own test suite with no test left out "
    "(testsuite/tests/sparql.rs, https://github.com/oxigraph/oxigraph/blob/main/testsuite/tests/"
    "sparql.rs), but its harness passes expected and actual results through a store first "
    "(\"Hack to normalize literals\", testsuite/src/sparql_evaluator.rs), so it compares "
    "literals by value. It runs Oxigraph's main branch, which has fixes later than the "
    "pyoxigraph release used here (GRAPH evaluation, zero-length paths, GROUP_CONCAT).",
    "Apache Jena runs the manifests in its build (jena-arq, org.apache.jena.arq.junit.sparql."
    "tests.QueryEvalTest, https://github.com/apache/jena/blob/main/jena-arq/src/test/java/org/"
    "apache/jena/arq/junit/sparql/tests/QueryEvalTest.java) and compares result sets by value "
    "by default (`compareResultSetsByValue = true`: \"TDB stores literals in value format and "
    "rebuilds canonical lexical terms\"). The *by value* column above is that rule; *by term* "
    "is the stricter one the suite's README states.",
    "The SPARQL 1.1 implementation report of the W3C working group (2013): "
    "https://www.w3.org/2009/sparql/implementations/ .",
]


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "–"


def _suite_commits() -> dict[str, str]:
    """The commit of each suite, as ../shared/conformance/README.md states it."""
    readme = conformance_dir() / "README.md"
    if not readme.is_file():
        return {}
    return {m.group(1): m.group(2) for m in re.finditer(
        r"^\| `([^`]+)/` \|.*commit (\w+)", readme.read_text("utf-8"), re.M)}


def _tally(outcomes: Iterable[tuple[str, bool]], known: set[str]) -> Counter[str]:
    """passed / failed (unexpectedly) / known (an accepted failure) / fixed (a known failure
    that passes: its entry should go)."""
    counts: Counter[str] = Counter()
    for test, passed in outcomes:
        counts["fixed" if passed and test in known else "passed" if passed
               else "known" if test in known else "failed"] += 1
    return counts


def _cell(counts: Counter[str]) -> str:
    total = sum(counts.values())
    parts = [f"{counts['passed']} / {total}"]
    if counts["known"]:
        parts.append(f"{counts['known']} known")
    if counts["failed"]:
        parts.append(f"**{counts['failed']} failed**")
    if counts["fixed"]:
        parts.append(f"**{counts['fixed']} known but passing**")
    return ", ".join(parts)


def _known_list(known: Iterable[KnownFailure], name: Callable[[KnownFailure], str]
                ) -> list[str]:
    """The known failures, one item per reason, with their tests."""
    groups: dict[tuple[str, str | None], list[str]] = {}
    for item in known:
        groups.setdefault((item.reason, item.issue), []).append(f"`{name(item)}`")
    lines = []
    for (reason, issue), tests in groups.items():
        lines.append(f"- {', '.join(sorted(tests))}: {' '.join(reason.split())} "
                     f"({issue or 'a deliberate choice'})")
    return lines


# ---------------------------------------------------------------- SHACL

def shacl_section() -> str:
    shacl_suite.quiet_rdflib()
    tests = shacl_suite.shacl_tests()
    known = shacl_suite.known_failures()
    start = time.perf_counter()
    outcomes = list(shacl_suite.run_all(tests))
    seconds = time.perf_counter() - start
    folders = sorted({t.folder for t in tests})
    lines = [
        "## SHACL (W3C SHACL test suite: core and SHACL-SPARQL)",
        "",
        f"{len(tests)} `sht:Validate` tests, each run through `kg.pipeline.validate."
        "validate_graph` (the entry point of `kg build` and `kg validate`) with both engines "
        "of `KG_SHACL`, and compared with the expected report by the suite's rule: "
        "`sh:conforms` and the results (focus node, path, value, severity, source shape, "
        "source constraint, component), messages and `sh:detail` left out, blank nodes by "
        "their descriptions (`tests/conformance/shacl_suite.py`). A test that expects "
        "`sht:Failure` passes when the validation stops with `ShapesError`. "
        f"Both engines, all tests: {seconds:.1f} s on this run.",
        "",
        "| folder | tests | " + " | ".join(SHACL_ENGINES) + " |",
        "|---|---:|" + "---|" * len(SHACL_ENGINES),
    ]
    by_engine: dict[str, list[tuple[str, str, bool]]] = {e: [] for e in SHACL_ENGINES}
    for test, engine, outcome in outcomes:
        by_engine[engine].append((test.folder, test.iri, outcome.passed))
    for folder in [*folders, None]:
        cells = []
        for engine in SHACL_ENGINES:
            rows = [(iri, ok) for f, iri, ok in by_engine[engine] if folder in (None, f)]
            cells.append(_cell(_tally(rows, {t for t, e in known if e == engine})))
        count = sum(1 for t in tests if folder in (None, t.folder))
        lines.append(f"| {folder or '**all**'} | {count} | " + " | ".join(cells) + " |")
    for part in ("core", "sparql"):
        shares = []
        for engine in SHACL_ENGINES:
            rows = [ok for f, _, ok in by_engine[engine] if f.startswith(part + "/")]
            shares.append(f"{engine} {_percent(sum(rows), len(rows))}")
        lines.append("")
        lines.append(f"Passed in {part}/: " + ", ".join(shares) + ".")
    results = {(test.iri, engine): outcome for test, engine, outcome in outcomes}
    split = [t for t in tests
             if len({results[(t.iri, e)].passed for e in SHACL_ENGINES}) > 1]
    lines += ["", "### Where the engines disagree", ""]
    if not split:
        lines.append("Nowhere: every test passes or fails with both engines.")
    for test in split:
        verdicts = ", ".join(f"{e} {'passes' if results[(test.iri, e)].passed else 'fails'}"
                             for e in SHACL_ENGINES)
        lines.append(f"- `{test.iri}` ({test.entry.name}): {verdicts}.")
    lines += ["", "### Known failures (`tests/conformance/known_failures.toml`)", ""]
    lines += _known_list(known.values(), lambda k: f"{k.test} ({k.subject})")
    failed = [(t, e, o) for t, e, o in outcomes if not o.passed and (t.iri, e) not in known]
    if failed:
        lines += ["", "### Failures not yet explained", ""]
        lines += [f"- `{t.iri}` ({e}): {o.detail.splitlines()[0]}" for t, e, o in failed]
    lines += ["", "### Published results of other implementations", "",
              "| implementation | reported | core | SHACL-SPARQL | source |",
              "|---|---|---|---|---|"]
    lines += [f"| {name} | {year} | {core} | {sparql} | {url} |"
              for name, year, core, sparql, url in SHACL_ANCHORS]
    lines += [""] + [f"- {note}" for note in SHACL_ANCHOR_NOTES]
    return "\n".join(lines)


# ---------------------------------------------------------------- SPARQL 1.1

_ENDPOINTS: list[Endpoints] = []


def endpoints() -> Endpoints:
    """The scratch servers of this run, started when a section first asks."""
    if not _ENDPOINTS:
        tests = [t for m in sparql_suite.MANIFESTS.values() for t in sparql_suite.query_tests(m)]
        _ENDPOINTS.append(Endpoints({**sparql_suite.data_files(tests),
                                     **protocol_suite.protocol_graphs()}))
    return _ENDPOINTS[0]


def _sparql_section(title: str, manifest: str, about: str) -> str:
    known = sparql_suite.known_failures()
    tests = sparql_suite.query_tests(manifest)
    iri = {t.id: t.entry.suite.published(t.entry.iri) for t in tests}
    runs = {}
    for runner in sparql_suite.RUNNERS:
        start = time.perf_counter()
        endpoint = (sparql_suite.InProcessEndpoint(sparql_suite.data_files(tests))
                    if runner == "in-process" else endpoints().query)
        outcomes = [(t, sparql_suite.evaluate(t, endpoint)) for t in tests]
        runs[runner] = (outcomes, time.perf_counter() - start)
    lines = [f"## SPARQL 1.1 {title}", "", about, "",
             "| runner | by term | by value | known | other failures | approved tests | "
             "seconds |", "|---|---|---|---:|---:|---|---:|"]
    for runner, (outcomes, seconds) in runs.items():
        counts = _tally(((iri[t.id], o.passed) for t, o in outcomes),
                        {test for test, r in known if r == runner})
        by_value = counts["passed"] + sum(o.cause == sparql_suite.LITERAL_FORMS
                                          for _, o in outcomes)
        approved = [(t, o) for t, o in outcomes if t.entry.approval is not None
                    and t.entry.approval.endswith("Approved")]
        approved_by_value = sum(o.passed or o.cause == sparql_suite.LITERAL_FORMS
                                for _, o in approved)
        fixed = f" ({counts['fixed']} known but passing)" if counts["fixed"] else ""
        lines.append(
            f"| {runner} | {counts['passed']} / {len(outcomes)} "
            f"({_percent(counts['passed'], len(outcomes))}) | {by_value} / {len(outcomes)} "
            f"({_percent(by_value, len(outcomes))}) | {counts['known']} | "
            f"{counts['failed']}{fixed} | {sum(o.passed for _, o in approved)} / "
            f"{len(approved)} by term, {approved_by_value} by value | {seconds:.1f} |")
    served, _ = runs["served"]
    in_process = dict(runs["in-process"][0])
    split = [t for t, o in served if o.passed != in_process[t].passed]
    lines += ["", "*By value*: a failure whose results are equal once the literals on both "
              f"sides are in Oxigraph's forms (\"{sparql_suite.LITERAL_FORMS}\") counts as "
              "passed. Where the runners disagree: "
              + (", ".join(f"`{t.id}`" for t in split) if split else "nowhere") + ".", "",
              "Failures by cause (served):", ""]
    for cause, number in sparql_suite.causes(served).most_common():
        failed = [t.id for t, o in served if o.cause == cause]
        lines.append(f"- {cause}: {number} ({', '.join(f'`{t}`' for t in failed)})")
    mine = [k for (test, r), k in known.items() if r == "served" and test in iri.values()]
    if mine:
        lines += ["", "Why (`tests/conformance/known_failures.toml`):", ""]
        base = tests[0].entry.suite.publishes if tests else ""
        lines += _known_list(mine, lambda k: k.test.removeprefix(base))
    unexplained = [(t, o) for t, o in served
                   if not o.passed and (iri[t.id], "served") not in known]
    if unexplained:
        lines += ["", "Not yet explained:", ""]
        lines += [f"- `{t.id}`: {o.cause}: {o.detail.splitlines()[0]}" for t, o in unexplained]
    return "\n".join(lines)


def query_evaluation_section() -> str:
    about = (
        "Each `mf:QueryEvaluationTest` of the manifest and those it includes, asked of the "
        "**served** endpoint: `kg serve` as a real process on a scratch project (no shapes, "
        "`KG_REASONING=none`) whose release holds every data file as a named graph named by "
        "its IRI (one N-Quads source, `data/w3c.nq`), by a POST to `/sparql` with the test's "
        "`qt:data` as `default-graph-uri` and `qt:graphData` as `named-graph-uri` (a query "
        "with its own `FROM` keeps it; a test without data names a graph that does not "
        "exist: an empty default graph), `BASE <the query file>` before the query, and the "
        "expected result's format in `Accept`. The answer is compared by `tests/conformance/"
        "results.py` (a bag, or the order of the `ORDER BY` variables; blank nodes by one "
        "mapping; literals by term). The **in-process** runner asks pyoxigraph in the test "
        "process the same: what the engine itself passes. Left out: "
        + "; ".join(f"`{folder}/`: {why}" for folder, why in sparql_suite.LEFT_OUT.items())
        + ".")
    return "\n".join([_sparql_section("query evaluation",
                                      sparql_suite.MANIFESTS["query evaluation"], about),
                      "", "### Anchors", ""] + [f"- {note}" for note in SPARQL_ANCHOR_NOTES])


def result_formats_section() -> str:
    about = ("The CSV, TSV and JSON result format tests: the same runners, asking for the "
             "format of the expected file, so that the writers are what is tested. "
             "CSV is compared by lexical forms (the format keeps no types).")
    return _sparql_section("result formats", sparql_suite.MANIFESTS["result formats"], about)


def update_section() -> str:
    tests = update_suite.update_tests()
    known = update_suite.known_failures()
    start = time.perf_counter()
    served = endpoints().update
    outcomes = [(t, update_suite.evaluate(t, served)) for t in tests]
    seconds = time.perf_counter() - start
    iri = {t.id: t.entry.suite.published(t.entry.iri) for t in tests}
    counts = _tally(((iri[t.id], o.passed) for t, o in outcomes), {t for t, _ in known})
    approved = [(t, o) for t, o in outcomes if t.entry.approval is not None
                and t.entry.approval.endswith("Approved")]
    lines = [
        "## SPARQL 1.1 Update (served)", "",
        f"Each `mf:UpdateEvaluationTest` of `{update_suite.MANIFEST}`, sent to `/update` of a "
        "scratch server with updates on for any graph (`KG_UPDATE_TOKEN`, "
        "`KG_UPDATE_GRAPHS=any`): one request per test, the test's update with a reset "
        "(`DROP ALL` and an `INSERT DATA` of the store before) put before its first operation "
        "(the parser says where; pyoxigraph 0.5.13 does not accept a prologue after `;`, which "
        "the grammar allows, so the reset cannot simply come first). Every graph is read back "
        "with one query and compared with the expected one by isomorphism; the default graph "
        "of an update is the data graph; the computed graphs (`inferred`, `meta`) are left "
        "out. The syntax tests of the same manifest are run through the parser by "
        "`tests/test_sparql_parser.py` (`syntax-update-1`, `syntax-update-2`).", "",
        f"- {counts['passed']} / {len(tests)} passed ({_percent(counts['passed'], len(tests))}); "
        f"{counts['known']} known failures, {counts['failed']} other failures; "
        f"approved tests {sum(o.passed for _, o in approved)} / {len(approved)}; "
        f"{seconds:.1f} s (each accepted update makes a new version: validation, statistics, "
        "dumps)",
    ]
    if known:
        lines += ["", "Known failures:", ""]
        lines += _known_list(known.values(), lambda k: k.test.rsplit("/", 2)[-2] + "/"
                             + k.test.rsplit("/", 1)[-1])
    failed = [(t, o) for t, o in outcomes if not o.passed and (iri[t.id], "served") not in known]
    if failed:
        lines += ["", "Not yet explained:", ""]
        lines += [f"- `{t.id}`: {o.cause}: {o.detail}" for t, o in failed]
    return "\n".join(lines)


def protocol_section() -> str:
    known = protocol_suite.known_failures()
    lines = [
        "## SPARQL 1.1 Protocol, Service Description, Graph Store Protocol (served)", "",
        "The protocol and graph store manifests are HTTP exchanges: each request is sent in "
        "order to the served endpoint (`/sparql/` is `/sparql`, `/gsp` is `/rdf-graph-store`), "
        "and the response checked as the test says (status or class of status, result format, "
        "ASK answer, Content-Type, the graph by isomorphism). A test that writes runs on the "
        "update server with its token (our contract asks for one), a graph store test on an "
        "empty store; the others on the query server, which holds the graphs they name. The "
        "service description tests check what they name: RDF on a bare GET, an `sd:endpoint` "
        "triple naming the endpoint, the `sd:` terms used as the vocabulary defines them "
        "(`tests/conformance/protocol_suite.py`).", "",
        "| manifest | tests | passed | not applicable |", "|---|---:|---|---:|"]
    failures = []
    start = time.perf_counter()
    for name, manifest in protocol_suite.MANIFESTS.items():
        tests = protocol_suite.protocol_tests(name)
        run = [t for t in tests if t.id not in protocol_suite.NOT_APPLICABLE]
        passed = 0
        for test in run:
            if name == "service description":
                outcome = protocol_suite.check_description(test, endpoints().query)
            elif test.writes:
                outcome = protocol_suite.replay(test, endpoints().update,
                                                endpoints().update.authorization)
            else:
                outcome = protocol_suite.replay(test, endpoints().query, {})
            passed += outcome.passed
            if not outcome.passed:
                failures.append(f"- `{test.id}`: {outcome.detail}")
        lines.append(f"| `{manifest}` | {len(tests)} | {passed} / {len(run)} | "
                     f"{len(tests) - len(run)} |")
    lines += ["", f"{time.perf_counter() - start:.1f} s.", "",
              "Not run, and why:", ""]
    lines += [f"- `{test}`: {why}" for test, why in protocol_suite.NOT_APPLICABLE.items()]
    lines += [f"- `{manifest}`: {why}" for manifest, why in protocol_suite.LEFT_OUT.items()]
    if known:
        lines += ["", "Known failures:", ""]
        lines += _known_list(known.values(), lambda k: k.test)
    if failures:
        lines += ["", "Not yet explained:", "", *failures]
    return "\n".join(lines)


SECTIONS: Sequence[Callable[[], str]] = (
    shacl_section, query_evaluation_section, result_formats_section, update_section,
    protocol_section)


def page() -> str:
    start = time.perf_counter()
    sections = [section() for section in SECTIONS]
    seconds = time.perf_counter() - start
    commits = _suite_commits()
    suites = ", ".join(f"`{name}` at {commit}" for name, commit in sorted(commits.items()))
    header = [
        "# Conformance to the W3C test suites",
        "",
        "Written by `.venv/bin/python -m tests.conformance.report` on "
        f"{date.today().isoformat()} (pySHACL {version('pyshacl')}, rdflib "
        f"{version('rdflib')}, pyoxigraph {version('pyoxigraph')}); the suites are the copies "
        f"in `../shared/conformance` ({suites}). The same tests run in the test suite "
        "(`pytest -m conformance`), where each known failure is a strict `xfail`.",
        "",
        "Counts read *passed / tests*; \"known\" are failures listed with their reason in "
        "`tests/conformance/known_failures.toml`.",
        "",
        f"This run took {seconds:.0f} s on a 2-core machine (two `kg serve` processes "
        "started and built from scratch projects, both SHACL engines, the in-process and "
        "served SPARQL runners).",
    ]
    return "\n\n".join(["\n".join(header), *sections]) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="write the page to stdout")
    parser.add_argument("--output", type=Path, default=PAGE, help="the page to write")
    args = parser.parse_args(argv)
    if not (conformance_dir() / "w3c-shacl").is_dir():
        print(f"The W3C suites are not at {conformance_dir()}: put ../shared/conformance "
              "beside the checkout or set KG_CONFORMANCE_DIR.", file=sys.stderr)
        return 2
    try:
        text = page()
    finally:
        if _ENDPOINTS:
            _ENDPOINTS.pop().close()
    if args.print:
        sys.stdout.write(text)
    else:
        args.output.write_text(text, "utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
