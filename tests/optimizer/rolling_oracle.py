"""An independent checker of the rolling model v2 (specs/allocation-model-v2.md), tests only.

It shares no code with optimizer/ (nor with optimizer.rolling's reduction to v1): windows,
weeks, catch-up, eligibility and the objective are written again from the spec, on the JSON
itself, as a direct MILP over the horizon for scipy's HiGHS. Only the v1 oracle's helpers for
distance and kinds (themselves written apart from the solver) are used.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from tests.optimizer.factories import random_instance
from tests.optimizer.oracle import kinds_meet, km


def _policy(data: dict[str, Any]) -> dict[str, float]:
    return {
        "fragmentation_penalty": 5, "distance_discount_per_km": 0.001,
        "fairness_floor": 0.3, "fairness_penalty": 200, "window": 2, "catch_up": 1,
        "waiting_penalty": 5000,
        **data.get("policy", {}),
    }


def weeks_of_need(data: dict[str, Any], nd: dict[str, Any]) -> set[int]:
    last = data.get("horizon", 1) - 1
    due = nd.get("due")
    end = last if due is None else min(last, max(due, 0))
    return set(range(nd.get("open_from", 0), end + 1))


def weeks_of_offer(data: dict[str, Any], off: dict[str, Any]) -> set[int]:
    last = data.get("horizon", 1) - 1
    until = off.get("available_until")
    end = last if until is None else min(last, until)
    return set(range(off.get("available_from", 0), end + 1))


def catch_up(data: dict[str, Any], village: str) -> float:
    policy = _policy(data)
    seen = [
        h["coverage"] for h in data.get("history", [])
        if h["village"] == village and h["weeks_ago"] <= policy["window"]
    ]
    if not seen or policy["fairness_floor"] == 0:
        return 1.0
    deficit = max(0.0, policy["fairness_floor"] - sum(seen) / len(seen))
    return 1.0 + policy["catch_up"] * deficit / policy["fairness_floor"]


def passed_over(data: dict[str, Any]) -> set[str]:
    """Villages with history in each week of the window, all at zero coverage."""
    policy = _policy(data)
    if policy["waiting_penalty"] <= 0:
        return set()
    found = set()
    for v in data["villages"]:
        seen = {
            h["weeks_ago"]: h["coverage"] for h in data.get("history", [])
            if h["village"] == v["id"] and h["weeks_ago"] <= policy["window"]
        }
        if len(seen) == policy["window"] and not any(seen.values()):
            found.add(v["id"])
    return found


def waiting_weight(data: dict[str, Any], village: str) -> int:
    """1 + the weeks just before the window (window+1, window+2, ...) the village was at zero."""
    window = _policy(data)["window"]
    zero = {
        h["weeks_ago"] for h in data.get("history", [])
        if h["village"] == village and h["coverage"] == 0
    }
    weight = 1
    while window + weight in zero:
        weight += 1
    return weight


def waiting_now(data: dict[str, Any]) -> set[str]:
    """Passed-over villages with a need some offer may serve in week 0."""
    needs, offers = _live(data)
    waiting = passed_over(data)
    return {
        nd["village"] for nd in needs if nd["village"] in waiting
        for off in offers if (found := pair(data, off, nd)) is not None and found[1] == 0
    }


def pair(
    data: dict[str, Any], off: dict[str, Any], nd: dict[str, Any]
) -> tuple[float, int] | None:
    """(unit value, week) of an eligible pair, or None."""
    policy = _policy(data)
    v = next(v for v in data["villages"] if v["id"] == nd["village"])
    common = weeks_of_need(data, nd) & weeks_of_offer(data, off)
    if not common or nd["category"] != off["category"] or not kinds_meet(off, nd):
        return None
    if off.get("counties") and v["county"] not in off["counties"]:
        return None
    if off.get("villages") and v["id"] not in off["villages"]:
        return None
    factor = 1 - policy["distance_discount_per_km"] * km(off, v)
    if factor <= 0:
        return None
    value = 100 * nd["urgency"] * v.get("poverty_weight", 1.0) / nd["quantity"]
    return value * catch_up(data, v["id"]) * factor, min(common)


def _live(data: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Needs and offers with a non-empty window in the horizon."""
    return (
        [n for n in data["needs"] if weeks_of_need(data, n)],
        [o for o in data["offers"] if weeks_of_offer(data, o)],
    )


