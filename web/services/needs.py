"""Village needs and household micro-wishes: posting with a duplicate check, verification."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from matcher.dedupe import NeedText, likely_duplicates
from web.models import Household, Need, User, Village
from web.models.base import utcnow
from web.services.kinds import kinds_by_code
from web.services.locking import begin_write, lock_rows, relock
from web.services.translate import _
from web.services.villages import Page

# A micro-wish (微心愿) is a small thing: its estimated value may not exceed this (元).
WISH_VALUE_CAP = 500


class NeedError(ValueError):
    """A need change was refused; `code` names the reason."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def check_wish_value(value: float | None) -> None:
    """Raise NeedError("value_cap") for an estimated value that is not 1 to WISH_VALUE_CAP yuan."""
    if value is not None and not 0 < value <= WISH_VALUE_CAP:
        raise NeedError("value_cap")


# A need's deadline (截止日期) is its due week in the rolling allocation (spec v2). A deadline
# being set must not have passed yet (one kept as it was may have: the need is then due at
# once), nor lie more than two years ahead: such a date is a mistyped year.
DEADLINE_AHEAD_DAYS = 2 * 366
DEADLINE_CODES = ("deadline_past", "deadline_far")


def deadline_problem(deadline: date | None, today: date, kept: date | None = None) -> str | None:
    """Why a deadline being set cannot be taken ("deadline_past", "deadline_far"), or None.

    `today` is the boundary's (web.clock.today()); `kept` the deadline stored before an edit,
    which stays acceptable even when it has passed. The one rule for forms, API and import
    (through web.services.inputs.NeedFields).
    """
    if deadline is None or deadline == kept:
        return None
    if deadline < today:
        return "deadline_past"
    if deadline > today + timedelta(days=DEADLINE_AHEAD_DAYS):
        return "deadline_far"
    return None


def deadline_message(code: str, deadline: date, today: date) -> str:
    """The words of a deadline_problem code, in the request's language."""
    if code == "deadline_past":
        return _(
            "Needed by: %(day)s has already passed (today is %(today)s); choose today or a "
            "later day.",
            day=deadline.isoformat(), today=today.isoformat(),
        )  # fmt: skip
    return _("The deadline is more than two years ahead: check the year.")


@dataclass(frozen=True)
class NeedInput:
    """A need or micro-wish as entered, already checked field by field."""

    category: str
    title: str
    description: str
    quantity: int
    urgency: int
    deadline: date | None
    checklist_item: str | None = None
    household_id: int | None = None
    evidence: str = ""
    estimated_value: float | None = None
    # Its kind and alternatives, checked by web.services.kinds.need_kind (None: unclassified).
    item: str | None = None
    accepts: tuple[str, ...] = ()
    item_inferred: bool = False


def _apply_kind(session: Session, need: Need, data: NeedInput) -> None:
    """Store the need's kind and the alternatives it accepts."""
    need.item_code = data.item
    need.item_inferred = data.item_inferred if data.item else False
    need.accepts = kinds_by_code(session, data.accepts)


def _text(need_id: str, village_id: int, data: NeedInput | Need) -> NeedText:
    """The matcher's view of a need or of a need being entered."""
    category = data.category if isinstance(data, NeedInput) else data.category_code
    household = str(data.household_id) if data.household_id else None
    return NeedText(
        need_id, str(village_id), category, data.title, data.description, data.quantity,
        household, None, data.deadline,
    )  # fmt: skip


def village_needs(session: Session, village_id: int) -> Sequence[Need]:
    """The village's needs and wishes, newest first."""
    query = (
        select(Need)
        .where(Need.village_id == village_id)
        # the list names a wish's household and each need's kind
        .options(selectinload(Need.household), selectinload(Need.item))
        .order_by(Need.id.desc())
    )
    return session.scalars(query).all()


def get_village_need(session: Session, user: User, need_id: int) -> Need:
    """The need if it belongs to the user's village; LookupError otherwise."""
    need = session.get(Need, need_id)
    if need is None or user.village_id is None or need.village_id != user.village_id:
        raise LookupError(need_id)
    return need


def duplicate_needs(
    session: Session, user: User, data: NeedInput, exclude_id: int | None = None
) -> list[Need]:
    """Open needs of the user's village that the entered one likely repeats, best first."""
    assert user.village_id is not None
    open_needs = {n.id: n for n in village_needs(session, user.village_id) if n.status == "open"}
    existing = [_text(str(i), user.village_id, n) for i, n in open_needs.items()]
    matches = likely_duplicates(_text("new", user.village_id, data), existing)
    return [open_needs[int(m.id)] for m in matches if int(m.id) != exclude_id]


def duplicates_before_saving(
    session: Session, user: User, data: NeedInput, exclude_id: int | None = None
) -> list[Need]:
    """duplicate_needs, checked as the first step of the create or edit that follows.

    The village's row is locked here (SQLite: the write lock) until that create or edit
    commits, so the second request of a double click, or another committee member posting the
    same need at the same moment, waits and then sees the first as a duplicate.
    """
    assert user.village_id is not None
    begin_write(session)
    lock_rows(session, Village, [user.village_id])
    return duplicate_needs(session, user, data, exclude_id)


