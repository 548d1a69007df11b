"""Links to other datasets: ``kg links check`` on the real links and on broken ones, the
provenance an archivist can query, and the linkset dump."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from rdflib import OWL, Graph, URIRef
from tests.conftest import run_kg
from tests.stand_in import project_with_stand_ins

from kg.config import Config
from kg.pipeline.build import build
from kg.pipeline.links import LINK_PREDICATES, dump_linkset, linksets, ror_checksum_ok

WD = "http://www.wikidata.org/entity/"
KKID = "https://w3id.org/kazkor/id/"
PREFIXES = """@prefix kkid: <https://w3id.org/kazkor/id/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def evidence(entity: str, target: str, name: str, when: bool = True, where: bool = True) -> str:
    """An rdf:Statement for one link, with or without its date and its source."""
    return (f"kkid:ev-{name} a rdf:Statement ; rdf:subject kkid:{entity} ; "
            f"rdf:predicate owl:sameAs ; rdf:object <{target}> ; "
            f"prov:wasDerivedFrom kkid:ref-{name} "
            + ('; dcterms:bibliographicCitation "seen in a test fixture" ' if where else "")
            + ('; prov:generatedAtTime "2026-11-28T00:00:00Z"^^xsd:dateTime ' if when else "")
            + ".\n")


@pytest.fixture(scope="module")
def linked_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return project_with_stand_ins(tmp_path_factory.mktemp("links-project"))


@pytest.fixture
def broken_project(linked_project: Path, tmp_path: Path) -> Path:
    project = tmp_path / "project"
    for name in ("ontology", "data", "shapes"):
        shutil.copytree(linked_project / name, project / name)
    return project


def test_links_of_this_checkout_are_well_formed_and_have_evidence():
    """On the sources as they are: no problem with any link. (Entities the data graph does
    not describe yet are listed apart; the test below checks them with stand-ins.)"""
    r = run_kg("links", "check", "--format", "json")
    report = json.loads(r.stdout)
    assert report["problems"] == [], report["problems"]
    assert r.returncode == (0 if not report["missing_entities"] else 1)


