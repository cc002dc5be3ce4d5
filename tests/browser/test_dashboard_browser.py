"""The dashboard in a real browser: `streamlit run` on the bundled sample, headless Chromium via Playwright.

Every page of the navigation is visited, must render without an exception box and show its key text;
the network map on Echo chambers must draw; every page must render in under 2 s after the first load.
Screenshots (one per page), the timings (JSON) and the server log land in tests/browser/output/.
"""

from __future__ import annotations

import io
import json
import os
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.slow

# The navigation must hold these pages (titles as in st.navigation); each shows its key texts...
KEY_TEXT: dict[str, list[str]] = {
    "Overview": [r"worth contacting", r"tone over time", r"more than chance"],
    "Constructive voices": [r"constructive", r"shortlist"],
    "Echo chambers": [r"the map", r"the camps", r"tone mix"],
    "Conversations": [r"text contains", r"thread", r"tone feedback"],
    "Data health": [r"last runs?", r"could not be read|quarantine", r"X reads"],
    "Weekly reports": [r"weekly report"],
}
# ...and its key elements (Streamlit test ids): the charts and tables it is there to show.
KEY_ELEMENTS: dict[str, list[str]] = {
    "Overview": ["stVegaLiteChart"],
    "Constructive voices": ["stDataFrame"],
    "Echo chambers": ["stVegaLiteChart", "stDataFrame"],
    "Conversations": ["stDataFrame"],
    "Data health": ["stDataFrame"],
    "Weekly reports": [],  # the sample has no weekly report: the page says how to make one
}
RENDER_BUDGET_S = 2.0  # issue #13: every page renders in under 2 s after the first load
TIMED_VISITS = 3  # per page, after the first load; the median is held to the budget
VIEWPORT = {"width": 1440, "height": 900}
TIMEOUT_MS = 60_000  # the longest any one page may take to settle (first loads included)
MAP_HEADING = re.compile(r"map|network", re.IGNORECASE)

# True once the page has settled: Streamlit's script run is over (and, after a click, a run happened),
# no status widget, stale element or loading skeleton is left, the main block has content, every chart
# has drawn.
SETTLED_JS = """
() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  if (app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (window.__cgRun && !window.__cgRun.done) return false;
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  // an element whose code is still loading (the first time a page uses it) shows a skeleton
  if (document.querySelector('[data-testid="stSkeleton"], [data-testid="stAppSkeleton"]')) return false;
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  if (!main || main.innerText.trim().length === 0) return false;
  for (const chart of main.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
    if (!chart.querySelector('canvas, svg')) return false;
  }
  return true;
}
"""
# Before a click: note when Streamlit starts and finishes the run the click causes, so a page that is
# still showing its previous content is never taken for the new one.
ARM_JS = """
() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const run = {ran: false, done: false, armedAt: performance.now(), ranAt: 0, doneAt: 0};
  window.__cgRun = run;
  new MutationObserver((changes, observer) => {
    const state = app.getAttribute('data-test-script-state');
    if (state === 'running' && !run.ran) { run.ran = true; run.ranAt = performance.now(); }
    else if (run.ran && state === 'notRunning') {
      run.done = true; run.doneAt = performance.now(); observer.disconnect();
    }
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}
"""
# Where the time went: until the script started, the script's run, and drawing after it ended.
SPLIT_JS = """
() => { const r = window.__cgRun, now = performance.now();
  return [(r.ranAt - r.armedAt) / 1000, (r.doneAt - r.ranAt) / 1000, (now - r.doneAt) / 1000]; }
"""
NAV_LINK = '[data-testid="stSidebarNav"] a[data-testid="stSidebarNavLink"]'
NAV_JS = f"""
() => [...document.querySelectorAll('{NAV_LINK}')].map(a => ({{
  label: a.innerText.replace(/\\s+/g, ' ').trim(),
  href: a.getAttribute('href'),
  current: a.getAttribute('aria-current') === 'page',
}}))
"""


@dataclass
class PageVisit:
    title: str
    href: str
    first_load_s: float = 0.0
    timed_s: list[float] = field(default_factory=list)
    # per timed visit: seconds until the script started, of its run, and drawing after it
    splits: list[list[float]] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    text: str = ""
    exceptions: list[str] = field(default_factory=list)
    elements: dict[str, int] = field(default_factory=dict)
    screenshot: Path | None = None

    @property
    def median_s(self) -> float:
        return statistics.median(self.timed_s)


