"""Recognition (issue 17): the public honour roll, certificates and their public check page, a
donor's certificates and its choice to appear as 爱心人士, the office's recognition list."""

from __future__ import annotations

import io

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from web import clock
from web.auth import roles_required
from web.extensions import db
from web.services import certificates
from web.services.certificate_pdf import ISSUER
from web.services.certificate_pdf import render as render_pdf
from web.services.honours import PeriodError, honour_roll, parse_period
from web.services.sheets.reader import XLSX_MIMETYPE
from web.services.sheets.recognition import recognition_xlsx
from web.services.week import NotAllowed
from web.unit_of_work import unit_of_work

honours = Blueprint("honours", __name__)


@honours.context_processor
def code_helpers() -> dict[str, object]:
    """`shown_code(code)`: a certificate's code in groups of four, as printed."""
    return {"shown_code": certificates.shown_code}


@honours.get("/honours")
def roll() -> str:
    """The honour roll of a year or a quarter, optionally of one kind of donor."""
    today = clock.today()
    try:
        period = parse_period(request.args.get("year"), request.args.get("quarter"), today)
    except PeriodError as error:
        message = {
            "year": _("Year: choose a year from the list."),
            "quarter": _("Quarter: choose 1, 2, 3 or 4, or the whole year."),
        }[error.field]
        abort(400, message)
    page = honour_roll(db.session, period, request.args.get("kind") or None, today)
    return render_template("honours/roll.html", page=page)


@honours.get("/certificates")
def check_form() -> Response | str:
    """The form to type a certificate's code; a typed code goes to its check page."""
    typed = (request.args.get("code") or "").strip()
    if typed:
        code = certificates.normalise_code(typed) or typed[:40]
        return redirect(url_for("honours.check_page", cert_code=code))
    return render_template("honours/check.html", checked=None)


@honours.get("/certificates/<cert_code>")
def check_page(cert_code: str) -> tuple[str, int]:
    """Whether a certificate's code is genuine, and if so what it certifies (404 if not)."""
    checked = certificates.check(db.session, cert_code)
    return render_template("honours/check.html", checked=checked), 200 if checked.genuine else 404


@honours.get("/donor/certificates")
@roles_required("donor")
def donor_certificates() -> str:
    """The donor's confirmed deliveries and years, each with its certificate, and its choice
    to appear in public as 爱心人士."""
    page = certificates.donor_certificates(db.session, current_user.organization_id)
    return render_template("honours/donor.html", page=page)


def _issued(work: str, number: int) -> Response:
    """Issue (or find) a certificate and send the donor to its PDF."""
    try:
        with unit_of_work():
            if work == "delivery":
                certificate = certificates.issue_for_delivery(db.session, number, current_user)
            elif work == "claim":
                certificate = certificates.issue_for_claim(db.session, number, current_user)
            else:
                certificate = certificates.issue_for_year(
                    db.session, current_user.organization_id or 0, number, current_user
                )
            code = certificate.code
    except NotAllowed:
        abort(404)
    except certificates.CertificateError as error:
        flash(
            {
                "not_confirmed": _("A certificate is issued once the village confirms receipt."),
                "nothing_confirmed": _("No delivery was confirmed in that year."),
            }.get(error.code, str(error)),
            "error",
        )
        return redirect(url_for("honours.donor_certificates"))
    return redirect(url_for("honours.certificate_pdf", cert_code=code))


@honours.post("/donor/certificates/delivery/<int:allocation_id>")
@roles_required("donor")
def issue_delivery(allocation_id: int) -> Response:
    """The certificate of one confirmed delivery of the donor's (issued once)."""
    return _issued("delivery", allocation_id)


@honours.post("/donor/certificates/claim/<int:claim_id>")
@roles_required("donor")
def issue_claim(claim_id: int) -> Response:
    """The certificate of one micro-wish the donor claimed and the village received."""
    return _issued("claim", claim_id)


@honours.post("/donor/certificates/year")
@roles_required("donor")
def issue_year() -> Response:
    """The certificate of the donor's year (the year's confirmed deliveries)."""
    year = (request.form.get("year") or "").strip()
    if not year.isdigit() or not 2000 <= int(year) <= clock.today().year:
        flash(_("Year: choose a year from the list."), "error")
        return redirect(url_for("honours.donor_certificates"))
    return _issued("year", int(year))


@honours.get("/donor/certificates/<cert_code>/pdf")
@roles_required("donor", "admin")
def certificate_pdf(cert_code: str) -> Response:
    """A certificate as a printable PDF: its donor's members and administrators only."""
    certificate = certificates.own_certificate(db.session, cert_code, current_user)
    if certificate is None:
        abort(404)
    path = url_for("honours.check_page", cert_code=certificates.shown_code(certificate.code))
    base = current_app.config.get("DUIJIE_BASE_URL") or request.host_url
    data = render_pdf(
        certificate.kind,
        certificate.facts,
        certificate.code,
        certificates.local_day(certificate.issued_at),
        base.rstrip("/") + path,
        ISSUER,
    )
    return send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"certificate-{certificate.code}.pdf",
        max_age=0,
    )


@honours.post("/donor/anonymity")
@roles_required("donor")
def anonymity() -> Response:
    """The donor's choice: appear in public by name, or as 爱心人士."""
    anonymous = request.form.get("anonymous") == "1"
    try:
        with unit_of_work():
            certificates.set_public_anonymous(db.session, current_user, anonymous)
    except NotAllowed:
        abort(403)
    flash(
        _("Your organization now appears in public anonymously.")
        if anonymous
        else _("Your organization now appears in public by its name."),
        "info",
    )
    back = request.form.get("back")
    return redirect(
        url_for("account.index") if back == "account" else url_for("honours.donor_certificates")
    )


@honours.get("/admin/recognition.xlsx")
@roles_required("admin")
def recognition_list() -> Response:
    """The year's recognition list (表彰名单) as XLSX, for the office."""
    today = clock.today()
    try:
        period = parse_period(request.args.get("year"), None, today)
    except PeriodError:
        abort(400, _("Year: choose a year from the list."))
    data = recognition_xlsx(db.session, period.year)
    return send_file(
        io.BytesIO(data),
        mimetype=XLSX_MIMETYPE,
        as_attachment=True,
        download_name=f"recognition-{period.year}.xlsx",
        max_age=0,
    )
