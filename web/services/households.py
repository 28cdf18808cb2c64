"""Households asking for help themselves (issue 10): sign-in, requests, the committee's inbox.

A household is not a User. Its committee registers it and hands it a one-time invitation code
(stored as a keyed hash, valid 14 days, used once); the household then sets a 4-6 digit PIN and
later signs in with its household number (户号, printed on the slip) and that PIN. Sign-in and
submission are rate-limited through web.services.throttle. Whatever a household asks for waits
for its committee, which accepts it as a micro-wish (a pending Need the township still
verifies), merges it into an existing village need, or declines it with a reason.

HouseholdEvent rows keep a log for the committee: never a name or a phone, never an IP address.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from matcher.categories import CATEGORY_CODES
from matcher.kinds import covers
from web.models import Allocation, HelpRequest, Household, HouseholdEvent, Need, User
from web.models.base import utcnow
from web.services import delivery, throttle, uploads
from web.services import needs as needs_service
from web.services.accounts import PASSWORD_METHOD
from web.services.kinds import NeedKind, load_catalogue, recognise
from web.services.locking import begin_write, lock_rows, relock
from web.services.titles import title_problem

# Invitation codes: no 0/O, 1/I/L, so a code read off paper is typed right.
INVITE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
INVITE_LENGTH = 8
INVITE_DAYS = 14
PIN_PATTERN = re.compile(r"\d{4,6}")

# Abuse limits.
MAX_OPEN_REQUESTS = 3
SUBMISSIONS_PER_DAY = 5
PIN_FAILURES = 5  # per household from one address (or its own phone) within SIGN_IN_WINDOW
HOUSEHOLD_FAILURES = 10  # per household from all addresses and phones it never used
HOUSEHOLD_FAILURES_DAY = 30  # ...within a day: the wait grows
IP_FAILURES = 20  # per address within SIGN_IN_WINDOW (guessing many households' PINs)
INVITE_FAILURES = 10  # wrong invitation codes per address within SIGN_IN_WINDOW
SIGN_IN_WINDOW = timedelta(minutes=15)
SUBMISSION_WINDOW = timedelta(days=1)

# The kinds of help a household may pick (pictures under web/static/img/categories/).
HOUSEHOLD_CATEGORIES = ("goods", "education", "medical", "training", "jobs")
MAX_WHAT = 200
MAX_QUANTITY = 99
MAX_REASON = 300

_DUMMY_PIN_HASH = generate_password_hash("000000", method=PASSWORD_METHOD)


class HouseholdError(ValueError):
    """A household action was refused; `code` names the reason for the page to explain."""

    def __init__(self, code: str, retry_after: int = 0) -> None:
        super().__init__(code)
        self.code = code
        self.retry_after = retry_after


class HouseholdPrincipal:
    """A signed-in household as Flask-Login sees it: role "household", never a staff role."""

    role = "household"
    is_authenticated = True
    is_active = True
    is_anonymous = False
    active = True
    organization_id = None
    township_id = None
    # A household has no staff account: pages written for users find these empty.
    username = ""
    email = None
    password_hash = ""

    def __init__(self, household: Household) -> None:
        self.household_id = household.id
        self.village_id = household.village_id
        self.session_version = household.session_version
        self.display_name = household.display_name

    def get_id(self) -> str:
        """The session id: "h:<household id>:<session version>"."""
        return f"h:{self.household_id}:{self.session_version}"


def load_principal(session: Session, session_id: str) -> HouseholdPrincipal | None:
    """The household behind a session id "h:<id>:<version>", if its sign-in is still valid."""
    parts = session_id.split(":")
    if len(parts) != 3 or parts[0] != "h" or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    household = session.get(Household, int(parts[1]))
    if (
        household is None
        or not household.sign_in_enabled
        or household.pin_hash is None
        or household.session_version != int(parts[2])
    ):
        return None
    return HouseholdPrincipal(household)


# --- codes, PINs and the event log -------------------------------------------------------------


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every moment stored here is UTC.
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def normalise_code(raw: str) -> str:
    """A typed invitation code in canonical form: upper case, spaces and dashes dropped."""
    return re.sub(r"[\s\-]", "", raw or "").upper()


def format_code(code: str) -> str:
    """An invitation code as printed: ABCD-EFGH."""
    return f"{code[:4]}-{code[4:]}"


def code_hash(code: str) -> str:
    """Keyed hash of a canonical code: lets the code be looked up but not read back."""
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, code.encode(), hashlib.sha256).hexdigest()


def log(session: Session, household_id: int, kind: str, detail: str = "") -> None:
    """Add one entry to the household's log (no name, no phone); the caller commits."""
    session.add(HouseholdEvent(household_id=household_id, kind=kind, detail=detail[:200]))


