"""Issue 17 in a real browser: the gap board at 375 px, and the claim journey — a visitor finds
a micro-wish, signs in as an individual donor and comes back to it, claims it, marks it sent,
and the village committee confirms receipt."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tests.browser.conftest import PHONE, Browse, no_sideways_scroll
from web.extensions import db
from web.models import Household, Need, User, WishClaim
from web.services.accounts import hash_password

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-claims")]


def test_gap_board_fits_a_phone(browse: Browse) -> None:
    page = browse.tab(PHONE)
    page.goto(browse.server("/gaps"))
    page.get_by_role("heading", name="缺口榜").wait_for()
    no_sideways_scroll(page)
    help_link = page.get_by_role("link", name="我来帮").first
    help_link.scroll_into_view_if_needed()
    assert help_link.is_visible()
    browse.shot(page, "gap-board-375")
    # A campaign's page and its live figures work at 375 px too.
    page.goto(browse.server("/campaigns"))
    page.get_by_role("link", name="帮扶贫困户・点亮微心愿").click()
    page.get_by_role("heading", name="进度").wait_for()
    no_sideways_scroll(page)
    browse.shot(page, "campaign-375")


def test_a_donor_claims_a_wish_and_the_village_confirms(browse: Browse) -> None:
    app = browse.server.app
    with app.app_context():
        names = set(db.session.scalars(select(Household.display_name)))
        person = db.session.scalar(select(User).where(User.username == "donor-person"))
        assert person is not None
        own_name = person.display_name  # 爱心人士陈**: its own masked name may look like one
        db.session.remove()

    def names_shown(page: Any) -> list[str]:
        text = page.content().replace(own_name, "")
        return [name for name in names if name in text]

    donor = browse.tab(PHONE)
    donor.goto(browse.server("/gaps"))
    donor.get_by_role("link", name="可认领的微心愿").first.click()
    row = donor.locator("tr[id^=wish-]").first
    wish = int((row.get_attribute("id") or "").removeprefix("wish-"))
    no_sideways_scroll(donor)
    assert not names_shown(donor)  # no household named
    row.get_by_role("link", name="登录后认领").click()
    donor.get_by_label("用户名").fill("donor-person")
    donor.get_by_label("密码").fill("demo-donor-person-2026")
    donor.get_by_role("button", name="登录").click()
    donor.wait_for_load_state()
    assert donor.url.endswith(f"/wishes#wish-{wish}"), donor.url  # back at the same wish
    browse.shot(donor, "back-at-the-wish")
    donor.locator(f"#wish-{wish}").get_by_role("button", name="认领").click()
    donor.get_by_role("heading", name="我认领的微心愿").wait_for()
    no_sideways_scroll(donor)
    assert not names_shown(donor)
    browse.shot(donor, "claimed")
    donor.get_by_role("button", name="标记为已发出").first.click()
    donor.get_by_text("已标记为已发出").wait_for()

    with app.app_context():  # the committee of the wish's village
        need = db.session.get(Need, wish)
        assert need is not None
        db.session.add(User(username="claims-committee", role="village",
                            password_hash=hash_password("claims-committee-pass-2026"),
                            village_id=need.village_id))  # fmt: skip
        db.session.commit()
        db.session.remove()
    village = browse.tab(PHONE)
    browse.sign_in(village, "claims-committee", "claims-committee-pass-2026")
    village.goto(browse.server("/village/claims"))
    no_sideways_scroll(village)
    village.get_by_role("button", name="确认收货").first.click()
    village.get_by_text("已确认收到，微心愿已实现").wait_for()
    browse.shot(village, "received")
    with app.app_context():
        claim = db.session.scalar(select(WishClaim).where(WishClaim.need_id == wish))
        assert claim is not None and claim.status == "received"
        db.session.remove()
