"""What the pairing and exit-list tests share: a sheet as XLSX bytes, a demo user, and a
confirmed delivery to a village."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select

from web.extensions import db
from web.models import Allocation, AllocationRun, Need, Offer, User
from web.models.base import utcnow


def xlsx(rows: list[list[Any]]) -> bytes:
    """The rows as the bytes of an XLSX workbook's first sheet."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def user(username: str) -> User:
    """A demo user by username (inside an app context)."""
    found = db.session.scalar(select(User).where(User.username == username))
    assert found is not None
    return found


def confirmed_delivery(
    village_id: int, organization_id: int, value: float, checklist_item: str | None = None
) -> float:
    """A need of the village (tied to `checklist_item` if given) fully met by a confirmed
    pledge of one of the organization's offers, committed; its value."""
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    offer = db.session.scalar(
        select(Offer).where(Offer.organization_id == organization_id).order_by(Offer.id).limit(1)
    )
    assert admin is not None and offer is not None
    need = Need(
        village_id=village_id, category_code=offer.category_code, title="村道硬化材料",
        quantity=2, allocated=2, deadline=date(2027, 1, 1), verification="verified",
        checklist_item=checklist_item,
    )  # fmt: skip
    run = AllocationRun(
        week="2026-W40", status="published", committed_week="2026-W40",
        created_by_id=admin.id, committed_at=utcnow(), published_at=utcnow(),
    )  # fmt: skip
    offer.quantity += 2
    offer.allocated += 2
    pledge = Allocation(
        run=run, offer=offer, need=need, quantity=2, value=value, status="confirmed",
        confirmed_at=utcnow(),
    )  # fmt: skip
    db.session.add_all([need, run, pledge])
    db.session.commit()
    return value
