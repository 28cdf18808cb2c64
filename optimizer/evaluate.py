"""Recompute an allocation's objective and metrics from scratch, and check hard constraints."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from optimizer.model import Allocation, Evaluation, Instance
from optimizer.problem import need_unit_value, pair_km, reachable_villages


def gini(values: list[float]) -> float:
    """Gini coefficient of non-negative values: 0 when equal, towards 1 when concentrated."""
    if not values or sum(values) <= 0:
        return 0.0
    ordered = sorted(values)
    n = len(ordered)
    weighted = math.fsum((2 * (i + 1) - n - 1) * v for i, v in enumerate(ordered))
    return weighted / (n * math.fsum(ordered))


def evaluate(instance: Instance, allocations: Iterable[Allocation]) -> Evaluation:
    """The objective of `allocations` recomputed from the spec, its metrics and violations."""
    policy = instance.policy
    villages = {v.id: (i, v) for i, v in enumerate(instance.villages)}
    needs = {n.id: (i, n) for i, n in enumerate(instance.needs)}
    offers = {o.id: (i, o) for i, o in enumerate(instance.offers)}
    # Eligibility is checked pair by pair, reachability by index: a province week has
    # millions of eligible pairs, and an allocation uses few of them.
    reachable = reachable_villages(instance)
    violations: list[str] = []
    given_need = [0] * len(instance.needs)
    given_offer = [0] * len(instance.offers)
    given_group: dict[tuple[int, int], int] = {}
    values: list[float] = []
    seen: set[tuple[int, int]] = set()
    for a in allocations:
        if a.offer not in offers or a.need not in needs:
            violations.append(f"allocation {a.offer}->{a.need}: unknown offer or need id")
            continue
        o, n = offers[a.offer][0], needs[a.need][0]
        v = villages[instance.needs[n].village][0]
        km = pair_km(instance, instance.offers[o], instance.villages[v], instance.needs[n])
        if km is None:
            violations.append(f"allocation {a.offer}->{a.need}: pair is not eligible")
            continue
        if (o, n) in seen:
            violations.append(f"allocation {a.offer}->{a.need}: listed twice")
        seen.add((o, n))
        if isinstance(a.quantity, bool) or not isinstance(a.quantity, int) or a.quantity < 1:
            violations.append(f"allocation {a.offer}->{a.need}: quantity must be an integer >= 1")
            continue
        factor = 1.0 - policy.distance_discount_per_km * km
        values.append(a.quantity * need_unit_value(instance, n, instance.villages[v]) * factor)
        given_need[n] += a.quantity
        given_offer[o] += a.quantity
        given_group[(o, v)] = given_group.get((o, v), 0) + a.quantity
    violations += _check_constraints(instance, given_need, given_offer, given_group)
    coverage = _coverage(instance, given_need, villages)
    shortfall = math.fsum(
        max(0.0, policy.fairness_floor - coverage[v]) for v in sorted(reachable)
    )
    value = math.fsum(values)
    fragmentation = policy.fragmentation_penalty * len(given_group)
    fairness = policy.fairness_penalty * shortfall
    metrics = _metrics(instance, given_need, given_group, coverage, reachable)
    metrics.update(
        value=value,
        fragmentation_penalty_total=fragmentation,
        fairness_penalty_total=fairness,
        fairness_shortfall=shortfall,
    )
    return Evaluation(
        objective=value - fragmentation - fairness,
        value=value,
        fragmentation=fragmentation,
        fairness=fairness,
        metrics=metrics,
        violations=tuple(violations),
    )


def _check_constraints(
    instance: Instance,
    given_need: list[int],
    given_offer: list[int],
    given_group: Mapping[tuple[int, int], int],
) -> list[str]:
    violations = []
    for n, need in enumerate(instance.needs):
        # Demand: a need never receives more than it asked for.
        if given_need[n] > need.quantity:
            violations.append(f"need {need.id}: receives {given_need[n]} > {need.quantity}")
    served: dict[int, int] = {}
    for (o, v), total in given_group.items():
        offer, village = instance.offers[o], instance.villages[v].id
        served[o] = served.get(o, 0) + 1
        # Minimum lot: a served village gets at least one lot.
        if total < offer.min_lot:
            violations.append(f"offer {offer.id}: gives {village} {total} < min_lot")
        # Indivisible: the whole quantity goes to one village.
        if offer.indivisible and total != offer.quantity:
            violations.append(f"offer {offer.id}: indivisible but gives {village} {total}")
    for o, offer in enumerate(instance.offers):
        # Supply: an offer never gives more than it has.
        if given_offer[o] > offer.quantity:
            violations.append(f"offer {offer.id}: gives {given_offer[o]} > {offer.quantity}")
        # Village cap: an offer serves at most max_villages villages.
        if offer.max_villages is not None and served.get(o, 0) > offer.max_villages:
            violations.append(f"offer {offer.id}: serves {served[o]} > max_villages")
    return violations


def _coverage(
    instance: Instance, given_need: list[int], villages: Mapping[str, tuple[int, object]]
) -> list[float]:
    """Per village, the mean over its needs of the fraction received (0 with no needs)."""
    fractions: list[list[float]] = [[] for _ in instance.villages]
    for n, need in enumerate(instance.needs):
        fractions[villages[need.village][0]].append(given_need[n] / need.quantity)
    return [math.fsum(f) / len(f) if f else 0.0 for f in fractions]


def _metrics(
    instance: Instance,
    given_need: list[int],
    given_group: Mapping[tuple[int, int], int],
    coverage: list[float],
    reachable: set[int],
) -> dict[str, float]:
    weights = [
        n.urgency * instance.villages[v].poverty_weight
        for n, v in zip(instance.needs, _need_villages(instance), strict=True)
    ]
    met = math.fsum(
        w * min(1.0, given_need[i] / n.quantity)
        for i, (w, n) in enumerate(zip(weights, instance.needs, strict=True))
    )
    donors: dict[int, set[str]] = {}
    for o, v in given_group:
        donors.setdefault(v, set()).add(instance.offers[o].donor)
    served = [v for v in range(len(instance.villages)) if v in donors]
    reach = sorted(reachable)
    return {
        "weighted_fulfilment": met / math.fsum(weights) if weights else 0.0,
        "villages": float(len(instance.villages)),
        "villages_reachable": float(len(reach)),
        "villages_served": float(len(served)),
        "villages_zero_coverage": float(sum(1 for v in reach if coverage[v] == 0.0)),
        "villages_below_floor": float(
            sum(1 for v in reach if coverage[v] < instance.policy.fairness_floor)
        ),
        "links": float(len(given_group)),
        "mean_donors_per_served_village": (
            sum(len(donors[v]) for v in served) / len(served) if served else 0.0
        ),
        "mean_coverage_reachable": math.fsum(coverage[v] for v in reach) / len(reach)
        if reach
        else 0.0,
        "gini_coverage": gini([coverage[v] for v in reach]),
        "units_allocated": float(sum(given_need)),
    }


def _need_villages(instance: Instance) -> list[int]:
    index = {v.id: i for i, v in enumerate(instance.villages)}
    return [index[n.village] for n in instance.needs]
