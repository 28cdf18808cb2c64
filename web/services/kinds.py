"""The catalogue of kinds in the database, and the one home of the kind rules of needs and offers.

Forms, the API and the importers all call `need_kind` / `offer_kinds`: they check what the user
named, or recognise the kind from the title when nothing was named, and say what is wrong in
one message naming the field.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask import g, has_request_context
from flask_babel import get_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.kinds import Catalogue, Kind, covers
from matcher.recognize import best_kind
from seeds.catalogue import LIST_SEPARATOR, hezhou_catalogue, split_list
from web.models import Kind as KindRow
from web.models.base import utcnow
from web.services.translate import _


class KindError(ValueError):
    """A kind was refused; `field` names the input field, the message says why (translated)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class NeedKind:
    """A need's kind and alternatives as they will be stored; inferred when recognised."""

    item: str
    accepts: tuple[str, ...] = ()
    inferred: bool = False


@dataclass(frozen=True)
class OfferKinds:
    """An offer's kinds (none only when general) as they will be stored."""

    items: tuple[str, ...]
    general: bool = False
    inferred: bool = False


def as_kind(row: KindRow) -> Kind:
    """A stored kind as matcher's record."""
    return Kind(
        code=row.code, name_zh=row.name_zh, name_en=row.name_en, unit_zh=row.unit_zh,
        unit_en=row.unit_en, ref_value=row.ref_value, synonyms=split_list(row.synonyms),
        alternatives=split_list(row.alternatives), retired=row.retired_at is not None,
    )  # fmt: skip


def load_catalogue(session: Session) -> Catalogue:
    """Every stored kind, retired ones included, in catalogue order."""
    rows = session.scalars(select(KindRow).order_by(KindRow.position, KindRow.code))
    return Catalogue(tuple(as_kind(row) for row in rows))


def request_catalogue(session: Session) -> Catalogue:
    """The catalogue, loaded once per request (kept on flask.g); outside a request, loaded now."""
    if not has_request_context():
        return load_catalogue(session)
    found = g.get("kind_catalogue")
    if found is None:
        found = g.kind_catalogue = load_catalogue(session)
    return found


def row_of(kind: Kind, position: int) -> KindRow:
    """A new stored kind from matcher's record."""
    return KindRow(
        code=kind.code, category_code=kind.category, parent_code=kind.parent,
        name_zh=kind.name_zh, name_en=kind.name_en, unit_zh=kind.unit_zh, unit_en=kind.unit_en,
        ref_value=kind.ref_value, synonyms=LIST_SEPARATOR.join(kind.synonyms),
        alternatives=LIST_SEPARATOR.join(kind.alternatives), position=position,
        retired_at=utcnow() if kind.retired else None,
    )  # fmt: skip


def seed_catalogue(session: Session) -> int:
    """Add the starting catalogue's kinds that are missing (parents first); returns how many."""
    have = set(session.scalars(select(KindRow.code)))
    missing = [k for k in hezhou_catalogue().kinds if k.code not in have]
    # Rows of one table are inserted in the order added: parents (listed first) before children.
    session.add_all(row_of(kind, len(have) + i) for i, kind in enumerate(missing))
    session.flush()
    return len(missing)


def _name(kind: Kind) -> str:
    """A kind's name in the language messages are given in (Chinese outside a request)."""
    try:
        english = str(get_locale()) == "en"
    except RuntimeError:  # no app: the CLI's default, Chinese
        english = False
    return kind.name_en if english else kind.name_zh


def _known(catalogue: Catalogue, field: str, code: str, category: str) -> Kind:
    """The active kind of this category with this code, or KindError naming the field."""
    kind = catalogue.get(code)
    if kind is None:
        raise KindError(field, _("unknown kind %(code)s", code=code))
    if kind.category != category:
        root = catalogue.get(category)
        raise KindError(
            field,
            _(
                "kind %(name)s (%(code)s) is not of category %(category)s",
                name=_name(kind),
                code=code,
                category=_name(root) if root else category,
            ),
        )
    if kind.retired:
        raise KindError(field, _("kind %(code)s is retired", code=code))
    return kind


def need_kind(
    catalogue: Catalogue,
    category: str,
    item: str | None,
    accepts: Iterable[str] = (),
    *,
    title: str = "",
    description: str = "",
) -> NeedKind:
    """The checked kind of a need: the one named, else the one recognised from its text."""
    accepted = tuple(dict.fromkeys(a.strip() for a in accepts if a.strip()))
    for code in accepted:
        _known(catalogue, "accepts", code, category)
    if item and item.strip():
        kind = _known(catalogue, "item", item.strip(), category)
        return NeedKind(kind.code, tuple(a for a in accepted if a != kind.code))
    guess = recognise(catalogue, category, title, description)
    if guess is None:
        raise KindError(
            "item",
            _("name the kind: it cannot be told from the title %(title)s", title=title),
        )
    return NeedKind(guess, tuple(a for a in accepted if a != guess), inferred=True)


def offer_kinds(
    catalogue: Catalogue,
    category: str,
    items: Sequence[str] | None,
    *,
    general: bool = False,
    title: str = "",
    description: str = "",
) -> OfferKinds:
    """The checked kinds of an offer: named ones, general by choice, else recognised."""
    named = tuple(dict.fromkeys(i.strip() for i in items or () if i.strip()))
    if general and named:
        raise KindError("items", _("a general offer names no kinds"))
    if general:
        return OfferKinds((), general=True)
    if named:
        kinds = [_known(catalogue, "items", code, category).code for code in named]
        # A kind already covered by another named one adds nothing.
        kept = [k for k in kinds if not any(o != k and covers(o, k) for o in kinds)]
        units = catalogue.active().units_covered(kept)
        if len(units) > 1:
            raise KindError(
                "items",
                _(
                    "the kinds it gives are counted in different units (%(units)s): post one "
                    "offer per unit",
                    units="、".join(sorted(units)),
                ),
            )
        return OfferKinds(tuple(sorted(kept)))
    guess = recognise(catalogue, category, title, description)
    if guess is None:
        raise KindError(
            "items",
            _(
                "name the kinds it gives, or mark it general: they cannot be told from the "
                "title %(title)s",
                title=title,
            ),
        )
    return OfferKinds((guess,), inferred=True)


def recognise(catalogue: Catalogue, category: str, title: str, description: str) -> str | None:
    """The kind recognised from a text within a category, or None when unsure."""
    return best_kind(title, description, catalogue.active(), category)


def kinds_by_code(session: Session, codes: Iterable[str]) -> list[KindRow]:
    """The stored kinds with these codes, in the given order."""
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        return []
    rows = {r.code: r for r in session.scalars(select(KindRow).where(KindRow.code.in_(wanted)))}
    return [rows[c] for c in wanted if c in rows]
