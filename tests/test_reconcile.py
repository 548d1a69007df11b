"""The reconciliation service through the real server (gunicorn), as OpenRefine uses it.

The server serves a copy of the sources with stand-in entities for those the data graph
does not describe yet (see tests/stand_in.py); once data/ttl/ has them, it is the real data.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import Server, start_server, stop_server
from tests.stand_in import project_with_stand_ins

ARCHIVE_NAMES = Path(__file__).parent / "fixtures" / "reconcile" / "archive-names.csv"
ID = "https://w3id.org/kazkor/id/"
ISO_DATE_TIME = re.compile(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")


@pytest.fixture(scope="module")
def reconcile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    project = project_with_stand_ins(tmp_path_factory.mktemp("reconcile-project"))
    server = start_server(project / "releases", env={"KG_ROOT": str(project)},
                          log=project / "server.log")
    yield server
    stop_server(server.process)


def reconcile(server: Server, queries: dict[str, dict]) -> dict[str, dict]:
    r = server.post("/reconcile", data={"queries": json.dumps(queries)})
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    return r.json()


def best(server: Server, query: dict) -> dict | None:
    """The candidate that OpenRefine would match automatically, if any."""
    result = reconcile(server, {"q0": query})["q0"]["result"]
    return next((c for c in result if c["match"]), None)


def test_manifest_describes_the_service(reconcile_server):
    r = reconcile_server.get("/reconcile")
    assert r.status_code == 200
    manifest = r.json()
    assert "0.2" in manifest["versions"]
    assert manifest["identifierSpace"] == ID
    assert manifest["schemaSpace"] == "https://w3id.org/kazkor/ontology#"
    assert {t["id"] for t in manifest["defaultTypes"]} == {
        "person", "organization", "university", "place", "event", "document"}
    assert manifest["view"]["url"] == f"{reconcile_server.url}/page/{{{{id}}}}"
    assert manifest["preview"]["url"].startswith(f"{reconcile_server.url}/reconcile/preview")
    for kind in ("entity", "type", "property"):
        assert manifest["suggest"][kind]["service_url"] == f"{reconcile_server.url}/reconcile"
    assert manifest["extend"]["propose_properties"]["service_path"] == "/properties"


def test_archive_batch_precision_and_recall(reconcile_server):
    """The archivist's CSV in batches of ten (as OpenRefine sends them): the automatic
    matches are scored against the expected entity of every row."""
    with ARCHIVE_NAMES.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 60
    results: dict[str, dict] = {}
    for start in range(0, len(rows), 10):
        batch = {}
        for i, row in enumerate(rows[start:start + 10], start):
            query: dict = {"query": row["name"]}
            if row["type"]:
                query["type"] = row["type"]
            if row["country"]:
                query["properties"] = [{"pid": "country", "v": row["country"]}]
            batch[f"q{i}"] = query
        results.update(reconcile(reconcile_server, batch))
    true_positives = false_positives = false_negatives = 0
    misses = []
    for i, row in enumerate(rows):
        candidates = results[f"q{i}"]["result"]
        assert all(0 <= c["score"] <= 100 for c in candidates)
        assert sum(c["match"] for c in candidates) <= 1
        matched = next((ID + c["id"] for c in candidates if c["match"]), "")
        if matched and matched == row["expected"]:
            true_positives += 1
            continue
        false_positives += bool(matched)
        false_negatives += bool(row["expected"])
        if matched or row["expected"]:
            misses.append(f"{row['name']!r}: expected {row['expected'] or 'none'}, "
                          f"matched {matched or 'none'}")
    precision = true_positives / (true_positives + false_positives)
    recall = true_positives / (true_positives + false_negatives)
    print(f"\nreconciliation of {len(rows)} archive names: precision {precision:.3f}, "
          f"recall {recall:.3f} ({true_positives} right, {false_positives} wrong, "
          f"{false_negatives} missed)\n  " + "\n  ".join(misses))
    assert precision == 1.0, misses
    assert recall >= 0.95, misses


def test_auto_match_only_when_unambiguous_and_types_weigh_in(reconcile_server):
    """Part of a name is a candidate, not a match: "Samsung" may be the company the graph
    knows or its group. "Korea" is North or South, before the Korean language."""
    answers = reconcile(reconcile_server, {"samsung": {"query": "Samsung"},
                                           "korea": {"query": "Korea"},
                                           "korean": {"query": "Korean"}})
    samsung = answers["samsung"]["result"]
    assert samsung[0]["id"] == "samsung-ct" and samsung[0]["match"] is False
    korea = answers["korea"]["result"]
    assert {c["id"] for c in korea[:2]} == {"south-korea", "north-korea"}
    assert not any(c["match"] for c in korea)
    assert [c["id"] for c in korea].index("korean-language") >= 2
    korean = answers["korean"]["result"][0]
    assert korean["id"] == "korean-language" and korean["match"] is True


def test_single_query_get_and_jsonp(reconcile_server):
    r = reconcile_server.get("/reconcile", params={"query": "Назарбаев"})
    assert r.status_code == 200
    assert r.json()["result"][0]["id"] == "nursultan-nazarbayev"
    r = reconcile_server.get("/reconcile", params={
        "queries": json.dumps({"a": {"query": "KIMEP"}}), "callback": "jsonp123"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/javascript")
    assert r.text.startswith("jsonp123(") and r.text.endswith(");")
    assert json.loads(r.text[len("jsonp123("):-2])["a"]["result"][0]["id"] == "kimep-university"


def test_identifiers_of_linked_datasets_reconcile(reconcile_server):
    """An archive that records Wikidata, ROR or GeoNames ids matches through our links."""
    answers = reconcile(reconcile_server, {
        "wikidata": {"query": "Q232"},
        "wikidata-iri": {"query": "http://www.wikidata.org/entity/Q1046224"},
        "ror": {"query": "03q0vrn42"},
        "geonames": {"query": "https://sws.geonames.org/1526384/"},
        "close": {"query": "Q55931"},
        "unlinked": {"query": "Q59243"},
    })
    matched = {key: next((c["id"] for c in a["result"] if c["match"]), None)
               for key, a in answers.items()}
    assert matched == {"wikidata": "kazakhstan", "wikidata-iri": "kimep-university",
                       "ror": "al-farabi-kazakh-national-university", "geonames": "almaty",
                       "close": None, "unlinked": None}
    assert answers["close"]["result"][0]["id"] == "hyundai"  # a candidate, not a match


def test_candidates_carry_types_names_and_descriptions(reconcile_server):
    result = reconcile(reconcile_server, {"q": {"query": "KazNU"}})["q"]["result"]
    top = result[0]
    assert top["id"] == "al-farabi-kazakh-national-university" and top["match"] is True
    assert top["name"] == "Al-Farabi Kazakh National University"
    assert {"id": "university", "name": "University"} in top["type"]
    assert {"id": "organization", "name": "Organization"} in top["type"]
    assert "Kazakhstan" in top["description"]


def test_type_filter_keeps_only_that_type(reconcile_server):
    people = reconcile(reconcile_server, {"q": {"query": "Friedrich Ebert", "type": "person",
                                                "limit": 10}})["q"]["result"]
    assert [c["id"] for c in people] == ["friedrich-ebert"]
    assert people[0]["match"] is True
    organizations = reconcile(reconcile_server, {"q": {"query": "Friedrich Ebert",
                                                       "type": "organization"}})["q"]["result"]
    assert organizations and all("friedrich-ebert-foundation" in c["id"]
                                 for c in organizations)
    assert reconcile(reconcile_server, {"q": {"query": "Seoul", "type": "event"}}
                     )["q"]["result"] == []


def test_property_constraints_decide_between_candidates(reconcile_server):
    """A near name is matched only when the country agrees."""
    name = "Korean Cultural Center"
    plain = best(reconcile_server, {"query": name})
    assert plain is None or plain["id"] == "korean-cultural-center-astana"
    wrong_country = reconcile(reconcile_server, {"q": {
        "query": name, "properties": [{"pid": "country", "v": "Uzbekistan"}]}})["q"]["result"]
    assert not any(c["match"] for c in wrong_country)
    right_country = best(reconcile_server, {
        "query": "Korean Cultural Centre Astana",
        "properties": [{"pid": "country", "v": {"id": "kazakhstan"}}]})
    assert right_country is not None and right_country["id"] == "korean-cultural-center-astana"
    dated = best(reconcile_server, {"query": "Festival of Korean Art", "type": "event",
                                    "properties": [{"pid": "date", "v": "2007"}]})
    assert dated is not None and dated["id"] == "festival-of-korean-art-2007"
    during = reconcile(reconcile_server, {"q": {
        "query": "Official visit of President Nazarbayev to Korea", "type": "event",
        "properties": [{"pid": "date", "v": "1995-05-16"}]}})["q"]["result"]
    assert during[0]["id"] == "official-visit-1995"
    after = reconcile(reconcile_server, {"q": {
        "query": "Official visit of President Nazarbayev to Korea", "type": "event",
        "properties": [{"pid": "date", "v": "1996"}]}})["q"]["result"]
    assert after[0]["score"] < during[0]["score"]


def test_preview_is_small_html(reconcile_server):
    r = reconcile_server.get("/reconcile/preview", params={"id": "almaty"})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert "Almaty" in r.text and "Алматы" in r.text and "/page/almaty" in r.text
    assert reconcile_server.get("/reconcile/preview", params={"id": "nowhere"}).status_code == 404


def test_suggest_entities_types_and_properties(reconcile_server):
    r = reconcile_server.get("/reconcile/suggest/entity", params={"prefix": "naza"})
    assert r.status_code == 200
    assert r.json()["result"][0]["id"] == "nursultan-nazarbayev"
    r = reconcile_server.get("/reconcile/suggest/entity", params={"prefix": "Алма"})
    assert "almaty" in [e["id"] for e in r.json()["result"]]
    r = reconcile_server.get("/reconcile/suggest/entity", params={"prefix": "Hurelman"})
    assert [e["id"] for e in r.json()["result"]][:1] == ["klaus-hurrelmann"]
    r = reconcile_server.get("/reconcile/suggest/entity", params={"prefix": "ka",
                                                                  "type": "person"})
    assert [e["id"] for e in r.json()["result"]] == ["kang-kyung-wha"]
    r = reconcile_server.get("/reconcile/suggest/type", params={"prefix": "univ"})
    assert r.json()["result"][0] == {"id": "university", "name": "University"}
    r = reconcile_server.get("/reconcile/suggest/property", params={"prefix": "coun"})
    assert {"id": "country", "name": "Country"} in r.json()["result"]


def test_data_extension(reconcile_server):
    r = reconcile_server.get("/reconcile/properties", params={"type": "university"})
    assert r.status_code == 200
    proposed = {p["id"] for p in r.json()["properties"]}
    assert "country" in proposed
    assert "http://www.w3.org/2002/07/owl#sameAs" in proposed
    extend = {"ids": ["kimep-university", "seoul", "no-such-entity"],
              "properties": [{"id": "country"}, {"id": "owl:sameAs"}]}
    r = reconcile_server.post("/reconcile", data={"extend": json.dumps(extend)})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert [m["id"] for m in answer["meta"]] == ["country", "owl:sameAs"]
    rows = answer["rows"]
    assert rows["kimep-university"]["country"] == [{"id": "kazakhstan",
                                                    "name": "Republic of Kazakhstan"}]
    assert {"str": "https://ror.org/01pk2ck74"} in rows["kimep-university"]["owl:sameAs"]
    assert rows["seoul"]["country"][0]["id"] == "south-korea"
    assert rows["no-such-entity"] == {"country": [], "owl:sameAs": []}
    r = reconcile_server.post("/reconcile", data={"extend": json.dumps(
        {"ids": ["bolashak-decree-1993", "official-visit-1995"], "properties": [{"id": "date"}]})})
    dates = [v["date"] for row in r.json()["rows"].values() for v in row["date"]]
    assert {d[:19] for d in dates} >= {"1993-11-05T00:00:00", "1995-05-15T00:00:00"}
    assert all(ISO_DATE_TIME.fullmatch(d) for d in dates)  # the API's date pattern


@pytest.mark.parametrize("params", [
    {"queries": "{not json"},
    {"queries": json.dumps(["a list"])},
    {"queries": json.dumps({"q": {"type": "person"}})},
    {"queries": json.dumps({"q": {"query": "x", "limit": -1}})},
    {"queries": json.dumps({"q": {"query": "x", "properties": [{"pid": "nope", "v": 1}]}})},
    {"extend": json.dumps({"ids": "kimep-university"})},
    {"query": "Almaty", "callback": "alert(1)//"},
])
def test_bad_requests_are_400_with_a_message(reconcile_server, params):
    r = reconcile_server.get("/reconcile", params=params)
    assert r.status_code == 400
    assert r.json()["error"]
