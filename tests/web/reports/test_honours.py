"""The honour roll (/honours): ranked by confirmed delivered value, then villages, then receipt
confirmations; by year, quarter and kind of donor; only confirmed deliveries count; a donor
that chose to appear as 爱心人士 is never named in public."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient

from tests.web.conftest import Auth
from tests.web.reports.honours_support import deliver, donor, needs_in_villages, same_kind_needs
from web.extensions import db
from web.models import Organization

Q1 = datetime(2026, 2, 10, 4, 0, tzinfo=UTC)
Q4 = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)
LAST_YEAR = datetime(2025, 8, 1, 4, 0, tzinfo=UTC)


def names_in_order(html: str) -> list[str]:
    """The donor cells of the roll, top to bottom."""
    return re.findall(r'<td class="donor">([^<]*)</td>', html)


def seed_roll(app: Flask) -> dict[str, str]:
    """Enterprise: most value; NGO: less value, two villages; paired unit: the same value as
    the NGO in one village; government: only pledged, dispatched and received (unconfirmed)."""
    with app.app_context():
        enterprise, ngo = donor("donor").organization, donor("donor-ngo").organization
        unit, government = donor("donor-unit").organization, donor("donor-gov").organization
        a, b, c = same_kind_needs(3)
        deliver(enterprise, a, 100, at=Q4)
        # The NGO and the paired unit give the same value; the NGO reached two villages.
        deliver(ngo, b, 25, at=Q4)
        deliver(ngo, c, 25, at=Q1)
        deliver(unit, b, 50, at=Q4)
        for state in ("pledged", "dispatched", "received"):
            deliver(government, a, 10_000, status=state)
        deliver(ngo, a, 7, at=LAST_YEAR)
        db.session.commit()
        pairs = (("enterprise", enterprise), ("ngo", ngo), ("unit", unit), ("gov", government))
        names = {k: o.name for k, o in pairs}
        names["village_a"] = str(a.village_id)
        db.session.remove()
    return names


def test_ranked_by_confirmed_value_then_villages(demo_app: Flask, client: FlaskClient) -> None:
    names = seed_roll(demo_app)
    page = client.get("/honours?year=2026")
    assert page.status_code == 200
    order = names_in_order(page.get_data(as_text=True))
    assert order[0] == names["enterprise"]
    # Same value as the paired unit, but two villages reached: the NGO ranks above it.
    assert order.index(names["ngo"]) < order.index(names["unit"])


def test_only_confirmed_deliveries_count(demo_app: Flask, client: FlaskClient) -> None:
    names = seed_roll(demo_app)
    html = client.get("/honours?year=2026").get_data(as_text=True)
    # 10,000 units pledged, dispatched and received but never confirmed add nothing.
    assert names["gov"] not in html
    assert names["gov"] not in client.get("/honours?year=2026&kind=government").get_data(
        as_text=True
    )


def test_period_filters(demo_app: Flask, client: FlaskClient) -> None:
    names = seed_roll(demo_app)

    def roll(query: str) -> list[str]:
        return names_in_order(client.get(f"/honours{query}").get_data(as_text=True))

    assert roll("?year=2026&quarter=1") == [names["ngo"]]  # only its Q1 delivery
    fourth = roll("?year=2026&quarter=4")
    assert fourth[0] == names["enterprise"] and names["ngo"] in fourth
    assert roll("?year=2026&quarter=2") == []
    assert roll("?year=2025") == [names["ngo"]]
    # This year (the pinned 2026-11-23) is the default.
    assert roll("")[0] == names["enterprise"]
    assert client.get("/honours?quarter=5").status_code == 400
    assert client.get("/honours?year=abc").status_code == 400


def test_kind_filter(demo_app: Flask, client: FlaskClient) -> None:
    names = seed_roll(demo_app)
    ngos = names_in_order(client.get("/honours?year=2026&kind=ngo").get_data(as_text=True))
    assert ngos == [names["ngo"]]
    units = names_in_order(client.get("/honours?year=2026&kind=paired_unit").get_data(as_text=True))
    assert units == [names["unit"]]


def test_value_and_counts_shown(demo_app: Flask, client: FlaskClient) -> None:
    seed_roll(demo_app)
    html = client.get("/honours?year=2026&kind=ngo&lang=en").get_data(as_text=True)
    row = re.search(r'<td class="donor">.*?</tr>', html, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num">([^<]*)</td>', row.group(0))
    assert cells[-2:] == ["2", "2"]  # two villages, two confirmations


def test_anonymous_donor_on_every_public_page(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    names = seed_roll(demo_app)
    auth.login("donor")
    answer = client.post("/donor/anonymity", data={"anonymous": "1"})
    assert answer.status_code == 302
    with demo_app.app_context():
        org = db.session.get(Organization, donor("donor").organization.id)
        assert org is not None and org.public_anonymous
        db.session.remove()
    auth.logout()
    roll = client.get("/honours?year=2026").get_data(as_text=True)
    assert names["enterprise"] not in roll
    assert names_in_order(roll)[0] == "爱心人士"
    english = client.get("/honours?year=2026&lang=en").get_data(as_text=True)
    assert names["enterprise"] not in english and "Anonymous donor" in english
    village_api = f"/api/v1/villages/{names['village_a']}"
    for path in ("/public", village_api, "/honours?year=2026&kind=enterprise"):
        assert names["enterprise"] not in client.get(path).get_data(as_text=True), path
    # The choice is the donor's to take back.
    auth.login("donor")
    client.post("/donor/anonymity", data={"anonymous": "0"})
    auth.logout()
    assert names["enterprise"] in client.get("/honours?year=2026").get_data(as_text=True)


def test_individual_donors_always_anonymous(demo_app: Flask, client: FlaskClient) -> None:
    with demo_app.app_context():
        person = donor("donor-person").organization
        deliver(person, needs_in_villages(1)[0], 3)
        name = person.name
        db.session.commit()
        db.session.remove()
    html = client.get("/honours?year=2026&kind=individual").get_data(as_text=True)
    assert name not in html and names_in_order(html) == ["爱心人士"]


def test_no_household_data_on_the_roll(demo_app: Flask, client: FlaskClient) -> None:
    with demo_app.app_context():
        wish = needs_in_villages(1, wish=True)[0]
        household = wish.household
        assert household is not None
        secrets = [household.display_name, wish.title]
        deliver(donor("donor").organization, wish, 1)
        db.session.commit()
        db.session.remove()
    html = client.get("/honours?year=2026").get_data(as_text=True)
    for secret in secrets:
        assert secret not in html


def test_roll_in_both_languages(demo_app: Flask, client: FlaskClient) -> None:
    assert "光荣榜" in client.get("/honours").get_data(as_text=True)
    assert "Honour roll" in client.get("/honours?lang=en").get_data(as_text=True)
