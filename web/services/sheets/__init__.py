"""Sheets: importing accounts, offers, needs and villages from XLSX or CSV, all or nothing;
exporting them; the kinds catalogue's sheet (web.services.sheets.catalogue).

An import reads the whole file, checks every row and every column, and writes nothing unless
every row is valid; the report names each problem by row number (as the spreadsheet numbers
it, the header being row 1), column header and what is wrong. The headers and the values a
cell may hold stay Chinese, since the sheets are the ones county and village cadres already
keep; the messages are in the user's language (Chinese unless they chose English), and in the
app's default language, Chinese, outside a request (the `duijie import` command).

Who may import what: an administrator imports staff accounts (village committees, township
officers, auditors) and needs of any poor village; a vetted donor imports offers for its own
organization; a village committee imports needs and households' micro-wishes for its own
village only.

Exports come in two audiences: public (no actor) never holds a household's name, key, phone
or the committee's evidence note; a village committee's export of its own needs shows each
micro-wish's household key and masked display name, never a phone.

The package: `reader` (measured, streaming reading; issue 24's limits), `cells` (a row's
cells typed), `kind_cells` (kind names and codes in cells), one module per kind (`accounts`,
`offers`, `needs`, `villages`: columns, check, write through the services, export table),
`registry` (the importers by kind, `import_file`, `export_table_of`), `exporters` (CSV/XLSX,
templates) and `catalogue` (the catalogue of kinds). A new importer is a module with
columns, `check`, `write` and `table`, and one line in registry.IMPORTERS.
"""

from __future__ import annotations

from web.services.sheets.cells import Column
from web.services.sheets.exporters import table_bytes, template_xlsx
from web.services.sheets.kind_cells import RecognisedKind
from web.services.sheets.needs import household_key
from web.services.sheets.reader import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    MAX_SHEET_CELLS,
    XLSX_MIMETYPE,
    ImportFileError,
    Sheet,
    measure_sheet,
    read_sheet,
)
from web.services.sheets.registry import (
    COLUMNS,
    EXPORT_KINDS,
    IMPORT_KINDS,
    IMPORTERS,
    KIND_NAMES,
    Importer,
    export_table_of,
    import_file,
    may_import,
)
from web.services.sheets.report import ImportDenied, ImportReport, RowError
from web.services.sheets.settings import PROVINCE_BOX, SheetSettings

__all__ = [
    "COLUMNS",
    "EXPORT_KINDS",
    "IMPORTERS",
    "IMPORT_KINDS",
    "KIND_NAMES",
    "MAX_IMPORT_BYTES",
    "MAX_IMPORT_ROWS",
    "MAX_SHEET_CELLS",
    "PROVINCE_BOX",
    "XLSX_MIMETYPE",
    "Column",
    "ImportDenied",
    "ImportFileError",
    "ImportReport",
    "Importer",
    "RecognisedKind",
    "RowError",
    "Sheet",
    "SheetSettings",
    "export_table_of",
    "household_key",
    "import_file",
    "may_import",
    "measure_sheet",
    "read_sheet",
    "table_bytes",
    "template_xlsx",
]
