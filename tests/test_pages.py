"""The HTML pages against the real server: languages, asserted and inferred facts, sources,
escaping, security headers, the data cube pages with their charts, the ontology
documentation, the home page, search, and what a crawler reaches from the home page."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from conftest import Server
from rdflib import Graph

BASE = "https://w3id.org/kazkor/"


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def h1(html: str) -> str:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert match, "the page has no <h1>"
    return match.group(1).strip()


def section(html: str, css_class: str) -> str:
    match = re.search(rf'<section class="{css_class}">(.*?)</section>', html, re.S)
    return match.group(1) if match else ""


@pytest.mark.parametrize(("headers", "query", "title"), [
    ({"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}, "", "Республика Казахстан"),
    ({"Accept-Language": "ko"}, "", "카자흐스탄 공화국"),
    ({"Accept-Language": "ko"}, "?lang=kk", "Қазақстан Республикасы"),
    ({}, "", "Republic of Kazakhstan"),
    ({"Accept-Language": "fr"}, "", "Republic of Kazakhstan"),
])
def test_title_in_the_readers_language(ld_server: Server, headers: dict[str, str], query: str,
                                        title: str) -> None:
    r = ld_server.get("/page/kazakhstan" + query, headers=headers)
    assert r.status_code == 200
    assert h1(r.text) == title
    assert "Accept-Language" in r.headers["Vary"]


def test_label_falls_back_to_english(ld_server: Server) -> None:
    # the institute has no verified Korean name (docs/coverage.md lists it)
    html = ld_server.get("/page/public-opinion-research-institute?lang=ko").text
    assert h1(html).startswith("Public Opinion Research Institute")


def test_entity_page_shows_type_facts_incoming_inferred_and_sources(ld_server: Server) -> None:
    html = ld_server.get("/page/declaration-1995").text
    assert 'href="/ontology#Declaration"' in html.split('class="types"')[1].split("</p>")[0]
    facts = section(html, "asserted")
    assert "party" in facts and 'href="/page/kazakhstan"' in facts
    assert "signed during" in facts and 'href="/page/official-visit-1995"' in facts
    # the visit is asserted only as the event a document was signed during: the inverse
    # (the documents signed during the visit) is inferred, and shown as such
    inferred = section(ld_server.get("/page/official-visit-1995").text, "inferred")
    assert "document signed" in inferred and 'href="/page/declaration-1995"' in inferred
    assert ">Abstract<" in section(html, "sources")
    assert "Cultural and humanitarian cooperation" in section(html, "sources")
    incoming = section(ld_server.get("/page/kazakhstan").text, "incoming")
    assert 'href="/page/declaration-1995"' in incoming


FIXTURES = BASE + "test#"
#: what a reader should never see where a property or a type is named
RAW_NAME = re.compile(r"https?://|^[a-z][\w-]*:[A-Za-z]|\(a nested description\)")


def _texts(html: str, pattern: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", m).strip() for m in re.findall(pattern, html, re.S)]


@pytest.mark.parametrize("language", ["en", "ru", "kk", "ko"])
@pytest.mark.parametrize("path", ["/page/kazakhstan", "/page/dataset/table-7", "/page/almaty",
                                  "/page/agreement-cultural-scientific-technological-1995",
                                  "/page/link/kazakhstan/wikidata", "/page/nursultan-nazarbayev"])
def test_properties_and_types_by_their_labels(ld_server: Server, path: str,
                                              language: str) -> None:
    """Every property (facts, references, inferred facts, table headers) and type is named by
    its label in the reader's language: no IRI, no prefixed name."""
    html = ld_server.get(path, params={"lang": language}).text
    html = re.sub(r'<section class="identifiers">.*?</section>', "", html, flags=re.S)
    names = (_texts(html, r"<dt>(.*?)</dt>") + _texts(html, r'<span class="type[^"]*">(.*?)</span>')
             + _texts(html, r"<th>(.*?)</th>") + _texts(html, r'<span class="part">(.*?)</span>'))
    assert names
    raw = [n for n in names if RAW_NAME.search(n)]
    assert raw == [], raw
    if language != "en":
        # the fixture cubes' own properties (tests/fixtures/ld) have English labels only
        ours = [dt for dt in re.findall(r"<dt>(.*?)</dt>", html, re.S) if FIXTURES not in dt]
        english = [n for n in (re.sub(r"<[^>]+>", "", dt).strip() for dt in ours)
                   if re.fullmatch(r"[ -~]+", n)]
        assert english == [], f"properties without a {language} label: {english}"


