"""Protected fields cannot be set through forms, and other people's items cannot be changed by
guessing their ids: the form is posted back as the page rendered it, plus the fields an attacker
would add (status, allocated, verification, owner, organization, village, role, vetting)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from web.extensions import db
from web.models import Need, Offer, Organization, User


class FormReader(HTMLParser):
    """The values a browser would submit from the page's forms (the last form wins a name)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, Any] = {}
        self._select: str | None = None
        self._multiple = False
        self._textarea: str | None = None
        self._first_option: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(name, a.get("value", "y"))
            elif kind not in ("submit", "file", "button"):
                self.values[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self._multiple = "multiple" in a
        elif tag == "option" and self._select:
            self._first_option.setdefault(self._select, a.get("value", ""))
            if "selected" in a:
                self._add(self._select, a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def _add(self, name: str, value: str) -> None:
        if name in self.values and isinstance(self.values[name], list):
            self.values[name].append(value)
        elif name in self.values:
            self.values[name] = [self.values[name], value]
        else:
            self.values[name] = value

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select:
            if not self._multiple:  # a browser sends nothing for a multiple select left empty
                self.values.setdefault(self._select, self._first_option.get(self._select, ""))
            self._select = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def form_of(client: FlaskClient, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200, url
    reader = FormReader()
    reader.feed(response.get_data(as_text=True))
    reader.values.pop("csrf_token", None)
    return reader.values


def login(client: FlaskClient, username: str) -> None:
    client.post("/login", data={"username": username, "password": f"demo-{username}-2026"})


def one(model: Any, *where: Any) -> Any:
    return db.session.scalars(select(model).where(*where).order_by(model.id).limit(1)).one()


def test_a_village_cannot_set_protected_need_fields(demo_app: Flask) -> None:
    client = demo_app.test_client()
    login(client, "village")
    with demo_app.app_context():
        me = one(User, User.username == "village")
        other_village = one(Need, Need.village_id != me.village_id).village_id
        need = one(Need, Need.village_id == me.village_id, Need.household_id.is_(None),
                   Need.verification == "pending", Need.status == "open")  # fmt: skip
        need_id, before = need.id, (need.status, need.allocated, need.village_id, need.quantity)
    attack = {
        "status": "closed", "allocated": "3", "verification": "verified", "village_id":
        str(other_village), "household_id": "1", "verification_note": "self-verified",
    }  # fmt: skip
    data = {**form_of(client, f"/village/needs/{need_id}/edit"), **attack, "title": "改过的标题"}
    data["confirm_duplicate"] = "y"
    assert client.post(f"/village/needs/{need_id}/edit", data=data).status_code == 302
    with demo_app.app_context():
        need = db.session.get(Need, need_id)
        assert need is not None and need.title == "改过的标题"  # the edit itself went through
        assert (need.status, need.allocated, need.village_id, need.quantity) == before
        assert need.verification == "pending" and need.household_id is None
        assert need.verification_note != "self-verified"

    data = {**form_of(client, "/village/needs/new"), **attack}
    data.update(title="新的临时救助资金", quantity="4", confirm_duplicate="y")
    assert client.post("/village/needs/new", data=data).status_code == 302
    with demo_app.app_context():
        made = one(Need, Need.title == "新的临时救助资金")
        assert made.village_id == me.village_id and made.status == "open"
        assert made.allocated == 0 and made.verification == "pending"


def test_a_donor_cannot_set_protected_offer_fields(demo_app: Flask) -> None:
    client = demo_app.test_client()
    login(client, "donor")
    with demo_app.app_context():
        me = one(User, User.username == "donor")
        other_org = one(Organization, Organization.id != me.organization_id).id
        offer = one(Offer, Offer.organization_id == me.organization_id, Offer.allocated == 0,
                    Offer.status == "open")  # fmt: skip
        offer_id = offer.id
    attack = {"status": "withdrawn", "allocated": "2", "organization_id": str(other_org),
              "vetting": "approved"}  # fmt: skip
    data = {**form_of(client, f"/donor/offers/{offer_id}/edit"), **attack, "title": "新标题"}
    data["confirm_duplicate"] = "y"
    assert client.post(f"/donor/offers/{offer_id}/edit", data=data).status_code == 302
    with demo_app.app_context():
        offer = db.session.get(Offer, offer_id)
        assert offer is not None and offer.title == "新标题"
        assert (offer.status, offer.allocated, offer.organization_id) == (
            "open", 0, me.organization_id,
        )  # fmt: skip
    data = {**form_of(client, f"/donor/offers/{offer_id}/edit"), **attack, "title": "另一份"}
    data["confirm_duplicate"] = "y"
    assert client.post("/donor/offers/new", data=data).status_code == 302
    with demo_app.app_context():
        made = one(Offer, Offer.title == "另一份")
        assert made.organization_id == me.organization_id
        assert made.status == "open" and made.allocated == 0


def test_self_registration_cannot_choose_vetting_or_role(demo_app: Flask) -> None:
    client = demo_app.test_client()
    data = {**form_of(client, "/register"), "vetting": "approved", "role": "admin"}
    data.update(name="自称已审核的公司", username="sneaky-donor", password="long-enough-pass-1")
    data.setdefault("kind", "enterprise")
    client.post("/register", data=data)
    with demo_app.app_context():
        user = db.session.scalars(select(User).where(User.username == "sneaky-donor")).first()
        assert user is not None, "registration failed: the test proves nothing"
        assert user.role == "donor"
        assert user.organization is not None and user.organization.vetting == "pending"


def test_guessed_ids_of_other_villages_and_organizations_change_nothing(demo_app: Flask) -> None:
    village, donor = demo_app.test_client(), demo_app.test_client()
    login(village, "village")
    login(donor, "donor")
    with demo_app.app_context():
        v = one(User, User.username == "village")
        d = one(User, User.username == "donor")
        own_need = one(Need, Need.village_id == v.village_id, Need.household_id.is_(None))
        other_need = one(Need, Need.village_id != v.village_id, Need.status == "open")
        own_offer = one(Offer, Offer.organization_id == d.organization_id)
        other_offer = one(Offer, Offer.organization_id != d.organization_id, Offer.status == "open")
        need_id, offer_id = other_need.id, other_offer.id
        need_title, offer_title = other_need.title, other_offer.title
        own_need_id, own_offer_id = own_need.id, own_offer.id
    data = {**form_of(village, f"/village/needs/{own_need_id}/edit"), "title": "抢来的"}
    assert village.post(f"/village/needs/{need_id}/edit", data=data).status_code == 404
    assert village.get(f"/village/needs/{need_id}/edit").status_code == 404
    data = {**form_of(donor, f"/donor/offers/{own_offer_id}/edit"), "title": "抢来的"}
    assert donor.post(f"/donor/offers/{offer_id}/edit", data=data).status_code == 404
    assert donor.post(f"/donor/offers/{offer_id}/withdraw").status_code == 404
    with demo_app.app_context():
        need, offer = db.session.get(Need, need_id), db.session.get(Offer, offer_id)
        assert need is not None and offer is not None
        assert need.title == need_title and offer.title == offer_title
        assert offer.status == "open" and need.status == "open"
