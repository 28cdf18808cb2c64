"""Frozen dataclasses of the rolling allocation model (specs/allocation-model-v2.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from optimizer.model import Instance, Result

MAX_HORIZON = 12


@dataclass(frozen=True)
class History:
    """A village's committed coverage `weeks_ago` weeks before week 0."""

    village: str
    weeks_ago: int
    coverage: float


@dataclass(frozen=True)
class RollingInstance:
    """A v1 instance (every need and offer, v1 keys only) with v2's weeks and history.

    The tuples run parallel to `base.needs` and `base.offers`; `None` means no due week, or
    an offer that does not perish within the horizon.
    """

    base: Instance
    horizon: int = 1
    need_open: tuple[int, ...] = ()
    need_due: tuple[int | None, ...] = ()
    offer_from: tuple[int, ...] = ()
    offer_until: tuple[int | None, ...] = ()
    history: tuple[History, ...] = ()
    window: int = 2
    catch_up: float = 1.0
    waiting_penalty: float = 5000.0

    @staticmethod
    def of(base: Instance, horizon: int = 1, **extra: object) -> RollingInstance:
        """A rolling instance with every need and offer open from week 0, no due week."""
        defaults: dict[str, object] = {
            "need_open": (0,) * len(base.needs),
            "need_due": (None,) * len(base.needs),
            "offer_from": (0,) * len(base.offers),
            "offer_until": (None,) * len(base.offers),
        }
        return RollingInstance(base, horizon, **{**defaults, **extra})  # type: ignore[arg-type]


@dataclass(frozen=True)
class WeekAllocation:
    """Units of one offer given to one need in week `week` (0: committed; later: planned)."""

    offer: str
    need: str
    quantity: int
    week: int
    km: float = 0.0
    value: float = 0.0


@dataclass(frozen=True)
class VillagePlan:
    """What a village had and what is expected to reach it, week by week."""

    village: str
    rolling_coverage: float | None
    catch_up: float
    expected: tuple[float, ...]  # per week, the coverage that week's deliveries bring


@dataclass(frozen=True)
class RollingResult:
    """A v2 solve: the v1 result of the horizon instance, with weeks, plan and deadlines."""

    status: str
    objective: float
    bound: float | None
    seconds: float
    horizon: int
    allocations: tuple[WeekAllocation, ...]
    metrics: Mapping[str, float]
    villages: tuple[VillagePlan, ...]
    deadlines: Mapping[str, int]
    method: str
    settings: Mapping[str, float | int | str | None] = field(default_factory=dict)
    violations: tuple[str, ...] = ()

    @property
    def committed(self) -> tuple[WeekAllocation, ...]:
        """The allocations of week 0, the only ones carried out."""
        return tuple(a for a in self.allocations if a.week == 0)

    @staticmethod
    def from_v1(result: Result, horizon: int = 1) -> RollingResult:
        """A v1 result seen as a v2 one (every allocation in week 0)."""
        return RollingResult(
            result.status, result.objective, result.bound, result.seconds, horizon,
            tuple(
                WeekAllocation(a.offer, a.need, a.quantity, 0, a.km, a.value)
                for a in result.allocations
            ),
            result.metrics, (), {}, result.method, result.settings,
        )
