"""The county office's lists as tables for CSV/XLSX (web.services.sheets.exporters.table_bytes):
the same rows as its pages (web.services.county_pages), headed in the reader's language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from web.models import County
from web.services import county_pages as pages
from web.services.escalation import overdue_pledges
from web.services.translate import _

EXPORTS = ("queue", "overdue", "villages", "share")
ALL_ROWS = 100_000  # an export holds the whole list, not one page


def _queue(session: Session, county: County, now: datetime, days: int) -> list[list[Any]]:
    model = pages.queue_page(session, county, now=now, days=days, per_page=ALL_ROWS)
    table: list[list[Any]] = [
        [_("Need"), _("Village"), _("Township"), _("Quantity"), _("Days waiting"), _("Escalated")]
    ]
    for item in model.needs.items:
        need = item.need
        table.append([need.title, need.village.name, item.township, need.quantity, item.days,
                      _("yes") if item.escalated else ""])  # fmt: skip
    return table


def _overdue(session: Session, county: County, now: datetime) -> list[list[Any]]:
    table: list[list[Any]] = [
        [_("Week"), _("Offer"), _("Need"), _("Village"), _("Township"), _("Quantity"),
         _("Overdue for")]
    ]  # fmt: skip
    for row in overdue_pledges(session, county.id, now):
        late = _("dispatch") if row.reason == "dispatch" else _("confirmation of receipt")
        table.append([row.week, row.offer, row.need, row.village, row.township, row.quantity,
                      late])  # fmt: skip
    return table


def _villages(session: Session, county: County, week: str) -> list[list[Any]]:
    table: list[list[Any]] = [
        [_("Village code"), _("Village"), _("Township"), _("Verified needs"), _("Units unmet")]
    ]
    for row in pages.zero_coverage(session, county.id, week):
        table.append([row.code, row.name, row.township, row.needs, row.units])
    return table


def _share(session: Session, county: County, run_id: int | None) -> list[list[Any]]:
    share = pages.run_share(session, county.id, run_id)
    table: list[list[Any]] = [
        [_("Week"), _("Village code"), _("Village"), _("Township"), _("Pledges"), _("Units"),
         _("Value (yuan)")]
    ]  # fmt: skip
    week = share.run.week if share.run is not None else ""
    for row in share.rows:
        table.append([week, row.code, row.name, row.township, row.pledges, row.units,
                      round(row.value, 2)])  # fmt: skip
    return table


def export_table(
    session: Session, county: County, kind: str, *, now: datetime, days: int, week: str,
    run_id: int | None,
) -> list[list[Any]]:
    """One of the county's lists (EXPORTS) as a table; LookupError for a run it cannot see."""
    if kind == "queue":
        return _queue(session, county, now, days)
    if kind == "overdue":
        return _overdue(session, county, now)
    if kind == "villages":
        return _villages(session, county, week)
    return _share(session, county, run_id)
