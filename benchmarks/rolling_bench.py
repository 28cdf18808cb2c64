"""Twelve weeks of Hezhou allocation: weekly v1, rolling v2 and greedy on one stream.

    python benchmarks/rolling_bench.py                          # 3 seeds, 5 s a week
    python benchmarks/rolling_bench.py --seeds 1 --weeks 12 --time-limit 5 --horizon 4

A seeded stream (benchmarks/instance_gen.py's villages, categories, quantities, restrictions
and kinds) of needs and offers: a backlog of about 1,900 needs in week 0, new needs each week
(some posted weeks before they open, half with a due week), new offers each week (half pledged
one to three weeks ahead, a third perishable after zero to two weeks). Each method commits one
week at a time on the same stream, from its own remaining needs and offers:

- v1: `optimizer.solve` on what is open and available this week;
- v2: `optimizer.rolling.solve_rolling` with the horizon (what is known of the coming weeks)
  and the history of its own committed weeks; only week 0 is carried out;
- greedy: `optimizer.solve_greedy` (first come, first served) on this week.

Reported per method (medians over seeds, and v2 / v1 ratios): value delivered (v1's value of
each unit at the need's original quantity, no catch-up weight), needs missed after their due
week, villages never reached, the longest run of weeks a village that some offer could reach
got nothing, villages waiting more than two weeks running, donor-village links, solve seconds.

A village is "left at zero more than two weeks running" in a week where it has got nothing for
two weeks already (while some offer could reach it), gets nothing again, and *could have been
served*: a minimum lot of a usable offer fits it (the optimizer's index drops the links no
feasible allocation can use) and the villages at zero in both weeks before that were served
that week can all still be served with it (a b-matching of villages to offers, each offer
serving at most as many villages as its cap and its remaining lots allow). Two villages
waiting for one offer's last lot cannot both be served: the one left over is counted apart,
under `villages_waiting_over_2_unservable`, not as the method's miss, and every such week is
printed with the village.
Results go to benchmarks/results/rolling-*.json (gitignored).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from instance_gen import CATEGORIES, KINDS, _offer, _parent, generate  # noqa: E402

from optimizer import Allocation, parse_instance, solve, solve_greedy  # noqa: E402
from optimizer.problem import build_problem, reachable_villages  # noqa: E402
from optimizer.rolling import parse_rolling, solve_rolling  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
POLICY = {
    "fragmentation_penalty": 20, "distance_discount_per_km": 0.002,
    "fairness_floor": 0.5, "fairness_penalty": 400,
}
METHODS = ("v1", "v2", "greedy")


@dataclass
class NeedState:
    data: dict[str, Any]  # v1 keys, original quantity
    posted: int
    open: int
    due: int | None
    remaining: int
    met_week: int | None = None  # week it was met in full


@dataclass
class OfferState:
    data: dict[str, Any]
    pledged: int
    start: int
    until: int | None
    remaining: int
    served: set[str] = field(default_factory=set)


def stream(seed: int, weeks: int, needs_per_week: int, offers_per_week: int) -> dict[str, Any]:
    """The villages, and every need and offer of the run with its weeks (one random stream)."""
    rng = random.Random(f"stream:{seed}")
    week0 = generate(villages=267, offers=0, seed=seed)
    villages = week0["villages"]
    needs = []
    for item in week0["needs"]:  # the backlog: open now
        due = rng.randint(0, 8) if rng.random() < 0.5 else None
        needs.append((item, 0, 0, due))
    count = len(needs)
    for week in range(1, weeks + 8):
        for _ in range(needs_per_week):
            category = rng.choice(sorted(CATEGORIES))
            low, high = CATEGORIES[category][0]
            item = {
                "id": f"N{count:06d}", "village": rng.choice(villages)["id"],
                "category": category, "quantity": rng.randint(low, high),
                "urgency": rng.randint(1, 5),
            }
            count += 1
            ahead = rng.randint(1, 3) if rng.random() < 0.25 else 0
            due = week + rng.randint(0, 4) if rng.random() < 0.5 else None
            needs.append((item, max(0, week - ahead), week, due))
    offers = []
    for week in range(weeks + 8):
        for _ in range(offers_per_week if week else 2 * offers_per_week):
            item = _offer(rng, len(offers), villages)
            item["id"] = f"O{len(offers):05d}"
            ahead = rng.randint(1, 3) if rng.random() < 0.5 else 0
            until = week + rng.randint(0, 2) if rng.random() < 0.33 else None
            offers.append((item, max(0, week - ahead), week, until))
    _kinds(rng, [n for n, *_ in needs], [o for o, *_ in offers])
    return {"villages": villages, "needs": needs, "offers": offers}


def _kinds(rng: random.Random, needs: list[dict[str, Any]], offers: list[dict[str, Any]]) -> None:
    """Kinds as instance_gen.add_kinds puts them: a leaf per need, offers a leaf or a parent."""
    for need in needs:
        need["item"] = rng.choice(KINDS[need["category"]])
    for offer in offers:
        leaf, roll = rng.choice(KINDS[offer["category"]]), rng.random()
        if roll < 0.7:
            offer["items"] = [leaf]
        elif roll < 0.95:
            parent = _parent(leaf)
            offer["items"] = [parent if "." in parent else leaf]


def most_served(problem: Any, villages: set[int]) -> int:
    """How many of `villages` (indices) one week can serve at once, at least a lot each: a
    b-matching of villages to offers over the problem's usable links, an offer serving at most
    as many villages as its cap and its remaining units' lots allow."""
    offers = problem.instance.offers
    links: dict[int, list[int]] = {v: [] for v in villages}
    for group in problem.groups:
        if group.village in links:
            links[group.village].append(group.offer)
    room = {}
    for o, offer in enumerate(offers):
        lots = 1 if offer.indivisible else offer.quantity // max(1, offer.min_lot)
        cap = offer.max_villages if offer.max_villages is not None else lots
        room[o] = min(lots, cap)
    taken: dict[int, list[int]] = {}  # offer -> villages matched to it

    def augment(v: int, seen: set[int]) -> bool:
        for o in links[v]:
            if o in seen:
                continue
            seen.add(o)
            holders = taken.setdefault(o, [])
            if len(holders) < room[o]:
                holders.append(v)
                return True
            for i, w in enumerate(holders):
                if augment(w, seen):
                    holders[i] = v
                    return True
        return False

    return sum(augment(v, set()) for v in sorted(villages))