def check(
    data: dict[str, Any], given: list[tuple[str, str, int, int]]
) -> tuple[float, list[str]]:
    """The objective of allocations (offer, need, quantity, week), and every violation."""
    policy = _policy(data)
    needs, offers = _live(data)
    need_of = {n["id"]: n for n in needs}
    offer_of = {o["id"]: o for o in offers}
    bad: list[str] = []
    value, per_need, per_offer, per_link = 0.0, {}, {}, {}
    for o, n, q, week in given:
        if o not in offer_of or n not in need_of:
            bad.append(f"{o}->{n}: outside the horizon")
            continue
        found = pair(data, offer_of[o], need_of[n])
        if found is None:
            bad.append(f"{o}->{n}: not eligible")
            continue
        if week != found[1]:
            bad.append(f"{o}->{n}: in week {week}, its week is {found[1]}")
        value += q * found[0]
        per_need[n] = per_need.get(n, 0) + q
        per_offer[o] = per_offer.get(o, 0) + q
        link = (o, need_of[n]["village"])
        per_link[link] = per_link.get(link, 0) + q
    bad += [f"need {n} over" for n, q in per_need.items() if q > need_of[n]["quantity"]]
    bad += [f"offer {o} over" for o, q in per_offer.items() if q > offer_of[o]["quantity"]]
    for (o, v), q in per_link.items():
        if q < offer_of[o].get("min_lot", 1):
            bad.append(f"offer {o} below min_lot at {v}")
        if offer_of[o].get("indivisible") and q != offer_of[o]["quantity"]:
            bad.append(f"offer {o} split at {v}")
    for o, off in offer_of.items():
        served = sum(1 for (oo, _) in per_link if oo == o)
        if off.get("max_villages") is not None and served > off["max_villages"]:
            bad.append(f"offer {o} over max_villages")
    reach = {nd["village"] for nd in needs if any(pair(data, o, nd) for o in offers)}
    shortfall = 0.0
    for v in reach:
        mine = [nd for nd in needs if nd["village"] == v]
        cover = sum(per_need.get(nd["id"], 0) / nd["quantity"] for nd in mine) / len(mine)
        shortfall += max(0.0, policy["fairness_floor"] - cover)
    served_now = {need_of[n]["village"] for o, n, q, week in given if week == 0 and n in need_of}
    objective = (
        value - policy["fragmentation_penalty"] * len(per_link)
        - policy["fairness_penalty"] * shortfall
        - policy["waiting_penalty"] * sum(
            waiting_weight(data, v) for v in waiting_now(data) - served_now
        )
    )
    return objective, bad