def test_nested_descriptions_inline_and_links_as_identifiers(ld_server: Server) -> None:
    """A SKOS-XL label shows its written form and its source in place; the links to other
    datasets are one section, each with its evidence; the statements of the links are not
    references, and no block of per-statement sources is left."""
    html = ld_server.get("/page/kazakhstan").text
    assert "(a nested description)" not in html and "Nested descriptions" not in html
    facts = section(html, "asserted")
    nested = re.search(r'<span class="nested">(.*?)</span></li>', facts, re.S)
    assert nested and "Kazakhstan" in nested.group(1) and "source" in nested.group(1)
    identifiers = section(html, "identifiers")
    for dataset, identifier, href in (("Wikidata", "Q232", "http://www.wikidata.org/entity/Q232"),
                                      ("GeoNames", "1522867", "https://sws.geonames.org/1522867/"),
                                      ("DBpedia", "Kazakhstan",
                                       "http://dbpedia.org/resource/Kazakhstan")):
        assert re.search(rf"<dt>{dataset}</dt>\s*<dd><a [^>]*href=\"{re.escape(href)}\">"
                         rf"{identifier}</a>", identifiers), dataset
    assert 'href="/page/link/kazakhstan/wikidata"' in identifiers
    assert "same as" not in facts
    assert "/page/link/" not in section(html, "incoming")
    assert "Sources of single statements" not in html
    assert "github.com" not in section(html, "sources")


def test_values_show_the_dates_of_events(ld_server: Server) -> None:
    """The 1995 agreement has no date of its own: it was signed during the visit of
    15-18 May 1995, and the page says so."""
    facts = section(ld_server.get(
        "/page/agreement-cultural-scientific-technological-1995").text, "asserted")
    assert re.search(r'href="/page/official-visit-1995".*?1995-05-15 – 1995-05-18', facts, re.S)


def test_discrepant_cells_are_marked_and_linked(ld_server: Server) -> None:
    """Every cell of a dataset that a discrepancy record involves is marked and links to the
    record; no other cell is."""
    r = ld_server.get("/sparql", headers={"Accept": "application/sparql-results+json"},
                      params={"query": f"""
        SELECT ?obs ?d WHERE {{ ?obs <http://purl.org/linked-data/cube#dataSet>
        <{BASE}id/dataset/table-7> . ?d a <{BASE}ontology#Discrepancy> ;
        <{BASE}ontology#involves> ?obs }}"""})
    involved = {(b["obs"]["value"][len(BASE + "id"):], b["d"]["value"][len(BASE + "id"):])
                for b in r.json()["results"]["bindings"]}
    assert len({d for _o, d in involved}) == 4
    html = ld_server.get("/page/dataset/table-7").text
    pivot = html.split('class="pivot"')[1].split("</table>")[0]
    marked = set()
    for cell in re.findall(r"<td class=\"number([^\"]*)\">(.*?)</td>", pivot, re.S):
        observation = re.search(r'href="/page(/dataset/[^"]+)"', cell[1])
        records = re.findall(r'class="discrepancy" href="/page(/discrepancy/[^"]+)"', cell[1])
        assert ("discrepant" in cell[0]) == bool(records)
        marked |= {(observation.group(1), d) for d in records} if observation else set()
    assert marked == involved
    legend = html.split('class="discrepancies"')[1].split("</div>")[0]
    assert {d for _o, d in involved} == set(re.findall(r'href="/page(/discrepancy/[^"]+)"', legend))


