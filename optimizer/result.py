"""Assemble a Result from a solution vector, and write it as the spec's output JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from optimizer.evaluate import evaluate
from optimizer.model import Allocation, Instance, Result
from optimizer.problem import Problem
from optimizer.solution import allocations

OPTIMALITY_GAP = 1e-6  # relative gap under which a solve counts as proven optimal


def make_result(
    problem: Problem,
    x: list[int],
    bound: float | None,
    seconds: float,
    method: str,
    settings: Mapping[str, float | int | str | None],
) -> Result:
    """A Result whose objective and metrics are recomputed from the allocations of `x`."""
    chosen = allocations(problem, x)
    checked = evaluate(problem.instance, chosen)
    if checked.violations:  # a bug, never an input problem: refuse to return it
        raise AssertionError("infeasible allocation: " + "; ".join(checked.violations[:5]))
    if bound is not None:
        bound = max(bound, checked.objective)
    optimal = bound is not None and checked.objective >= bound - OPTIMALITY_GAP * max(
        1.0, abs(bound)
    )
    return Result(
        status="optimal" if optimal else "feasible",
        objective=checked.objective,
        bound=bound,
        seconds=seconds,
        allocations=chosen,
        metrics=dict(checked.metrics),
        method=method,
        settings=dict(settings),
    )


def checked_result(
    instance: Instance,
    chosen: Sequence[Allocation],
    *,
    method: str,
    seconds: float,
    bound: float | None = None,
    metrics: Mapping[str, float] | None = None,
    settings: Mapping[str, Any] | None = None,
) -> Result:
    """A feasible Result of allocations checked on the whole instance by `evaluate` (a merged or
    batched solve); allocations that break a rule are a bug and are refused. `metrics` come
    after the instance's own; the bound is never below the objective."""
    checked = evaluate(instance, chosen)
    if checked.violations:
        raise AssertionError("infeasible allocation: " + "; ".join(checked.violations[:5]))
    return Result(
        status="feasible",
        objective=checked.objective,
        bound=None if bound is None else max(bound, checked.objective),
        seconds=seconds,
        allocations=tuple(chosen),
        metrics={**checked.metrics, **(metrics or {})},
        method=method,
        settings=dict(settings or {}),
    )


def result_to_json(result: Result) -> dict[str, Any]:
    """The spec's output JSON object of a result, plus the settings the solve used."""
    return {
        "status": result.status,
        "objective": result.objective,
        "bound": result.bound,
        "seconds": round(result.seconds, 3),
        "allocations": [
            {
                "offer": a.offer,
                "need": a.need,
                "quantity": a.quantity,
                "km": a.km,
                "value": a.value,
            }
            for a in result.allocations
        ],
        "metrics": dict(result.metrics),
        "solver": {"method": result.method, **result.settings},
    }
