"""The plain frozen records matcher reads: a week's villages, needs, offers and allocations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from matcher.categories import CATEGORY_CODES
from matcher.kinds import Catalogue, kind_problem


def _check_category(category: str, owner: str) -> None:
    """Refuse a category code that is not in the taxonomy."""
    if category not in CATEGORY_CODES:
        raise ValueError(f"{owner}: unknown category {category!r}")


def _check_kinds(kinds: Iterable[object], category: str, owner: str) -> None:
    """Refuse a kind that is not a dot-separated code of non-empty parts under the category."""
    for kind in kinds:
        problem = kind_problem(kind, category)
        if problem:
            raise ValueError(f"{owner}: {problem}")


@dataclass(frozen=True)
class Village:
    """A poor village: its county, how poor it is, and where it is (if known)."""

    id: str
    county: str
    poverty_weight: float = 1.0
    lat: float | None = None
    lon: float | None = None
    name: str = ""


@dataclass(frozen=True)
class Need:
    """A village's need of one category; quantity is what remains to be met.

    `item` is the kind needed (None: unspecified) and `accepts` the kinds it also takes.
    """

    id: str
    village: str
    category: str
    quantity: int
    urgency: int = 3
    verified: bool = True
    item: str | None = None
    accepts: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        _check_category(self.category, f"need {self.id}")
        _check_kinds(
            ((self.item,) if self.item is not None else ()) + tuple(self.accepts),
            self.category,
            f"need {self.id}",
        )
        if self.quantity < 1:
            raise ValueError(f"need {self.id}: quantity must be >= 1")
        if not 1 <= self.urgency <= 5:
            raise ValueError(f"need {self.id}: urgency must be 1..5")


@dataclass(frozen=True)
class Offer:
    """A donor's offer of one category, with the restrictions of the allocation model.

    `items` are the kinds offered; none makes it a general offer of its category.
    """

    id: str
    donor: str
    category: str
    quantity: int
    min_lot: int = 1
    max_villages: int | None = None
    indivisible: bool = False
    counties: frozenset[str] = frozenset()
    villages: frozenset[str] = frozenset()
    lat: float | None = None
    lon: float | None = None
    valid_until: date | None = None
    items: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        _check_category(self.category, f"offer {self.id}")
        _check_kinds(self.items, self.category, f"offer {self.id}")
        if self.quantity < 1 or self.min_lot < 1:
            raise ValueError(f"offer {self.id}: quantity and min_lot must be >= 1")


@dataclass(frozen=True)
class Policy:
    """The policy knob eligibility depends on (the spec's default)."""

    distance_discount_per_km: float = 0.001


@dataclass(frozen=True)
class Allocation:
    """Units of an offer given to a need."""

    offer: str
    need: str
    quantity: int


@dataclass(frozen=True)
class Week:
    """A week's instance and (possibly empty) allocation; `on` is the day offers must be valid.

    `catalogue` is the catalogue of kinds the week's figures take units and reference values
    from (the model itself only compares kinds as strings).
    """

    villages: tuple[Village, ...]
    needs: tuple[Need, ...]
    offers: tuple[Offer, ...]
    allocations: tuple[Allocation, ...] = ()
    policy: Policy = field(default_factory=Policy)
    on: date | None = None
    catalogue: Catalogue | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        for what, ids in (
            ("village", [v.id for v in self.villages]),
            ("need", [n.id for n in self.needs]),
            ("offer", [o.id for o in self.offers]),
        ):
            if len(set(ids)) != len(ids):
                raise ValueError(f"duplicate {what} id")
        for n in self.needs:
            if n.village not in self.village_by_id:
                raise ValueError(f"need {n.id}: unknown village {n.village!r}")
        for a in self.allocations:
            if a.offer not in self.offer_by_id or a.need not in self.need_by_id:
                raise ValueError(f"allocation {a.offer}->{a.need}: unknown offer or need")
            if a.quantity < 1:
                raise ValueError(f"allocation {a.offer}->{a.need}: quantity must be >= 1")

    @cached_property
    def village_by_id(self) -> Mapping[str, Village]:
        """Villages by id."""
        return {v.id: v for v in self.villages}

    @cached_property
    def need_by_id(self) -> Mapping[str, Need]:
        """Needs by id."""
        return {n.id: n for n in self.needs}

    @cached_property
    def offer_by_id(self) -> Mapping[str, Offer]:
        """Offers by id."""
        return {o.id: o for o in self.offers}

    @cached_property
    def needs_of(self) -> Mapping[str, tuple[Need, ...]]:
        """Each village's needs, every village present (possibly with none)."""
        out: dict[str, list[Need]] = {v.id: [] for v in self.villages}
        for n in self.needs:
            out[n.village].append(n)
        return {v: tuple(ns) for v, ns in out.items()}
