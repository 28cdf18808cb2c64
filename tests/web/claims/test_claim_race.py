"""Twenty donors claim one micro-wish at the same moment: exactly one wins, the others get 409
with a problem document saying it was taken (on PostgreSQL: row locks and the unique partial
index on holding claims; on SQLite: the write lock)."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from web.extensions import db
from web.models import Need, Organization, User, WishClaim
from web.services.tokens import create_token

CLAIMERS = 20


def _donors(app: Flask) -> list[str]:
    """Twenty approved individual donors, each with its own token."""
    tokens = []
    with app.app_context():
        for n in range(CLAIMERS):
            organization = Organization(name=f"爱心人士{n:02d}", kind="individual",
                                        vetting="approved")  # fmt: skip
            user = User(username=f"race-{n:02d}", password_hash="x", role="donor",
                        organization=organization)  # fmt: skip
            db.session.add_all([organization, user])
            db.session.flush()
            tokens.append(create_token(db.session, user, "race").secret)
        db.session.commit()
        db.session.remove()
    return tokens


def test_twenty_claims_at_once_one_wins(demo_app: Flask) -> None:
    tokens = _donors(demo_app)
    with demo_app.app_context():
        wish = db.session.scalar(
            select(Need.id).where(
                Need.household_id.is_not(None), Need.status == "open",
                Need.verification == "verified", Need.item_code.is_not(None),
                Need.allocated == 0,
            ).order_by(Need.id)
        )  # fmt: skip
        db.session.remove()
    start = threading.Barrier(CLAIMERS)
    answers: list[tuple[int, Any, str]] = []
    lock = threading.Lock()

    def claim(token: str) -> None:
        client = demo_app.test_client()
        start.wait()
        answer = client.post(
            f"/api/v1/wishes/{wish}/claims", headers={"Authorization": f"Bearer {token}"}
        )
        with lock:
            answers.append((answer.status_code, answer.get_json(), answer.mimetype))

    threads = [threading.Thread(target=claim, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(answers) == CLAIMERS
    statuses = sorted(status for status, _body, _type in answers)
    assert statuses == [201] + [409] * (CLAIMERS - 1), answers
    for status, body, mimetype in answers:
        if status == 409:
            assert mimetype == "application/problem+json"
            assert body["code"] == "taken" and body["detail"]
    with demo_app.app_context():
        held = db.session.scalar(
            select(func.count()).select_from(WishClaim).where(WishClaim.need_id == wish)
        )
        db.session.remove()
    assert held == 1
