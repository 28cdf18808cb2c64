"""Faults not tried before (issue 24): a full disk during a photo upload, SMTP refusing mail."""

from __future__ import annotations

import errno
import io
import os
import smtplib
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.web.households.test_household import PNG, activate, ask, register, request_ids, text_of
from web.extensions import db
from web.models import OutboxEmail, User
from web.services import outbox, uploads
from web.services.notifications import notify


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_a_full_disk_during_a_photo_upload_leaves_nothing_half_written(
    demo_app: Flask, auth: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth.login("village")
    slip = register(auth.client)
    phone = activate(demo_app, slip)
    folder = Path(demo_app.config["DUIJIE_UPLOAD_DIR"])
    before = _files(folder)

    def full(_fd: int) -> None:  # the bytes went to the page cache; the disk refuses them
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(uploads.os, "fsync", full)
    page = ask(phone, photo=(io.BytesIO(PNG), "p.png"))
    assert page.status_code == 200 and "照片没能保存" in text_of(page)
    assert _files(folder) == before  # no file, not even a part of one
    assert request_ids(demo_app, slip.number) == []  # and no request without its photo
    monkeypatch.undo()
    assert ask(phone, photo=(io.BytesIO(PNG), "p.png")).status_code == 302
    assert len(request_ids(demo_app, slip.number)) == 1


class _Refusing:
    """An SMTP server that answers every recipient with 550."""

    def __init__(self, *args: Any, **kwargs: Any) -> None: ...

    def __enter__(self) -> _Refusing:
        return self

    def __exit__(self, *exc: object) -> None: ...

    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: (250, b"ok")

    def send_message(self, message: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        raise smtplib.SMTPRecipientsRefused({message["To"]: (550, b"mailbox unavailable")})


def test_smtp_refusing_mail_keeps_it_in_the_outbox(
    demo_db: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo_db.config.update(DUIJIE_SMTP_URL="smtp://mail.invalid:25", DUIJIE_MAIL_FROM="a@b.cn")
    user = db.session.scalars(select(User).where(User.username == "donor")).one()
    user.email = "donor@example.cn"
    notify(db.session, user, "probe", "测试通知")
    db.session.commit()
    monkeypatch.setattr(outbox.smtplib, "SMTP", _Refusing)
    monkeypatch.setattr(outbox, "_connect", lambda url, timeout: _Refusing())
    outbox.send_pending(db.session, "smtp://mail.invalid:25", "a@b.cn")
    kept = db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == user.email)).one()
    assert kept.sent_at is None and kept.last_error and "550" in kept.last_error
