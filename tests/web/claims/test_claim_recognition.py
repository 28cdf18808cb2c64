"""A fulfilled micro-wish is a confirmed delivery (issue 17): the individual who claimed it and
whose gift the village received is on the honour roll (as 爱心人士), can download a certificate
for it with a code anyone can check, and its year's certificate counts it; a claim not yet
received counts nowhere."""

from __future__ import annotations

import io
import re

from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from tests.web.claims.test_claims import _wish
from web.extensions import db
from web.models import Certificate, Need, Organization, User, WishClaim


def _signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    answer = client.post("/login", data={"username": username, "password": f"demo-{username}-2026"})
    assert answer.status_code == 302
    return client


def _roll_names(client: FlaskClient) -> str:
    return client.get("/honours?year=2026").get_data(as_text=True)


def _anonymous_rows(page: str) -> int:
    return page.count('<td class="donor">爱心人士</td>')


def test_a_fulfilled_micro_wish_earns_the_roll_and_a_checkable_certificate(
    demo_app: Flask,
) -> None:
    wish = _wish(demo_app, "village")
    donor = _signed_in(demo_app, "donor-person")
    with demo_app.app_context():
        person = db.session.scalar(select(User).where(User.username == "donor-person"))
        assert person is not None
        organization = db.session.get(Organization, person.organization_id)
        assert organization is not None and organization.kind == "individual"
        donor_name = organization.name
        need = db.session.get(Need, wish)
        household, village_name = need.household.display_name, need.village.name
    public = demo_app.test_client()
    before = _roll_names(public)

    assert donor.post(f"/wishes/{wish}/claim").status_code == 302
    with demo_app.app_context():
        claim_id = db.session.scalars(select(WishClaim.id).where(WishClaim.need_id == wish)).one()
    # Claimed and dispatched, not yet received: nothing on the roll, no certificate.
    assert donor.post(f"/donor/claims/{claim_id}/dispatch").status_code == 302
    refused = donor.post(f"/donor/certificates/claim/{claim_id}", follow_redirects=True)
    assert "村委会确认收到后" in refused.get_data(as_text=True) or "confirms receipt" in (
        refused.get_data(as_text=True)
    )
    assert _anonymous_rows(_roll_names(public)) == _anonymous_rows(before)

    village = _signed_in(demo_app, "village")
    assert village.post(f"/village/claims/{claim_id}/receive").status_code == 302

    # On the roll, as 爱心人士 (an individual is never named), never the household.
    after = _roll_names(public)
    assert _anonymous_rows(after) == _anonymous_rows(before) + 1
    assert donor_name not in after and household not in after

    # The donor's claims lead to the certificate; its certificates page lists the fulfilled
    # wish, and issuing it gives the PDF.
    assert f"/donor/certificates#claim-{claim_id}" in donor.get("/donor/claims").text
    listed = donor.get("/donor/certificates").get_data(as_text=True)
    assert village_name in listed and f"/donor/certificates/claim/{claim_id}" in listed
    issued = donor.post(f"/donor/certificates/claim/{claim_id}")
    assert issued.status_code == 302 and issued.location.endswith("/pdf")
    pdf = donor.get(issued.location)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    with demo_app.app_context():
        certificate = db.session.scalars(
            select(Certificate).where(Certificate.claim_id == claim_id)
        ).one()
        code = certificate.code
        assert certificate.facts["what_zh"].startswith("微心愿")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert household not in text
    # Issued once: asking again gives the same certificate.
    assert donor.post(f"/donor/certificates/claim/{claim_id}").location == issued.location

    # Anyone can check the code; the page names the village, not the household or the donor.
    checked = public.get(f"/certificates/{code}")
    body = checked.get_data(as_text=True)
    assert checked.status_code == 200 and village_name in body
    assert household not in body and donor_name not in body

    # The year's certificate counts the fulfilled wish among its deliveries.
    year = donor.post("/donor/certificates/year", data={"year": "2026"})
    assert year.status_code == 302
    with demo_app.app_context():
        latest = db.session.scalars(
            select(Certificate)
            .where(Certificate.kind == "year")
            .where(Certificate.organization_id == person.organization_id)
            .order_by(Certificate.id.desc())
        ).first()
        assert latest is not None and latest.facts["confirmations"] >= 1
        assert any(village_name in v for v in latest.facts["villages"])


def test_another_donor_cannot_issue_a_certificate_for_someone_elses_claim(
    demo_app: Flask,
) -> None:
    wish = _wish(demo_app, "village")
    claimer = _signed_in(demo_app, "donor-person")
    assert claimer.post(f"/wishes/{wish}/claim").status_code == 302
    with demo_app.app_context():
        claim_id = db.session.scalars(select(WishClaim.id).where(WishClaim.need_id == wish)).one()
    claimer.post(f"/donor/claims/{claim_id}/dispatch")
    _signed_in(demo_app, "village").post(f"/village/claims/{claim_id}/receive")
    other = _signed_in(demo_app, "donor")
    assert other.post(f"/donor/certificates/claim/{claim_id}").status_code == 404
    listed = other.get("/donor/certificates").text
    assert re.search(r"/donor/certificates/claim/\d+", listed) is None
