"""Issue 17: the honour roll, a certificate's check page and a donor's certificates read on a
375-px phone (the tables become cards) and at 1280 px; the donor downloads a certificate PDF."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import DESKTOP, PHONE, Browse
from tests.browser.test_responsive_tables import _check

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-honours")]


def _deliveries(browse: Browse) -> str:
    """Confirmed deliveries of the demo enterprise and NGO; a certificate's code."""
    from tests.web.reports.honours_support import deliver, donor, needs_in_villages
    from web.extensions import db
    from web.services.certificates import issue_for_delivery
    from web.services.seeding import seed  # noqa: F401  (the server's data is the demo's)

    with browse.server.app.app_context():
        enterprise, ngo = donor("donor"), donor("donor-ngo")
        needs = needs_in_villages(3)
        first = deliver(enterprise.organization, needs[0], 20)
        deliver(enterprise.organization, needs[1], 5)
        deliver(ngo.organization, needs[2], 8)
        member = enterprise.organization.members[0]
        code = issue_for_delivery(db.session, first.id, member).code
        db.session.commit()
        db.session.remove()
    return code


def test_recognition_pages_on_a_phone(browse: Browse) -> None:
    code = _deliveries(browse)
    problems: list[str] = []
    for size, viewport in (("375px", PHONE), ("1280px", DESKTOP)):
        page: Any = browse.tab(viewport)
        for path in ("/honours", "/certificates", f"/certificates/{code}"):
            page.goto(browse.server(path))
            page.wait_for_load_state("networkidle")
            problems += _check(page, path, size)
        if size == "375px":
            page.goto(browse.server("/honours"))
            assert page.locator("table.honour-roll.cards").count() == 1
            browse.shot(page, "honour-roll-375")
        browse.sign_in(page, "donor")
        page.goto(browse.server("/donor/certificates"))
        page.wait_for_load_state("networkidle")
        problems += _check(page, "/donor/certificates", size)
        if size == "375px":
            browse.shot(page, "donor-certificates-375")
            with page.expect_download() as download:
                page.get_by_role("link", name="PDF").first.click()
            assert download.value.suggested_filename.endswith(".pdf")
    assert not problems, "\n".join(problems)
