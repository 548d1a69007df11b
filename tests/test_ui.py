"""The query UI in a real browser: Debian chromium driven by Playwright, offline."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright import sync_api as playwright
from rdflib import Graph, URIRef

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), "chromium is installed by .ci/run"
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """The query page; any request that leaves the server is recorded and blocked."""
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.outside: list[str] = []  # type: ignore[attr-defined]

    def guard(route):  # type: ignore[no-untyped-def]
        if route.request.url.startswith(server.url):
            route.continue_()
        else:
            page.outside.append(route.request.url)  # type: ignore[attr-defined]
            route.abort()

    page.route("**/*", guard)
    page.goto(server.url + "/sparql")
    yield page
    context.close()


def type_query(page, text: str) -> None:
    editor = page.locator(".qe-input")
    editor.fill("")
    editor.type(text)


def test_page_works_offline_with_highlighting(page):
    page.wait_for_selector(".qe-highlight .qe-kw")
    keywords = page.locator(".qe-highlight .qe-kw").all_inner_texts()
    assert "SELECT" in keywords and "WHERE" in keywords
    assert page.locator(".qe-highlight .qe-var").first.inner_text().startswith("?")
    assert page.outside == []  # type: ignore[attr-defined]


def test_prefix_completion_inserts_the_declaration(page):
    type_query(page, "SELECT ?c WHERE { ?c a kk")
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


def test_run_shows_a_table_with_entity_links(page):
    type_query(page, "PREFIX kko: <https://w3id.org/kazkor/ontology#>\n"
                     "SELECT ?country WHERE { ?country a kko:Country } ORDER BY ?country")
    page.keyboard.press("Escape")
    page.click(".qe-run")
    page.wait_for_selector(".qe-results table")
    assert page.locator(".qe-results th").all_inner_texts() == ["country"]
    link = page.locator(".qe-results a[title='https://w3id.org/kazkor/id/kazakhstan']")
    assert link.get_attribute("href") == "/page/kazakhstan"
    assert link.inner_text() == "kkid:kazakhstan"
    assert re.search(r"\d+ result\(s\)", page.locator(".qe-status").inner_text())


def test_construct_shows_triples(page):
    type_query(page, "CONSTRUCT WHERE { <https://w3id.org/kazkor/id/kazakhstan> ?p ?o }")
    page.keyboard.press("Escape")
    page.click(".qe-run")
    page.wait_for_selector(".qe-results table")
    assert page.locator(".qe-results th").all_inner_texts() == ["subject", "predicate", "object"]
    assert page.locator(".qe-downloads[data-kind='rdf']").is_visible()
    assert not page.locator(".qe-downloads[data-kind='results']").is_visible()


def test_errors_are_shown_readably(page):
    type_query(page, "SELECT * WHERE { ?s ?p }")
    page.click(".qe-run")
    error = page.locator(".qe-error")
    error.wait_for(state="visible")
    assert "400" in error.inner_text() and "malformed query" in error.inner_text()


@pytest.mark.parametrize("label,check", [
    ("SPARQL JSON", lambda data: json.loads(data)["head"]["vars"] == ["s"]),
    ("CSV", lambda data: data.splitlines()[0].strip() == b"s"),
    ("TSV", lambda data: data.splitlines()[0].strip() == b"?s"),
])
def test_download_in_every_format(page, label, check):
    type_query(page, "SELECT ?s WHERE { ?s ?p ?o } LIMIT 3")
    page.keyboard.press("Escape")
    with page.expect_download() as info:
        page.locator(".qe-downloads[data-kind='results'] a", has_text=label).click()
    assert check(Path(info.value.path()).read_bytes())


def test_graph_download_as_turtle(page):
    type_query(page, "CONSTRUCT WHERE { <https://w3id.org/kazkor/id/kazakhstan> ?p ?o }")
    page.keyboard.press("Escape")
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
    page.wait_for_function(
        "document.querySelector('.qe-results').children.length > 0"
        " || !document.querySelector('.qe-error').hidden")
    assert page.locator(".qe-error").is_hidden(), page.locator(".qe-error").inner_text()
