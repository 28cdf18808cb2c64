"""One home for the field rules of an offer and of a need (issue 18).

The web forms (web.forms), the API (web.api.offers, web.api.needs) and the sheet importers
(web.services.sheets) check each field here, so the same bad value is refused on every path
with the same field named and the same message, in the user's language (the API renders it in
English). A rule judges a value as it arrives: text from a form or a cell, a number from JSON,
a date already read by the channel (reading a date or a JSON type stays the channel's).

To add a field to offers: give OfferFields the field and, when it has a rule, a function in
OfferFields.RULES; the form, the API and the importer then ask `problem(name)` /
`problems()` (docs/architecture.md walks through one, field by field).
The kinds an offer gives or a need names keep their one home in web.services.kinds
(`offer_kinds`, `need_kind`): they need the catalogue.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l

from matcher.categories import CATEGORIES
from web.services import titles
from web.services.needs import WISH_VALUE_CAP, deadline_message, deadline_problem

# Whole numbers above this are refused (the database keeps 32-bit integers).
MAX_INTEGER = 1_000_000_000
MAX_DESCRIPTION = 4000
LATITUDE = (18.0, 30.0)  # Hezhou's wider region
LONGITUDE = (100.0, 120.0)
URGENCY = (1, 5)
DEFAULT_URGENCY = 3
CATEGORY_CODES = tuple(c.code for c in CATEGORIES)
_WHOLE = re.compile(r"\+?\d+")

Message = Any  # a message in the user's language (a lazy string, or one already translated)


def blank(raw: Any) -> bool:
    """True for a value left empty (None or only spaces)."""
    return raw is None or (isinstance(raw, str) and not raw.strip())


def whole(raw: Any) -> int | None:
    """The whole number a value holds (200, 200.0, " +200 "), or None when it holds none."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() else None
    if isinstance(raw, str) and _WHOLE.fullmatch(raw.strip()):
        return int(raw.strip())
    return None


def decimal(raw: Any) -> float | None:
    """The number a value holds, or None (nan and infinities fall outside every range)."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        return float(raw)
    if isinstance(raw, str):
        try:
            return float(raw.strip())
        except ValueError:
            return None
    return None


def _too_large() -> Message:
    return _l("The number is too large (at most %(limit)s).", limit=MAX_INTEGER)


def _count(raw: Any, message: Message, *, required: bool = True) -> Message | None:
    """A count: a whole number from 1 to MAX_INTEGER (blank allowed when not required)."""
    if blank(raw):
        return message if required else None
    number = whole(raw)
    if number is None or number < 1:
        return message
    return _too_large() if number > MAX_INTEGER else None


def _within(raw: Any, low: float, high: float, message: Message) -> Message | None:
    """Blank, or a number from low to high."""
    if blank(raw):
        return None
    number = decimal(raw)
    return None if number is not None and low <= number <= high else message


def category_problem(raw: Any) -> Message | None:
    """The category: one of the platform's category codes."""
    if blank(raw):
        return _l("Please choose a category.")
    if raw in CATEGORY_CODES:
        return None
    names = "、".join(c.name_zh for c in CATEGORIES)
    return _l("Unknown category “%(value)s”; possible: %(names)s.", value=raw, names=names)


def title_problem(raw: Any) -> Message | None:
    """The title rule of web.services.titles (trimmed, not blank, no hidden characters)."""
    code = titles.title_problem(raw if isinstance(raw, str) else "")
    return None if code is None else titles.title_message(code)


MAX_EVIDENCE = 2000  # a micro-wish's verification note


def description_problem(raw: Any) -> Message | None:
    """A description: at most MAX_DESCRIPTION characters."""
    if isinstance(raw, str) and len(raw) > MAX_DESCRIPTION:
        return _l("At most %(limit)s characters.", limit=MAX_DESCRIPTION)
    return None


# What a rule is judged against besides the fields: not entered, handed in by the channel.
CONTEXT = ("today", "kept")


@dataclass
class _Fields:
    """Field values as entered; `problems()` maps each refused field to its message.

    `today` is the day the rules of time judge by (web.clock.today(), passed in by the
    boundary; None: no rule of time applies). `kept` holds an edited row's stored values: a
    date left as it was is not judged against today, so an old row can still be changed.
    """

    RULES: ClassVar[Mapping[str, Callable[[Any], Message | None]]] = {}
    today: date | None = field(default=None, kw_only=True)
    kept: Mapping[str, Any] = field(default_factory=dict, kw_only=True)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if f.name not in CONTEXT)

    def passed(self, name: str) -> bool:
        """Whether the date in field `name` is before today, and set or changed (not kept)."""
        day = getattr(self, name)
        if not isinstance(day, date) or self.today is None or day >= self.today:
            return False
        return not (name in self.kept and self.kept[name] == day)

    def problem(self, name: str) -> Message | None:
        """Why the field `name` is refused, or None."""
        rule = self.RULES.get(name)
        return None if rule is None else rule(self)

    def problems(self) -> dict[str, Message]:
        """Field -> message for every field refused, in the fields' order."""
        found = {}
        for name in self.RULES:
            message = self.problem(name)
            if message is not None:
                found[name] = message
        return found


