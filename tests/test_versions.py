"""Versions archivists can cite and mirrors can sync (issue 19).

One release folder goes through five steps, as an installation does: a build from the
sources, an update that adds an agreement and a SKOS-XL label (a blank node), an update
that deletes the agreement, a build from changed sources (a new release), and the first
sources again (the first release served again). Then a real server serves it:

- a mirror that loads the first version's N-Quads dump and applies the changesets of
  ``/dumps/changes/`` in order has the current dump, byte for byte;
- ``/id``, ``/page`` and ``/data`` negotiate ``Accept-Datetime`` as RFC 7089 §4.1.1 shows
  (302 to the memento, ``Vary``, ``Link`` original/timegate/timemap; the memento answers
  with ``Memento-Datetime``), ``/timemap/…`` lists the mementos (§5);
- the deleted agreement answers 410 Gone with a link to its last memento;
- ``/releases`` lists every step (HTML, JSON, RDF), each version has its record, dumps and
  citation; the home page describes the dataset for search engines (schema.org JSON-LD).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
import shutil
import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
from rdflib import Dataset, Graph, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, PROV, RDF, VOID
from tests.conftest import ROOT, Server, run_kg, start_server, stop_server

from kg.config import Config
from kg.pipeline.build import build
from kg.pipeline.changes import Changes, blank_node_labels, canonical_nquads, difference
from kg.pipeline.history import History, Step
from kg.pipeline.rebuild import apply_update
from kg.pipeline.release import Releases, sha256_file

BASE = "https://w3id.org/kazkor/"
DCAT = Namespace("http://www.w3.org/ns/dcat#")
PREFIXES = f"""PREFIX kko: <{BASE}ontology#>
PREFIX kkid: <{BASE}id/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skosxl: <http://www.w3.org/2008/05/skos-xl#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""
INSERT = PREFIXES + """INSERT DATA {
  kkid:zzq-test-agreement a kko:CooperationAgreement ;
    rdfs:label "Zzqtest agreement"@en ;
    kko:party kkid:kazakhstan, kkid:south-korea ;
    dcterms:source <https://w3id.org/kazkor/id/paper/section/abstract> .
  kkid:astana skosxl:altLabel [ a skosxl:Label ; skosxl:literalForm "Zzbnode"@en ;
                                dcterms:source kkid:paper ] .
}"""
DELETE = PREFIXES + "DELETE WHERE { kkid:zzq-test-agreement ?p ?o }"
SOURCE_CHANGE = (f'\n<{BASE}id/almaty> <http://www.w3.org/2004/02/skos/core#altLabel> '
                 '"Zzsource"@en .\n')
#: RFC 7089 §4.1.1, Pattern 1.1: the request's Accept-Datetime (before every version here)
RFC_ACCEPT_DATETIME = "Tue, 11 Sep 2001 20:35:00 GMT"


@dataclass
class Scenario:
    config: Config
    steps: list[Step]
    #: the first release's dataset digest before and after `kg build --force`
    first_digest: str
    rebuilt_digest: str
    history_length_before_rebuild: int


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    root = tmp_path_factory.mktemp("versions")
    for name in ("ontology", "data", "shapes"):
        shutil.copytree(ROOT / name, root / name)
    config = Config(root=root, release_dir=root / "releases", testing=True)
    build(config)
    apply_update(config, INSERT)
    apply_update(config, DELETE)
    source = root / "data" / "ttl" / "places.ttl"
    original = source.read_text(encoding="utf-8")
    source.write_text(original + SOURCE_CHANGE, encoding="utf-8")
    build(config)
    time.sleep(1.1)  # the next step in another second: Accept-Datetime counts seconds
    source.write_text(original, encoding="utf-8")
    build(config)
    history = History(Releases.of(config))
    length = len(history.steps())
    first = Releases.of(config).current()
    assert first is not None
    digest = sha256_file(first.dataset)
    build(config, force=True)
    return Scenario(config, history.steps(), digest, sha256_file(first.dataset), length)