def optimum(data: dict[str, Any]) -> float:
    """The optimum of the v2 model, by HiGHS on its direct MILP over the horizon."""
    policy = _policy(data)
    needs, offers = _live(data)
    pairs = []  # (offer index, need index, unit value, week)
    for o, off in enumerate(offers):
        for n, nd in enumerate(needs):
            found = pair(data, off, nd)
            if found is not None:
                pairs.append((o, n, found[0], found[1]))
    links = sorted({(o, needs[n]["village"]) for o, n, *_ in pairs})
    reach = sorted({needs[n]["village"] for _, n, *_ in pairs})
    waiting = sorted(waiting_now(data))
    nx, ny = len(pairs), len(links)
    size = nx + ny + len(reach) + len(waiting)
    constant = -policy["waiting_penalty"] * sum(waiting_weight(data, v) for v in waiting)
    if size == 0:
        return constant
    c, lo, hi = np.zeros(size), np.zeros(size), np.zeros(size)
    integral = np.ones(size)
    rows, lbs, ubs = [], [], []

    def row(entries: dict[int, float], lb: float, ub: float) -> None:
        r = np.zeros(size)
        for k, a in entries.items():
            r[k] += a
        rows.append(r)
        lbs.append(lb)
        ubs.append(ub)

    link_index = {link: nx + i for i, link in enumerate(links)}
    for k, (o, n, value, _) in enumerate(pairs):
        c[k] = value
        hi[k] = min(offers[o]["quantity"], needs[n]["quantity"])
        row({k: 1, link_index[(o, needs[n]["village"])]: -hi[k]}, -np.inf, 0)
    for (o, v), k in link_index.items():
        c[k] = -policy["fragmentation_penalty"]
        hi[k] = 1
        total = {i: 1.0 for i, p in enumerate(pairs) if p[0] == o and needs[p[1]]["village"] == v}
        row({**total, k: -offers[o].get("min_lot", 1)}, 0, np.inf)
        if offers[o].get("indivisible"):
            row({**total, k: -offers[o]["quantity"]}, 0, 0)
    for o, off in enumerate(offers):
        row({k: 1.0 for k, p in enumerate(pairs) if p[0] == o}, -np.inf, off["quantity"])
        cap = 1 if off.get("indivisible") else off.get("max_villages")
        if cap is not None:
            row({k: 1.0 for (oo, _), k in link_index.items() if oo == o}, -np.inf, cap)
    for n, nd in enumerate(needs):
        row({k: 1.0 for k, p in enumerate(pairs) if p[1] == n}, -np.inf, nd["quantity"])
    for i, v in enumerate(reach):
        k = nx + ny + i
        c[k] = -policy["fairness_penalty"]
        hi[k] = policy["fairness_floor"]
        integral[k] = 0
        mine = [n for n, nd in enumerate(needs) if nd["village"] == v]
        entries = {k: 1.0}
        for j, (_, n, *_) in enumerate(pairs):
            if n in mine:
                entries[j] = 1.0 / (len(mine) * needs[n]["quantity"])
        row(entries, policy["fairness_floor"], np.inf)
    for i, v in enumerate(waiting):  # z_v = 1 only if v gets some units in week 0
        k = nx + ny + len(reach) + i
        c[k] = policy["waiting_penalty"] * waiting_weight(data, v)
        hi[k] = 1
        now = {j: -1.0 for j, (_, n, _, week) in enumerate(pairs)
               if week == 0 and needs[n]["village"] == v}
        row({k: 1.0, **now}, -np.inf, 0)
    result = milp(
        -c, constraints=LinearConstraint(np.array(rows), lbs, ubs), bounds=Bounds(lo, hi),
        integrality=integral, options={"mip_rel_gap": 1e-9},
    )
    assert result.success, result.message
    return float(-result.fun) + constant


def random_rolling(seed: int, kinds: bool = True) -> dict[str, Any]:
    """A random small v2 instance: v1's random week with a horizon, windows and history."""
    rng = random.Random(f"rolling:{seed}")
    data = random_instance(seed, kinds=kinds)
    horizon = rng.randint(1, 4)
    data["horizon"] = horizon
    for nd in data["needs"]:
        if rng.random() < 0.3:
            nd["open_from"] = rng.randint(0, horizon)
        if rng.random() < 0.5:
            nd["due"] = rng.randint(nd.get("open_from", -1), horizon + 1)
    for off in data["offers"]:
        if rng.random() < 0.4:
            off["available_from"] = rng.randint(0, horizon)
        if rng.random() < 0.4:
            off["available_until"] = rng.randint(off.get("available_from", 0), horizon + 1)
    data["history"] = [
        {"village": v["id"], "weeks_ago": ago, "coverage": rng.choice([0, 0, 0.1, 0.5, 1])}
        for v in data["villages"] for ago in range(1, 5) if rng.random() < 0.4
    ]
    data["policy"]["window"] = rng.randint(1, 4)
    data["policy"]["catch_up"] = rng.choice([0, 1, 2])
    return data
