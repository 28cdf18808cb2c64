"""Idempotency-Key under retries sent at the same moment: one create, never two."""

# ruff: noqa: F811  (the api fixture is imported by name)

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from tests.web.test_api_helpers import Api, api  # noqa: F401  (fixture)
from web.extensions import db
from web.models import IdempotencyRecord, Offer

OFFER = {
    "category": "goods",
    "title": "同一时刻重发的冬衣 40 套",
    "quantity": 40,
    "valid_from": "2026-11-23",
    "valid_until": "2026-12-31",
}
SENDERS = 8


def offers_titled(app: Flask, title: str) -> int:
    with app.app_context():
        found = db.session.scalar(select(func.count()).where(Offer.title == title))
        db.session.remove()
    return int(found or 0)


def test_the_same_create_sent_eight_times_at_once_makes_one_offer(
    api: Api, demo_app: Flask
) -> None:
    token = api.token("donor")
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "winter-coats-2026-11-25"}
    start = threading.Barrier(SENDERS)
    answers: list[tuple[int, Any]] = []
    lock = threading.Lock()

    def send() -> None:
        client = demo_app.test_client()
        start.wait()
        answer = client.post("/api/v1/offers", json=OFFER, headers=headers)
        with lock:
            answers.append((answer.status_code, answer.get_json()))

    threads = [threading.Thread(target=send) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(answers) == SENDERS
    statuses = sorted(status for status, _ in answers)
    assert set(statuses) <= {201, 409}, answers
    made = {body["id"] for status, body in answers if status == 201}
    assert len(made) == 1, f"every 201 names the same offer: {answers}"
    for status, body in answers:
        if status == 409:  # still being answered when it arrived: told to retry, nothing made
            assert "Idempotency-Key" in body["detail"]
    assert offers_titled(demo_app, OFFER["title"]) == 1

    retried = api.post(
        "donor", "/offers", OFFER, headers={"Idempotency-Key": headers["Idempotency-Key"]}
    )
    assert retried.status_code == 201 and retried.get_json()["id"] in made
    assert retried.headers["Idempotent-Replayed"] == "true"


def test_a_refused_create_leaves_its_key_free_for_a_retry(api: Api, demo_app: Flask) -> None:
    key = {"Idempotency-Key": "pending-org-first-offer"}
    refused = api.post("donor-pending", "/offers", OFFER, headers=key)
    assert refused.status_code == 403
    with demo_app.app_context():
        kept = db.session.scalar(
            select(func.count()).where(IdempotencyRecord.key == key["Idempotency-Key"])
        )
        db.session.remove()
    assert kept == 0, "a refused create keeps no claim on its key"
    assert offers_titled(demo_app, OFFER["title"]) == 0
