"""The importers and exporters by kind, and the import itself: read, check every row, write
all or nothing through the services. The caller (a view, a command, a job) commits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from web.models import User
from web.services.accounts import AccountError
from web.services.kinds import load_catalogue
from web.services.ledger import LedgerFilter, export_table, ledger_rows
from web.services.organizations import can_post_offers
from web.services.sheets import accounts, cadres, needs, offers, pairing, villages
from web.services.sheets.cells import Column, Row, bind_rows
from web.services.sheets.reader import ImportFileError, Progress, read_sheet
from web.services.sheets.report import ImportDenied, ImportReport, RowError
from web.services.sheets.settings import SheetSettings

Table = Callable[[Session, User | None], list[list[Any]]]


@dataclass(frozen=True)
class Importer:
    """One kind of sheet: its name, columns, who may import it, its check, write and export.

    `check(session, actor, rows, report)` returns the rows ready to write (problems go to the
    report); `write(session, actor, checked, report)` adds them through the services.
    """

    kind: str
    name: str  # the sheet's Chinese name
    columns: tuple[Column, ...]
    export_only: tuple[str, ...]
    check: Callable[[Session, User, list[Row], ImportReport, SheetSettings], list[Any]]
    write: Callable[[Session, User, list[Any], ImportReport], None]
    table: Table


IMPORTERS: dict[str, Importer] = {
    i.kind: i
    for i in (
        Importer(
            "accounts",
            "账号",
            accounts.ACCOUNT_COLUMNS,
            accounts.EXPORT_ONLY,
            accounts.check,
            accounts.write,
            accounts.table,
        ),
        Importer(
            "offers",
            "帮扶资源",
            offers.OFFER_COLUMNS,
            offers.EXPORT_ONLY,
            offers.check,
            offers.write,
            offers.table,
        ),
        Importer(
            "needs",
            "需求和微心愿",
            needs.NEED_COLUMNS,
            needs.EXPORT_ONLY,
            needs.check,
            needs.write,
            needs.table,
        ),
        Importer(
            "villages",
            "贫困村",
            villages.VILLAGE_COLUMNS,
            villages.EXPORT_ONLY,
            villages.check,
            villages.write,
            villages.table,
        ),
        Importer(
            "pairing",
            "定点帮扶方案",
            pairing.PAIRING_COLUMNS,
            pairing.EXPORT_ONLY,
            pairing.check,
            pairing.write,
            pairing.table,
        ),
        Importer(
            "cadres",
            "干部包户",
            cadres.CADRE_COLUMNS,
            cadres.EXPORT_ONLY,
            cadres.check,
            cadres.write,
            cadres.table,
        ),
    )
}


def _ledger_table(session: Session, actor: User | None) -> list[list[Any]]:
    if actor is not None and actor.role not in ("admin", "auditor", "township"):
        raise ImportDenied(
            _("Only administrators, auditors and township officers can export the ledger.")
        )
    scope = actor if actor is not None else User(role="admin")
    return export_table(ledger_rows(session, LedgerFilter(), scope), load_catalogue(session))


IMPORT_KINDS = tuple(IMPORTERS)
EXPORTERS: dict[str, Table] = {
    "offers": offers.table,
    "needs": needs.table,
    "accounts": accounts.table,
    "ledger": _ledger_table,
    "villages": villages.table,
    "pairing": pairing.table,
    "cadres": cadres.table,
}
EXPORT_KINDS = tuple(EXPORTERS)
KIND_NAMES = {kind: importer.name for kind, importer in IMPORTERS.items()} | {"ledger": "台账"}
COLUMNS: dict[str, tuple[Column, ...]] = {k: i.columns for k, i in IMPORTERS.items()}


def may_import(actor: User, kind: str) -> str | None:
    """None when the actor may import this kind, else a translated sentence saying who may."""
    if kind == "accounts" and actor.role != "admin":
        return _("Only administrators can import accounts.")
    if kind == "offers" and (actor.role != "donor" or not can_post_offers(actor)):
        return _("Only vetted donors can import their organization's offers.")
    if kind == "needs":
        if actor.role == "village" and actor.village_id is None:
            return _("This village committee account has no village and cannot import needs.")
        if actor.role not in ("village", "admin"):
            return _(
                "Only village committees (their own village) and administrators can import needs."
            )
    if kind == "villages" and actor.role != "admin":
        return _("Only administrators can import poor villages.")
    if kind == "pairing" and actor.role != "admin":
        return _("Only administrators can import the pairing plan.")
    if kind == "cadres":
        if actor.role == "village" and actor.village_id is None:
            return _("This village committee account has no village and cannot import cadres.")
        if actor.role not in ("village", "admin"):
            return _(
                "Only village committees (their own households) and administrators can import "
                "the cadres of households."
            )
    if kind not in IMPORTERS:
        return _("“%(kind)s” cannot be imported.", kind=kind)
    return None


def _write_failed(report: ImportReport) -> None:
    report.passwords.clear()
    report.created = report.households_created = 0
    message = _(
        "Writing to the database failed (perhaps someone changed the same data at the same "
        "time); nothing was imported, please try again."
    )
    report.errors.append(RowError(0, "", message))


def import_file(
    session: Session,
    kind: str,
    data: bytes,
    actor: User,
    progress: Progress | None = None,
    *,
    settings: SheetSettings,
) -> ImportReport:
    """Check every row of the file and, only if all are valid, write them all through the
    services and flush; the caller commits. A refused file is rolled back: nothing stays.

    Raises ImportDenied when the actor may not import this kind and ImportFileError when the
    file cannot be read; row problems are returned in the report and nothing is written.
    `progress(lines read, lines in all)` follows the reading (a background import's bar).
    """
    denied = may_import(actor, kind)
    if denied:
        raise ImportDenied(denied)
    importer = IMPORTERS[kind]
    report = ImportReport(kind)
    sheet = read_sheet(data, progress)
    if progress is not None:
        progress(len(sheet.rows) + 1, len(sheet.rows) + 1)
    rows = bind_rows(sheet, importer.columns, importer.export_only, report)
    try:
        checked = importer.check(session, actor, rows, report, settings)
        if report.ok:
            importer.write(session, actor, checked, report)
            session.flush()
            report.created = len(checked)
            return report
    except (SQLAlchemyError, AccountError):
        _write_failed(report)
    # Nothing of a refused file stays (a new village's places may already be in the session).
    session.rollback()
    return report


def export_table_of(session: Session, kind: str, actor: User | None = None) -> list[list[Any]]:
    """A header row and one row per record; `actor` None means an export for the public."""
    if kind not in EXPORTERS:
        raise ImportFileError(
            _(
                "“%(kind)s” cannot be exported; possible: %(kinds)s.",
                kind=kind,
                kinds="、".join(EXPORT_KINDS),
            )
        )
    return EXPORTERS[kind](session, actor)
