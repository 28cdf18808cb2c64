"""Journey 3, administrator: preview a week's allocation, compare, commit, publish, cancel."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from optimizer import Policy
from web import clock, jobs
from web.auth import roles_required
from web.extensions import db
from web.forms import DecisionForm, WeekPolicyForm
from web.i18n import format_number, kind_unit
from web.models import Allocation, AllocationRun
from web.services.dashboard import BANDS, NO_DATA
from web.services.delivery import cancel
from web.services.rolling import DEFAULT_HORIZON
from web.services.run_export import run_csv, run_xlsx
from web.services.week import (
    AlreadyCommitted,
    StaleRun,
    WeekError,
    publish_run,
)
from web.services.week_instance import POLICY_KEYS
from web.services.week_pages import allocation_count, rows_of, run_page, runs_page
from web.services.weeks import PastWeek, check_preview_week
from web.unit_of_work import unit_of_work
from web.views.confirming import confirmed
from web.views.pagination import BadPagination, parse_pagination

week = Blueprint("week", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COMMIT_WAIT_SECONDS = 5.0  # a commit request waits this long for its job before showing progress


def status_labels() -> dict[str, Any]:
    """Template helpers naming run and delivery states in the user's language."""
    runs = {
        "queued": _("Queued"),
        "running": _("Running"),
        "preview": _("Preview"),
        "committed": _("Committed"),
        "published": _("Published"),
        "failed": _("Failed"),
        "cancelled": _("Cancelled"),
    }
    deliveries = {
        "pledged": _("Pledged"),
        "dispatched": _("Dispatched"),
        "received": _("Received"),
        "confirmed": _("Receipt confirmed"),
        "cancelled": _("Cancelled"),
    }
    return {
        "run_status": lambda code: runs.get(code, code),
        "delivery_status": lambda code: deliveries.get(code, code),
        "job_stage": job_stage,
        "failure_reason": failure_reason,
        "commit_failure": commit_failure,
    }


def failure_reason(run: AllocationRun) -> str:
    """Why a run failed, in the user's language (the stored detail is shown beside it)."""
    return jobs.run_message(run.reason, run.error)


def commit_failure(progress: dict[str, Any]) -> str:
    """Why a commit job failed, in the user's language; the preview can be committed again."""
    return jobs.commit_message(progress.get("commit_reason"), progress.get("commit_error"))


def job_stage(code: str) -> str:
    """A background job's stage in the user's language."""
    stages = {
        "queued": _("Waiting for a worker"),
        "building": _("Reading offers and needs"),
        "solving": _("Optimizer searching"),
        "parts": _("Workers solving the week's parts"),
        "greedy": _("Computing the greedy baseline"),
        "figures": _("Computing the figures"),
        "done": _("Done"),
        "failed": _("Failed"),
        "cancelled": _("Cancelled"),
        "committing": _("Committing"),
        "commit_failed": _("Commit failed"),
        "committed": _("Committed"),
    }
    return stages.get(code, code)


week.context_processor(status_labels)


def _policy_form(run: AllocationRun | None = None) -> WeekPolicyForm:
    """The policy form, filled on a GET with the run's weights or the spec's defaults."""
    form = WeekPolicyForm()
    if not form.is_submitted():
        policy = run.policy if run is not None else {}
        default = Policy()
        form.week.data = run.week if run is not None else clock.this_week()
        for key in POLICY_KEYS:
            getattr(form, key).data = float(policy.get(key, getattr(default, key)))
        form.horizon.data = int(policy.get("horizon", 1 if run is not None else DEFAULT_HORIZON))
    return form


def _refusal(error: WeekError) -> str:
    """The message shown when the week service refuses."""
    if isinstance(error, AlreadyCommitted):
        return _("This week is already committed; it cannot be committed again.")
    if isinstance(error, StaleRun):
        return _("Offers or needs changed since this preview; preview the week again.")
    if isinstance(error, jobs.CommitInProgress):
        return _("This preview is already being committed; wait until the commit is done.")
    if isinstance(error, jobs.JobQueueDown):
        return jobs.run_message(error.failure.reason, error.failure.text)
    return _("The allocation could not be done: %(reason)s", reason=str(error))


def _week_allowed(form: WeekPolicyForm) -> bool:
    """False, with the reason next to the week box, when the week may not be previewed."""
    try:
        check_preview_week(form.week.data or "", clock.today())
    except PastWeek as error:
        form.week.errors = [*form.week.errors, str(error)]
        return False
    except WeekError:  # 2025-W53: written like a week, but 2025 has 52
        form.week.errors = [*form.week.errors, _("Write the week as 2026-W48.")]
        return False
    return True


