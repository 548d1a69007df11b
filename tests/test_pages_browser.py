"""The pages in a real browser: Debian chromium driven by Playwright, against the real server.

Screenshots are kept as test artifacts in tests/artifacts/ (not committed).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Server
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is not installed: apt-get install -y chromium "
                    "(.ci/run does it)")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(params=[True, False], ids=["javascript", "no-javascript"])
def page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    """A page in a fresh context, with and without JavaScript; it records console errors
    (a Content-Security-Policy violation shows up there) and dialogs (a script that ran)."""
    context = browser.new_context(java_script_enabled=request.param, locale="en-US",
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.errors.append(str(e)))  # type: ignore[attr-defined]
    page.on("dialog", lambda d: (page.errors.append("dialog: " + d.message), d.dismiss()))  # type: ignore[attr-defined]
    yield page
    context.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_search_from_the_home_page_to_an_entity(ld_server: Server, page: Page) -> None:
    page.goto(ld_server.url + "/")
    assert page.locator("h1").inner_text() == "KazKor KG"
    shot(page, "home")
    page.fill("#home-q", "ҚАЗАҚСТАН")
    page.press("#home-q", "Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    shot(page, "search-kazakhstan")
    page.locator("ol.results li a").first.click()
    page.wait_for_url(re.compile(r"/page/kazakhstan$"))
    assert page.locator("h1").inner_text() == "Republic of Kazakhstan"
    assert page.errors == []  # type: ignore[attr-defined]


def test_entity_page_in_russian_and_by_the_switch_in_korean(ld_server: Server,
                                                            browser: Browser) -> None:
    context = browser.new_context(locale="ru-RU", extra_http_headers={"Accept-Language": "ru"})
    page = context.new_page()
    page.goto(ld_server.url + "/page/kazakhstan")
    assert page.locator("h1").inner_text() == "Республика Казахстан"
    assert page.locator("section.inferred .badge.inferred").count() > 0 or \
        page.locator(".type.inferred").count() > 0
    shot(page, "entity-kazakhstan-ru")
    page.click("nav.languages a[hreflang=ko]")
    assert page.locator("h1").inner_text() == "카자흐스탄 공화국"
    shot(page, "entity-kazakhstan-ko")
    context.close()


def test_entity_page_shows_facts_incoming_and_sources(ld_server: Server, page: Page) -> None:
    page.goto(ld_server.url + "/page/declaration-1995")
    assert page.locator("section.asserted dt", has_text="party").is_visible()
    assert page.locator("section.sources li", has_text="Abstract").is_visible()
    page.click("section.asserted a[href='/page/kazakhstan']")
    assert page.locator("section.incoming a[href='/page/declaration-1995']").is_visible()
    shot(page, "entity-declaration")
    assert page.errors == []  # type: ignore[attr-defined]


def test_charts_draw_without_javascript(ld_server: Server, page: Page) -> None:
    for path, kind, name in (("/page/dataset/test-census", "line-chart", "dataset-census"),
                             ("/page/dataset/test-survey", "bar-chart", "dataset-survey")):
        page.goto(ld_server.url + path)
        chart = page.locator(f"svg.{kind}")
        box = chart.bounding_box()
        assert box and box["width"] > 400 and box["height"] > 150
        assert page.locator("table.pivot tbody tr").count() == 3
        shot(page, name)
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_script_in_a_label_does_not_run(ld_server: Server, page: Page) -> None:
    page.goto(ld_server.url + "/page/test-script")
    assert page.locator("h1").inner_text() == "<script>alert('label')</script> & \"quoted\""
    page.goto(ld_server.url + "/search?q=%3Cscript")
    assert page.locator("ol.results li").count() == 1
    assert page.errors == []  # type: ignore[attr-defined]


def test_ontology_term_anchor(ld_server: Server, page: Page) -> None:
    page.goto(ld_server.url + "/ontology#Country")
    term = page.locator("section#Country")
    assert term.is_visible()
    box = term.bounding_box()
    assert box is not None and 0 <= box["y"] < 900
    shot(page, "ontology")
    page.goto(ld_server.url + "/id/kazakhstan")
    assert page.url.endswith("/page/kazakhstan")


def test_not_found_page_offers_a_search(ld_server: Server, page: Page) -> None:
    page.goto(ld_server.url + "/id/kazakstan")
    assert page.locator("h1").inner_text() == "Not found"
    page.fill("#nf-q", "kazakhstan")
    page.press("#nf-q", "Enter")
    page.wait_for_url(re.compile(r"/search\?q=kazakhstan"))
    assert page.locator("ol.results a[href='/page/kazakhstan']").first.is_visible()
    shot(page, "not-found")
