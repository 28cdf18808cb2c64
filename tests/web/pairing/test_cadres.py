"""Cadres of households (干部包户): a household's data, so staff only. A committee names the
cadres of its own households; another village's household is refused and nothing is written;
no public page or export shows who looks after which household."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.web.conftest import Auth
from tests.web.imports.boundary import imported
from tests.web.pairing.helpers import user, xlsx
from web.extensions import db
from web.models import Household, HouseholdCadre, User
from web.services.sheets import ImportDenied, export_table_of, household_key

CADRE = "包户干部测甲"
HEADER = ["户编号", "包户干部", "干部单位", "干部职务", "干部电话"]


def _households(village_user: User) -> tuple[Household, Household]:
    own = db.session.scalar(
        select(Household).where(Household.village_id == village_user.village_id).limit(1)
    )
    other = db.session.scalar(
        select(Household).where(Household.village_id != village_user.village_id).limit(1)
    )
    assert own is not None and other is not None
    return own, other


def test_a_committee_names_its_own_households_cadres_only(demo_db: Flask) -> None:
    committee = user("village")
    own, other = _households(committee)
    before = db.session.scalar(select(func.count(HouseholdCadre.id)))
    bad = xlsx([HEADER, [household_key(own), CADRE, "贺州市财政局", "科员", "0774-1234567"],
                 [household_key(other), CADRE, "", "", ""], ["", "", "", "", "12ab"]])  # fmt: skip
    report = imported(db.session, "cadres", bad, committee)
    found = {(e.row, e.column) for e in report.errors}
    assert (3, "户编号") in found  # another village's household: not found
    assert (4, "户编号") in found and (4, "包户干部") in found and (4, "干部电话") in found
    assert db.session.scalar(select(func.count(HouseholdCadre.id))) == before  # nothing written
    assert not db.session.scalars(
        select(HouseholdCadre).where(HouseholdCadre.cadre_name == CADRE)
    ).all()
    good = xlsx([HEADER, [household_key(own), CADRE, "贺州市财政局", "科员", "0774-1234567"]])
    assert imported(db.session, "cadres", good, committee).ok
    cadre = db.session.scalar(select(HouseholdCadre).where(HouseholdCadre.household_id == own.id))
    assert cadre is not None and cadre.cadre_name == CADRE
    # the committee's export holds its own village's only; no public export exists
    table = export_table_of(db.session, "cadres", committee)
    assert CADRE in [row[1] for row in table[1:]]
    assert {row[6] for row in table[1:]} == {committee.village.code}  # type: ignore[union-attr]
    for actor in (None, user("donor"), user("township"), user("auditor")):
        try:
            export_table_of(db.session, "cadres", actor)
        except ImportDenied:
            continue
        raise AssertionError(f"cadres exported to {actor}")


def test_cadre_links_stay_off_public_pages(client: FlaskClient, auth: Auth,
                                           demo_app: Flask) -> None:  # fmt: skip
    with demo_app.app_context():
        committee = user("village")
        own, _other = _households(committee)
        household_id, village = own.id, committee.village
        assert village is not None
        code = village.code
        sheet = xlsx([HEADER, [household_key(own), CADRE, "贺州市财政局", "", ""]])
        assert imported(db.session, "cadres", sheet, committee).ok
        db.session.remove()
    for url in ("/villages", f"/villages/{code}", "/exit-list", "/public", "/api/v1/villages"):
        response = client.get(url, follow_redirects=True)
        assert response.status_code == 200, url
        assert CADRE not in response.text, url
    for username in ("donor", "township"):
        auth.login(username)
        assert client.get("/import/cadres").status_code == 403
        assert client.get(f"/village/households/{household_id}").status_code == 403
        auth.logout()
    auth.login("village")
    assert CADRE in client.get(f"/village/households/{household_id}").text
