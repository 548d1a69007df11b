"""How fast the query UI shows a large answer, in Debian chromium: the time from the click on
*Run* to the first table row of ``SELECT * WHERE { ?s ?p ?o }`` (every triple), and the
page's width, at 1366 and 390 px (decision 0008).

Run against a server (``kg serve``):
``.venv/bin/python bench/query_ui.py http://127.0.0.1:8000``. With ``--yasgui DIR`` (the
``package/build`` folder of ``npm pack @zazuko/yasgui``) it measures YASGUI the same way:
its files are copied into ``src/kg/web/static/yasgui-bench/`` for the run (same origin,
same Content-Security-Policy) and removed afterwards; the server must serve this checkout.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
STATIC = ROOT / "src" / "kg" / "web" / "static"
CHROMIUM = "/usr/bin/chromium"
QUERY = "SELECT * WHERE { ?s ?p ?o }"
YASGUI_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="yasgui.min.css"></head><body><div id="yasgui"></div>
<script src="yasgui.min.js"></script><script src="init.js"></script></body></html>"""
YASGUI_INIT = ('window.yasgui = new Yasgui(document.getElementById("yasgui"), {'
               ' requestConfig: { endpoint: "/sparql", method: "POST" },'
               f" copyEndpointOnNewTab: false, yasqe: {{ value: {json.dumps(QUERY)} }} }});")


def hand_written(row_limit: str) -> Callable[[Page, str], float]:
    def run(page: Page, url: str) -> float:
        page.goto(url + "/sparql")
        page.select_option(".qe-limit", row_limit)
        page.locator(".qe-input").fill(QUERY)
        started = time.perf_counter()
        page.click(".qe-run")
        page.wait_for_selector(".qe-results tbody tr", timeout=180_000)
        return time.perf_counter() - started
    return run


def yasgui(page: Page, url: str) -> float:
    page.goto(url + "/static/yasgui-bench/index.html")
    page.wait_for_selector(".CodeMirror")
    started = time.perf_counter()
    page.click(".yasqe_queryButton")
    page.wait_for_selector(".yasr table tbody tr", timeout=180_000)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the server, e.g. http://127.0.0.1:8000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--yasgui", type=Path, help="YASGUI's build folder (npm pack)")
    args = parser.parse_args()
    candidates: list[tuple[str, Callable[[Page, str], float]]] = [
        ("hand-written, row limit 1,000", hand_written("1000")),
        ("hand-written, no row limit", hand_written("0"))]
    copy = STATIC / "yasgui-bench"
    if args.yasgui:
        copy.mkdir(exist_ok=False)
        for name in ("yasgui.min.js", "yasgui.min.css"):
            shutil.copy(args.yasgui / name, copy / name)
        (copy / "index.html").write_text(YASGUI_PAGE, encoding="utf-8")
        (copy / "init.js").write_text(YASGUI_INIT, encoding="utf-8")
        candidates.append(("YASGUI", yasgui))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                                 args=["--no-sandbox", "--disable-gpu"])
            for name, measure in candidates:
                for width in (1366, 390):
                    times, page_width = [], 0
                    for _ in range(args.runs):
                        context = browser.new_context(viewport={"width": width, "height": 900})
                        page = context.new_page()
                        times.append(measure(page, args.url.rstrip("/")))
                        page_width = page.evaluate("document.documentElement.scrollWidth")
                        context.close()
                    print(f"{name:30s} {width:5d} px: Run to first row, median "
                          f"{statistics.median(times):.2f} s (runs "
                          f"{', '.join(f'{t:.2f}' for t in times)}); page {page_width} px wide")
            browser.close()
    finally:
        if args.yasgui:
            shutil.rmtree(copy, ignore_errors=True)


if __name__ == "__main__":
    main()
