"""Reading an uploaded sheet: an XLSX workbook's first sheet or a UTF-8 CSV, measured before
it is parsed and parsed streaming with a budget (issue 24), so a hostile file is refused
within a second or two instead of holding a worker."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from openpyxl import load_workbook

from web.security import spreadsheet_value

MAX_IMPORT_BYTES = 2 * 1024 * 1024

MAX_IMPORT_ROWS = 5000

# Lines read from a sheet at most, blank ones included, before giving up on it.
MAX_SHEET_LINES = 2 * MAX_IMPORT_ROWS

# An XLSX is a zip: refuse one that would unpack to more than this (a "zip bomb").
MAX_UNPACKED_BYTES = 64 * 1024 * 1024

# Cells a sheet may hold (and shared strings a workbook may have), counted in a fast streaming
# scan of the unpacked XML before openpyxl reads anything: a 119 KB sheet of 10,000 x 160
# cells held a worker for 40 s before "more than 5000 rows" (issue 24); now it is refused in
# well under a second. The import templates have fewer than 30 columns.
MAX_SHEET_CELLS = MAX_IMPORT_ROWS * 30
PROGRESS_ROWS = 200  # a background import's progress is told every this many lines read
Progress = Callable[[int, int], None]  # (lines read, lines in all)

# An element's local name, with or without a namespace prefix (<c ...>, <x:row>, <si>).
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(c|row|si)[\s>/]")

_DIMENSION = re.compile(
    rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref="[A-Z]*\d*:?([A-Za-z]{1,3})(\d{1,9})"'
)

XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportFileError(ValueError):
    """The file as a whole cannot be read (type, size, headers); the message says why."""


@dataclass(frozen=True)
class Sheet:
    """The rows of an uploaded sheet: header cells and (row number, cells) per data row."""

    header: list[str]
    rows: list[tuple[int, list[Any]]]


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_zip(data: bytes) -> int:
    """Refuse a zip that is not an XLSX workbook or that unpacks to too much; its lines."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise ImportFileError(
            _("The file is damaged and cannot be opened as an XLSX workbook.")
        ) from None
    if "xl/workbook.xml" not in names:
        raise ImportFileError(_("This zip file is not an Excel workbook (.xlsx)."))
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportFileError(
            _("The workbook is too large once unpacked; split it and import the parts in turn.")
        )
    return _measure(data)


def _count_tags(archive: zipfile.ZipFile, name: str, limits: dict[bytes, int]) -> dict[bytes, int]:
    """How many of each tag (local name -> limit) the member holds, read streaming in one pass;
    stops as soon as one count is over its limit."""
    counts = dict.fromkeys(limits, 0)
    tail = b""
    with archive.open(name) as member:
        while True:
            chunk = member.read(1 << 20)
            block = tail + chunk
            # A tag cut by the chunk's end is counted with the next chunk (its last 64 bytes).
            cut = max(0, len(block) - 64) if chunk else len(block)
            for tag in _TAG.findall(block, 0, cut):
                if tag in counts:
                    counts[tag] += 1
            tail = block[cut:]
            if not chunk or any(counts[t] > limit for t, limit in limits.items()):
                return counts


def _declared_size(archive: zipfile.ZipFile, name: str) -> tuple[int, int]:
    """(rows, columns) the sheet's <dimension ref="A1:FD10000"/> declares; (0, 0) if none."""
    with archive.open(name) as member:
        head = member.read(4096)
    found = _DIMENSION.search(head)
    if found is None:
        return 0, 0
    letters, digits = found.group(1).decode(), found.group(2).decode()
    columns = 0
    for letter in letters.upper():
        columns = columns * 26 + ord(letter) - 64
    return int(digits), columns


