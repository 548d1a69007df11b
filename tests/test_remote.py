"""The remote backend against a real Virtuoso 7: publish the release, then query it there.

Answers through the remote store, the `kg` command and `kg serve --store remote:URL`
(real gunicorn) are compared with the answers of the oxigraph backend.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import pytest
from rdflib import BNode, Graph
from rdflib.compare import isomorphic
from tests.conftest import free_port, run_kg, start_server, stop_server

from kg.config import Config
from kg.pipeline.publish import Target, publish_release
from kg.pipeline.release import Version
from kg.store import QuerySyntaxError, StoreError, StoreUnavailable, open_store
from kg.store.remote import RemoteStore
from kg.store.virtuoso import private_ini

P = ("PREFIX kko: <https://w3id.org/kazkor/ontology#> "
     "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
     "PREFIX owl: <http://www.w3.org/2002/07/owl#> ")
QUERIES = [
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    P + "SELECT ?d WHERE { ?d a kko:BilateralDocument }",
    P + "SELECT ?s ?label WHERE { ?s rdfs:label ?label }",
    P + "SELECT ?c (COUNT(?x) AS ?n) WHERE { ?x a ?c } GROUP BY ?c",
    "SELECT ?s ?o WHERE { GRAPH <https://w3id.org/kazkor/graph/data> { ?s ?p ?o } }",
    "SELECT ?s ?o FROM <https://w3id.org/kazkor/graph/ontology> WHERE { ?s a ?o }",
]

#: entities whose pages and data documents are compared between the stores
ENTITIES = ["abai-kazakh-national-pedagogical-university", "al-farabi-kazakh-national-university",
            "dataset/respondents-image-of-south-korea"]


def solutions(body: bytes) -> Counter[tuple[str, ...]]:
    """SPARQL JSON results as a multiset of rows of N-Triples terms."""
    import pyoxigraph as ox

    parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    names = [v.value for v in parsed.variables]
    return Counter(tuple(canonical(s[v]) for v in names) for s in parsed)


_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"


def canonical(term) -> str:  # type: ignore[no-untyped-def]
    """The term in N-Triples, booleans in their canonical form: Virtuoso writes
    "1"^^xsd:boolean for "true"^^xsd:boolean, the same value."""
    import pyoxigraph as ox

    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return "_:b"
    if isinstance(term, ox.Literal) and term.datatype.value == _BOOLEAN:
        value = {"1": "true", "0": "false"}.get(term.value, term.value)
        return str(ox.Literal(value, datatype=term.datatype))
    return str(term)


def answers(store, query: str) -> Counter[tuple[str, ...]]:  # type: ignore[no-untyped-def]
    """Rows as N-Triples terms; blank nodes, whose labels each server picks, as ``_:b``."""
    return Counter(tuple("" if t is None else "_:b" if isinstance(t, BNode) else t.n3()
                         for t in row)
                   for row in store.query(query).rows())


@pytest.fixture(scope="session")
def published(virtuoso, release: Version) -> str:  # type: ignore[no-untyped-def]
    """The release pushed to Virtuoso by the Graph Store Protocol; the SPARQL URL."""
    publish_release(release, Target(virtuoso.sparql_url, user="dba", password="dba"))
    return virtuoso.sparql_url


@pytest.fixture(scope="session")
def remote(published: str, release: Version):  # type: ignore[no-untyped-def]
    store = release.open_store(f"remote:{published}")
    yield store
    store.close()


@pytest.fixture(scope="session")
def local(release: Version):  # type: ignore[no-untyped-def]
    return release.open_store("oxigraph")


def test_private_ini_listens_on_loopback_only(virtuoso):
    ini = (virtuoso.folder / "virtuoso.ini").read_text()
    assert f"ServerPort = 127.0.0.1:{virtuoso.sql_port}" in ini
    assert f"ServerPort = 127.0.0.1:{virtuoso.http_port}" in ini
    assert "ResultSetMaxRows = 10000000" in ini


def test_private_ini_replaces_and_adds_settings():
    text = "[A]\nx = 1 ; note\n; x = 3\n[B]\ny = 2\n"
    assert private_ini(text, {"A": {"x": "9", "z": "5"}, "C": {"w": "0"}}) == (
        "[A]\nx = 9\n; x = 3\nz = 5\n[B]\ny = 2\n[C]\nw = 0\n")


def test_published_counts_equal_the_release(published, release: Version, remote):
    assert remote.count() == release.triple_count
    triples = release.report.triples
    assert remote.graphs() == sorted(iri for name, iri in release.report.graphs.items()
                                     if triples[name])
    for name, iri in release.report.graphs.items():
        assert remote.count(iri) == release.report.triples[name]


@pytest.mark.parametrize("query", QUERIES)
def test_remote_answers_equal_oxigraph(remote, local, query):
    expected = answers(local, query)
    assert expected, "the comparison needs a query with answers"
    assert answers(remote, query) == expected


def test_ask_and_construct_equal_oxigraph(remote, local):
    ask = P + "ASK { ?d a kko:BilateralDocument }"
    assert remote.query(ask).boolean is local.query(ask).boolean is True
    construct = P + ("CONSTRUCT { ?d rdfs:label ?l } "
                     "WHERE { ?d a kko:BilateralDocument ; rdfs:label ?l }")
    assert set(remote.query(construct).triples()) == set(local.query(construct).triples())


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_select_formats_parse_to_the_same_rows(remote, local, fmt):
    import pyoxigraph as ox

    query = P + "SELECT ?d ?l WHERE { ?d a kko:BilateralDocument ; rdfs:label ?l } ORDER BY ?d ?l"
    kinds = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
             "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}

    def parsed(store) -> list[tuple[str, ...]]:  # type: ignore[no-untyped-def]
        body = store.query(query).serialize(fmt)
        if fmt == "csv":  # lossy: values only
            return [tuple(row) for row in csv.reader(io.StringIO(body.decode()))]
        return [tuple(str(s[v]) for v in ("d", "l"))
                for s in ox.parse_query_results(body, format=kinds[fmt])]

    # SPARQL leaves the order of literals in different languages to the store: Virtuoso and
    # Oxigraph order the four labels of a document differently, the documents alike
    remote_rows, local_rows = parsed(remote), parsed(local)
    assert [row[0] for row in remote_rows] == [row[0] for row in local_rows]
    assert sorted(remote_rows) == sorted(local_rows)


@pytest.mark.parametrize("fmt,rdflib_format", [
    ("turtle", "turtle"), ("ntriples", "nt"), ("rdfxml", "xml"), ("jsonld", "json-ld"),
    ("nquads", "nquads"), ("trig", "trig"),
])
def test_construct_formats_hold_the_same_triples(remote, local, fmt, rdflib_format):
    query = P + "CONSTRUCT { ?d a kko:BilateralDocument } WHERE { ?d a kko:BilateralDocument }"

    def parsed(store) -> set:  # type: ignore[no-untyped-def]
        from rdflib import Dataset

        body = store.query(query).serialize(fmt)
        holder = Dataset() if fmt in ("nquads", "trig") else Graph()
        holder.parse(data=body, format=rdflib_format)
        return set(holder.triples((None, None, None)))

    assert parsed(remote) == parsed(local)


def test_dump_of_a_graph_and_of_the_dataset(remote, release: Version):
    ontology = release.report.graphs["ontology"]
    out = io.BytesIO()
    remote.dump(out, "ntriples", graph=ontology)
    assert len(Graph().parse(data=out.getvalue(), format="nt")) == \
        release.report.triples["ontology"]
    out = io.BytesIO()
    remote.dump(out, "nquads")
    assert out.getvalue().count(b"\n") == release.triple_count


def test_malformed_query_is_a_syntax_error(remote):
    with pytest.raises(QuerySyntaxError, match="line 1, column 23"):
        remote.query("SELECT * WHERE { ?s ?p").serialize("json")


def test_server_down_is_a_clear_store_error():
    store = open_store(f"remote:http://127.0.0.1:{free_port()}/sparql")
    with pytest.raises(StoreUnavailable, match="cannot reach the SPARQL server"):
        store.query("ASK {}").serialize("json")
    assert issubclass(StoreUnavailable, StoreError)


def test_load_adds_quads_by_graph_store_protocol(virtuoso, tmp_path: Path):
    path = tmp_path / "small.nq"
    path.write_text('<http://ex/a> <http://ex/p> "x"@en <http://ex/test-g1> .\n'
                    "<http://ex/a> <http://ex/p> <http://ex/b> <http://ex/test-g2> .\n")
    store = RemoteStore(virtuoso.sparql_url, graph_iris=["http://ex/test-g1", "http://ex/test-g2"],
                        graph_store_url=virtuoso.graph_store_url, user="dba", password="dba")
    store.load(path)
    assert store.graphs() == ["http://ex/test-g1", "http://ex/test-g2"]
    assert store.count() == 2
    rows = store.query("SELECT ?o WHERE { ?s ?p ?o }", default_graph_uris=["http://ex/test-g1"])
    assert [str(r[0]) for r in rows.rows()] == ["x"]


def test_writing_without_credentials_is_refused(virtuoso):
    store = RemoteStore(virtuoso.sparql_url, graph_store_url=virtuoso.graph_store_url)
    with pytest.raises(StoreError, match="refused access"):
        store.put_graph("http://ex/refused", b"<http://ex/a> <http://ex/p> <http://ex/b> .\n")


def test_publish_command_by_graph_store_protocol(published, release_dir: Path, release: Version):
    r = run_kg("--release-dir", str(release_dir), "publish", "--to", published,
               "--user", "dba", "--password", "dba")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["release"] == release.id
    assert out["triples"] == {k: v for k, v in release.report.triples.items() if k != "total"}
    assert "PUT <https://w3id.org/kazkor/graph/inferred>" in r.stderr


def test_publish_command_with_virtuosos_bulk_loader(published, virtuoso, release_dir: Path,
                                                    release: Version):
    r = run_kg("--release-dir", str(release_dir), "publish", "--to", published,
               "--virtuoso-isql", virtuoso.isql_address, "--user", "dba", "--password", "dba")
    assert r.returncode == 0, r.stderr
    assert "bulk loading 5 graphs" in r.stderr
    assert json.loads(r.stdout)["triples"]["inferred"] == release.report.triples["inferred"]
    assert not list((release_dir / "virtuoso-load").iterdir())


def test_publish_to_an_unknown_server_needs_the_graph_store_url(release: Version, config: Config):
    with pytest.raises(StoreUnavailable):
        publish_release(release, Target(f"http://127.0.0.1:{free_port()}/sparql"))


def test_cli_query_through_the_remote_store(published, release_dir: Path):
    q = (P + "SELECT ?d WHERE { ?d a kko:BilateralDocument } ORDER BY ?d")
    r = run_kg("--release-dir", str(release_dir), "--store", f"remote:{published}", "query", q)
    assert r.returncode == 0, r.stderr
    assert "declaration-1995" in r.stdout and "2 row(s)" in r.stdout


def test_serve_takes_a_remote_store_spec():
    r = run_kg("serve", "--help")
    assert r.returncode == 0 and "remote:" in r.stdout


def test_cli_rejects_an_unknown_store_spec(release_dir: Path):
    r = run_kg("--release-dir", str(release_dir), "--store", "remote:ftp://x", "info")
    assert r.returncode == 2 and "remote:URL" in r.stderr


def test_serve_from_the_remote_store(published, server, release_dir: Path, release: Version,
                                     tmp_path: Path):
    """`kg serve --store remote:URL`: the same answers over HTTP as the oxigraph server."""
    remote_server = start_server(release_dir, "--store", f"remote:{published}",
                                 log=tmp_path / "remote-server.log")
    try:
        health = remote_server.get("/health").json()
        assert health["triples"] == release.triple_count
        assert health["store"] == f"remote:{published}"
        for query in QUERIES:
            got = remote_server.get("/sparql", params={"query": query},
                                    headers={"Accept": "application/sparql-results+json"})
            want = server.get("/sparql", params={"query": query},
                              headers={"Accept": "application/sparql-results+json"})
            assert got.status_code == want.status_code == 200
            assert solutions(got.content) == solutions(want.content), query
        bad = remote_server.get("/sparql", params={"query": "SELECT * WHERE { ?s"})
        assert bad.status_code == 400
        # pages and data documents read the remote store with the same queries: the same
        # page, the same statements (an entity with blank nodes, one with links and the
        # statements that cite them, a statistical dataset)
        for entity in ENTITIES:
            got = remote_server.get(f"/page/{entity}", headers={"Accept": "text/html"})
            want = server.get(f"/page/{entity}", headers={"Accept": "text/html"})
            assert got.status_code == want.status_code == 200
            assert got.text == want.text, entity
            got = remote_server.get(f"/data/{entity}.nt")
            want = server.get(f"/data/{entity}.nt")
            assert got.status_code == want.status_code == 200
            assert isomorphic(Graph().parse(data=got.text, format="nt"),
                              Graph().parse(data=want.text, format="nt")), entity
    finally:
        stop_server(remote_server.process)


def test_endpoint_answers_502_when_the_remote_store_is_down(config: Config, release: Version):
    from kg.web import create_app

    down = config.with_(store=f"remote:http://127.0.0.1:{free_port()}/sparql")
    client = create_app(down).test_client()
    r = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"})
    assert r.status_code == 502
    assert "cannot reach the SPARQL server" in r.get_data(as_text=True)
    assert client.get("/health").status_code == 502
