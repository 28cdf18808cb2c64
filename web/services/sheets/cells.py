"""Cells of an import sheet: the columns a kind reads, and a row's cells read as text, whole
numbers, decimals, dates, yes/no, categories and kinds, each bad cell recorded as a RowError
naming its row and column."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _

from matcher.categories import CATEGORIES
from matcher.kinds import Catalogue
from web.services.inputs import MAX_INTEGER
from web.services.sheets.kind_cells import KindCellError, kind_codes, same_unit
from web.services.sheets.reader import ImportFileError, Sheet
from web.services.sheets.report import ImportReport, RowError

_YES = {"是", "y", "yes", "true", "1", "√"}


_NO = {"否", "n", "no", "false", "0", ""}


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


LIST_SPLIT = re.compile(r"[、,，;；\s]+")


@dataclass(frozen=True)
class Column:
    """One column of an import sheet: its key, Chinese header, whether required, an example."""

    key: str
    header: str
    required: bool
    example: Any
    note: str
    # False: read when present (an export's code columns) but left out of the template.
    template: bool = True


def cell_text(value: Any) -> str:
    """A cell as text: whole floats without '.0', dates as 2026-12-31."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


class Row:
    """One data row: typed access to its cells, recording a RowError for each bad one."""

    def __init__(self, number: int, values: dict[str, Any], report: ImportReport) -> None:
        self.number = number
        self.values = values
        self.report = report
        self.bad = False
        self.refused: set[str] = set()  # the keys of the columns already refused

    def error(self, column: Column, message: str) -> None:
        self.report.errors.append(RowError(self.number, column.header, message))
        self.bad = True
        self.refused.add(column.key)

    def ruled(self, problems: Mapping[str, Any], col: Mapping[str, Column]) -> None:
        """Record the field rules' refusals (web.services.inputs, as for the forms and the API)
        under their columns, naming what the cell holds; a cell already refused as read (a date
        that is not one) is not refused twice."""
        for key, message in problems.items():
            column = col[key]
            if key in self.refused:
                continue
            shown = cell_text(self.raw(column))
            if shown and key not in ("title", "description", "evidence"):
                message = _("%(message)s This is “%(value)s”.", message=message, value=shown)
            self.error(column, str(message))

    def raw(self, column: Column) -> Any:
        return self.values.get(column.key)

    def text(self, column: Column, max_length: int = 200) -> str:
        value = cell_text(self.raw(column))
        if not value and column.required:
            self.error(column, _("Required."))
        elif len(value) > max_length:
            self.error(
                column,
                _(
                    "At most %(limit)s characters; this has %(count)s.",
                    limit=max_length,
                    count=len(value),
                ),
            )
        return value

    def integer(
        self, column: Column, *, minimum: int = 1, maximum: int | None = None
    ) -> int | None:
        value = self.raw(column)
        shown = cell_text(value)
        if not shown:
            if column.required:
                self.error(column, _("Required."))
            return None
        number: int | None = None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and re.fullmatch(r"[+]?\d+", shown):
            number = int(shown)
        if number is not None and maximum is None and number > MAX_INTEGER:
            self.error(
                column,
                _(
                    "The number is too large (at most %(limit)s); this is “%(value)s”.",
                    limit=MAX_INTEGER,
                    value=shown,
                ),
            )
            return None
        if number is None or number < minimum or (maximum is not None and number > maximum):
            if maximum is not None:
                message = _(
                    "Must be a whole number from %(minimum)s to %(maximum)s; this is “%(value)s”.",
                    minimum=minimum,
                    maximum=maximum,
                    value=shown,
                )
            elif minimum == 1:
                message = _("Must be a whole number above 0; this is “%(value)s”.", value=shown)
            else:
                message = _(
                    "Must be a whole number of at least %(minimum)s; this is “%(value)s”.",
                    minimum=minimum,
                    value=shown,
                )
            self.error(column, message)
            return None
        return number

    def decimal(self, column: Column, low: float, high: float) -> float | None:
        shown = cell_text(self.raw(column))
        if not shown:
            return None
        try:
            number = float(shown)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            self.error(
                column,
                _(
                    "Must be a number from %(low)s to %(high)s; this is “%(value)s”.",
                    low=format(low, "g"),
                    high=format(high, "g"),
                    value=shown,
                ),
            )
            return None
        return number

    def day(self, column: Column, *, ruled: bool = False) -> date | None:
        """A date cell; `ruled`: a blank one is left to the field's rule."""
        value = self.raw(column)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        shown = cell_text(value)
        if not shown:
            if column.required and not ruled:
                self.error(column, _("A date is required, such as 2026-12-31."))
            return None
        match = _DATE.match(shown)
        if match:
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                pass
        self.error(
            column,
            _("Wrong date format: write it as 2026-12-31; this is “%(value)s”.", value=shown),
        )
        return None

    def yes_no(self, column: Column) -> bool:
        shown = cell_text(self.raw(column)).lower()
        if shown in _YES:
            return True
        if shown not in _NO:
            self.error(
                column, _("Fill in “是” (yes) or “否” (no); this is “%(value)s”.", value=shown)
            )
        return False

    def category(self, column: Column) -> str:
        shown = cell_text(self.raw(column))
        if not shown:
            self.error(column, _("Required."))
            return ""
        for c in CATEGORIES:
            if shown in (c.code, c.name_zh) or shown.lower() == c.name_en.lower():
                return c.code
        names = "、".join(c.name_zh for c in CATEGORIES)
        self.error(
            column,
            _("Unknown category “%(value)s”; possible: %(names)s.", value=shown, names=names),
        )
        return ""

    def kinds(
        self, names: Column, codes: Column, catalogue: Catalogue, category: str
    ) -> tuple[str, ...] | None:
        """The kinds named in a row's name column or code column (both: the same kinds), as
        codes; None after recording what is wrong."""
        found: dict[str, tuple[str, ...]] = {}
        failed = False
        for column in (names, codes):
            shown = cell_text(self.raw(column))
            if not shown:
                continue
            try:
                found[column.key] = kind_codes(catalogue, shown, category)
            except KindCellError as error:
                self.error(column, str(error))
                failed = True
        if failed:
            return None
        named, coded = found.get(names.key), found.get(codes.key)
        if named is not None and coded is not None and set(named) != set(coded):
            self.error(
                codes,
                _(
                    "“%(names)s” and “%(codes)s” name different kinds: correct one of them, or "
                    "clear “%(codes)s”.",
                    names=names.header,
                    codes=codes.header,
                ),
            )
            return None
        return named or coded or ()

    def kind_column(self, names: Column, codes: Column) -> Column:
        """The column a row names its kinds in: the code column when only it is filled."""
        filled = cell_text(self.raw(names)) or not cell_text(self.raw(codes))
        return names if filled else codes

    def unit(self, column: Column, catalogue: Catalogue, unit: str, kinds: str) -> None:
        """Check a filled unit cell against the unit the kinds are counted in."""
        shown = cell_text(self.raw(column))
        if shown and unit and not same_unit(unit, shown, catalogue):
            self.error(
                column,
                _(
                    "%(kinds)s is counted in %(unit)s; this is “%(value)s”. Give the quantity "
                    "in %(unit)s, or name the kind it is counted in.",
                    kinds=kinds,
                    unit=unit,
                    value=shown,
                ),
            )


