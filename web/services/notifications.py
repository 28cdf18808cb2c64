"""In-app notifications: added in the caller's transaction, read on the user's pages.

When mail is configured, each notice to a user with an e-mail address is also queued in the
outbox in the same transaction (``duijie send-mail`` sends it).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import Notification, User
from web.services.outbox import queue_email


def notify(
    session: Session, user: User, kind: str, message: str, link: str | None = None
) -> Notification:
    """Add a notification for one user (and its e-mail when mail is on); the caller commits."""
    note = Notification(user_id=user.id, kind=kind, message=message, link=link)
    session.add(note)
    queue_email(session, user, message, _mail_body(message, link))
    return note


def _mail_body(message: str, link: str | None) -> str:
    """The e-mail text of a notice: the message, where to see it, and why it was sent."""
    lines = [message, ""]
    if link:
        # The configured address, never the request's Host header (which a sender controls).
        base = (current_app.config.get("DUIJIE_BASE_URL") or "") if has_app_context() else ""
        where = f"{base.rstrip('/')}{link}" if base else f"登录平台后打开 {link}"
        lines += [f"查看详情：{where}", ""]
    lines.append("这是贺州市社会扶贫资源对接平台（对接）自动发送的通知；")
    lines.append("不想再收到邮件，可在平台“我的账户”页面删除电子邮箱。")
    return "\n".join(lines)


def organization_members(session: Session, organization_ids: Iterable[int]) -> list[User]:
    """Active users of these organizations, by id."""
    query = select(User).where(User.organization_id.in_(list(organization_ids)), User.active)
    return list(session.scalars(query.order_by(User.id)))


def village_committees(session: Session, village_ids: Iterable[int]) -> list[User]:
    """Active village committee users of these villages, by id."""
    query = select(User).where(
        User.role == "village", User.village_id.in_(list(village_ids)), User.active
    )
    return list(session.scalars(query.order_by(User.id)))
