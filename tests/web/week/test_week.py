"""The administrator's week: instance, preview, commit and publish on the demo data."""

from __future__ import annotations

from collections import defaultdict

import pytest
from flask import Flask
from sqlalchemy import func, select

from optimizer import parse_instance
from seeds.demo import WEEK
from tests.web.week_support import (
    FAST,
    allocated_totals,
    allocation_count,
    committed,
    memo_solver,  # noqa: F401  (a fixture)
    preview,
    user,
)
from web.extensions import db
from web.models import Allocation, AllocationRun, Need, Notification, Offer, Organization, User
from web.services import week
from web.services.week import (
    AlreadyCommitted,
    NotAllowed,
    StaleRun,
    WeekError,
    build_week_instance,
    commit_run,
    preview_week,
    publish_run,
)

pytestmark = pytest.mark.usefixtures("memo_solver", "english_commands")


def test_instance_holds_only_open_approved_offers_and_open_verified_needs(demo_db: Flask) -> None:
    withdrawn, partly = db.session.scalars(
        select(Offer).where(Offer.min_lot > 1).order_by(Offer.id).limit(2)
    ).all()
    others = Offer.organization_id.not_in([withdrawn.organization_id, partly.organization_id])
    pending_org_offer = db.session.scalars(select(Offer).where(others).limit(1)).one()
    withdrawn.status = "withdrawn"
    partly.allocated = partly.quantity - 1  # one unit left, below its minimum lot
    pending_org = db.session.get(Organization, pending_org_offer.organization_id)
    assert pending_org is not None
    pending_org.vetting = "suspended"
    db.session.commit()

    data, maps = build_week_instance(db.session, WEEK, {"fairness_floor": 0.5})

    instance = parse_instance(data)
    assert instance.policy.fairness_floor == 0.5
    assert len(instance.villages) == 267
    for item in data["offers"]:
        offer = db.session.get(Offer, maps.offers[item["id"]])
        assert offer is not None and offer.status == "open"
        assert offer.organization.vetting == "approved"
        assert item["quantity"] == offer.remaining > 0
        assert 1 <= item["min_lot"] <= item["quantity"]
    for item in data["needs"]:
        need = db.session.get(Need, maps.needs[item["id"]])
        assert need is not None and need.status == "open" and need.verification == "verified"
        assert item["quantity"] == need.remaining > 0
    ids = {item["id"]: item for item in data["offers"]}
    assert f"O{withdrawn.id}" not in ids
    assert not any(maps.offers[i] == pending_org_offer.id for i in ids)
    assert ids[f"O{partly.id}"]["quantity"] == ids[f"O{partly.id}"]["min_lot"] == 1
    verified_open = db.session.scalar(
        select(func.count(Need.id)).where(Need.status == "open", Need.verification == "verified")
    )
    assert len(data["needs"]) == verified_open


def test_unknown_policy_and_bad_week_are_refused(demo_db: Flask) -> None:
    with pytest.raises(WeekError, match="unknown policy setting"):
        build_week_instance(db.session, WEEK, {"speed": 1.0})
    with pytest.raises(WeekError, match="must be numbers"):
        build_week_instance(db.session, WEEK, {"fairness_floor": "high"})  # type: ignore[dict-item]
    with pytest.raises(WeekError, match="fairness_floor"):
        preview_week(db.session, WEEK, {"fairness_floor": 2.0}, user("admin"), time_limit=FAST)
    with pytest.raises(WeekError, match="ISO week"):
        build_week_instance(db.session, "2026-48", None)
    with pytest.raises(NotAllowed):
        preview_week(db.session, WEEK, None, user("donor"), time_limit=FAST)


def test_preview_then_commit_pledges_within_every_quantity(demo_db: Flask) -> None:
    run = preview()

    assert run.status == "preview" and run.committed_week is None
    assert run.input is not None and run.output is not None and run.output["allocations"]
    assert run.objective is not None and run.bound is not None and run.objective <= run.bound
    assert {"optimizer", "figures", "greedy"} <= set(run.metrics)
    assert allocation_count() == 0
    offers, needs = allocated_totals()
    assert set(offers.values()) == set(needs.values()) == {0}
    for username in ("donor", "village", "township", "auditor"):
        with pytest.raises(NotAllowed):
            commit_run(db.session, run.id, user(username))
    assert allocation_count() == 0

    committed = commit_run(db.session, run.id, user("admin"))
    db.session.commit()  # services flush; the caller commits

    assert committed.status == "committed" and committed.committed_week == WEEK
    assert allocation_count() == len(run.output["allocations"])
    pledged_offer: dict[int, int] = defaultdict(int)
    pledged_need: dict[int, int] = defaultdict(int)
    for allocation in db.session.scalars(select(Allocation)):
        assert allocation.status == "pledged"
        pledged_offer[allocation.offer_id] += allocation.quantity
        pledged_need[allocation.need_id] += allocation.quantity
    for offer in db.session.scalars(select(Offer)):
        assert offer.allocated == pledged_offer[offer.id] <= offer.quantity
    for need in db.session.scalars(select(Need)):
        assert need.allocated == pledged_need[need.id] <= need.quantity
    with pytest.raises(WeekError, match="not a preview"):
        commit_run(db.session, run.id, user("admin"))
    with pytest.raises(AlreadyCommitted):
        preview()


