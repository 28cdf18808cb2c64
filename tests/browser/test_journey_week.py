"""Journey 3 in a real browser: the administrator's week, then delivery to the village.

Preview (the map draws its 267 villages, the charts draw), change a weight and preview again,
commit, publish; the donor confirms dispatch, the village confirms receipt with a photo, and
the public record shows the pledge without any household's personal data.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.browser.conftest import PHONE, Browse, LiveServer, no_sideways_scroll

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-week")]


def _png(path: Path) -> Path:
    """A small real PNG, as a phone camera would produce a JPEG: 8 x 8 green pixels."""
    raw = b"".join(b"\x00" + b"\x20\xa0\x40" * 8 for _ in range(8))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return path


def _preview(page: object, browse: Browse) -> None:
    """Wait through the job's progress bar until the preview can be committed."""
    page.get_by_role("button", name="提交分配").wait_for(timeout=120_000)  # type: ignore[attr-defined]


def _pledge_for_the_village(server: LiveServer) -> tuple[str, str, str]:
    """A pledge of the published run to the demo committee's village from a donor with a login:
    (donor username, need title, village name). The test knows whom to sign in as, as a person
    would."""
    from web.extensions import db
    from web.models import Allocation, Need, Offer, User, Village

    with server.app.app_context():
        committee = db.session.scalars(select(User).where(User.username == "village")).one()
        rows = db.session.execute(
            select(User.username, Need.title, Village.name)
            .select_from(Allocation)
            .join(Need, Need.id == Allocation.need_id)
            .join(Village, Village.id == Need.village_id)
            .join(Offer, Offer.id == Allocation.offer_id)
            .join(User, User.organization_id == Offer.organization_id)
            .where(Need.village_id == committee.village_id, Allocation.status == "pledged")
            .order_by(Allocation.id)
        ).all()
    assert rows, "the published week pledged nothing to the demo village from a donor with a login"
    return rows[0][0], rows[0][1], rows[0][2]


def _household_names(server: LiveServer) -> list[str]:
    from web.extensions import db
    from web.models import Household

    with server.app.app_context():
        return [h.display_name for h in db.session.scalars(select(Household))]


def test_the_week_is_previewed_committed_published_and_delivered(
    browse: Browse, tmp_path: Path
) -> None:
    admin = browse.tab()
    browse.sign_in(admin, "admin")
    admin.get_by_role("link", name="每周分配").click()
    admin.get_by_label("时间限制（秒）").fill("3")
    admin.get_by_role("button", name="预览分配").click()
    admin.locator("progress").or_(admin.get_by_role("button", name="提交分配")).first.wait_for()
    browse.shot(admin, "preview-running")
    _preview(admin, browse)
    # The map and the charts are drawn by ECharts (a canvas each); the SVG map stays in the
    # page as what it shows without JavaScript.
    assert admin.locator("svg.map circle.village-dot").count() == 267
    charts = admin.locator("figure.chart.drawn .echart canvas")
    charts.nth(2).wait_for()
    assert charts.count() >= 3
    assert all(charts.nth(i).bounding_box()["height"] > 100 for i in range(3))
    first_url = admin.url
    browse.shot(admin, "preview-map")

    admin.get_by_label("碎片化惩罚").fill("10")
    admin.get_by_role("button", name="预览分配").click()
    admin.wait_for_url(lambda url: url != first_url and re.search(r"/admin/runs/\d+$", url))
    _preview(admin, browse)
    assert admin.locator("svg.map circle.village-dot").count() == 267
    browse.shot(admin, "preview-again")
    # Committing asks first, naming how many pledges it makes; "cancel" sends nothing.
    asked: list[str] = []
    admin.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    admin.get_by_role("button", name="提交分配").click()
    assert asked and "条认捐" in asked[0] and "本周不能再次提交" in asked[0], asked
    assert admin.get_by_role("button", name="提交分配").is_visible()
    admin.once("dialog", lambda dialog: dialog.accept())
    admin.get_by_role("button", name="提交分配").click()
    admin.get_by_role("button", name="发布").wait_for(timeout=60_000)
    browse.shot(admin, "committed")
    admin.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    admin.get_by_role("button", name="发布").click()
    admin.get_by_text("已发布").first.wait_for()
    assert "不能撤回" in asked[-1], asked
    browse.shot(admin, "published")
    # The week's first preview is now superseded: marked so, with nothing left to commit.
    admin.goto(first_url)
    assert admin.get_by_text("已被取代").first.is_visible()
    assert admin.get_by_role("button", name="提交分配").count() == 0

    donor_name, need_title, village_name = _pledge_for_the_village(browse.server)
    donor = browse.tab()
    browse.sign_in(donor, donor_name)
    donor.get_by_role("link", name="我们的对接").click()
    # The same need title can come from several villages: the row names the village too.
    rows = donor.get_by_role("row").filter(has_text=need_title).filter(has_text=village_name)
    rows.first.get_by_role("button", name="确认发货").click()
    rows.filter(has_text="已发货").first.wait_for()
    browse.shot(donor, "dispatched")

    committee = browse.tab(PHONE)
    browse.sign_in(committee, "village")
    committee.get_by_role("link", name="分配给本村的帮扶").click()
    card = committee.locator("li.card").filter(has_text=need_title).filter(has_text="已发货").first
    card.get_by_label("评分").select_option("5")
    card.locator("textarea").first.fill("已收到，数量无误，感谢帮扶")
    card.locator("input[type=file]").set_input_files(str(_png(tmp_path / "receipt.png")))
    no_sideways_scroll(committee)
    browse.shot(committee, "receipt-filled")
    card.get_by_role("button", name="确认收货").click()
    confirmed = committee.locator("li.card").filter(has_text=need_title).filter(has_text="已确认")
    confirmed.first.wait_for()
    # The photo is fetched after the page has loaded: wait for it rather than test a 0 x 0 box.
    photo = confirmed.first.locator("img.receipt-photo")
    photo.wait_for(state="visible")
    assert photo.evaluate("img => img.decode().then(() => img.naturalWidth)") == 8
    browse.shot(committee, "receipt-confirmed")

    public = browse.tab(PHONE)
    public.goto(browse.server("/public"))
    text = public.locator("main").inner_text()
    assert need_title in text or "微心愿" in text
    no_sideways_scroll(public)
    for name in _household_names(browse.server):
        assert name not in text, f"household name {name} on the public page"
    browse.shot(public, "public-record")
