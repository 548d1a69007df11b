"""The pages in a real browser: Debian chromium driven by Playwright, against the real server.

Screenshots are kept as test artifacts in tests/artifacts/ (not committed).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import Server
from playwright.sync_api import Browser, Page, sync_playwright
from tests.system_packages import require

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require("chromium")
    require("fonts-nanum")  # the Korean pages' screenshots
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@contextmanager
def screen(browser: Browser, width: int, **options: object) -> Iterator[Page]:
    """A page in a fresh context at ``width`` px that records console errors (a
    Content-Security-Policy violation shows up there) and dialogs (a script that ran)."""
    options.setdefault("locale", "en-US")
    context = browser.new_context(viewport={"width": width, "height": 900},
                                  **options)  # type: ignore[arg-type]
    page = context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: page.errors.append(str(e)))  # type: ignore[attr-defined]
    page.on("dialog", lambda d: (page.errors.append("dialog: " + d.message), d.dismiss()))  # type: ignore[attr-defined]
    yield page
    context.close()


@pytest.fixture(params=[True, False], ids=["javascript", "no-javascript"])
def page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    """A page at 1280 px, with and without JavaScript."""
    with screen(browser, 1280, java_script_enabled=request.param) as page:
        yield page


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


#: the pages a first visitor meets, at a laptop's and at a phone's width
FIT_PATHS = ["/", "/page/kazakhstan", "/page/dataset/table-6", "/page/dataset/table-7",
             "/page/agreement-cultural-scientific-technological-1995", "/ontology", "/sparql",
             "/validation", "/search?q=a", "/search?q=%D0%9A%D1%83%D0%BB%D1%8C%D1%82%D1%83%D1%80"
             "%D0%BD%D1%8B%D0%B9"]
WIDTHS = [1366, 390]


@pytest.fixture(params=WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def sized(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    with screen(browser, request.param) as page:
        yield page


def slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"


@pytest.mark.parametrize("path", FIT_PATHS)
def test_pages_fit_the_screen(ld_server: Server, sized: Page, path: str) -> None:
    response = sized.goto(ld_server.url + path)
    assert response is not None and response.status == 200
    sized.wait_for_load_state("networkidle")
    width = sized.viewport_size["width"]  # type: ignore[index]
    page_width = sized.evaluate("document.documentElement.scrollWidth")
    shot(sized, f"fit-{width}-{slug(path)}")
    assert page_width <= width, f"{path} is {page_width} px wide on a {width} px screen"
    assert sized.locator("header.site nav a[href='/sparql']").is_visible()
    assert sized.errors == []  # type: ignore[attr-defined]


def test_wide_tables_scroll_inside_their_box(ld_server: Server, browser: Browser) -> None:
    with screen(browser, 390) as page:
        page.goto(ld_server.url + "/page/dataset/table-7")
        box = page.locator(".table-scroll:has(table.pivot)")
        inner, outer = box.evaluate("b => [b.scrollWidth, b.clientWidth]")
        assert inner > outer, "Table 7 is wider than a phone: it should scroll in its box"
        box.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
        last = page.locator("table.pivot thead th").last
        assert last.bounding_box()["x"] + last.bounding_box()["width"] <= 390 + 1  # type: ignore[index]
        shot(page, "table-7-scrolled-390")


def test_chart_legend_sits_above_the_bars(ld_server: Server, browser: Browser) -> None:
    with screen(browser, 1366) as page:
        page.goto(ld_server.url + "/page/dataset/table-7")
        chart = page.locator("svg.bar-chart")
        first_bar = chart.locator(":scope > rect").first.bounding_box()
        legend = chart.locator("g.legend").bounding_box()
        box = chart.bounding_box()
        assert first_bar and legend and box
        assert legend["y"] < first_bar["y"], "the legend is read before the bars"
        assert box["height"] < 900, f"the chart is {box['height']:.0f} px tall"
        shot(page, "table-7-chart")


def test_language_is_kept_after_clicking_a_link(ld_server: Server, browser: Browser) -> None:
    with screen(browser, 1366) as page:
        page.goto(ld_server.url + "/page/kazakhstan")
        assert page.locator("h1").inner_text() == "Republic of Kazakhstan"
        page.click("nav.languages a[hreflang=ru]")
        assert page.locator("h1").inner_text() == "Республика Казахстан"
        page.click("section.incoming a[href='/page/declaration-1995']")
        page.wait_for_url(re.compile(r"/page/declaration-1995$"))
        assert page.locator("html").get_attribute("lang") == "ru"
        assert page.locator("header.site nav a[href='/browse']").inner_text() == "Обзор"
        page.click("header.site nav a[href='/browse']")
        assert page.locator("h1").inner_text() == "Обзор по классам"
        shot(page, "language-kept-ru")


def test_accept_language_decides_until_the_reader_chooses(ld_server: Server,
                                                          browser: Browser) -> None:
    with screen(browser, 1366, locale="ko-KR") as page:
        page.goto(ld_server.url + "/page/kazakhstan")
        assert page.locator("h1").inner_text() == "카자흐스탄 공화국"
        page.click("nav.languages a[hreflang=en]")
        page.click("header.site a.brand")
        page.goto(ld_server.url + "/page/kazakhstan")
        assert page.locator("h1").inner_text() == "Republic of Kazakhstan"


def test_favicon(ld_server: Server, browser: Browser) -> None:
    with screen(browser, 1366) as page:
        icon = page.request.get(ld_server.url + "/favicon.ico")
        assert icon.status == 200
        assert icon.body()[:4] == b"\x00\x00\x01\x00", "a Windows icon file"
        page.goto(ld_server.url + "/")
        linked = page.locator("link[rel=icon]").get_attribute("href")
        svg = page.request.get(ld_server.url + str(linked))
        assert svg.status == 200 and svg.headers["content-type"].startswith("image/svg+xml")


@pytest.mark.parametrize("path", ["/no/such/page", "/static/nothing.css", "/sparql/x"])
def test_any_unknown_path_is_the_sites_404_page(ld_server: Server, sized: Page,
                                                path: str) -> None:
    response = sized.goto(ld_server.url + path)
    assert response is not None and response.status == 404
    assert sized.locator("h1").inner_text() == "Not found"
    assert path in sized.locator("p.message").inner_text()
    assert sized.locator("header.site nav a[href='/browse']").is_visible()
    background = sized.locator("header.site").evaluate(
        "h => getComputedStyle(h).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent"), "the site's style applies"
    shot(sized, f"not-found-{sized.viewport_size['width']}-{slug(path)}")  # type: ignore[index]
    assert [e for e in sized.errors if "404" not in e] == []  # type: ignore[attr-defined]


def test_validation_report_is_styled_and_reached_from_home(ld_server: Server,
                                                           sized: Page) -> None:
    sized.goto(ld_server.url + "/")
    sized.click("section.about a[href='/validation']")
    sized.wait_for_url(re.compile(r"/validation$"))
    assert sized.locator("h1").inner_text() == "Validation report"
    weight = sized.locator(".verdict").evaluate("v => getComputedStyle(v).fontWeight")
    assert weight == "600", "the report's own styles apply under the site's CSP"
    assert sized.locator("nav.languages a").count() == 4
    assert sized.errors == []  # type: ignore[attr-defined]


def test_query_page_has_the_site_navigation(ld_server: Server, sized: Page) -> None:
    sized.goto(ld_server.url + "/sparql")
    assert sized.locator("header.site nav a[href='/ontology']").is_visible()
    assert sized.locator("nav.languages a").count() == 4
    assert sized.locator("header.site form.search input").is_visible()


@contextmanager
def framing_site(html: str) -> Iterator[str]:
    """A page at another origin (``localhost`` on a port of its own, where the server under
    test is ``127.0.0.1``), as OpenRefine is to the reconciliation service."""
    class Framing(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the handler's protocol)
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Framing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_reconciliation_preview_in_a_cross_origin_frame(ld_server: Server, sized: Page) -> None:
    """OpenRefine shows /reconcile/preview in a frame of its own page: the preview may be
    framed from any origin and is styled by its style sheet; the site's pages may not be
    framed (the same frame on /page/almaty stays empty)."""
    preview = f"{ld_server.url}/reconcile/preview?id=almaty"
    html = (f'<!doctype html><title>OpenRefine</title>'
            f'<iframe id="preview" src="{preview}" width="420" height="180"></iframe>'
            f'<iframe id="page" src="{ld_server.url}/page/almaty" width="420" height="180">'
            f'</iframe>')
    with framing_site(html) as origin:
        sized.goto(origin)
        sized.wait_for_load_state("load")
        framed = sized.frame_locator("#preview")
        link = framed.locator("strong a")
        assert link.inner_text() == "Almaty"
        assert link.get_attribute("href") == f"{ld_server.url}/page/almaty"
        assert framed.locator("li", has_text="Алматы, Алма-Ата").is_visible()
        font_size = framed.locator("body").evaluate("b => getComputedStyle(b).fontSize")
        assert font_size == "14px", "the preview's style sheet applies inside the frame"
        assert framed.locator("body").evaluate("b => b.ownerDocument.styleSheets.length") == 1
        shot(sized, f"reconcile-preview-framed-{sized.viewport_size['width']}")  # type: ignore[index]
    # one violation, the site's page; none for the preview (nor for an inline style)
    assert len(sized.errors) == 1, sized.errors  # type: ignore[attr-defined]
    assert "frame-ancestors 'none'" in sized.errors[0]  # type: ignore[attr-defined]


#: /page/kazakhstan was 3,803 px tall at 1366 px and 7,318 px at 390 px (issue 18)
TALLEST_ENTITY_PAGE = {1366: 2600, 390: 4200}


def test_entity_page_names_properties_and_folds_what_is_inferred(ld_server: Server,
                                                                 sized: Page) -> None:
    width = sized.viewport_size["width"]  # type: ignore[index]
    sized.goto(ld_server.url + "/page/kazakhstan?lang=ru")
    assert sized.locator("section.asserted dt", has_text="находится в").is_visible()
    identifiers = sized.locator("section.identifiers")
    assert identifiers.locator("a", has_text="Q232").is_visible()
    assert identifiers.locator("a[href='/page/link/kazakhstan/wikidata']").is_visible()
    inferred = sized.locator("section.inferred > details")
    assert inferred.get_attribute("open") is None, "inferred facts are folded"
    assert not sized.locator("section.inferred dl.facts").first.is_visible()
    height = sized.evaluate("document.documentElement.scrollHeight")
    shot(sized, f"entity-kazakhstan-ru-{width}")
    assert height <= TALLEST_ENTITY_PAGE[width], f"{height} px tall at {width} px"
    sized.locator("section.inferred > details > summary").click()
    assert sized.locator("section.inferred dl.facts").first.is_visible()
    assert sized.errors == []  # type: ignore[attr-defined]


def test_discrepant_cells_lead_to_their_record(ld_server: Server, sized: Page) -> None:
    width = sized.viewport_size["width"]  # type: ignore[index]
    sized.goto(ld_server.url + "/page/dataset/table-7")
    marks = sized.locator("table.pivot td.discrepant a.discrepancy")
    assert marks.count() >= 8
    background = sized.locator("table.pivot td.discrepant").first.evaluate(
        "c => getComputedStyle(c).backgroundColor")
    plain = sized.locator("table.pivot td.number:not(.discrepant)").first.evaluate(
        "c => getComputedStyle(c).backgroundColor")
    assert background != plain, "a discrepant cell stands out"
    shot(sized, f"table-7-discrepancies-{width}")
    record = marks.first.get_attribute("title")
    marks.first.click()
    sized.wait_for_url(re.compile(r"/page/discrepancy/"))
    assert sized.locator("h1").inner_text() == record
    assert sized.errors == []  # type: ignore[attr-defined]


def test_search_pages_through_its_results(ld_server: Server, sized: Page) -> None:
    sized.goto(ld_server.url + "/search?q=a")
    assert sized.locator("ol.results > li").count() == 50
    sized.locator("nav.pager a[rel=next]").click()
    sized.wait_for_url(re.compile(r"page=2"))
    assert sized.locator("ol.results").get_attribute("start") == "51"
    assert sized.locator("nav.pager a[rel=prev]").is_visible()
    sized.goto(ld_server.url + "/search?q=Nazarbaev")
    assert sized.locator("ol.results a[href='/page/nursultan-nazarbayev']").is_visible()
    sized.locator("p.left-out a").click()
    sized.wait_for_url(re.compile(r"all=1"))
    shot(sized, f"search-nazarbaev-all-{sized.viewport_size['width']}")  # type: ignore[index]
    assert sized.errors == []  # type: ignore[attr-defined]


def test_ontology_names_terms_in_the_readers_language(ld_server: Server, sized: Page) -> None:
    sized.goto(ld_server.url + "/ontology?lang=ko#Country")
    assert sized.locator("section#Country h3").inner_text().startswith("국가")
    shot(sized, f"ontology-ko-{sized.viewport_size['width']}")  # type: ignore[index]