def test_summaries_are_prose(ld_server: Server) -> None:
    """The descriptions the pages lead with are sentences, not prefixed names: Table 6 said
    "kko:cellStatus kko:status-no-data"."""
    r = ld_server.get("/sparql", headers={"Accept": "application/sparql-results+json"},
                      params={"query": f"""
        SELECT ?s ?text WHERE {{ ?s ?p ?text FILTER (STRSTARTS(STR(?s), "{BASE}id/"))
        VALUES ?p {{ <http://www.w3.org/2000/01/rdf-schema#comment>
                     <http://purl.org/dc/terms/description>
                     <http://www.w3.org/2004/02/skos/core#definition> }} }}"""})
    texts = {b["s"]["value"]: b["text"]["value"] for b in r.json()["results"]["bindings"]}
    assert len(texts) > 20
    curie = re.compile(r"\b(kko|kkid|kkint|qb|skos|rdfs?|owl|dcterms|prov|sdmx[a-z-]*):\w")
    assert {s: t for s, t in texts.items() if curie.search(t)} == {}
    lead = re.search(r'<p class="lead"[^>]*>(.*?)</p>',
                     ld_server.get("/page/dataset/table-6").text, re.S)
    assert lead and "no data" in lead.group(1) and "kko:" not in lead.group(1)


def test_inferred_facts_are_told_apart(ld_server: Server) -> None:
    html = ld_server.get("/page/kazakhstan").text
    assert 'class="type inferred"' in html
    inferred_types = html.split('class="types"')[1].split("</p>")[0]
    assert re.search(r'class="type inferred"[^>]*><a href="/ontology#Place"', inferred_types)
    assert re.search(r'<span class="type"><a href="/ontology#Country"', inferred_types)


def test_literals_are_escaped(ld_server: Server) -> None:
    r = ld_server.get("/page/test-script")
    assert r.status_code == 200
    assert "<script>alert" not in r.text
    assert "&lt;script&gt;alert(&#39;label&#39;)&lt;/script&gt;" in r.text
    assert "<b>not bold</b>" not in r.text and "&lt;b&gt;not bold&lt;/b&gt;" in r.text
    assert "<img src=x" not in r.text
    hits = ld_server.get("/search", params={"q": "<script>"}).text
    assert "<script>" not in hits and "&lt;script&gt;alert" in hits


@pytest.mark.parametrize("path", ["/", "/page/kazakhstan", "/ontology", "/search?q=x",
                                  "/browse", "/dumps/", "/page/nothing-here"])
def test_html_pages_send_security_headers(ld_server: Server, path: str) -> None:
    r = ld_server.get(path, headers={"Accept": "text/html"})
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    # no inline code: the only scripts are the query editor's own file and data blocks (its
    # JSON, the home page's schema.org JSON-LD), which a browser does not run
    for tag in re.findall(r"<script\b[^>]*>", r.text):
        assert 'src="/static/' in tag or re.search(r'type="application/(ld\+)?json"', tag), tag


def _numbers(svg: str, tag: str) -> int:
    return len(re.findall(rf"<{tag}\b", svg))


def test_census_dataset_page_has_a_line_chart_over_years(ld_server: Server) -> None:
    html = ld_server.get("/page/dataset/test-census").text
    svg = re.search(r"<svg.*?</svg>", html, re.S)
    assert svg, "no chart"
    chart = svg.group(0)
    assert 'class="chart line-chart"' in chart
    assert _numbers(chart, "polyline") == 2  # Koreans and Germans
    assert _numbers(chart, "circle") == 6
    for year in ("1989", "1999", "2009"):
        assert f">{year}</text>" in chart
    assert "Koreans (fixture), 1989: 103\u202f315" in chart
    assert "Germans (fixture)" in chart  # legend
    # totals stay out of the chart, where they would dwarf their parts
    assert "All groups" not in chart
    # the table reads the same observations, totals included, each linked to its page
    assert 'href="/page/dataset/test-census/obs/1999-germans">353\u202f441</a>' in html
    assert 'href="/page/dataset/test-census/obs/1999-total">453\u202f106</a>' in html


