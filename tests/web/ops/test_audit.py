"""The audit trail: events in the same transaction, with their actor, hash-chained, append-only.

An attacker with database access is simulated by dropping the append-only triggers first.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import create_engine, delete, func, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from tests.web.conftest import _worker
from tests.web.week_support import committed, memo_solver  # noqa: F401  (fixture)
from web import create_app
from web.extensions import db
from web.models import AllocationRun, AuditEvent, HelpRequest, Household, Need, Offer, User
from web.services.audit import acting_as, head, verify
from web.sessions import stamp

pytestmark = pytest.mark.usefixtures("english_commands")


def events() -> int:
    return db.session.scalar(select(func.count(AuditEvent.id))) or 0


def latest(entity: str, entity_id: int) -> AuditEvent:
    query = (
        select(AuditEvent)
        .where(AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id))
        .order_by(AuditEvent.id.desc())
    )
    return db.session.scalars(query).first()  # type: ignore[return-value]


def drop_triggers() -> None:
    """What an attacker with database access does first."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("DROP TRIGGER audit_event_append_only ON audit_event"))
    else:
        db.session.execute(text("DROP TRIGGER audit_event_no_update"))
        db.session.execute(text("DROP TRIGGER audit_event_no_delete"))
    db.session.commit()


def an_open_offer() -> Offer:
    return db.session.scalars(
        select(Offer).where(Offer.status == "open").order_by(Offer.id)
    ).first()  # type: ignore[return-value]


def test_the_demo_trail_verifies_and_a_change_adds_one_event(demo_db: Flask) -> None:
    before = events()
    assert before > 100  # seeding the demo week is audited too
    assert verify(db.session).ok
    offer = an_open_offer()
    old_title = offer.title
    with acting_as(db.session.scalars(select(User).where(User.username == "admin")).one()):
        offer.title = "新标题"
        db.session.commit()
    assert events() == before + 1
    event = latest("offer", offer.id)
    assert event.action == "offer.update"
    assert event.before == {"title": old_title} and event.after == {"title": "新标题"}
    assert event.actor_id is not None
    assert verify(db.session).ok


def test_a_failed_transaction_writes_no_event(demo_db: Flask) -> None:
    before = events()
    offer = an_open_offer()
    offer.title = "rolled back"
    db.session.flush()
    db.session.rollback()
    assert events() == before
    offer = an_open_offer()
    offer.description = "committed after a rollback"
    db.session.commit()
    assert events() == before + 1  # only the committed change, not the rolled-back one
    assert latest("offer", offer.id).after == {"description": "committed after a rollback"}
    before = events()
    offer = an_open_offer()
    offer.allocated = offer.quantity + 1  # the database refuses over-allocation
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert events() == before
    assert verify(db.session).ok


def test_a_page_change_carries_the_signed_in_user(demo_app: Flask) -> None:
    client = demo_app.test_client()
    with demo_app.app_context():
        donor = db.session.scalars(select(User).where(User.username == "donor")).one()
        offer = db.session.scalars(
            select(Offer)
            .where(Offer.organization_id == donor.organization_id, Offer.allocated == 0)
            .where(Offer.status == "open")
        ).first()
        assert offer is not None
        donor_id, offer_id = donor.id, offer.id
    client.post("/login", data={"username": "donor", "password": "demo-donor-2026"})
    assert client.post(
        f"/donor/offers/{offer_id}/withdraw", data={"confirm": "yes"}
    ).status_code in (302, 303)
    with demo_app.app_context():
        event = latest("offer", offer_id)
        assert event.action == "offer.withdrawn"
        assert event.actor_id == donor_id
        assert event.before["status"] == "open" and event.after["status"] == "withdrawn"
    client.post("/logout")  # ends the donor's other sessions: the account changes
    with demo_app.app_context():
        event = latest("user", donor_id)
        assert event.actor_id == donor_id and "session_version" in event.after


def test_secrets_and_household_data_are_only_said_to_have_changed(demo_db: Flask) -> None:
    household = db.session.scalars(select(Household).order_by(Household.id)).first()
    assert household is not None
    old_name = household.display_name
    household.display_name = "王*明"
    household.phone = "13912345678"
    user = db.session.scalars(select(User).where(User.username == "village")).one()
    user.password_hash = "scrypt:new-hash"
    db.session.commit()
    h = latest("household", household.id)
    assert h.before == {"display_name": "changed", "phone": "changed"}
    assert h.after == {"display_name": "changed", "phone": "changed"}
    u = latest("user", user.id)
    assert u.after == {"password_hash": "changed"}
    everything = " ".join(f"{e.before} {e.after}" for e in db.session.scalars(select(AuditEvent)))
    assert "13912345678" not in everything and "王*明" not in everything
    assert "scrypt" not in everything
    households = " ".join(
        f"{e.before} {e.after}"
        for e in db.session.scalars(select(AuditEvent).where(AuditEvent.entity == "household"))
    )
    assert old_name not in households


