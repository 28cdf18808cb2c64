"""Receipt photos, problem reports and overdue flags on the delivery pages."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.web.deliveries.test_delivery_pages import published
from tests.web.week_support import memo_solver, user  # noqa: F401  (memo_solver: a fixture)
from web.extensions import db
from web.models import Allocation, AllocationRun, Notification, User, Village
from web.services.accounts import hash_password
from web.services.delivery import (
    CONFIRM_OVERDUE_DAYS,
    DISPATCH_OVERDUE_DAYS,
    confirm_receipt,
    overdue_reason,
)
from web.services.uploads import Photo, UploadError
from web.unit_of_work import unit_of_work
from web.views.uploaded import upload_folder

pytestmark = pytest.mark.usefixtures("memo_solver")

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def add_user(app: Flask, username: str, role: str, **links: int | None) -> str:
    """Add an active user with a role and its organization, village or township; its password."""
    password = f"pw-{username}-2026"
    with app.app_context():
        db.session.add(
            User(
                username=username,
                password_hash=hash_password(password),
                role=role,
                display_name=username,
                **links,
            )
        )
        db.session.commit()
        db.session.remove()
    return password


def parties(app: Flask, allocation_id: int) -> dict[str, int]:
    """The allocation's donor organization, village and township, and another village."""
    with app.app_context():
        allocation = db.session.get(Allocation, allocation_id)
        assert allocation is not None
        village = allocation.need.village
        other = db.session.scalar(
            select(Village).where(Village.township_id != village.township_id).limit(1)
        )
        assert other is not None
        found = {
            "organization": allocation.offer.organization_id,
            "village": village.id,
            "township": village.township_id,
            "other_village": other.id,
            "other_township": other.township_id,
        }
        db.session.remove()
    return found


def row(app: Flask, allocation_id: int) -> Allocation:
    """The allocation as stored now (detached)."""
    with app.app_context():
        found = db.session.get(Allocation, allocation_id)
        assert found is not None
        db.session.expunge(found)
        db.session.remove()
    return found


def stored_files(app: Flask) -> list[Path]:
    """Every file in the upload folder."""
    folder = Path(app.config["DUIJIE_UPLOAD_DIR"])
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def photo(data: bytes = PNG, name: str = "receipt.png") -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


