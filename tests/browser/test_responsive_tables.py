"""Issue 23: every page each role can open, at a phone's 375 px and a desktop's 1280 px.

The pages are found from the app's URL map, as the access matrix finds them: every GET route,
with the role's own real ids of the demo data (tests/web/site/test_access_matrix.build_world,
plus the demo week committed and published), kept when the role is let through to an HTML page
(downloads, JSON and redirects are left out). Each page fails the test when

- a table cell is narrower than two characters of its own font, a table is wider than its
  frame, or a cell with text is hidden;
- the page is wider than the screen (a phone user would have to scroll sideways);
- a chart (figure[data-chart]) was not drawn by ECharts: no canvas, a tiny one, or a blank one;
- the browser logs a console error (a CSP refusal included), a script throws, a request
  fails or answers 4xx/5xx.

One browser, one context per role (signed in once, by the form; the household by its session),
a few pages open at once in each. Each role's landing page at 375 px is kept as a screenshot in
docs/screens/ (shown in the README).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PHONE, LiveServer
from tests.web.site.test_access_matrix import ROLES, World, _url, build_world, routes
from web.sessions import stamp

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-tables")]

SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"
SIZES = {"375px": PHONE, "1280px": DESKTOP}
PARALLEL = 2  # pages loading at once in each role's context
# A URL variable tried with several values: each import page.
VARIANTS = {"kind": ("offers", "needs", "accounts")}
# The roles whose landing page is shown in the README, by the screenshot's name.
SCREENSHOTS = {r: r for r in ("admin", "township", "village", "donor", "auditor")}
SCREENSHOTS["anon"] = "anonymous"

# Visible table cells narrower than two characters of their own font, tables wider than their
# frame, hidden cells, charts not drawn, and the page's width.
MEASURE = """() => {
  const crushed = [];
  for (const cell of document.querySelectorAll("main td, main th")) {
    const box = cell.getBoundingClientRect();
    if (!box.width || !cell.textContent.trim() || cell.closest("table.cards thead")) continue;
    const style = getComputedStyle(cell);
    const inner = cell.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (inner < 1.9 * parseFloat(style.fontSize)) {
      crushed.push(`${cell.textContent.trim().slice(0, 30)} (${Math.round(inner)} px)`);
    }
  }
  const squeezed = [];
  for (const wrap of document.querySelectorAll("main .table-wrap")) {
    if (wrap.scrollWidth > wrap.clientWidth + 1) {
      squeezed.push(`${wrap.scrollWidth} px table in ${wrap.clientWidth} px`);
    }
  }
  const hidden = [];
  for (const cell of document.querySelectorAll("main td")) {
    if (cell.textContent.trim() && getComputedStyle(cell).display === "none") {
      hidden.push(cell.textContent.trim().slice(0, 30));
    }
  }
  const charts = [];
  let drawn = 0;
  for (const figure of document.querySelectorAll("figure[data-chart]")) {
    const name = (figure.querySelector(".echart") || figure).getAttribute("aria-label") || "chart";
    const canvas = figure.querySelector(".echart canvas");
    if (!figure.classList.contains("drawn") || !canvas) {
      charts.push(`${name}: not drawn`);
      continue;
    }
    const box = canvas.getBoundingClientRect();
    if (box.width < 200 || box.height < 120) {
      charts.push(`${name}: ${Math.round(box.width)}x${Math.round(box.height)} px`);
      continue;
    }
    if (box.right > window.innerWidth + 1) charts.push(`${name}: past the screen's edge`);
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let inked = 0;
    for (let i = 3; i < pixels.length; i += 4 * 7) { if (pixels[i]) inked += 1; }
    if (inked < 200) charts.push(`${name}: blank`); else drawn += 1;
  }
  return {
    crushed, squeezed, hidden, charts, drawn,
    width: document.documentElement.scrollWidth, screen: window.innerWidth,
  };
}"""
ALL_DRAWN = """() => Array.from(document.querySelectorAll("figure[data-chart]"))
  .every((figure) => figure.classList.contains("drawn"))"""


@dataclass
class Crawl:
    """What the walk found: problems, pages visited, charts drawn, its wall time."""

    problems: list[str] = field(default_factory=list)
    visited: int = 0
    charts: int = 0
    seconds: float = 0.0
    slowest: list[tuple[float, str]] = field(default_factory=list)


def _publish_demo_week(server: LiveServer) -> int:
    """Preview, commit and publish the demo week, so every role's lists and charts have rows."""
    from seeds.demo import WEEK
    from web.extensions import db
    from web.models import AllocationRun, User
    from web.services.week import commit_run, preview_week, publish_run

    with server.app.app_context():
        found = db.session.scalars(
            select(AllocationRun).where(
                AllocationRun.status == "published", AllocationRun.week == WEEK
            )
        ).first()
        if found is not None:
            return found.id
        admin = db.session.scalars(select(User).where(User.username == "admin")).one()
        run = preview_week(db.session, WEEK, None, admin, time_limit=3.0)
        commit_run(db.session, run.id, admin)
        publish_run(db.session, run.id, admin)
        db.session.commit()
        return run.id