def events(session: Session, household_id: int, limit: int = 100) -> Sequence[HouseholdEvent]:
    """The household's log, newest first."""
    query = (
        select(HouseholdEvent)
        .where(HouseholdEvent.household_id == household_id)
        .order_by(HouseholdEvent.id.desc())
        .limit(limit)
    )
    return session.scalars(query).all()


# --- the committee's side: households ----------------------------------------------------------


def _require_committee(actor: User) -> int:
    if actor.role != "village" or actor.village_id is None:
        raise LookupError("not a village committee")
    return int(actor.village_id)


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


def _new_invitation(household: Household) -> str:
    """Give the household a fresh code, clear its PIN and end its sessions; returns the code."""
    code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(INVITE_LENGTH))
    household.invite_hash = code_hash(code)
    household.invite_expires_at = utcnow() + timedelta(days=INVITE_DAYS)
    household.pin_hash = None
    household.sign_in_enabled = True
    household.session_version = (household.session_version or 1) + 1
    return code


def register_household(
    session: Session, actor: User, display_name: str, people: int, phone: str | None
) -> tuple[Household, str]:
    """Register a household of the committee's village and invite it; commits.

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
    code = _new_invitation(household)
    log(session, household.id, "registered")
    log(session, household.id, "invited", f"{household.invite_expires_at:%Y-%m-%d}")
    session.commit()
    return household, code


def invite(session: Session, actor: User, household: Household) -> str:
    """Issue a new invitation code (also the reset): old PIN cleared, sessions ended; commits."""
    if household.village_id != _require_committee(actor):
        raise LookupError(household.id)
    # Read afresh under the lock: a PIN set from the old slip a moment ago must be seen to be
    # cleared (the ORM writes only the columns it saw change). set_pin locks the same row, so it
    # comes wholly before (and is cleared) or wholly after (and finds the old code void).
    relock(session, household)
    code = _new_invitation(household)
    log(session, household.id, "invited", f"{household.invite_expires_at:%Y-%m-%d}")
    session.commit()
    return code


def revoke(session: Session, actor: User, household: Household) -> None:
    """End the household's access: code and PIN cleared, sessions ended; commits."""
    if household.village_id != _require_committee(actor):
        raise LookupError(household.id)
    relock(session, household)  # as in invite
    household.invite_hash = None
    household.invite_expires_at = None
    household.pin_hash = None
    household.sign_in_enabled = False
    household.session_version = (household.session_version or 1) + 1
    log(session, household.id, "revoked")
    session.commit()


# --- the household's side: sign-in -------------------------------------------------------------


def _attempt(session: Session, limits: dict[str, int]) -> throttle.Attempt:
    """Count the attempt before anything secret is looked at (commits); refuse once locked.

    However many attempts arrive at once, at most the limit are checked: see throttle.attempt.
    The caller forgets the attempt when it turns out no failure.
    """
    attempt = throttle.attempt(session, limits, SIGN_IN_WINDOW)
    if not attempt.allowed:
        raise HouseholdError("locked", attempt.retry_after)
    return attempt


