"""An import as the boundaries run it (the upload page, `duijie import`, a job): the service
flushes, the caller commits a valid file."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from web import clock
from web.models import User
from web.services.sheets import ImportReport, SheetSettings, import_file


def imported(
    session: Session, kind: str, data: bytes, actor: User, settings: SheetSettings | None = None
) -> ImportReport:
    """import_file, then the commit a view or command makes when every row was valid (with the
    app's settings and today unless given)."""
    settings = settings or SheetSettings.from_config(current_app.config, clock.today())
    report = import_file(session, kind, data, actor, settings=settings)
    if report.ok:
        session.commit()
    return report