def commit_question(total: int, week_code: str) -> str:
    """What committing a preview does, asked before it is done."""
    return _(
        "Committing turns %(count)s allocations of %(week)s into pledges; "
        "this week cannot be committed again.",
        count=format_number(total),
        week=week_code,
    )


def publish_question(total: int) -> str:
    """What publishing a committed run does, asked before it is done."""
    return _(
        "Publishing tells the donors and villages of %(count)s pledges; it cannot be taken back.",
        count=format_number(total),
    )


@week.route("/admin/week", methods=["GET", "POST"])
@roles_required("admin")
def plan() -> Response | str:
    """Choose the week and the policy weights, and preview an allocation; the runs so far."""
    form = _policy_form()
    if form.validate_on_submit() and _week_allowed(form):
        return _preview(form)
    try:
        page, _per_page = parse_pagination(request.args)
    except BadPagination as error:
        abort(400, str(error))
    shown = runs_page(db.session, page)
    return render_template(
        "week/plan.html",
        form=form,
        runs=shown.runs,
        page=shown.page,
        pages=shown.pages,
        total=shown.total,
        committed_weeks=shown.committed_weeks,
    )


def _preview(form: WeekPolicyForm) -> Response:
    """Start a preview job with the form's weights and follow it on the run's page."""
    policy = {key: float(getattr(form, key).data) for key in POLICY_KEYS}
    # More than one week: the rolling plan (spec v2). Left out or 1: this week alone (v1).
    if form.horizon.data and form.horizon.data > 1:
        policy["horizon"] = int(form.horizon.data)
    try:
        run = jobs.start_preview(
            db.session,
            form.week.data,
            policy,
            current_user,
            time_limit=float(form.time_limit.data or 1),
        )
    except WeekError as error:
        flash(_refusal(error), "error")
        return redirect(url_for("week.plan"))
    return redirect(url_for("week.run", run_id=run.id))


@week.get("/admin/runs/<int:run_id>")
@roles_required("admin")
def run(run_id: int) -> str:
    """A run: its job's live progress, or its figures, the greedy comparison and allocations."""
    found = db.session.get(AllocationRun, run_id)
    if found is None:
        abort(404)
    jobs.check_alive(db.session, found)
    try:
        page, _per_page = parse_pagination(request.args)
    except BadPagination as error:
        abort(400, str(error))
    shown = run_page(db.session, found, page)
    return render_template(
        "week/run.html",
        run=shown.run,
        lost_parts=shown.lost_parts,
        rows=shown.rows,
        total=shown.total,
        page=shown.page,
        pages=shown.pages,
        per_page=shown.per_page,
        superseded=shown.superseded,
        commit_question=commit_question(shown.total, found.week),
        publish_question=publish_question(shown.total),
        form=_policy_form(found),
        decision=DecisionForm(),
        progress=jobs.progress_of(found),
        board=shown.board,
        bands=BANDS,
        no_data=NO_DATA,
    )


@week.get("/admin/runs/<int:run_id>/progress")
@roles_required("admin")
def progress(run_id: int) -> Response:
    """The run's job progress as JSON, polled by run-progress.js."""
    found = db.session.get(AllocationRun, run_id)
    if found is None:
        abort(404)
    jobs.check_alive(db.session, found)
    state = jobs.progress_of(found)
    state["status_label"] = status_labels()["run_status"](found.status)
    state["stage_label"] = job_stage(state["stage"])
    response = jsonify(state)
    response.headers["Cache-Control"] = "no-store"
    return response


@week.post("/admin/runs/<int:run_id>/cancel")
@roles_required("admin")
def cancel_run(run_id: int) -> Response:
    """Cancel the run's job: at once when queued, at the solver's next check when running."""
    try:
        found = jobs.request_cancel(db.session, run_id, current_user)
    except WeekError as error:
        flash(_refusal(error), "error")
    else:
        if found.status == "cancelled":
            flash(_("Run cancelled: nothing was stored."), "info")
        else:
            flash(_("Cancelling: the optimizer stops at its next check."), "info")
    return redirect(url_for("week.run", run_id=run_id))


@week.post("/admin/runs/<int:run_id>/retry")
@roles_required("admin")
def retry_run(run_id: int) -> Response:
    """Start a new preview job with a failed or cancelled run's week and weights."""
    try:
        new = jobs.retry(db.session, run_id, current_user)
    except WeekError as error:
        flash(_refusal(error), "error")
        return redirect(url_for("week.run", run_id=run_id))
    return redirect(url_for("week.run", run_id=new.id))


