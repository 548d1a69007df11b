"""The query UI in a real browser: Debian chromium driven by Playwright, offline, at a
laptop's (1366 px) and a phone's (390 px) width. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from conftest import Server
from playwright import sync_api as playwright
from rdflib import Graph, URIRef
from tests.system_packages import require

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
#: what Chromium sends when it opens an address
BROWSER_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                  "image/webp,image/apng,*/*;q=0.8")
JSON_RESULTS = "application/sparql-results+json"
WIDTHS = [1366, 390]
#: every triple with the length of its predicate: more than 10,000 rows, one numeric column
EVERY_TRIPLE = "SELECT ?s ?p ?o (STRLEN(STR(?p)) AS ?length) WHERE { ?s ?p ?o }"
COUNTRIES = ("PREFIX kko: <https://w3id.org/kazkor/ontology#>\n"
             "SELECT ?country WHERE { ?country a kko:Country } ORDER BY ?country")
CENSUS = ROOT / "queries" / "cq" / "50-koreans-in-kazakhstan-by-census.rq"


@pytest.fixture(scope="module")
def browser():
    require("chromium")
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def context(browser, server, request):
    """A fresh browser (no history, no cookies) at 1366 px, or at the width a test asks for
    with ``@pytest.mark.parametrize("context", WIDTHS, indirect=True)``. Any request that
    leaves the server is recorded and blocked."""
    width = getattr(request, "param", 1366)
    context = browser.new_context(accept_downloads=True, viewport={"width": width, "height": 900})
    context.outside = []

    def guard(route):  # type: ignore[no-untyped-def]
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            context.outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    yield context
    context.close()


@pytest.fixture
def page(context, server):
    """The query page; it records uncaught script errors."""
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.errors.append(str(e)))  # type: ignore[attr-defined]
    page.goto(server.url + "/sparql")
    return page


def shot(page, name: str) -> None:
    width = page.viewport_size["width"]
    page.screenshot(path=str(ARTIFACTS / f"ui-{name}-{width}.png"), full_page=False)


def type_query(page, text: str) -> None:
    editor = page.locator(".qe-input")
    editor.fill("")
    editor.type(text)
    page.keyboard.press("Escape")


def permalink(server: Server, query: str) -> str:
    return server.url + "/sparql?" + urlencode({"query": query})


def shown_query(page) -> str:
    return parse_qs(urlsplit(page.url).query)["query"][0]


# ---- the editor ----------------------------------------------------------------------------

def test_page_works_offline_with_highlighting(page, context):
    page.wait_for_selector(".qe-highlight .qe-kw")
    keywords = page.locator(".qe-highlight .qe-kw").all_inner_texts()
    assert "SELECT" in keywords and "WHERE" in keywords
    assert page.locator(".qe-highlight .qe-var").first.inner_text().startswith("?")
    lines = page.locator(".qe-input").input_value().count("\n") + 1
    assert page.locator(".qe-gutter div").all_inner_texts() == [str(n) for n in range(1, lines + 1)]
    assert context.outside == []
    assert page.errors == []  # type: ignore[attr-defined]


def test_prefix_completion_inserts_the_declaration(page):
    page.locator(".qe-input").fill("")
    page.locator(".qe-input").type("SELECT ?c WHERE { ?c a kk")
    menu = page.locator(".qe-completions")
    menu.wait_for(state="visible")
    assert "kko: <https://w3id.org/kazkor/ontology#>" in menu.inner_text()
    page.locator(".qe-completions li[data-prefix='kko']").click()
    value = page.locator(".qe-input").input_value()
    assert value.startswith("PREFIX kko: <https://w3id.org/kazkor/ontology#>\n")
    assert value.endswith("?c a kko:")
    # not inside comments
    page.locator(".qe-input").type("\n# kk")
    assert menu.is_hidden()


@pytest.mark.parametrize("context", WIDTHS, indirect=True)
def test_run_shows_a_table_with_entity_links(page):
    type_query(page, COUNTRIES)
    page.locator(".qe-input").press("Control+Enter")
    page.wait_for_selector(".qe-results table")
    assert page.locator(".qe-results th").all_inner_texts() == ["country"]
    link = page.locator(".qe-results a[title='https://w3id.org/kazkor/id/kazakhstan']")
    assert link.get_attribute("href") == "/page/kazakhstan"
    assert link.inner_text() == "kkid:kazakhstan"
    assert re.search(r"\d+ result\(s\)", page.locator(".qe-status").inner_text())
    assert page.locator("button[data-view=bar]").count() == 0, "no numbers, no chart"
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    shot(page, "countries")


def test_construct_shows_triples(page):
    type_query(page, "CONSTRUCT WHERE { <https://w3id.org/kazkor/id/kazakhstan> ?p ?o }")
    page.click(".qe-run")
    page.wait_for_selector(".qe-results table")
    assert page.locator(".qe-results th").all_inner_texts() == ["subject", "predicate", "object"]
    assert page.locator(".qe-downloads[data-kind='rdf']").is_visible()
    assert not page.locator(".qe-downloads[data-kind='results']").is_visible()


@pytest.mark.parametrize("context", WIDTHS, indirect=True)
def test_error_is_shown_at_its_line(page, server):
    query = "SELECT *\nWHERE {\n  ?s ?p\n}"  # the third line lacks its object
    answer = server.post("/sparql", data={"query": query})
    assert answer.status_code == 400
    position = (re.search(r"line (\d+), column (\d+)", answer.text)
                or re.search(r"at (\d+):(\d+)", answer.text))
    assert position, f"the parser's message names no line and column: {answer.text}"
    line = int(position.group(1))
    assert line > 1
    type_query(page, query)
    page.click(".qe-run")
    error = page.locator(".qe-error")
    error.wait_for(state="visible")
    assert "Error 400" in error.inner_text()
    assert answer.text.strip() in error.inner_text(), "the parser's own message"
    assert f"at line {line}, column {position.group(2)}" in error.inner_text()
    assert page.locator(".qe-gutter .qe-error-line").all_inner_texts() == [str(line)]
    assert page.locator(".qe-error-band").is_visible()
    caret_line = page.locator(".qe-input").evaluate(
        "i => i.value.slice(0, i.selectionStart).split('\\n').length")
    assert caret_line == line
    shot(page, "error-at-line")
    page.locator(".qe-input").type(" ")
    assert page.locator(".qe-gutter .qe-error-line").count() == 0, "editing clears the mark"


@pytest.mark.parametrize("label,check", [
    ("SPARQL JSON", lambda data: json.loads(data)["head"]["vars"] == ["s"]),
    ("CSV", lambda data: data.splitlines()[0].strip() == b"s"),
    ("TSV", lambda data: data.splitlines()[0].strip() == b"?s"),
])
def test_download_in_every_format(page, label, check):
    type_query(page, "SELECT ?s WHERE { ?s ?p ?o } LIMIT 3")
    with page.expect_download() as info:
        page.locator(".qe-downloads[data-kind='results'] a", has_text=label).click()
    assert check(Path(info.value.path()).read_bytes())


def test_graph_download_as_turtle(page):
    type_query(page, "CONSTRUCT WHERE { <https://w3id.org/kazkor/id/kazakhstan> ?p ?o }")
    with page.expect_download() as info:
        page.locator(".qe-downloads[data-kind='rdf'] a", has_text="Turtle").click()
    graph = Graph().parse(Path(info.value.path()), format="turtle")
    assert {s for s in graph.subjects()} == {URIRef("https://w3id.org/kazkor/id/kazakhstan")}
    assert info.value.suggested_filename == "result.ttl"


def _example_files() -> list[Path]:
    return [p for p in sorted((ROOT / "queries" / "cq").glob("*.rq"))
            if re.search(r"^#\s*example:\s*yes\s*$", p.read_text(encoding="utf-8"), re.I | re.M)]


def test_examples_are_one_click_away(page):
    examples = _example_files()
    buttons = page.locator(".qe-example")
    assert buttons.count() == len(examples)
    if not examples:
        assert "No example queries yet" in page.locator(".qe-examples").inner_text()
        return
    buttons.first.click()
    assert page.locator(".qe-input").input_value() == examples[0].read_text(encoding="utf-8")
    page.locator(".qe-results table, .qe-results .qe-boolean, .qe-error:not([hidden])") \
        .first.wait_for()
    assert page.locator(".qe-error").is_hidden(), page.locator(".qe-error").inner_text()


# ---- permalinks, history, a reload ----------------------------------------------------------

def test_a_browser_opening_a_query_address_gets_the_page_and_programs_get_results(server):
    query_address = "/sparql?" + urlencode({"query": COUNTRIES})
    page = server.get(query_address, headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert 'class="kg-query-editor"' in page.text and "data-shared" in page.text
    for accept, media_type in ((JSON_RESULTS, JSON_RESULTS), ("*/*", ""),
                               ("text/html;q=0.5, text/csv", "text/csv"),
                               ("text/html, application/sparql-results+xml",
                                "application/sparql-results+xml")):
        answer = server.get(query_address, headers={"Accept": accept})
        assert answer.status_code == 200
        assert not answer.headers["Content-Type"].startswith("text/html"), accept
        assert answer.headers["Content-Type"].startswith(media_type), accept
    download = server.get(query_address + "&format=csv", headers={"Accept": BROWSER_ACCEPT})
    assert download.headers["Content-Type"].startswith("text/csv")


@pytest.mark.parametrize("context", WIDTHS, indirect=True)
def test_permalink_round_trip(context, server):
    page = context.new_page()
    page.goto(permalink(server, COUNTRIES))
    assert page.locator(".qe-input").input_value() == COUNTRIES
    page.wait_for_selector(".qe-results a[href='/page/kazakhstan']")
    assert page.locator("header.site nav a[href='/browse']").is_visible()
    edited = COUNTRIES.replace("ORDER BY ?country", "ORDER BY DESC(?country)")
    type_query(page, edited)
    page.click(".qe-run")
    page.wait_for_selector(".qe-results table")
    assert shown_query(page) == edited, "the address follows the query"
    assert page.locator(".qe-permalink").get_attribute("href") == \
        "/sparql?" + urlencode({"query": edited})
    first = page.locator(".qe-results tbody tr").first.inner_text()
    other = context.new_page()
    other.goto(page.url)
    other.wait_for_selector(".qe-results table")
    assert other.locator(".qe-input").input_value() == edited
    assert other.locator(".qe-results tbody tr").first.inner_text() == first
    shot(other, "permalink")


def test_permalink_keeps_the_inference_switch(context, server):
    page = context.new_page()
    page.goto(permalink(server, COUNTRIES) + "&inference=false")
    assert not page.locator(".qe-inference").is_checked()
    page.wait_for_selector(".qe-results table")
    page.locator(".qe-inference").check()
    assert "inference" not in parse_qs(urlsplit(page.url).query)


@pytest.mark.parametrize("context", WIDTHS, indirect=True)
def test_history_and_the_draft_survive_a_reload(page):
    labels = "SELECT ?label WHERE { ?x <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
    for query in (COUNTRIES, labels):
        type_query(page, query)
        page.click(".qe-run")
        page.wait_for_selector(".qe-results table")
    page.goto(page.url.split("?")[0])  # the bare page, as a bookmark of /sparql opens it
    assert page.locator(".qe-input").input_value() == labels, "the last query is kept"
    entries = page.locator(".qe-history-entry")
    assert entries.count() == 2
    assert entries.first.get_attribute("title").startswith("SELECT ?label")
    assert entries.nth(1).get_attribute("title") == COUNTRIES
    shot(page, "history")
    entries.nth(1).click()
    page.wait_for_selector(".qe-results a[href='/page/kazakhstan']")
    assert page.locator(".qe-input").input_value() == COUNTRIES
    type_query(page, "SELECT ?unfinished WHERE {")
    page.wait_for_timeout(500)  # the draft is kept 300 ms after the last key
    page.reload()  # the address follows the editor
    assert page.locator(".qe-input").input_value() == "SELECT ?unfinished WHERE {"
    page.goto(page.url.split("?")[0])  # the bare page: the draft kept in this browser
    assert page.locator(".qe-input").input_value() == "SELECT ?unfinished WHERE {"
    page.locator(".qe-history-clear").click()
    assert page.locator(".qe-history-entry").count() == 0


# ---- results: paging, sorting, the row limit, charts ----------------------------------------

@pytest.mark.parametrize("context", WIDTHS, indirect=True)
def test_paging_sorting_and_more_on_10000_rows(context, server):
    everything = server.get("/sparql", params={"query": EVERY_TRIPLE},
                            headers={"Accept": JSON_RESULTS}).json()["results"]["bindings"]
    total = len(everything)
    assert total > 10_000
    lengths = [int(b["length"]["value"]) for b in everything]
    page = context.new_page()
    page.goto(permalink(server, EVERY_TRIPLE))
    info = page.locator(".qe-page-info")
    info.wait_for()
    assert info.inner_text() == "rows 1–50 of 1,000 · page 1 of 20", "the row limit: 1,000"
    assert page.locator(".qe-results tbody tr").count() == 50
    page.locator(".qe-next").click()
    assert info.inner_text().startswith("rows 51–100 of 1,000")
    page.locator(".qe-load-more").click()
    page.locator(".qe-page-info", has_text="of 2,000").wait_for()
    page.locator(".qe-load-all").click()
    page.locator(".qe-page-info", has_text=f"of {total:,}").wait_for()
    assert page.locator(".qe-more").count() == 0
    assert f"{total:,} result(s)" in page.locator(".qe-status").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    sort = page.locator("th[data-var=length] button")
    sort.click()
    assert page.locator("th[data-var=length]").get_attribute("aria-sort") == "ascending"
    cell = page.locator(".qe-results tbody tr td:nth-child(4)")
    assert cell.first.inner_text().split()[0] == str(min(lengths))
    sort.focus()
    page.keyboard.press("Enter")
    assert page.locator("th[data-var=length]").get_attribute("aria-sort") == "descending"
    assert cell.first.inner_text().split()[0] == str(max(lengths))
    shown = [int(t.split()[0]) for t in cell.all_inner_texts()]
    assert shown == sorted(shown, reverse=True) and len(shown) == 50
    page.locator(".qe-last").click()
    assert info.inner_text().endswith(f"page {-(-total // 50)} of {-(-total // 50)}")
    assert cell.last.inner_text().split()[0] == str(min(lengths))
    shot(page, "paged-sorted")


def test_the_row_limit_is_a_choice(page):
    page.select_option(".qe-limit", "100")
    type_query(page, EVERY_TRIPLE)
    page.click(".qe-run")
    page.locator(".qe-page-info", has_text="of 100 ").wait_for()
    page.locator(".qe-load-more").click()
    page.locator(".qe-page-info", has_text="of 200 ").wait_for()
    page.reload()
    assert page.locator(".qe-limit").input_value() == "100", "the choice is kept"
    page.select_option(".qe-limit", "0")
    type_query(page, COUNTRIES)
    page.click(".qe-run")
    page.wait_for_selector(".qe-results table")
    assert page.locator(".qe-more").count() == 0


@pytest.mark.parametrize("context", WIDTHS, indirect=True)
def test_chart_views_of_a_numeric_query(context, server):
    census = server.get("/sparql", params={"query": CENSUS.read_text(encoding="utf-8")},
                        headers={"Accept": JSON_RESULTS}).json()["results"]["bindings"]
    page = context.new_page()
    page.goto(permalink(server, CENSUS.read_text(encoding="utf-8")))
    page.wait_for_selector(".qe-results table")
    page.click("button[data-view=line]")
    line = page.locator("svg.qe-line-chart")
    assert line.is_visible()
    dots = line.locator("circle title").all_text_contents()
    assert len(dots) == len(census) == 8
    last = census[-1]
    assert f"?koreans, {last['year']['value']}: {int(last['koreans']['value']):,}" in dots
    assert page.locator("button[data-view=line]").get_attribute("aria-pressed") == "true"
    box = line.bounding_box()
    assert box and box["width"] <= page.viewport_size["width"]
    shot(page, "line-chart")
    page.click("button[data-view=bar]")
    bars = page.locator("svg.qe-bar-chart rect")
    assert bars.count() == 8
    lengths = bars.evaluate_all("rs => rs.map(r => r.getBBox().width)")
    values = [int(b["koreans"]["value"]) for b in census]
    assert lengths.index(max(lengths)) == values.index(max(values)), "longest bar, largest value"
    shot(page, "bar-chart")
    page.click("button[data-view=table]")
    assert page.locator(".qe-results tbody tr").count() == 8
