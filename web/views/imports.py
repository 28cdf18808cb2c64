"""Importing accounts, offers, needs and villages from a spreadsheet: template, upload, report."""

from __future__ import annotations

from flask import Blueprint, Response, abort, make_response, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SubmitField

from web.extensions import db
from web.services.sheets import (
    COLUMNS,
    IMPORT_KINDS,
    MAX_IMPORT_BYTES,
    XLSX_MIMETYPE,
    ImportDenied,
    ImportFileError,
    export_table_of,
    import_file,
    may_import,
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
def upload(kind: str) -> Response:
    """The upload form; on a file, every row is checked and all or nothing is imported."""
    _kind_for_user(kind)
    denied = may_import(current_user, kind)
    form = ImportForm()
    report = file_error = None
    if denied is None and form.validate_on_submit():
        data = form.file.data.read(MAX_IMPORT_BYTES + 1)
        try:
            report = import_file(db.session, kind, data, current_user)
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
