"""The waiting rule of spec v2: a village passed over for the whole window, that an offer can
serve this week, costs `waiting_penalty` if it gets nothing in week 0 again.

v1's solver knows nothing of this term, so after it, `serve_waiting` gives each such village
a first delivery where that pays: the cheapest week-0 lot of one of its offers, taken from the
offer's spare units, or else from its least valuable other deliveries (a delivery cut below
its minimum lot goes whole, and so does a village the offer's cap has no room for).
"""

from __future__ import annotations

from collections.abc import Sequence

from optimizer.problem import Problem
from optimizer.solution import coverage_sums, shortfall


class _State:
    """A solution with the totals a change needs: per offer, need, group and village."""

    def __init__(self, problem: Problem, x: list[int]) -> None:
        self.problem, self.x = problem, list(x)
        instance = problem.instance
        self.offer_used = [0] * len(instance.offers)
        self.need_got = [0] * len(instance.needs)
        self.group_total = [0] * len(problem.groups)
        for j, units in enumerate(self.x):
            if units:
                self.offer_used[problem.pair_offer[j]] += units
                self.need_got[problem.pair_need[j]] += units
                self.group_total[problem.pair_group[j]] += units
        self.sums = coverage_sums(problem, self.x)
        self.groups_of: list[list[int]] = [[] for _ in instance.offers]
        for g, group in enumerate(problem.groups):
            self.groups_of[group.offer].append(g)
        self.need_pairs: list[list[int]] = [[] for _ in instance.needs]
        for j, n in enumerate(problem.pair_need):
            self.need_pairs[n].append(j)

    def delta(self, changes: dict[int, int]) -> float:
        """The change of v1's objective if pairs j get `changes[j]` units instead."""
        p, policy = self.problem, self.problem.instance.policy
        value = sum((units - self.x[j]) * p.pair_value[j] for j, units in changes.items())
        groups: dict[int, int] = {}
        villages: dict[int, float] = {}
        for j, units in changes.items():
            g, n = p.pair_group[j], p.pair_need[j]
            groups[g] = groups.get(g, self.group_total[g]) + units - self.x[j]
            v = p.need_village[n]
            share = (units - self.x[j]) / p.instance.needs[n].quantity
            villages[v] = villages.get(v, self.sums[v]) + share
        links = sum((t > 0) - (self.group_total[g] > 0) for g, t in groups.items())
        short = sum(
            shortfall(p, v, s) - shortfall(p, v, self.sums[v]) for v, s in villages.items()
        )
        return value - policy.fragmentation_penalty * links - policy.fairness_penalty * short

    def apply(self, changes: dict[int, int]) -> None:
        p = self.problem
        for j, units in changes.items():
            d = units - self.x[j]
            n = p.pair_need[j]
            self.offer_used[p.pair_offer[j]] += d
            self.need_got[n] += d
            self.group_total[p.pair_group[j]] += d
            self.sums[p.need_village[n]] += d / p.instance.needs[n].quantity
            self.x[j] = units


def unserved_waiting(
    problem: Problem, x: Sequence[int], now: Sequence[bool], waiting: set[int]
) -> set[int]:
    """Waiting villages (indices) that some usable week-0 pair could serve and that get none."""
    reachable = {problem.need_village[problem.pair_need[j]] for j in range(len(x)) if now[j]}
    served = {
        problem.need_village[problem.pair_need[j]] for j in range(len(x)) if now[j] and x[j]
    }
    return (waiting & reachable) - served


def serve_waiting(
    problem: Problem, x: list[int], now: Sequence[bool], penalties: dict[int, float]
) -> list[int]:
    """x with a first week-0 delivery for each waiting village where it pays (see module);
    `penalties`, per waiting village (index), what leaving it with nothing costs. Villages
    that cost most (have waited longest) are served first."""
    waiting = {v for v, penalty in penalties.items() if penalty > 0}
    if not waiting:
        return x
    state = _State(problem, x)
    for v in sorted(unserved_waiting(problem, x, now, waiting), key=lambda v: (-penalties[v], v)):
        mine = [j for g in _village_groups(problem, v) for j in problem.groups[g].pairs]
        if any(now[j] and state.x[j] for j in mine):
            continue  # served meanwhile by a move made for another village
        best: tuple[float, dict[int, int]] | None = None
        for g in _village_groups(problem, v):
            changes = _first_delivery(state, g, now)
            if changes is None:
                continue
            gain = state.delta(changes) + penalties[v]
            gain -= sum(penalties[w] for w in _newly_unserved(state, changes, now, waiting, v))
            if gain > 0 and (best is None or gain > best[0]):
                best = (gain, changes)
        if best is not None:
            state.apply(best[1])
    return state.x