@dataclass
class Crawl:
    nav: list[dict[str, str]]
    visits: dict[str, PageVisit]
    map_before: bytes = b""
    map_after_zoom: bytes = b""
    map_still: bool = False
    map_note: str = ""
    page_errors: list[str] = field(default_factory=list)
    deploy_buttons: int = 0


def _settle(page: Any) -> None:
    page.wait_for_function(SETTLED_JS, timeout=TIMEOUT_MS, polling=50)


def _nav_title(label: str, titles: list[str]) -> str:
    """The page title a nav link's text stands for (the text may start with the page's icon)."""
    for title in titles:
        if label.endswith(title):
            return title
    return label


def _go(page: Any, href: str) -> tuple[float, list[float]]:
    """Click the sidebar link to `href` and wait until the page has rendered: seconds taken, and how
    they split (see SPLIT_JS)."""
    link = page.locator(f'{NAV_LINK}[href="{href}"]')
    page.evaluate(ARM_JS)
    started = time.perf_counter()
    link.click()
    _settle(page)
    took = time.perf_counter() - started
    return took, [round(float(t), 3) for t in page.evaluate(SPLIT_JS)]


def _screenshot(page: Any, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main block, so grow the viewport to its height first."""
    height = page.evaluate(
        "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight || document.body.scrollHeight"
    )
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(VIEWPORT["height"], int(height) + 40)})
    try:
        page.wait_for_timeout(300)
        _settle(page)
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(VIEWPORT)
        page.wait_for_timeout(200)


def _record(page: Any, visit: PageVisit, output_dir: Path) -> None:
    main = page.locator('[data-testid="stMainBlockContainer"]')
    visit.text = main.inner_text()
    visit.headings = [h.strip() for h in main.locator("h1, h2, h3").all_inner_texts()]
    visit.exceptions = page.locator('[data-testid="stException"]').all_inner_texts()
    for test_id in KEY_ELEMENTS.get(visit.title, []):
        visit.elements[test_id] = main.locator(f'[data-testid="{test_id}"]').count()
    slug = re.sub(r"[^a-z0-9]+", "-", visit.title.lower()).strip("-")
    visit.screenshot = output_dir / f"{slug}.png"
    _screenshot(page, visit.screenshot)


def _open_map(page: Any) -> Any:
    """The network map's chart: the Vega-Lite chart that comes right after a heading, paragraph, tab or
    expander naming a map or network (any other text in between, a heading of its own, breaks the link)."""
    closed = '[data-testid="stExpander"] details:not([open]) > summary, [data-baseweb="tab"][aria-selected="false"]'
    for opener in page.locator(closed).all():
        if MAP_HEADING.search(opener.inner_text()):
            opener.click()
            page.wait_for_timeout(300)
    index = page.evaluate(
        """(pattern) => {
          const re = new RegExp(pattern, 'i');
          const main = document.querySelector('[data-testid="stMainBlockContainer"]');
          const nodes = [...main.querySelectorAll('h1, h2, h3, h4, p, summary, '
            + '[data-baseweb="tab"][aria-selected="true"], [data-testid="stVegaLiteChart"]')];
          let named = false, chart = -1;
          for (const node of nodes) {
            if (node.matches('[data-testid="stVegaLiteChart"]')) {
              chart += 1;
              if (named) return chart;
            } else { named = re.test(node.innerText); }
          }
          return -1;
        }""",
        MAP_HEADING.pattern,
    )
    if index < 0:
        return None
    return page.locator('[data-testid="stVegaLiteChart"]').nth(index)


def _away(page: Any) -> None:
    """Park the mouse off the map (so no tooltip shows) and let the map finish drawing."""
    page.mouse.move(5, 5)
    page.wait_for_timeout(600)


def _check_map(page: Any, crawl: Crawl, output_dir: Path) -> None:
    chart = _open_map(page)
    if chart is None:
        notices = page.locator('[data-testid="stAlert"]').all_inner_texts()
        crawl.map_note = f"no Vega-Lite chart right after text naming a map or network; notices: {notices}"
        return
    chart.scroll_into_view_if_needed()
    _away(page)
    crawl.map_before = bytes(chart.screenshot(path=str(output_dir / "echo-chambers-map.png")))
    _away(page)
    crawl.map_still = bytes(chart.screenshot()) == crawl.map_before  # nothing moves by itself
    box = chart.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 3)
    page.mouse.wheel(0, -400)
    _away(page)
    crawl.map_after_zoom = bytes(chart.screenshot(path=str(output_dir / "echo-chambers-map-zoomed.png")))


def _write_timings(crawl: Crawl, output_dir: Path) -> None:
    rows = {
        v.title: {
            "first_load_s": round(v.first_load_s, 3),
            "after_first_load_s": [round(t, 3) for t in v.timed_s],
            "median_s": round(v.median_s, 3),
            "max_s": round(max(v.timed_s), 3),
            "until_script_start_s__script_s__drawing_s": v.splits,
        }
        for v in crawl.visits.values()
    }
    report = {
        "budget_s": RENDER_BUDGET_S,
        "timed_visits_per_page": TIMED_VISITS,
        "viewport": VIEWPORT,
        # the machine's business while it was measured (other processes share the cores)
        "cpu_count": os.cpu_count(),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
    }
    (output_dir / "timings.json").write_text(json.dumps({**report, "pages": rows}, indent=2) + "\n")
    lines = [
        f"{'page':<22}{'first load':>11}{'median':>8}{'max':>7}  after the first load: total (script + drawing)"
    ]
    for visit in crawl.visits.values():
        timed = ", ".join(
            f"{t:.2f} ({s[1]:.2f} + {s[2]:.2f})" for t, s in zip(visit.timed_s, visit.splits, strict=True)
        )
        lines.append(
            f"{visit.title:<22}{visit.first_load_s:>10.2f}s{visit.median_s:>7.2f}s{max(visit.timed_s):>6.2f}s  {timed}"
        )
    load = f"load average {report['load_average_1m_after']} on {report['cpu_count']} CPUs"
    print("\n" + "\n".join(lines) + f"\n{load}; screenshots and timings.json in {output_dir}")


@pytest.fixture(scope="module")
def crawl(browser: Any, dashboard_url: str, output_dir: Path) -> Crawl:
    """Visit every page once (its first load, recorded and screenshotted), open the network map, then
    visit every page TIMED_VISITS more times, timing each from the click to the settled page."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        started = time.perf_counter()
        page.goto(dashboard_url, timeout=TIMEOUT_MS)
        page.wait_for_selector(NAV_LINK, state="attached", timeout=TIMEOUT_MS)
        _settle(page)
        opened = time.perf_counter() - started
        nav = page.evaluate(NAV_JS)
        result = Crawl(nav=nav, visits={}, page_errors=errors)
        result.deploy_buttons = page.locator('[data-testid="stAppDeployButton"]').count()
        for link in nav:
            visit = PageVisit(title=_nav_title(link["label"], list(KEY_TEXT)), href=link["href"])
            # the page the app opens on is already shown: its first load is opening the app
            visit.first_load_s = opened if link["current"] else _go(page, visit.href)[0]
            _record(page, visit, output_dir)
            if visit.title == "Echo chambers":
                _check_map(page, result, output_dir)
            result.visits[visit.title] = visit
        for _ in range(TIMED_VISITS):
            for visit in result.visits.values():
                took, split = _go(page, visit.href)
                visit.timed_s.append(took)
                visit.splits.append(split)
        _write_timings(result, output_dir)
        return result
    finally:
        context.close()


def _click_and_settle(page: Any, target: Any) -> None:
    page.evaluate(ARM_JS)
    target.click()
    _settle(page)


def test_every_page_renders_the_30_day_window(
    crawl: Crawl, browser: Any, dashboard_url: str, output_dir: Path
) -> None:
    """The sidebar's window switch in a real browser: last 30 days, then every page again."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        page.goto(dashboard_url, timeout=TIMEOUT_MS)
        page.wait_for_selector(NAV_LINK, state="attached", timeout=TIMEOUT_MS)
        _settle(page)
        switch = page.locator('[data-testid="stSidebar"] label').filter(has_text=re.compile(r"30 days", re.I))
        assert switch.count() == 1, "no 'last 30 days' choice in the sidebar"
        _click_and_settle(page, switch)
        broken: dict[str, list[str]] = {}
        for link in crawl.nav[1:] + crawl.nav[:1]:  # the page shown now comes last, so each click runs
            _click_and_settle(page, page.locator(f'{NAV_LINK}[href="{link["href"]}"]'))
            main = page.locator('[data-testid="stMainBlockContainer"]')
            assert re.search(r"30 days", main.inner_text(), re.I), f"{link['label']}: not showing 30 days"
            exceptions = page.locator('[data-testid="stException"]').all_inner_texts()
            if exceptions:
                broken[link["label"]] = exceptions
                slug = re.sub(r"[^a-z0-9]+", "-", link["label"].lower()).strip("-")
                _screenshot(page, output_dir / f"{slug}-30-days.png")
        assert not broken, f"exception boxes with the 30-day window: {broken}"
    finally:
        context.close()


def test_the_navigation_holds_every_page(crawl: Crawl) -> None:
    assert [link["href"] for link in crawl.nav], "no sidebar navigation links found"
    assert set(crawl.visits) == set(KEY_TEXT), f"sidebar navigation: {[link['label'] for link in crawl.nav]}"


@pytest.mark.parametrize("title", list(KEY_TEXT))
def test_page_renders_its_key_text_without_an_exception(crawl: Crawl, title: str) -> None:
    visit = crawl.visits.get(title)
    assert visit is not None, f"no {title!r} page in the navigation"
    assert not visit.exceptions, f"{title}: exception box on the page:\n" + "\n---\n".join(visit.exceptions)
    assert title in visit.headings, f"{title}: the page's title is not a heading; headings: {visit.headings}"
    missing = [p for p in KEY_TEXT[title] if not re.search(p, visit.text, re.IGNORECASE)]
    assert not missing, f"{title}: key text {missing} not on the page"
    absent = [test_id for test_id, n in visit.elements.items() if n == 0]
    assert not absent, f"{title}: no {absent} on the page"
    assert visit.screenshot is not None and visit.screenshot.stat().st_size > 10_000


def test_no_javascript_errors(crawl: Crawl) -> None:
    assert not crawl.page_errors, crawl.page_errors


def test_no_deploy_button(crawl: Crawl) -> None:
    assert crawl.deploy_buttons == 0, "the toolbar offers Streamlit's Deploy button"


def _colours(png: bytes) -> tuple[float, int]:
    """In the plot area (the top three quarters; the legend sits below), the share of pixels drawn on and
    how many distinct hues (24 bins) cover at least 100 pixels: grey edges and text add no hue."""
    whole = Image.open(io.BytesIO(png))
    image = whole.crop((0, 0, whole.width, int(whole.height * 0.75)))
    rgb = np.asarray(image.convert("RGB")).reshape(-1, 3)
    hsv = np.asarray(image.convert("HSV")).reshape(-1, 3)
    vivid = hsv[(hsv[:, 1] > 50) & (hsv[:, 2] > 80)]
    hues = np.bincount(vivid[:, 0].astype(int) * 24 // 256, minlength=24)
    return float((rgb.min(axis=1) < 235).mean()), int((hues >= 100).sum())


def test_the_network_map_draws(crawl: Crawl) -> None:
    assert crawl.map_before, crawl.map_note
    inked, colours = _colours(crawl.map_before)
    # accounts coloured by camp (the sample has four camps), edges drawn between them
    assert inked > 0.03, f"the map is almost empty ({inked:.1%} of its plot area drawn)"
    assert colours >= 4, f"the map shows {colours} distinct hues; its four camps should be coloured apart"


def test_the_network_map_zooms(crawl: Crawl) -> None:
    assert crawl.map_before, crawl.map_note
    assert crawl.map_still, "the map changed with nobody touching it: a zoom could not be told apart"
    assert crawl.map_after_zoom != crawl.map_before, "scrolling the mouse wheel over the map did not zoom it"


def test_every_page_renders_within_budget_after_the_first_load(crawl: Crawl) -> None:
    slow = {t: round(v.median_s, 2) for t, v in crawl.visits.items() if v.median_s >= RENDER_BUDGET_S}
    assert crawl.visits
    assert not slow, (
        f"pages slower than {RENDER_BUDGET_S} s after the first load (median of {TIMED_VISITS}): {slow}"
    )