def _copy(row: Any) -> Any:
    """A new open copy of an offer or need, nothing allocated (its own key, same kinds)."""
    skip = {"id", "key", "allocated", "status", "created_at", "updated_at"}
    columns = {c.key: getattr(row, c.key) for c in row.__mapper__.column_attrs if c.key not in skip}
    copy = type(row)(**columns, allocated=0, status="open")
    for name in ("items", "accepts", "counties", "villages"):
        if hasattr(row, name) and hasattr(copy, name):
            setattr(copy, name, list(getattr(row, name)))
    return copy


def _untouched(app: Any) -> dict[str, dict[str, Any]]:
    """Per role, an own offer and need with nothing allocated (their edit pages open only
    then; the demo week takes the donor's offers): a copy of one when none is left."""
    from web.extensions import db
    from web.models import Need, Offer, User

    with app.app_context():
        donor = db.session.scalars(select(User).where(User.username == "donor")).one()
        village = db.session.scalars(select(User).where(User.username == "village")).one()
        found = {}
        for role, model, owner in (
            ("donor", Offer, Offer.organization_id == donor.organization_id),
            ("village", Need, Need.village_id == village.village_id),
        ):
            mine = db.session.scalars(select(model).where(owner).order_by(model.id)).all()
            free = [r for r in mine if r.allocated == 0 and r.status == "open"]
            row = free[0] if free else _copy(mine[0])
            db.session.add(row)
            db.session.flush()
            found[role] = {"offer_id" if model is Offer else "need_id": row.id}
        db.session.commit()
        db.session.remove()
    return found


def _urls(rule: Any, values: dict[str, Any], untouched: dict[str, Any]) -> Iterator[str]:
    """The rule's URLs with the role's ids, one per variant of a varied variable, and once
    more with an untouched offer or need where the rule takes one."""
    varied = [name for name in rule.arguments if name in VARIANTS]
    choices = [(varied[0], value) for value in VARIANTS[varied[0]]] if varied else [("", None)]
    seen = set()
    for name, value in choices:
        chosen = {**values, name: value} if name else values
        for extra in ({}, {k: v for k, v in untouched.items() if k in rule.arguments}):
            url = _url(rule, {**chosen, **extra})
            if url not in seen:
                seen.add(url)
                yield url


def _get_as(client: Any, world: World, role: str, url: str) -> Any:
    """GET a page as the role's browser would: with its session cookie (no API token)."""
    with client.session_transaction() as session:
        session.clear()
        if role in world.sessions:
            session["_user_id"] = world.sessions[role]
            session["_fresh"] = True
            stamp(session)
    return client.get(url)


