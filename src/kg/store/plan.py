"""Join order from the data: a query's basic graph pattern planned by its statistics.

Oxigraph 0.5 orders the triple patterns of a basic graph pattern greedily by fixed
guesses, not by the data (``sparopt``: 10,000 solutions for a pattern with a bound
predicate and object, 1,000,000 for one with a bound predicate only), and joins them by
index nested loops. ``?x a C`` is thus always taken for the smallest pattern: LUBM's query
2 starts from its 24,019 graduate students where 189 departments would do, query 9 from
its 99,566 students (decision 0017).

Here a query whose WHERE pattern is one basic graph pattern (:attr:`Inspection.where_bgp`)
is planned from the release's statistics (:func:`collect`, written by the build beside
the index): a left-deep order chosen by dynamic programming over the subsets of its
patterns, each step either an index nested loop (``LATERAL { pattern }``, SEP-0006, which
Oxigraph evaluates in the order written) or a hash join (``{ SELECT * { pattern } }``: a
sub-select is never evaluated per solution). The rewritten text has the same solutions:
a basic graph pattern without blank nodes is the join of its triple patterns, and join
is commutative and associative; a lateral join of a triple pattern is its join (the
pattern has no scope of its own). Only the WHERE pattern is rewritten; the projection,
the modifiers and the dataset are the text's own. ``SELECT *`` is not planned (the order
of its columns follows the pattern's), nor a query that names its dataset, nor a pattern
with a variable predicate, nor one in two parts that share no variable.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import pyoxigraph as ox

from kg.sparqltext import RDF_TYPE, Inspection, PatternTerm, SparqlSyntaxError, inspect_cached

__all__ = ["STATISTICS", "Statistics", "collect", "estimated", "planned"]

#: the file of a release's statistics, beside its index
STATISTICS = "statistics.json"

_RDF_TYPE = f"<{RDF_TYPE}>"

#: the most triple patterns planned (the search is over their subsets)
MAX_PATTERNS = 10
#: below this many triples, any order of a pattern is fast: the text is not planned
PLAN_FROM_TRIPLES = 100_000

# the cost model, in microseconds, measured on Oxigraph 0.5 (RocksDB, decision 0017): an
# index lookup per solution of the left side, a triple read by a scan, a probe of a hash
# table, a solution made
_SEEK = 3.0
_SCAN = 0.3
_PROBE = 0.3
_ROW = 0.3


@dataclass(frozen=True)
class Statistics:
    """The figures of the union of a store's graphs that plans are made from."""

    triples: int
    #: ``<predicate>`` -> (triples, distinct subjects, distinct objects)
    predicates: Mapping[str, tuple[int, int, int]]
    #: ``<class>`` -> its ``rdf:type`` triples
    classes: Mapping[str, int]

    @classmethod
    def read(cls, path: Path) -> Statistics | None:
        """The statistics written at ``path`` by a build, or None if it wrote none or
        they cannot be read (queries then run as written: plans are an optimization)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(triples=int(data["triples"]),
                       predicates={p: (int(n), int(s), int(o))
                                   for p, (n, s, o) in data["predicates"].items()},
                       classes={c: int(n) for c, n in data["classes"].items()})
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None


def collect(store: ox.Store, path: Path) -> Statistics:
    """Count the figures of the union of ``store``'s named graphs and write them at
    ``path`` (JSON)."""
    predicates = {
        f"<{row['p'].value}>": (int(row["n"].value), int(row["s"].value), int(row["o"].value))
        for row in store.query(  # type: ignore[union-attr]
            "SELECT ?p (COUNT(*) AS ?n) (COUNT(DISTINCT ?s) AS ?s) (COUNT(DISTINCT ?o) AS ?o) "
            "{ GRAPH ?g { ?s ?p ?o } } GROUP BY ?p")
        if isinstance(row["p"], ox.NamedNode)}
    classes = {
        f"<{row['c'].value}>": int(row["n"].value)
        for row in store.query(  # type: ignore[union-attr]
            f"SELECT ?c (COUNT(*) AS ?n) {{ GRAPH ?g {{ ?s {_RDF_TYPE} ?c }} }} GROUP BY ?c")
        if isinstance(row["c"], ox.NamedNode)}
    stats = Statistics(sum(n for n, _, _ in predicates.values()), predicates, classes)
    path.write_text(json.dumps({"triples": stats.triples, "predicates": predicates,
                                "classes": classes}, sort_keys=True), encoding="utf-8")
    return stats


_Pattern = tuple[PatternTerm, PatternTerm, PatternTerm]
#: a pattern's possible values per variable: variable -> how many distinct values
_Domains = Mapping[str, int]


def _class(pattern: _Pattern) -> str | None:
    """The class of ``?x a <C>``, else None."""
    _, p, o = pattern
    return o.name if p.name == _RDF_TYPE and o.name is not None and not o.variable else None


def _matches(pattern: _Pattern, bound: _Domains, stats: Statistics) -> float:
    """The solutions of ``pattern`` expected for one solution of the patterns before it,
    which bind the variables of ``bound`` (each to one of how many distinct values)."""
    s, p, o = pattern
    assert p.name is not None and p.variable is None
    triples, subjects, objects = stats.predicates.get(p.name, (0, 1, 1))
    s_known = s.variable is None or s.variable in bound
    o_known = o.variable is None or o.variable in bound
    known_class = _class(pattern)
    if known_class is not None:
        instances = float(stats.classes.get(known_class, 0))
        if not s_known:
            return instances
        # a check of a known subject's class: the share of its values in the class, the
        # smaller of the two sets taken as within the larger (containment; independence,
        # the class's share of all typed subjects, would cut LUBM query 9's courses
        # tenfold, which the query's teacherOf has already made courses)
        domain = subjects if s.variable is None else bound.get(s.variable, subjects)
        return min(1.0, instances / max(domain, 1))
    expected = float(triples)
    if s.variable in bound and o.variable in bound:
        # the edge that closes a cycle: both its ends are bound by paths that meet there,
        # and seldom independently of each other (LUBM(10)'s query 9: a student takes
        # its advisor's courses far more often than independence says, which expected 16
        # solutions where there are 2,540, and checked the classes of each one by one).
        # The more selective end counts whole, the other by its square root (exponential
        # backoff, as SQL Server's estimator weighs correlated predicates since 2014):
        # 1,309 expected.
        low, high = sorted((max(subjects, 1), max(objects, 1)))
        return expected / high / math.sqrt(low)
    if s_known:
        expected /= max(subjects, 1)
    if o_known:
        expected /= max(objects, 1)
    return expected


def _domains(patterns: list[_Pattern], stats: Statistics) -> dict[str, int]:
    """For each variable of ``patterns``: the fewest distinct values one of them allows it
    (a predicate's distinct subjects or objects, a class's instances)."""
    domains: dict[str, int] = {}
    for pattern in patterns:
        s, p, o = pattern
        assert p.name is not None
        known_class = _class(pattern)
        if known_class is None:
            _, subjects, objects = stats.predicates.get(p.name, (0, 1, 1))
        else:
            subjects, objects = stats.classes.get(known_class, 0), 1
        for term, size in ((s, subjects), (o, objects)):
            if term.variable is not None:
                domains[term.variable] = min(domains.get(term.variable, size), size)
    return domains


def _variables(pattern: _Pattern) -> frozenset[str]:
    return frozenset(t.variable for t in pattern if t.variable is not None)


def _order(patterns: tuple[_Pattern, ...], scans: list[float], stats: Statistics
           ) -> tuple[list[tuple[int, bool]], float] | None:
    """The cheapest left-deep order: (pattern index, by hash join) for each step (the first
    step's flag is unused), and the solutions it is expected to give; None if the patterns
    fall in parts that share no variable. ``scans``: each pattern's solutions alone."""
    n = len(patterns)
    variables = [_variables(t) for t in patterns]
    # subset -> (cost, solutions, steps)
    best: dict[frozenset[int], tuple[float, float, list[tuple[int, bool]]]] = {
        frozenset((i,)): (scans[i] * _SCAN, scans[i], [(i, False)]) for i in range(n)}
    domains: dict[frozenset[int], dict[str, int]] = {}  # of the patterns of a subset
    for size in range(2, n + 1):
        for subset in map(frozenset, combinations(range(n), size)):
            found: tuple[float, float, list[tuple[int, bool]]] | None = None
            for last in subset:
                rest = subset - {last}
                before = best.get(rest)
                if before is None:
                    continue
                if not any(variables[last] & variables[i] for i in rest):
                    continue  # a cartesian product
                bound = domains.get(rest)
                if bound is None:
                    bound = domains[rest] = _domains([patterns[i] for i in rest], stats)
                cost, rows, steps = before
                out = rows * _matches(patterns[last], bound, stats)
                loop = rows * _SEEK
                hashed = scans[last] * _SCAN + rows * _PROBE
                step = min(loop, hashed) + out * _ROW
                if found is None or cost + step < found[0]:
                    found = (cost + step, out, [*steps, (last, hashed < loop)])
            if found is not None:
                best[subset] = found
    whole = best.get(frozenset(range(n)))
    return None if whole is None else (whole[2], whole[1])


def _text(pattern: _Pattern) -> str:
    return " ".join(t.text for t in pattern)


def planned(sparql: str, prefixes: Mapping[str, str] | None, stats: Statistics) -> str | None:
    """``sparql`` with its WHERE pattern written in the order planned from ``stats``, or
    None if the text is not planned (see the module's docstring)."""
    plan = _plan(sparql, prefixes, stats)
    return None if plan is None else plan[0]


def estimated(sparql: str, prefixes: Mapping[str, str] | None,
              stats: Statistics) -> float | None:
    """The solutions of ``sparql``'s WHERE pattern that its plan expects (None if the text
    is not planned)."""
    plan = _plan(sparql, prefixes, stats)
    return None if plan is None else plan[1]


def _plan(sparql: str, prefixes: Mapping[str, str] | None,
          stats: Statistics) -> tuple[str, float] | None:
    try:
        inspection = inspect_cached(sparql, predefined=prefixes or {})
    except SparqlSyntaxError:
        return None  # the engine says what is wrong
    return _rewrite(inspection, stats)


def _rewrite(inspection: Inspection, stats: Statistics) -> tuple[str, float] | None:
    bgp = inspection.where_bgp
    if (bgp is None or len(bgp[2]) < 2 or len(bgp[2]) > MAX_PATTERNS
            or inspection.select_star or inspection.has_dataset_clause):
        return None
    start, end, patterns = bgp
    if any(p.name is None or p.variable is not None for _, p, _ in patterns):
        return None
    scans = [_matches(pattern, {}, stats) for pattern in patterns]
    found = _order(patterns, scans, stats)
    if found is None:
        return None
    order, solutions = found
    # the parts joined by hashing, by their size: Oxigraph breaks ties between its own
    # (equal) guesses by the order written and builds its hash table on the left, so the
    # smallest goes first (LUBM's query 9 in process, median of 5: teacherOf, advisor,
    # takesCourse 332 ms; advisor, takesCourse, teacherOf 358 ms)
    hashed: list[tuple[float, str]] = []
    first = order[0][0]
    text, state = f"{{ {_text(patterns[first])} }}", "one"
    for i, by_hash in order[1:]:
        pattern = _text(patterns[i])
        if by_hash:
            if state != "hash":  # a lateral chain so far is one part, first (it is small)
                hashed = [(scans[first], _text(patterns[first])) if state == "one"
                          else (-1.0, text)]
            hashed.append((scans[i], pattern))
            state = "hash"
            continue
        if state == "hash":
            text = _hash_joined(hashed)
        text, state = f"{text} LATERAL {{ {pattern} }}", "lateral"
    if state == "hash":
        text = _hash_joined(hashed)
    source = inspection.text
    return f"{source[:start]} {text} {source[end:]}", solutions


def _hash_joined(parts: list[tuple[float, str]]) -> str:
    return " ".join(f"{{ SELECT * {{ {text} }} }}" for _, text in sorted(parts))
