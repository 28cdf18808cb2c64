"""The catalogue of kinds as a sheet: imported by an administrator (new kinds added, known ones
updated, all or nothing) and exported in the same columns (a round trip changes nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from matcher.categories import CATEGORY_CODES
from matcher.kinds import category_of, parent_of
from seeds.catalogue import COLUMNS, LIST_SEPARATOR, split_list
from web.models import Kind
from web.services.catalogue import (
    HEADERS,
    MAX_CODE,
    SEGMENT,
    KindInput,
    all_kinds,
    alternatives_problem,
    ever_used_codes,
    field_problems,
)
from web.services.sheets.exporters import table_bytes
from web.services.sheets.reader import ImportFileError, read_sheet
from web.services.sheets.report import ImportReport, RowError


@dataclass
class KindImportReport(ImportReport):
    """An import of kinds: rows read, problems, kinds added and kinds updated."""

    updated: int = 0


@dataclass(frozen=True)
class _KindRow:
    number: int
    code: str
    data: KindInput


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _number(text: str) -> float | None:
    try:
        value = float(text.replace(",", "").replace("，", ""))
    except ValueError:
        return None
    return value


def _positions(header: list[str], report: KindImportReport) -> dict[str, int]:
    by_header = {h: f for f, h in COLUMNS} | {f: f for f, _h in COLUMNS}
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        key = by_header.get(name)
        if key is None:
            if name:
                report.ignored_columns.append(name)
            continue
        if key in positions:
            raise ImportFileError(_("The header holds “%(column)s” twice.", column=HEADERS[key]))
        positions[key] = index
    required = [f for f, _h in COLUMNS if f not in ("synonyms", "alternatives")]
    missing = [HEADERS[f] for f in required if f not in positions]
    if missing:
        raise ImportFileError(
            _(
                "Required columns are missing: %(columns)s. "
                "Download the template and fill it in under its headers.",
                columns="、".join(missing),
            )
        )
    return positions


def _code_problem(
    code: str, stored: dict[str, Kind], seen: dict[str, int]
) -> str | None:  # fmt: skip
    """What is wrong with a row's code (format, category, repeat, parent), or None."""
    parts = code.split(".")
    if not code:
        return _("Required.")
    if len(code) > MAX_CODE or not all(SEGMENT.match(p) for p in parts):
        return _(
            "“%(code)s” is not a code: lowercase parts a-z, 0-9 or “_” joined by dots "
            "(e.g. goods.school.desks).",
            code=code,
        )
    if parts[0] not in CATEGORY_CODES:
        return _("Unknown category “%(value)s”.", value=parts[0])
    if code in seen:
        return _("Also on row %(row)s.", row=seen[code])
    parent = parent_of(code)
    if parent is None and code not in stored:
        return _("A category's root kind cannot be added.")
    if parent is not None and parent not in stored and parent not in seen:
        return _(
            "Its parent %(parent)s is neither in the catalogue nor on an earlier row.",
            parent=parent,
        )
    return None


def _entered(get: dict[str, str]) -> KindInput:
    """The kind a row enters."""
    value_text = get.get("ref_value", "")
    return KindInput(
        name_zh=get.get("name_zh", ""), name_en=get.get("name_en", ""),
        unit_zh=get.get("unit_zh", ""), unit_en=get.get("unit_en", ""),
        ref_value=_number(value_text) if value_text else None,
        synonyms=split_list(get.get("synonyms", "")),
        alternatives=split_list(get.get("alternatives", "")),
    )  # fmt: skip


def _unit_problem(old: Kind | None, entered: KindInput, used: set[str]) -> str | None:
    """A kind in use keeps its unit."""
    if old is None or old.code not in used:
        return None
    if (entered.unit_zh, entered.unit_en) == (old.unit_zh, old.unit_en):
        return None
    return _(
        "The unit of %(code)s in use is %(unit)s and cannot change.",
        code=old.code,
        unit=old.unit_zh,
    )


def _check_rows(session: Session, data: bytes, report: KindImportReport) -> list[_KindRow]:
    sheet = read_sheet(data)
    positions = _positions(sheet.header, report)
    if not sheet.rows:
        raise ImportFileError(_("The file holds only the header, no data rows."))
    report.rows = len(sheet.rows)
    stored = {k.code: k for k in all_kinds(session)}
    used = set(ever_used_codes(session))
    known: dict[str, str] = {c: k.category_code for c, k in stored.items()}
    seen: dict[str, int] = {}
    rows: list[_KindRow] = []

    def error(number: int, key: str, message: str | None) -> None:
        if message:
            report.errors.append(RowError(number, HEADERS[key], message))

    for number, cells in sheet.rows:
        get = {k: _cell(cells[i] if i < len(cells) else None) for k, i in positions.items()}
        code = get.get("code", "")
        before = len(report.errors)
        error(number, "code", _code_problem(code, stored, seen))
        entered = _entered(get)
        for key, message in field_problems(entered):
            error(number, key, message)
        error(number, "unit_zh", _unit_problem(stored.get(code), entered, used))
        if code and code not in seen and len(report.errors) == before:
            known[code] = code.split(".")[0]
        if code and code not in seen:
            seen[code] = number
        rows.append(_KindRow(number, code, entered))
    # Alternatives may name kinds from later rows: checked once every row is known.
    for row in rows:
        problem = alternatives_problem(row.code, row.data.alternatives, known) if row.code else None
        error(row.number, "alternatives", problem)
    return rows


def import_kinds(session: Session, data: bytes) -> KindImportReport:
    """Add the sheet's new kinds and update the existing ones (names, units while unused,
    value, synonyms, alternatives), all or nothing; flushes when every row is valid (the
    caller commits)."""
    report = KindImportReport("kinds")
    rows = _check_rows(session, data, report)
    if report.errors:
        return report
    stored = {k.code: k for k in all_kinds(session)}
    position = session.scalar(select(func.max(Kind.position))) or 0
    for row in rows:
        entered = row.data
        values = dict(
            name_zh=entered.name_zh, name_en=entered.name_en, unit_zh=entered.unit_zh,
            unit_en=entered.unit_en, ref_value=float(entered.ref_value or 0),
            synonyms=LIST_SEPARATOR.join(entered.synonyms),
            alternatives=LIST_SEPARATOR.join(entered.alternatives),
        )  # fmt: skip
        old = stored.get(row.code)
        if old is not None:
            if any(getattr(old, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(old, key, value)
                report.updated += 1
            continue
        parent_code = parent_of(row.code)
        assert parent_code is not None
        parent = stored[parent_code]
        position += 1
        kind = Kind(
            code=row.code, category_code=category_of(row.code), parent_code=parent_code,
            position=position, retired_at=parent.retired_at, **values,
        )  # fmt: skip
        session.add(kind)
        session.flush()  # a child's parent row exists before the child's
        stored[row.code] = kind
        report.created += 1
    session.flush()
    return report


def export_table(session: Session) -> list[list[Any]]:
    """The catalogue in the import sheet's columns (a round trip imports it unchanged)."""
    table: list[list[Any]] = [[h for _f, h in COLUMNS]]
    for kind in all_kinds(session):
        value = kind.ref_value
        table.append(
            [
                kind.code, kind.name_zh, kind.name_en, kind.unit_zh, kind.unit_en,
                int(value) if float(value).is_integer() else value,
                kind.synonyms, kind.alternatives,
            ]
        )  # fmt: skip
    return table


def export_bytes(session: Session, suffix: str) -> bytes:
    """The catalogue as .csv or .xlsx."""
    return table_bytes(export_table(session), suffix, sheet_title="品类")
