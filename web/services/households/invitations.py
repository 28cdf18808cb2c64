"""The committee registers and invites households; a household redeems its invitation, sets a
PIN and signs in, under web.services.throttle's limits."""

from __future__ import annotations

import hmac
import itertools
import re
import secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from web.models import Household, User
from web.models.base import utcnow
from web.services import throttle
from web.services.accounts import PASSWORD_METHOD
from web.services.households.base import (
    _DUMMY_PIN_HASH,
    HOUSEHOLD_FAILURES,
    HOUSEHOLD_FAILURES_DAY,
    INVITE_ALPHABET,
    INVITE_DAYS,
    INVITE_FAILURES,
    INVITE_LENGTH,
    IP_FAILURES,
    PIN_FAILURES,
    PIN_PATTERN,
    SIGN_IN_WINDOW,
    HouseholdError,
    HouseholdPrincipal,
    _aware,
    _require_committee,
    code_hash,
    log,
    normalise_code,
)
from web.services.locking import begin_write, lock_rows, relock

# --- the committee's side: households ----------------------------------------------------------


def village_households(session: Session, actor: User) -> Sequence[Household]:
    """The committee's own village's households, in registration order."""
    village_id = _require_committee(actor)
    query = select(Household).where(Household.village_id == village_id).order_by(Household.id)
    return session.scalars(query).all()


def get_household(session: Session, actor: User, household_id: int) -> Household:
    """A household of the committee's own village; LookupError otherwise."""
    village_id = _require_committee(actor)
    household = session.get(Household, household_id)
    if household is None or household.village_id != village_id:
        raise LookupError(household_id)
    return household


def sign_in_state(household: Household) -> str:
    """none (never invited), invited (code not yet used), expired, active or revoked."""
    if household.sign_in_enabled and household.pin_hash:
        return "active"
    if household.sign_in_enabled and household.invite_hash:
        expires = _aware(household.invite_expires_at)
        return "invited" if expires and expires > utcnow() else "expired"
    # Every invitation bumps session_version: a disabled household past 1 was revoked.
    return "revoked" if (household.session_version or 1) > 1 else "none"


def _new_invitation(household: Household, key: bytes) -> str:
    """Give the household a fresh code, clear its PIN and end its sessions; returns the code."""
    code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
    household.invite_hash = code_hash(code, key)
    household.invite_expires_at = utcnow() + timedelta(days=INVITE_DAYS)
    household.pin_hash = None
    household.sign_in_enabled = True
    household.session_version = (household.session_version or 1) + 1
    return code


def register_household(
    session: Session,
    actor: User,
    display_name: str,
    people: int,
    phone: str | None,
    *,
    key: bytes,
) -> tuple[Household, str]:
    """Register a household of the committee's village and invite it; the caller commits.

    Returns the household and its invitation code (shown once, on the slip).
    """
    village_id = _require_committee(actor)
    name = display_name.strip()
    if not name or len(name) > 32:
        raise HouseholdError("name")
    if not 1 <= people <= 30:
        raise HouseholdError("people")
    phone = (phone or "").strip() or None
    if phone is not None and not re.fullmatch(r"[0-9+\- ]{5,20}", phone):
        raise HouseholdError("phone")
    household = Household(village_id=village_id, display_name=name, people=people, phone=phone)
    session.add(household)
    session.flush()
    code = _new_invitation(household, key)
    log(session, household.id, "registered")
    log(session, household.id, "invited", f"{household.invite_expires_at:%Y-%m-%d}")
    session.flush()
    return household, code


def invite(session: Session, actor: User, household: Household, *, key: bytes) -> str:
    """Issue a new invitation code (also the reset): old PIN cleared, sessions ended; the
    caller commits."""
    if household.village_id != _require_committee(actor):
        raise LookupError(household.id)
    # Read afresh under the lock: a PIN set from the old slip a moment ago must be seen to be
    # cleared (the ORM writes only the columns it saw change). set_pin locks the same row, so it
    # comes wholly before (and is cleared) or wholly after (and finds the old code void).
    relock(session, household)
    code = _new_invitation(household, key)
    log(session, household.id, "invited", f"{household.invite_expires_at:%Y-%m-%d}")
    session.flush()
    return code


