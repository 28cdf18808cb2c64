"""A run's allocation lines as CSV or Excel, quoted as every spreadsheet the site writes
(web.security.spreadsheet_rows: a cell starting with = + - @ is not run as a formula)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from flask_babel import lazy_gettext as _l
from openpyxl import Workbook

from web.security import spreadsheet_rows

# In the reader's language (Chinese first, as the office files them).
HEADERS = (
    _l("Supply"), _l("Donor"), _l("Village"), _l("Need"), _l("Quantity"), _l("Unit"),
    _l("Distance (km)"), _l("Value"), _l("State"),
)  # fmt: skip
STATE_NAMES = {
    "preview": _l("Preview"),
    "pledged": _l("Pledged"),
    "dispatched": _l("Dispatched"),
    "received": _l("Received"),
    "confirmed": _l("Receipt confirmed"),
    "cancelled": _l("Cancelled"),
}

Line = Sequence[object]


def run_table(lines: Iterable[Line]) -> list[list[object]]:
    """A header row and one row per allocation line (offer, donor, village, need, quantity,
    unit, km, value, state code)."""
    table: list[list[object]] = [[str(h) for h in HEADERS]]
    for line in lines:
        *head, km, value, state = line
        state_name = str(STATE_NAMES.get(str(state), state))
        table.append([*head, round(float(km), 1), round(float(value), 1), state_name])
    return table


def run_csv(lines: Iterable[Line]) -> bytes:
    """The lines as CSV in UTF-8 with a byte-order mark, so Excel reads the Chinese."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(spreadsheet_rows(run_table(lines)))
    return buffer.getvalue().encode("utf-8-sig")


def run_xlsx(lines: Iterable[Line]) -> bytes:
    """The lines as an Excel workbook with one sheet."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = str(_l("Allocations"))[:31]  # a sheet name holds 31 characters at most
    for row in spreadsheet_rows(run_table(lines)):
        sheet.append(row)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