def _measure(data: bytes) -> int:
    """Refuse a workbook with more rows or cells than an import takes, or more shared strings,
    before it is parsed: first by the sheet's declared dimension, then by a streaming count of
    the tags in its unpacked XML (a declared dimension may lie). Returns the lines counted."""
    lines = 0
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                rows, columns = _declared_size(archive, name)
                if rows > MAX_SHEET_LINES:
                    raise ImportFileError(_too_many_rows())
                if rows * columns > MAX_SHEET_CELLS:
                    raise ImportFileError(_too_many_cells())
                limits = {b"row": MAX_SHEET_LINES, b"c": MAX_SHEET_CELLS}
                counts = _count_tags(archive, name, limits)
                if counts[b"row"] > MAX_SHEET_LINES:
                    raise ImportFileError(_too_many_rows())
                if counts[b"c"] > MAX_SHEET_CELLS:
                    raise ImportFileError(_too_many_cells())
                lines = max(lines, counts[b"row"])
            elif name == "xl/sharedStrings.xml":
                counts = _count_tags(archive, name, {b"si": MAX_SHEET_CELLS})
                if counts[b"si"] > MAX_SHEET_CELLS:
                    raise ImportFileError(_too_many_cells())
    return lines


def _too_many_cells() -> str:
    return _(
        "The sheet has more than %(cells)s cells; keep only the template's columns, or split "
        "the file and import the parts in turn.",
        cells=MAX_SHEET_CELLS,
    )


def _xlsx_rows(data: bytes, progress: Progress | None = None) -> Iterable[Sequence[Any]]:
    total = _check_zip(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = []
        cells = 0
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row))
            cells += len(row)  # a budget as it streams: rows padded to a declared width count
            if progress is not None and len(rows) % PROGRESS_ROWS == 0:
                progress(len(rows), total)
            if len(rows) > MAX_SHEET_LINES or cells > 2 * MAX_SHEET_CELLS:
                break  # read_sheet reports the file as too long, or below: too wide
        workbook.close()
    except Exception:
        raise ImportFileError(
            _("This Excel workbook cannot be read; save it again as .xlsx in Excel and retry.")
        ) from None
    if cells > 2 * MAX_SHEET_CELLS:
        raise ImportFileError(_too_many_cells())
    return rows


def _csv_rows(data: bytes) -> Iterable[Sequence[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            _(
                "The file is neither an Excel workbook (.xlsx) nor a UTF-8 CSV file. "
                "In Excel choose “Save As → CSV UTF-8 (Comma delimited)”."
            )
        ) from None
    if "\x00" in text:
        raise ImportFileError(_("The file is not a CSV text file."))
    try:
        return list(csv.reader(io.StringIO(text)))
    except csv.Error as error:
        raise ImportFileError(_("The CSV is malformed: %(error)s", error=error)) from None


def _check_size(data: bytes) -> None:
    if not data:
        raise ImportFileError(_("The file is empty."))
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportFileError(
            _(
                "The file is larger than %(mb)s MB; split it and import the parts in turn.",
                mb=MAX_IMPORT_BYTES // (1024 * 1024),
            )
        )


def measure_sheet(data: bytes) -> int:
    """The lines a sheet holds, counted without parsing it; refuses at once (ImportFileError)
    what `read_sheet` would refuse before parsing: empty, too large, not a workbook, too many
    rows or cells (a hostile sheet is answered within 2 s)."""
    _check_size(data)
    if data[:4] == b"PK\x03\x04":
        return _check_zip(data)
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def read_sheet(data: bytes, progress: Progress | None = None) -> Sheet:
    """Read an XLSX workbook's first sheet or a UTF-8 CSV, decided by the bytes, not the name;
    `progress(lines read, lines in all)` is called as a workbook is read."""
    _check_size(data)
    raw = _xlsx_rows(data, progress) if data[:4] == b"PK\x03\x04" else _csv_rows(data)
    header: list[str] | None = None
    rows: list[tuple[int, list[Any]]] = []
    for number, cells in enumerate(raw, start=1):
        if number > MAX_SHEET_LINES:
            raise ImportFileError(_too_many_rows())
        if all(_is_blank(c) for c in cells):
            continue
        if header is None:
            header = ["" if c is None else str(c).strip() for c in cells]
            continue
        rows.append((number, [spreadsheet_value(c) for c in cells]))
        if len(rows) > MAX_IMPORT_ROWS:
            raise ImportFileError(_too_many_rows())
    if header is None:
        raise ImportFileError(_("The file holds neither a header nor data."))
    return Sheet(header, rows)


def _too_many_rows() -> str:
    return _(
        "More than %(rows)s data rows; split the file and import the parts in turn.",
        rows=MAX_IMPORT_ROWS,
    )
