"""What an import found and did: the problems by row and column, and the rows written."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _

from web.services.sheets.kind_cells import RecognisedKind


class ImportDenied(PermissionError):
    """The actor may not import (or export) this kind; the message says who may."""


@dataclass(frozen=True)
class RowError:
    """One problem: the spreadsheet row, the column header and what is wrong."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.row and self.column:
            return _(
                "Row %(row)s, “%(column)s”: %(message)s",
                row=self.row,
                column=self.column,
                message=self.message,
            )
        if self.row:
            return _("Row %(row)s: %(message)s", row=self.row, message=self.message)
        if self.column:
            return _(
                "In the file, “%(column)s”: %(message)s", column=self.column, message=self.message
            )
        return _("In the file: %(message)s", message=self.message)


@dataclass
class ImportReport:
    """What an import found and did: rows read, problems, rows written, notes for the user."""

    kind: str
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    # Passwords generated for accounts imported without one: shown once, never stored.
    passwords: list[tuple[str, str]] = field(default_factory=list)
    households_created: int = 0
    # Rows whose empty 品类 was filled by recognition from the title, for the user to check.
    recognised: list[RecognisedKind] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors
