"""An independent oracle: the model written directly as a MILP for scipy's HiGHS (tests only).

It shares no code with optimizer/: eligibility (kinds of spec v1.1 included), distances and
the objective are written again from the spec. `check` recomputes an allocation's objective
and lists its violations (a pair across kinds is one) the same independent way.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp


def km(a: dict[str, Any], b: dict[str, Any]) -> float:
    if not {"lat", "lon"} <= a.keys() or not {"lat", "lon"} <= b.keys():
        return 0.0
    p1, p2 = math.radians(a["lat"]), math.radians(b["lat"])
    dl = math.radians(b["lon"] - a["lon"])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def kinds_meet(off: dict[str, Any], nd: dict[str, Any]) -> bool:
    """Spec v1.1: a general offer, or an item equal to, or a dotted ancestor of, the need's
    item or one of its accepted alternatives."""
    items = off.get("items", [])
    if not items:
        return True
    want = ([nd["item"]] if "item" in nd else []) + list(nd.get("accepts", []))
    return any(w == k or w.startswith(k + ".") for k in items for w in want)


def _policy(data: dict[str, Any]) -> dict[str, float]:
    return {
        "fragmentation_penalty": 5, "distance_discount_per_km": 0.001,
        "fairness_floor": 0.3, "fairness_penalty": 200, **data.get("policy", {}),
    }


def unit_value(
    data: dict[str, Any], off: dict[str, Any], nd: dict[str, Any],
    villages: dict[str, dict[str, Any]] | None = None,
) -> float | None:
    """Objective value of one unit of `off` given to `nd`, or None when not eligible."""
    policy = _policy(data)
    if villages is None:
        villages = {v["id"]: v for v in data["villages"]}
    v = villages[nd["village"]]
    if nd["category"] != off["category"] or not kinds_meet(off, nd):
        return None
    if off.get("counties") and v["county"] not in off["counties"]:
        return None
    if off.get("villages") and v["id"] not in off["villages"]:
        return None
    factor = 1 - policy["distance_discount_per_km"] * km(off, v)
    if factor <= 0:
        return None
    return 100 * nd["urgency"] * v.get("poverty_weight", 1.0) / nd["quantity"] * factor


def check(data: dict[str, Any], given: dict[tuple[str, str], int]) -> tuple[float, list[str]]:
    """The objective of units `given` per (offer id, need id), and every violation found."""
    policy = _policy(data)
    offers = {o["id"]: o for o in data["offers"]}
    needs = {n["id"]: n for n in data["needs"]}
    villages = {v["id"]: v for v in data["villages"]}
    bad: list[str] = []
    value, per_need, per_offer, per_link = 0.0, {}, {}, {}
    for (o, n), q in given.items():
        unit = unit_value(data, offers[o], needs[n], villages)
        if unit is None:
            bad.append(f"{o}->{n}: not eligible")
            continue
        value += q * unit
        per_need[n] = per_need.get(n, 0) + q
        per_offer[o] = per_offer.get(o, 0) + q
        link = (o, needs[n]["village"])
        per_link[link] = per_link.get(link, 0) + q
    bad += [f"need {n} over" for n, q in per_need.items() if q > needs[n]["quantity"]]
    bad += [f"offer {o} over" for o, q in per_offer.items() if q > offers[o]["quantity"]]
    for (o, v), q in per_link.items():
        if q < offers[o].get("min_lot", 1):
            bad.append(f"offer {o} below min_lot at {v}")
        if offers[o].get("indivisible") and q != offers[o]["quantity"]:
            bad.append(f"offer {o} split at {v}")
    for o, off in offers.items():
        served = sum(1 for (oo, _) in per_link if oo == o)
        if off.get("max_villages") is not None and served > off["max_villages"]:
            bad.append(f"offer {o} over max_villages")
    reach = {
        nd["village"] for nd in data["needs"]
        if any(unit_value(data, off, nd, villages) is not None for off in data["offers"])
    }
    shortfall = 0.0
    for v in reach:
        mine = [nd for nd in data["needs"] if nd["village"] == v]
        cover = sum(per_need.get(nd["id"], 0) / nd["quantity"] for nd in mine) / len(mine)
        shortfall += max(0.0, policy["fairness_floor"] - cover)
    objective = (
        value - policy["fragmentation_penalty"] * len(per_link)
        - policy["fairness_penalty"] * shortfall
    )
    return objective, bad


def optimum(data: dict[str, Any], relax: bool = False) -> float:
    """The optimum of the spec's model (or of its LP relaxation), by HiGHS."""
    policy = _policy(data)
    needs, offers = data["needs"], data["offers"]
    villages = {v["id"]: v for v in data["villages"]}
    pairs = []  # (offer index, need index, unit value)
    for o, off in enumerate(offers):
        for n, nd in enumerate(needs):
            value = unit_value(data, off, nd, villages)
            if value is not None:
                pairs.append((o, n, value))
    links = sorted({(o, needs[n]["village"]) for o, n, _ in pairs})
    reach = sorted({needs[n]["village"] for _, n, _ in pairs})
    nx, ny, ns = len(pairs), len(links), len(reach)
    size = nx + ny + ns
    c = np.zeros(size)
    lo, hi = np.zeros(size), np.zeros(size)
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
    for k, (o, n, value) in enumerate(pairs):
        c[k] = value
        hi[k] = min(offers[o]["quantity"], needs[n]["quantity"])
        row({k: 1, link_index[(o, needs[n]["village"])]: -hi[k]}, -np.inf, 0)
    for (o, v), k in link_index.items():
        c[k] = -policy["fragmentation_penalty"]
        hi[k] = 1
        total = {i: 1.0 for i, p in enumerate(pairs) if p[0] == o and needs[p[1]]["village"] == v}
        lot = offers[o].get("min_lot", 1)
        row({**total, k: -lot}, 0, np.inf)
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
        for j, (_, n, _) in enumerate(pairs):
            if n in mine:
                entries[j] = 1.0 / (len(mine) * needs[n]["quantity"])
        row(entries, policy["fairness_floor"], np.inf)
    if size == 0:
        return 0.0
    result = milp(
        -c,
        constraints=LinearConstraint(np.array(rows), lbs, ubs) if rows else None,
        bounds=Bounds(lo, hi),
        integrality=np.zeros(size) if relax else integral,
        options={"mip_rel_gap": 1e-9},
    )
    assert result.success, result.message
    return float(-result.fun)
