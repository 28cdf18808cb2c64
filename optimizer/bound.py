"""A valid upper bound on a category's part of the objective that fits a small memory budget.

For one category c and fairness prices 0 <= mu_v <= fairness_penalty, the objective's share of
c is at most the *transport relaxation*

    max  sum_(o,n) w_on x_on   s.t.  sum_n x_on <= q_o,  sum_o x_on <= d_n,  x >= 0,

over the eligible pairs (o, n) of c, where

    w_on = value(n) * (1 - discount * km) + mu_v / (d_n * needs_v) - F / min(q_o, D_ov)

(needs_v: all needs of the village; D_ov: units of the village's needs o may serve). The last
term is a lower bound on the fragmentation paid per unit: an (offer, village) group carries
at most min(q_o, D_ov) units and costs F once. Minimum lots, village caps and indivisibility are
dropped, except that a pair whose village cannot take a lot (or the whole of an indivisible
offer) with all the needs o may serve there is left out, as `problem.build_problem` leaves it out.

By weak duality, for *any* offer prices pi_o >= 0 the relaxation is at most
    sum_o q_o pi_o + sum_n d_n * max(0, max_o (w_on - pi_o)),
so the bound is valid whatever pi is; pi only decides how tight it is. pi comes from the LP
over a restricted column set (the best few offers of each need), grown by pricing: pairs of
positive reduced cost are added and the LP solved again. Every pair is priced with numpy
arrays, never one Python call per pair, so 10 million pairs take seconds and a few hundred MB.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from ortools.linear_solver import pywraplp

from optimizer.kinds import fits, wanted
from optimizer.model import Instance
from optimizer.problem import EARTH_RADIUS_KM

COLUMNS_PER_NEED = 6  # restricted LP: the best pairs of each need
PRICING_ROUNDS = 10  # at most: it stops as soon as no pair has a positive reduced cost
ADDED_PER_NEED = 4  # columns of positive reduced cost added per need and round


@dataclass(frozen=True)
class Pairs:
    """Every usable eligible pair of an instance as arrays, and the villages it reaches."""

    offer: np.ndarray  # int32 offer index per pair
    need: np.ndarray  # int32 need index per pair
    weight: np.ndarray  # float64 w_on
    reachable: frozenset[str]  # ids of villages with an eligible pair (spec's reachable)


def _haversine(lat1: float, lon1: float, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = math.radians(lat1), np.radians(lat2)
    dlat, dlon = p2 - p1, np.radians(lon2) - math.radians(lon1)
    h = np.sin(dlat / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    km: np.ndarray = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return km


def transport_pairs(
    instance: Instance, prices: Mapping[str, float], counts: Mapping[str, int]
) -> Pairs:
    """The pairs of the transport relaxation with their weights w_on (module docstring)."""
    policy = instance.policy
    village_index = {v.id: i for i, v in enumerate(instance.villages)}
    lat = np.array([np.nan if v.lat is None else v.lat for v in instance.villages])
    lon = np.array([np.nan if v.lon is None else v.lon for v in instance.villages])
    weight = np.array([v.poverty_weight for v in instance.villages])
    needs = instance.needs
    n_village = np.array([village_index[n.village] for n in needs], dtype=np.int64)
    quantity = np.array([n.quantity for n in needs], dtype=np.float64)
    urgency = np.array([n.urgency for n in needs], dtype=np.float64)
    unit = 100.0 * urgency * weight[n_village] / quantity if len(needs) else quantity
    count = np.array([max(1, counts.get(n.village, 1)) for n in needs], dtype=np.float64)
    mu = np.array([float(prices.get(n.village, 0.0)) for n in needs])
    fair = mu / (quantity * count) if len(needs) else quantity
    n_lat, n_lon = lat[n_village], lon[n_village]
    by_category: dict[str, list[int]] = {}
    by_county: dict[tuple[str, str], list[int]] = {}
    by_village: dict[tuple[str, str], list[int]] = {}
    for i, n in enumerate(needs):
        county = instance.villages[n_village[i]].county
        by_category.setdefault(n.category, []).append(i)
        by_county.setdefault((n.category, county), []).append(i)
        by_village.setdefault((n.category, n.village), []).append(i)
    kind_mask: dict[tuple[str, ...], np.ndarray] = {}
    discount, penalty = policy.distance_discount_per_km, policy.fragmentation_penalty
    offers_out, needs_out, weights_out = [], [], []
    reached = np.zeros(len(instance.villages), dtype=bool)
    for o, offer in enumerate(instance.offers):
        if offer.villages:
            cand = sorted(
                i for v in set(offer.villages) for i in by_village.get((offer.category, v), ())
            )
        elif offer.counties:
            cand = sorted(
                i for c in set(offer.counties) for i in by_county.get((offer.category, c), ())
            )
        else:
            cand = by_category.get(offer.category, [])
        if not cand:
            continue
        idx = np.asarray(cand, dtype=np.int64)
        if offer.items:
            items = tuple(sorted(set(offer.items)))
            if items not in kind_mask:
                kind_mask[items] = np.array([fits(items, wanted(n)) for n in needs], dtype=bool)
            idx = idx[kind_mask[items][idx]]
            if not len(idx):
                continue
        if offer.lat is None or offer.lon is None:
            km = np.zeros(len(idx))
        else:
            km = np.nan_to_num(_haversine(offer.lat, offer.lon, n_lat[idx], n_lon[idx]), nan=0.0)
        factor = 1.0 - discount * km
        keep = factor > 0.0
        idx, factor = idx[keep], factor[keep]
        if not len(idx):
            continue
        reached[n_village[idx]] = True
        # A group's capacity, as build_problem has it: the offer, or the units of the
        # village's needs this offer may serve, whichever is less.
        _, group = np.unique(n_village[idx], return_inverse=True)
        group_units = np.bincount(group, weights=quantity[idx])[group]
        cap = np.minimum(float(offer.quantity), group_units)
        usable = cap >= offer.min_lot
        if offer.indivisible:
            usable &= cap >= offer.quantity
        w = unit[idx] * factor + fair[idx] - penalty / cap
        keep = usable & (w > 0.0)
        if keep.any():
            offers_out.append(np.full(int(keep.sum()), o, dtype=np.int32))
            needs_out.append(idx[keep].astype(np.int32))
            weights_out.append(w[keep])
    reachable = frozenset(instance.villages[v].id for v in np.flatnonzero(reached))
    if not offers_out:
        empty = np.zeros(0, dtype=np.int32)
        return Pairs(empty, empty, np.zeros(0), reachable)
    return Pairs(
        np.concatenate(offers_out),
        np.concatenate(needs_out),
        np.concatenate(weights_out),
        reachable,
    )


def dual_bound(
    pairs: Pairs,
    supply: np.ndarray,
    demand: np.ndarray,
    pi: np.ndarray,
    grouped: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> float:
    """Weak duality with offer prices pi (any pi >= 0): the transport relaxation's bound.
    `grouped` (from `_by_need`) saves sorting the pairs by need again on every call."""
    pi = np.maximum(pi, 0.0)
    lam = np.zeros(len(demand))
    if len(pairs.need):
        order, needs, starts = grouped if grouped is not None else _by_need(pairs.need)
        best = np.maximum.reduceat((pairs.weight - pi[pairs.offer])[order], starts)
        lam[needs] = np.maximum(best, 0.0)
    total = [float(supply @ pi), float(demand @ lam)]
    return math.fsum(total)


def _by_need(need: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs' order by need, the needs present and where each one's pairs start in it."""
    order = np.argsort(need, kind="stable")
    ranked = need[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    return order, ranked[starts], starts


def _top_per_need(need: np.ndarray, score: np.ndarray, k: int) -> np.ndarray:
    """Indexes of the k highest-scoring entries of each need (ties in any order).

    One argsort of need + a fraction that falls as the score rises: a few times faster than a
    two-key lexsort on the tens of millions of pairs of a province's category."""
    if not len(need):
        return np.zeros(0, dtype=np.int64)
    low, high = float(score.min()), float(score.max())
    fraction = (high - score) / (high - low) if high > low else np.zeros(len(score))
    order = np.argsort(need + 0.5 * fraction)
    ranked = need[order]
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]])
    rank = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return np.sort(order[rank < k])


