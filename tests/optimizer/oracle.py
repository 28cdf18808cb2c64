"""An independent oracle: the model written directly as a MILP for scipy's HiGHS (tests only).

It shares no code with optimizer/: eligibility, distances and the objective are written
again from the spec.
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


def optimum(data: dict[str, Any], relax: bool = False) -> float:
    """The optimum of the spec's model (or of its LP relaxation), by HiGHS."""
    policy = {
        "fragmentation_penalty": 5, "distance_discount_per_km": 0.001,
        "fairness_floor": 0.3, "fairness_penalty": 200, **data.get("policy", {}),
    }
    villages = {v["id"]: v for v in data["villages"]}
    needs, offers = data["needs"], data["offers"]
    pairs = []  # (offer index, need index, unit value)
    for o, off in enumerate(offers):
        for n, nd in enumerate(needs):
            v = villages[nd["village"]]
            if nd["category"] != off["category"]:
                continue
            if off.get("counties") and v["county"] not in off["counties"]:
                continue
            if off.get("villages") and v["id"] not in off["villages"]:
                continue
            factor = 1 - policy["distance_discount_per_km"] * km(off, v)
            if factor <= 0:
                continue
            value = 100 * nd["urgency"] * v.get("poverty_weight", 1.0) / nd["quantity"]
            pairs.append((o, n, value * factor))
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