def test_survey_dataset_page_has_a_bar_chart(ld_server: Server) -> None:
    html = ld_server.get("/page/dataset/test-survey").text
    chart = re.search(r"<svg.*?</svg>", html, re.S).group(0)  # type: ignore[union-attr]
    assert 'class="chart bar-chart"' in chart
    assert _numbers(chart, "rect") == 6 + 2  # 3 answers x 2 countries, 2 legend keys
    # categories sorted by the first series, largest first
    assert chart.index(">music</text>") < chart.index(">films</text>") < chart.index(">food</text>")
    assert "Republic of Kazakhstan, music: 61.5" in chart


def test_chart_follows_the_graph(ld_server: Server) -> None:
    """The plotted numbers are the observations the endpoint returns, not a copy."""
    r = ld_server.get("/sparql", params={"query": """
        SELECT ?v WHERE { <https://w3id.org/kazkor/id/dataset/test-census/obs/2009-germans>
                          <https://w3id.org/kazkor/test#population> ?v }"""},
                      headers={"Accept": "application/sparql-results+json"})
    value = int(r.json()["results"]["bindings"][0]["v"]["value"])
    html = ld_server.get("/page/dataset/test-census").text
    number = f"{value:,}".replace(",", "\u202f")
    assert f"Germans (fixture), 2009: {number}" in html


def test_real_statistical_tables_when_present(server: Server) -> None:
    """Table 1 of the paper as a line chart and the surveys as bar charts, once the data
    engineers' cubes are in data/ttl/."""
    r = server.get("/sparql", params={"query": """
        SELECT ?d WHERE { ?d a <http://purl.org/linked-data/cube#DataSet> } ORDER BY ?d"""},
                   headers={"Accept": "application/sparql-results+json"})
    datasets = [b["d"]["value"] for b in r.json()["results"]["bindings"]]
    if not datasets:
        pytest.skip("the real graph has no statistical datasets yet")
    for iri in datasets:
        html = server.get("/page/" + iri[len(BASE + "id/"):]).text
        assert "<svg" in html, iri
        if iri == BASE + "id/dataset/table-1":
            assert 'class="chart line-chart"' in html


def test_ontology_documentation(ld_server: Server) -> None:
    r = ld_server.get("/ontology", headers={"Accept": "text/html"})
    html = r.text
    assert 'id="Country"' in html and 'id="locatedIn"' in html
    country = html.split('id="Country"')[1].split("</section>")[0]
    assert "subclass of" in country and 'href="/ontology#Place"' in country
    signed = html.split('id="signedDuring"')[1].split("</section>")[0]
    assert "domain" in signed and "range" in signed
    assert 'href="/page/declaration-1995"' in signed  # an example of use
    located = html.split('id="locatedIn"')[1].split("</section>")[0]
    assert "transitive" in located.lower()
    assert 'id="hierarchy"' in html


@pytest.mark.parametrize(("accept", "parser"), [("text/turtle", "turtle"),
                                                ("application/rdf+xml", "xml"),
                                                ("application/ld+json", "json-ld")])
def test_ontology_as_rdf(ld_server: Server, accept: str, parser: str) -> None:
    r = ld_server.get("/ontology", headers={"Accept": accept})
    assert r.headers["Content-Type"].startswith(accept)
    graph = Graph().parse(data=r.content, format=parser)
    from rdflib import OWL, RDF, URIRef

    assert (URIRef(BASE + "ontology#Country"), RDF.type, OWL.Class) in graph
    assert (URIRef(BASE + "ontology"), RDF.type, OWL.Ontology) in graph
    assert ld_server.get("/ontology.ttl").headers["Content-Type"].startswith("text/turtle")


