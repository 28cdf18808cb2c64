"""A run's allocation lines as CSV or Excel, quoted as every spreadsheet the site writes
(web.security.spreadsheet_rows: a cell starting with = + - @ is not run as a formula)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook

from web.security import spreadsheet_rows

HEADERS = ("供给", "捐赠方", "村", "需求", "数量", "单位", "距离（公里）", "价值", "状态")
STATE_NAMES = {
    "preview": "预览",
    "pledged": "已认捐",
    "dispatched": "已发出",
    "received": "已收到",
    "confirmed": "已确认收到",
    "cancelled": "已取消",
}

Line = Sequence[object]


def run_table(lines: Iterable[Line]) -> list[list[object]]:
    """A header row and one row per allocation line (offer, donor, village, need, quantity,
    unit, km, value, state code)."""
    table: list[list[object]] = [list(HEADERS)]
    for line in lines:
        *head, km, value, state = line
        state_name = STATE_NAMES.get(str(state), state)
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
    sheet.title = "分配"
    for row in spreadsheet_rows(run_table(lines)):
        sheet.append(row)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
