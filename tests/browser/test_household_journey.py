"""Issue 10 in a real browser, on a 375-px phone: the demo village committee invites one of its
households, which signs in with the slip's code, sets a PIN, signs in again with household
number and PIN, and asks for help; the committee accepts it as a micro-wish, the township
verifies it, an administrator pledges an offer to it, the donor dispatches it, and the household
confirms that it arrived. No page scrolls sideways."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from sqlalchemy import select

from tests.browser.conftest import PHONE, Browse, LiveServer, no_sideways_scroll

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-household")]

PIN = "258036"
# An 8x8 red PNG, small but a real picture.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGPYrCaHFTEMLQkARnA9wUDwlJ0AAAAASUVORK5CYII="
)


DONORS = ("donor", "donor-ngo", "donor-unit", "donor-person", "donor-gov")


def pledge_to(server: LiveServer, need_title: str) -> str:
    """An administrator's direct pledge of an eligible offer to the verified micro-wish,
    preferring an offer of a demo donor, published as an administrator would so that its donor
    sees it; returns that donor's username ('' if none)."""
    from web.extensions import db
    from web.models import Need, Offer, User
    from web.services.pledges import pledge, refusals
    from web.services.week import publish_run

    with server.app.app_context():
        need = db.session.scalars(select(Need).where(Need.title == need_title)).one()
        assert need.verification == "verified"
        admin = db.session.scalars(select(User).where(User.username == "admin")).one()
        members = {
            u.organization_id: u.username
            for u in db.session.scalars(select(User).where(User.username.in_(DONORS)))
        }
        offers = db.session.scalars(
            select(Offer).where(Offer.category_code == need.category_code, Offer.status == "open")
        ).all()
        eligible = [o for o in offers if not refusals(db.session, o, need, need.quantity, _today())]
        assert eligible, "no demo offer can serve the household's micro-wish"
        eligible.sort(key=lambda o: o.organization_id not in members)
        chosen = eligible[0]
        allocation = pledge(db.session, chosen.id, need.id, need.quantity, admin)
        if allocation.run.status == "committed":  # donors see published pledges only
            publish_run(db.session, allocation.run_id, admin)
        username = members.get(chosen.organization_id, "")
        db.session.commit()  # as the page would: the services flush, the boundary commits
        db.session.remove()
    return username


def _today() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC).date()


