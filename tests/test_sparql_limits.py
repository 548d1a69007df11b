"""The caps on answers: the row limit's counting never undercounts, and the row and byte caps
cut an answer at a row boundary, in every format, without building it whole first."""

import csv
import io
import json
from dataclasses import dataclass

import pyoxigraph as ox
import pytest

from kg.served.jobs import CappedOutput, Overflow, most_rows, query
from kg.store.oxigraph import OxigraphStore

TRICKY = ["x", "},{", "<result>", "a\nb\nc", "tab\there", '" , ; .']
SOLUTION_FORMATS = ["json", "xml", "csv", "tsv"]
GRAPH_FORMATS = ["turtle", "ntriples", "nquads", "trig", "jsonld", "rdfxml"]
#: a one-row answer of 16 MiB from a query of a few hundred bytes (a string doubled 20 times)
DOUBLING = ('SELECT ?x { BIND("0123456789abcdef" AS ?a0) '
            + " ".join(f"BIND(CONCAT(?a{i}, ?a{i}) AS ?a{i + 1})" for i in range(20))
            + " BIND(?a20 AS ?x) }")


def _store() -> ox.Store:
    store = ox.Store()
    for i, text in enumerate(TRICKY):
        store.add(ox.Quad(ox.NamedNode(f"http://e/{i}"), ox.NamedNode("http://e/p"),
                          ox.Literal(text), ox.DefaultGraph()))
    store.add(ox.Quad(ox.BlankNode(), ox.NamedNode("http://e/p"), ox.Literal("1", language="en"),
                      ox.DefaultGraph()))
    return store


@pytest.mark.parametrize("fmt", SOLUTION_FORMATS)
def test_solutions_are_never_undercounted(fmt):
    store = _store()
    query = "SELECT * WHERE { ?s ?p ?o OPTIONAL { ?s <http://e/none> ?x } }"
    body = store.query(query).serialize(format=getattr(ox.QueryResultsFormat, fmt.upper()))
    assert most_rows(body, fmt) >= len(TRICKY) + 1


@pytest.mark.parametrize("fmt", GRAPH_FORMATS)
def test_triples_are_never_undercounted(fmt):
    store = _store()
    names = {"ntriples": "N_TRIPLES", "nquads": "N_QUADS", "jsonld": "JSON_LD",
             "rdfxml": "RDF_XML"}
    body = store.query("CONSTRUCT WHERE { ?s ?p ?o }").serialize(
        format=getattr(ox.RdfFormat, names.get(fmt, fmt.upper())))
    assert most_rows(body, fmt) >= len(TRICKY) + 1


# ---- the caps, on a real Oxigraph store -----------------------------------------------------

@dataclass
class Holder:
    """What a query job reads: the store of a query process (here an in-memory one)."""

    store: OxigraphStore


@pytest.fixture(scope="module")
def holder() -> Holder:
    store = OxigraphStore()
    for i in range(300):
        store._store.add(ox.Quad(ox.NamedNode(f"http://e/{i:03d}"), ox.NamedNode("http://e/p"),
                                 ox.Literal(f"row {i} " + TRICKY[i % len(TRICKY)] * (i % 7)),
                                 ox.DefaultGraph()))
    return Holder(store)


ROWS = "SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s"
TRIPLES = "CONSTRUCT WHERE { ?s ?p ?o }"


def _ask(holder: Holder, text: str, fmt: str, rows: int = 100_000, size: int = 1 << 30):
    return query(holder, text, fmt, (), (), True, rows, size, None, {})  # type: ignore[arg-type]


def _subjects(body: bytes, fmt: str) -> list[str]:
    """The subjects of an answer, in order, read back by Oxigraph (or csv for CSV)."""
    if fmt == "csv":
        return [row["s"] for row in csv.DictReader(io.StringIO(body.decode()))]
    if fmt in SOLUTION_FORMATS:
        parsed = ox.parse_query_results(body, format=getattr(ox.QueryResultsFormat, fmt.upper()))
        return [solution["s"].value for solution in parsed]  # type: ignore[union-attr]
    names = {"ntriples": "N_TRIPLES", "nquads": "N_QUADS", "jsonld": "JSON_LD",
             "rdfxml": "RDF_XML"}
    parsed = ox.parse(body, format=getattr(ox.RdfFormat, names.get(fmt, fmt.upper())))
    return sorted(t.subject.value for t in parsed)


@pytest.mark.parametrize("fmt", SOLUTION_FORMATS + GRAPH_FORMATS)
def test_an_answer_over_the_byte_cap_is_cut_at_a_row_boundary(holder: Holder, fmt: str):
    text = ROWS if fmt in SOLUTION_FORMATS else TRIPLES
    whole = _ask(holder, text, fmt)
    assert not whole.cut and len(_subjects(whole.body, fmt)) == 300
    cap = len(whole.body) // 3
    answer = _ask(holder, text, fmt, size=cap)
    assert answer.cut == "bytes" and len(answer.body) <= cap
    kept = _subjects(answer.body, fmt)
    assert 0 < len(kept) == answer.rows < 300
    if fmt in SOLUTION_FORMATS:  # the first rows of the answer, in its order
        assert kept == _subjects(whole.body, fmt)[:len(kept)]


@pytest.mark.parametrize("fmt", ["json", "tsv", "turtle"])
def test_the_row_cap_cuts_and_an_answer_at_the_caps_is_whole(holder: Holder, fmt: str):
    text = ROWS if fmt in SOLUTION_FORMATS else TRIPLES
    answer = _ask(holder, text, fmt, rows=40)
    assert answer.cut == "rows" and answer.rows == 40 == len(_subjects(answer.body, fmt))
    exact = _ask(holder, text, fmt, rows=300)
    assert not exact.cut and len(_subjects(exact.body, fmt)) == 300
    assert not _ask(holder, text, fmt, size=len(exact.body)).cut


def test_rows_that_look_like_separators_are_not_cut():
    holder = Holder(OxigraphStore())
    for i in range(5):
        holder.store._store.add(ox.Quad(ox.NamedNode(f"http://e/{i}"), ox.NamedNode("http://e/p"),
                                        ox.Literal("},{" * 20 + "\n" * 20), ox.DefaultGraph()))
    for fmt in ("json", "csv"):
        answer = _ask(holder, "SELECT ?s ?o { ?s ?p ?o }", fmt, rows=5)
        assert not answer.cut and len(_subjects(answer.body, fmt)) == 5


def test_a_huge_row_is_never_built_whole(holder: Holder):
    """A one-row answer of 16 MiB against a 1 MiB cap: the serialization stops at the cap,
    and the answer is the variables without the row."""
    output = CappedOutput(1 << 20, "json")
    with pytest.raises(Overflow):
        holder.store.query(DOUBLING).serialize_into(output, "json")
    assert output.size == 1 << 20
    answer = _ask(holder, DOUBLING, "json", size=1 << 20)
    assert answer.cut == "bytes" and answer.rows == 0
    assert json.loads(answer.body) == {"head": {"vars": ["x"]}, "results": {"bindings": []}}
