"""The build pipeline on the real sources and on broken copies of them."""

import json
from pathlib import Path

import pytest
from rdflib import RDF, URIRef

from kg.config import Config
from kg.pipeline.build import BuildError, build
from kg.pipeline.load import SourceError, discover_sources, load_sources
from kg.pipeline.reason import closure
from kg.pipeline.release import ReleaseError, Releases

KKO = "https://w3id.org/kazkor/ontology#"
KKID = "https://w3id.org/kazkor/id/"


def test_sources_go_to_their_graphs(config):
    graphs = {s.path.name: s.graph for s in discover_sources(config)}
    assert graphs["kazkor.ttl"] == "ontology"
    assert all(g == "data" for name, g in graphs.items() if name.startswith(("agreements",
                                                                          "people")))


def test_release_is_complete(release):
    report = release.report
    assert report.complete is True
    assert report.validation["after_reasoning"]["violations"] == 0
    for name in ("ontology", "data", "inferred", "meta"):
        assert report.triples[name] > 0
    assert report.triples["total"] == sum(
        v for k, v in report.triples.items() if k != "total")
    assert set(report.timings_seconds) >= {"load", "reason", "total"}
    assert all(len(h) == 64 for h in report.inputs.values())
    # the dataset file (the N-Quads dump) holds every quad of the store but the checksums of
    # the version's own dumps, which the store's meta graph gains once they are written
    store = release.open_store("oxigraph")
    checksums = int(next(store.query(
        "PREFIX spdx: <http://spdx.org/rdf/terms#>\nSELECT (COUNT(*) AS ?n) { GRAPH ?g { "
        "{ ?d spdx:checksum ?c } UNION { ?d spdx:checksum ?x . ?x ?p ?o } } }").rows())[0])
    assert checksums == 4 * len(report.dumps)
    assert release.dataset.read_text().count("\n") == report.triples["total"] - checksums


def test_inferred_graph_holds_only_new_triples(release, config):
    loaded = load_sources(config)
    asserted = loaded.union()
    inferred = closure(asserted).inferred
    assert len(inferred) > 0
    assert not any(t in asserted for t in inferred)
    agreement = URIRef(KKID + "agreement-cultural-scientific-technological-1995")
    assert (agreement, RDF.type, URIRef(KKO + "BilateralDocument")) in inferred
    assert (agreement, RDF.type, URIRef(KKO + "CooperationAgreement")) not in inferred
    assert not any(p == URIRef("http://www.w3.org/2002/07/owl#sameAs") and s == o
                   for s, p, o in inferred)


def test_rebuild_with_unchanged_sources_reuses_the_release(config, release):
    messages: list[str] = []
    again = build(config, progress=messages.append)
    assert again.reused and again.release.path == release.path
    assert any("reusing" in m for m in messages)


def test_turtle_error_names_file_and_line(project: Path, tmp_path: Path):
    bad = project / "data" / "ttl" / "people.ttl"
    lines = bad.read_text().splitlines()
    lines.insert(6, 'kkid:x rdfs:label "unterminated .')
    bad.write_text("\n".join(lines) + "\n")
    config = Config(root=project, release_dir=tmp_path / "rel")
    with pytest.raises(SourceError) as e:
        build(config)
    assert e.value.path == bad
    assert e.value.line == 7
    assert "people.ttl:7" in str(e.value)


def test_failed_build_keeps_the_previous_release(project: Path, tmp_path: Path):
    config = Config(root=project, release_dir=tmp_path / "rel")
    first = build(config).release
    (project / "data" / "ttl" / "agreements.ttl").write_text("this is not turtle")
    with pytest.raises(SourceError):
        build(config)
    assert Releases.of(config).current().path == first.path
    Releases.of(config).current().check()


def test_violation_stops_the_build_with_a_readable_report(project: Path, tmp_path: Path):
    path = project / "data" / "ttl" / "agreements.ttl"
    text = path.read_text().replace("kko:party kkid:kazakhstan, kkid:south-korea ;\n"
                                    "    kko:signedDuring", "kko:signedDuring", 1)
    path.write_text(text)
    config = Config(root=project, release_dir=tmp_path / "rel")
    with pytest.raises(BuildError) as e:
        build(config)
    report = e.value.report
    assert report is not None and len(report.violations) == 1
    v = report.violations[0]
    assert v.file.endswith("agreements.ttl") and v.line is not None
    assert "declaration-1995" in v.focus_node
    assert v.path == "kko:party"
    assert "two parties" in v.message
    assert Releases.of(config).current() is None


def test_truncated_release_is_detected(project: Path, tmp_path: Path):
    config = Config(root=project, release_dir=tmp_path / "rel")
    release = build(config).release
    with release.dataset.open("r+b") as f:
        f.truncate(100)
    with pytest.raises(ReleaseError, match="size"):
        release.check()
    json.loads((release.path / "report.json").read_text())  # the report itself is intact


def _square(n: int) -> int:
    return n * n


def _refuse(text: str) -> None:
    raise BuildError(text)


def test_forked_work_answers_raises_and_ends() -> None:
    """The build validates the asserted graph in a forked copy (kg.system.Forked): its value
    comes back, what it raised is raised here, a copy that ends without answering is an
    error, and leaving the block without the result ends the copy."""
    import os
    import signal

    from kg.system import Forked, process_alive

    with Forked(_square, 12) as forked:
        assert forked.result() == 144
    with Forked(_refuse, "the shapes say no") as forked, pytest.raises(BuildError,
                                                                        match="say no"):
        forked.result()
    with Forked(os._exit, 3) as forked, pytest.raises(ChildProcessError):
        forked.result()
    with Forked(signal.pause) as forked:
        pid = forked.pid
    assert not process_alive(pid)
