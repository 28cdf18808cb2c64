"""The year's recognition list (表彰名单, issue 17) for the office: every donor with deliveries
the villages confirmed in the year, ranked as on the honour roll, with each quarter's value and
how the donor appears in public. Real names are shown (the list is the office's own; the
administrator alone downloads it); headings are in the reader's language."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from web.services.honours import Period, ranking
from web.services.sheets.exporters import table_bytes

KIND_NAMES = {
    "enterprise": _l("Enterprise"),
    "ngo": _l("Social organization / NGO"),
    "paired_unit": _l("Paired unit"),
    "individual": _l("Individual donor"),
    "government": _l("Government body"),
}
HEADINGS = (
    _l("Rank"), _l("Donor"), _l("Kind of donor"), _l("Q1 value (yuan)"), _l("Q2 value (yuan)"),
    _l("Q3 value (yuan)"), _l("Q4 value (yuan)"), _l("Year value (yuan)"),
    _l("Villages reached"), _l("Receipt confirmations"), _l("Shown in public as"),
)  # fmt: skip


def recognition_table(session: Session, year: int) -> list[list[Any]]:
    """A heading row and one row per donor of the year, best first."""
    quarters = [
        {r.organization_id: r.value for r in ranking(session, Period(year, q), reveal=True)}
        for q in (1, 2, 3, 4)
    ]
    table: list[list[Any]] = [[str(h) for h in HEADINGS]]
    for row in ranking(session, Period(year), reveal=True):
        table.append(
            [
                row.rank,
                row.name,
                str(KIND_NAMES.get(row.kind, row.kind)),
                *(q.get(row.organization_id, 0.0) for q in quarters),
                row.value,
                row.villages,
                row.confirmations,
                str(_l("Anonymous donor")) if row.anonymous else row.name,
            ]
        )
    return table


def recognition_xlsx(session: Session, year: int) -> bytes:
    """The recognition list as an XLSX workbook (one sheet, named after the year)."""
    return table_bytes(recognition_table(session, year), ".xlsx", f"{year}")
