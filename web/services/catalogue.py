"""The administrator's catalogue of kinds: add, edit, retire, restore, delete, import, export;
and the review lists of what waits for a kind (needs for their township, offers for the
administrator).

The kind rules of needs and offers stay in web.services.kinds (`need_kind`, `offer_kinds`); this
module keeps the catalogue itself sound. A kind any need, offer, help request or accepted
alternative names is "in use": its code and unit never change (the quantities already counted
in it would change meaning), and it is retired, never deleted. Retiring a kind retires the
kinds below it; restoring it restores those retired with it. Every change lands in the audit
trail (Kind is audited). Each function flushes (its caller commits), or raises CatalogueError
with nothing written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from matcher.categories import CATEGORY_CODES
from matcher.kinds import category_of, covers
from seeds.catalogue import COLUMNS, LIST_SEPARATOR, split_list
from web.models import HelpRequest, Kind, Need, Offer, Village
from web.models.aid import need_accepts, offer_items
from web.models.base import utcnow
from web.services.kinds import NeedKind, OfferKinds, kinds_by_code
from web.services.locking import relock
from web.services.translate import _

# A code's new part: short lowercase ASCII (letters, digits, underscores), starting with a letter.
SEGMENT = re.compile(r"^[a-z][a-z0-9_]{0,23}$")
MAX_CODE = 64
MAX_NAME_ZH = 64
MAX_NAME_EN = 128
MAX_UNIT_ZH = 16
MAX_UNIT_EN = 32
MAX_REF_VALUE = 100_000_000
HEADERS = dict(COLUMNS)  # field -> Chinese header


class CatalogueError(ValueError):
    """A catalogue change was refused; `field` names the input, `message` says why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class KindInput:
    """A kind as the administrator entered it (text fields already stripped)."""

    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    ref_value: float | None
    synonyms: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True)
class Usage:
    """How a kind is used: open needs and offers naming it now, and whether anything ever did."""

    open_needs: int = 0
    open_offers: int = 0
    ever: bool = False

    @property
    def open_total(self) -> int:
        return self.open_needs + self.open_offers


@dataclass
class CategoryTree:
    """One category's kinds in catalogue order, each with its depth and usage."""

    code: str
    kinds: list[tuple[Kind, int, Usage]] = field(default_factory=list)


# --- reading -------------------------------------------------------------------------------


def all_kinds(session: Session) -> list[Kind]:
    """Every stored kind, retired ones included, in catalogue order."""
    return list(session.scalars(select(Kind).order_by(Kind.position, Kind.code)))


def get_kind(session: Session, code: str) -> Kind:
    """The stored kind with this code; LookupError otherwise."""
    kind = session.get(Kind, code)
    if kind is None:
        raise LookupError(code)
    return kind


def _counts(session: Session, query: Any) -> dict[str, int]:
    return {code: int(n) for code, n in session.execute(query)}


def usages(session: Session) -> dict[str, Usage]:
    """Each kind's usage (kinds never used are left out)."""
    open_need_items = _counts(
        session,
        select(Need.item_code, func.count(Need.id))
        .where(Need.status == "open", Need.item_code.is_not(None))
        .group_by(Need.item_code),
    )
    open_need_accepts = _counts(
        session,
        select(need_accepts.c.kind_code, func.count())
        .join(Need, Need.id == need_accepts.c.need_id)
        .where(Need.status == "open")
        .group_by(need_accepts.c.kind_code),
    )
    open_offers = _counts(
        session,
        select(offer_items.c.kind_code, func.count())
        .join(Offer, Offer.id == offer_items.c.offer_id)
        .where(Offer.status == "open")
        .group_by(offer_items.c.kind_code),
    )
    ever = set(ever_used_codes(session))
    out: dict[str, Usage] = {}
    for code in ever | set(open_need_items) | set(open_need_accepts) | set(open_offers):
        out[code] = Usage(
            open_needs=open_need_items.get(code, 0) + open_need_accepts.get(code, 0),
            open_offers=open_offers.get(code, 0),
            ever=True,
        )
    return out


def ever_used_codes(session: Session, codes: Sequence[str] | None = None) -> Iterable[str]:
    """The codes (of `codes`, or of all kinds) that any need, offer, request or accepts names."""
    queries = [
        select(Need.item_code).where(Need.item_code.is_not(None)),
        select(need_accepts.c.kind_code),
        select(offer_items.c.kind_code),
        select(HelpRequest.item_code).where(HelpRequest.item_code.is_not(None)),
    ]
    found: set[str] = set()
    for query in queries:
        column = query.selected_columns[0]
        if codes is not None:
            query = query.where(column.in_(list(codes)))
        found.update(str(c) for c in session.scalars(query.distinct()))
    return found


def in_use(session: Session, code: str) -> bool:
    """True when any need, offer, help request or accepted alternative ever named the kind."""
    return bool(set(ever_used_codes(session, [code])))


