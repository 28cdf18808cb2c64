"""The exit list (动态脱贫清单): each village's 十一有一低于 items with their evidence, the villages
nearest to exit per county, the map by items met, and marking a village exited: it leaves the
weekly run and keeps its history."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from seeds.checklist import CHECKLIST_CODES
from tests.web.conftest import Auth
from tests.web.pairing.helpers import confirmed_delivery
from web.extensions import db
from web.models import Allocation, Need, Organization, User, Village
from web.services.exit_list import COLOURS, EXITED_COLOUR, exit_list_page
from web.services.week_instance import build_week_instance, open_needs


def _village_with_open_needs() -> Village:
    village = db.session.scalar(
        select(Village)
        .join(Need, Need.village_id == Village.id)
        .where(Need.status == "open", Need.verification == "verified",
               Need.quantity > Need.allocated, Need.item_code.is_not(None),
               Village.exited_on.is_(None), Village.status == "poor")
        .order_by(Village.code)
        .limit(1)
    )  # fmt: skip
    assert village is not None
    return village


def test_nearest_to_exit_per_county_and_the_map_by_items_met(demo_db: Flask) -> None:
    page = exit_list_page(db.session)
    assert len(page.counties) == 5
    for county in page.counties:
        missing = [len(r.missing) for r in county.nearest]
        assert missing == sorted(missing) and len(county.nearest) <= 5
        # nobody on the list misses fewer items than the county's nearest
        on_list = db.session.scalars(
            select(Village).where(Village.county_id == county.county.id,
                                  Village.exited_on.is_(None))
        ).all()  # fmt: skip
        fewest = min(sum(1 for c in CHECKLIST_CODES if not (v.checklist or {}).get(c))
                     for v in on_list)  # fmt: skip
        assert missing[0] == fewest
    assert len(page.map.dots) == 267
    met_all = {d.colour for d in page.map.dots if "12/12" in d.tip}
    assert met_all <= {COLOURS[0][1]}
    assert any(" 3/12" in f" {d.tip}" or d.colour == COLOURS[-1][1] for d in page.map.dots)


def test_the_exit_list_page_is_public_and_holds_no_household_data(
    client: FlaskClient, demo_app: Flask
) -> None:
    page = client.get("/exit-list")
    assert page.status_code == 200
    assert 'class="village-dot"' in page.text and "#1a7f37" in page.text
    # a dot is titled by its name and the items it meets, not by a coverage it has not
    assert "12/12 项</title>" in page.text and "无数据" not in page.text
    with demo_app.app_context():
        from web.models import Household

        names = db.session.scalars(select(Household.display_name).limit(50)).all()
        db.session.remove()
    assert not any(name in page.text for name in names if len(name) > 1)


def test_a_village_page_shows_the_evidence_that_closed_an_item(
    client: FlaskClient, demo_app: Flask
) -> None:
    with demo_app.app_context():
        unit = db.session.scalar(select(Organization).where(Organization.key == "unit-01"))
        assert unit is not None
        village = unit.paired_villages[0]
        code = village.code
        confirmed_delivery(village.id, unit.id, 500.0, checklist_item="road")
        db.session.remove()
    page = client.get(f"/villages/{code}")
    assert page.status_code == 200
    assert "村道硬化材料" in page.text  # the confirmed need tied to the road item


def test_marking_a_village_exited_asks_first_then_takes_it_out_of_the_run(
    client: FlaskClient, auth: Auth, demo_app: Flask
) -> None:
    with demo_app.app_context():
        village = _village_with_open_needs()
        village_id, name, code = village.id, village.name, village.code
        needs = set(db.session.scalars(select(Need.id).where(Need.village_id == village_id)))
        pledges_before = db.session.scalars(
            select(Allocation.id).join(Need).where(Need.village_id == village_id)
        ).all()
        assert needs & {n.id for n in open_needs(db.session)}
        db.session.remove()
    auth.login("village")
    refused = client.post(f"/admin/villages/{village_id}/exit", data={"confirm": "yes"})
    assert refused.status_code == 403
    auth.logout()
    auth.login("admin")
    form = client.get(f"/villages/{code}").text
    assert f"/admin/villages/{village_id}/exit" in form and name in form
    # without the ticked confirmation nothing is done
    client.post(f"/admin/villages/{village_id}/exit", data={})
    with demo_app.app_context():
        assert db.session.get(Village, village_id).exited_on is None  # type: ignore[union-attr]
        db.session.remove()
    done = client.post(
        f"/admin/villages/{village_id}/exit", data={"confirm": "yes"}, follow_redirects=True
    )
    assert done.status_code == 200 and name in done.text
    with demo_app.app_context():
        exited = db.session.get(Village, village_id)
        assert exited is not None and exited.exited_on is not None
        assert exited.status == "exited" and exited.exit_year == exited.exited_on.year
        # (a village imported as exited with a year would keep that year)
        # out of the week's run: none of its needs in the instance
        assert not needs & {n.id for n in open_needs(db.session)}
        _instance, maps = build_week_instance(db.session, "2026-W48")
        assert not needs & set(maps.needs.values())
        # its history stays: its needs and pledges, its page
        kept = set(db.session.scalars(select(Need.id).where(Need.village_id == village_id)))
        assert kept == needs
        assert db.session.scalars(
            select(Allocation.id).join(Need).where(Need.village_id == village_id)
        ).all() == pledges_before
        db.session.remove()
    page = client.get(f"/villages/{code}")
    assert page.status_code == 200 and f"/admin/villages/{village_id}/exit" not in page.text
    dots = exit_colour(client)
    assert EXITED_COLOUR in dots


def exit_colour(client: FlaskClient) -> str:
    return client.get("/exit-list").text


def test_only_an_administrator_marks_a_village_exited(
    client: FlaskClient, auth: Auth, demo_app: Flask
) -> None:
    with demo_app.app_context():
        village_id = _village_with_open_needs().id
        db.session.remove()
    for username in ("township", "auditor", "donor"):
        auth.login(username)
        response = client.post(f"/admin/villages/{village_id}/exit", data={"confirm": "yes"})
        assert response.status_code == 403
        auth.logout()
    with demo_app.app_context():
        assert db.session.get(Village, village_id).exited_on is None  # type: ignore[union-attr]
        assert db.session.scalar(select(User).where(User.username == "admin")) is not None
        db.session.remove()


def test_a_village_imported_as_exited_keeps_its_year_when_marked(demo_db: Flask) -> None:
    from datetime import date

    from web.services.exit_list import ExitError, mark_exited

    village = db.session.scalar(
        select(Village).where(Village.status == "exited", Village.exit_year.is_not(None)).limit(1)
    )
    assert village is not None and village.exited_on is None
    year = village.exit_year
    mark_exited(db.session, village, date(2026, 11, 23))
    assert village.exit_year == year and village.exited_on == date(2026, 11, 23)
    try:
        mark_exited(db.session, village, date(2026, 11, 24))
    except ExitError as error:
        assert error.code == "already_exited"
    else:
        raise AssertionError("marked exited twice")
    db.session.rollback()
