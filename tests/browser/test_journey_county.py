"""Issue 16 in a real browser at phone width: the county office (八步区) signs in, lands on its
queue with its count to do, verifies one need, and opens the weekly bulletin (tables as cards)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE, Browse, no_sideways_scroll

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-county")]


def test_the_county_office_verifies_a_need_and_reads_its_bulletin(browse: Browse) -> None:
    page = browse.tab(PHONE)
    browse.sign_in(page, "county")
    assert page.url.endswith("/county"), page.url
    page.get_by_role("heading", name="县区待办").wait_for()
    todo = page.locator("a.todo .badge")
    before = int(todo.inner_text().replace(",", ""))
    assert before > 0
    no_sideways_scroll(page)
    browse.shot(page, "queue")

    first = page.locator(".need-card").first
    card = first.get_attribute("id")
    first.get_by_role("button", name="核实").click()
    page.get_by_role("status").filter(has_text="已核实").wait_for()
    after = int(page.locator("a.todo .badge").inner_text().replace(",", ""))
    assert after == before - 1
    assert page.locator(f"#{card}").count() == 0  # verified: it left the queue
    browse.shot(page, "verified")

    page.get_by_role("link", name="周通报").first.click()
    page.get_by_role("heading", name="周通报").first.wait_for()
    tables = page.locator("table.bulletin-table")
    assert tables.count() == 2
    assert page.locator("#bulletin-townships").evaluate("t => t.classList.contains('cards')")
    assert page.locator("#bulletin-townships td[data-label]").count() > 0
    no_sideways_scroll(page)
    browse.shot(page, "bulletin")

    for path in ("/county/villages", "/county/share"):
        page.goto(browse.server(path))
        page.wait_for_load_state()
        no_sideways_scroll(page)


def test_the_city_bulletin_prints_on_a4_without_the_menu(browse: Browse) -> None:
    # A4 landscape less 10 mm margins, at 96 px per inch: 277 mm ≈ 1047 px wide.
    page = browse.tab({"width": 1047, "height": 740})
    browse.sign_in(page, "admin")
    page.goto(browse.server("/admin/bulletin"))
    page.get_by_role("heading", name="周通报").first.wait_for()
    page.emulate_media(media="print")
    assert page.locator("header.topbar").evaluate("e => getComputedStyle(e).display") == "none"
    assert page.locator("form.filters").evaluate("e => getComputedStyle(e).display") == "none"
    for table in ("#bulletin-counties", "#bulletin-townships"):
        width = page.locator(table).evaluate("t => t.getBoundingClientRect().width")
        assert width <= 1047, f"{table} is {width} px wide, wider than A4"
    no_sideways_scroll(page)
    browse.shot(page, "city-bulletin-print")
