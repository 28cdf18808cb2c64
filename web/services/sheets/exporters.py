"""Sheets written: a table as CSV or XLSX (formula-like cells quoted), and the import templates
with their guide and the catalogue of kinds."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.orm import Session

from seeds.catalogue import hezhou_catalogue
from web.models import User, Village
from web.security import spreadsheet_rows
from web.services.kinds import load_catalogue
from web.services.sheets.kind_cells import CATALOGUE_SHEET, KINDS_GUIDE, catalogue_table
from web.services.sheets.reader import ImportFileError
from web.services.sheets.registry import IMPORTERS


def _xlsx(sheets: list[tuple[str, list[list[Any]]]]) -> bytes:
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    workbook.remove(first)
    for title, table in sheets:
        sheet = workbook.create_sheet(title)
        for line in spreadsheet_rows(table):
            sheet.append(line)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for letter_cells in sheet.iter_cols(min_row=1, max_row=1):
            cell = letter_cells[0]
            width = max(len(str(c.value or "")) for c in sheet[cell.column_letter])
            sheet.column_dimensions[cell.column_letter].width = min(40, 4 + 2 * width)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_xlsx(kind: str, actor: User | None = None, session: Session | None = None) -> bytes:
    """An XLSX with the kind's Chinese headers, one example row and a sheet explaining them.

    With a session the example names a real poor village (the committee's own for needs).
    Offers and needs add the sheet 品类表 listing the kinds their 品类 cells may name.
    """
    columns = tuple(c for c in IMPORTERS[kind].columns if c.template)
    example = {c.key: c.example for c in columns}
    if session is not None and "village_code" in example:
        first = session.scalar(select(Village.code).order_by(Village.code).limit(1))
        example["village_code"] = first or example["village_code"]
    if session is not None and kind == "villages":
        first = session.scalar(select(Village.code).order_by(Village.code).limit(1))
        example["code"] = first or example["code"]
    if actor is not None and kind == "offers" and actor.organization is not None:
        example["organization"] = actor.organization.name
    if actor is not None and kind == "needs" and actor.village is not None:
        example["village_code"] = actor.village.code
    guide = [["列", "是否必填", "说明"]] + [
        [c.header, "必填" if c.required else "选填", c.note] for c in columns
    ]
    sheets = [
        (IMPORTERS[kind].name, [[c.header for c in columns], [example[c.key] for c in columns]]),
        ("填写说明", guide),
    ]
    if kind in ("offers", "needs"):
        guide.append([])
        guide.append(["品类", "", KINDS_GUIDE])
        catalogue = load_catalogue(session) if session is not None else hezhou_catalogue()
        sheets.append((CATALOGUE_SHEET, catalogue_table(catalogue)))
    return _xlsx(sheets)


def table_bytes(table: list[list[Any]], suffix: str, sheet_title: str = "数据") -> bytes:
    """A table as CSV (UTF-8 with BOM, so Excel reads the Chinese) or as XLSX."""
    if suffix == ".xlsx":
        return _xlsx([(sheet_title, table)])
    if suffix == ".csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerows(
            spreadsheet_rows(
                [v.isoformat() if isinstance(v, date) else v for v in line] for line in table
            )
        )
        return buffer.getvalue().encode("utf-8-sig")
    raise ImportFileError(_("The file name must end in .csv or .xlsx."))
