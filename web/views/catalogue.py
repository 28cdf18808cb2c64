"""The administrator's catalogue of kinds (/admin/kinds): the tree by category with how much
each kind is used, adding, editing, retiring, restoring and deleting kinds, importing and
exporting the catalogue sheet, and the offers that wait for their kinds."""

from __future__ import annotations

import re

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response as BaseResponse
from wtforms import (
    BooleanField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired

from seeds.catalogue import split_list
from web.auth import roles_required
from web.extensions import db
from web.i18n import is_english
from web.models import Kind, Offer
from web.services import catalogue as service
from web.services.kinds import KindError, load_catalogue, offer_kinds
from web.services.sheets import MAX_IMPORT_BYTES, XLSX_MIMETYPE, ImportFileError
from web.services.sheets import catalogue as sheet
from web.views.kind_choices import kind_choices

catalogue = Blueprint("catalogue", __name__, url_prefix="/admin")

_LIST = re.compile(r"[|、,，;；\n]+")


class KindForm(FlaskForm):
    """A kind's names, unit, reference value and words; parent and code part when adding."""

    parent = SelectField(_l("Belongs under"), choices=[], validate_choice=False)
    segment = StringField(_l("Code: its own part (lowercase letters, e.g. desks)"))
    name_zh = StringField(_l("Chinese name"))
    name_en = StringField(_l("English name"))
    unit_zh = StringField(_l("Unit (Chinese)"))
    unit_en = StringField(_l("Unit (English)"))
    ref_value = StringField(_l("Reference value per unit (yuan)"))
    synonyms = TextAreaField(_l("Synonyms: words that name it in a title, separated by 、 or |"))
    alternatives = StringField(_l("Alternative kinds (codes of the same category, separated by |)"))


class StateForm(FlaskForm):
    """Retire, restore or delete a kind."""

    action = StringField(validators=[DataRequired(), AnyOf(("retire", "restore", "delete"))])


class CatalogueImportForm(FlaskForm):
    """The catalogue sheet."""

    file = FileField(
        _l("Spreadsheet (XLSX or UTF-8 CSV)"),
        validators=[FileRequired(_l("Please choose a file."))],
    )


class OfferKindsForm(FlaskForm):
    """The kinds an offer gives, or general."""

    items = SelectMultipleField(_l("Kinds it gives"), choices=[], validate_choice=False)
    general = BooleanField(_l("General: any need of its category may receive it (no kind named)"))


def _kind(code: str) -> Kind:
    try:
        return service.get_kind(db.session, code)
    except LookupError:
        abort(404)


def _words(text: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w.strip() for w in _LIST.split(text or "") if w.strip()))


def _value(text: str | None) -> float | None:
    try:
        return float((text or "").strip())
    except ValueError:
        return None


def _input(form: KindForm) -> service.KindInput:
    return service.KindInput(
        name_zh=(form.name_zh.data or "").strip(), name_en=(form.name_en.data or "").strip(),
        unit_zh=(form.unit_zh.data or "").strip(), unit_en=(form.unit_en.data or "").strip(),
        ref_value=_value(form.ref_value.data), synonyms=_words(form.synonyms.data),
        alternatives=_words(form.alternatives.data),
    )  # fmt: skip


def _parent_choices() -> list[SelectChoice]:
    """Every active kind, indented by its depth, as the parent of a new kind."""
    out = [SelectChoice("", _("Pick the kind it belongs under"))]
    for kind in service.all_kinds(db.session):
        if kind.retired:
            continue
        name = kind.name_en if is_english() else kind.name_zh
        indent = "\u3000" * kind.code.count(".")
        out.append(SelectChoice(kind.code, f"{indent}{name} · {kind.code}"))
    return out


def _offer_forms(offers: list[Offer], refused: dict[int, str]) -> dict[int, OfferKindsForm]:
    """A kinds picker per offer waiting for its kinds (with the error its choice was refused
    with, shown at the picker)."""
    choices = kind_choices(load_catalogue(db.session), parents=True)
    forms = {}
    for offer in offers:
        form = OfferKindsForm(formdata=None, prefix=f"o{offer.id}")
        form.items.choices = [
            c for c in choices if (c.render_kw or {}).get("data-category") == offer.category_code
        ]
        if offer.id in refused:
            form.items.errors = [refused[offer.id]]
        forms[offer.id] = form
    return forms


def _page(
    add_form: KindForm | None = None,
    import_form: CatalogueImportForm | None = None,
    report: sheet.KindImportReport | None = None,
    file_error: str | None = None,
    status: int = 200,
    refused: dict[int, str] | None = None,
) -> tuple[str, int]:
    if add_form is None:
        add_form = KindForm(formdata=None)
        add_form.parent.data = request.args.get("parent", "")
    add_form.parent.choices = _parent_choices()
    offers, waiting = service.unclassified_offers(db.session)
    page = render_template(
        "admin/kinds.html",
        tree=service.tree(db.session),
        add_form=add_form,
        import_form=import_form or CatalogueImportForm(formdata=None),
        state_form=StateForm(formdata=None),
        report=report,
        file_error=file_error,
        offers=offers,
        waiting=waiting,
        offer_forms=_offer_forms(offers, refused or {}),
        max_mb=MAX_IMPORT_BYTES // (1024 * 1024),
    )
    return page, status


@catalogue.get("/kinds")
@roles_required("admin")
def index() -> tuple[str, int]:
    """The catalogue by category, the form to add a kind, import and export, offers to classify."""
    return _page()


