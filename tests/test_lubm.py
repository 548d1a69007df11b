"""LUBM(1) through the same pipeline: univ-bench.owl + the LUBM(1) data, built into a release
with the fast engine; the 14 queries must give the reference answer counts, and the closure
must equal owlrl's (precomputed) after the same filtering."""

from __future__ import annotations

import csv
import gzip
import os
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import ROOT
from rdflib import OWL, RDF, BNode
from rdflib.term import Node

from kg.config import Config
from kg.pipeline.build import build
from kg.pipeline.explain import Explainer, Step, release_graphs
from kg.pipeline.reason import filter_category
from kg.store.oxigraph import to_rdflib

LUBM = Path(os.environ.get("KG_LUBM_DIR", ROOT.parent / "shared" / "bench" / "lubm"))

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (LUBM / "lubm1.nt.gz").is_file(),
                       reason=f"the LUBM material is not at {LUBM} (../shared/bench/lubm "
                              "beside the clone, or KG_LUBM_DIR)"),
]

#: the predicates that define an anonymous class or list: a blank node is named by them
_DEFINING = {OWL.onProperty, OWL.someValuesFrom, OWL.allValuesFrom, OWL.hasValue,
             OWL.intersectionOf, OWL.unionOf, OWL.complementOf, OWL.oneOf, RDF.first, RDF.rest}

Triple = tuple[Node, Node, Node]


def canonical(triples: set[Triple], context: set[Triple]) -> set[tuple[str, str, str]]:
    """The triples with each blank node replaced by a description of its structure (read in
    ``context``), so that two parses of one ontology (with other blank node labels) agree."""
    parts: dict[Node, list[tuple[Node, Node]]] = {}
    for s, p, o in context:
        if isinstance(s, BNode) and p in _DEFINING:
            parts.setdefault(s, []).append((p, o))
    names: dict[Node, str] = {}

    def name(node: Node) -> str:
        if not isinstance(node, BNode):
            return node.n3()
        if node not in names:
            names[node] = "[" + " ".join(sorted(f"{p.n3()}={name(o)}"
                                                for p, o in parts.get(node, []))) + "]"
        return names[node]

    return {(name(s), name(p), name(o)) for s, p, o in triples}


@pytest.fixture(scope="module")
def lubm_release(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("lubm")
    for folder in ("ontology", "data", "shapes"):
        (root / folder).mkdir()
    (root / "ontology" / "univ-bench.owl").symlink_to(LUBM / "univ-bench.owl")
    (root / "data" / "lubm1.nt.gz").symlink_to(LUBM / "lubm1.nt.gz")
    config = Config(root=root, release_dir=root / "releases", reasoner="reasonable")
    return config, build(config, progress=print).release


def test_lubm1_answer_counts(lubm_release):
    config, release = lubm_release
    assert release.report.closure["engine"] == "reasonable"
    with (LUBM / "answers-lubm1.tsv").open() as f:
        expected = {row["query"]: int(row["count"]) for row in csv.DictReader(f, delimiter="\t")}
    assert len(expected) == 14
    store = release.open_store("oxigraph")
    counts = {}
    for query, _ in expected.items():
        result = store.query((LUBM / "queries" / f"{query}.rq").read_text())
        counts[query] = sum(1 for _ in result.rows())
    assert counts == expected


def test_lubm1_closure_equals_owlrl(lubm_release):
    config, release = lubm_release
    graphs = release_graphs(release.dataset, config.graph_iris)
    asserted = set(graphs["ontology"]) | set(graphs["data"])
    inferred = set(graphs["inferred"])
    ours = canonical(inferred, asserted | inferred)
    with gzip.open(LUBM / "lubm1-closed-owlrl.nt.gz", "rb") as f:
        closed = {(to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object))
                  for t in ox.parse(f, format=ox.RdfFormat.N_TRIPLES)}
    reference = canonical({t for t in closed if filter_category(t) is None}, closed)
    reference -= canonical(asserted, asserted)
    assert len(ours) > 40_000
    assert ours == reference


def test_lubm1_inferred_triples_are_explained(lubm_release):
    """A sample of the inferred triples, each explained down to asserted triples."""
    config, release = lubm_release
    graphs = release_graphs(release.dataset, config.graph_iris)
    explainer = Explainer({n: graphs[n] for n in ("ontology", "data")}, graphs["inferred"])
    sample = sorted(graphs["inferred"], key=lambda t: " ".join(x.n3() for x in t))[::250]
    assert len(sample) > 150
    rules: set[str] = set()
    for triple in sample:
        explanation = explainer.explain(triple)
        assert explanation.status == "inferred", explanation.to_text()
        leaves = _leaves(explanation.proof)
        assert all(leaf.graph in ("ontology", "data") and leaf.triple in
                   graphs[leaf.graph] for leaf in leaves)
        rules |= {r.id for r in explanation.rules()}
    assert {"cax-sco", "prp-dom", "prp-inv"} <= rules


def _leaves(step: Step) -> list[Step]:
    if step.rule is None:
        return [step]
    return [leaf for premise in step.premises for leaf in _leaves(premise)]
