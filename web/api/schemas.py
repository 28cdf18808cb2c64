"""Shared pieces of the API's request and response models (pydantic v2, JSON Schema 2020-12)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from flask_babel import force_locale
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo
from pydantic_core import PydanticCustomError

from matcher.categories import CATEGORIES
from web.services.inputs import MAX_DESCRIPTION, MAX_INTEGER, NeedFields, OfferFields
from web.services.titles import MAX_TITLE

# The database's integers are 32-bit: ids and counts above this are refused, not overflowed.
MAX_INT = 2_147_483_647
MAX_PER_PAGE = 500
# No NUL character (PostgreSQL refuses it in text) and nothing that is not valid Unicode text.
NO_NUL = r"^[^\x00]*$"


def _encodable(value: str) -> str:
    """Refuse lone surrogates, which no database encoding can store."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def text(max_length: int, min_length: int = 0) -> object:
    """A string field type of bounded length that the database can store."""
    return Annotated[
        str,
        Field(min_length=min_length, max_length=max_length, pattern=NO_NUL),
        AfterValidator(_encodable),
    ]



def ruled(model: type[OfferFields | NeedFields], name: str, **fixed: Any) -> AfterValidator:
    """A validator asking the field's rule in web.services.inputs (the one home of the offer
    and need rules, shared with the forms and the sheets), with the fields validated before
    it; `fixed` gives the rule what the request implies (wish=True)."""

    def check(value: Any, info: ValidationInfo) -> Any:
        known = {k: v for k, v in info.data.items() if k in model.names()}
        today = (info.context or {}).get("today")  # web.api.registry passes web.clock's
        with force_locale("en"):
            message = model(**{**known, **fixed, name: value}, today=today).problem(name)
            if message is not None:
                raise PydanticCustomError("rule", str(message))
        return value

    return AfterValidator(check)


def _trimmed(value: str) -> str:
    return value.strip()


ShortText = text(64)
LongText = text(4000)


def title_of(model: type[OfferFields | NeedFields]) -> Any:
    """A title: trimmed, not blank, no control, zero-width or bidi characters, at most 200
    characters (the rule of web.services.titles, through web.services.inputs)."""
    return Annotated[
        str,
        Field(json_schema_extra={"minLength": 1, "maxLength": MAX_TITLE}),
        ruled(model, "title"),
        AfterValidator(_trimmed),
    ]


def description_of(model: type[OfferFields | NeedFields]) -> Any:
    """A description of at most 4000 characters (web.services.inputs)."""
    return Annotated[
        str,
        Field(pattern=NO_NUL, json_schema_extra={"maxLength": MAX_DESCRIPTION}),
        AfterValidator(_encodable),
        ruled(model, "description"),
    ]


def count_of(model: type[OfferFields | NeedFields], name: str) -> Any:
    """A whole number from 1 up, by the field's rule (web.services.inputs)."""
    return Annotated[
        int, Field(json_schema_extra={"minimum": 1, "maximum": MAX_INTEGER}), ruled(model, name)
    ]


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every moment stored is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# A moment in RFC 3339 form with its offset.
Moment = Annotated[datetime, AfterValidator(_utc)]
Id = Annotated[int, Field(ge=1, le=MAX_INT)]


def _real_week(value: str) -> str:
    """Refuse a week the year does not have (most years have no W53)."""
    year, number = value.split("-W")
    try:
        date.fromisocalendar(int(year), int(number), 1)
    except ValueError:
        raise ValueError(f"{value} is not a week of {year}") from None
    return value


Week = Annotated[
    str,
    Field(pattern=r"^[1-9][0-9]{3}-W(0[1-9]|[1-4][0-9]|5[0-3])$", examples=["2026-W48"]),
    AfterValidator(_real_week),
]
CATEGORY_CODES = tuple(c.code for c in CATEGORIES)
CategoryCode = Literal[CATEGORY_CODES]  # type: ignore[valid-type]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00]*$")]


class Strict(BaseModel):
    """A request model: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Out(BaseModel):
    """A response model."""

    model_config = ConfigDict(from_attributes=True)


class Paging(Strict):
    """Paging of a list: 1-based page and page size."""

    page: Annotated[int, Field(ge=1, le=MAX_INT)] = 1
    per_page: Annotated[int, Field(ge=1, le=MAX_PER_PAGE)] = 50


T = TypeVar("T")


class Page(Out, Generic[T]):
    """One page of a list, with the size of the whole list."""

    items: list[T]
    total: int
    page: int
    per_page: int
    pages: int


class FieldProblem(Out):
    """One field that failed validation and why."""

    field: str
    message: str


class Problem(Out):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldProblem] | None = None


class Done(Out):
    """An empty success."""

    ok: bool = True


def page_of(items: list[T], total: int, paging: Paging) -> dict[str, object]:
    """The fields of a Page for the items of one page."""
    return {
        "items": items,
        "total": total,
        "page": paging.page,
        "per_page": paging.per_page,
        "pages": max(1, -(-total // paging.per_page)),
    }