def test_real_links_pass_the_check(linked_project):
    r = run_kg("--root", str(linked_project), "links", "check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "all links are well-formed, unambiguous and have their evidence" in r.stdout
    r = run_kg("--root", str(linked_project), "links", "check", "--format", "json")
    report = json.loads(r.stdout)
    assert report["ok"] is True and report["problems"] == [] == report["missing_entities"]
    assert set(report["per_target"]) == {"Wikidata", "GeoNames", "ROR", "DBpedia"}
    assert report["links"] == sum(report["per_target"].values()) >= 60
    print(f"\nlinks per target: {report['per_target']}")


#: the project's shared reference material sits beside the checkout (or beside its worktrees)
REFERENCE = next((p for up in Path(__file__).resolve().parents[2:4]
                  if (p := up / "shared" / "reference" / "external-ids.tsv").is_file()),
                 Path("shared/reference/external-ids.tsv"))


def test_every_identifier_is_the_verified_one(linked_project):
    """Every link's identifier is the one the project's table of verified identifiers gives."""
    if not REFERENCE.is_file():
        pytest.skip(f"no reference table at {REFERENCE}")
    r = run_kg("--root", str(linked_project), "links", "check", "--reference", str(REFERENCE))
    assert r.returncode == 0, r.stdout + r.stderr


def test_an_identifier_that_the_reference_does_not_give_fails(linked_project, tmp_path):
    table = tmp_path / "external-ids.tsv"
    table.write_text("entity\twikidata\tgeonames\tror\tviaf\tdbpedia\tevidence\n"
                     "Kazakhstan\tQ233\t1522867\t\t\tKazakhstan\tmade up for a test\n",
                     encoding="utf-8")
    r = run_kg("--root", str(linked_project), "links", "check", "--reference", str(table))
    assert r.returncode == 1
    assert (f"<{KKID}kazakhstan> owl:sameAs <{WD}Q232>: the reference table gives Wikidata "
            "Q233 for 'Kazakhstan'") in r.stdout
    assert "has no row 'Almaty'" in r.stdout


def test_broken_links_are_listed_and_fail(broken_project):
    links = broken_project / "data" / "ttl" / "links-broken.ttl"
    links.write_text(PREFIXES + f"""
kkid:almaty owl:sameAs <https://www.wikidata.org/wiki/Q35493> .
kkid:seoul owl:sameAs <https://ror.org/02ak8fm04> .
kkid:kazakhstan owl:sameAs <{WD}Q999999> .
kkid:tashkent owl:sameAs <{WD}Q1520> .
kkid:bishkek owl:sameAs <http://example.org/bishkek> .
kkid:kyrgyzstan owl:sameAs <{WD}Q12345678> .
kkid:nowhere owl:sameAs <{WD}Q7654321> .
""" + evidence("almaty", "https://www.wikidata.org/wiki/Q35493", "a")
        + evidence("seoul", "https://ror.org/02ak8fm04", "b")
        + evidence("kazakhstan", f"{WD}Q999999", "c", when=False)
        + evidence("tashkent", f"{WD}Q1520", "d", where=False)
        + evidence("bishkek", "http://example.org/bishkek", "e")
        + evidence("nowhere", f"{WD}Q7654321", "f")
        + evidence("uzbekistan", f"{WD}Q265000", "g"), encoding="utf-8")
    r = run_kg("--root", str(broken_project), "links", "check")
    assert r.returncode == 1
    out = r.stdout
    assert ("<https://w3id.org/kazkor/id/almaty> owl:sameAs <https://www.wikidata.org/wiki/Q35493>"
            ": not a Wikidata identifier IRI; the form is <http://www.wikidata.org/entity/Q232>"
            in out)
    assert "checksum" in out and "02ak8fm04" in out
    assert f"<{KKID}kazakhstan> is linked to 2 different Wikidata identifiers" in out
    assert f"<{WD}Q1520> is linked from 2 of our entities" in out
    assert "does not say when the identifier was verified" in out
    assert "does not say where the identifier was verified" in out
    assert "not an IRI of a known target dataset" in out
    assert "no evidence: no rdf:Statement" in out and "Q12345678" in out
    assert "describes a link that the links graph does not assert" in out
    assert "missing from the data graph" in out and f"<{KKID}nowhere>" in out


def test_unusable_links_file_exits_2(broken_project):
    (broken_project / "data" / "ttl" / "links-bad.ttl").write_text("kkid:x owl:sameAs .\n")
    r = run_kg("--root", str(broken_project), "links", "check")
    assert r.returncode == 2 and "links-bad.ttl" in r.stderr


def test_linksets_count_links_not_evidence():
    links_graph = Graph().parse(Path(__file__).parents[1] / "data" / "ttl" / "links.ttl")
    found = {(ls.target.name, ls.predicate.n3(links_graph.namespace_manager), ls.uri_space):
             ls.triples for ls in linksets(links_graph)}
    assert found[("Wikidata", "owl:sameAs", "http://www.wikidata.org/entity/")] >= 20
    assert found[("GeoNames", "owl:sameAs", "https://sws.geonames.org/")] == 11
    assert ("Wikidata", "skos:closeMatch", "http://www.wikidata.org/entity/") in found
    assert sum(found.values()) == len({(s, p, o) for p in LINK_PREDICATES
                                       for s, o in links_graph.subject_objects(p)})


def test_ror_checksum():
    assert ror_checksum_ok("03q0vrn42") and ror_checksum_ok("02ak8fm03")
    assert not ror_checksum_ok("03q0vrn43")


def test_provenance_is_queryable_through_the_endpoint(server):
    """Where and when the Wikidata id of Kazakhstan was verified, asked with SPARQL."""
    query = """
        PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
        PREFIX owl: <http://www.w3.org/2002/07/owl#>
        PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?citation ?when ?record WHERE {
          GRAPH <https://w3id.org/kazkor/graph/links> {
            <https://w3id.org/kazkor/id/kazakhstan> owl:sameAs ?wd .
            ?link rdf:subject <https://w3id.org/kazkor/id/kazakhstan> ; rdf:predicate owl:sameAs ;
                  rdf:object ?wd ; dcterms:bibliographicCitation ?citation ;
                  prov:generatedAtTime ?when ; prov:wasDerivedFrom ?record .
            FILTER(STRSTARTS(STR(?wd), "http://www.wikidata.org/entity/"))
          }
        }"""
    r = server.get("/sparql", params={"query": query},
                   headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200
    rows = r.json()["results"]["bindings"]
    assert rows, "no provenance for the Wikidata link of Kazakhstan"
    assert any("owid/owid-grapher" in row["citation"]["value"] for row in rows)
    assert all(row["when"]["value"].startswith("2026-11-28") for row in rows)
    assert rows[0]["record"]["value"] == f"{KKID}reference/external-ids/kazakhstan"


def test_linkset_dump_holds_the_links_and_nothing_else(linked_project, tmp_path):
    config = Config(root=linked_project, release_dir=tmp_path / "releases")
    store = build(config).release.open_store("oxigraph")
    out = io.BytesIO()
    dump_linkset(store, config, out)
    linkset = Graph().parse(data=out.getvalue().decode("utf-8"), format="nt")
    same_as = set(linkset.subject_objects(OWL.sameAs))
    assert (URIRef(f"{KKID}kazakhstan"), URIRef(f"{WD}Q232")) in same_as
    assert all(str(s).startswith(KKID) for s, _ in same_as)
    # the linkset holds links and their evidence, not the facts of the data graph
    assert set(linkset.predicates(URIRef(f"{KKID}kazakhstan"))) == {OWL.sameAs}
