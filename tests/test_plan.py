"""Queries planned from the data's statistics (kg.store.plan) give the answers the engine
gives to the text as written: the competency queries and a thousand basic graph patterns
drawn from the real graph, planned whatever the store's size, against the same store
unplanned; what the parser says is one basic graph pattern; what is left alone.

The LUBM(1) release, large enough to be planned as served, answers the 14 queries with
the reference counts in tests/test_large_build.py.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from rdflib import BNode

from kg.pipeline.release import Version
from kg.sparqltext import inspect
from kg.store.oxigraph import OxigraphStore
from kg.store.plan import STATISTICS, Statistics, planned

PREFIXES = "PREFIX ex: <http://example.org/>\n"


@pytest.fixture(scope="module")
def stores(release: Version):
    statistics = Statistics.read(release.path / STATISTICS)
    assert statistics is not None, "the build wrote no statistics"
    plain = OxigraphStore(release.index, read_only=True)
    planning = OxigraphStore(release.index, read_only=True, statistics=statistics, plan_from=0)
    yield plain, planning, statistics
    plain.close()
    planning.close()


def _answers(store: OxigraphStore, text: str) -> Counter[tuple[object, ...]] | bool:
    result = store.query(text)
    if result.kind == "boolean":
        return result.boolean
    if result.kind == "graph":  # a CONSTRUCT's blank nodes are new in every answer
        return Counter(tuple("_:" if isinstance(t, BNode) else t for t in triple)
                       for triple in result.triples())
    return Counter(result.rows())


def test_the_build_counts_what_plans_are_made_from(release: Version, stores):
    _, _, statistics = stores
    rdf_type = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    triples, subjects, objects = statistics.predicates[rdf_type]
    assert triples == sum(statistics.classes.values())
    assert 0 < objects == len(statistics.classes) and 0 < subjects <= triples
    assert statistics.triples == sum(n for n, _, _ in statistics.predicates.values())
    assert statistics.triples == release.report.triples["total"] - _checksum_triples(release)


def _checksum_triples(release: Version) -> int:
    """The meta graph's checksums of the dumps, added after the statistics were counted."""
    return sum(1 for line in (release.path / "checksums.nq").read_bytes().splitlines() if line)


