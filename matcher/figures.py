"""The week's fairness and fragmentation figures, computed from a week's allocation.

No figure adds quantities of different units: units are summed within one kind only, and
totals across kinds are 折合金额 in 元, at each kind's reference value from a catalogue.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from matcher.eligibility import model_eligible
from matcher.kinds import Catalogue
from matcher.model import Need, Offer, Week
from matcher.sameness import FundedProject, project_sameness


def given(week: Week) -> dict[str, int]:
    """Units given to each need (every need present, 0 when nothing)."""
    out = {n.id: 0 for n in week.needs}
    for a in week.allocations:
        out[a.need] += a.quantity
    return out


def fraction_met(week: Week) -> dict[str, float]:
    """Units given / quantity, per need."""
    units = given(week)
    return {n.id: units[n.id] / n.quantity for n in week.needs}


def weighted_fulfilment(week: Week) -> float:
    """Sum over needs of urgency*poverty_weight*fraction met / sum of urgency*poverty_weight."""
    met = fraction_met(week)
    num = den = 0.0
    for n in week.needs:
        w = n.urgency * week.village_by_id[n.village].poverty_weight
        num += w * met[n.id]
        den += w
    return num / den if den else 0.0


def coverage(week: Week) -> dict[str, float]:
    """Per village with needs: mean over all its needs of units given / quantity (the spec's)."""
    met = fraction_met(week)
    return {
        v: sum(met[n.id] for n in ns) / len(ns) for v, ns in week.needs_of.items() if ns
    }


def reachable(week: Week) -> frozenset[str]:
    """Villages with at least one need some offer may serve under the spec's rules."""
    offers_of: dict[str, list[Offer]] = defaultdict(list)
    for o in week.offers:
        offers_of[o.category].append(o)
    out: set[str] = set()
    for n in week.needs:
        if n.village not in out and any(
            model_eligible(week, o, n) for o in offers_of.get(n.category, ())
        ):
            out.add(n.village)
    return frozenset(out)


def served(week: Week) -> frozenset[str]:
    """Villages that received a positive total."""
    return frozenset(week.need_by_id[a.need].village for a in week.allocations)


def at_zero(week: Week, reach: frozenset[str] | None = None) -> frozenset[str]:
    """Reachable villages that received nothing (`reach`: reachable(week), if known)."""
    return (reachable(week) if reach is None else reach) - served(week)


def gini(values: Iterable[float]) -> float:
    """Gini coefficient of non-negative values (0 when all equal or none or all zero)."""
    xs = sorted(values)
    n, total = len(xs), sum(xs)
    if n == 0 or total == 0:
        return 0.0
    ranked = sum((i + 1) * x for i, x in enumerate(xs))
    # Rounding can take equal values a hair below 0.
    return max(0.0, (2 * ranked) / (n * total) - (n + 1) / n)


def coverage_gini(week: Week, reach: frozenset[str] | None = None) -> float:
    """Gini of coverage over the reachable villages (unreachable ones are nobody's choice)."""
    cov = coverage(week)
    return gini(cov[v] for v in (reachable(week) if reach is None else reach))


def links(week: Week) -> frozenset[tuple[str, str]]:
    """The (offer, village) pairs where the offer serves the village."""
    return frozenset((a.offer, week.need_by_id[a.need].village) for a in week.allocations)


def _donor_shares(week: Week) -> dict[str, dict[str, float]]:
    """Per served village, each donor's share of need-fractions met (unit-free)."""
    raw: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for a in week.allocations:
        need = week.need_by_id[a.need]
        raw[need.village][week.offer_by_id[a.offer].donor] += a.quantity / need.quantity
    return {
        v: {d: x / sum(by.values()) for d, x in by.items()} for v, by in raw.items()
    }


def donors_per_village(week: Week) -> dict[str, int]:
    """Number of distinct donors per served village."""
    return {v: len(by) for v, by in _donor_shares(week).items()}


def donor_herfindahl(week: Week) -> dict[str, float]:
    """Per served village, the Herfindahl index (sum of squared shares) of its donors."""
    return {v: sum(s * s for s in by.values()) for v, by in _donor_shares(week).items()}


def offer_spread(week: Week) -> dict[str, int]:
    """For every offer, the number of villages it was split across (0 when unused)."""
    out = {o.id: 0 for o in week.offers}
    for offer, _village in links(week):
        out[offer] += 1
    return out


def counted_in(need: Need) -> str:
    """The kind whose unit a need's quantity is in: its item, else its category's root kind."""
    return need.item or need.category


def unmet_by_kind(week: Week) -> dict[str, int]:
    """Units still unmet per kind, each in its kind's unit (kinds with needs only)."""
    units = given(week)
    out: dict[str, int] = defaultdict(int)
    for n in week.needs:
        out[counted_in(n)] += n.quantity - units[n.id]
    return dict(out)


def unmet_by_county(week: Week) -> dict[str, dict[str, int]]:
    """Units still unmet per county, per kind (each in its kind's unit).

    Without kinds (spec v1) the kinds are the categories' root kinds, as before.
    """
    units = given(week)
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for n in week.needs:
        county = week.village_by_id[n.village].county
        out[county][counted_in(n)] += n.quantity - units[n.id]
    return {c: dict(by) for c, by in out.items()}


def in_yuan(need: Need, units: int, catalogue: Catalogue) -> float:
    """折合金额: units of a need in 元, at its kind's reference value (else its category root's)."""
    return catalogue.value_in_yuan(need.item, need.category, units)


def unmet_value_by_category(week: Week, catalogue: Catalogue) -> dict[str, float]:
    """折合金额 (元) still unmet per category: kinds of one category differ in unit, so no units."""
    units = given(week)
    out: dict[str, float] = defaultdict(float)
    for n in week.needs:
        out[n.category] += in_yuan(n, n.quantity - units[n.id], catalogue)
    return dict(out)


def unmet_value_by_county(week: Week, catalogue: Catalogue) -> dict[str, dict[str, float]]:
    """折合金额 (元) still unmet per county, per category."""
    units = given(week)
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for n in week.needs:
        county = week.village_by_id[n.village].county
        out[county][n.category] += in_yuan(n, n.quantity - units[n.id], catalogue)
    return {c: dict(by) for c, by in out.items()}


def funded_projects(week: Week) -> tuple[FundedProject, ...]:
    """The (village, category) pairs the week's allocation funds, with their county."""
    seen = {
        (week.need_by_id[a.need].village, week.need_by_id[a.need].category)
        for a in week.allocations
    }
    return tuple(
        FundedProject(v, week.village_by_id[v].county, c) for v, c in sorted(seen)
    )


def sameness_by_county(week: Week) -> dict[str, float]:
    """Project sameness (0..1) of each county that the week funds anything in."""
    projects = funded_projects(week)
    return {c: project_sameness(projects, c) for c in sorted({p.county for p in projects})}


@dataclass(frozen=True)
class WeekFigures:
    """Every figure of a week, for the preview, the dashboard and the weekly report."""

    weighted_fulfilment: float
    coverage: Mapping[str, float]
    coverage_gini: float
    reachable: frozenset[str]
    served: frozenset[str]
    at_zero: frozenset[str]
    links: int
    donors_per_village: Mapping[str, int]
    donor_herfindahl: Mapping[str, float]
    offer_spread: Mapping[str, int]
    unmet_by_kind: Mapping[str, int]
    unmet_by_county: Mapping[str, Mapping[str, int]]
    unmet_value_by_category: Mapping[str, float]
    unmet_value_by_county: Mapping[str, Mapping[str, float]]
    sameness_by_county: Mapping[str, float]

    @property
    def unmet_by_category(self) -> Mapping[str, float]:
        """The old name of unmet_value_by_category: 元 since spec v1.1, no longer units."""
        return self.unmet_value_by_category


def week_figures(week: Week, catalogue: Catalogue | None = None) -> WeekFigures:
    """All the week's figures at once; 元 at the catalogue's values (else the week's)."""
    catalogue = catalogue if catalogue is not None else week.catalogue
    if catalogue is None:
        raise ValueError("the week's figures need a catalogue of kinds for their totals in 元")
    reach = reachable(week)  # the costly one: every offer against every need, done once
    return WeekFigures(
        weighted_fulfilment=weighted_fulfilment(week),
        coverage=coverage(week),
        coverage_gini=coverage_gini(week, reach),
        reachable=reach,
        served=served(week),
        at_zero=at_zero(week, reach),
        links=len(links(week)),
        donors_per_village=donors_per_village(week),
        donor_herfindahl=donor_herfindahl(week),
        offer_spread=offer_spread(week),
        unmet_by_kind=unmet_by_kind(week),
        unmet_by_county=unmet_by_county(week),
        unmet_value_by_category=unmet_value_by_category(week, catalogue),
        unmet_value_by_county=unmet_value_by_county(week, catalogue),
        sameness_by_county=sameness_by_county(week),
    )
