"""What every part of web.services.households shares: limits, the household principal, the
invitation codes' hashing and the household's event log."""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from web.models import Household, HouseholdEvent, User
from web.models.base import utcnow
from web.services.accounts import PASSWORD_METHOD

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


def code_hash(code: str, key: bytes) -> str:
    """Keyed hash of a canonical code: lets the code be looked up but not read back. The key is
    the app's secret, handed in by the caller (web.settings.invitation_key)."""
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



def _require_committee(actor: User) -> int:
    if actor.role != "village" or actor.village_id is None:
        raise LookupError("not a village committee")
    return int(actor.village_id)