def redeem_invitation(session: Session, raw_code: str, ip: str) -> Household:
    """The household whose valid, unexpired invitation this is; counts a wrong code."""
    ip_bucket = f"household-invite-ip:{ip[:45]}"
    attempt = _attempt(session, {ip_bucket: INVITE_FAILURES})
    code = normalise_code(raw_code)
    household = None
    if len(code) == INVITE_LENGTH and all(c in INVITE_ALPHABET for c in code):
        household = session.scalar(
            select(Household).where(Household.invite_hash == code_hash(code))
        )
    if household is None or not household.sign_in_enabled:
        raise HouseholdError("bad_code")  # the attempt stays counted
    throttle.forget(session, attempt)  # a real code, if expired: not a guess
    expires = _aware(household.invite_expires_at)
    if expires is None or expires <= utcnow():
        log(session, household.id, "invite_expired")
        session.commit()
        raise HouseholdError("expired_code")
    session.commit()
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
    """Use the invitation (once) to set the household's PIN; commits and returns the principal.

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
    session.commit()
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
    commits.

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
        session.commit()
        raise HouseholdError("wrong_pin")
    assert household is not None and bucket is not None
    throttle.clear(session, bucket)
    throttle.forget(session, attempt)  # not a failure against the address either
    household.last_sign_in_at = utcnow()
    log(session, household.id, "signed_in")
    session.commit()
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


# --- the household's side: requests ------------------------------------------------------------

# The six plain steps a request goes through, as the household sees them.
STEPS = ("received", "accepted", "verified", "allocated", "on_its_way", "delivered")


@dataclass
class RequestView:
    """A help request with its state in plain terms, derived from its need and allocations."""

    request: HelpRequest
    state: str
    allocations: list[Allocation] = field(default_factory=list)
    can_withdraw: bool = False
    can_confirm: bool = False
    reported_arrival: bool = False

    @property
    def step(self) -> int:
        """How far along the six steps the request is (0-based), or -1 off the path."""
        return STEPS.index(self.state) if self.state in STEPS else -1


def _allocations_by_need(session: Session, need_ids: list[int]) -> dict[int, list[Allocation]]:
    if not need_ids:
        return {}
    rows = session.scalars(
        select(Allocation)
        .where(Allocation.need_id.in_(need_ids), Allocation.status != "cancelled")
        .order_by(Allocation.id)
    ).all()
    found: dict[int, list[Allocation]] = {}
    for row in rows:
        found.setdefault(row.need_id, []).append(row)
    return found


def _reported(session: Session, request: HelpRequest) -> bool:
    query = select(HouseholdEvent.id).where(
        HouseholdEvent.household_id == request.household_id,
        HouseholdEvent.kind == "arrival_reported",
        HouseholdEvent.detail == f"#{request.id}",
    )
    return session.scalar(query.limit(1)) is not None


def describe(session: Session, request: HelpRequest, allocations: list[Allocation]) -> RequestView:
    """Where the request stands: one of STEPS, or declined, withdrawn, rejected (township)."""
    view = RequestView(request, request.status, allocations)
    need = request.need
    if request.status == "received":
        view.can_withdraw = True
        return view
    if request.status in ("declined", "withdrawn") or need is None:
        return view
    if need.status == "withdrawn":
        view.state = "withdrawn"
        return view
    statuses = {a.status for a in allocations}
    if statuses and statuses <= {"received", "confirmed"}:
        view.state = "delivered"
    elif statuses & {"dispatched", "received"}:
        view.state = "on_its_way"
    elif "pledged" in statuses:
        view.state = "allocated"
    elif need.verification == "verified":
        view.state = "verified"
    elif need.verification == "rejected":
        view.state = "rejected"
    else:
        view.state = "accepted"
    own_wish = request.status == "accepted" and need.household_id == request.household_id
    if own_wish:
        view.can_confirm = bool(statuses & {"pledged", "dispatched", "received"})
        view.can_withdraw = need.allocated == 0 and need.status == "open"
    else:
        view.reported_arrival = _reported(session, request)
        view.can_confirm = bool(allocations) and not view.reported_arrival
    return view


def household_requests(session: Session, household_id: int) -> list[RequestView]:
    """The household's own requests, newest first, each with its state."""
    requests = session.scalars(
        select(HelpRequest)
        .where(HelpRequest.household_id == household_id)
        .order_by(HelpRequest.id.desc())
    ).all()
    allocations = _allocations_by_need(session, [r.need_id for r in requests if r.need_id])
    return [describe(session, r, allocations.get(r.need_id or 0, [])) for r in requests]


