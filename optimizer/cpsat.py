"""The exact model on CP-SAT, over a chosen set of free offers with the rest held fixed.

With every offer free this is the whole model (small instances, proven optimal). With a few
free offers it is one neighbourhood of the large-neighbourhood search. The objective is scaled
to integers; `error` bounds how far a scaled value can be from the exact one, so a scaled
bound converts to a proven bound on the exact objective.

The model is written straight into CP-SAT's model proto (integer lists per constraint), not
through `cp_model`'s expression objects: a step of the search builds in a few milliseconds, and
`cp_model` (which imports pandas, half a second of start-up) is not needed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model_helper as cmh

from optimizer.problem import Problem

MAX_SCALE = 1e9
MAX_ACTIVITY = 2.0**52  # keep scaled objective sums exact in doubles and far from int64
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # an unbounded side of a linear constraint


@dataclass
class SubModel:
    """A CP-SAT model of the free offers, with its variables and scaling."""

    model: cmh.CpModelProto
    x: dict[int, int]  # pair -> its variable's index in the model
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


class _Builder:
    """Variables and constraints appended to a CP-SAT model proto."""

    def __init__(self) -> None:
        self.model = cmh.CpModelProto()
        self.count = 0

    def var(self, low: int, high: int) -> int:
        self.model.variables.add().domain.extend([low, high])
        self.count += 1
        return self.count - 1

    def linear(self, variables: list[int], coefs: list[int], low: int, high: int) -> None:
        linear = self.model.constraints.add().linear
        linear.vars.extend(variables)
        linear.coeffs.extend(coefs)
        linear.domain.extend([low, high])


def build_submodel(
    problem: Problem,
    free: Sequence[int],
    candidates: Callable[[int], Sequence[int]],
    x: Sequence[int],
    scale: float,
    given: Sequence[int] | None = None,
) -> SubModel:
    """Model the offers in `free` over pairs `candidates(o)`; other offers keep `x`, which is
    also the model's hint.

    `given`, the units each need receives in `x` when the caller keeps them, spares a pass
    over every pair: only the free offers' pairs `candidates(o)` are then read (they must
    include every pair of a free offer that carries units in `x`).
    """
    instance, policy = problem.instance, problem.instance.policy
    build = _Builder()
    if given is None:
        free_set = set(free)
        fixed_given = [0] * len(instance.needs)
        for j, units in enumerate(x):
            if units and problem.pair_offer[j] not in free_set:
                fixed_given[problem.pair_need[j]] += units
    else:
        fixed_given = list(given)
        for o in set(free):
            for j in candidates(o):
                if x[j]:
                    fixed_given[problem.pair_need[j]] -= x[j]
    needs = instance.needs
    xs: dict[int, int] = {}
    by_need: dict[int, list[int]] = {}
    error = 0.0
    obj_vars: list[int] = []
    obj_coefs: list[int] = []
    hint_vars: list[int] = []
    hint_values: list[int] = []
    frag = round(scale * policy.fragmentation_penalty)
    frag_error = abs(frag - scale * policy.fragmentation_penalty)
    for o in free:
        offer = instance.offers[o]
        groups: dict[int, list[int]] = {}
        for j in candidates(o):
            n = problem.pair_need[j]
            if needs[n].quantity - fixed_given[n] > 0:
                groups.setdefault(problem.pair_group[j], []).append(j)
        ys: list[int] = []
        given_vars: list[int] = []
        for _, pairs in sorted(groups.items()):
            upper = [min(offer.quantity, needs[problem.pair_need[j]].quantity
                         - fixed_given[problem.pair_need[j]]) for j in pairs]
            capacity = min(offer.quantity, sum(upper))
            if capacity < offer.min_lot or (offer.indivisible and capacity < offer.quantity):
                continue
            y = build.var(0, 1)
            ys.append(y)
            total: list[int] = []
            units = 0
            for j, high in zip(pairs, upper, strict=True):
                var = build.var(0, high)
                if len(pairs) > 1:  # no units without the link (one pair: the rows below)
                    build.linear([var, y], [1, -high], INT_MIN, 0)
                xs[j] = var
                total.append(var)
                by_need.setdefault(problem.pair_need[j], []).append(j)
                exact = scale * problem.pair_value[j]
                coef = round(exact)
                error += abs(coef - exact) * high
                obj_vars.append(var)
                obj_coefs.append(coef)
                hint_vars.append(var)
                hint_values.append(min(x[j], high))
                units += x[j]
            hint_vars.append(y)
            hint_values.append(1 if units else 0)
            error += frag_error
            obj_vars.append(y)
            obj_coefs.append(-frag)
            ones = [1] * len(total)
            if offer.indivisible:  # the whole quantity to one village, or none
                build.linear([*total, y], [*ones, -offer.quantity], 0, 0)
            else:  # a served village gets at least one lot
                build.linear([*total, y], [*ones, -capacity], INT_MIN, 0)
                build.linear([*total, y], [*ones, -offer.min_lot], 0, INT_MAX)
            given_vars += total
        if offer.indivisible and ys:
            build.linear(ys, [1] * len(ys), INT_MIN, 1)
        elif offer.max_villages is not None and len(ys) > offer.max_villages:
            build.linear(ys, [1] * len(ys), INT_MIN, offer.max_villages)  # the village cap
        if ys:  # supply
            build.linear(given_vars, [1] * len(given_vars), INT_MIN, offer.quantity)
    for n, pairs in by_need.items():  # demand, net of fixed offers
        room = needs[n].quantity - fixed_given[n]
        build.linear([xs[j] for j in pairs], [1] * len(pairs), INT_MIN, room)
    error += _fairness(problem, build, by_need, xs, fixed_given, scale, obj_vars, obj_coefs)
    objective = build.model.objective  # maximise: minimise the negation, reported negated
    objective.vars.extend(obj_vars)
    objective.coeffs.extend([-c for c in obj_coefs])
    objective.scaling_factor = -1.0
    build.model.solution_hint.vars.extend(hint_vars)
    build.model.solution_hint.values.extend(hint_values)
    return SubModel(build.model, xs, scale, error / scale)


def _fairness(
    problem: Problem,
    build: _Builder,
    by_need: dict[int, list[int]],
    xs: dict[int, int],
    fixed_given: list[int],
    scale: float,
    obj_vars: list[int],
    obj_coefs: list[int],
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
        variables: list[int] = []
        coefs: list[int] = []
        for n in needs:
            exact = scale * policy.fairness_penalty / (count * instance.needs[n].quantity)
            coef = round(exact)
            error += abs(coef - exact) * instance.needs[n].quantity
            for j in by_need.get(n, ()):
                variables.append(xs[j])
                coefs.append(coef)
        s = build.var(0, max(0, target))
        build.linear([s, *variables], [1, *coefs], target, INT_MAX)
        obj_vars.append(s)
        obj_coefs.append(-1)
    return error


def solve_submodel(
    sub: SubModel, time_limit: float, workers: int, seed: int
) -> tuple[bool, bool, dict[int, int]]:
    """Solve a submodel: (solved to optimality, found a solution, units per pair)."""
    parameters = cmh.SatParameters()
    parameters.max_time_in_seconds = max(0.01, time_limit)
    parameters.num_workers = workers
    parameters.random_seed = seed
    # The LP relaxation at every node and no probing: on hezhou-31's steps (about 300 pairs),
    # 78 of 80 proven optimal in 5.3 s against 73 in 8.4 s with the defaults.
    parameters.linearization_level = 2
    parameters.cp_model_probing_level = 0
    solver = cmh.SolveWrapper()
    solver.set_parameters(parameters)
    response = solver.solve(sub.model)  # type: ignore[no-untyped-call]
    status = response.status
    if status not in (cmh.CpSolverStatus.OPTIMAL, cmh.CpSolverStatus.FEASIBLE):
        return False, False, {}
    values = response.solution
    return (
        status == cmh.CpSolverStatus.OPTIMAL,
        True,
        {j: int(values[var]) for j, var in sub.x.items()},
    )