@week.post("/admin/runs/<int:run_id>/rerun")
@roles_required("admin")
def rerun(run_id: int) -> Response | str:
    """Preview the week again with changed weights."""
    form = _policy_form()
    if form.validate_on_submit():
        if _week_allowed(form):
            return _preview(form)
        flash(form.week.errors[-1], "error")
        return redirect(url_for("week.run", run_id=run_id))
    flash(_("Please check the policy weights."), "error")
    return redirect(url_for("week.run", run_id=run_id))


@week.post("/admin/runs/<int:run_id>/commit")
@roles_required("admin")
def commit(run_id: int) -> Response:
    """Start the job that turns the preview into pledges; its page follows it.

    The request waits a few seconds for the job, so a quick commit shows its outcome at once.
    Nothing is done unless the administrator ticked (or, with JavaScript, answered) the
    confirmation naming how many pledges it makes.
    """
    found = db.session.get(AllocationRun, run_id)
    if found is None:
        abort(404)
    if not confirmed(commit_question(allocation_count(db.session, found), found.week)):
        return redirect(url_for("week.run", run_id=run_id))
    try:
        found = jobs.start_commit(db.session, run_id, current_user)
    except WeekError as error:
        flash(_refusal(error), "error")
        return redirect(url_for("week.run", run_id=run_id))
    wait = current_app.config.get("DUIJIE_COMMIT_WAIT_SECONDS", COMMIT_WAIT_SECONDS)
    found = jobs.wait_for_commit(db.session, found, float(wait))
    state = jobs.commit_state(found)
    if found.status in ("committed", "published"):
        flash(
            _("Committed: the allocations are now pledges. Publish to tell donors and villages."),
            "info",
        )
    elif state == jobs.COMMIT_FAILED:
        flash(commit_failure(jobs.progress_of(found)), "error")
    else:
        flash(_("Committing: this page shows when the pledges are stored."), "info")
    return redirect(url_for("week.run", run_id=run_id))


@week.post("/admin/runs/<int:run_id>/publish")
@roles_required("admin")
def publish(run_id: int) -> Response:
    """Publish the committed run and notify donors and villages, once confirmed."""
    found = db.session.get(AllocationRun, run_id)
    if found is None:
        abort(404)
    if not confirmed(publish_question(allocation_count(db.session, found))):
        return redirect(url_for("week.run", run_id=run_id))
    try:
        with unit_of_work():
            publish_run(db.session, run_id, current_user)
    except WeekError as error:
        flash(_refusal(error), "error")
    else:
        flash(_("Published: donors and villages have been notified."), "info")
    return redirect(url_for("week.run", run_id=run_id))


@week.post("/admin/allocations/<int:allocation_id>/cancel")
@roles_required("admin")
def cancel_allocation(allocation_id: int) -> Response:
    """Cancel an undelivered pledge with a reason; its units return to the offer and the need."""
    allocation = db.session.get(Allocation, allocation_id)
    if allocation is None:
        abort(404)
    run_id = allocation.run_id
    reason = request.form.get("reason", "")
    try:
        with unit_of_work():
            cancel(db.session, allocation_id, current_user, reason)
    except WeekError as error:
        if not reason.strip():
            flash(_("Please give a reason when cancelling a pledge."), "error")
        else:
            flash(_refusal(error), "error")
    else:
        flash(_("Pledge cancelled."), "info")
    return redirect(url_for("week.run", run_id=run_id))


@week.get("/admin/runs/<int:run_id>/allocations.<fmt>")
@roles_required("admin")
def download(run_id: int, fmt: str) -> Response:
    """Every allocation line of the run as CSV (UTF-8 with a byte-order mark) or Excel."""
    found = db.session.get(AllocationRun, run_id)
    if found is None or fmt not in ("csv", "xlsx"):
        abort(404)
    if found.status in ("queued", "running", "failed", "cancelled"):
        abort(404)
    rows, _total = rows_of(db.session, found, 1, None)
    lines = [
        (
            r.offer.title,
            r.offer.organization.name,
            r.need.village.name,
            r.need.title,
            r.quantity,
            kind_unit(r.need.item_code, r.need.category_code),
            r.km,
            r.value,
            r.allocation.status if r.allocation else "preview",
        )
        for r in rows
    ]
    name = f"run-{found.id}-{found.week}.{fmt}"
    if fmt == "csv":
        body, mimetype = run_csv(lines), "text/csv; charset=utf-8"
    else:
        body, mimetype = run_xlsx(lines), XLSX
    return Response(
        body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"}
    )
