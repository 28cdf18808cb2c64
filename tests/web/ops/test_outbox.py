"""E-mail outbox: queued with the notice it announces, sent by `duijie send-mail` over SMTP."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from tests.web.week_support import committed, memo_solver, user  # noqa: F401  (memo_solver: a fixture)
from web.config import engine_options
from web.extensions import db
from web.models import Notification, OutboxEmail, User
from web.models.base import utcnow
from web.services.notifications import notify
from web.services.outbox import (
    CLAIM_SECONDS,
    SendReport,
    _claim_marker,
    mail_settings,
    queue_email,
    send_pending,
)
from web.services.week import publish_run

pytestmark = pytest.mark.usefixtures("english_commands")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """An aiosmtpd handler keeping every message; refuses recipients at refused.example."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refused: list[str] = []
        self.delay = 0.0  # seconds each message takes: a slow server widens the races

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.endswith("@refused.example"):
            self.refused.append(address)
            return "550 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.delay)
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


def test_a_notice_whose_savepoint_rolled_back_is_not_mailed(demo_db: Flask) -> None:
    _configure(demo_db, 2525)
    village = _user("village", "cun@example.cn")
    notify(db.session, village, "run_published", "留下的通知")
    with db.session.begin_nested() as savepoint:
        notify(db.session, village, "run_published", "撤回的通知")
        db.session.flush()
        savepoint.rollback()
    db.session.commit()
    assert [m.subject for m in _outbox()] == ["【对接】留下的通知"]
    # Mail turned off after the app was made: the next commit queues nothing.
    demo_db.config["DUIJIE_SMTP_URL"] = None
    notify(db.session, village, "run_published", "关闭邮件后的通知")
    db.session.commit()
    assert len(_outbox()) == 1


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
    db.session.commit()  # services flush; the caller commits
    queued = _outbox()
    assert sorted(m.to_address for m in queued) == ["cun@example.cn", "juanzeng@example.cn"]
    result = demo_db.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0 and "Sent 2, failed 0, still pending 0." in result.output
    assert sorted(m["To"] for m in inbox.messages) == ["cun@example.cn", "juanzeng@example.cn"]


RUNS = 4


def _overlapping_runs(url: str, smtp_url: str) -> list[SendReport]:
    """RUNS send_pending runs, each in its own thread and connection, released together."""
    engine = create_engine(url, poolclass=NullPool, **engine_options(url))
    barrier = threading.Barrier(RUNS)
    reports: list[SendReport | BaseException | None] = [None] * RUNS

    def run(index: int) -> None:
        with Session(engine) as session:
            try:
                barrier.wait(timeout=60)
                reports[index] = send_pending(session, smtp_url, "duijie@hezhou.example")
            except Exception as error:  # a lock timeout or deadlock fails the test
                reports[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RUNS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    engine.dispose()
    assert all(not t.is_alive() for t in threads), "a send-mail run hung"
    assert all(isinstance(r, SendReport) for r in reports), reports
    return [r for r in reports if isinstance(r, SendReport)]


def test_overlapping_send_mail_runs_send_each_message_exactly_once(
    demo_db: Flask, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    inbox.delay = 0.05
    _configure(demo_db, port)
    village = _user("village", "cun@example.cn")
    for i in range(10):
        if i % 4 == 3:  # some the server refuses: they stay pending, each refusal counted
            village.email = f"m{i}@refused.example"
        queue_email(db.session, village, f"消息 {i}", f"正文 {i}", mail_settings(demo_db.config))
        village.email = "cun@example.cn"
    db.session.commit()
    url = str(demo_db.config["SQLALCHEMY_DATABASE_URI"])
    db.session.remove()  # the runs alone hold connections

    reports = _overlapping_runs(url, str(demo_db.config["DUIJIE_SMTP_URL"]))

    received = Counter(str(m["Subject"]) for m in inbox.messages)
    expected = {f"【对接】消息 {i}" for i in range(10) if i % 4 != 3}
    assert set(received) == expected and set(received.values()) == {1}, received
    assert sum(r.sent for r in reports) == len(expected)
    refusals = Counter(inbox.refused)
    assert sum(r.failed for r in reports) == len(inbox.refused)
    outbox = _outbox()
    for row in outbox:
        if row.to_address.endswith("@refused.example"):  # pending, each try counted in SQL
            assert row.sent_at is None and row.attempts == refusals[row.to_address] >= 1
            assert row.last_error is not None and "550" in row.last_error
        else:  # sent once, tried once
            assert row.sent_at is not None and row.attempts == 1 and row.last_error is None
    # A later run finds nothing left to send twice.
    assert send_pending(db.session, str(demo_db.config["DUIJIE_SMTP_URL"]), "x@y.cn").sent == 0
    assert len(inbox.messages) == len(expected)


def test_a_message_another_run_is_sending_is_skipped_until_its_claim_is_stale(
    demo_db: Flask, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    _configure(demo_db, port)
    village = _user("village", "cun@example.cn")
    queued = queue_email(
        db.session, village, "被另一次运行认领", "正文", mail_settings(demo_db.config)
    )
    assert queued is not None
    queued.attempts, queued.last_error = 1, _claim_marker(utcnow())
    db.session.commit()
    smtp_url = str(demo_db.config["DUIJIE_SMTP_URL"])
    report = send_pending(db.session, smtp_url, "duijie@hezhou.example")
    assert (report.sent, report.failed, inbox.messages) == (0, 0, [])
    # The run holding the claim was killed mid-send: once the claim is stale it is sent again.
    stale = utcnow() - timedelta(seconds=CLAIM_SECONDS + 1)
    queued.last_error = _claim_marker(stale)
    db.session.commit()
    report = send_pending(db.session, smtp_url, "duijie@hezhou.example")
    assert report.sent == 1 and len(inbox.messages) == 1
    db.session.expire_all()
    (sent,) = _outbox()
    assert sent.sent_at is not None and sent.attempts == 2 and sent.last_error is None
