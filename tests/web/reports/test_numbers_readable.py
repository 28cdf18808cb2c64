"""Issue 23: every number a reader sees is grouped by the locale (1,234,567), and the run page
says what its objective (目标值) is made of, explaining one below zero."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm.attributes import flag_modified

from tests.web.week_support import committed, memo_solver, user  # noqa: F401  (memo_solver)
from web.extensions import db
from web.models import Allocation, AllocationRun, Need, Offer
from web.services.week import publish_run

LARGE = 1_234_567
TAGS = re.compile(r"<[^>]+>")


def _visible(html: str) -> str:
    """The page's text without its tags and attributes (what a reader sees)."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return TAGS.sub(" ", html)


def _seed_large(app: Flask) -> int:
    """A committed, published week whose pledges, offers and needs hold 1,234,567 units."""
    with app.app_context():
        run = committed()
        donor, village = user("donor"), user("village")
        for allocation in db.session.scalars(select(Allocation)):
            if (allocation.offer.organization_id == donor.organization_id
                    or allocation.need.village_id == village.village_id):  # fmt: skip
                allocation.quantity = LARGE
        for offer in db.session.scalars(
            select(Offer).where(Offer.organization_id == donor.organization_id)
        ):
            offer.quantity = LARGE + offer.allocated
        for need in db.session.scalars(select(Need).where(Need.village_id == village.village_id)):
            need.quantity = LARGE
        publish_run(db.session, run.id, user("admin"))
        db.session.commit()
        run_id = run.id
        db.session.remove()
    return run_id


@pytest.mark.usefixtures("memo_solver")
def test_large_numbers_are_grouped_on_the_pages_people_read(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    run_id = _seed_large(demo_app)
    pages = {
        None: ["/public"],
        "admin": [f"/admin/runs/{run_id}", "/ledger"],
        "donor": ["/donor/allocations", "/donor/offers"],
        "village": ["/village/allocations", "/village/needs"],
    }
    for lang, grouped in (("zh_CN", "1,234,567"), ("en", "1,234,567")):
        for who, paths in pages.items():
            if who:
                auth.login(who)
            for path in paths:
                page = client.get(f"{path}?lang={lang}")
                assert page.status_code == 200, path
                text = _visible(page.text)
                assert grouped in text, (path, lang)
                assert str(LARGE) not in text, f"{path} shows {LARGE} ungrouped"
                long_runs = [n for n in re.findall(r"(?<![\d.,-])\d{5,}(?![\d,])", text)
                             if not re.fullmatch(r"(19|20)\d{2}", n)]  # fmt: skip
                assert str(LARGE) not in long_runs
            if who:
                auth.logout()


@pytest.mark.usefixtures("memo_solver")
def test_the_run_page_explains_a_negative_objective(
    client: FlaskClient, auth: Any, demo_app: Flask
) -> None:
    with demo_app.app_context():
        run = committed()
        # As a W49 preview read: little value, large delivery and fairness costs.
        stored = db.session.get(AllocationRun, run.id)
        assert stored is not None
        stored.objective = -1234.5
        stored.metrics["optimizer"].update(
            value=300.0, fragmentation_penalty_total=534.5, fairness_penalty_total=1000.0
        )
        flag_modified(stored, "metrics")
        db.session.commit()
        run_id = run.id
        db.session.remove()
    auth.login("admin")
    text = _visible(client.get(f"/admin/runs/{run_id}").text)
    assert "目标值的构成" in text
    assert "分配的物资价值" in text and "300.0" in text
    assert "534.5" in text and "1,000.0" in text and "-1,234.5" in text
    assert "目标值低于零" in text
    english = _visible(client.get(f"/admin/runs/{run_id}?lang=en").text)
    assert "How the objective is made up" in english
    assert "The objective is below zero because" in english
