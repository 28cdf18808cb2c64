"""The offer and need lists: plain rows shown exactly as the single reads, in few statements."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from tests.web.test_api_helpers import Api, api  # noqa: F401  (api is a fixture)
from web.extensions import db
from web.models import County, Need, Offer, User, Village
from web.services import listing


def _admin() -> User:
    return db.session.scalars(select(User).where(User.username == "admin")).one()


@pytest.fixture
def statements(demo_db: Flask) -> Iterator[list[str]]:
    """The statements the engine sends while the test runs (in the demo app's context)."""
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    yield sent
    event.remove(db.engine, "before_cursor_execute", count)


def _every(api: Api, path: str) -> list[dict[str, Any]]:  # noqa: F811
    body = api.get("admin", f"{path}&per_page=500").get_json()
    assert body["total"] == len(body["items"]) > 0
    return list(body["items"])


def _wishing_village(api: Api) -> str:  # noqa: F811
    """The code of a village with a household micro-wish."""
    with api.app.app_context():
        query = select(Village.code).join(Need).where(Need.household_id.is_not(None))
        return str(db.session.scalars(query.order_by(Village.id)).first())


def test_each_listed_offer_is_the_offer_as_read_alone(api: Api) -> None:  # noqa: F811
    with api.app.app_context():
        offer = db.session.scalars(
            select(Offer).where(Offer.category_code == "goods").order_by(Offer.id)
        ).first()
        assert offer is not None
        offer.villages = list(
            db.session.scalars(select(Village).order_by(Village.id.desc()).limit(3))
        )
        db.session.commit()
    items = _every(api, "/offers?category=goods")
    assert any(item["counties"] for item in items)
    assert any(item["village_ids"] for item in items)
    for item in items:
        assert api.get("admin", f"/offers/{item['id']}").get_json() == item


def test_each_listed_need_is_the_need_as_read_alone(api: Api) -> None:  # noqa: F811
    items = _every(api, f"/needs?village={_wishing_village(api)}")
    assert any(item["is_wish"] for item in items)
    for item in items:
        assert api.get("admin", f"/needs/{item['id']}").get_json() == item


@pytest.mark.parametrize("kind", ["offers", "needs"])
def test_every_page_tells_the_same_total(api: Api, kind: str) -> None:  # noqa: F811
    path = (
        "/offers?category=goods" if kind == "offers" else f"/needs?village={_wishing_village(api)}"
    )
    everything = api.get("admin", f"{path}&per_page=500").get_json()
    total = everything["total"]
    ids = []
    for page in range(1, total // 3 + 3):  # up to a page past the last
        body = api.get("admin", f"{path}&per_page=3&page={page}").get_json()
        assert body["total"] == total, page
        ids.extend(item["id"] for item in body["items"])
    assert ids == [item["id"] for item in everything["items"]]
    nowhere = api.get("admin", f"/{kind}?county=nowhere").get_json()
    assert (nowhere["total"], nowhere["items"]) == (0, [])


def test_an_offer_page_takes_four_statements_at_most(statements: list[str]) -> None:
    county = db.session.scalars(select(County).order_by(County.id)).first()
    assert county is not None
    admin = _admin()
    filters = listing.Filters(county=county.name)
    everything = listing.offers(db.session, admin, filters, 1, 500)
    assert everything.total > 2
    statements.clear()
    page = listing.offers(db.session, admin, filters, 2, 1)
    # the county's id, the page with the donors' names, the count, the destinations
    assert len(statements) == 4 and page.total == everything.total
    statements.clear()
    last = listing.offers(db.session, admin, filters, 1, 500)
    assert len(statements) == 3 and last.total == everything.total  # a short page: no count


def test_a_need_page_takes_three_statements_at_most(statements: list[str]) -> None:
    village = db.session.scalars(select(Village).order_by(Village.id)).first()
    assert village is not None
    admin = _admin()
    filters = listing.Filters(township=village.township.code)
    total = db.session.scalar(
        select(func.count())
        .select_from(Need)
        .join(Village, Village.id == Need.village_id)
        .where(Village.township_id == village.township_id)
    )
    assert total and total > 2
    statements.clear()
    page = listing.needs(db.session, admin, filters, 2, 1)
    # the township's id, the page with the places' names, the count
    assert len(statements) == 3 and page.total == total
