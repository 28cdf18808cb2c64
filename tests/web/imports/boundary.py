"""An import as the boundaries run it (the upload page, `duijie import`, a job): the service
flushes, the caller commits a valid file."""

from __future__ import annotations

from sqlalchemy.orm import Session

from web.models import User
from web.services.sheets import ImportReport, SheetSettings, import_file


def imported(
    session: Session, kind: str, data: bytes, actor: User, settings: SheetSettings | None = None
) -> ImportReport:
    """import_file, then the commit a view or command makes when every row was valid."""
    report = import_file(session, kind, data, actor, settings=settings)
    if report.ok:
        session.commit()
    return report