def test_home_page(ld_server: Server) -> None:
    html = ld_server.get("/").text
    assert "cultural and humanitarian cooperation" in html
    counts = re.search(r"<strong>([\d,]+)</strong> triples", html)
    assert counts and int(counts.group(1).replace(",", "")) == ld_server.get(
        "/health").json()["triples"]
    for link in ('href="/sparql"', 'href="/.well-known/void"', 'href="/dumps/"',
                 'href="https://creativecommons.org/licenses/by/4.0/"',
                 'href="/page/dataset/test-census"', 'href="/page/kazakhstan"'):
        assert link in html, link
    assert "Most connected entities" in html


@pytest.mark.parametrize(("query", "expected"), [
    ("kazakhstan", "/page/kazakhstan"),
    ("KAZAKHSTAN", "/page/kazakhstan"),
    ("казахстан", "/page/kazakhstan"),
    ("казакстан", "/page/kazakhstan"),  # Kazakh қ typed as к
    ("카자흐스탄", "/page/kazakhstan"),
    ("Nursultan", "/page/nursultan-nazarbayev"),
    ("нурсултан", "/page/nursultan-nazarbayev"),  # ұ typed as у
    ("korea", "/page/south-korea"),
])
def test_search_is_case_and_diacritic_insensitive(ld_server: Server, query: str,
                                                  expected: str) -> None:
    html = ld_server.get("/search", params={"q": query}).text
    results = html.split('<ol class="results"')[1]
    assert f'href="{expected}"' in results


def test_search_ranks_exact_matches_first_and_shows_types(ld_server: Server) -> None:
    html = ld_server.get("/search", params={"q": "Republic of Kazakhstan"}).text
    first = html.split('<ol class="results"')[1].split("</li>")[0]
    assert 'href="/page/kazakhstan"' in first
    assert 'href="/ontology#Country"' in first
    assert "Results: 0" in ld_server.get("/search", params={"q": "zzzzqx"}).text


def _search(server: Server, **params: object) -> dict:
    r = server.get("/search", params=params, headers={"Accept": "application/json"})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("text", ["Nazarbaev", "Назарбаев Н.", "Культурный"])
def test_search_finds_what_reconciliation_finds(ld_server: Server, text: str) -> None:
    """One matcher: the candidates /reconcile proposes are hits of /search."""
    candidates = ld_server.get("/reconcile", params={"query": text}).json()["result"]
    assert candidates, text
    hits = {h["iri"] for h in _search(ld_server, q=text)["hits"]}
    assert {BASE + "id/" + c["id"] for c in candidates} <= hits


def test_search_pages_past_fifty(ld_server: Server) -> None:
    first = _search(ld_server, q="a")
    assert first["total"] > 50 and first["pages"] >= 2 and len(first["hits"]) == 50
    second = _search(ld_server, q="a", page=2)
    assert second["page"] == 2 and second["hits"]
    assert not {h["iri"] for h in first["hits"]} & {h["iri"] for h in second["hits"]}
    html = ld_server.get("/search", params={"q": "a", "page": 2}).text
    assert 'rel="prev" href="/search?q=a&amp;page=1"' in html
    assert 'rel="next" href="/search?q=a&amp;page=3"' in html
    assert '<ol class="results" start="51">' in html
    assert ld_server.get("/search", params={"q": "a", "page": "0"}).status_code == 400


def test_search_leaves_out_observations_and_link_statements(ld_server: Server) -> None:
    default = _search(ld_server, q="Kazakhstan")
    everything = _search(ld_server, q="Kazakhstan", all=1)
    assert default["left_out"] > 0 and everything["left_out"] == 0
    assert everything["total"] == default["total"] + default["left_out"]

    def kinds(hits: list[dict]) -> set[str]:
        return {t for h in hits for t in h["types"]}

    pages = [_search(ld_server, q="Kazakhstan", all=1, page=n)["hits"]
             for n in range(1, everything["pages"] + 1)]
    left_out = {"http://purl.org/linked-data/cube#Observation",
                "http://www.w3.org/1999/02/22-rdf-syntax-ns#Statement"}
    assert left_out <= kinds([h for p in pages for h in p])
    assert not left_out & kinds(default["hits"])
    html = ld_server.get("/search", params={"q": "Kazakhstan"}).text
    assert "/search?q=Kazakhstan&amp;all=1" in html