def tree(session: Session) -> list[CategoryTree]:
    """The catalogue by category (in the categories' order), each kind with its usage."""
    use = usages(session)
    by_category: dict[str, CategoryTree] = {c: CategoryTree(c) for c in CATEGORY_CODES}
    for kind in all_kinds(session):
        group = by_category.setdefault(kind.category_code, CategoryTree(kind.category_code))
        group.kinds.append((kind, kind.code.count("."), use.get(kind.code, Usage())))
    return [t for t in by_category.values() if t.kinds]


# --- checking one kind ----------------------------------------------------------------------


def _value_problem(value: float | None) -> str | None:
    if value is None or value != value or not 0 < value <= MAX_REF_VALUE:
        return _("a number of yuan greater than 0 (at most %(max)s)", max=MAX_REF_VALUE)
    return None


def field_problems(data: KindInput) -> list[tuple[str, str]]:
    """(field, message) for each bad field of an entered kind."""
    out: list[tuple[str, str]] = []
    for name, limit in (
        ("name_zh", MAX_NAME_ZH), ("name_en", MAX_NAME_EN),
        ("unit_zh", MAX_UNIT_ZH), ("unit_en", MAX_UNIT_EN),
    ):  # fmt: skip
        value = getattr(data, name)
        if not value:
            out.append((name, _("Required.")))
        elif len(value) > limit:
            out.append((name, _("At most %(n)s characters.", n=limit)))
        elif LIST_SEPARATOR in value:
            out.append((name, _("“%(sep)s” is not allowed here.", sep=LIST_SEPARATOR)))
    problem = _value_problem(data.ref_value)
    if problem:
        out.append(("ref_value", problem))
    return out


def alternatives_problem(
    code: str, alternatives: Sequence[str], known: dict[str, str]
) -> str | None:
    """What is wrong with a kind's alternatives (`known`: code -> category), or None."""
    for alt in alternatives:
        if alt == code:
            return _("a kind is not its own alternative")
        if alt not in known:
            return _("unknown kind %(code)s", code=alt)
        if known[alt] != category_of(code):
            return _(
                "%(alt)s is not of the category of %(code)s: alternatives are kinds of the "
                "same category",
                alt=alt,
                code=code,
            )
    return None


def _raise_first(problems: list[tuple[str, str]]) -> None:
    if problems:
        field_name, message = problems[0]
        raise CatalogueError(field_name, message)


def _categories(session: Session) -> dict[str, str]:
    return {code: cat for code, cat in session.execute(select(Kind.code, Kind.category_code))}


# --- changes --------------------------------------------------------------------------------


def add_kind(session: Session, parent_code: str, segment: str, data: KindInput) -> Kind:
    """A new kind below `parent_code` with code parent + '.' + segment; flushes."""
    parent = session.get(Kind, parent_code or "")
    if parent is None:
        raise CatalogueError("parent", _("Pick the kind it belongs under."))
    segment = segment.strip()
    if not SEGMENT.match(segment):
        raise CatalogueError(
            "segment",
            _(
                "The code's new part: 1 to 24 lowercase letters a-z, digits or “_”, starting "
                "with a letter (e.g. desks)."
            ),
        )
    code = f"{parent.code}.{segment}"
    if len(code) > MAX_CODE:
        raise CatalogueError("segment", _("The code is longer than %(n)s characters.", n=MAX_CODE))
    if session.get(Kind, code) is not None:
        raise CatalogueError("segment", _("The kind %(code)s exists already.", code=code))
    _raise_first(field_problems(data))
    problem = alternatives_problem(code, data.alternatives, _categories(session))
    if problem:
        raise CatalogueError("alternatives", problem)
    position = session.scalar(select(func.max(Kind.position))) or 0
    kind = Kind(
        code=code, category_code=parent.category_code, parent_code=parent.code,
        name_zh=data.name_zh, name_en=data.name_en, unit_zh=data.unit_zh, unit_en=data.unit_en,
        ref_value=float(data.ref_value or 0), synonyms=LIST_SEPARATOR.join(data.synonyms),
        alternatives=LIST_SEPARATOR.join(data.alternatives), position=position + 1,
        retired_at=parent.retired_at,
    )  # fmt: skip
    session.add(kind)
    session.flush()
    return kind


def edit_kind(session: Session, kind: Kind, data: KindInput) -> Kind:
    """Change a kind's names, synonyms, alternatives and reference value (its unit too while
    nothing ever used it); flushes."""
    _raise_first(field_problems(data))
    if (data.unit_zh, data.unit_en) != (kind.unit_zh, kind.unit_en) and in_use(session, kind.code):
        raise CatalogueError(
            "unit_zh",
            _(
                "The unit cannot change: needs or offers already count this kind in %(unit)s, "
                "and their quantities would change meaning. Add a new kind instead and retire "
                "this one.",
                unit=kind.unit_zh,
            ),
        )
    problem = alternatives_problem(kind.code, data.alternatives, _categories(session))
    if problem:
        raise CatalogueError("alternatives", problem)
    kind.name_zh, kind.name_en = data.name_zh, data.name_en
    kind.unit_zh, kind.unit_en = data.unit_zh, data.unit_en
    kind.ref_value = float(data.ref_value or 0)
    kind.synonyms = LIST_SEPARATOR.join(data.synonyms)
    kind.alternatives = LIST_SEPARATOR.join(data.alternatives)
    session.flush()
    return kind


