"""Dataset sources (.nq, .trig under data/) keep their named graphs as graphs of the release,
and KG_UPDATE_GRAPHS decides which graphs an update may write (kg.pipeline.load,
kg.pipeline.rebuild.apply_update)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.config import Config
from kg.pipeline.build import build
from kg.pipeline.load import SourceError
from kg.pipeline.rebuild import BuildError, apply_update
from kg.store import open_store

EX = "http://example.org/"
TRIG = f"""@prefix ex: <{EX}> .
ex:a ex:p ex:b .
ex:g1 {{ ex:a ex:q _:x . _:x ex:r 1 }}
ex:g2 {{ ex:c ex:q _:x }}
"""


def _project(tmp_path: Path, trig: str = TRIG) -> Config:
    for name in ("ontology", "data", "shapes"):
        (tmp_path / name).mkdir()
    (tmp_path / "data" / "x.trig").write_text(trig, encoding="utf-8")
    (tmp_path / "data" / "y.nq").write_text(f'<{EX}s> <{EX}p> "1" <{EX}g3> .\n',
                                            encoding="utf-8")
    return Config(root=tmp_path, release_dir=tmp_path / "releases", reasoning="none",
                  testing=True)


def _graphs(config: Config) -> dict[str, int]:
    version = build(config).release
    return {iri: version.report.triples[key] for key, iri in version.report.graphs.items()
            if key in version.report.triples}


def _rows(config: Config, query: str) -> list[tuple[str, ...]]:
    from kg.pipeline.release import OXIGRAPH_DIR, Releases

    version = Releases.of(config).current()
    assert version is not None
    store = open_store("oxigraph", version.path / OXIGRAPH_DIR, read_only=True)
    rows = [tuple(str(t) for t in row) for row in store.query(query).rows()]
    store.close()
    return rows


def test_named_graphs_of_dataset_sources_are_graphs_of_the_release(tmp_path: Path) -> None:
    config = _project(tmp_path)
    graphs = _graphs(config)
    assert graphs[EX + "g1"] == 2 and graphs[EX + "g2"] == 1 and graphs[EX + "g3"] == 1
    assert graphs[config.graph_iri("data")] == 1  # the default graph of x.trig
    # a blank node label names one node across the graphs of its file
    shared = _rows(config, f"SELECT ?x {{ GRAPH ?g {{ ?s <{EX}q> ?x }} }}")
    assert len(shared) == 2 and len(set(shared)) == 1
    void = _rows(config, "SELECT ?g { GRAPH ?m { ?g <http://www.w3.org/ns/sparql-service-"
                         "description#name> ?g } }")
    assert {(EX + "g1",), (EX + "g3",)} <= set(void)


def test_a_source_cannot_give_a_computed_graph(tmp_path: Path) -> None:
    config = _project(tmp_path, "<https://w3id.org/kazkor/graph/inferred> { <x:a> <x:b> <x:c> }")
    with pytest.raises(SourceError, match="computed by the build"):
        build(config)


def test_updates_write_the_project_graphs_unless_any_graph_is_allowed(tmp_path: Path) -> None:
    config = _project(tmp_path)
    build(config)
    with pytest.raises(BuildError, match="writes to http://example.org/g4"):
        apply_update(config, f"INSERT DATA {{ GRAPH <{EX}g4> {{ <{EX}a> <{EX}b> 1 }} }}")
    # the graphs of the sources are carried over, untouched by what the update reads
    apply_update(config, f"DELETE WHERE {{ GRAPH <{EX}g1> {{ ?s ?p ?o }} }}")
    assert _graphs(config)[EX + "g1"] == 2
    anything = config.with_(update_graphs="any")
    apply_update(anything, f"DROP ALL ; INSERT DATA {{ GRAPH <{EX}g4> {{ <{EX}a> <{EX}b> 1 }} }}")
    assert _rows(anything, "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } "
                           f"FILTER(STRSTARTS(STR(?g), '{EX}')) }} GROUP BY ?g") == [
        (EX + "g4", "1")]
    with pytest.raises(BuildError, match="computed ones"):
        apply_update(anything, "INSERT DATA { GRAPH <https://w3id.org/kazkor/graph/meta> "
                               "{ <x:a> <x:b> 1 } }")