def test_competency_queries_answer_the_same_planned(stores):
    plain, planning, statistics = stores
    planned_count = 0
    for path in sorted((ROOT / "queries" / "cq").glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        planned_count += planned(text, None, statistics) is not None
        assert _answers(planning, text) == _answers(plain, text), path.name
    assert planned_count >= 5  # the test plans queries, not only leaves them alone


def _random_patterns(store: OxigraphStore, rng: random.Random, count: int) -> list[str]:
    """Basic graph patterns of 2 to 6 triple patterns drawn from the graph's own triples:
    a walk from a random triple along the nodes it shares with others, each node a variable
    or (sometimes) itself, so that every pattern has answers and is joined to the others.
    The walk's first subject and every node of more than 30 triples (a class, a datatype)
    stay themselves, and the walk does not go through them: a pattern of variables joined
    through them would make millions of solutions in any order."""
    triples = [(s, p, o) for s, p, o in store.query(
        "SELECT ?s ?p ?o { GRAPH ?g { ?s ?p ?o } FILTER(isIRI(?s)) }").rows()]
    by_node: dict[object, list[tuple[object, object, object]]] = {}
    for triple in triples:
        by_node.setdefault(triple[0], []).append(triple)
        by_node.setdefault(triple[2], []).append(triple)
    hubs = {node for node, around in by_node.items() if len(around) > 30}
    texts: list[str] = []
    while len(texts) < count:
        text = _draw(rng, rng.choice(triples), by_node, hubs)
        if text is not None:
            texts.append(text)
    return texts


_Triple = tuple[Any, Any, Any]


def _draw(rng: random.Random, start: _Triple, by_node: dict[Any, list[_Triple]],
          hubs: set[Any]) -> str | None:
    walk, through, anchor = [start], set(), start[0]
    for _ in range(rng.randint(1, 5)):
        nodes = [t for triple in walk for t in (triple[0], triple[2])
                 if t not in hubs and t != anchor]
        if not nodes:
            break
        node = rng.choice(nodes)
        through.add(node)
        walk.append(rng.choice(by_node[node]))
    terms: dict[Any, str] = {}

    def term(node: Any, keep: float) -> str:
        if node not in terms:
            if node in hubs or node == anchor or node not in through and not isinstance(
                    node, BNode) and rng.random() < keep:
                terms[node] = node.n3()
            else:  # a node walked through is a variable: the patterns share it
                terms[node] = f"?v{len(terms)}"
        return terms[node]

    body = " . ".join(f"{term(s, 0.15)} {p.n3()} {term(o, 0.3)}" for s, p, o in walk)
    variables = sorted(t for t in terms.values() if t.startswith("?"))
    return f"SELECT {' '.join(variables)} WHERE {{ {body} }}" if variables else None


def test_drawn_patterns_answer_the_same_planned(stores):
    plain, planning, statistics = stores
    rng = random.Random(20261206)
    texts = _random_patterns(plain, rng, 1000)
    rewritten = 0
    for text in texts:
        if planned(text, None, statistics) is not None:
            rewritten += 1
        expected = _answers(plain, text)
        assert _answers(planning, text) == expected, text
    assert rewritten >= 600


@pytest.mark.parametrize(("text", "patterns"), [
    ("SELECT ?x ?y { ?x ex:p ?y . ?y a ex:C }", 2),
    ("SELECT ?x { ?x ex:p ?y ; ex:q 'a'@en, 3, \"b\"^^ex:t . }", 4),
    ("ASK { ?x ex:p ?y . ?y ex:q <http://example.org/z> }", 2),
    ("CONSTRUCT { ?x ex:r ?y } WHERE { ?x ex:p ?y . ?y ex:q ?z }", 2),
    ("SELECT ?x { ?x ex:p ?y FILTER(?y > 1) }", None),
    ("SELECT ?x { ?x ex:p ?y OPTIONAL { ?y ex:q ?z } }", None),
    ("SELECT ?x { ?x ex:p/ex:q ?y . ?y ex:r ?z }", None),
    ("SELECT ?x { ?x ex:p _:b . _:b ex:q ?z }", None),
    ("SELECT ?x { ?x ex:p [ ex:q ?z ] }", None),
    ("SELECT ?x { { ?x ex:p ?y } UNION { ?x ex:q ?y } }", None),
    ("SELECT ?x { ?x ex:p ?y { SELECT ?y { ?y ex:q ?z } } }", None),
    ("SELECT ?x WHERE { ?x ex:p ?y FILTER EXISTS { ?y ex:q ?z . ?z ex:r ?w } }", None),
    ("DESCRIBE ?x WHERE { ?x ex:p ?y . ?y ex:q ?z }", None),
])
def test_the_parser_tells_a_plain_basic_graph_pattern(text: str, patterns: int | None):
    where = inspect(PREFIXES + text).where_bgp
    assert (None if where is None else len(where[2])) == patterns


def test_what_is_left_as_written(stores):
    _, _, statistics = stores
    for text in ("SELECT * { ?x ex:p ?y . ?y ex:q ?z }",  # its columns follow the pattern
                 "SELECT ?x FROM <http://example.org/g> { ?x ex:p ?y . ?y ex:q ?z }",
                 "SELECT ?x { ?x ?p ?y . ?y ex:q ?z }",  # a variable predicate
                 "SELECT ?x { ?x ex:p ?y . ?z ex:q ?w }",  # two parts, no shared variable
                 "SELECT ?x { ?x ex:p ?y }",
                 "SELECT ?x { ?x ex:p ?y . ?y ex:q ?z",  # not SPARQL: the engine says why
                 "INSERT DATA { ex:a ex:p ex:b }"):
        assert planned(PREFIXES + text, None, statistics) is None, text


def test_a_plan_keeps_the_text_around_its_pattern(stores):
    _, _, statistics = stores
    text = (PREFIXES + "SELECT DISTINCT ?x (COUNT(?y) AS ?n)\nWHERE { ?x ex:p ?y . "
            "?y a ex:C } GROUP BY ?x ORDER BY DESC(?n) LIMIT 5 # the end")
    rewritten = planned(text, None, statistics)
    assert rewritten is not None
    before, _, after = text.partition("{")
    assert rewritten.startswith(before + "{") and rewritten.endswith(
        "} GROUP BY ?x ORDER BY DESC(?n) LIMIT 5 # the end")


def test_a_small_store_is_not_planned(release: Version):
    served = OxigraphStore.serve("", [], release.index, ())
    try:
        # our graph is far below PLAN_FROM_TRIPLES: every order of its patterns is fast
        assert served.statistics is None
    finally:
        served.close()


def test_statistics_file_is_among_the_checksummed_files(release: Version):
    assert STATISTICS in release.report.files
    assert Path(release.path / STATISTICS).is_file()


@pytest.mark.parametrize("content", ["", "{", '{"triples": 5}', '{"triples": "x", '
                                     '"predicates": {}, "classes": {}}', "[]"])
def test_unreadable_statistics_leave_queries_as_written(tmp_path: Path, content: str):
    path = tmp_path / STATISTICS
    path.write_text(content, encoding="utf-8")
    assert Statistics.read(path) is None
    assert Statistics.read(tmp_path / "missing.json") is None
