"""Issue 23: every role's main pages at a phone's 375 px and a desktop's 1280 px: no table cell
crushed below two characters, nothing wider than the screen, no column dropped. Each role's
landing page at 375 px is kept as a screenshot in docs/screens/ (shown in the README)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.browser.conftest import DESKTOP, PHONE, Browse, LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-tables")]

SCREENS = Path(__file__).resolve().parents[2] / "docs" / "screens"

# Each role's main pages; "{run}" is the published run made for the test.
PAGES: dict[str, list[str]] = {
    "anonymous": ["/villages", "/public"],
    "donor": ["/donor/allocations", "/donor/offers", "/account/tokens"],
    "village": [
        "/village/allocations",
        "/village/needs",
        "/village/households",
        "/village/requests",
    ],
    "township": ["/township/needs", "/dashboard", "/ledger"],
    "admin": [
        "/admin/week",
        "/admin/runs/{run}",
        "/admin/organizations",
        "/admin/accounts",
        "/admin/kinds",
        "/dashboard",
        "/ledger",
    ],
    "auditor": ["/ledger", "/dashboard"],
}

# Visible table cells narrower than two characters of their own font, and the widest things.
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
  return {
    crushed, squeezed, hidden,
    width: document.documentElement.scrollWidth, screen: window.innerWidth,
  };
}"""


def _published_run(server: LiveServer) -> int:
    """Preview, commit and publish the demo week once, so every role's lists have rows."""
    from seeds.demo import WEEK
    from web.extensions import db
    from web.models import AllocationRun, User
    from web.services.week import commit_run, preview_week, publish_run

    with server.app.app_context():
        found = db.session.scalars(
            select(AllocationRun).where(AllocationRun.status == "published")
        ).first()
        if found is not None:
            return found.id
        admin = db.session.scalars(select(User).where(User.username == "admin")).one()
        run = preview_week(db.session, WEEK, None, admin, time_limit=3.0)
        commit_run(db.session, run.id, admin)
        publish_run(db.session, run.id, admin)
        db.session.commit()
        return run.id


def _check(page: Any, path: str, size: str) -> list[str]:
    found = page.evaluate(MEASURE)
    problems = [f"{size} {path}: cell narrower than two characters: {c}" for c in found["crushed"]]
    problems += [f"{size} {path}: {s}" for s in found["squeezed"]]
    problems += [f"{size} {path}: column hidden: {h}" for h in found["hidden"]]
    if found["width"] > found["screen"]:
        problems.append(f"{size} {path}: {found['width']} px wide on a {found['screen']} px screen")
    return problems


@pytest.mark.parametrize("role", list(PAGES))
def test_every_table_reads_on_a_phone_and_a_desktop(browse: Browse, role: str) -> None:
    run = _published_run(browse.server)
    problems: list[str] = []
    for size, viewport in (("375px", PHONE), ("1280px", DESKTOP)):
        page = browse.tab(viewport)
        if role != "anonymous":
            browse.sign_in(page, role)
            landing = page.url
        else:
            landing = browse.server(PAGES[role][0])
        if size == "375px":
            page.goto(landing)
            page.wait_for_load_state("networkidle")
            SCREENS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENS / f"{role}-375.png"), full_page=False)
        for path in PAGES[role]:
            url = path.format(run=run)
            page.goto(browse.server(url))
            page.wait_for_load_state("networkidle")
            problems += _check(page, url, size)
    assert not problems, "\n".join(problems)