def own_request(session: Session, household_id: int, request_id: int) -> RequestView:
    """One of the household's own requests; LookupError for anyone else's (the page says 404)."""
    request = session.get(HelpRequest, request_id)
    if request is None or request.household_id != household_id:
        raise LookupError(request_id)
    allocations = _allocations_by_need(session, [request.need_id] if request.need_id else [])
    return describe(session, request, allocations.get(request.need_id or 0, []))


def open_request_count(session: Session, household_id: int) -> int:
    """Requests still waiting for the committee, the township or their help to arrive."""
    views = household_requests(session, household_id)
    return sum(1 for v in views if v.state in STEPS[:-1])


def submit_request(
    session: Session,
    household_id: int,
    category: str,
    what: str,
    quantity: int,
    photo: uploads.Photo | None = None,
) -> HelpRequest:
    """File a help request for the household, within its limits; commits.

    Refused (HouseholdError) for an unknown kind, empty or long text, a quantity out of range,
    MAX_OPEN_REQUESTS open requests already, SUBMISSIONS_PER_DAY within a day, or (UploadError)
    a photo that is not one. Nothing is kept of a refused request.
    """
    household = session.get(Household, household_id)
    if household is None or not household.sign_in_enabled:
        raise HouseholdError("no_household")
    if category not in HOUSEHOLD_CATEGORIES or category not in CATEGORY_CODES:
        raise HouseholdError("category")
    text = (what or "").strip()
    if not text or len(text) > MAX_WHAT or title_problem(text) is not None:
        raise HouseholdError("what")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise HouseholdError("quantity")
    # Requests sent at once (a double tap, a retry on a slow line) are counted one after the
    # other: the household's row is locked (SQLite: the write lock) until this one commits.
    begin_write(session)
    lock_rows(session, Household, [household_id])
    if open_request_count(session, household_id) >= MAX_OPEN_REQUESTS:
        log(session, household_id, "submission_refused", "open_limit")
        session.commit()
        raise HouseholdError("too_many_open")
    bucket = f"household-submit:{household_id}"
    verdict = throttle.check(session, bucket, SUBMISSIONS_PER_DAY, SUBMISSION_WINDOW)
    if not verdict.allowed:
        log(session, household_id, "submission_refused", "daily_limit")
        session.commit()
        raise HouseholdError("too_many_today", verdict.retry_after)
    # Its kind, recognised from the household's words within its category (None when unsure:
    # the committee names it on accepting).
    item_code = recognise(load_catalogue(session), category, text, "")
    photo_path = photo.save("help_request") if photo is not None else None
    try:
        request = HelpRequest(
            household_id=household_id,
            village_id=household.village_id,
            category_code=category,
            item_code=item_code,
            what=text,
            quantity=quantity,
            photo_path=photo_path,
            status="received",
        )
        session.add(request)
        throttle.record(session, bucket)
        session.flush()
        log(session, household_id, "request_submitted", f"#{request.id}")
        session.commit()
    except Exception:
        session.rollback()
        if photo is not None and photo_path:
            photo.forget(photo_path)
        raise
    return request