def revoke(session: Session, actor: User, household: Household) -> None:
    """End the household's access: code and PIN cleared, sessions ended; the caller commits."""
    if household.village_id != _require_committee(actor):
        raise LookupError(household.id)
    relock(session, household)  # as in invite
    household.invite_hash = None
    household.invite_expires_at = None
    household.pin_hash = None
    household.sign_in_enabled = False
    household.session_version = (household.session_version or 1) + 1
    log(session, household.id, "revoked")
    session.flush()


# --- the household's side: sign-in -------------------------------------------------------------


def _attempt(session: Session, limits: dict[str, int]) -> throttle.Attempt:
    """Count the attempt before anything secret is looked at (throttle.attempt commits it);
    refuse once locked.

    However many attempts arrive at once, at most the limit are checked: see throttle.attempt.
    The caller forgets the attempt when it turns out no failure.
    """
    attempt = throttle.attempt(session, limits, SIGN_IN_WINDOW)
    if not attempt.allowed:
        raise HouseholdError("locked", attempt.retry_after)
    return attempt


def redeem_invitation(session: Session, raw_code: str, ip: str, *, key: bytes) -> Household:
    """The household whose valid, unexpired invitation this is; counts a wrong code."""
    ip_bucket = f"household-invite-ip:{ip[:45]}"
    attempt = _attempt(session, {ip_bucket: INVITE_FAILURES})
    code = normalise_code(raw_code)
    household = None
    if len(code) == INVITE_LENGTH and all(c in INVITE_ALPHABET for c in code):
        household = session.scalar(
            select(Household).where(Household.invite_hash == code_hash(code, key))
        )
    if household is None or not household.sign_in_enabled:
        raise HouseholdError("bad_code")  # the attempt stays counted
    throttle.forget(session, attempt)  # a real code, if expired: not a guess
    expires = _aware(household.invite_expires_at)
    if expires is None or expires <= utcnow():
        log(session, household.id, "invite_expired")
        # commits mid-way: the refusal is raised, yet its log entry and forgotten attempt stay
        session.commit()
        raise HouseholdError("expired_code")
    session.flush()
    return household


