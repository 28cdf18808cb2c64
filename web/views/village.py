"""Journey 2: a village committee posts needs and micro-wishes; its township verifies them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from matcher.categories import CATEGORIES
from seeds.checklist import CHECKLIST_ITEMS
from web.auth import roles_required
from web.caching import cached_page
from web.extensions import db
from web.forms import DecisionForm, NeedForm, NeedKindForm, VerifyForm, WishForm
from web.i18n import category_name, is_english
from web.models import Need
from web.services import catalogue as catalogue_service
from web.services import needs as service
from web.services.kinds import KindError, need_kind, request_catalogue
from web.unit_of_work import unit_of_work
from web.views import confirming
from web.views.kind_choices import kind_choices
from web.views.pagination import BadPagination, parse_pagination

village = Blueprint("village", __name__)
village.context_processor(confirming.template_helpers)


def _need_form(need: Need | None = None) -> NeedForm:
    """The need form with its choices (and the need's values on a first GET)."""
    form = NeedForm(obj=need) if need is not None else NeedForm()
    form.kept = {"deadline": need.deadline} if need is not None else {}
    form.category.choices = [SelectChoice(c.code, category_name(c.code)) for c in CATEGORIES]
    choices = kind_choices(request_catalogue(db.session), parents=False)
    form.item.choices = [SelectChoice("", _("Recognise it from the title")), *choices]
    form.accepts.choices = choices
    form.checklist_item.choices = [SelectChoice("", _("None"))] + [
        SelectChoice(code, en if is_english() else zh) for code, zh, en in CHECKLIST_ITEMS
    ]
    if need is not None and not form.is_submitted():
        form.category.data = need.category_code
        form.quantity.data = str(need.quantity)
        form.urgency.data = str(need.urgency)
        form.checklist_item.data = need.checklist_item or ""
        form.item.data = need.item_code or ""
        form.accepts.data = need.accept_codes
    return form


def _need_input(form: NeedForm) -> service.NeedInput | None:
    """The validated need form as the service's input; None with the kind's error on the form."""
    category = form.category.data or ""
    try:
        kind = need_kind(
            request_catalogue(db.session), category, form.item.data, form.accepts.data or (),
            title=form.title.data or "", description=form.description.data or "",
        )  # fmt: skip
    except KindError as error:
        getattr(form, error.field).errors = [error.message]
        return None
    return service.NeedInput(
        category=category,
        title=form.title.data or "",
        description=form.description.data or "",
        quantity=int((form.quantity.data or "").strip()),
        urgency=int(form.urgency.data or 3),
        deadline=form.deadline.data,
        checklist_item=form.checklist_item.data or None,
        item=kind.item,
        accepts=kind.accepts,
        item_inferred=kind.inferred,
    )


def _village_id() -> int:
    """The signed-in committee's village; 403 for an account not tied to a village."""
    if current_user.village_id is None:
        abort(403)
    return int(current_user.village_id)


def _own_need(need_id: int) -> Need:
    """The village's own need, or 404."""
    try:
        return service.get_village_need(db.session, current_user, need_id)
    except LookupError:
        abort(404)


@village.get("/village/needs")
@roles_required("village")
@cached_page
def needs() -> str:
    """The village's needs and wishes with their verification state."""
    return render_template(
        "village/needs.html",
        needs=service.village_needs(db.session, _village_id()),
        village=current_user.village,
        form=DecisionForm(),
    )


@village.route("/village/needs/new", methods=["GET", "POST"])
@roles_required("village")
def new_need() -> Response | str:
    """Post a village need, warning first about a near-identical open one."""
    _village_id()
    form = _need_form()
    if form.validate_on_submit() and (data := _need_input(form)) is not None:
        duplicates = service.duplicates_before_saving(db.session, current_user, data)
        if duplicates and not form.confirm_duplicate.data:
            return render_template(
                "village/need_form.html", form=form, need=None, duplicates=duplicates
            )
        with unit_of_work():
            service.create_need(db.session, current_user, data)
        flash(_("Need saved; it waits for the township to verify it."), "info")
        return redirect(url_for("village.needs"))
    return render_template("village/need_form.html", form=form, need=None, duplicates=[])


@village.route("/village/needs/<int:need_id>/edit", methods=["GET", "POST"])
@roles_required("village")
def edit_need(need_id: int) -> Response | str:
    """Edit the village's own need while nothing is allocated to it."""
    need = _own_need(need_id)
    if need.allocated != 0 or need.status != "open":
        flash(_("Aid is already allocated to this need; it can no longer be changed."), "error")
        return redirect(url_for("village.needs"))
    form = _need_form(need)
    if form.validate_on_submit() and (data := _need_input(form)) is not None:
        duplicates = service.duplicates_before_saving(
            db.session, current_user, data, exclude_id=need.id
        )
        if duplicates and not form.confirm_duplicate.data:
            return render_template(
                "village/need_form.html", form=form, need=need, duplicates=duplicates
            )
        with unit_of_work():
            service.update_need(db.session, need, data)
        flash(_("Need updated; it waits for the township to verify it again."), "info")
        return redirect(url_for("village.needs"))
    return render_template("village/need_form.html", form=form, need=need, duplicates=[])


@village.post("/village/needs/<int:need_id>/withdraw")
@roles_required("village")
def withdraw_need(need_id: int) -> Response:
    """Withdraw the village's own need or micro-wish while nothing is allocated to it: it leaves
    the township's list and the next allocations."""
    need = _own_need(need_id)
    if DecisionForm().validate_on_submit() and confirming.confirmed(
        confirming.withdraw_question(need.title)
    ):
        try:
            with unit_of_work():
                service.withdraw_need(db.session, need)
        except service.NeedError:
            flash(_("Aid is already allocated to this need; it can no longer be changed."), "error")
        else:
            flash(_("Need withdrawn; it will not be allocated."), "info")
    return redirect(url_for("village.needs"))


@village.route("/village/wishes/new", methods=["GET", "POST"])
@roles_required("village")
def new_wish() -> Response | str:
    """Post a household micro-wish (微心愿) with evidence and a value within the cap."""
    form = WishForm()
    form.household.choices = [SelectChoice("new", _("A new household"))] + [
        SelectChoice(str(h.id), f"{h.display_name} ({h.people})")
        for h in service.households(db.session, _village_id())
    ]
    catalogue = request_catalogue(db.session)
    goods = [c for c in kind_choices(catalogue, parents=False) if c.value.startswith("goods.")]
    form.item.choices = [SelectChoice("", _("Recognise it from the wish")), *goods]
    if form.validate_on_submit():
        try:
            kind = need_kind(
                catalogue, "goods", form.item.data, (),
                title=form.title.data or "", description=form.description.data or "",
            )  # fmt: skip
        except KindError as error:
            form.item.errors = [error.message]
            return _wish_page(form, [])
        chosen = form.household.data or "new"
        data = service.NeedInput(
            category="goods",
            title=form.title.data or "",
            description=form.description.data or "",
            quantity=int((form.quantity.data or "1").strip()),
            urgency=3,
            deadline=form.deadline.data,
            household_id=None if chosen == "new" else int(chosen),
            evidence=form.evidence.data or "",
            estimated_value=float(int((form.value.data or "").strip())),
            item=kind.item,
            item_inferred=kind.inferred,
        )
        new_household = None
        if chosen == "new":
            new_household = (form.household_name.data or "", int(form.household_people.data or 1))
        duplicates = (
            []
            if chosen == "new"
            else service.duplicates_before_saving(db.session, current_user, data)
        )
        if duplicates and not form.confirm_duplicate.data:
            return _wish_page(form, duplicates)
        try:
            with unit_of_work():
                service.create_need(db.session, current_user, data, new_household=new_household)
        except service.NeedError as error:
            if error.code != "value_cap":
                abort(404)
            form.value.errors = [_wish_cap_message()]
            return _wish_page(form, [])
        flash(_("Micro-wish saved; it waits for the township to verify it."), "info")
        return redirect(url_for("village.needs"))
    return _wish_page(form, [])


def _wish_cap_message() -> str:
    """The error naming the micro-wish value cap."""
    return _(
        "Estimated value must be a whole number of yuan, at most the cap of %(cap)s yuan.",
        cap=service.WISH_VALUE_CAP,
    )


def _wish_page(form: WishForm, duplicates: list[Need]) -> str:
    """The micro-wish form, with the value cap named in its help text."""
    return render_template(
        "village/wish_form.html", form=form, duplicates=duplicates, cap=service.WISH_VALUE_CAP
    )


@village.get("/township/needs")
@roles_required("township")
def review() -> str:
    """The pending needs of the villages in this township, a page at a time."""
    return _review_page()


def _review_page(
    refused: dict[int, str] | None = None, typed: dict[int, str] | None = None
) -> str:
    """The verification queue; `refused` holds a need's error, shown at its reason field (or
    its kind picker), `typed` the reason as it was typed."""
    try:
        page, per_page = parse_pagination(request.args)
    except BadPagination as error:
        abort(400, str(error))
    unclassified = catalogue_service.township_unclassified(db.session, current_user.township_id)
    return render_template(
        "village/review.html",
        page=service.township_pending(db.session, current_user, page=page, per_page=per_page),
        form=VerifyForm(formdata=None),
        unclassified=unclassified,
        kind_forms=_kind_forms(unclassified, refused or {}),
        refused=refused or {},
        typed=typed or {},
    )


def _kind_forms(needs: list[Need], refused: dict[int, str]) -> dict[int, NeedKindForm]:
    """A kind picker per need waiting for its kind, offering the kinds of its category (with
    the error a need's choice was refused with)."""
    choices = kind_choices(request_catalogue(db.session), parents=False)
    forms = {}
    for need in needs:
        form = NeedKindForm(formdata=None, prefix=f"n{need.id}")
        form.item.choices = [SelectChoice("", _("Pick its kind"))] + [
            c for c in choices if (c.render_kw or {}).get("data-category") == need.category_code
        ]
        if need.id in refused:
            form.item.errors = [refused[need.id]]
        forms[need.id] = form
    return forms


@village.post("/township/needs/<int:need_id>/kind")
@roles_required("township")
def set_kind(need_id: int) -> Response | tuple[str, int]:
    """Name the kind of a need of this township that waits for one (it then may enter a week);
    a refusal is shown at that need's kind picker, naming the need."""
    try:
        need = service.get_township_need(db.session, current_user, need_id)
    except LookupError:
        abort(404)
    form = NeedKindForm(prefix=f"n{need.id}")
    back = redirect(url_for("village.review") + "#unclassified")
    if not form.validate_on_submit():
        return back
    if need.item_code is not None:
        flash(_("This need already names its kind."), "error")
        return back
    if not (form.item.data or "").strip():
        return _review_page({need.id: _("%(title)s: pick its kind.", title=need.title)}), 422
    try:
        with unit_of_work():
            kind = need_kind(request_catalogue(db.session), need.category_code, form.item.data)
            catalogue_service.set_need_kind(db.session, need, kind)
    except (KindError, catalogue_service.CatalogueError) as error:
        refused = _("%(title)s: %(reason)s", title=need.title, reason=error.message)
        return _review_page({need.id: refused}), 422
    flash(_("%(title)s now names its kind.", title=need.title), "info")
    return back


_VERIFY_REFUSALS = {
    "reason": lambda: _("Please give a reason when rejecting a need."),
    "locked": lambda: _(
        "This need is no longer open (the village withdrew it), or aid is already allocated to "
        "it: it cannot be verified or rejected now."
    ),
    "changed": lambda: _(
        "The village changed this need after this page was opened: read it again below, then "
        "decide."
    ),
}


@village.post("/township/needs/<int:need_id>/verify")
@roles_required("township")
def verify(need_id: int) -> Response | tuple[str, int]:
    """Verify or reject one need of this township; a rejection needs a reason."""
    try:
        need = service.get_township_need(db.session, current_user, need_id)
    except LookupError:
        abort(404)
    form = VerifyForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                service.verify_need(
                    db.session,
                    need,
                    approve=form.decision.data == "verify",
                    reason=form.reason.data or "",
                    seen=form.seen.data or None,
                )
        except service.NeedError as error:
            message = _VERIFY_REFUSALS.get(error.code, _VERIFY_REFUSALS["reason"])()
            refused = _("%(title)s: %(reason)s", title=need.title, reason=message)
            if error.code == "locked":  # no longer in the queue: said above the queue
                flash(refused, "error")
                return redirect(url_for("village.review", page=request.args.get("page") or None))
            # Shown at this need's reason field, naming the need, with the reason as typed.
            return _review_page({need.id: refused}, {need.id: form.reason.data or ""}), 422
        flash(_("Verified.") if need.verification == "verified" else _("Rejected."), "info")
    return redirect(url_for("village.review", page=request.args.get("page") or None))