def withdraw_request(session: Session, household_id: int, request_id: int) -> HelpRequest:
    """Withdraw an own request not yet decided, or an own micro-wish nothing is pledged to."""
    # Locked and read afresh: the committee's decision and the weekly commit's pledges to the
    # wish wait for this, or this sees them (the request's row, then its need's).
    begin_write(session)
    locked = lock_rows(session, HelpRequest, [request_id]).get(request_id)
    if locked is not None and locked.need_id is not None:
        lock_rows(session, Need, [locked.need_id])
    view = own_request(session, household_id, request_id)
    if not view.can_withdraw:
        raise HouseholdError("cannot_withdraw")
    request = view.request
    if request.need is not None:
        request.need.status = "withdrawn"
    request.status = "withdrawn"
    log(session, household_id, "request_withdrawn", f"#{request.id}")
    session.commit()
    return request


def confirm_arrival(session: Session, household_id: int, request_id: int) -> RequestView:
    """The household says its help arrived.

    For its own micro-wish the household is the recipient, so its word confirms receipt of
    every open pledge to the wish (delivery.confirm_receipt_by_household), as the committee's
    confirmation would (the committee is told). For a request merged into a village need, the
    pledge is the village's: the household's word is logged for the committee, which confirms
    the village's receipt itself.

    The request's row is locked and read afresh first: a double tap confirms and logs once.
    """
    begin_write(session)
    lock_rows(session, HelpRequest, [request_id])
    view = own_request(session, household_id, request_id)
    if not view.can_confirm:
        session.rollback()
        raise HouseholdError("cannot_confirm")
    request = view.request
    if request.status == "accepted":
        log(session, household_id, "delivery_confirmed", f"#{request.id}")
        try:
            for allocation in view.allocations:
                if allocation.status in ("pledged", "dispatched", "received"):
                    # Commits, with the log entry above on the first pledge.
                    delivery.confirm_receipt_by_household(session, allocation.id, household_id)
        except delivery.WeekError:
            raise HouseholdError("cannot_confirm") from None
    else:
        log(session, household_id, "arrival_reported", f"#{request.id}")
        session.commit()
    return own_request(session, household_id, request_id)


# --- the committee's inbox ---------------------------------------------------------------------


def inbox(session: Session, actor: User) -> list[HelpRequest]:
    """The village's household requests: undecided first (oldest first), then the rest."""
    village_id = _require_committee(actor)
    query = select(HelpRequest).where(HelpRequest.village_id == village_id)
    rows = list(session.scalars(query.order_by(HelpRequest.id.desc())).all())
    waiting = sorted((r for r in rows if r.status == "received"), key=lambda r: r.id)
    return waiting + [r for r in rows if r.status != "received"]


def waiting_count(session: Session, village_id: int) -> int:
    """How many household requests wait for the committee."""
    query = select(func.count(HelpRequest.id)).where(
        HelpRequest.village_id == village_id, HelpRequest.status == "received"
    )
    return int(session.scalar(query) or 0)


def get_village_request(session: Session, actor: User, request_id: int) -> HelpRequest:
    """A request of the committee's own village; LookupError otherwise."""
    village_id = _require_committee(actor)
    request = session.get(HelpRequest, request_id)
    if request is None or request.village_id != village_id:
        raise LookupError(request_id)
    return request


def merge_candidates(
    session: Session, actor: User, request: HelpRequest
) -> tuple[list[Need], list[Need]]:
    """Open village needs the request could join: the duplicate finder's suggestions first,
    then the village's other open needs of the same category."""
    village_id = _require_committee(actor)
    data = needs_service.NeedInput(
        category=request.category_code,
        title=request.what,
        description="",
        quantity=request.quantity,
        urgency=3,
        deadline=None,
    )
    suggested = [n for n in needs_service.duplicate_needs(session, actor, data) if not n.is_wish]
    shown = {n.id for n in suggested}
    others = [
        n
        for n in needs_service.village_needs(session, village_id)
        if n.status == "open"
        and not n.is_wish
        and n.category_code == request.category_code
        and n.id not in shown
    ]
    return suggested, others