@pytest.fixture(scope="module")
def server(scenario: Scenario, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    log = tmp_path_factory.mktemp("versions-server") / "server.log"
    srv = start_server(scenario.config.releases, env={"KG_ROOT": str(scenario.config.root)},
                       log=log)
    yield srv
    stop_server(srv.process)


def _links(header: str) -> dict[str, list[tuple[str, dict[str, str]]]]:
    """A Link header (or a TimeMap) by relation type: (target, parameters) each."""
    found: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for target, params in re.findall(r"<([^>]*)>((?:\s*;\s*[a-z]+=\"[^\"]*\")*)", header):
        values = dict(re.findall(r'([a-z]+)="([^"]*)"', params))
        for relation in values.get("rel", "").split():
            found.setdefault(relation, []).append((target, values))
    return found


def _http_date(iso: str) -> str:
    from email.utils import format_datetime

    return format_datetime(datetime.fromisoformat(iso), usegmt=True)


# ---- the history ------------------------------------------------------------------------------

def test_every_version_made_current_is_a_step_with_what_it_changed(scenario: Scenario) -> None:
    steps = scenario.steps
    assert [s.kind for s in steps] == ["sources", "update", "update", "sources", "reuse"]
    assert [s.previous for s in steps] == [None, *(s.version for s in steps[:-1])]
    first, inserted, deleted, changed, again = steps
    assert again.version == first.version and changed.version != first.version
    assert inserted.version == f"{first.version}-1" and deleted.version == f"{first.version}-2"
    data = f"{BASE}graph/data"
    # the agreement's five facts, the link to the label and the label's three (a blank node)
    assert inserted.added[data] == 9 and data not in inserted.removed
    assert deleted.removed[data] == 5 and data not in deleted.added
    # the new release has the new label, and not the updates made on the first one
    assert changed.added[data] == 1 and changed.removed[data] == 4
    assert first.files == {} and all(len(s.files) == 3 for s in steps[1:])
    # a version rebuilt from the same inputs has the same bytes: citations and mirrors hold
    assert scenario.rebuilt_digest == scenario.first_digest
    assert scenario.history_length_before_rebuild == len(steps) == 5


def test_the_meta_graph_of_a_version_says_what_it_revised(scenario: Scenario) -> None:
    inserted = scenario.steps[1]
    dataset = Dataset()
    dataset.parse(scenario.config.releases / inserted.version / "dataset.nq", format="nquads")
    meta = dataset.graph(URIRef(f"{BASE}graph/meta"))
    this = URIRef(f"{BASE}release/{inserted.version}")
    before = URIRef(f"{BASE}release/{inserted.previous}")
    assert (this, PROV.wasRevisionOf, before) in meta
    assert (URIRef(BASE), DCAT.hasCurrentVersion, this) in meta
    created = meta.value(this, DCTERMS.created)
    assert created.toPython() == datetime.fromisoformat(inserted.created)  # type: ignore[union-attr]
    added = URIRef(f"{this}/added")
    assert (this, VOID.subset, added) in meta
    assert int(meta.value(added, VOID.triples)) == sum(
        n for g, n in inserted.added.items() if g != f"{BASE}graph/meta")
    assert inserted.version in str(meta.value(this, DCTERMS.bibliographicCitation))
    patch = f"{BASE}dumps/changes/{inserted.patch_file}"
    assert (this, DCAT.distribution, URIRef(patch)) in meta


# ---- changesets ------------------------------------------------------------------------------

def _gunzip(response: requests.Response) -> bytes:
    assert response.status_code == 200, response.text
    return gzip.decompress(response.content)


def test_a_mirror_that_applies_the_changesets_in_order_has_the_current_dump(
        server: Server) -> None:
    listing = server.get("/dumps/changes/", headers={"Accept": "application/json"}).json()
    lines = set(_gunzip(requests.get(listing["base"]["dump"], timeout=60))
                .splitlines(keepends=True))
    applied = 0
    for step in listing["steps"][1:]:
        patch = next(c for name, c in step["changes"].items() if name.endswith(".rdfp.gz"))
        response = requests.get(patch["url"], timeout=60)
        assert hashlib.sha256(response.content).hexdigest() == patch["sha256"]
        rows = gzip.decompress(response.content).splitlines(keepends=True)
        assert rows[0].startswith(b"H id <uuid:") and rows[-1] == b"TC .\n"
        for row in rows:
            operation, _, quad = row.partition(b" ")
            if operation == b"D":
                lines.remove(quad)  # KeyError: a removed quad the mirror does not have
            elif operation == b"A":
                assert quad not in lines
                lines.add(quad)
            else:
                assert operation in (b"H", b"TX", b"TC"), row
        applied += 1
    assert applied == 4
    current = listing["current"]
    dump = _gunzip(server.get(f"/dumps/kazkor-kg-{current}.nq.gz"))
    assert b"".join(sorted(lines)) == dump
    checksums = server.get("/dumps/changes/kazkor-kg-changes.sha256").text
    assert checksums.count("\n") == 3 * applied


def test_the_nquads_changesets_say_what_the_patch_says(server: Server, scenario: Scenario) -> None:
    inserted = scenario.steps[1]
    patch = _gunzip(server.get(f"/dumps/changes/{inserted.patch_file}"))
    removed = _gunzip(server.get(f"/dumps/changes/{inserted.removed_file}"))
    added = _gunzip(server.get(f"/dumps/changes/{inserted.added_file}"))
    rows = patch.splitlines(keepends=True)
    assert b"".join(r[2:] for r in rows if r.startswith(b"D ")) == removed
    assert b"".join(r[2:] for r in rows if r.startswith(b"A ")) == added
    # the new SKOS-XL label comes with its blank node, named as the dumps name it
    assert re.search(rb'_:b[0-9a-f]{32} <http://www.w3.org/2008/05/skos-xl#literalForm> '
                     rb'"Zzbnode"@en', added)


def test_kg_diff_prints_the_patch_between_two_versions(scenario: Scenario) -> None:
    first, inserted = scenario.steps[:2]
    done = run_kg("--release-dir", str(scenario.config.releases), "diff", first.version,
                  inserted.version)
    assert done.returncode == 0, done.stderr
    written = gzip.decompress((History(Releases.of(scenario.config)).changes
                               / str(inserted.patch_file)).read_bytes())
    rows = [r for r in done.stdout.encode().splitlines(keepends=True) if r[:2] in (b"D ", b"A ")]
    assert rows == [r for r in written.splitlines(keepends=True) if r[:2] in (b"D ", b"A ")]
    assert f"{inserted.removed_total} quads removed, {inserted.added_total} added" in done.stderr
    missing = run_kg("--release-dir", str(scenario.config.releases), "diff", "0" * 16)
    assert missing.returncode == 1 and "no version" in missing.stderr


# ---- Memento ---------------------------------------------------------------------------------

def test_timegate_answers_as_rfc_7089_pattern_1_1(server: Server, scenario: Scenario) -> None:
    """§4.1.1: the original resource is its own TimeGate; 302 to the memento, ``Vary:
    accept-datetime``, ``Link`` to the original (and TimeGate) and the TimeMap; the memento
    answers 200 with ``Memento-Datetime`` and the same links."""
    first = scenario.steps[0]
    r = requests.head(f"{server.url}/page/astana", timeout=60, allow_redirects=False,
                      headers={"Accept-Datetime": RFC_ACCEPT_DATETIME})
    assert r.status_code == 302
    assert "accept-datetime" in r.headers["Vary"].lower()
    assert "Memento-Datetime" not in r.headers
    assert r.headers["Location"] == f"{server.url}/release/{first.version}/page/astana"
    links = _links(r.headers["Link"])
    assert links["original"][0][0] == links["timegate"][0][0] == f"{server.url}/page/astana"
    assert links["timemap"][0] == (f"{server.url}/timemap/page/astana",
                                   {"rel": "timemap", "type": "application/link-format"})
    memento = server.get(r.headers["Location"].removeprefix(server.url))
    assert memento.status_code == 200
    assert memento.headers["Memento-Datetime"] == _http_date(first.created)
    links = _links(memento.headers["Link"])
    assert links["original"][0][0] == f"{server.url}/page/astana"
    assert links["timemap"][0][0] == f"{server.url}/timemap/page/astana"
    assert server.get("/page/astana", headers={"Accept-Datetime": "yesterday"}).status_code == 400


def test_each_day_gets_what_the_entity_said_then(server: Server, scenario: Scenario) -> None:
    first, inserted, deleted, changed, again = scenario.steps
    said = {}
    for name, step in (("first", first), ("inserted", inserted), ("changed", changed),
                       ("again", again)):
        r = server.get("/data/astana.nt", headers={"Accept-Datetime": _http_date(step.at)},
                       allow_redirects=False)
        assert r.status_code == 302
        memento = requests.get(r.headers["Location"], timeout=60)
        assert memento.status_code == 200
        assert memento.headers["Memento-Datetime"] == _http_date(step.created)
        said[name] = memento.text
    assert "Zzbnode" in said["inserted"] and "Zzbnode" not in said["first"]
    assert "Zzbnode" not in said["changed"]
    # the first release served again: its memento is the first version's (the statements'
    # sources are blank nodes the document makes afresh)
    assert isomorphic(Graph().parse(data=said["again"], format="nt"),
                      Graph().parse(data=said["first"], format="nt"))
    # the agreement existed in one version only: every datetime leads to that memento
    for step in scenario.steps:
        r = server.get("/id/zzq-test-agreement", allow_redirects=False,
                       headers={"Accept-Datetime": _http_date(step.at)})
        assert r.headers["Location"] == (f"{server.url}/release/{inserted.version}"
                                         "/id/zzq-test-agreement")
    memento = server.get(f"/release/{inserted.version}/id/zzq-test-agreement",
                         headers={"Accept": "text/turtle"}, allow_redirects=False)
    assert memento.status_code == 303
    assert memento.headers["Location"] == (f"/release/{inserted.version}/data/"
                                           "zzq-test-agreement")
    assert "Memento-Datetime" in memento.headers
    assert server.get(f"/release/{first.version}/page/zzq-test-agreement").status_code == 404


def test_timemap_lists_the_mementos(server: Server, scenario: Scenario) -> None:
    """§5: application/link-format, the original, itself (from, until), the TimeGate, and
    every memento with its datetime, each of which dereferences with that datetime."""
    r = server.get("/timemap/page/astana")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/link-format"
    links = _links(r.text)
    made = {s.version: s for s in reversed(scenario.steps)}
    assert links["original"][0][0] == f"{server.url}/page/astana"
    assert links["timegate"][0][0] == f"{server.url}/page/astana"
    mementos = links["memento"]
    assert [target.split("/")[4] for target, _ in mementos] == [
        s.version for s in scenario.steps[:4]]
    assert links["first"][0][0] == mementos[0][0] and links["last"][0][0] == mementos[-1][0]
    assert links["self"][0][1]["from"] == mementos[0][1]["datetime"]
    times = [parsedate_to_datetime(params["datetime"]) for _, params in mementos]
    assert times == sorted(times)
    for target, params in mementos:
        memento = requests.get(target, timeout=60)
        assert memento.status_code == 200
        assert memento.headers["Memento-Datetime"] == params["datetime"]
        assert params["datetime"] == _http_date(made[target.split("/")[4]].created)
    agreement = _links(server.get("/timemap/data/zzq-test-agreement").text)
    assert [t.split("/")[4] for t, _ in agreement["memento"]] == [scenario.steps[1].version]
    assert server.get("/timemap/page/no-such-entity-zzq").status_code == 404


def test_an_entity_a_later_version_removed_is_gone_with_its_last_memento(
        server: Server, scenario: Scenario) -> None:
    inserted = scenario.steps[1]
    for path in ("/page/zzq-test-agreement", "/data/zzq-test-agreement.ttl",
                 "/id/zzq-test-agreement"):
        r = server.get(path, allow_redirects=False)
        assert r.status_code == 410, (path, r.status_code)
        last = _links(r.headers["Link"])["last"][0]
        assert last[0] == f"{server.url}/release/{inserted.version}{path}"
        assert last[1]["datetime"] == _http_date(inserted.created)
        assert f"/release/{inserted.version}{path}" in r.text
    page = server.get(f"/release/{inserted.version}/page/zzq-test-agreement")
    assert page.status_code == 200 and "Zzqtest agreement" in page.text
    assert server.get("/page/no-such-entity-zzq").status_code == 404


# ---- /releases, a version's record, citation -----------------------------------------------

def test_releases_lists_every_step(server: Server, scenario: Scenario) -> None:
    listing = server.get("/releases", headers={"Accept": "application/json"}).json()
    steps = listing["steps"][::-1]
    assert [s["version"] for s in steps] == [s.version for s in scenario.steps]
    assert listing["current"] == scenario.steps[0].version and steps[-1]["current"]
    assert all(s["kept"] and s["citation"].endswith(f"{BASE}release/{s['version']}")
               for s in steps)
    html = server.get("/releases")
    assert html.status_code == 200 and "text/html" in html.headers["Content-Type"]
    assert all(f"/release/{s.version}" in html.text for s in scenario.steps)
    graph = Graph().parse(data=server.get("/releases", headers={"Accept": "text/turtle"}).text,
                          format="turtle")
    made = [s for s in scenario.steps if s.kind != "reuse"]
    for step in made:
        this = URIRef(f"{BASE}release/{step.version}")
        assert (this, RDF.type, DCAT.Dataset) in graph
        assert (this, PROV.wasRevisionOf, URIRef(f"{BASE}release/{step.previous}")) in graph \
            or step.previous is None
    assert (URIRef(BASE), DCAT.hasCurrentVersion,
            URIRef(f"{BASE}release/{scenario.steps[-1].version}")) in graph


def test_a_version_has_its_record_and_its_own_dumps(server: Server, scenario: Scenario) -> None:
    inserted = scenario.steps[1]
    record = server.get(f"/release/{inserted.version}",
                        headers={"Accept": "application/json"}).json()
    assert record["created"] == inserted.created and record["kept"]
    for dump in record["dumps"]["dumps"]:
        got = server.get(f"/release/{inserted.version}/dumps/{dump['file']}")
        assert hashlib.sha256(got.content).hexdigest() == dump["sha256"]
    page = server.get(f"/release/{inserted.version}")
    assert page.status_code == 200 and record["citation"] in page.text.replace("&#39;", "'")
    assert server.get("/release/0123456789abcdef").status_code == 404
    assert server.get("/release/../etc").status_code == 404


def test_the_home_page_describes_the_dataset_for_search_engines(
        server: Server, scenario: Scenario) -> None:
    """Google's Dataset structured data: name and description (50 to 5,000 characters)
    required; version, license, creator, distribution, dates, identifier recommended."""
    home = server.get("/")
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', home.text, re.S)
    assert block is not None
    described = json.loads(block.group(1))
    current = scenario.steps[-1]
    assert described["@context"] == "https://schema.org/" and described["@type"] == "Dataset"
    assert described["name"] and 50 <= len(described["description"]) <= 5000
    assert described["version"] == current.version
    assert described["identifier"] == f"{BASE}release/{current.version}"
    assert described["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert described["creator"]["@type"] == "Organization" and described["creator"]["name"]
    assert described["dateModified"] == current.created
    assert described["datePublished"] == scenario.steps[0].created
    for download in described["distribution"]:
        assert download["@type"] == "DataDownload" and download["encodingFormat"]
        assert requests.head(download["contentUrl"], timeout=60).status_code == 200
    assert described["creditText"] in home.text.replace("&#39;", "'")


def test_citation_cff_cites_the_software() -> None:
    text = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    fields = dict(re.findall(r"^([a-z-]+):\s*\"?([^\"\n]*)\"?$", text, re.M))
    version = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert version is not None
    assert fields["cff-version"] == "1.2.0" and fields["type"] == "software"
    assert fields["title"] and fields["message"] and fields["version"] == version.group(1)
    assert re.search(r"^authors:\n  - name: \S", text, re.M)


# ---- retention -------------------------------------------------------------------------------

def test_retention_keeps_the_record_and_the_changesets(scenario: Scenario, tmp_path: Path
                                                       ) -> None:
    copy = tmp_path / "releases"
    shutil.copytree(scenario.config.releases, copy, symlinks=True)
    first, inserted = scenario.steps[:2]
    before = run_kg("--release-dir", str(copy), "diff", first.version, inserted.version)
    removed = History(Releases(copy)).prune(1)
    assert removed == [scenario.steps[3].version, scenario.steps[2].version, inserted.version]
    assert (copy / first.version).is_dir() and not (copy / inserted.version).exists()
    # a removed version is rebuilt from the first one and the changesets
    after = run_kg("--release-dir", str(copy), "diff", first.version, inserted.version)
    assert after.returncode == 0 and after.stdout == before.stdout
    from kg.web import create_app

    app = create_app(scenario.config.with_(release_dir=copy))
    try:
        client = app.test_client()
        record = client.get(f"/release/{inserted.version}",
                            headers={"Accept": "application/json"}).get_json()
        assert record["kept"] is False and record["citation"]
        gone = client.get(f"/release/{inserted.version}/page/astana")
        assert gone.status_code == 410 and f"/release/{inserted.version}" in gone.text
        assert client.get(f"/dumps/changes/{inserted.patch_file}").status_code == 200
        links = _links(client.get("/timemap/page/astana").get_data(as_text=True))
        assert [t.split("/")[4] for t, _ in links["memento"]] == [first.version]
    finally:
        app.extensions["kg"].served.close()


# ---- blank nodes and comparing sorted datasets ------------------------------------------------

def _quads(text: str) -> list[ox.Quad]:
    return list(ox.parse(text.encode(), format=ox.RdfFormat.N_QUADS))


RESTRICTIONS = """<http://e/A> <http://e/sub> _:r1 <http://e/g> .
_:r1 <http://e/onProperty> <http://e/p> <http://e/g> .
_:r1 <http://e/values> <http://e/B> <http://e/g> .
<http://e/C> <http://e/sub> _:r2 <http://e/g> .
_:r2 <http://e/onProperty> <http://e/q> <http://e/g> .
_:r2 <http://e/values> <http://e/B> <http://e/g> .
<http://e/D> <http://e/sub> _:r3 <http://e/g> .
_:r3 <http://e/onProperty> <http://e/q> <http://e/g> .
_:r3 <http://e/values> <http://e/B> <http://e/g> .
"""


def test_blank_nodes_are_named_by_what_they_say() -> None:
    lines = canonical_nquads(_quads(RESTRICTIONS))
    # other labels in the input, the same output
    assert canonical_nquads(_quads(RESTRICTIONS.replace("_:r", "_:other"))) == lines
    # r2 and r3 say the same: told apart by what points to them, never merged
    assert len(set(lines)) == 9 and len(set(blank_node_labels(_quads(RESTRICTIONS)).values())) == 3
    # one restriction changed: only its lines change
    changed = canonical_nquads(_quads(RESTRICTIONS.replace("<http://e/p>", "<http://e/p2>")))
    changes = Changes.between(lines, changed)
    assert len(changes.removed) == len(changes.added) == 3
    assert not any(b"http://e/q" in line for line in changes.removed + changes.added)


def test_difference_is_a_merge_of_two_sorted_files() -> None:
    old = [b"a\n", b"b\n", b"d\n"]
    new = [b"b\n", b"c\n", b"d\n", b"e\n"]
    assert list(difference(old, new)) == [("D", b"a\n"), ("A", b"c\n"), ("A", b"e\n")]
    with pytest.raises(ValueError, match="not sorted"):
        list(difference([b"b\n", b"a\n"], []))
