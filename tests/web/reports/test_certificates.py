"""Donation certificates: issued for a confirmed delivery or a donor's year as a PDF carrying a
code; anyone checks the code at /certificates/<code>; a changed code is refused; the figures
stay as issued; an anonymous donor stays 爱心人士 on the check page. The office's recognition
list (XLSX) is the administrator's alone."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from tests.web.conftest import Auth
from tests.web.reports.honours_support import deliver, donor, needs_in_villages, unit_value
from web.extensions import db
from web.models import Allocation, Certificate, Kind, Village
from web.services.certificates import ALPHABET, normalise_code, shown_code


def make_deliveries(app: Flask) -> dict[str, int | str]:
    """A confirmed delivery of the demo enterprise (and one not confirmed yet), and a confirmed
    one of the NGO."""
    with app.app_context():
        enterprise, ngo = donor("donor").organization, donor("donor-ngo").organization
        need, other = needs_in_villages(2)
        village = db.session.get(Village, need.village_id)
        assert village is not None
        confirmed = deliver(enterprise, need, 12)
        pledged = deliver(enterprise, other, 5, status="dispatched")
        theirs = deliver(ngo, other, 3)
        db.session.commit()
        ids: dict[str, int | str] = {
            "confirmed": confirmed.id, "pledged": pledged.id, "theirs": theirs.id,
            "village": village.name, "name": enterprise.name,
            "value": f"{round(12 * unit_value(need)):,} 元",
            "pdf_value": f"{12 * unit_value(need):,.2f} 元",
        }  # fmt: skip
        db.session.remove()
    return ids


def issue(client: FlaskClient, allocation_id: int) -> str:
    """Issue a delivery's certificate as the signed-in donor; the code from the PDF's address."""
    answer = client.post(f"/donor/certificates/delivery/{allocation_id}")
    assert answer.status_code == 302, answer.status_code
    location = answer.headers["Location"]
    assert location.endswith("/pdf"), location
    return location.rstrip("/").split("/")[-2]


def test_certificate_pdf_carries_a_checkable_code(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    ids = make_deliveries(demo_app)
    auth.login("donor")
    code = issue(client, int(ids["confirmed"]))
    assert issue(client, int(ids["confirmed"])) == code  # issued once
    pdf = client.get(f"/donor/certificates/{code}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert shown_code(code) in text and "捐" in text and str(ids["village"]) in text
    assert reader.metadata is not None and reader.metadata.subject == code
    auth.logout()
    # Anyone checks it: who, what, how much, which village, when.
    page = client.get(f"/certificates/{shown_code(code)}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "真实有效" in html
    for fact in (str(ids["name"]), str(ids["village"]), str(ids["value"]), "2026-11-10"):
        assert fact in html, fact
    # Typed loosely (lower case, spaces) through the form, it is found too.
    typed = client.get("/certificates", query_string={"code": " " + code.lower() + " "})
    assert typed.status_code == 302
    assert client.get(typed.headers["Location"]).status_code == 200


def test_a_changed_code_is_refused(demo_app: Flask, client: FlaskClient, auth: Auth) -> None:
    ids = make_deliveries(demo_app)
    auth.login("donor")
    code = issue(client, int(ids["confirmed"]))
    auth.logout()
    last = ALPHABET[(ALPHABET.index(code[-1]) + 1) % len(ALPHABET)]
    for forged in (code[:-1] + last, code[1:] + code[0], "0000-0000-0000-0000", "abc"):
        page = client.get(f"/certificates/{forged}")
        html = page.get_data(as_text=True)
        assert page.status_code == 404, forged
        assert "不是真实" in html and str(ids["name"]) not in html
    english = client.get(f"/certificates/{code[:-1] + last}?lang=en").get_data(as_text=True)
    assert "Not a genuine certificate" in english


def test_codes_are_random_and_well_formed() -> None:
    from web.services.certificates import new_code

    codes = {new_code() for _ in range(200)}
    assert len(codes) == 200 and all(len(c) == 16 and set(c) <= set(ALPHABET) for c in codes)
    assert normalise_code("abcd-efgh-jkmn-pqrs") == "ABCDEFGHJKMNPQRS"
    assert normalise_code("ABCD") is None and normalise_code("ABCDEFGHJKMNPQR!") is None


def test_figures_do_not_change_after_issue(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    ids = make_deliveries(demo_app)
    auth.login("donor")
    code = issue(client, int(ids["confirmed"]))
    with demo_app.app_context():
        allocation = db.session.get(Allocation, int(ids["confirmed"]))
        assert allocation is not None
        allocation.quantity = 99
        code_of_kind = allocation.need.item_code or allocation.need.category_code
        kind = db.session.get(Kind, code_of_kind)
        assert kind is not None
        kind.ref_value = kind.ref_value * 10
        db.session.commit()
        db.session.remove()
    html = client.get(f"/certificates/{code}").get_data(as_text=True)
    assert str(ids["value"]) in html and ">99 " not in html
    text = PdfReader(io.BytesIO(client.get(f"/donor/certificates/{code}/pdf").data)).pages[0]
    assert str(ids["pdf_value"]) in text.extract_text().replace("\n", "")


def test_only_confirmed_deliveries_get_a_certificate(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    ids = make_deliveries(demo_app)
    auth.login("donor")
    answer = client.post(f"/donor/certificates/delivery/{ids['pledged']}", follow_redirects=True)
    assert "村委会确认收到后" in answer.get_data(as_text=True)
    # Another donor's delivery is not found; nor is its certificate's PDF.
    assert client.post(f"/donor/certificates/delivery/{ids['theirs']}").status_code == 404
    auth.logout()
    auth.login("donor-ngo")
    theirs = issue(client, int(ids["theirs"]))
    auth.logout()
    auth.login("donor")
    assert client.get(f"/donor/certificates/{theirs}/pdf").status_code == 404
    with demo_app.app_context():
        assert db.session.scalar(
            select(Certificate.id).where(Certificate.allocation_id == int(ids["pledged"]))
        ) is None
        db.session.remove()


def test_year_certificate(demo_app: Flask, client: FlaskClient, auth: Auth) -> None:
    ids = make_deliveries(demo_app)
    auth.login("donor")
    answer = client.post("/donor/certificates/year", data={"year": "2026"})
    assert answer.status_code == 302
    code = answer.headers["Location"].rstrip("/").split("/")[-2]
    assert client.post("/donor/certificates/year", data={"year": "2026"}).headers[
        "Location"
    ].endswith(f"/{code}/pdf")  # the same figures: the same certificate
    text = PdfReader(io.BytesIO(client.get(f"/donor/certificates/{code}/pdf").data)).pages[0]
    assert "2026" in text.extract_text() and shown_code(code) in text.extract_text()
    page = client.get("/donor/certificates").get_data(as_text=True)
    assert code in page
    html = client.get(f"/certificates/{code}").get_data(as_text=True)
    assert str(ids["village"]) in html and str(ids["value"]) in html
    # A year without confirmed deliveries has no certificate.
    empty = client.post("/donor/certificates/year", data={"year": "2024"}, follow_redirects=True)
    assert "没有经确认的交付" in empty.get_data(as_text=True)


def test_anonymous_donor_on_the_check_page(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    ids = make_deliveries(demo_app)
    auth.login("donor")
    code = issue(client, int(ids["confirmed"]))
    client.post("/donor/anonymity", data={"anonymous": "1"})
    auth.logout()
    html = client.get(f"/certificates/{code}").get_data(as_text=True)
    assert str(ids["name"]) not in html and "爱心人士" in html and str(ids["value"]) in html


def test_donor_pages_link_to_certificates(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    make_deliveries(demo_app)
    auth.login("donor")
    for path in ("/donor/allocations", "/account"):
        assert "/donor/certificates" in client.get(path).get_data(as_text=True), path
    page = client.get("/donor/certificates").get_data(as_text=True)
    assert "/donor/certificates/delivery/" in page and "爱心人士" in page


@pytest.mark.parametrize(("lang", "heading"), [("zh_CN", "排名"), ("en", "Rank")])
def test_recognition_list_xlsx(
    demo_app: Flask, client: FlaskClient, auth: Auth, lang: str, heading: str
) -> None:
    ids = make_deliveries(demo_app)
    with demo_app.app_context():
        deliver(donor("donor").organization, needs_in_villages(1)[0], 1,
                at=datetime(2025, 3, 1, tzinfo=UTC))  # fmt: skip
        db.session.commit()
        db.session.remove()
    auth.login("admin")
    answer = client.get(f"/admin/recognition.xlsx?year=2026&lang={lang}")
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.data)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == heading
    assert [r[0] for r in rows[1:]] == list(range(1, len(rows)))
    values = [r[7] for r in rows[1:]]
    assert values == sorted(values, reverse=True)
    donors = {r[1]: r for r in rows[1:]}
    assert str(ids["name"]) in donors and donors[str(ids["name"])][7] > 0
    # 2025's list holds 2025's delivery only.
    older = load_workbook(io.BytesIO(client.get("/admin/recognition.xlsx?year=2025").data)).active
    assert older is not None and len(list(older.iter_rows(values_only=True))) == 2


@pytest.mark.parametrize("username", [None, "donor", "auditor", "village"])
def test_recognition_list_is_the_administrators(
    demo_app: Flask, client: FlaskClient, auth: Auth, username: str | None
) -> None:
    if username:
        auth.login(username)
    answer = client.get("/admin/recognition.xlsx?year=2026")
    assert answer.status_code in ((302, 401) if username is None else (403,))


def test_a_micro_wish_certificate_names_no_household(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    with demo_app.app_context():
        wish = needs_in_villages(1, wish=True)[0]
        household = wish.household
        assert household is not None
        secrets = [household.display_name, wish.title]
        allocation_id = deliver(donor("donor").organization, wish, 1).id
        db.session.commit()
        db.session.remove()
    auth.login("donor")
    code = issue(client, allocation_id)
    pdf = PdfReader(io.BytesIO(client.get(f"/donor/certificates/{code}/pdf").data))
    text = pdf.pages[0].extract_text()
    auth.logout()
    html = client.get(f"/certificates/{code}").get_data(as_text=True)
    assert "微心愿" in html and "微心愿" in text
    for secret in secrets:
        assert secret not in html and secret not in text, secret


def test_a_later_year_certificate_keeps_the_earlier_ones_figures(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    make_deliveries(demo_app)
    auth.login("donor")
    first = client.post("/donor/certificates/year", data={"year": "2026"}).headers["Location"]
    with demo_app.app_context():
        deliver(donor("donor").organization, needs_in_villages(3)[2], 30)
        db.session.commit()
        db.session.remove()
    second = client.post("/donor/certificates/year", data={"year": "2026"}).headers["Location"]
    assert first != second
    codes = [url.rstrip("/").split("/")[-2] for url in (first, second)]
    with demo_app.app_context():
        found = {
            c.code: c.facts["confirmations"]
            for c in db.session.scalars(select(Certificate).where(Certificate.code.in_(codes)))
        }
        db.session.remove()
    assert found == {codes[0]: 1, codes[1]: 2}