def test_the_table_refuses_update_and_delete(demo_db: Flask) -> None:
    for statement in (
        "UPDATE audit_event SET action = 'x' WHERE id = (SELECT min(id) FROM audit_event)",
        "DELETE FROM audit_event WHERE id = (SELECT max(id) FROM audit_event)",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert verify(db.session).ok


def test_an_edited_event_is_found(demo_db: Flask) -> None:
    drop_triggers()
    target = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id).offset(10)).first()
    assert target is not None
    db.session.execute(
        text("UPDATE audit_event SET entity_id = '999' WHERE id = :id"), {"id": target.id}
    )
    db.session.commit()
    db.session.expire_all()
    verdict = verify(db.session)
    assert not verdict.ok
    assert verdict.problems[0].startswith(f"event {target.id} ")
    assert "edited" in verdict.problems[0]


def test_a_deleted_event_in_the_middle_is_found(demo_db: Flask) -> None:
    drop_triggers()
    ids = list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))
    db.session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": ids[20]})
    db.session.commit()
    verdict = verify(db.session)
    assert not verdict.ok
    assert f"chain breaks at event {ids[21]}" in verdict.problems[0]
    assert "deleted" in verdict.problems[0]


def test_deleting_the_newest_events_is_found(demo_db: Flask) -> None:
    offer = an_open_offer()
    offer.description = "changed once more"
    db.session.commit()
    count, digest = head(db.session)
    drop_triggers()
    db.session.execute(text("DELETE FROM audit_event WHERE id = (SELECT max(id) FROM audit_event)"))
    db.session.commit()
    db.session.expire_all()
    verdict = verify(db.session)
    assert not verdict.ok
    assert f"offer {offer.id}: description" in verdict.problems[0]
    assert "deleted" in verdict.problems[0]
    # And against a head kept outside the database:
    expected = verify(db.session, expect=f"{count}:{digest}")
    assert "deleted" in " ".join(expected.problems)


def test_a_committed_run_anchors_the_chain(demo_db: Flask, memo_solver: None) -> None:  # noqa: F811
    run = committed()
    db.session.commit()
    anchor = run.metrics["audit_anchors"]["committed"]
    assert 0 < anchor["events"] < events()
    assert verify(db.session).ok
    drop_triggers()
    # Delete every event written since the anchor, and the rows they describe stay: found.
    cut = list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))
    db.session.execute(
        text("DELETE FROM audit_event WHERE id >= :id"), {"id": cut[anchor["events"] - 1]}
    )
    db.session.commit()
    verdict = verify(db.session)
    assert not verdict.ok
    assert f"run {run.id} when committed recorded {anchor['events']} events" in verdict.problems[0]


def test_audit_cli_verify_and_head(demo_app: Flask) -> None:
    runner = demo_app.test_cli_runner()
    done = runner.invoke(args=["audit", "verify"])
    assert done.exit_code == 0, done.output
    assert "intact" in done.output
    kept = runner.invoke(args=["audit", "head"]).output.strip()
    assert runner.invoke(args=["audit", "verify", "--expect", kept]).exit_code == 0
    with demo_app.app_context():
        drop_triggers()
        db.session.execute(text("UPDATE audit_event SET action = 'offer.delete' WHERE id = 5"))
        db.session.commit()
    broken = runner.invoke(args=["audit", "verify"])
    assert broken.exit_code == 1
    assert "event 5" in broken.output and "edited" in broken.output
    bad = runner.invoke(args=["audit", "verify", "--expect", "nonsense"])
    assert bad.exit_code == 2 and "COUNT:HASH" in bad.output


# SQLite lets one writer at a time: the race needs PostgreSQL
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_concurrent_transactions_do_not_fork_the_chain(demo_db: Flask, backend: str) -> None:
    offer_ids = list(db.session.scalars(select(Offer.id).order_by(Offer.id).limit(12)))
    before = events()
    engine = db.engine
    barrier = threading.Barrier(len(offer_ids))
    errors: list[BaseException] = []

    def change(offer_id: int) -> None:
        try:
            with Session(engine) as session:
                offer = session.get(Offer, offer_id)
                assert offer is not None
                offer.description = f"concurrent {offer_id}"
                barrier.wait(timeout=30)  # all flush and commit at the same moment
                session.commit()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=change, args=(i,)) for i in offer_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert events() == before + len(offer_ids)
    hashes = list(db.session.scalars(select(AuditEvent.prev_hash)))
    assert len(hashes) == len(set(hashes)), "two events chained onto the same head"
    assert verify(db.session).ok


@pytest.fixture
def migrated_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
    return request.getfixturevalue("pg").recreate(f"duijie_audit_mig_{_worker()}")


