"""The rolling week (spec v2): its instance from the platform's own data, its solve, its plan.

- needs: the week's open needs, each due in the week of its deadline (截止日期), counted from
  the week being planned (an overdue need is due in a week before it);
- offers: open offers valid in any week of the horizon: available from the week of their
  `valid_from` (pledged ahead), until the week of their `valid_until` (perishable);
- history: for each committed run of the `window` weeks before, each village's coverage that
  week (the mean over its needs in that run's input of the share its live pledges met).

Only week 0 is committed: the stored run's `allocations` are week 0's, so committing a
rolling preview pledges exactly what a v1 preview would; the later weeks are its `plan`. The
run's `input` is week 0's v1 instance (what commit, report and explanations read); the v2
instance solved is `output.rolling_input`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.weeks import current_week
from optimizer import InvalidInstance, Progress, parse_instance, solve_greedy
from optimizer.rolling import parse_rolling, rolling_result_to_json, solve_rolling
from web.models import Allocation, AllocationRun, Need, Offer
from web.services.kinds import load_catalogue
from web.services.week_instance import (  # the rolling settings are checked with the policy
    IdMaps,
    WeekError,
    build_week_instance,
    figures_summary,
    matcher_week,
    open_offers,
    villages_served,
    week_days,
)
from web.services.week_instance import _offer_json as offer_json

DEFAULT_HORIZON = 4  # the preview form's default: this week and three planned
LOWEST_SHOWN = 10  # villages with the lowest rolling coverage on the run page
MAX_WEEK_OFFSET = 520


def week_offset(monday: date, day: date) -> int:
    """The week of `day` counted from the week starting `monday` (negative: before it)."""
    offset = (day - monday).days // 7
    return max(-MAX_WEEK_OFFSET, min(MAX_WEEK_OFFSET, offset))


def iso_week(day: date) -> str:
    """The ISO week of a day, like 2026-W48."""
    return current_week(day)


def _horizon_offers(session: Session, week: str, horizon: int) -> list[Offer]:
    """Open offers valid in some week of the horizon (the same rules as a week's), by id."""
    found: dict[int, Offer] = {}
    monday, _ = week_days(week)
    for ahead in range(horizon):
        for offer in open_offers(session, iso_week(monday + timedelta(weeks=ahead))):
            found.setdefault(offer.id, offer)
    return [found[i] for i in sorted(found)]


def history(
    session: Session, week: str, window: int, village_codes: Mapping[int, str]
) -> list[dict[str, Any]]:
    """Each village's coverage in each committed week of the `window` weeks before `week`."""
    monday, _ = week_days(week)
    weeks = {iso_week(monday - timedelta(weeks=ago)): ago for ago in range(1, window + 1)}
    runs = session.scalars(
        select(AllocationRun).where(
            AllocationRun.committed_week.in_(list(weeks)),
            AllocationRun.status.in_(("committed", "published")),
        )
    ).all()
    codes = set(village_codes.values())
    found = []
    for run in sorted(runs, key=lambda r: r.week):
        needs = {
            int(item["id"][1:]): item
            for item in (run.input or {}).get("needs", [])
            if item.get("village") in codes
        }
        got: dict[int, int] = {}
        for need_id, quantity in session.execute(
            select(Allocation.need_id, Allocation.quantity).where(
                Allocation.run_id == run.id, Allocation.status != "cancelled"
            )
        ):
            got[need_id] = got.get(need_id, 0) + quantity
        shares: dict[str, list[float]] = {}
        for need_id, item in needs.items():
            share = min(1.0, got.get(need_id, 0) / item["quantity"])
            shares.setdefault(item["village"], []).append(share)
        for village, values in sorted(shares.items()):
            found.append({
                "village": village, "weeks_ago": weeks[run.week],
                "coverage": sum(values) / len(values),
            })
    return found


def build_rolling_instance(
    session: Session, week: str, policy: Mapping[str, Any], settings: Mapping[str, float]
) -> tuple[dict[str, Any], dict[str, Any], IdMaps]:
    """The v2 instance of the week (and the v1 instance of week 0 alone), with its id maps."""
    today, maps = build_week_instance(session, week, policy)
    horizon = int(settings["horizon"])
    monday, _ = week_days(week)
    deadlines = _deadlines(session, maps.needs.values())
    needs = []
    for item in today["needs"]:
        need = dict(item)
        deadline = deadlines.get(maps.needs[item["id"]])
        if deadline is not None:
            need["due"] = week_offset(monday, deadline)
        needs.append(need)
    offers = _horizon_offers(session, week, horizon)
    served = villages_served(session, (o.id for o in offers))
    offer_items = []
    for offer in offers:
        item = offer_json(offer, served.get(offer.id, 0))
        if item is None:
            continue
        start = week_offset(monday, offer.valid_from)
        if start > 0:
            item["available_from"] = start
        until = week_offset(monday, offer.valid_until)
        if until < horizon - 1:
            item["available_until"] = max(until, start, 0)
        offer_items.append(item)
    village_codes = {db_id: code for code, db_id in maps.villages.items()}
    data = {
        "week": week,
        "horizon": horizon,
        "villages": today["villages"],
        "needs": needs,
        "offers": offer_items,
        "history": history(session, week, int(settings["window"]), village_codes),
        "policy": {
            **today["policy"], "window": int(settings["window"]),
            "catch_up": float(settings["catch_up"]),
        },
    }
    maps = IdMaps(
        offers={item["id"]: int(item["id"][1:]) for item in offer_items},
        needs=maps.needs,
        villages=maps.villages,
    )
    return data, today, maps


def _deadlines(session: Session, need_ids: Iterable[int]) -> dict[int, date]:
    """The deadlines of the given needs that have one."""
    ids = list(need_ids)
    if not ids:
        return {}
    query = select(Need.id, Need.deadline).where(Need.id.in_(ids), Need.deadline.is_not(None))
    return {need_id: deadline for need_id, deadline in session.execute(query)}


def solve_rolling_week(
    session: Session,
    week: str,
    policy: Mapping[str, Any],
    settings: Mapping[str, float],
    *,
    time_limit: float = 30.0,
    progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    stage: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Build and solve the rolling week: a preview run's fields, nothing stored.

    The stored output's `allocations` are week 0's (what a commit pledges); `plan` holds the
    later weeks'. Greedy runs on week 0 alone, as for a v1 preview.
    """
    data, today, _maps = build_rolling_instance(session, week, policy, settings)
    try:
        instance = parse_rolling(data)
        week_instance = parse_instance(today)
    except InvalidInstance as error:
        problems = "; ".join(error.problems[:5])
        raise WeekError(f"the week's data is not a valid instance: {problems}") from None
    say = stage or _quiet
    say("solving")
    result = solve_rolling(
        instance, time_limit=time_limit, progress=progress, should_stop=should_stop
    )
    say("greedy")
    greedy = solve_greedy(week_instance)
    say("figures")
    output = rolling_result_to_json(result)
    committed = [a for a in output["allocations"] if a["week"] == 0]
    output["plan"] = [a for a in output["allocations"] if a["week"] > 0]
    output["allocations"] = committed
    # The run's input stays week 0's v1 instance, which the commit's checks, the weekly report
    # and the explanations read; the rolling instance solved is kept beside the output.
    output["rolling_input"] = data
    return {
        "policy": {**today["policy"], **settings},  # as effective_policy gives it
        "solver_status": result.status,
        "objective": result.objective,
        "bound": result.bound,
        "seconds": result.seconds,
        "input": today,
        "output": output,
        "metrics": _rolling_metrics(session, data, today, instance, output, result, greedy),
    }


def _quiet(_stage: str) -> None:
    """A stage nobody follows."""


def _rolling_metrics(
    session: Session,
    data: dict[str, Any],
    today: dict[str, Any],
    instance: Any,
    output: dict[str, Any],
    result: Any,
    greedy: Any,
) -> dict[str, Any]:
    """A rolling preview's metrics: the solver's, week 0's figures, the greedy baseline's, and
    the horizon's deadlines, lowest villages and plan."""
    names = {v["id"]: v.get("name") or v["id"] for v in data["villages"]}
    greedy_met = _due_now_met(instance, greedy.allocations)
    return {
        "optimizer": dict(result.metrics),
        "figures": figures_summary(
            matcher_week(today, output["allocations"], load_catalogue(session))
        ),
        "greedy": {"objective": greedy.objective, "metrics": dict(greedy.metrics)},
        "rolling": {
            "horizon": result.horizon,
            "deadlines": {**result.deadlines, "due_now_met_greedy": greedy_met},
            "lowest": _lowest(output["villages"], names),
            "plan": _plan_rows(output["villages"], names, result.horizon),
        },
    }


def _due_now_met(instance: Any, allocations: Any) -> int:
    """Needs due this week or overdue that `allocations` (of week 0) meet in full."""
    got: dict[str, int] = {}
    for a in allocations:
        got[a.need] = got.get(a.need, 0) + a.quantity
    return sum(
        1
        for need, due in zip(instance.base.needs, instance.need_due, strict=True)
        if due is not None and due <= 0 and got.get(need.id, 0) >= need.quantity
    )


def _lowest(villages: list[dict[str, Any]], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """The villages whose rolling coverage is lowest, with what the plan brings them."""
    rows = [v for v in villages if v["rolling_coverage"] is not None]
    rows.sort(key=lambda v: (v["rolling_coverage"], v["village"]))
    return [
        {
            "village": v["village"], "name": names.get(v["village"], v["village"]),
            "rolling_coverage": v["rolling_coverage"], "catch_up": v["catch_up"],
            "now": v["expected"][0], "later": sum(v["expected"][1:]),
        }
        for v in rows[:LOWEST_SHOWN]
    ]


def _plan_rows(
    villages: list[dict[str, Any]], names: Mapping[str, str], horizon: int
) -> list[dict[str, Any]]:
    """Villages expecting something in a later week: the share of their needs each week."""
    return [
        {"village": v["village"], "name": names.get(v["village"], v["village"]),
         "expected": v["expected"]}
        for v in sorted(villages, key=lambda v: names.get(v["village"], v["village"]))
        if horizon > 1 and any(x > 0 for x in v["expected"][1:])
    ]
