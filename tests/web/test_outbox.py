"""E-mail outbox: queued with the notice it announces, sent by `duijie send-mail` over SMTP."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import func, select

from web.extensions import db
from web.models import Notification, OutboxEmail, User
from web.services.notifications import notify
from web.services.week import publish_run

from .week_support import committed, memo_solver, user  # noqa: F401  (memo_solver: a fixture)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """An aiosmtpd handler keeping every message; refuses recipients at refused.example."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.endswith("@refused.example"):
            return "550 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def _configure(app: Flask, port: int) -> None:
    app.config["DUIJIE_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    app.config["DUIJIE_MAIL_FROM"] = "duijie@hezhou.example"


def _user(username: str, address: str | None) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    assert user is not None
    user.email = address
    db.session.commit()
    return user


def _outbox() -> list[OutboxEmail]:
    return list(db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def test_without_mail_configured_nothing_is_queued(demo_db: Flask) -> None:
    user = _user("village", "cun@example.cn")
    notify(db.session, user, "run_published", "本周对接结果已公布。", "/village/allocations")
    db.session.commit()
    assert db.session.scalar(select(func.count(Notification.id))) >= 1
    assert _outbox() == []


def test_a_notice_queues_its_mail_in_the_same_transaction(demo_db: Flask) -> None:
    _configure(demo_db, 2525)
    with_address = _user("village", "cun@example.cn")
    without = _user("donor", None)
    notify(db.session, with_address, "run_published", "第一次通知", "/village/allocations")
    notify(db.session, without, "run_published", "第一次通知")
    db.session.rollback()  # the notice did not happen: neither is its mail
    assert _outbox() == []
    notify(
        db.session, with_address, "run_published", "本周对接结果已公布。", "/village/allocations"
    )
    notify(db.session, without, "run_published", "本周对接结果已公布。")
    db.session.commit()
    (queued,) = _outbox()
    assert queued.to_address == "cun@example.cn" and queued.sent_at is None
    assert queued.subject == "【对接】本周对接结果已公布。"
    assert "本周对接结果已公布。" in queued.body
    assert "登录平台后打开 /village/allocations" in queued.body
    # With the platform's address configured the mail carries a full link (never a Host header).
    demo_db.config["DUIJIE_BASE_URL"] = "https://duijie.example.cn/"
    linked = notify(db.session, with_address, "run_published", "又一条通知", "/village/allocations")
    db.session.commit()
    assert linked is not None
    assert "查看详情：https://duijie.example.cn/village/allocations" in _outbox()[-1].body


def test_send_mail_delivers_to_a_real_smtp_server(
    demo_db: Flask, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    _configure(demo_db, port)
    village = _user("village", "cun@example.cn")
    township = _user("township", "zhan@refused.example")
    notify(db.session, village, "run_published", "本周对接结果已公布。", "/village/allocations")
    notify(db.session, township, "run_published", "有新的需求待核实。")
    db.session.commit()
    result = demo_db.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 1, result.output  # one message was refused
    assert "Sent 1, failed 1, still pending 1." in result.output
    (received,) = inbox.messages
    assert received["To"] == "cun@example.cn" and received["From"] == "duijie@hezhou.example"
    assert received["Subject"] == "【对接】本周对接结果已公布。"
    assert "本周对接结果已公布。" in received.get_content()  # type: ignore[attr-defined]
    db.session.expire_all()
    sent, refused = _outbox()
    assert sent.sent_at is not None and sent.attempts == 1 and sent.last_error is None
    assert refused.sent_at is None and refused.attempts == 1
    assert refused.last_error is not None and "550" in refused.last_error
    # A second run sends nothing twice; the refused one is tried again and kept.
    again = demo_db.test_cli_runner().invoke(args=["send-mail"])
    assert "Sent 0, failed 1, still pending 1." in again.output
    assert len(inbox.messages) == 1
    db.session.expire_all()
    assert _outbox()[1].attempts == 2


def test_an_unreachable_server_leaves_the_mail_pending_with_its_error(demo_db: Flask) -> None:
    _configure(demo_db, _free_port())  # nothing listens there
    village = _user("village", "cun@example.cn")
    notify(db.session, village, "run_published", "本周对接结果已公布。")
    db.session.commit()
    result = demo_db.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 1
    assert "Sent 0, failed 1, still pending 1." in result.output
    db.session.expire_all()
    (kept,) = _outbox()
    assert kept.sent_at is None and kept.attempts == 1
    assert kept.last_error is not None and "Connection" in kept.last_error


def test_send_mail_says_when_mail_is_not_configured(demo_db: Flask) -> None:
    result = demo_db.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code != 0 and "DUIJIE_SMTP_URL" in result.output


@pytest.mark.usefixtures("memo_solver")
def test_publishing_a_week_mails_the_villages_and_donors_that_gave_an_address(
    demo_db: Flask, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    _configure(demo_db, port)
    run = committed()
    village_ids = {a.need.village_id for a in run.allocations}
    organization_ids = {a.offer.organization_id for a in run.allocations}
    committee = db.session.scalar(
        select(User).where(User.role == "village", User.village_id.in_(village_ids)).limit(1)
    )
    donor = db.session.scalar(
        select(User).where(User.organization_id.in_(organization_ids)).limit(1)
    )
    assert committee is not None and donor is not None
    committee.email, donor.email = "cun@example.cn", "juanzeng@example.cn"
    db.session.commit()
    assert _outbox() == []  # committing the week announces nothing yet
    publish_run(db.session, run.id, user("admin"))
    queued = _outbox()
    assert sorted(m.to_address for m in queued) == ["cun@example.cn", "juanzeng@example.cn"]
    result = demo_db.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0 and "Sent 2, failed 0, still pending 0." in result.output
    assert sorted(m["To"] for m in inbox.messages) == ["cun@example.cn", "juanzeng@example.cn"]