def test_the_migration_makes_the_table_append_only(migrated_url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": migrated_url, "SECRET_KEY": "t"})
    with app.app_context():
        upgrade()
        db.session.add(User(username="auditee", password_hash="x", role="auditor"))
        db.session.commit()
        assert events() == 1
        db.engine.dispose()
    engine = create_engine(migrated_url.replace("postgresql://", "postgresql+psycopg://"))
    for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        with engine.begin() as conn, pytest.raises(DBAPIError, match="append-only"):
            conn.execute(text(statement))
    engine.dispose()


def test_needs_keep_their_history(demo_db: Flask) -> None:
    need = db.session.scalars(select(Need).order_by(Need.id)).first()
    assert need is not None
    need.verification = "verified"
    need.urgency = 5 if need.urgency != 5 else 4
    db.session.commit()
    event = latest("need", need.id)
    assert set(event.after) >= {"urgency"}
    assert verify(db.session).ok


def test_bulk_update_and_delete_statements_are_audited_too(demo_db: Flask) -> None:
    """Job code moves runs with session.execute(update(...)): those changes are audited too."""
    admin = db.session.scalars(select(User).where(User.username == "admin")).one()
    run = AllocationRun(week="2026-W02", status="queued", created_by_id=admin.id)
    db.session.add(run)
    db.session.commit()
    before = events()
    db.session.execute(
        update(AllocationRun)
        .where(AllocationRun.id == run.id)
        .values(status="running", progress={"stage": "solving"})
    )
    db.session.execute(update(AllocationRun.__table__).where(AllocationRun.id == run.id)
                       .values(progress={"stage": "still"}))  # fmt: skip
    db.session.commit()
    assert events() == before + 1  # progress alone is not audited
    event = latest("run", run.id)
    assert event.action == "run.running"
    assert event.before == {"status": "queued"} and event.after == {"status": "running"}
    offer = an_open_offer()
    db.session.execute(delete(Offer).where(Offer.id == -1))  # nothing matched: no event
    assert events() == before + 1
    db.session.execute(update(Offer).where(Offer.id == offer.id).values(title="批量"))
    db.session.commit()
    assert latest("offer", offer.id).after == {"title": "批量"}
    assert verify(db.session).ok


def test_a_households_own_request_names_the_household(demo_app: Flask) -> None:
    with demo_app.app_context():
        household = db.session.scalars(select(Household).order_by(Household.id)).first()
        assert household is not None
        household.sign_in_enabled, household.pin_hash = True, "pin-hash-for-tests"
        db.session.commit()
        session_id = f"h:{household.id}:{household.session_version}"
        household_id = household.id
    client = demo_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = session_id, True
        stamp(session)
    data = {"category": "goods", "what": "过冬棉被", "quantity": "2"}
    assert client.post("/h/ask", data=data).status_code in (200, 302)
    with demo_app.app_context():
        request = db.session.scalars(
            select(HelpRequest).where(HelpRequest.household_id == household_id)
        ).one()
        event = latest("help_request", request.id)
        assert event.action == "help_request.create" and event.actor_id is None
        assert event.after["_by"] == f"household {household_id}"
        assert event.after["what"] == "过冬棉被"
        assert verify(db.session).ok


def _rewrite_newest_without_the_key() -> AuditEvent:
    """What whoever can write the database does: change the newest event and recompute its
    hash consistently (SHA-256, as the chain was before issue 24: no key to make an HMAC)."""
    from web.services.audit import event_hash

    drop_triggers()
    newest = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert newest is not None
    forged_at = newest.at.replace(year=2020)
    digest = event_hash(
        prev_hash=newest.prev_hash, at=forged_at, actor_id=newest.actor_id,
        action=newest.action, entity=newest.entity, entity_id=newest.entity_id,
        before=newest.before, after=newest.after,
    )  # fmt: skip
    db.session.execute(
        text("UPDATE audit_event SET at = :at, hash = :hash, key_id = NULL WHERE id = :id"),
        {"at": forged_at, "hash": digest, "id": newest.id},
    )
    db.session.commit()
    db.session.expire_all()
    return newest


def test_a_consistent_rewrite_without_the_key_is_found(demo_db: Flask) -> None:
    offer = an_open_offer()
    offer.description = "changed for the keyed chain"
    db.session.commit()
    assert verify(db.session).ok
    forged = _rewrite_newest_without_the_key()
    verdict = verify(db.session)
    assert not verdict.ok
    assert f"event {forged.id} " in verdict.problems[0] and "without the key" in verdict.problems[0]


def test_audit_keys_rotate_and_old_events_still_verify(demo_app: Flask, tmp_path: Path) -> None:
    demo_app.config["DUIJIE_AUDIT_KEY_FILE"] = str(tmp_path / "keys")
    runner = demo_app.test_cli_runner()
    with demo_app.app_context():
        # A fresh key file: the demo's events were signed with another key, unknown here.
        assert not verify(db.session).ok
    demo_app.config["DUIJIE_AUDIT_KEY_FILE"] = None
    with demo_app.app_context():
        from web.services.audit import key_file

        path = key_file()
        assert path is not None and path.exists()
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        before = path.read_text()
    result = runner.invoke(args=["audit", "rotate-key"])
    try:
        assert result.exit_code == 0, result.output
        with demo_app.app_context():
            offer = an_open_offer()
            offer.description = "signed with the new key"
            db.session.commit()
            newest = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
            assert newest is not None and newest.key_id == f"k{len(before.splitlines()) + 1}"
            assert verify(db.session).ok  # old events by the old key, new ones by the new
    finally:
        with demo_app.app_context():
            from web.services.audit import key_file

            path = key_file()
            assert path is not None
            path.write_text(before)  # other tests' databases keep their key
