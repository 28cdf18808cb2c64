"""Every key page at a phone's width (375 px): nothing wider than the screen, actions reachable."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE, Browse, no_sideways_scroll

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser-phone")]

# Who looks at which page, and the button or link (by its Chinese text) they must be able to reach.
PAGES: list[tuple[str | None, str, str | None]] = [
    (None, "/villages", "筛选"),
    (None, "/public", None),
    (None, "/login", "登录"),
    (None, "/register", "注册"),
    (None, "/h/", None),
    ("donor", "/account", None),
    ("donor", "/account/tokens", None),
    ("donor", "/import/offers", None),
    ("donor", "/donor/offers", "发布供给"),
    ("donor", "/donor/offers/new", "保存供给"),
    ("donor", "/donor/allocations", None),
    ("village", "/village/needs", None),
    ("village", "/village/needs/new", None),
    ("village", "/village/wishes/new", None),
    ("village", "/village/allocations", None),
    ("village", "/village/households", None),
    ("village", "/village/households/new", None),
    ("village", "/village/requests", None),
    ("village", "/import/needs", None),
    ("township", "/township/needs", None),
    ("admin", "/admin/week", None),
    ("admin", "/admin/organizations", "通过"),
    ("admin", "/admin/accounts", None),
    ("admin", "/admin/kinds", "新增品类"),
    ("admin", "/admin/kinds/goods.school.desks/edit", "保存"),
    ("admin", "/dashboard", None),
    ("admin", "/import/accounts", None),
    ("admin", "/api/v1/docs", None),
    ("auditor", "/ledger", None),
]


@pytest.mark.parametrize("role", ["anonymous", "donor", "village", "township", "admin", "auditor"])
def test_key_pages_fit_a_phone_screen(browse: Browse, role: str) -> None:
    page = browse.tab(PHONE)
    if role != "anonymous":
        browse.sign_in(page, role)
    visited = 0
    for who, path, action in PAGES:
        if (who or "anonymous") != role:
            continue
        page.goto(browse.server(path))
        no_sideways_scroll(page)
        if action:
            target = page.get_by_role("button", name=action).or_(
                page.get_by_role("link", name=action)
            )
            target.first.scroll_into_view_if_needed()
            assert target.first.is_visible(), f"{action} cannot be reached on {path}"
        browse.shot(page, path.strip("/").replace("/", "-") or "home")
        visited += 1
    assert visited > 0
