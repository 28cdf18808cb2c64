"""Journey 1 in a real browser: a company registers, is vetted, and posts an offer."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.browser.conftest import PHONE, Browse, no_sideways_scroll

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-donor")]

COMPANY = "贺州市八步区惠农电商有限公司"


def test_a_company_registers_is_vetted_and_posts_an_offer(browse: Browse) -> None:
    company = browse.tab()
    company.goto(browse.server("/"))
    company.get_by_role("link", name="注册").click()
    company.get_by_label("组织名称").fill(COMPANY)
    company.get_by_label("组织类型").select_option(label="企业")
    company.get_by_label("用户名").fill("huinong")
    company.get_by_label("密码").fill("huinong-password-1")
    browse.shot(company, "register-filled")
    company.get_by_role("button", name="注册").click()
    # Registered, then signed in: not vetted yet, the company is told so and cannot post.
    browse.sign_in(company, "huinong", "huinong-password-1")
    company.get_by_role("link", name="我的供给").click()
    company.get_by_text("审核通过后").first.wait_for()
    assert company.get_by_role("link", name="发布供给").count() == 0
    browse.shot(company, "waiting-for-vetting")

    admin = browse.tab()
    browse.sign_in(admin, "admin")
    admin.get_by_role("link", name="审核组织").click()
    row = admin.get_by_role("row").filter(has_text=COMPANY)
    row.get_by_role("button", name="通过").click()
    admin.get_by_role("row").filter(has_text=COMPANY).get_by_text("已通过").wait_for()
    browse.shot(admin, "vetted")

    company.goto(browse.server("/donor/offers"))
    company.get_by_role("link", name="发布供给").click()
    _fill_offer(company, "冬季棉被", quantity="120")
    browse.shot(company, "offer-filled")
    company.get_by_role("button", name="保存供给").click()
    listed = company.get_by_role("row").filter(has_text="冬季棉被")
    listed.wait_for()
    assert "120" in listed.inner_text()
    browse.shot(company, "offer-listed")


def test_a_bad_offer_is_refused_with_the_field_named(browse: Browse) -> None:
    donor = browse.tab(PHONE)
    browse.sign_in(donor, "donor")
    donor.goto(browse.server("/donor/offers/new"))
    no_sideways_scroll(donor)
    _fill_offer(donor, "助学金", quantity="-5")
    donor.get_by_role("button", name="保存供给").click()
    error = donor.get_by_role("alert").first
    error.wait_for()
    assert "数量" in error.inner_text()
    no_sideways_scroll(donor)
    browse.shot(donor, "offer-refused-phone")


def _fill_offer(page: Any, title: str, *, quantity: str) -> None:
    """Fill the offer form as a donor would: a category, a title, how many, where, until when."""
    page.get_by_label("类别").select_option(index=1)
    page.get_by_label("标题").fill(title)
    page.get_by_label("数量", exact=True).fill(quantity)
    today = date.today()
    page.get_by_label("有效期起").fill(today.isoformat())
    page.get_by_label("有效期止").fill((today + timedelta(days=60)).isoformat())
