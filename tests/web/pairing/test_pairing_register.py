"""The pairing register (一帮一联): the demo plan, its import and export (good and bad rows,
all or nothing), the flag on villages nobody is paired with, a village's page naming who is
responsible, and a paired unit's offers going to its villages by default."""

from __future__ import annotations

import io
import time

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from seeds.demo_pairing import UNPAIRED
from tests.web.conftest import Auth
from tests.web.imports.boundary import imported
from tests.web.offers_needs.test_journey_donor import offer_form
from tests.web.pairing.helpers import user, xlsx
from web.extensions import db
from web.models import (
    Offer,
    Organization,
    Village,
    VillagePairing,
    VillageResponsible,
)
from web.services.sheets import export_table_of, table_bytes

HEADER = ["村代码", "帮扶单位", "帮扶起始日期", "帮扶结束日期", "挂点领导", "挂点领导职务",
          "挂点领导单位", "挂点领导电话", "第一书记", "第一书记职务", "第一书记派出单位",
          "第一书记电话"]  # fmt: skip


def _register() -> list[tuple[int, int, str, str | None]]:
    db.session.expire_all()
    rows = db.session.execute(
        select(
            VillagePairing.organization_id,
            VillagePairing.village_id,
            VillagePairing.starts_on,
            VillagePairing.ends_on,
        ).order_by(VillagePairing.village_id, VillagePairing.organization_id)
    )
    return [(o, v, str(s), str(e) if e else None) for o, v, s, e in rows]


def test_demo_plan_pairs_every_village_but_a_few(demo_db: Flask) -> None:
    villages = db.session.scalar(select(func.count(Village.id)))
    paired = db.session.scalar(select(func.count(func.distinct(VillagePairing.village_id))))
    assert villages == 267
    assert paired == 267 - UNPAIRED
    # every paired village has a leader and a first secretary with placeholder names
    people = db.session.scalars(select(VillageResponsible)).all()
    assert {p.role for p in people} == {"leader", "secretary"}
    assert all(p.name.endswith("某某") for p in people)
    # paired_villages reads the register
    unit = db.session.scalar(select(Organization).where(Organization.key == "unit-01"))
    assert unit is not None
    register = set(
        db.session.scalars(
            select(VillagePairing.village_id).where(VillagePairing.organization_id == unit.id)
        )
    )
    assert register and {v.id for v in unit.paired_villages} == register


def test_unpaired_villages_are_flagged_on_the_register_and_the_board(
    client: FlaskClient, auth: Auth, demo_app: Flask
) -> None:
    with demo_app.app_context():
        paired = select(VillagePairing.village_id)
        unpaired = db.session.scalars(
            select(Village.name).where(Village.id.not_in(paired)).order_by(Village.code)
        ).all()
        db.session.remove()
    assert len(unpaired) == UNPAIRED
    auth.login("admin")
    page = client.get("/admin/pairing")
    assert page.status_code == 200
    assert page.text.count('class="unpaired-village"') == UNPAIRED
    for name in unpaired:
        assert name in page.text
    board = client.get("/dashboard")
    assert f"无帮扶单位的村：{UNPAIRED}" in board.text or f"{UNPAIRED}</a>" in board.text
    assert "/admin/pairing" in board.text


def test_whole_plan_exports_and_imports_back_unchanged_and_measured(demo_db: Flask) -> None:
    admin = user("admin")
    before = _register()
    table = export_table_of(db.session, "pairing", admin)
    data = table_bytes(table, ".xlsx", "定点帮扶方案")
    started = time.perf_counter()
    report = imported(db.session, "pairing", data, admin)
    seconds = time.perf_counter() - started
    assert report.ok, [str(e) for e in report.errors]
    assert report.rows == len(table) - 1 >= 267
    assert _register() == [(o, v, s, e) for o, v, s, e in before]
    print(f"pairing plan import: {report.rows} rows, {report.created} villages, {seconds:.2f} s")
    assert seconds < 30