def test_second_commit_of_a_week_is_refused_and_writes_nothing(demo_db: Flask) -> None:
    first, second = preview(), preview()
    commit_run(db.session, first.id, user("admin"))
    db.session.commit()  # services flush; the caller commits
    before = allocation_count(), allocated_totals()

    with pytest.raises(AlreadyCommitted, match=WEEK):
        commit_run(db.session, second.id, user("admin"))

    assert (allocation_count(), allocated_totals()) == before
    assert db.session.get(AllocationRun, second.id).status == "preview"  # type: ignore[union-attr]


def _withdraw(offer: Offer, need: Need) -> None:
    offer.status = "withdrawn"


def _pledge_one(offer: Offer, need: Need) -> None:
    offer.allocated += 1


def _unverify(offer: Offer, need: Need) -> None:
    need.verification = "pending"


def test_commit_after_a_conflicting_change_is_refused_with_nothing_written(
    demo_db: Flask,
) -> None:
    run = preview()
    used = run.output["allocations"][0]  # type: ignore[index]
    offer_id, need_id = int(used["offer"][1:]), int(used["need"][1:])
    for change in (_withdraw, _pledge_one, _unverify):
        offer, need = db.session.get(Offer, offer_id), db.session.get(Need, need_id)
        assert offer is not None and need is not None
        saved = (offer.status, offer.allocated, need.verification)
        change(offer, need)
        db.session.commit()
        before = allocation_count(), allocated_totals()

        with pytest.raises(StaleRun, match="preview the week again"):
            commit_run(db.session, run.id, user("admin"))

        assert (allocation_count(), allocated_totals()) == before
        assert db.session.get(AllocationRun, run.id).committed_week is None  # type: ignore[union-attr]
        offer.status, offer.allocated, need.verification = saved
        db.session.commit()
    assert commit_run(db.session, run.id, user("admin")).status == "committed"


def test_publish_notifies_the_donors_and_the_villages(demo_db: Flask) -> None:
    run = committed()
    with pytest.raises(NotAllowed):
        publish_run(db.session, run.id, user("donor"))

    published = publish_run(db.session, run.id, user("admin"))
    db.session.commit()  # services flush; the caller commits

    assert published.status == "published" and published.published_at is not None
    orgs = {a.offer.organization_id for a in run.allocations}
    villages = {a.need.village_id for a in run.allocations}
    notified = set(db.session.scalars(select(Notification.user_id)))
    expected = set(
        db.session.scalars(
            select(User.id).where(
                User.organization_id.in_(orgs)
                | ((User.role == "village") & User.village_id.in_(villages))
            )
        )
    )
    assert expected and notified == expected
    assert user("village").id in notified
    message = db.session.scalars(
        select(Notification.message).where(Notification.user_id == user("village").id)
    ).one()
    assert message.startswith(f"第{WEEK}周分配已发布")
    with pytest.raises(WeekError, match="only a committed run"):
        publish_run(db.session, run.id, user("admin"))


def test_allocate_command_previews_commits_and_refuses_a_second_commit(demo_app: Flask) -> None:
    runner = demo_app.test_cli_runner()
    args = ["allocate", "--week", WEEK, "--time-limit", str(FAST)]

    previewed = runner.invoke(args=args)
    done = runner.invoke(args=[*args, "--commit"])
    again = runner.invoke(args=[*args, "--commit"])
    stranger = runner.invoke(args=[*args, "--as", "nobody"])
    donor = runner.invoke(args=[*args, "--as", "donor"])
    bad_week = runner.invoke(args=["allocate", "--week", "2026-48"])

    assert previewed.exit_code == 0, previewed.output
    assert "objective" in previewed.output and "villages served / reachable" in previewed.output
    assert "greedy" in previewed.output
    assert done.exit_code == 0 and f"pledges for week {WEEK}" in done.output
    assert again.exit_code == 1 and "already committed" in again.output
    assert stranger.exit_code == 1 and "no user 'nobody'" in stranger.output
    assert donor.exit_code == 1 and "only an administrator" in donor.output
    assert bad_week.exit_code == 1 and "ISO week" in bad_week.output
    for result in (again, stranger, donor, bad_week):
        assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    with demo_app.app_context():
        runs = db.session.scalars(select(AllocationRun).order_by(AllocationRun.id)).all()
        assert [r.status for r in runs] == ["preview", "committed"]
        assert allocation_count() == len(runs[1].output["allocations"])  # type: ignore[index]


def test_a_racing_commit_of_the_same_week_is_refused_by_the_database(
    demo_db: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = committed()
    # A run that passed its checks before the first commit finished: only the unique key is left.
    racer = AllocationRun(
        week=WEEK, status="preview", input=first.input, output={"allocations": []}, policy={}
    )
    db.session.add(racer)
    db.session.commit()
    monkeypatch.setattr(week, "ensure_not_committed", lambda session, week: None)
    before = allocation_count(), allocated_totals()

    with pytest.raises(AlreadyCommitted, match="committed meanwhile by another run"):
        commit_run(db.session, racer.id, user("admin"))

    assert (allocation_count(), allocated_totals()) == before
    assert db.session.get(AllocationRun, racer.id).status == "preview"  # type: ignore[union-attr]
