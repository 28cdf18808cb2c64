"""The exact model on CP-SAT, over a chosen set of free offers with the rest held fixed.

With every offer free this is the whole model (small instances, proven optimal). With a few
free offers it is one neighbourhood of the large-neighbourhood search. The objective is scaled
to integers; `error` bounds how far a scaled value can be from the exact one, so a scaled
bound converts to a proven bound on the exact objective.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from optimizer.problem import Problem

MAX_SCALE = 1e9
MAX_ACTIVITY = 2.0**52  # keep scaled objective sums exact in doubles and far from int64


@dataclass
class SubModel:
    """A CP-SAT model of the free offers, with its variables and scaling."""

    model: cp_model.CpModel
    x: dict[int, cp_model.IntVar]
    scale: float
    error: float  # most the scaled objective / scale can differ from the exact one


def objective_scale(problem: Problem) -> float:
    """The largest power of ten <= MAX_SCALE that keeps the objective's range within bounds."""
    instance, policy = problem.instance, problem.instance.policy
    weights = {v.id: v.poverty_weight for v in instance.villages}
    magnitude = (
        sum(100.0 * n.urgency * weights[n.village] for n in instance.needs)
        + policy.fragmentation_penalty * len(problem.groups)
        + policy.fairness_penalty * len(instance.villages)
        + 1.0
    )
    scale = MAX_SCALE
    while scale > 1.0 and scale * magnitude > MAX_ACTIVITY:
        scale /= 10.0
    return scale


def build_submodel(
    problem: Problem,
    free: Sequence[int],
    candidates: Callable[[int], Sequence[int]],
    x: Sequence[int],
    scale: float,
) -> SubModel:
    """Model the offers in `free` over pairs `candidates(o)`; other offers keep `x`."""
    instance, policy = problem.instance, problem.instance.policy
    model = cp_model.CpModel()
    free_set = set(free)
    fixed_given = [0] * len(instance.needs)
    for j, units in enumerate(x):
        if units and problem.pair_offer[j] not in free_set:
            fixed_given[problem.pair_need[j]] += units
    room = [n.quantity - fixed_given[i] for i, n in enumerate(instance.needs)]
    xs: dict[int, cp_model.IntVar] = {}
    by_need: dict[int, list[int]] = {}
    error = 0.0
    terms: list[tuple[int, cp_model.IntVar]] = []
    for o in free:
        offer = instance.offers[o]
        groups: dict[int, list[int]] = {}
        for j in candidates(o):
            if room[problem.pair_need[j]] > 0:
                groups.setdefault(problem.pair_group[j], []).append(j)
        ys = []
        for g, pairs in sorted(groups.items()):
            upper = {j: min(offer.quantity, room[problem.pair_need[j]]) for j in pairs}
            capacity = min(offer.quantity, sum(upper.values()))
            if capacity < offer.min_lot or (offer.indivisible and capacity < offer.quantity):
                continue
            y = model.new_bool_var(f"y{g}")
            ys.append(y)
            total = []
            for j in pairs:
                var = model.new_int_var(0, upper[j], f"x{j}")
                model.add(var == 0).only_enforce_if(~y)  # no units without the link
                model.add(var <= upper[j] * y)  # the same, for the linear relaxation
                xs[j] = var
                total.append(var)
                by_need.setdefault(problem.pair_need[j], []).append(j)
                coef = round(scale * problem.pair_value[j])
                error += abs(coef - scale * problem.pair_value[j]) * upper[j]
                terms.append((coef, var))
            coef = round(scale * policy.fragmentation_penalty)
            error += abs(coef - scale * policy.fragmentation_penalty)
            terms.append((-coef, y))
            if offer.indivisible:  # the whole quantity to one village, or none
                model.add(sum(total) == offer.quantity * y)
            else:  # a served village gets at least one lot
                model.add(sum(total) <= capacity * y)
                model.add(sum(total) >= offer.min_lot * y)
        if offer.indivisible and ys:
            model.add(sum(ys) <= 1)
        elif offer.max_villages is not None and len(ys) > offer.max_villages:
            model.add(sum(ys) <= offer.max_villages)  # the village cap
        if ys:  # supply
            model.add(sum(xs[j] for g in groups for j in groups[g] if j in xs) <= offer.quantity)
    for n, pairs in by_need.items():  # demand, net of fixed offers
        model.add(sum(xs[j] for j in pairs) <= room[n])
    error += _fairness(problem, model, by_need, xs, fixed_given, scale, terms)
    model.maximize(sum(c * v for c, v in terms))
    return SubModel(model, xs, scale, error / scale)


def _fairness(
    problem: Problem,
    model: cp_model.CpModel,
    by_need: dict[int, list[int]],
    xs: dict[int, cp_model.IntVar],
    fixed_given: list[int],
    scale: float,
    terms: list[tuple[int, cp_model.IntVar]],
) -> float:
    """Shortfall s_v >= scaled(floor - coverage) for each touched reachable village."""
    instance, policy = problem.instance, problem.instance.policy
    error = 0.0
    if policy.fairness_penalty <= 0:
        return error
    villages = sorted({problem.need_village[n] for n in by_need})
    for v in villages:
        if not problem.reachable[v]:
            continue
        needs = problem.village_needs[v]
        count = len(needs)
        fixed = sum(fixed_given[n] / instance.needs[n].quantity for n in needs) / count
        deficit = scale * policy.fairness_penalty * (policy.fairness_floor - fixed)
        if deficit <= 0:
            continue
        target = round(deficit)
        error += abs(target - deficit) + 0.5
        covered = []
        for n in needs:
            exact = scale * policy.fairness_penalty / (count * instance.needs[n].quantity)
            coef = round(exact)
            error += abs(coef - exact) * instance.needs[n].quantity
            covered += [coef * xs[j] for j in by_need.get(n, ())]
        s = model.new_int_var(0, max(0, target), f"s{v}")
        model.add(s + sum(covered) >= target)
        terms.append((-1, s))
    return error