def test_a_good_sheet_replaces_the_named_villages_plan(client: FlaskClient, auth: Auth,
                                                       demo_app: Flask) -> None:  # fmt: skip
    with demo_app.app_context():
        village = db.session.scalar(
            select(Village).where(Village.id.not_in(select(VillagePairing.village_id))).limit(1)
        )
        assert village is not None
        code, name = village.code, village.name
        db.session.remove()
    sheet = xlsx([
        HEADER,
        [code, "贺州市财政局", "2026-01-01", "2027-12-31", "张某某", "市财政局副局长",
         "贺州市财政局", "0774-5555555", "李某某", "驻村第一书记", "贺州市财政局", ""],
        [code, "贺州市教育局", "2026-03-01", "", "", "", "", "", "", "", "", ""],
    ])  # fmt: skip
    auth.login("admin")
    done = client.post(
        "/import/pairing", data={"file": (io.BytesIO(sheet), "plan.xlsx")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert "全部 2 行" in done.text or "2 行" in done.text, done.text
    auth.logout()
    page = client.get(f"/villages/{code}")
    assert page.status_code == 200
    for shown in (name, "贺州市财政局", "贺州市教育局", "张某某", "市财政局副局长", "李某某"):
        assert shown in page.text
    assert "0774-5555555" not in page.text  # a phone is for staff only
    auth.login("admin")
    assert "0774-5555555" in client.get(f"/villages/{code}").text


def test_bad_rows_are_named_and_nothing_is_written(demo_db: Flask) -> None:
    admin = user("admin")
    village = db.session.scalar(select(Village).order_by(Village.code).limit(1))
    assert village is not None
    before = _register()
    sheet = xlsx([
        HEADER,
        [village.code, "贺州市财政局", "2026-01-01", "", "王某某", "", "", "", "", "", "", ""],
        ["999999999999", "贺州市财政局", "2026-01-01", "", "", "", "", "", "", "", "", ""],
        [village.code, "不存在的单位", "2026-01-01", "", "", "", "", "", "", "", "", ""],
        [village.code, "贺州市教育局", "2026-05-01", "2026-01-01", "", "", "", "", "", "", "",
         ""],
        [village.code, "贺州市财政局", "2026-02-01", "", "", "", "", "", "", "", "", ""],
        [village.code, "贺州市水利局", "", "", "", "", "", "", "", "", "", ""],
        [village.code, "", "", "", "", "副局长", "", "abc", "", "", "", ""],
    ])  # fmt: skip
    report = imported(db.session, "pairing", sheet, admin)
    assert not report.ok
    found = {(e.row, e.column) for e in report.errors}
    assert (3, "村代码") in found  # unknown village
    assert (4, "帮扶单位") in found  # unknown unit
    assert (5, "帮扶结束日期") in found  # ends before it starts
    assert (6, "帮扶单位") in found  # the same unit twice for the village
    assert (7, "帮扶起始日期") in found  # a unit without its start
    assert (8, "挂点领导") in found and (8, "挂点领导电话") in found  # no name; not a phone
    assert not any(e.row == 2 for e in report.errors)
    assert report.created == 0
    assert _register() == before


def test_only_administrators_import_the_plan(client: FlaskClient, auth: Auth) -> None:
    for username in ("village", "donor", "township"):
        auth.login(username)
        assert client.get("/import/pairing").status_code == 403
        assert client.get("/import/pairing/current.xlsx").status_code == 403
        auth.logout()
    auth.login("admin")
    template = client.get("/import/pairing/template.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"


def test_paired_units_offer_form_is_prefilled_with_its_villages(
    client: FlaskClient, auth: Auth, demo_app: Flask
) -> None:
    with demo_app.app_context():
        unit = user("donor-unit").organization
        assert unit is not None
        villages = [(v.code, v.name) for v in unit.paired_villages]
        db.session.remove()
    assert len(villages) >= 2
    auth.login("donor-unit")
    form = client.get("/donor/offers/new").text
    for code, _name in villages:
        assert f'name="villages" value="{code}" checked' in form
    # the donor unticks one: the offer goes to the others only
    kept = [code for code, _ in villages[1:]]
    client.post(
        "/donor/offers/new",
        data=offer_form(counties=[], title="结对村春耕化肥两村", villages=kept, villages_shown="1"),
    )
    # the donor unticks them all: no village limit
    client.post(
        "/donor/offers/new",
        data=offer_form(counties=[], title="全市春耕化肥", villages=[], villages_shown="1",
                       confirm_duplicate="y"),
    )
    with demo_app.app_context():
        some = db.session.scalar(select(Offer).where(Offer.title == "结对村春耕化肥两村"))
        anywhere = db.session.scalar(select(Offer).where(Offer.title == "全市春耕化肥"))
        assert some is not None and anywhere is not None
        assert sorted(v.code for v in some.villages) == sorted(kept)
        assert anywhere.villages == [] and anywhere.counties == []
        db.session.remove()


def test_an_unpaired_donor_sees_no_village_boxes(client: FlaskClient, auth: Auth) -> None:
    auth.login("donor-ngo")
    assert 'name="villages"' not in client.get("/donor/offers/new").text
    page = client.get("/donor/pairing")
    assert page.status_code == 200 and "/villages/" not in page.text


def test_paired_units_page_shows_what_reached_its_villages(
    client: FlaskClient, auth: Auth, demo_app: Flask
) -> None:
    from tests.web.pairing.helpers import confirmed_delivery

    with demo_app.app_context():
        unit = user("donor-unit").organization
        assert unit is not None
        village = unit.paired_villages[0]
        name = village.name
        value = confirmed_delivery(village.id, unit.id, 1234.0)
        db.session.remove()
    auth.login("donor-unit")
    page = client.get("/donor/pairing")
    assert page.status_code == 200
    assert name in page.text
    assert f"{value:,.0f}" in page.text


def test_an_offer_naming_no_place_goes_to_the_pairings_holding_in_its_validity(
    demo_db: Flask,
) -> None:
    """The API and the offers sheet name no villages: a paired unit's offer then goes to the
    villages of its pairings that hold while the offer is valid (an ended pairing is left out)."""
    from datetime import date

    from web.services.offers import OfferInput, add_offer

    unit = user("donor-unit").organization
    assert unit is not None
    pairings = db.session.scalars(
        select(VillagePairing).where(VillagePairing.organization_id == unit.id)
    ).all()
    assert len(pairings) >= 2
    ended = pairings[0]
    ended.starts_on, ended.ends_on = date(2020, 1, 1), date(2025, 12, 31)
    db.session.flush()
    data = OfferInput(
        category="goods", title="春耕化肥", description="", quantity=10, min_lot=1,
        max_villages=None, indivisible=False, county_codes=(), dispatch_lat=None,
        dispatch_lon=None, valid_from=date(2026, 11, 1), valid_until=date(2026, 12, 31),
        general=True,
    )  # fmt: skip
    offer = add_offer(db.session, unit, data)
    assert {v.id for v in offer.villages} == {p.village_id for p in pairings[1:]}
    # naming counties instead: no village limit
    by_county = OfferInput(**{**data.__dict__, "county_codes": ("451102",)})
    offer = add_offer(db.session, unit, by_county)
    assert offer.villages == []
    db.session.rollback()