@dataclass
class OfferFields(_Fields):
    """An offer as entered: the fields a donor fills in on a form, in the API or in a sheet."""

    category: Any = None
    title: Any = None
    description: Any = ""
    quantity: Any = None
    min_lot: Any = None
    max_villages: Any = None
    dispatch_lat: Any = None
    dispatch_lon: Any = None
    valid_from: Any = None
    valid_until: Any = None


def _min_lot(o: OfferFields) -> Message | None:
    refused = _count(
        o.min_lot, _l("Smallest lot must be a whole number greater than 0."), required=False
    )
    if refused is not None:
        return refused
    lot, quantity = whole(o.min_lot), whole(o.quantity)
    if lot is not None and quantity is not None and quantity >= 1 and lot > quantity:
        return _l("Smallest lot cannot be larger than the quantity.")
    return None


def _valid_until(o: OfferFields) -> Message | None:
    if not isinstance(o.valid_until, date):
        return _l("Please enter the valid-until date.")
    if isinstance(o.valid_from, date) and o.valid_until < o.valid_from:
        return _l("Valid-until date cannot be before the valid-from date.")
    if o.passed("valid_until"):
        return _l(
            "Valid until: %(day)s has already passed (today is %(today)s); an offer must still be "
            "valid when it is posted.",
            day=o.valid_until.isoformat(), today=o.today.isoformat() if o.today else "",
        )  # fmt: skip
    return None


OfferFields.RULES = {
    "category": lambda o: category_problem(o.category),
    "title": lambda o: title_problem(o.title),
    "description": lambda o: description_problem(o.description),
    "quantity": lambda o: _count(o.quantity, _l("Quantity must be a whole number greater than 0.")),
    "min_lot": _min_lot,
    "max_villages": lambda o: _count(
        o.max_villages,
        _l("Number of villages must be a whole number greater than 0."),
        required=False,
    ),
    "dispatch_lat": lambda o: _within(
        o.dispatch_lat, *LATITUDE, _l("Latitude must be a number between 18 and 30.")
    ),
    "dispatch_lon": lambda o: _within(
        o.dispatch_lon, *LONGITUDE, _l("Longitude must be a number between 100 and 120.")
    ),
    "valid_from": lambda o: (
        None if isinstance(o.valid_from, date) else _l("Please enter the valid-from date.")
    ),
    "valid_until": _valid_until,
}


@dataclass
class NeedFields(_Fields):
    """A need or a household's micro-wish (wish=True) as entered."""

    category: Any = None
    title: Any = None
    description: Any = ""
    quantity: Any = None
    urgency: Any = None
    deadline: Any = None
    estimated_value: Any = None
    household_people: Any = None
    evidence: Any = ""
    wish: bool = False


def _urgency(n: NeedFields) -> Message | None:
    if blank(n.urgency):
        return None  # DEFAULT_URGENCY
    value = whole(n.urgency)
    if value is None or not URGENCY[0] <= value <= URGENCY[1]:
        return _l("Urgency must be a whole number from 1 to 5.")
    return None


def _deadline(n: NeedFields) -> Message | None:
    if not isinstance(n.deadline, date) or n.today is None:
        return None  # no deadline (reading a date is the channel's), or no day to judge by
    code = deadline_problem(n.deadline, n.today, n.kept.get("deadline"))
    return None if code is None else deadline_message(code, n.deadline, n.today)


def _estimated_value(n: NeedFields) -> Message | None:
    if not n.wish:
        return None
    value = whole(n.estimated_value)
    if value is None or not 1 <= value <= WISH_VALUE_CAP:
        return _l(
            "Estimated value must be a whole number of yuan, at most the cap of %(cap)s yuan.",
            cap=WISH_VALUE_CAP,
        )
    return None


def _evidence(n: NeedFields) -> Message | None:
    """A micro-wish's verification note: required, at most MAX_EVIDENCE characters."""
    text = n.evidence.strip() if isinstance(n.evidence, str) else ""
    if len(text) > MAX_EVIDENCE:
        return _l("At most %(limit)s characters.", limit=MAX_EVIDENCE)
    if n.wish and not text:
        return _l("A micro-wish needs a verification note: who verified it, when and how.")
    return None


NeedFields.RULES = {
    "category": lambda n: category_problem(n.category),
    "title": lambda n: title_problem(n.title),
    "description": lambda n: description_problem(n.description),
    "quantity": lambda n: _count(n.quantity, _l("Quantity must be a whole number greater than 0.")),
    "urgency": _urgency,
    "deadline": _deadline,
    "estimated_value": _estimated_value,
    "evidence": _evidence,
    "household_people": lambda n: _count(
        n.household_people,
        _l("Number of people must be a whole number greater than 0."),
        required=False,
    ),
}