def test_receipt_with_photo_note_and_rating_and_who_may_see_the_photo(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    ids = published(demo_app)
    own = ids["village"]
    auth.login("village")
    assert 'enctype="multipart/form-data"' in client.get("/village/allocations").text
    page = client.post(
        f"/village/allocations/{own}/confirm",
        data={"note": "收到，已分发到户", "rating": "4", "photo": photo()},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "已确认收货，谢谢" in page.text
    stored = row(demo_app, own)
    assert (stored.status, stored.rating) == ("confirmed", 4)
    assert stored.receipt_note == "收到，已分发到户"
    assert stored.photo_path and stored.photo_path.startswith("receipt/")
    assert len(stored_files(demo_app)) == 1
    url = f"/allocations/{own}/photo"
    assert url in page.text
    shown = client.get(url)
    assert shown.status_code == 200 and shown.mimetype == "image/png" and shown.data == PNG
    auth.logout()

    who = parties(demo_app, own)
    readers = {
        "photo-donor": ("donor", {"organization_id": who["organization"]}),
        "photo-town": ("township", {"township_id": who["township"]}),
    }
    strangers = {
        "photo-village2": ("village", {"village_id": who["other_village"]}),
        "photo-town2": ("township", {"township_id": who["other_township"]}),
    }
    for username, (role, links) in {**readers, **strangers}.items():
        password = add_user(demo_app, username, role, **links)
        auth.login(username, password)
        expected = 200 if username in readers else 404
        assert client.get(url).status_code == expected, username
        auth.logout()
    for username in ("admin", "auditor"):
        auth.login(username)
        assert client.get(url).status_code == 200
        auth.logout()
    auth.login("donor-person")  # a donor whose offer it was not (unless it is its own)
    if who["organization"] != user_org(demo_app, "donor-person"):
        assert client.get(url).status_code == 404
    auth.logout()
    assert client.get(url).status_code == 302  # not signed in: to the login page


def user_org(app: Flask, username: str) -> int | None:
    with app.app_context():
        found = db.session.scalar(select(User.organization_id).where(User.username == username))
        db.session.remove()
    return found


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"not a photo at all", "不是 JPEG、PNG 或 WebP 照片"),
        (b"", "文件是空的"),
    ],
)
def test_a_bad_photo_confirms_nothing(
    client: FlaskClient, auth: Any, demo_app: Flask, data: bytes, message: str
) -> None:
    own = published(demo_app)["village"]
    auth.login("village")
    page = client.post(
        f"/village/allocations/{own}/confirm",
        data={"note": "收到", "rating": "5", "photo": photo(data, "photo.jpg")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "照片未被接受" in page.text and message in page.text
    assert "未确认任何内容" in page.text
    stored = row(demo_app, own)
    assert stored.status == "pledged" and stored.photo_path is None
    assert stored_files(demo_app) == []


def test_the_stored_photo_is_removed_when_the_transaction_fails(
    demo_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = published(demo_app)["village"]
    with demo_app.test_request_context():
        village = user("village")

        def broken_commit() -> None:
            raise RuntimeError("database went away")

        monkeypatch.setattr(db.session, "commit", broken_commit)
        with pytest.raises(RuntimeError), unit_of_work():  # the page's boundary
            photo = Photo(io.BytesIO(PNG), upload_folder())
            confirm_receipt(db.session, own, village, "收到", 5, photo=photo)
        monkeypatch.undo()
        assert stored_files(demo_app) == []
        with pytest.raises(UploadError):
            gif = Photo(io.BytesIO(b"GIF89a"), upload_folder())
            confirm_receipt(db.session, own, village, "收到", 5, photo=gif)
        db.session.remove()
    stored = row(demo_app, own)
    assert stored.status == "pledged" and stored.photo_path is None


def test_village_reports_a_problem_the_donor_sees_it(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    ids = published(demo_app)
    own, other = ids["village"], ids["not_village"]
    who = parties(demo_app, own)
    password = add_user(demo_app, "problem-donor", "donor", organization_id=who["organization"])
    auth.login("village")
    page = client.get("/village/allocations").text
    assert "报告问题" in page
    empty = client.post(
        f"/village/allocations/{own}/problem", data={"reason": "  "}, follow_redirects=True
    )
    assert "请描述问题" in empty.text and row(demo_app, own).problem_note is None
    page = client.post(
        f"/village/allocations/{own}/problem",
        data={"reason": "棉被少了5床"},
        follow_redirects=True,
    )
    assert "问题已报告" in page.text and "棉被少了5床" in page.text
    stored = row(demo_app, own)
    assert stored.problem_note == "棉被少了5床" and stored.problem_at is not None
    # Another village's pledge: not found, nothing stored.
    refused = client.post(f"/village/allocations/{other}/problem", data={"reason": "不是我们的"})
    assert refused.status_code == 404 and row(demo_app, other).problem_note is None
    auth.logout()

    with demo_app.app_context():
        told = db.session.scalars(
            select(Notification.message)
            .join(User, User.id == Notification.user_id)
            .where(
                User.organization_id == who["organization"],
                Notification.kind == "allocation_problem",
            )
        ).all()
        db.session.remove()
    assert told and all("棉被少了5床" in message for message in told)
    auth.login("problem-donor", password)
    page = client.get("/donor/allocations").text
    assert "已报告问题" in page and "棉被少了5床" in page
    auth.logout()
    auth.login("admin")
    with demo_app.app_context():  # the ledger narrowed to the pledge's county and category
        allocation = db.session.get(Allocation, own)
        assert allocation is not None
        where = f"county={allocation.need.village.county.code}"
        where += f"&category={allocation.need.category_code}"
        db.session.remove()
    assert "棉被少了5床" in client.get(f"/ledger?{where}&per_page=500").text


def test_another_village_cannot_report_or_see_a_problem(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    ids = published(demo_app)
    own = ids["village"]
    who = parties(demo_app, own)
    password = add_user(demo_app, "village-two", "village", village_id=who["other_village"])
    auth.login("village-two", password)
    refused = client.post(f"/village/allocations/{own}/problem", data={"reason": "x"})
    assert refused.status_code == 404
    assert row(demo_app, own).problem_note is None


# --- overdue ---------------------------------------------------------------------------------

COMMITTED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def pledge(status: str, dispatched: datetime | None = None) -> Allocation:
    return Allocation(status=status, dispatched_at=dispatched, quantity=1)


@pytest.mark.parametrize(
    ("allocation", "days_after_commit", "expected"),
    [
        (pledge("pledged"), DISPATCH_OVERDUE_DAYS - 1, None),
        (pledge("pledged"), DISPATCH_OVERDUE_DAYS + 1, "dispatch"),
        (pledge("dispatched", COMMITTED + timedelta(days=2)), CONFIRM_OVERDUE_DAYS + 1, None),
        (pledge("dispatched", COMMITTED + timedelta(days=2)), CONFIRM_OVERDUE_DAYS + 3, "confirm"),
        (pledge("received", COMMITTED), CONFIRM_OVERDUE_DAYS + 1, "confirm"),
        (pledge("confirmed", COMMITTED), 90, None),
        (pledge("cancelled"), 90, None),
    ],
)
def test_overdue_rule(allocation: Allocation, days_after_commit: int, expected: str | None) -> None:
    now = COMMITTED + timedelta(days=days_after_commit)
    assert overdue_reason(allocation, COMMITTED, now) == expected
    # SQLite returns naive timestamps: the same answer.
    assert overdue_reason(allocation, COMMITTED.replace(tzinfo=None), now) == expected


def age_run(app: Flask, days: int) -> None:
    """Move the published run's commit back by `days` days."""
    with app.app_context():
        run = db.session.scalars(
            select(AllocationRun).where(AllocationRun.status == "published")
        ).one()
        run.committed_at = datetime.now(UTC) - timedelta(days=days)
        db.session.commit()
        db.session.remove()


def test_overdue_badges_on_the_delivery_pages_and_the_ledger(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    ids = published(demo_app)
    auth.login("village")
    assert "逾期" not in client.get("/village/allocations").text
    auth.logout()
    auth.login("admin")
    fresh = client.get("/ledger?overdue=1").text
    assert "逾期" in fresh and "没有符合条件的对接记录" in fresh
    auth.logout()

    age_run(demo_app, DISPATCH_OVERDUE_DAYS + 1)
    auth.login("village")
    page = client.get("/village/allocations").text
    assert "逾期 · 未发货" in page
    auth.logout()
    auth.login("donor")
    assert "逾期 · 未发货" in client.get("/donor/allocations").text
    with demo_app.app_context():
        total = db.session.scalar(select(func.count(Allocation.id)))
        db.session.remove()
    assert overdue_total(client, auth) == total  # nothing dispatched a week after the commit
    # Dispatched now: no longer overdue, until the confirmation window has passed.
    auth.login("donor")
    assert client.post(f"/donor/allocations/{ids['donor']}/dispatch").status_code == 302
    assert overdue_total(client, auth) == total - 1
    with demo_app.app_context():
        sent = db.session.get(Allocation, ids["donor"])
        assert sent is not None
        sent.dispatched_at = datetime.now(UTC) - timedelta(days=CONFIRM_OVERDUE_DAYS + 1)
        db.session.commit()
        db.session.remove()
    auth.login("donor")
    assert "逾期 · 未确认收货" in client.get("/donor/allocations").text
    assert overdue_total(client, auth) == total
    auth.login("admin")
    only = client.get("/ledger?overdue=1").text
    assert "逾期 · 未发货" in only and only.count('class="ledger-row"') == 100
    assert re.search(r'href="/ledger\?[^"]*page=2[^"]*overdue=1', only)  # the filter is kept
    sent = client.get("/ledger?overdue=1&state=dispatched").text
    assert "逾期 · 未确认收货" in sent and sent.count('class="ledger-row"') == 1
    board = client.get("/dashboard").text
    assert f"逾期：{total:,} 笔对接" in board and "/ledger?overdue=1" in board


def overdue_total(client: FlaskClient, auth: Any) -> int:
    """The overdue count the administrator's ledger shows (signs in as admin)."""
    auth.logout()
    auth.login("admin")
    page = client.get("/ledger?overdue=1").text
    found = re.search(r"<h1>台账 <small>([\d,]+) 笔对接</small>", page)  # grouped: 1,712
    assert found, page[:2000]
    auth.logout()
    return int(found[1].replace(",", ""))


def test_a_problem_sent_twice_tells_the_donor_once(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    own = published(demo_app)["village"]
    organization = parties(demo_app, own)["organization"]
    add_user(demo_app, "twice-donor", "donor", organization_id=organization)  # one to be told

    def told() -> int:
        with demo_app.app_context():
            count = db.session.scalar(
                select(func.count(Notification.id))
                .join(User, User.id == Notification.user_id)
                .where(
                    User.organization_id == organization,
                    Notification.kind == "allocation_problem",
                )
            )
            db.session.remove()
        return int(count or 0)

    auth.login("village")
    client.post(f"/village/allocations/{own}/problem", data={"reason": "棉被少了5床"})
    once = told()
    assert once > 0
    client.post(f"/village/allocations/{own}/problem", data={"reason": "棉被少了5床"})
    assert told() == once, "a repeated report notified the donor again"
    client.post(f"/village/allocations/{own}/problem", data={"reason": "棉被少了6床，另有破损"})
    assert told() == 2 * once, "a new problem is told"
