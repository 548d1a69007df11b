"""Dumps against the real server: every format, gzip, checksums, versioned names and the
stable ``latest`` names, ETag/Last-Modified with conditional GET, a listing with sizes and
counts, and the same statements as the endpoint serves (but the dumps' own checksums);
``kg dump`` from the command line."""

from __future__ import annotations

import gzip
import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import Server, run_kg
from rdflib import OWL, RDF, Dataset, Graph, URIRef
from tests.system_packages import require

from kg.config import Config
from kg.pipeline.build import build
from kg.pipeline.dumps import DUMP_FORMATS, read_manifest
from kg.pipeline.meta import CHECKSUM_TRIPLES
from kg.pipeline.release import Releases

PARSERS = {"nquads": "nquads", "trig": "trig", "turtle": "turtle", "ntriples": "nt",
           "jsonld": "json-ld", "rdfxml": "xml"}


def manifest(server: Server) -> dict:  # type: ignore[type-arg]
    r = server.get("/dumps/", headers={"Accept": "application/json"})
    assert r.status_code == 200
    return r.json()


def count(server: Server, query: str) -> int:
    r = server.get("/sparql", params={"query": query},
                   headers={"Accept": "application/sparql-results+json"})
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def test_every_format_is_dumped_with_a_version_in_its_name(ld_server: Server) -> None:
    listed = manifest(ld_server)
    release = ld_server.get("/health").json()["release"]
    assert listed["version"] == release
    assert {d["format"] for d in listed["dumps"]} == set(PARSERS)
    for d in listed["dumps"]:
        assert re.fullmatch(rf"kazkor-kg-{release}(-graphs)?\.[a-z]+\.gz", d["file"])


