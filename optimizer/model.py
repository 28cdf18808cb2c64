"""Frozen dataclasses of the weekly allocation model (specs/allocation-model-v1.md, v1.1)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Village:
    """A poor village that posts needs."""

    id: str
    county: str
    name: str | None = None
    township: str | None = None
    poverty_weight: float = 1.0
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True)
class Need:
    """A verified need of one village: `quantity` units of `category`, of kind `item` or one
    of `accepts` when given (spec v1.1; without them it takes general offers only)."""

    id: str
    village: str
    category: str
    quantity: int
    urgency: int
    item: str | None = None
    accepts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Offer:
    """An offer of `quantity` units of `category` by a donor, with its restrictions; `items`
    are the kinds it brings (spec v1.1; empty: any need of its category)."""

    id: str
    donor: str
    category: str
    quantity: int
    min_lot: int = 1
    max_villages: int | None = None
    indivisible: bool = False
    counties: tuple[str, ...] = ()
    villages: tuple[str, ...] = ()
    lat: float | None = None
    lon: float | None = None
    items: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policy:
    """The administrator's weights of the objective."""

    fragmentation_penalty: float = 5.0
    distance_discount_per_km: float = 0.001
    fairness_floor: float = 0.3
    fairness_penalty: float = 200.0


@dataclass(frozen=True)
class Instance:
    """One week's villages, needs, offers and policy, already validated."""

    villages: tuple[Village, ...]
    needs: tuple[Need, ...]
    offers: tuple[Offer, ...]
    policy: Policy = field(default_factory=Policy)
    week: str | None = None


@dataclass(frozen=True)
class Allocation:
    """Units of one offer given to one need, with the distance and the value they earn."""

    offer: str
    need: str
    quantity: int
    km: float = 0.0
    value: float = 0.0


@dataclass(frozen=True)
class Progress:
    """What a running solve reports: seconds since start, best objective, proven bound."""

    elapsed: float
    objective: float | None
    bound: float | None


@dataclass(frozen=True)
class Evaluation:
    """An allocation's objective, its terms, its metrics and any hard-constraint violations."""

    objective: float
    value: float
    fragmentation: float
    fairness: float
    metrics: Mapping[str, float]
    violations: tuple[str, ...]

    @property
    def feasible(self) -> bool:
        """True when the allocation holds every hard constraint."""
        return not self.violations


@dataclass(frozen=True)
class Result:
    """A solve's outcome: status, objective, proven bound, allocations, metrics, settings."""

    status: str
    objective: float
    bound: float | None
    seconds: float
    allocations: tuple[Allocation, ...]
    metrics: Mapping[str, float]
    method: str
    settings: Mapping[str, float | int | str | None] = field(default_factory=dict)
