"""Kinds (品类) in the API: the public catalogue, and how needs, offers and pledges name theirs.

The rules of what a need or an offer may name live in `web.services.kinds` (`need_kind`,
`offer_kinds`); this module only turns their refusals into problem documents and shows a kind's
names and unit next to every quantity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Annotated, Any, TypeVar

from flask_babel import force_locale
from pydantic import Field
from sqlalchemy import select

from matcher.kinds import Catalogue, Kind
from web.api.blueprint import ops
from web.api.registry import ApiError, Call
from web.api.schemas import CategoryCode, Out, Strict
from web.extensions import db
from web.models import need_accepts, offer_items
from web.services.kinds import KindError, request_catalogue
from web.services.listing import among

KIND_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$"
KindCode = Annotated[
    str,
    Field(
        min_length=1, max_length=64, pattern=KIND_PATTERN,
        description="a kind's code from GET /kinds, e.g. goods.school.desks",
        examples=["goods.living.winter_clothes"],
    ),
]  # fmt: skip
KindCodes = Annotated[list[KindCode], Field(max_length=20)]
T = TypeVar("T")


class KindQuery(Strict):
    """Filters of the catalogue."""

    category: CategoryCode | None = None
    include_retired: bool = Field(
        False, description="true to list retired kinds too (old needs and offers may name them)"
    )


class KindOut(Out):
    """One kind of the catalogue: what exactly is needed or offered inside a category."""

    code: str = Field(description="dot-separated, most general first; a kind covers its children")
    parent: str | None
    category: str
    name_zh: str
    name_en: str
    unit_zh: str = Field(description="the one unit its quantities are counted in")
    unit_en: str
    ref_value: float = Field(description="reference value of one unit in yuan (折合金额)")
    retired: bool


class KindList(Out):
    """The catalogue's kinds in catalogue order, parents before their children."""

    items: list[KindOut]


@ops.operation("/kinds", "GET", summary="Kinds of aid", tag="public", query=KindQuery,
               response=KindList)  # fmt: skip
def list_kinds(call: Call) -> dict[str, object]:
    """The catalogue of kinds (品类) a need's `item` and an offer's `items` name, with each
    kind's unit and reference value; active kinds only unless `include_retired`."""
    query: KindQuery = call.query
    kinds = request_catalogue(db.session).kinds
    return {
        "items": [
            _kind_json(k)
            for k in kinds
            if (query.category is None or k.category == query.category)
            and (query.include_retired or not k.retired)
        ]
    }


def _kind_json(k: Kind) -> dict[str, object]:
    """A kind as the catalogue endpoint shows it."""
    return {
        "code": k.code, "parent": k.parent, "category": k.category,
        "name_zh": k.name_zh, "name_en": k.name_en, "unit_zh": k.unit_zh,
        "unit_en": k.unit_en, "ref_value": k.ref_value, "retired": k.retired,
    }  # fmt: skip


def checked(rule: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one of web.services.kinds' rules; its refusal as a 422 naming the field (in
    English, as every problem document of the API)."""
    try:
        with force_locale("en"):
            return rule(*args, **kwargs)
    except KindError as error:
        raise ApiError(
            422, "Unprocessable Content", f"{error.field}: {error.message}",
            errors=[{"field": error.field, "message": error.message}],
        ) from None  # fmt: skip


def item_name(catalogue: Catalogue, code: str | None) -> str | None:
    """A kind's Chinese name (None when no kind is named)."""
    kind = catalogue.get(code) if code else None
    return kind.name_zh if kind else None


def unit(catalogue: Catalogue, code: str | None, category: str) -> str:
    """The unit (Chinese) a quantity of this kind is counted in: the kind's, or the
    category's when no kind is named (a general offer, a need not yet classified)."""
    kind = catalogue.unit_of(code, category)
    return kind.unit_zh if kind else ""


def kind_fields(catalogue: Catalogue, code: str | None, category: str) -> dict[str, object]:
    """`item`, `item_name` and `unit` of a quantity of one kind (a need's, a pledge's)."""
    return {
        "item": code,
        "item_name": item_name(catalogue, code),
        "unit": unit(catalogue, code, category),
    }


def _codes_of(table_id: object, table_code: object, ids: Iterable[int]) -> dict[int, list[str]]:
    wanted = list(ids)
    found: dict[int, list[str]] = defaultdict(list)
    if not wanted:
        return found
    rows = db.session.execute(
        select(table_id, table_code)
        .where(among(db.session, table_id, wanted))
        .order_by(table_id, table_code)
    )
    for owner, code in rows:
        found[owner].append(code)
    return found


def accepts_of(need_ids: Iterable[int]) -> dict[int, list[str]]:
    """The alternative kinds of each need, by need id, in one query."""
    return _codes_of(need_accepts.c.need_id, need_accepts.c.kind_code, need_ids)


def items_of(offer_ids: Iterable[int]) -> dict[int, list[str]]:
    """The kinds each offer gives, by offer id, in one query."""
    return _codes_of(offer_items.c.offer_id, offer_items.c.kind_code, offer_ids)
