"""The pairing register's and the exit list's pages at a phone's width (375 px): nothing wider
than the screen, and an administrator marks a village exited on its page, confirming first."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.browser.conftest import PHONE, Browse, no_sideways_scroll

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-pairing")]


def _village(browse: Browse) -> tuple[str, str]:
    from web.extensions import db
    from web.models import Village, VillagePairing

    with browse.server.app.app_context():
        village = db.session.scalar(
            select(Village)
            .where(Village.id.in_(select(VillagePairing.village_id)))
            .order_by(Village.code)
            .limit(1)
        )
        assert village is not None
        found = village.code, village.name
        db.session.remove()
    return found


def test_pairing_and_exit_pages_fit_a_phone(browse: Browse) -> None:
    code, name = _village(browse)
    page = browse.tab(PHONE)
    for path in ("/exit-list", f"/villages/{code}"):
        page.goto(browse.server(path))
        no_sideways_scroll(page)
        browse.shot(page, path.strip("/").replace("/", "-"))
    assert "挂点领导" in page.content() and "第一书记" in page.content()
    donor = browse.tab(PHONE)
    browse.sign_in(donor, "donor-unit")
    for path in ("/donor/pairing", "/donor/offers/new"):
        donor.goto(browse.server(path))
        no_sideways_scroll(donor)
        browse.shot(donor, path.strip("/").replace("/", "-"))
    admin = browse.tab(PHONE)
    browse.sign_in(admin, "admin")
    for path in ("/admin/pairing", "/import/pairing", "/dashboard"):
        admin.goto(browse.server(path))
        no_sideways_scroll(admin)
        browse.shot(admin, path.strip("/").replace("/", "-"))
    # Marking a village exited asks first, naming the village (forms.js's dialog).
    admin.goto(browse.server(f"/villages/{code}"))
    no_sideways_scroll(admin)
    asked: list[str] = []

    def answer(dialog: object) -> None:
        asked.append(dialog.message)  # type: ignore[attr-defined]
        dialog.accept()  # type: ignore[attr-defined]

    admin.on("dialog", answer)
    button = admin.get_by_role("button", name=f"将{name}标记为脱贫出列")
    button.scroll_into_view_if_needed()
    button.click()
    admin.wait_for_load_state()
    assert asked and name in asked[0]
    assert "已标记为脱贫出列" in admin.content()
    browse.shot(admin, "village-exited")