def _subtree(session: Session, code: str) -> list[Kind]:
    """The kind and every kind below it."""
    query = select(Kind).where(
        or_(Kind.code == code, Kind.code.startswith(code + ".", autoescape=True))
    )
    return [k for k in session.scalars(query) if covers(code, k.code)]


def retire_kind(session: Session, kind: Kind) -> int:
    """Retire the kind and the active kinds below it (forms no longer offer them, new needs and
    offers are refused them; existing ones keep them); flushes; returns how many."""
    if kind.parent_code is None:
        raise CatalogueError("code", _("A category's root kind cannot be retired."))
    if kind.retired_at is not None:
        raise CatalogueError("code", _("The kind %(code)s is retired already.", code=kind.code))
    moment = utcnow()
    changed = 0
    for row in _subtree(session, kind.code):
        if row.retired_at is None:
            row.retired_at = moment
            changed += 1
    session.flush()
    return changed


def restore_kind(session: Session, kind: Kind) -> int:
    """Take the kind back into use, with the kinds below it retired together with it; flushes;
    returns how many."""
    if kind.retired_at is None:
        raise CatalogueError("code", _("The kind %(code)s is in use already.", code=kind.code))
    parent = session.get(Kind, kind.parent_code) if kind.parent_code else None
    if parent is not None and parent.retired_at is not None:
        raise CatalogueError(
            "code",
            _("Its parent %(parent)s is retired: restore the parent first.", parent=parent.code),
        )
    moment = kind.retired_at
    changed = 0
    for row in _subtree(session, kind.code):
        if row.retired_at == moment:
            row.retired_at = None
            changed += 1
    session.flush()
    return changed


def delete_kind(session: Session, kind: Kind) -> None:
    """Delete a kind nothing ever used, that has no kinds below it and is no other kind's
    alternative; flushes."""
    if kind.parent_code is None:
        raise CatalogueError("code", _("A category's root kind cannot be deleted."))
    if in_use(session, kind.code):
        raise CatalogueError(
            "code",
            _(
                "%(code)s is used by needs, offers or household requests: it cannot be deleted "
                "(their records keep it). Retire it instead.",
                code=kind.code,
            ),
        )
    children = session.scalar(select(func.count()).where(Kind.parent_code == kind.code))
    if children:
        raise CatalogueError(
            "code", _("%(code)s has kinds below it: delete or move them first.", code=kind.code)
        )
    naming = [
        other.code
        for other in session.scalars(select(Kind).where(Kind.alternatives.contains(kind.code)))
        if kind.code in split_list(other.alternatives)
    ]
    if naming:
        raise CatalogueError(
            "code",
            _(
                "%(code)s is an alternative of %(others)s: remove it there first.",
                code=kind.code,
                others="、".join(naming),
            ),
        )
    session.delete(kind)
    session.flush()


# --- review lists ---------------------------------------------------------------------------


def township_unclassified(session: Session, township_id: int | None) -> list[Need]:
    """Open needs of the township's villages that name no kind yet, oldest first."""
    if township_id is None:
        return []
    query = (
        select(Need)
        .join(Village, Need.village_id == Village.id)
        .where(Village.township_id == township_id, Need.status == "open")
        .where(Need.item_code.is_(None))
        # joined, not selectin: the page's statements stay the same however many are listed
        .options(joinedload(Need.village), joinedload(Need.household))
        .order_by(Need.id)
    )
    return list(session.scalars(query))


def set_need_kind(session: Session, need: Need, kind: NeedKind) -> Need:
    """Name an open need's kind (checked by kinds.need_kind) and its alternatives; flushes."""
    relock(session, need)
    if need.status != "open":
        session.rollback()
        raise CatalogueError("item", _("This need is no longer open."))
    need.item_code = kind.item
    need.item_inferred = False
    need.accepts = kinds_by_code(session, kind.accepts)
    session.flush()
    return need


def unclassified_offers(session: Session, limit: int = 50) -> tuple[list[Offer], int]:
    """The first `limit` open offers that name no kind and are not general (they wait for the
    administrator), oldest first, and how many there are in all."""
    where = (Offer.status == "open", Offer.general.is_(False), ~Offer.items.any())
    total = session.scalar(select(func.count(Offer.id)).where(*where))
    query = (
        select(Offer)
        .where(*where)
        .options(selectinload(Offer.organization))
        .order_by(Offer.id)
        .limit(limit)
    )
    return list(session.scalars(query)), int(total or 0)


def set_offer_kinds(session: Session, offer: Offer, kinds: OfferKinds) -> Offer:
    """Name an open offer's kinds, or mark it general (checked by kinds.offer_kinds); flushes."""
    relock(session, offer)
    if offer.status != "open":
        session.rollback()
        raise CatalogueError("items", _("This offer is no longer open."))
    offer.items = kinds_by_code(session, kinds.items)
    offer.general = kinds.general
    offer.items_inferred = False
    session.flush()
    return offer