def test_dumps_parse_and_hold_what_the_endpoint_serves(ld_server: Server) -> None:
    """Everything the endpoint serves but the dumps' checksums (a file cannot hold its own
    checksum: the meta graph gets them once the dumps are written)."""
    quads = count(ld_server, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
    triples = count(ld_server, "SELECT (COUNT(*) AS ?n) WHERE "
                               "{ SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } }")
    assert quads == ld_server.get("/health").json()["triples"]
    checksums = count(ld_server, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { "
                                 "{ ?d <http://spdx.org/rdf/terms#checksum> ?c } UNION "
                                 "{ ?d <http://spdx.org/rdf/terms#checksum> ?s . ?s ?p ?o } } }")
    assert checksums == CHECKSUM_TRIPLES * len(DUMP_FORMATS)
    quads -= checksums
    triples -= checksums
    for d in manifest(ld_server)["dumps"]:
        r = ld_server.get("/dumps/" + d["file"])
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "application/gzip"
        data = gzip.decompress(r.content)
        if d["named_graphs"]:
            parsed = Dataset()
            parsed.parse(data=data, format=PARSERS[d["format"]])
            statements = len(list(parsed.quads((None, None, None, None))))
            assert statements == quads == d["statements"], d["file"]
            assert len({g for *_, g in parsed.quads((None, None, None, None))}) >= 5
        else:
            statements = len(Graph().parse(data=data, format=PARSERS[d["format"]]))
            assert statements == triples == d["statements"], d["file"]


def test_jsonld_dumps_hold_the_same_graphs_as_nquads(ld_server: Server) -> None:
    """The JSON-LD dumps (written by kg.pipeline.jsonld, not rdflib) read back as the same
    RDF: the plain one as the N-Triples dump's graph, the graphs file as the N-Quads dump's
    named graphs, each graph isomorphic."""
    from rdflib.compare import isomorphic

    files = {(d["format"], d["named_graphs"]): d["file"] for d in manifest(ld_server)["dumps"]}

    def read(fmt: str, named: bool) -> bytes:
        return gzip.decompress(ld_server.get("/dumps/" + files[fmt, named]).content)

    plain = Graph().parse(data=read("jsonld", False), format="json-ld")
    assert isomorphic(plain, Graph().parse(data=read("ntriples", False), format="nt"))
    assert read("jsonld", False).startswith(b'{"@context":')
    graphs = Dataset().parse(data=read("jsonld", True), format="json-ld")
    quads = Dataset().parse(data=read("nquads", True), format="nquads")
    named = [g for g in quads.graphs() if len(g)]
    assert len(named) >= 5
    for graph in named:
        assert isomorphic(graphs.graph(graph.identifier), graph), graph.identifier


def test_checksums_match_the_files(ld_server: Server) -> None:
    listed = manifest(ld_server)
    sums = ld_server.get("/dumps/" + listed["checksums"]).text
    lines = dict(reversed(line.split("  ")) for line in sums.splitlines())
    assert set(lines) == {d["file"] for d in listed["dumps"]} | {listed["linkset"]["file"]}
    for d in listed["dumps"]:
        body = ld_server.get("/dumps/" + d["file"]).content
        assert hashlib.sha256(body).hexdigest() == lines[d["file"]] == d["sha256"]
        assert len(body) == d["bytes"]


def test_linkset_dump_holds_the_links_graph(ld_server: Server) -> None:
    linkset = manifest(ld_server)["linkset"]
    assert linkset["file"].endswith("-links.nt.gz")
    body = ld_server.get("/dumps/" + linkset["file"]).content
    assert hashlib.sha256(body).hexdigest() == linkset["sha256"]
    graph = Graph().parse(data=gzip.decompress(body), format="nt")
    in_endpoint = count(ld_server, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH "
                                   "<https://w3id.org/kazkor/graph/links> { ?s ?p ?o } }")
    assert len(graph) == linkset["statements"] == in_endpoint > 0
    assert (URIRef("https://w3id.org/kazkor/id/kazakhstan"), OWL.sameAs,
            URIRef("http://www.wikidata.org/entity/Q232")) in graph
    assert linkset["file"] in ld_server.get("/dumps/", headers={"Accept": "text/html"}).text


def test_conditional_get(ld_server: Server) -> None:
    d = manifest(ld_server)["dumps"][0]
    r = ld_server.get("/dumps/" + d["file"])
    assert r.headers["ETag"] == f'"{d["sha256"]}"'
    assert r.headers["Last-Modified"]
    again = ld_server.get("/dumps/" + d["file"], headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.content == b""
    since = ld_server.get("/dumps/" + d["file"],
                          headers={"If-Modified-Since": r.headers["Last-Modified"]})
    assert since.status_code == 304
    changed = ld_server.get("/dumps/" + d["file"], headers={"If-None-Match": '"other"'})
    assert changed.status_code == 200


def test_listing_page(ld_server: Server) -> None:
    r = ld_server.get("/dumps/", headers={"Accept": "text/html"})
    assert r.status_code == 200
    for d in manifest(ld_server)["dumps"]:
        assert f'href="/dumps/{d["file"]}"' in r.text
        assert f'{d["statements"]:,}' in r.text
        assert d["sha256"] in r.text
    assert "KiB" in r.text


def test_unknown_dump_is_404(ld_server: Server) -> None:
    r = ld_server.get("/dumps/kazkor-kg-0000.ttl.gz")
    assert r.status_code == 404
    assert "/dumps/" in r.text
    assert ld_server.get("/dumps/../report.json").status_code == 404


@pytest.mark.parametrize("format_name", ["turtle", "nquads"])
def test_kg_dump_writes_the_release(ld_server: Server, ld_config: Config, tmp_path: Path,
                                    format_name: str) -> None:
    out = tmp_path / f"graph.{format_name}.gz"
    result = run_kg("--root", str(ld_config.root), "--release-dir", str(ld_config.releases),
                    "dump", "--format", format_name, "--out", str(out))
    assert result.returncode == 0, result.stderr
    dumped = next(d for d in manifest(ld_server)["dumps"] if d["format"] == format_name)
    # what the endpoint serves: the release's dump and the dumps' checksums
    checksums = CHECKSUM_TRIPLES * len(DUMP_FORMATS)
    if format_name == "nquads":
        parsed = Dataset()
        parsed.parse(data=gzip.decompress(out.read_bytes()), format="nquads")
        assert len(list(parsed.quads((None, None, None, None)))) == \
            dumped["statements"] + checksums
    else:
        graph = Graph().parse(data=gzip.decompress(out.read_bytes()), format="turtle")
        assert len(graph) == dumped["statements"] + checksums


def test_kg_dump_one_graph_to_stdout(ld_config: Config) -> None:
    result = run_kg("--root", str(ld_config.root), "--release-dir", str(ld_config.releases),
                    "dump", "--format", "ntriples", "--graph", "ontology")
    assert result.returncode == 0, result.stderr
    graph = Graph().parse(data=result.stdout, format="nt")
    release = Releases.of(ld_config).current()
    assert release is not None
    assert len(graph) == release.report.triples["ontology"]
    assert (URIRef("https://w3id.org/kazkor/ontology"), RDF.type, OWL.Ontology) in graph
    assert not any(str(s).startswith("https://w3id.org/kazkor/id/") for s in graph.subjects())


def test_a_release_without_dumps_is_built_again(tmp_path: Path) -> None:
    """A release written by an older kg (no dumps) is not reused: it would serve no /dumps/."""
    config = Config(root=Path(__file__).resolve().parents[1], release_dir=tmp_path)
    first = build(config).release
    shutil.rmtree(first.path / "dumps")
    again = build(config)
    assert not again.reused
    assert read_manifest(again.release.path) is not None
    assert build(config).reused


def test_latest_names_give_the_current_files(ld_server: Server) -> None:
    listed = manifest(ld_server)
    version = listed["version"]
    latest = listed["latest"]
    extensions = {d["file"].removeprefix(f"kazkor-kg-{version}") for d in listed["dumps"]}
    assert set(latest) == {"latest" + e for e in extensions} | {
        "latest-links.nt.gz", "latest.sha256"}
    assert {"latest.ttl.gz", "latest.nq.gz", "latest.trig.gz", "latest.nt.gz",
            "latest.jsonld.gz", "latest.rdf.gz"} <= set(latest)
    for name, file in latest.items():
        r = ld_server.get("/dumps/" + name)
        assert r.status_code == 200, name
        assert r.headers["KG-Version"] == version
        assert r.headers["Content-Location"] == f"/dumps/{file}"
        assert r.headers["Cache-Control"] == "no-cache"
        if name != "latest.sha256":
            versioned = ld_server.get("/dumps/" + file)
            assert r.content == versioned.content and r.headers["ETag"] == versioned.headers["ETag"]
            again = ld_server.get("/dumps/" + name, headers={"If-None-Match": r.headers["ETag"]})
            assert again.status_code == 304
    page = ld_server.get("/dumps/", headers={"Accept": "text/html"}).text
    assert all(f'href="/dumps/{name}"' in page for name in latest)
    assert ld_server.get("/dumps/latest.xyz.gz").status_code == 404


def test_curl_saves_the_latest_dump_and_its_checksum_checks(ld_server: Server,
                                                            tmp_path: Path) -> None:
    require("curl")
    for name in ("latest.ttl.gz", "latest.sha256"):
        subprocess.run(["curl", "-sO", f"{ld_server.url}/dumps/{name}"], cwd=tmp_path,
                       check=True, timeout=60)
    saved = (tmp_path / "latest.ttl.gz").read_bytes()
    turtle = next(d for d in manifest(ld_server)["dumps"] if d["format"] == "turtle")
    assert hashlib.sha256(saved).hexdigest() == turtle["sha256"]
    assert len(Graph().parse(data=gzip.decompress(saved), format="turtle")) == \
        turtle["statements"]
    checked = subprocess.run(["sha256sum", "-c", "--ignore-missing", "latest.sha256"],
                             cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and checked.stdout == "latest.ttl.gz: OK\n", checked