def crawl(server: Server) -> tuple[set[str], set[str]]:
    """Follow every same-host link from the home page; (entity pages, other paths) reached."""
    seen: set[str] = set()
    queue = deque(["/"])
    pages: set[str] = set()
    while queue:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        r = requests.get(server.url + path, timeout=30, headers={"Accept": "text/html"})
        if r.status_code != 200 or not r.headers["Content-Type"].startswith("text/html"):
            continue
        if path.startswith("/page/"):
            pages.add(path)
        parser = Links()
        parser.feed(r.text)
        for href in parser.hrefs:
            url = urlsplit(urljoin(server.url + path, href))
            if url.netloc != urlsplit(server.url).netloc:
                continue
            local = url.path + (f"?{url.query}" if url.query else "")
            if url.query and "lang=" in url.query or url.path.startswith(
                    ("/data/", "/dumps/kazkor", "/sparql", "/search", "/ontology.", "/static")):
                continue
            queue.append(local)
    return pages, seen


def test_a_crawler_reaches_every_entity_page_from_the_home_page(ld_server: Server) -> None:
    r = ld_server.get("/sparql", params={"query": f"""
        SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER STRSTARTS(STR(?s), "{BASE}id/") }}"""},
                      headers={"Accept": "application/sparql-results+json"})
    entities = {"/page/" + b["s"]["value"][len(BASE + "id/"):]
                for b in r.json()["results"]["bindings"]}
    pages, _ = crawl(ld_server)
    assert entities - pages == set()
    print(f"\ncrawler: {len(pages)} entity pages reachable from / ({len(entities)} entities)")


def test_sitemap_lists_every_entity(ld_server: Server) -> None:
    xml = ld_server.get("/sitemap.xml").text
    assert f"<loc>{ld_server.url}/page/kazakhstan</loc>" in xml
    assert f"<loc>{ld_server.url}/page/dataset/test-census/obs/1989-koreans</loc>" in xml
    assert "/sitemap.xml" in ld_server.get("/robots.txt").text


def test_observation_page_is_named_by_its_dataset_and_values(ld_server: Server) -> None:
    html = ld_server.get("/page/dataset/test-census/obs/1989-koreans").text
    title = h1(html)
    assert title.startswith("Fixture census: population by year:")
    assert "census year 1989" in title and "ethnic group Koreans (fixture)" in title
    assert "population 103315" in title
    assert 'href="/page/dataset/test-census"' in html


def test_search_answers_json_for_programs(ld_server: Server) -> None:
    r = ld_server.get("/search", params={"q": "Korea"}, headers={"Accept": "application/json"})
    assert r.headers["Content-Type"].startswith("application/json")
    hits = r.json()["hits"]
    south_korea = next(h for h in hits if h["iri"] == BASE + "id/south-korea")
    assert south_korea["page"] == "/page/south-korea"
    assert BASE + "ontology#Country" in south_korea["types"]
    assert [h["score"] for h in hits] == sorted((h["score"] for h in hits), reverse=True)


def test_iris_the_server_does_not_serve_keep_their_own_link(ld_server: Server) -> None:
    html = ld_server.get("/page/kazakhstan").text
    assert 'href="https://sws.geonames.org/1522867/"' in html
    assert 'href="/graph/' not in html and 'href="/void/' not in html


@pytest.mark.parametrize(("language", "sources", "facts"), [
    ("ru", "Источники", "Ссылаются сюда"),
    ("kk", "Дереккөздер", "Сілтеме жасайтындар"),
    ("ko", "출처", "이 항목을 참조하는 항목"),
    ("en", "Sources", "Referred to by"),
])
def test_page_words_in_the_readers_language(ld_server: Server, language: str, sources: str,
                                            facts: str) -> None:
    r = ld_server.get(f"/page/kazakhstan?lang={language}")
    assert f'<html lang="{language}">' in r.text
    assert r.headers["Content-Language"] == language
    assert f"<h2>{sources}</h2>" in r.text and f"<h2>{facts}</h2>" in r.text