@catalogue.post("/kinds")
@roles_required("admin")
def add() -> BaseResponse | tuple[str, int]:
    """Add a kind below a parent."""
    form = KindForm()
    if form.validate_on_submit():
        try:
            kind = service.add_kind(
                db.session, form.parent.data or "", form.segment.data or "", _input(form)
            )
        except service.CatalogueError as error:
            getattr(form, error.field).errors = [error.message]
        else:
            db.session.commit()
            flash(_("Kind %(code)s added.", code=kind.code), "info")
            return redirect(url_for("catalogue.index") + f"#kind-{kind.code}")
    return _page(add_form=form, status=422)


@catalogue.route("/kinds/<code>/edit", methods=["GET", "POST"])
@roles_required("admin")
def edit(code: str) -> BaseResponse | str:
    """Change a kind's names, synonyms, alternatives and value (its unit while unused)."""
    kind = _kind(code)
    used = service.in_use(db.session, kind.code)
    form = KindForm(obj=kind) if request.method == "GET" else KindForm()
    if request.method == "GET":
        form.ref_value.data = f"{kind.ref_value:g}"
        form.synonyms.data = "、".join(split_list(kind.synonyms))
    if form.validate_on_submit():
        if used:  # the unit of a kind in use stays as it is, whatever the form says
            form.unit_zh.data, form.unit_en.data = kind.unit_zh, kind.unit_en
        try:
            service.edit_kind(db.session, kind, _input(form))
        except service.CatalogueError as error:
            getattr(form, error.field).errors = [error.message]
        else:
            db.session.commit()
            flash(_("Kind %(code)s saved.", code=kind.code), "info")
            return redirect(url_for("catalogue.index") + f"#kind-{kind.code}")
    return render_template("admin/kind_edit.html", kind=kind, form=form, used=used)


@catalogue.post("/kinds/<code>/state")
@roles_required("admin")
def change_state(code: str) -> BaseResponse:
    """Retire (with the kinds below it), restore, or delete a kind never used."""
    kind = _kind(code)
    form = StateForm()
    if not form.validate_on_submit():
        flash(_("Choose retire, restore or delete."), "error")
        return redirect(url_for("catalogue.index"))
    action = form.action.data
    try:
        if action == "retire":
            n = service.retire_kind(db.session, kind)
            db.session.commit()
            flash(_("%(code)s retired (%(n)s kinds).", code=code, n=n), "info")
        elif action == "restore":
            n = service.restore_kind(db.session, kind)
            db.session.commit()
            flash(_("%(code)s is in use again (%(n)s kinds).", code=code, n=n), "info")
        else:
            service.delete_kind(db.session, kind)
            db.session.commit()
            flash(_("%(code)s deleted.", code=code), "info")
            return redirect(url_for("catalogue.index"))
    except service.CatalogueError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(url_for("catalogue.index") + f"#kind-{code}")


@catalogue.post("/kinds/import")
@roles_required("admin")
def import_sheet() -> tuple[str, int]:
    """Check every row of a catalogue sheet; add and update kinds only when all are valid."""
    form = CatalogueImportForm()
    if not form.validate_on_submit():
        return _page(import_form=form, status=422)
    data = form.file.data.read(MAX_IMPORT_BYTES + 1)
    try:
        report = sheet.import_kinds(db.session, data)
        if report.ok:
            db.session.commit()  # the boundary commits what the import wrote
    except ImportFileError as error:
        return _page(import_form=form, file_error=str(error), status=422)
    return _page(import_form=form, report=report, status=200 if report.ok else 422)


@catalogue.get("/kinds/export.<fmt>")
@roles_required("admin")
def export(fmt: str) -> Response:
    """The catalogue in the import sheet's layout."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    mimetype = XLSX_MIMETYPE if fmt == "xlsx" else "text/csv; charset=utf-8"
    return Response(
        sheet.export_bytes(db.session, f".{fmt}"),
        mimetype=mimetype,
        headers={"Content-Disposition": f"attachment; filename=duijie-kinds.{fmt}"},
    )


@catalogue.post("/offers/<int:offer_id>/kinds")
@roles_required("admin")
def classify_offer(offer_id: int) -> BaseResponse | tuple[str, int]:
    """Name the kinds of an offer waiting in the review list, or mark it general; a refusal is
    shown at that offer's kinds picker, naming the offer."""
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        abort(404)
    form = OfferKindsForm(prefix=f"o{offer.id}")
    if not form.validate_on_submit():
        return redirect(url_for("catalogue.index"))
    if offer.general or offer.items:
        flash(_("This offer already names its kinds."), "error")
        return redirect(url_for("catalogue.index"))
    items = form.items.data or []
    if not items and not form.general.data:
        message = _("Name the kinds the offer gives, or mark it general.")
        refused = _("%(title)s: %(reason)s", title=offer.title, reason=message)
        return _page(refused={offer.id: refused}, status=422)
    try:
        kinds = offer_kinds(
            load_catalogue(db.session), offer.category_code, items, general=bool(form.general.data)
        )
        service.set_offer_kinds(db.session, offer, kinds)
        db.session.commit()
    except (KindError, service.CatalogueError) as error:
        db.session.rollback()
        refused = _("%(title)s: %(reason)s", title=offer.title, reason=error.message)
        return _page(refused={offer.id: refused}, status=422)
    flash(_("The offer %(title)s now names its kinds.", title=offer.title), "info")
    return redirect(url_for("catalogue.index") + "#review")
