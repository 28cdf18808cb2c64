"""A hostile sheet is measured before it is read and answered within 2 s (issue 24).

The workbooks are written by hand (a worksheet's XML repeated), as an attacker would: 119 KB
that unpack to 45 MB, 10,000 rows of 160 cells, with the sheet's dimension declared or not.
Before, the reader parsed them whole (40 s on this machine) to say "more than 5000 rows".
"""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from flask import Flask
from openpyxl import Workbook

from web.services import imports
from web.services.imports import ImportFileError, read_sheet

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def _workbook(sheet_xml: bytes, shared: bytes | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.'
            'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName'
            '="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        z.writestr(
            "_rels/.rels",
            f'<?xml version="1.0"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
            f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        z.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?><workbook xmlns="{NS}" xmlns:r="{REL}"><sheets><sheet '
            'name="S" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<?xml version="1.0"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
            f'Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        if shared is not None:
            z.writestr("xl/sharedStrings.xml", shared)
    return out.getvalue()


def _sheet(rows: int, cols: int, dimension: str | None = None, cell: bytes | None = None) -> bytes:
    dim = f'<dimension ref="{dimension}"/>'.encode() if dimension else b""
    row = b"<row>" + (cell or b'<c r="A1" t="n"><v>1</v></c>') * cols + b"</row>"
    head = f'<?xml version="1.0"?><worksheet xmlns="{NS}">'.encode()
    return head + dim + b"<sheetData>" + row * rows + b"</sheetData></worksheet>"


def _timed(app: Flask, data: bytes) -> tuple[float, str]:
    with app.test_request_context():
        started = time.perf_counter()
        with pytest.raises(ImportFileError) as refused:
            read_sheet(data)
        return time.perf_counter() - started, str(refused.value)


@pytest.mark.parametrize("dimension", ["A1:FD10000", None, "A1:B3"])  # declared, absent, a lie
def test_a_hostile_sheet_is_refused_within_2_seconds(app: Flask, dimension: str | None) -> None:
    data = _workbook(_sheet(10_000, 160, dimension))
    assert len(data) < 200_000  # a small upload...
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert sum(i.file_size for i in z.infolist()) > 40_000_000  # ...that unpacks to 45 MB
    seconds, message = _timed(app, data)
    assert seconds < 2, seconds
    assert "单元格" in message or "行" in message


def test_one_endless_row_is_refused_before_it_is_parsed(app: Flask) -> None:
    seconds, message = _timed(app, _workbook(_sheet(1, 1_000_000, cell=b"<c><v>1</v></c>")))
    assert seconds < 2 and "单元格" in message


def test_too_many_shared_strings_are_refused(app: Flask) -> None:
    strings = b"<si><t>x</t></si>" * (imports.MAX_SHEET_CELLS + 1)
    shared = f'<?xml version="1.0"?><sst xmlns="{NS}">'.encode() + strings + b"</sst>"
    seconds, message = _timed(app, _workbook(_sheet(2, 2), shared))
    assert seconds < 2 and "单元格" in message


def test_a_full_size_template_sheet_is_still_read(app: Flask) -> None:
    workbook = Workbook()
    sheet = workbook.active
    for number in range(imports.MAX_IMPORT_ROWS + 1):  # the header and 5000 rows
        sheet.append([f"r{number}c{c}" for c in range(20)])
    out = io.BytesIO()
    workbook.save(out)
    with app.test_request_context():
        read = read_sheet(out.getvalue())
    assert len(read.rows) == imports.MAX_IMPORT_ROWS and len(read.header) == 20