def pages_of_every_role(server: LiveServer) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Every GET page each role opens (200, HTML, not a download), and the household's
    session cookie (it signs in by a PIN the demo data does not hold).

    A public page (one a signed-out visitor opens) is walked once, signed out: its content is
    the same for everyone, and each role's menu is on every page of its own."""
    app = server.app
    from web.extensions import db

    with app.app_context():  # before the week is committed: it takes offers' last units
        world = build_world()
        db.session.remove()
    run_id = _publish_demo_week(server)
    untouched = _untouched(app)
    client = app.test_client()
    pages: dict[str, list[str]] = defaultdict(list)
    for rule, method in routes(app):
        if method != "GET" or rule.endpoint == "static":
            continue
        if rule.rule.startswith("/api/") and rule.endpoint != "api.docs":
            continue
        for role in ROLES:
            values = {k: v[0] for k, v in world.ids[role].items()} | {"run_id": run_id}
            for url in _urls(rule, values, untouched.get(role, {})):
                response = _get_as(client, world, role, url)
                attachment = "attachment" in response.headers.get("Content-Disposition", "")
                html = response.status_code == 200 and response.mimetype == "text/html"
                public = role != "anon" and url in pages["anon"]
                if html and not attachment and not public:
                    pages[role].append(url)
    _get_as(client, world, "household", "/h/")
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None
    return dict(pages), {"name": cookie.key, "value": cookie.value}


def _problems(found: dict[str, Any], where: str) -> list[str]:
    problems = [f"{where}: cell narrower than two characters: {c}" for c in found["crushed"]]
    problems += [f"{where}: {s}" for s in found["squeezed"]]
    problems += [f"{where}: column hidden: {h}" for h in found["hidden"]]
    problems += [f"{where}: chart {c}" for c in found["charts"]]
    if found["width"] > found["screen"]:
        problems.append(f"{where}: {found['width']} px wide on a {found['screen']} px screen")
    return problems


def _check(page: Any, path: str, size: str) -> list[str]:
    """The same measures on one page of a synchronous Playwright tab (other browser tests)."""
    return _problems(page.evaluate(MEASURE), f"{size} {path}")


async def _role(
    browser: Any, base: str, role: str, urls: list[str], household: dict[str, str], crawl: Crawl
) -> None:
    """Sign the role in once, keep its landing page's screenshot, then walk its pages at both
    sizes, PARALLEL at a time."""
    context = await browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(60_000)
    page = await context.new_page()
    if role == "household":
        host = base.split("://", 1)[1].split(":")[0]
        await context.add_cookies([{**household, "domain": host, "path": "/"}])
        await page.goto(base + "/h/")
    elif role == "anon":
        await page.goto(base + "/villages")
    else:
        await page.goto(base + "/login")
        await page.get_by_label("用户名").fill(role)
        await page.get_by_label("密码").fill(f"demo-{role}-2026")
        await page.get_by_role("button", name="登录").click()
        await page.wait_for_load_state()
        assert "/login" not in page.url, f"{role} could not sign in"
    if await page.evaluate("() => document.querySelectorAll('figure[data-chart]').length"):
        await page.wait_for_function(ALL_DRAWN, timeout=20_000)
    if role in SCREENSHOTS:
        await page.screenshot(path=str(SCREENS / f"{SCREENSHOTS[role]}-375.png"))
    await page.close()
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    for url in urls:
        for size in SIZES:
            queue.put_nowait((url, size))

    async def worker() -> None:
        tab = await context.new_page()
        where = {"url": ""}
        tab.on(
            "console",
            lambda m: (
                crawl.problems.append(f"{where['url']}: console error: {m.text}")
                if m.type == "error"
                else None
            ),
        )
        tab.on("pageerror", lambda e: crawl.problems.append(f"{where['url']}: script error: {e}"))
        tab.on(
            "requestfailed",
            lambda r: (
                crawl.problems.append(f"{where['url']}: {r.url} failed: {r.failure}")
                if r.failure and "ERR_ABORTED" not in r.failure
                else None
            ),
        )
        tab.on(
            "response",
            lambda r: (
                crawl.problems.append(f"{where['url']}: {r.status} {r.url}")
                if r.status >= 400
                else None
            ),
        )
        while not queue.empty():
            url, size = queue.get_nowait()
            where["url"] = f"{role} {size} {url}"
            await tab.set_viewport_size(SIZES[size])
            started = time.monotonic()
            try:
                await tab.goto(base + url, wait_until="load")
            except Exception as error:  # a page that never loads is one problem, not the end
                crawl.problems.append(f"{where['url']}: did not load: {str(error)[:200]}")
                continue
            # A chart not drawn in time is named by MEASURE below.
            with contextlib.suppress(Exception):
                await tab.wait_for_function(ALL_DRAWN, timeout=15_000)
            found = await tab.evaluate(MEASURE)
            crawl.slowest.append((time.monotonic() - started, where["url"]))
            crawl.problems += _problems(found, where["url"])
            crawl.visited += 1
            crawl.charts += found["drawn"]
        await tab.close()

    await asyncio.gather(*(worker() for _ in range(PARALLEL)))
    await context.close()