class Run:
    """One method's twelve weeks on its own copy of the stream."""

    def __init__(self, method: str, data: dict[str, Any], args: argparse.Namespace):
        self.method, self.horizon, self.time_limit = method, args.horizon, args.time_limit
        self.rolling_policy = {
            "window": args.window, "catch_up": args.catch_up,
            "waiting_penalty": args.waiting_penalty,
        }
        self.villages = data["villages"]
        self.weight = {v["id"]: v.get("poverty_weight", 1.0) for v in self.villages}
        self.needs = {n["id"]: NeedState(dict(n), p, o, d, n["quantity"])
                      for n, p, o, d in data["needs"]}
        self.offers = {o["id"]: OfferState(dict(o), p, s, u, o["quantity"])
                       for o, p, s, u in data["offers"]}
        self.history: dict[int, dict[str, float]] = {}  # week -> village -> coverage
        self.value = 0.0
        self.links: set[tuple[str, str]] = set()
        self.reached: set[str] = set()
        self.waits: dict[str, int] = {}
        self.longest: dict[str, int] = {}
        self.over_2: set[str] = set()  # left at zero a third week although it could be served
        self.over_2_unservable: set[str] = set()  # ... and no lot was left for it
        self.left_long: list[tuple[int, str, int, bool]] = []  # week, village, run, servable
        self.seconds: list[float] = []
        self.deadline_met_now = 0
        self.last_v2: dict[str, Any] = {}
        self.zero_run: dict[str, int] = {}  # weeks running at zero coverage, with open needs

    def _usable(self, offer: OfferState, week: int) -> dict[str, Any] | None:
        """The offer as it stands in `week` (remaining units, cap left), or None if spent."""
        item = dict(offer.data, quantity=offer.remaining)
        if offer.remaining < item.get("min_lot", 1):
            return None
        if item.get("indivisible") and offer.remaining != offer.data["quantity"]:
            return None
        if item.get("max_villages") is not None:
            left = item["max_villages"] - len(offer.served)
            if left < 1:
                return None
            item["max_villages"] = left
        return item

    def week_v1(self, week: int) -> dict[str, Any]:
        needs = [dict(n.data, quantity=n.remaining) for n in self.needs.values()
                 if n.remaining > 0 and n.open <= week]
        offers = []
        for o in self.offers.values():
            if o.start <= week and (o.until is None or week <= o.until) and o.remaining > 0:
                item = self._usable(o, week)
                if item is not None:
                    offers.append(item)
        return {"villages": self.villages, "needs": needs, "offers": offers, "policy": POLICY}

    def week_v2(self, week: int) -> dict[str, Any]:
        needs = []
        for n in self.needs.values():
            if n.remaining > 0 and n.posted <= week and n.open < week + self.horizon:
                item = dict(n.data, quantity=n.remaining, open_from=max(0, n.open - week))
                if n.due is not None:
                    item["due"] = n.due - week
                needs.append(item)
        offers = []
        for o in self.offers.values():
            if o.pledged <= week and o.remaining > 0 and (o.until is None or o.until >= week):
                if o.start >= week + self.horizon:
                    continue
                item = self._usable(o, week)
                if item is None:
                    continue
                item["available_from"] = max(0, o.start - week)
                if o.until is not None:
                    item["available_until"] = o.until - week
                offers.append(item)
        history = [
            {"village": v, "weeks_ago": week - past, "coverage": cover}
            for past, row in self.history.items() if week - past <= 8
            for v, cover in row.items()
        ]
        return {"villages": self.villages, "needs": needs, "offers": offers,
                "policy": {**POLICY, **self.rolling_policy}, "horizon": self.horizon,
                "history": history}

    def step(self, week: int) -> None:
        today = self.week_v1(week)
        instance = parse_instance(today)
        started = time.perf_counter()
        if self.method == "v2":
            self.last_v2 = self.week_v2(week)
            result = solve_rolling(parse_rolling(self.last_v2), time_limit=self.time_limit)
            committed = [Allocation(a.offer, a.need, a.quantity, a.km) for a in result.committed]
        elif self.method == "v1":
            committed = list(solve(instance, time_limit=self.time_limit).allocations)
        else:
            committed = list(solve_greedy(instance).allocations)
        self.seconds.append(time.perf_counter() - started)
        self.commit(week, today, instance, committed)

    def commit(
        self, week: int, today: dict[str, Any], instance: Any, committed: list[Allocation]
    ) -> None:
        open_now = {n["id"]: n["quantity"] for n in today["needs"]}
        got: dict[str, float] = {}
        for a in committed:
            need, offer = self.needs[a.need], self.offers[a.offer]
            assert need.open <= week and offer.start <= week, "committed before its week"
            assert a.quantity <= need.remaining and a.quantity <= offer.remaining
            village = need.data["village"]
            unit = 100 * need.data["urgency"] * self.weight[village] / need.data["quantity"]
            self.value += a.quantity * unit * (1 - POLICY["distance_discount_per_km"] * a.km)
            need.remaining -= a.quantity
            offer.remaining -= a.quantity
            offer.served.add(village)
            if need.remaining == 0:
                need.met_week = week
            self.links.add((offer.data["donor"], village))
            self.reached.add(village)
            got[village] = got.get(village, 0.0) + a.quantity / open_now[a.need]
        count: dict[str, int] = {}
        for n in today["needs"]:
            count[n["village"]] = count.get(n["village"], 0) + 1
        # Coverage is at most 1 (a sum of shares can round above it).
        self.history[week] = {v: min(1.0, got.get(v, 0.0) / c) for v, c in count.items()}
        index = [v["id"] for v in self.villages]
        reachable = {index[v] for v in reachable_villages(instance)}
        long_waiting = {v for v in reachable if self.waits.get(v, 0) >= 2}
        # Villages at zero in both weeks before (as v2's history sees them, reachable or not)
        # that got something now: serving v must not take their lot.
        zero_before = {v for v in reachable if self.zero_run.get(v, 0) >= 2}
        for v in index:
            at_zero = v in count and got.get(v, 0.0) == 0.0
            self.zero_run[v] = self.zero_run.get(v, 0) + 1 if at_zero else 0
        for v in index:
            if v in reachable and got.get(v, 0.0) == 0.0:
                self.waits[v] = self.waits.get(v, 0) + 1
                self.longest[v] = max(self.longest.get(v, 0), self.waits[v])
            else:
                self.waits[v] = 0
        left = {v for v in long_waiting if got.get(v, 0.0) == 0.0}
        if left:
            problem = build_problem(instance)
            at = {v["id"]: i for i, v in enumerate(self.villages)}
            served = {at[v] for v in zero_before if got.get(v, 0.0) > 0.0}
            base = most_served(problem, served)
            for v in sorted(left):
                servable = most_served(problem, served | {at[v]}) > base
                (self.over_2 if servable else self.over_2_unservable).add(v)
                self.left_long.append((week, v, self.waits[v], servable))
                if servable and self.method == "v2":  # kept to examine the repair
                    RESULTS.mkdir(parents=True, exist_ok=True)
                    (RESULTS / f"rolling-missed-{v}-week{week}.json").write_text(
                        json.dumps(self.last_v2)
                    )

    def report(self, weeks: int) -> dict[str, Any]:
        due = [n for n in self.needs.values() if n.due is not None and n.due < weeks
               and n.posted < weeks]
        missed = sum(1 for n in due if n.met_week is None or n.met_week > n.due)
        with_needs = {n.data["village"] for n in self.needs.values() if n.open < weeks}
        return {
            "value": self.value,
            "deadline_needs": len(due),
            "missed_after_due": missed,
            "villages_never_reached": len(with_needs - self.reached),
            "max_weeks_waiting": max(self.longest.values(), default=0),
            "villages_waiting_over_2": len(self.over_2),
            "villages_waiting_over_2_unservable": len(self.over_2_unservable - self.over_2),
            "donor_village_links": len(self.links),
            "median_week_seconds": statistics.median(self.seconds),
            "max_week_seconds": max(self.seconds),
        }