class _DeferredCommit:
    """A session whose commit() only flushes.

    needs.create_need commits on its own; when a request is accepted, the new wish, the
    request's decision and the log entry must land in one transaction, so create_need is handed
    this wrapper and the caller commits everything once.
    """

    def __init__(self, session: Session) -> None:
        self._session = session

    def commit(self) -> None:
        self._session.flush()

    def __getattr__(self, name: str) -> object:
        return getattr(self._session, name)


def _undecided_of(session: Session, actor: User, request: HelpRequest) -> None:
    """Refuse unless the request is the committee's own and undecided, as it stands now: the
    request's row is locked and read afresh, so a second click, another committee member or the
    household's withdrawal at the same moment finds it decided."""
    if request.village_id != _require_committee(actor):
        raise LookupError(request.id)
    relock(session, request)
    if request.status != "received":
        raise HouseholdError("decided")


def _decide(request: HelpRequest, actor: User, status: str) -> None:
    request.status = status
    request.decided_by_id = actor.id
    request.decided_at = utcnow()


def accept(
    session: Session,
    actor: User,
    request: HelpRequest,
    *,
    title: str,
    quantity: int,
    value: float,
    kind: NeedKind | None = None,
) -> Need:
    """Turn the request into the household's micro-wish, pending the township; commits.

    The estimated value (元) must lie within needs.WISH_VALUE_CAP. `kind` is the kind the
    committee confirmed (checked by kinds.need_kind); the request keeps it too.
    """
    if not 0 < value <= needs_service.WISH_VALUE_CAP:
        raise HouseholdError("value")
    if title_problem(title) is not None:
        raise HouseholdError("title")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise HouseholdError("quantity")
    _undecided_of(session, actor, request)
    data = needs_service.NeedInput(
        category=request.category_code,
        title=title.strip(),
        description=request.what,
        quantity=quantity,
        urgency=3,
        deadline=None,
        household_id=request.household_id,
        evidence=f"农户自己提出（求助 #{request.id}），村委会受理；估值 {value:g} 元",
        item=kind.item if kind else None,
        accepts=kind.accepts if kind else (),
        item_inferred=kind.inferred if kind else False,
    )
    if "estimated_value" in {f.name for f in fields(data)}:
        data = replace(data, estimated_value=value)  # type: ignore[call-arg]
    try:
        _decide(request, actor, "accepted")
        if kind is not None:
            request.item_code = kind.item
        log(session, request.household_id, "request_accepted", f"#{request.id}")
        need = needs_service.create_need(_DeferredCommit(session), actor, data)  # type: ignore[arg-type]
        need.estimated_value = value
        request.need = need
        session.commit()
    except Exception:
        session.rollback()
        raise
    return need


def merge_fits(need: Need, request: HelpRequest) -> bool:
    """True when the need's kind or one it accepts covers the kind the household asked for (the
    offer_fits rule: a request whose kind is not known yet fits any need of its category)."""
    if request.item_code is None:
        return True
    wanted = ([need.item_code] if need.item_code else []) + need.accept_codes
    return any(covers(code, request.item_code) for code in wanted)


def merge(session: Session, actor: User, request: HelpRequest, need_id: int) -> Need:
    """Count the request under an open village need (not a wish); commits."""
    _undecided_of(session, actor, request)
    try:
        need = needs_service.get_village_need(session, actor, need_id)
    except LookupError:
        raise HouseholdError("need") from None
    if need.status != "open" or need.is_wish:
        raise HouseholdError("need")
    if not merge_fits(need, request):
        raise HouseholdError("kind")
    _decide(request, actor, "merged")
    request.need = need
    log(session, request.household_id, "request_merged", f"#{request.id}")
    session.commit()
    return need


def decline(session: Session, actor: User, request: HelpRequest, reason: str) -> HelpRequest:
    """Decline the request with a reason the household will read; commits."""
    text = (reason or "").strip()
    if not text or len(text) > MAX_REASON:
        raise HouseholdError("reason")
    _undecided_of(session, actor, request)
    _decide(request, actor, "declined")
    request.decline_reason = text
    log(session, request.household_id, "request_declined", f"#{request.id}")
    session.commit()
    return request
