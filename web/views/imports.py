"""Importing accounts, offers, needs and villages from a spreadsheet: template, upload, report."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response as BaseResponse
from wtforms import SubmitField

from web import clock
from web.auth import roles_required
from web.extensions import db
from web.jobs import import_message
from web.jobs import sheet_import as background
from web.models import ImportJob
from web.services.sheets import (
    COLUMNS,
    IMPORT_KINDS,
    MAX_IMPORT_BYTES,
    XLSX_MIMETYPE,
    ImportDenied,
    ImportFileError,
    SheetSettings,
    export_table_of,
    import_file,
    may_import,
    measure_sheet,
    table_bytes,
    template_xlsx,
)

imports = Blueprint("imports", __name__, url_prefix="/import")
# Which roles see which import page; may_import() then decides (a donor must be vetted).
ROLES = {
    "accounts": ("admin",),
    "offers": ("donor",),
    "needs": ("village", "admin"),
    "villages": ("admin",),
    "pairing": ("admin",),
    "cadres": ("village", "admin"),
}


class ImportForm(FlaskForm):
    """One spreadsheet file."""

    file = FileField(
        _l("Spreadsheet (XLSX or UTF-8 CSV)"),
        validators=[FileRequired(_l("Please choose a file."))],
    )
    submit = SubmitField(_l("Check and import"))


def _kind_for_user(kind: str) -> None:
    """404 for an unknown kind, 403 when the user's role has no such import page."""
    if kind not in IMPORT_KINDS:
        abort(404)
    if current_user.role not in ROLES[kind]:
        abort(403)


def kinds_for(role: str) -> list[str]:
    """The import pages a role has, for the links between them."""
    return [kind for kind in IMPORT_KINDS if role in ROLES[kind]]


@imports.route("/<kind>", methods=["GET", "POST"])
@login_required
def upload(kind: str) -> Response | BaseResponse:
    """The upload form; on a file, every row is checked and all or nothing is imported."""
    _kind_for_user(kind)
    denied = may_import(current_user, kind)
    form = ImportForm()
    report = file_error = None
    if denied is None and form.validate_on_submit():
        data = form.file.data.read(MAX_IMPORT_BYTES + 1)
        try:
            lines = measure_sheet(data)  # a hostile sheet is refused here, within 2 s
            if background.in_background(current_app, kind, len(data), lines):
                job = background.start_import(
                    db.session, kind, data, current_user, lines=lines, locale=str(get_locale())
                )
                return redirect(url_for("imports.job", import_job_id=job.id))
            settings = SheetSettings.from_config(current_app.config, clock.today())
            report = import_file(db.session, kind, data, current_user, settings=settings)
            if report.ok:
                db.session.commit()  # the boundary commits what the import wrote
        except ImportFileError as error:
            file_error = str(error)
        except ImportDenied:
            abort(403)
    page = render_template(
        "imports/upload.html",
        kind=kind,
        kinds=kinds_for(current_user.role),
        columns=COLUMNS[kind],
        form=form,
        report=report,
        file_error=file_error,
        denied=denied,
        max_mb=MAX_IMPORT_BYTES // (1024 * 1024),
    )
    response = make_response(page)
    if denied:
        response.status_code = 403
    if report is not None and report.passwords:
        response.headers["Cache-Control"] = "no-store"  # one-time passwords: keep no copy
    return response


def _own_job(import_job_id: int) -> ImportJob:
    """The import job, if the user uploaded it or is an administrator; else 404."""
    job = db.session.get(ImportJob, import_job_id)
    if job is None or not background.visible_to(job, current_user):
        abort(404)
    return background.check_alive(db.session, job)


@imports.get("/jobs/<int:import_job_id>")
@roles_required("admin", "village", "donor")
def job(import_job_id: int) -> Response:
    """A background import: its bar while the sheet is read, then its report (or why not)."""
    found = _own_job(import_job_id)
    page = render_template(
        "imports/job.html",
        job=found,
        kind=found.kind,
        progress=background.progress(found),
        report=background.report_of(found),
        failure=import_message(found.reason, found.error) if found.status == "failed" else None,
    )
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response


@imports.get("/jobs/<int:import_job_id>/progress")
@roles_required("admin", "village", "donor")
def job_progress(import_job_id: int) -> Response:
    """The import job's progress as JSON."""
    response = jsonify(background.progress(_own_job(import_job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@imports.get("/<kind>/template.xlsx")
@login_required
def template(kind: str) -> Response:
    """The XLSX template: the Chinese headers, an example row and a sheet explaining them."""
    _kind_for_user(kind)
    return Response(
        template_xlsx(kind, current_user, db.session),
        mimetype=XLSX_MIMETYPE,
        headers={"Content-Disposition": f"attachment; filename=duijie-{kind}-template.xlsx"},
    )


@imports.get("/<kind>/current.xlsx")
@login_required
def current(kind: str) -> Response:
    """What the user already has of this kind, in the import layout (edit it, import it again)."""
    _kind_for_user(kind)
    try:
        table = export_table_of(db.session, kind, current_user)
    except ImportDenied:
        abort(403)
    return Response(
        table_bytes(table, ".xlsx"),
        mimetype=XLSX_MIMETYPE,
        headers={"Content-Disposition": f"attachment; filename=duijie-{kind}.xlsx"},
    )