def test_a_household_asks_from_its_phone_and_confirms_delivery(
    browse: Browse, live_server: LiveServer
) -> None:
    # The committee invites one of its demo households and gets the slip.
    committee = browse.tab(PHONE)
    browse.sign_in(committee, "village")
    committee.get_by_role("link", name="农户", exact=True).click()
    assert committee.get_by_role("row").count() >= 3  # a header and the demo's households
    no_sideways_scroll(committee)
    committee.get_by_role("row").nth(1).get_by_role("link").first.click()
    committee.get_by_role("button", name="邀请并打印邀请单").click()
    code = committee.locator("#invitation-code").inner_text().strip()
    number = committee.locator("#household-number").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}", code) and number.isdigit()
    assert committee.locator(".slip-qr-box svg").is_visible()
    no_sideways_scroll(committee)
    browse.shot(committee, "slip")

    # The household opens the QR code's link: the code is filled in (from the URL's fragment,
    # which never reaches the server's logs); it sets a PIN.
    phone = browse.tab(PHONE)
    phone.goto(live_server(f"/h/#code={code}"))  # what the slip's QR code holds
    assert phone.get_by_label("邀请码").input_value() == code.replace("-", "")
    assert "code" not in phone.url  # the fragment is dropped from the address bar and history
    no_sideways_scroll(phone)
    browse.shot(phone, "start-with-code")
    phone.get_by_role("button", name="下一步").click()
    phone.get_by_label("新密码（4 到 6 位数字）").fill(PIN)
    phone.get_by_label("再输一遍密码").fill(PIN)
    no_sideways_scroll(phone)
    phone.get_by_role("button", name="保存密码").click()
    phone.get_by_role("link", name="我要求助").wait_for()

    # Later: signed out, it signs in with household number and PIN.
    phone.get_by_role("button", name="退出").click()
    phone.get_by_role("link", name="重新登录").click()
    phone.get_by_label("户号").fill(number)
    phone.get_by_label("密码", exact=True).fill(PIN)
    phone.get_by_role("button", name="登录").click()

    # It asks for help: a kind from the pictures, what, how many, a photo.
    phone.get_by_role("link", name="我要求助").click()
    phone.locator("label.hh-kind").filter(has_text="物资").click()
    phone.get_by_label("2. 需要什么？").fill("过冬的棉被")
    phone.get_by_label("3. 要几个？").fill("2")
    phone.get_by_label("4. 拍张照片（可以不拍）").set_input_files(
        {"name": "quilt.png", "mimeType": "image/png", "buffer": PNG}
    )
    no_sideways_scroll(phone)
    browse.shot(phone, "ask")
    phone.get_by_role("button", name="发送").click()
    mine = phone.locator(".hh-request").filter(has_text="过冬的棉被")
    assert "已收到" in mine.inner_text()
    no_sideways_scroll(phone)
    browse.shot(phone, "received")

    # The committee accepts it as a micro-wish within the value cap.
    committee.get_by_role("link", name="农户求助", exact=True).first.click()
    committee.get_by_role("link", name="过冬的棉被").click()
    assert committee.locator("img.request-photo").evaluate("image => image.naturalWidth") == 8
    committee.get_by_label("微心愿标题").fill("给农户两床过冬棉被")
    committee.get_by_label("估计价值（元）").fill("300")
    no_sideways_scroll(committee)
    committee.get_by_role("button", name="受理", exact=True).click()
    committee.get_by_role("row").filter(has_text="已受理为微心愿").wait_for()

    def state() -> str:
        phone.reload()
        return phone.locator("p.hh-state").inner_text().strip()

    mine.click()
    assert state() == "村里已受理"
    assert phone.locator("img.hh-photo").evaluate("image => image.naturalWidth") == 8

    # The township verifies it.
    township = browse.tab(PHONE)
    browse.sign_in(township, "township")
    township.get_by_role("link", name="审核需求").click()
    card = township.locator(".need-card").filter(has_text="给农户两床过冬棉被")
    card.get_by_role("button", name="核实通过").click()
    card.wait_for(state="detached")
    assert state() == "乡镇已核实"

    # An administrator pledges an offer to it; its donor dispatches it.
    donor_username = pledge_to(live_server, "给农户两床过冬棉被")
    assert state() == "已安排帮扶"
    if donor_username:
        donor = browse.tab(PHONE)
        browse.sign_in(donor, donor_username)
        donor.goto(live_server("/donor/allocations"))
        rows = donor.locator("li, tr").filter(has_text="给农户两床过冬棉被")
        rows.first.get_by_role("button", name="确认发货").click()
        rows.filter(has_text="已发货").first.wait_for()  # the page after the dispatch, not before
        assert state() == "正在送来"
    no_sideways_scroll(phone)
    browse.shot(phone, "help-arranged" if not donor_username else "on-its-way")

    # The household confirms that the help arrived.
    phone.get_by_role("button", name="东西已经收到了").click()
    assert phone.locator("p.hh-state").inner_text().strip() == "已送到"
    assert phone.get_by_role("button", name="东西已经收到了").count() == 0
    no_sideways_scroll(phone)
    browse.shot(phone, "delivered")

    # The committee's log of the household shows the whole story, without its name or phone.
    committee.goto(live_server(f"/village/households/{number}"))
    log = committee.locator("table").inner_text()
    for entry in ("发放邀请码", "设置了密码", "提出求助", "求助已受理", "确认收到帮扶"):
        assert entry in log
    no_sideways_scroll(committee)
    browse.shot(committee, "household-log")
