"""The horizon instance: v2 reduced to a v1 instance (specs/allocation-model-v2.md,
*Reduction to v1*), and the way back (the week of each allocation)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from optimizer.kinds import wanted
from optimizer.model import Instance
from optimizer.problem import pair_km
from optimizer.rolling.model import RollingInstance

Window = tuple[int, int]  # first and last week, both within 0 .. horizon-1
NO_KIND = "_"  # the kind a need that takes no kind is given in each of its weeks


def need_window(instance: RollingInstance, n: int) -> Window | None:
    """Weeks need n may be met in: open_from .. max(due, 0) (H-1 without due), or None."""
    last = instance.horizon - 1
    due = instance.need_due[n]
    end = last if due is None else min(last, max(due, 0))
    start = instance.need_open[n]
    return (start, end) if start <= end else None


def passed_over(instance: RollingInstance) -> set[str]:
    """Villages with history in every week of the window, all at zero coverage (none when
    waiting_penalty is 0)."""
    if instance.waiting_penalty <= 0:
        return set()
    weeks: dict[str, set[int]] = {}
    served: set[str] = set()
    for entry in instance.history:
        if entry.weeks_ago <= instance.window:
            weeks.setdefault(entry.village, set()).add(entry.weeks_ago)
            if entry.coverage > 0:
                served.add(entry.village)
    return {v for v, w in weeks.items() if len(w) == instance.window and v not in served}


def waiting_weights(instance: RollingInstance) -> dict[str, int]:
    """Per passed-over village, 1 + the weeks before the window it was also at zero: the
    consecutive weeks window+1, window+2, ... with a history entry of coverage 0. A village
    passed over three weeks running (window 2) counts twice, four weeks three times."""
    zero: dict[str, set[int]] = {}
    for entry in instance.history:
        if entry.coverage <= 0:
            zero.setdefault(entry.village, set()).add(entry.weeks_ago)
    weights = {}
    for village in passed_over(instance):
        weeks_ago = instance.window + 1
        while weeks_ago in zero.get(village, ()):
            weeks_ago += 1
        weights[village] = weeks_ago - instance.window
    return weights


def offer_window(instance: RollingInstance, o: int) -> Window | None:
    """Weeks offer o is available in within the horizon, or None."""
    last = instance.horizon - 1
    until = instance.offer_until[o]
    end = last if until is None else min(last, until)
    start = instance.offer_from[o]
    return (start, end) if start <= end else None


def rolling_coverage(instance: RollingInstance) -> dict[str, float]:
    """Per village with history inside the window, its mean committed coverage there."""
    sums: dict[str, list[float]] = {}
    for entry in instance.history:
        if entry.weeks_ago <= instance.window:
            sums.setdefault(entry.village, []).append(entry.coverage)
    return {v: math.fsum(c) / len(c) for v, c in sums.items()}


def catch_up_factors(instance: RollingInstance) -> dict[str, float]:
    """c(v) = 1 + catch_up * max(0, floor - rolling coverage) / floor, for villages above 1."""
    floor = instance.base.policy.fairness_floor
    if floor <= 0 or instance.catch_up <= 0:
        return {}
    found = {}
    for village, coverage in rolling_coverage(instance).items():
        deficit = max(0.0, floor - coverage)
        if deficit > 0:
            found[village] = 1.0 + instance.catch_up * deficit / floor
    return found


@dataclass(frozen=True)
class Horizon:
    """The horizon instance, and where its needs and offers come from."""

    instance: Instance
    need_windows: dict[str, Window]  # by need id, needs in the horizon only
    offer_windows: dict[str, Window]
    catch_up: dict[str, float]  # by village id, factors above 1 only
    passed_over: frozenset[str]  # villages passed over for the whole window
    # Per passed-over village, how many times its waiting penalty counts (waiting_weights).
    waiting_weight: dict[str, int] = field(default_factory=dict)

    def week(self, offer: str, need: str) -> int:
        """The week of an allocation: the first week both the offer and the need can make."""
        return max(self.offer_windows[offer][0], self.need_windows[need][0])


def horizon_instance(instance: RollingInstance) -> Horizon:
    """The v1 instance whose allocations, each in its week, are exactly v2's."""
    base = instance.base
    needs, need_windows = [], {}
    for n, need in enumerate(base.needs):
        window = need_window(instance, n)
        if window is not None:
            needs.append((need, window))
            need_windows[need.id] = window
    offers, offer_windows = [], {}
    for o, offer in enumerate(base.offers):
        window = offer_window(instance, o)
        if window is not None:
            offers.append((offer, window))
            offer_windows[offer.id] = window
    factors = catch_up_factors(instance)
    villages = tuple(
        replace(v, poverty_weight=v.poverty_weight * factors[v.id]) if v.id in factors else v
        for v in base.villages
    )
    full = (0, instance.horizon - 1)
    if all(w == full for _, w in needs) and all(w == full for _, w in offers):
        new_needs = tuple(n for n, _ in needs)
        new_offers = tuple(o for o, _ in offers)
    else:
        new_needs = tuple(
            replace(
                need, item=None,
                accepts=tuple(
                    f"{t}.{kind}" for t in range(w[0], w[1] + 1)
                    for kind in (wanted(need) or (NO_KIND,))
                ),
            )
            for need, w in needs
        )
        new_offers = tuple(
            replace(
                offer,
                items=tuple(
                    f"{t}.{item}" if item else str(t)
                    for t in range(w[0], w[1] + 1) for item in (offer.items or ("",))
                ),
            )
            for offer, w in offers
        )
    reduced = Instance(
        villages=villages, needs=new_needs, offers=new_offers, policy=base.policy,
        week=base.week,
    )
    weights = waiting_weights(instance)
    return Horizon(
        reduced, need_windows, offer_windows, factors, frozenset(weights), weights
    )


def reachable_now(horizon: Horizon, villages: set[str]) -> set[str]:
    """Those of `villages` with a need some offer may serve in week 0 (both open then)."""
    instance = horizon.instance
    index = {v.id: v for v in instance.villages}
    offers = [o for o in instance.offers if horizon.offer_windows[o.id][0] == 0]
    found = set()
    for need in instance.needs:
        if need.village in villages and need.village not in found:
            if horizon.need_windows[need.id][0] != 0:
                continue
            village = index[need.village]
            if any(pair_km(instance, o, village, need) is not None for o in offers):
                found.add(need.village)
    return found


def waiting_unserved(horizon: Horizon, now_served: set[str]) -> set[str]:
    """Villages passed over for the whole window, reachable now, that get nothing in week 0."""
    return reachable_now(horizon, set(horizon.passed_over) - now_served)