def bind_rows(
    sheet: Sheet, columns: Sequence[Column], export_only: Sequence[str], report: ImportReport
) -> list[Row]:
    """Map the header onto the kind's columns; file-level problems raise ImportFileError."""
    by_name = {c.header: c for c in columns} | {c.key: c for c in columns}
    positions: dict[str, int] = {}
    for index, name in enumerate(sheet.header):
        column = by_name.get(name)
        if column is None:
            if name and name not in export_only:
                report.ignored_columns.append(name)
            continue
        if column.key in positions:
            raise ImportFileError(_("The header holds “%(column)s” twice.", column=column.header))
        positions[column.key] = index
    missing = [c.header for c in columns if c.required and c.key not in positions]
    if missing:
        raise ImportFileError(
            _(
                "Required columns are missing: %(columns)s. "
                "Download the template and fill it in under its headers.",
                columns="、".join(missing),
            )
        )
    if not sheet.rows:
        raise ImportFileError(_("The file holds only the header, no data rows."))
    rows = []
    for number, cells in sheet.rows:
        values = {
            key: (cells[index] if index < len(cells) else None) for key, index in positions.items()
        }
        rows.append(Row(number, values, report))
    report.rows = len(rows)
    return rows


def unknown_village(code: str) -> str:
    return _("Unknown village code “%(code)s”: not the 12-digit code of a poor village.", code=code)
