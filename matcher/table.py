"""Read a county's list of needs from CSV or XLSX into NeedText records, or say what is wrong.

An optional `item` column names each need's kind (spec v1.1), a code of the row's category.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from matcher.categories import CATEGORIES
from matcher.dedupe import NeedText
from matcher.kinds import kind_problem

REQUIRED_COLUMNS = ("id", "village", "category", "title", "description", "quantity")
# Administrators' sheets may name a category in Chinese or English instead of by code.
_CATEGORY_NAMES = {
    name.lower(): c.code for c in CATEGORIES for name in (c.code, c.name_zh, c.name_en)
}


class TableError(Exception):
    """The file cannot be used; `problems` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _csv_rows(path: Path) -> Iterator[list[str]]:
    """Rows of a UTF-8 CSV file (a byte-order mark is allowed)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            yield from csv.reader(f, strict=True)
    except UnicodeDecodeError as exc:
        raise TableError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    except csv.Error as exc:
        raise TableError([f"{path}: invalid CSV: {exc}"]) from None
    except OSError as exc:
        raise TableError([f"{path}: cannot read ({exc.strerror})"]) from None


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    """Rows of the first sheet of an XLSX workbook, cells as text."""
    import openpyxl  # only the XLSX path pays for importing it

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise TableError([f"{path}: not a readable XLSX workbook ({type(exc).__name__})"]) from None
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield ["" if v is None else _cell_text(v) for v in row]
    finally:
        book.close()


def _cell_text(value: object) -> str:
    """A cell as text; integral floats (Excel's numbers) without '.0'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _quantity(raw: str) -> int | None:
    """A positive whole quantity, or None."""
    text = raw.strip()
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() and value >= 1 else None


def read_needs(path_str: str) -> list[NeedText]:
    """The needs of a CSV or XLSX file with the required columns (household optional)."""
    path = Path(path_str)
    if not path.is_file():
        raise TableError([f"{path}: no such file"])
    is_xlsx = path.suffix.lower() in (".xlsx", ".xlsm")
    raw = _xlsx_rows(path) if is_xlsx else _csv_rows(path)
    rows = [r for r in raw if any(c.strip() for c in r)]
    if not rows:
        raise TableError([f"{path}: empty file, expected columns {', '.join(REQUIRED_COLUMNS)}"])
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise TableError([f"{path}: missing column '{c}'" for c in missing])
    optional = ("household", "item")
    col = {name: header.index(name) for name in (*REQUIRED_COLUMNS, *optional) if name in header}
    needs: list[NeedText] = []
    problems: list[str] = []
    seen: set[str] = set()
    for line, row in enumerate(rows[1:], start=2):
        cell = {name: (row[i].strip() if i < len(row) else "") for name, i in col.items()}
        where = f"{path}: row {line}"
        if not cell["id"]:
            problems.append(f"{where}: empty id")
        elif cell["id"] in seen:
            problems.append(f"{where}: duplicate id '{cell['id']}'")
        seen.add(cell["id"])
        if not cell["village"]:
            problems.append(f"{where} (id '{cell['id']}'): empty village")
        category = _CATEGORY_NAMES.get(cell["category"].lower())
        if category is None:
            problems.append(f"{where} (id '{cell['id']}'): unknown category '{cell['category']}'")
        quantity = _quantity(cell["quantity"])
        if quantity is None:
            problems.append(
                f"{where} (id '{cell['id']}'): bad quantity '{cell['quantity']}' "
                "(a whole number >= 1)"
            )
        item = cell.get("item") or None
        wrong_kind = kind_problem(item, category) if item and category else None
        if wrong_kind:
            problems.append(f"{where} (id '{cell['id']}'): {wrong_kind}")
        if category is not None and quantity is not None:
            needs.append(NeedText(
                id=cell["id"], village=cell["village"], category=category, title=cell["title"],
                description=cell["description"], quantity=quantity,
                household=cell.get("household") or None, item=item,
            ))
    if problems:
        raise TableError(problems)
    return needs