def run_seed(seed: int, args: argparse.Namespace) -> dict[str, Any]:
    data = stream(seed, args.weeks, args.needs_per_week, args.offers_per_week)
    out = {}
    for method in args.methods:
        run = Run(method, data, args)
        for week in range(args.weeks):
            run.step(week)
        out[method] = run.report(args.weeks)
        for week, village, weeks, servable in run.left_long:
            if servable and method != "v2":
                continue  # v1 and greedy leave dozens: their count is in the table
            print(f"seed {seed} {method:6s} week {week}: {village} at zero {weeks} weeks running"
                  f" ({'could have been served' if servable else 'no lot left for it'})")
        print(f"seed {seed} {method:6s} " + " ".join(
            f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}" for k, v in out[method].items()
        ), flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--horizon", type=int, default=4)
    parser.add_argument("--time-limit", type=float, default=5.0, help="seconds per week")
    parser.add_argument("--needs-per-week", type=int, default=250)
    parser.add_argument("--offers-per-week", type=int, default=150)
    parser.add_argument("--window", type=int, default=2, help="v2: weeks of history")
    parser.add_argument("--catch-up", type=float, default=1.0, help="v2: catch-up weight")
    parser.add_argument("--waiting-penalty", type=float, default=5000.0, help="v2")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    args = parser.parse_args()
    started = time.perf_counter()
    runs = {seed: run_seed(seed, args) for seed in args.seeds}
    methods = [m for m in METHODS if m in args.methods]
    keys = list(runs[args.seeds[0]][methods[0]])
    summary = {
        method: {k: statistics.median(runs[s][method][k] for s in args.seeds) for k in keys}
        for method in methods
    }
    print(f"\nmedians over seeds {args.seeds}, {args.weeks} weeks, horizon {args.horizon}, "
          f"{args.time_limit:g} s a week")
    both = "v1" in methods and "v2" in methods
    print(f"{'':28s}" + "".join(f"{m:>12s}" for m in methods) + (f"{'v2/v1':>10s}" * both))
    for k in keys:
        row = [summary[m][k] for m in methods]
        line = f"{k:28s}" + "".join(f"{x:12.1f}" for x in row)
        if both:
            v1, v2 = summary["v1"][k], summary["v2"][k]
            line += f"{v2 / v1:10.3f}" if v1 else f"{'-':>10s}"
        print(line)
    if both:
        ratios = [runs[s]["v2"]["value"] / runs[s]["v1"]["value"] for s in args.seeds]
        print(f"value v2/v1 per seed: {', '.join(f'{r:.4f}' for r in ratios)}")
    print(f"wall time {time.perf_counter() - started:.0f} s")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"rolling-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"args": vars(args), "runs": runs, "summary": summary}, indent=1))
    print(f"results in {path}")


if __name__ == "__main__":
    main()