async def _walk(
    base: str, pages: dict[str, list[str]], household: dict[str, str], crawl: Crawl
) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            roles = [_role(browser, base, r, urls, household, crawl) for r, urls in pages.items()]
            await asyncio.gather(*roles)
        finally:
            await browser.close()


def walk(server: LiveServer, pages: dict[str, list[str]], household: dict[str, str]) -> Crawl:
    """Walk every role's pages in one browser; in a thread of its own, since the async API
    cannot share the thread of the sync Playwright the other browser tests use."""
    crawl = Crawl()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(_walk(server.url, pages, household, crawl))
        except BaseException as error:  # re-raised in the test's thread
            failure.append(error)

    started = time.monotonic()
    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    crawl.seconds = time.monotonic() - started
    if failure:
        raise failure[0]
    return crawl


def test_every_page_of_every_role_reads_on_a_phone_and_a_desktop(
    live_server: LiveServer,
) -> None:
    if not CHROMIUM.exists():
        pytest.skip("chromium not installed at /usr/bin/chromium (apt-get install -y chromium)")
    SCREENS.mkdir(parents=True, exist_ok=True)
    pages, household = pages_of_every_role(live_server)
    # Every role opens pages of its own: the walk found the URL map's pages, not a few.
    assert set(pages) == set(ROLES), sorted(pages)
    assert "/dashboard" in pages["admin"] and "/donor/allocations" in pages["donor"]
    assert any(url.startswith("/admin/runs/") for url in pages["admin"])
    assert any(url.endswith("/edit") for url in pages["donor"]), pages["donor"]
    assert any(url.endswith("/edit") for url in pages["village"]), pages["village"]
    crawl = walk(live_server, pages, household)
    total = sum(len(urls) for urls in pages.values()) * len(SIZES)
    print(
        f"\nwalked {crawl.visited} pages ({total // len(SIZES)} URLs x {len(SIZES)} sizes, "
        f"{len(pages)} roles), {crawl.charts} charts drawn, in {crawl.seconds:.0f} s"
    )
    for role, urls in pages.items():
        print(f"  {role}: {len(urls)} pages: {' '.join(urls)}")
    for seconds, where in sorted(crawl.slowest, reverse=True)[:5]:
        print(f"  {seconds:5.1f} s  {where}")
    assert crawl.visited == total
    assert crawl.charts > 0
    assert not crawl.problems, f"{len(crawl.problems)} problems:\n" + "\n".join(crawl.problems)


# What the walk must refuse, on one page: a crushed column, a hidden cell, a table wider than
# its frame, a page wider than the screen, a chart never drawn and a blank one.
BROKEN = (
    """<main>
<div class="table-wrap"><table><tr>"""
    + "<td>一二三四</td>" * 30
    + """</tr>
<tr><td style="display:none">隐藏</td></tr></table></div>
<div style="width:900px">宽</div>
<figure data-chart><div class="echart" aria-label="未画"></div></figure>
<figure data-chart class="drawn"><div class="echart" aria-label="空白"><canvas width="400"
 height="300" style="width:300px;height:200px"></canvas></div></figure>
</main>"""
)


def test_the_walk_refuses_what_a_phone_user_could_not_read(browser: Any) -> None:
    page = browser.new_page(viewport=PHONE)
    try:
        page.set_content(BROKEN)
        problems = _problems(page.evaluate(MEASURE), "375px /broken")
    finally:
        page.close()
    text = "\n".join(problems)
    assert "cell narrower than two characters: 一二三四" in text
    assert "column hidden: 隐藏" in text
    assert "px table in" in text
    assert "px wide on a 375 px screen" in text
    assert "chart 未画: not drawn" in text and "chart 空白: blank" in text