def trivial_pin(pin: str, household_id: int | None = None) -> bool:
    """Whether a PIN is one an attacker tries first: one digit repeated (0000), a run up or
    down (1234, 987654, 7890), a pair or triple repeated (1212, 123123), a year 1900-2029 (a
    birth year is guessed first: the household's own is not stored, so none is allowed), or
    the household's number."""
    digits = [int(c) for c in pin]
    steps = {(b - a) % 10 for a, b in itertools.pairwise(digits)}
    if len(set(digits)) == 1 or steps in ({1}, {9}):
        return True
    if any(len(pin) % n == 0 and pin == pin[:n] * (len(pin) // n) for n in (2, 3)):
        return True
    if len(pin) == 4 and 1900 <= int(pin) <= 2029:
        return True
    return household_id is not None and pin.lstrip("0") == str(household_id)


def set_pin(session: Session, household_id: int, invite_hash: str, pin: str) -> HouseholdPrincipal:
    """Use the invitation (once) to set the household's PIN; returns the principal; the caller
    commits.

    Codes: ``pin_format`` (not 4 to 6 digits), ``pin_trivial`` (see trivial_pin), ``bad_code``.
    """
    if not PIN_PATTERN.fullmatch(pin or ""):
        raise HouseholdError("pin_format")
    if trivial_pin(pin, household_id):
        raise HouseholdError("pin_trivial")
    begin_write(session)  # SQLite has no row lock: two phones using one code queue here
    household = session.get(Household, household_id, with_for_update=True, populate_existing=True)
    expires = _aware(household.invite_expires_at) if household else None
    if (
        household is None
        or not household.sign_in_enabled
        or household.invite_hash is None
        or not hmac.compare_digest(household.invite_hash, invite_hash)
        or expires is None
        or expires <= utcnow()
    ):
        session.rollback()
        raise HouseholdError("bad_code")
    household.pin_hash = generate_password_hash(pin, method=PASSWORD_METHOD)
    household.invite_hash = None
    household.invite_expires_at = None
    household.last_sign_in_at = utcnow()
    log(session, household.id, "pin_set")
    session.flush()
    return HouseholdPrincipal(household)


def _pin_limits(
    household_id: int, ip: str, known_device: str | None
) -> tuple[str, dict[str, int], dict[str, timedelta]]:
    """(the household's own bucket for this attempt, bucket -> limit, bucket -> window).

    From a phone the household signed in on before (known_device), only that phone's failures
    count: no stranger can lock the household out of its own phone. From anywhere else, the
    failures from this address count, and the household's failures from all strangers
    together (HOUSEHOLD_FAILURES in 15 minutes, HOUSEHOLD_FAILURES_DAY in a day).
    """
    if known_device:
        bucket = f"household-pin:device:{known_device[:32]}:{household_id}"
        return bucket, {bucket: PIN_FAILURES}, {}
    bucket = f"household-pin:ip:{ip[:45]}:{household_id}"
    wide, day = f"household-pin:{household_id}", f"household-pin-day:{household_id}"
    limits = {bucket: PIN_FAILURES, wide: HOUSEHOLD_FAILURES, day: HOUSEHOLD_FAILURES_DAY}
    return bucket, limits, {day: timedelta(days=1)}


def sign_in(
    session: Session, raw_number: str, pin: str, ip: str, known_device: str | None = None
) -> HouseholdPrincipal:
    """Check household number and PIN, under per-phone, per-address and household-wide limits;
    the caller commits (a wrong PIN commits its log itself).

    The attempt is counted first (throttle.attempt): PINs sent at once are checked no more
    often than PIN_FAILURES from one address, then refused there even for the right PIN (see
    _pin_limits for why the household's own phone still gets in).
    """
    ip_bucket = f"household-pin-ip:{ip[:45]}"
    number = (raw_number or "").strip()
    household = (
        session.get(Household, int(number)) if number.isdigit() and len(number) < 10 else None
    )
    limits = {ip_bucket: IP_FAILURES}
    windows: dict[str, timedelta] = {}
    bucket = None
    if household is not None:
        bucket, own, windows = _pin_limits(household.id, ip, known_device)
        limits.update(own)
    attempt = throttle.attempt(session, limits, SIGN_IN_WINDOW, windows)
    if not attempt.allowed:
        raise HouseholdError("locked", attempt.retry_after)
    stored = household.pin_hash if household is not None and household.sign_in_enabled else None
    if stored is None:
        check_password_hash(_DUMMY_PIN_HASH, pin or "")  # the same time either way
    if stored is None or not check_password_hash(stored, pin or ""):
        if household is not None and bucket is not None:  # the attempt stays counted
            log(session, household.id, "sign_in_failed")
            wide = f"household-pin:{household.id}"
            if attempt.counts[bucket] == PIN_FAILURES or attempt.counts.get(wide) == (
                HOUSEHOLD_FAILURES
            ):  # this was the last try allowed from here, or from strangers
                log(session, household.id, "locked")
            if attempt.counts.get(wide) == HOUSEHOLD_FAILURES:
                _tell_committee_of_guessing(session, household)
        # commits mid-way: the refusal is raised, yet the failure's log and notice stay
        session.commit()
        raise HouseholdError("wrong_pin")
    assert household is not None and bucket is not None
    throttle.clear(session, bucket)
    throttle.forget(session, attempt)  # not a failure against the address either
    household.last_sign_in_at = utcnow()
    log(session, household.id, "signed_in")
    session.flush()
    return HouseholdPrincipal(household)


def _tell_committee_of_guessing(session: Session, household: Household) -> None:
    """A notice to the household's village committee: strangers reached the household-wide PIN
    limit (the household has no inbox; its history shows "locked" too). The caller commits."""
    from flask_babel import gettext as _

    from web.services.notifications import notify, village_committees

    def message() -> str:
        return _(
            "Someone entered a wrong PIN for household %(number)s %(count)s times in 15 minutes "
            "from phones it never used; signing in from new phones is paused for a while (the "
            "household's own phone still works). If it was not the household, check with them "
            "and give a new invitation code if needed.",
            number=household.id,
            count=HOUSEHOLD_FAILURES,
        )

    for member in village_committees(session, [household.village_id]):
        notify(
            session,
            member,
            "household_pin_limited",
            message,
            f"/village/households/{household.id}",
        )


def sign_out(session: Session, household_id: int) -> None:
    """End every session of the household, this one included (a copied cookie stops working
    too: households sign in on shared phones); the caller commits."""
    begin_write(session)
    household = lock_rows(session, Household, [household_id]).get(household_id)
    if household is None:
        return
    household.session_version = (household.session_version or 1) + 1
    log(session, household_id, "signed_out")
