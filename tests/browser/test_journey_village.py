"""Journey 2 in a real browser: a village committee posts a need and a household's micro-wish,
the township officer verifies them, and the same need in other words is caught as a duplicate."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from tests.browser.conftest import PHONE, Browse, no_sideways_scroll

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-village")]


def test_a_committee_posts_a_need_and_a_wish_and_the_township_verifies_them(
    browse: Browse,
) -> None:
    committee = browse.tab(PHONE)
    browse.sign_in(committee, "village")
    committee.get_by_role("link", name="本村需求", exact=True).click()
    committee.get_by_role("link", name="发布需求").click()
    committee.get_by_label("类别").select_option(label="基础设施项目")
    committee.get_by_label("标题").fill("硬化村道2公里")
    committee.get_by_label("说明").fill("雨季泥泞，学生上学难")
    committee.get_by_label("数量").fill("1")
    committee.get_by_label("需要日期").fill((date.today() + timedelta(days=90)).isoformat())
    no_sideways_scroll(committee)
    browse.shot(committee, "need-filled")
    committee.get_by_role("button", name="保存需求").click()
    committee.get_by_role("row").filter(has_text="硬化村道2公里").wait_for()

    # The same need again, in other words: the matcher warns before anything is saved.
    committee.get_by_role("link", name="发布需求").click()
    committee.get_by_label("类别").select_option(label="基础设施项目")
    committee.get_by_label("标题").fill("村里道路硬化两公里")
    committee.get_by_label("数量").fill("1")
    committee.get_by_role("button", name="保存需求").click()
    warning = committee.get_by_role("alert").filter(has_text="可能重复")
    warning.wait_for()
    assert "硬化村道2公里" in warning.inner_text()
    no_sideways_scroll(committee)
    browse.shot(committee, "duplicate-warning")
    committee.get_by_role("link", name="本村需求", exact=True).click()
    assert committee.get_by_role("row").filter(has_text="村里道路硬化两公里").count() == 0

    committee.get_by_role("link", name="发布微心愿").click()
    committee.get_by_label(re.compile(r"^贫困户")).select_option(index=1)
    committee.get_by_label("心愿").fill("给孩子买一件冬季棉衣")
    committee.get_by_label("数量").fill("1")
    committee.get_by_label("估计价值（元）").fill("150")
    committee.get_by_label("核实说明").fill("村委会入户核实，孩子缺冬衣")
    browse.shot(committee, "wish-filled")
    committee.get_by_role("button", name="保存心愿").click()
    committee.get_by_role("row").filter(has_text="给孩子买一件冬季棉衣").wait_for()
    browse.shot(committee, "needs-listed")

    township = browse.tab(PHONE)
    browse.sign_in(township, "township")
    township.get_by_role("link", name="审核需求").click()
    for title in ("硬化村道2公里", "给孩子买一件冬季棉衣"):
        card = township.locator(".need-card").filter(has_text=title)
        assert "150" in card.inner_text() if title.startswith("给") else True
        card.get_by_role("button", name="核实通过").click()
        township.locator(".need-card").filter(has_text=title).wait_for(state="detached")
    no_sideways_scroll(township)
    browse.shot(township, "verified")

    committee.reload()
    for title in ("硬化村道2公里", "给孩子买一件冬季棉衣"):
        assert "已核实" in committee.get_by_role("row").filter(has_text=title).inner_text()
    browse.shot(committee, "needs-verified")


def test_a_committee_withdraws_a_need_after_saying_yes(browse: Browse) -> None:
    committee = browse.tab(PHONE)
    browse.sign_in(committee, "village")
    committee.get_by_role("link", name="本村需求", exact=True).click()
    committee.get_by_role("link", name="发布需求").click()
    committee.get_by_label("类别").select_option(label="医疗帮扶")
    committee.get_by_label("标题").fill("老人白内障免费筛查")
    committee.get_by_label("数量").fill("3")
    committee.get_by_role("button", name="保存需求").click()
    row = committee.get_by_role("row").filter(has_text="老人白内障免费筛查")
    row.wait_for()

    asked: list[str] = []
    committee.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    row.get_by_role("button", name="撤回").click()
    committee.wait_for_timeout(300)
    assert asked and "撤回" in asked[0]
    assert "已撤回" not in row.inner_text()  # "no": nothing was sent

    committee.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="撤回").click()
    committee.get_by_text("需求已撤回").wait_for()
    assert "已撤回" in row.inner_text()
    assert row.get_by_role("button", name="撤回").count() == 0
    browse.shot(committee, "need-withdrawn")
