"""The rolling allocation model v2 (specs/allocation-model-v2.md): a horizon of weeks, due
weeks, availability windows and catch-up from committed history, solved by reduction to v1."""

from optimizer.rolling.horizon import (
    Horizon,
    catch_up_factors,
    horizon_instance,
    need_window,
    offer_window,
    passed_over,
    rolling_coverage,
)
from optimizer.rolling.model import (
    History,
    RollingInstance,
    RollingResult,
    VillagePlan,
    WeekAllocation,
)
from optimizer.rolling.parse import load_rolling, loads_rolling, parse_rolling
from optimizer.rolling.solve import (
    evaluate_rolling,
    rolling_result_to_json,
    solve_rolling,
    solve_rolling_greedy,
)

__all__ = [
    "History", "Horizon", "RollingInstance", "RollingResult", "VillagePlan", "WeekAllocation",
    "catch_up_factors", "evaluate_rolling", "horizon_instance", "load_rolling",
    "loads_rolling", "need_window", "offer_window", "parse_rolling", "passed_over",
    "rolling_coverage",
    "rolling_result_to_json", "solve_rolling", "solve_rolling_greedy",
]