def _village_groups(problem: Problem, v: int) -> list[int]:
    return [g for g, group in enumerate(problem.groups) if group.village == v]


def _newly_unserved(
    state: _State, changes: dict[int, int], now: Sequence[bool], waiting: set[int], v: int
) -> set[int]:
    """Waiting villages other than v that the change leaves with no week-0 units."""
    p = state.problem
    hit = {p.need_village[p.pair_need[j]] for j, u in changes.items() if u < state.x[j]}
    lost = set()
    for w in hit & waiting:
        if w == v:
            continue
        before = [j for g in _village_groups(p, w) for j in p.groups[g].pairs if now[j]]
        if any(state.x[j] for j in before) and not any(changes.get(j, state.x[j]) for j in before):
            lost.add(w)
    return lost


def _first_delivery(state: _State, g: int, now: Sequence[bool]) -> dict[int, int] | None:
    """Units to give group g's week-0 pairs (its lot), freeing units of the offer if needed."""
    p = state.problem
    group = p.groups[g]
    offer = p.instance.offers[group.offer]
    pairs = sorted((j for j in group.pairs if now[j]), key=lambda j: -p.pair_value[j])
    need_room = {
        p.pair_need[j]: p.instance.needs[p.pair_need[j]].quantity - state.need_got[p.pair_need[j]]
        for j in pairs
    }
    if offer.indivisible:
        if state.group_total[g] or sum(need_room.values()) < offer.quantity:
            return None
        want = offer.quantity
    else:
        want = max(1, offer.min_lot - state.group_total[g])
    changes: dict[int, int] = {}
    if sum(need_room.values()) < want:
        # The village's needs may be planned in full for later weeks: bring units forward.
        for n in need_room:
            later = sorted(
                (j for j in state.need_pairs[n] if not now[j] and state.x[j]),
                key=lambda j: p.pair_value[j],
            )
            for j in later:
                short = want - sum(need_room.values())
                if short <= 0:
                    break
                h = p.pair_group[j]
                other = p.instance.offers[p.groups[h].offer]
                kept = changes.get(j, state.x[j])
                cut = min(kept, short)
                if state.group_total[h] - cut < other.min_lot or other.indivisible:
                    for i in p.groups[h].pairs:  # the delivery falls below its lot: it goes
                        if state.x[i]:
                            if p.pair_need[i] in need_room:
                                need_room[p.pair_need[i]] += changes.get(i, state.x[i])
                            changes[i] = 0
                    continue
                changes[j] = kept - cut
                need_room[n] += cut
        if sum(need_room.values()) < want:
            return None
    free = offer.quantity - state.offer_used[group.offer]
    served = sum(1 for h in state.groups_of[group.offer] if state.group_total[h] > 0)
    cap = 1 if offer.indivisible else offer.max_villages
    must_close = cap is not None and state.group_total[g] == 0 and served >= cap
    others = sorted(
        (h for h in state.groups_of[group.offer] if h != g and state.group_total[h] > 0),
        key=lambda h: sum(state.x[j] * p.pair_value[j] for j in p.groups[h].pairs),
    )
    for h in others:
        if free >= want and not must_close:
            break
        # Cut h's least valuable units; below its lot (or to make room under the cap) it goes.
        members = sorted((j for j in p.groups[h].pairs if state.x[j]),
                         key=lambda j: p.pair_value[j])
        left = state.group_total[h]
        need_units = 0 if must_close else want - free
        if must_close or left - need_units < offer.min_lot:
            for j in members:
                changes[j] = 0
            free += left
            must_close = False
            continue
        for j in members:
            if need_units <= 0:
                break
            cut = min(state.x[j], need_units)
            changes[j] = state.x[j] - cut
            need_units -= cut
            free += cut
    if free < want or must_close:
        return None
    for j in pairs:
        if want <= 0:
            break
        n = p.pair_need[j]
        give = min(want, need_room[n])
        if give > 0:
            changes[j] = changes.get(j, state.x[j]) + give
            need_room[n] -= give
            want -= give
    return changes if want == 0 else None