def households(session: Session, village_id: int) -> Sequence[Household]:
    """The village's registered households, by name."""
    query = select(Household).where(Household.village_id == village_id).order_by(Household.id)
    return session.scalars(query).all()


def _household(session: Session, user: User, household_id: int | None) -> Household | None:
    """The user's village's household, or NeedError."""
    if household_id is None:
        return None
    household = session.get(Household, household_id)
    if household is None or household.village_id != user.village_id:
        raise NeedError("household")
    return household


def add_need(
    session: Session, village_id: int, data: NeedInput, *, household: Household | None = None
) -> Need:
    """A new pending need of the village (with a household: a micro-wish) with its kind, added
    to the session; the caller commits (a form one at a time, an import all rows at once)."""
    need = Need(
        village_id=village_id,
        household=household,
        category_code=data.category,
        title=data.title.strip(),
        description=data.description.strip(),
        quantity=data.quantity,
        allocated=0,
        urgency=data.urgency,
        deadline=data.deadline,
        checklist_item=data.checklist_item or None,
        evidence=data.evidence.strip(),
        estimated_value=data.estimated_value,
        verification="pending",
        status="open",
    )
    _apply_kind(session, need, data)
    session.add(need)
    return need


def create_need(
    session: Session,
    user: User,
    data: NeedInput,
    *,
    new_household: tuple[str, int] | None = None,
) -> Need:
    """Post a need (or with a household a micro-wish) for the user's village; the caller commits."""
    if user.village_id is None:
        raise NeedError("no_village")
    check_wish_value(data.estimated_value)
    household = _household(session, user, data.household_id)
    if new_household is not None:
        name, people = new_household
        household = Household(village_id=user.village_id, display_name=name, people=people)
        session.add(household)
    need = add_need(session, user.village_id, data, household=household)
    session.flush()
    return need


def update_need(session: Session, need: Need, data: NeedInput) -> Need:
    """Change an own need while nothing is allocated; it goes back to pending verification."""
    relock(session, need)
    if need.allocated != 0 or need.status != "open":
        raise NeedError("locked")
    need.category_code = data.category
    need.title = data.title.strip()
    need.description = data.description.strip()
    need.quantity = data.quantity
    need.urgency = data.urgency
    need.deadline = data.deadline
    need.checklist_item = data.checklist_item or None
    _apply_kind(session, need, data)
    need.verification = "pending"
    session.flush()
    return need


def township_pending(
    session: Session, user: User, *, page: int = 1, per_page: int = 50
) -> Page[Need]:
    """One page of the pending open needs of the villages in the officer's township, most urgent
    first, and how many there are in all."""
    where = (
        Village.township_id == user.township_id,
        Need.verification == "pending",
        Need.status == "open",
    )
    total = session.scalar(
        select(func.count(Need.id)).join(Village, Need.village_id == Village.id).where(*where)
    )
    query = (
        select(Need)
        .join(Village, Need.village_id == Village.id)
        .where(*where)
        .options(
            selectinload(Need.village), selectinload(Need.household), selectinload(Need.item)
        )
        .order_by(Need.urgency.desc(), Need.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page(list(session.scalars(query)), int(total or 0), page, per_page)


def get_township_need(session: Session, user: User, need_id: int) -> Need:
    """The need if its village lies in the officer's township; LookupError otherwise."""
    need = session.get(Need, need_id)
    if need is None or user.township_id is None or need.village.township_id != user.township_id:
        raise LookupError(need_id)
    return need


def get_county_need(session: Session, user: User, need_id: int) -> Need:
    """The need if its village lies in the county officer's county; LookupError otherwise."""
    need = session.get(Need, need_id)
    if need is None or user.county_id is None or need.village.county_id != user.county_id:
        raise LookupError(need_id)
    return need


def get_verifiable_need(session: Session, user: User, need_id: int) -> Need:
    """A need the user may verify: its township's officer's, or its county office's (when the
    township is stuck); LookupError otherwise, so another's need is never revealed."""
    if user.role == "county":
        return get_county_need(session, user, need_id)
    return get_township_need(session, user, need_id)


def verify_need(
    session: Session, need: Need, *, approve: bool, reason: str, seen: str | None = None
) -> Need:
    """Verify or reject an open need; a rejection needs a reason; the caller commits.

    Decided on the need as it stands, locked and read afresh: one the village has withdrawn
    meanwhile is refused ("locked"), as is rejecting one aid is already allocated to; with
    `seen` (the updated_at the officer's page showed, ISO text) one changed since is refused
    ("changed"), so nobody verifies content they have not read.
    """
    if not approve and not reason.strip():
        raise NeedError("reason")
    relock(session, need)
    if need.status != "open" or (not approve and need.allocated):
        session.rollback()
        raise NeedError("locked")
    if seen is not None and need.updated_at.isoformat() != seen:
        session.rollback()
        raise NeedError("changed")
    need.verification = "verified" if approve else "rejected"
    need.verification_note = reason.strip()
    need.verified_at = utcnow()
    session.flush()
    return need


def withdraw_need(session: Session, need: Need) -> Need:
    """Withdraw an own open need while nothing is allocated to it; the caller commits."""
    relock(session, need)
    if need.allocated != 0 or need.status != "open":
        raise NeedError("locked")
    need.status = "withdrawn"
    session.flush()
    return need