def _restricted_lp(
    pairs: Pairs, columns: np.ndarray, supply: np.ndarray, demand: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """GLOP on the chosen columns: the offer and need duals and the units per column, or
    None if it did not solve."""
    solver = pywraplp.Solver.CreateSolver("GLOP")
    if solver is None:
        return None
    infinity = solver.infinity()
    offers = np.unique(pairs.offer[columns])
    needs = np.unique(pairs.need[columns])
    supply_row = {int(o): solver.Constraint(-infinity, float(supply[o])) for o in offers}
    demand_row = {int(n): solver.Constraint(-infinity, float(demand[n])) for n in needs}
    objective = solver.Objective()
    variables = []
    for c in columns:
        x = solver.NumVar(0.0, infinity, "")
        supply_row[int(pairs.offer[c])].SetCoefficient(x, 1.0)
        demand_row[int(pairs.need[c])].SetCoefficient(x, 1.0)
        objective.SetCoefficient(x, float(pairs.weight[c]))
        variables.append(x)
    objective.SetMaximization()
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        return None
    pi = np.zeros(len(supply))
    lam = np.zeros(len(demand))
    for o, row in supply_row.items():
        pi[o] = max(0.0, row.dual_value())
    for n, row in demand_row.items():
        lam[n] = max(0.0, row.dual_value())
    return pi, lam, np.array([x.solution_value() for x in variables])


@dataclass(frozen=True)
class TransportBound:
    """The proven bound, the reachable villages, the pairs priced, and the relaxation's
    units per (offer, need) from its last restricted LP (a guide for sharing offers)."""

    bound: float
    reachable: frozenset[str]
    pairs: int
    flows: dict[tuple[int, int], float]


def transport_bound(
    instance: Instance,
    prices: Mapping[str, float],
    counts: Mapping[str, int],
    deadline: float | None = None,
) -> TransportBound:
    """The proven bound of the transport relaxation (module docstring) and its flows. At
    `deadline` (time.time() seconds) pricing stops: the bound stays valid, only looser."""
    pairs = transport_pairs(instance, prices, counts)
    supply = np.array([float(o.quantity) for o in instance.offers])
    demand = np.array([float(n.quantity) for n in instance.needs])
    flows: dict[tuple[int, int], float] = {}
    if not len(pairs.need):
        return TransportBound(0.0, pairs.reachable, 0, flows)
    # pi = 0 prices every offer at nothing: the sum of each need's best weight, a valid start.
    grouped = _by_need(pairs.need)
    best = dual_bound(pairs, supply, demand, np.zeros(len(supply)), grouped)
    columns = _top_per_need(pairs.need, pairs.weight, COLUMNS_PER_NEED)
    for _ in range(PRICING_ROUNDS):
        if deadline is not None and time.time() > deadline:
            break
        duals = _restricted_lp(pairs, columns, supply, demand)
        if duals is None:
            break
        pi, lam, units = duals
        used = units > 1e-9
        flows = {
            (int(o), int(n)): float(u)
            for o, n, u in zip(
                pairs.offer[columns][used], pairs.need[columns][used], units[used], strict=True
            )
        }
        best = min(best, dual_bound(pairs, supply, demand, pi, grouped))
        reduced = pairs.weight - pi[pairs.offer] - lam[pairs.need]
        reduced[columns] = 0.0  # in the LP already
        candidates = np.flatnonzero(reduced > 1e-9)
        if not len(candidates):
            break
        chosen = _top_per_need(pairs.need[candidates], reduced[candidates], ADDED_PER_NEED)
        columns = np.union1d(columns, candidates[chosen])
    return TransportBound(best, pairs.reachable, len(pairs.need), flows)
