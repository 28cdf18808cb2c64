"""The printable weekly report of a committed or published run, for the evaluation group."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from seeds.checklist import CHECKLIST_ITEMS
from web.auth import roles_required
from web.caching import cached_page
from web.extensions import db
from web.i18n import is_english
from web.services.dashboard import Bar
from web.services.delivery import CONFIRM_OVERDUE_DAYS, DISPATCH_OVERDUE_DAYS
from web.services.ledger import ledger_scope
from web.services.reports import ReportError, weekly_report
from web.views.week import status_labels

reports = Blueprint("reports", __name__)
reports.context_processor(status_labels)
REPORT_ROLES = ("admin", "auditor", "township")


@reports.get("/admin/runs/<int:run_id>/report")
@roles_required(*REPORT_ROLES)
@cached_page  # opened again to print: the greedy baseline is solved once per change, not per view
def weekly(run_id: int) -> str:
    """The run's plan against the greedy baseline's by villages, donors and office, and its
    delivery by kind of actor and by county; a township officer sees only its own villages."""
    township_id = ledger_scope(current_user)
    if township_id == -1:
        abort(403)  # a township account tied to no township
    try:
        report = weekly_report(db.session, run_id, township_id=township_id)
    except ReportError:
        abort(404)
    confirmed = [(d.kind, float(d.pledges), str(d.confirmed)) for d in report.delivery]
    top = max((value for _, value, _ in confirmed), default=0.0)
    return render_template(
        "reports/weekly.html",
        report=report,
        pledge_bars=[Bar(k, v, v / top if top else 0.0, note) for k, v, note in confirmed],
        checklist_names={code: en if is_english() else zh for code, zh, en in CHECKLIST_ITEMS},
        dispatch_days=DISPATCH_OVERDUE_DAYS,
        confirm_days=CONFIRM_OVERDUE_DAYS,
    )
