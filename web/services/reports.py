"""The weekly report of a committed run: its plan against the greedy baseline's, seen from the
villages, the donors (by kind of actor) and the office, then how the pledges were delivered.

Everything is computed from the run's stored input and output (and the greedy baseline solved
again on that same input, which is deterministic) and from the run's pledges in the database.
No household's name or phone is read: needs are counted, never listed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from matcher.figures import reachable
from matcher.kinds import Catalogue
from optimizer import InvalidInstance, parse_instance, result_to_json
from web.models import (
    Allocation,
    AllocationRun,
    County,
    Need,
    Offer,
    Organization,
    Township,
    Village,
)
from web.models.accounts import ORGANIZATION_KINDS
from web.services import week as week_service
from web.services.delivery import as_utc, overdue_reason
from web.services.kinds import request_catalogue
from web.services.villages import city_of_county, several_cities
from web.services.week_instance import matcher_week, need_key, row_id

REPORTABLE = ("committed", "published")


class ReportError(LookupError):
    """No report for this run (not found, not committed, or outside the reader's township)."""


@dataclass(frozen=True)
class KindUse:
    """How the offers of one kind of actor were used by a plan."""

    kind: str
    offers: int = 0
    used: int = 0  # offers that gave something
    full: int = 0  # offers given out entirely
    mean_share: float = 0.0  # mean over the offers of units given / units offered
    pledges: int = 0


@dataclass(frozen=True)
class PlanFigures:
    """One plan (the run's or the greedy baseline's) seen by villages, donors and the office."""

    villages_with_needs: int
    villages_reachable: int
    villages_reached: int
    villages_at_zero: int
    mean_coverage: float  # over reachable villages, the spec's coverage
    unmet_by_category: dict[str, float]  # 折合金额 (元): units of different kinds never added
    unmet_by_kind: dict[str, int]  # units, each in its kind's unit (a category's root: none named)
    checklist_closed: dict[str, int]  # 十一有一低于 item -> needs fully met
    by_kind: list[KindUse]
    pledges: int
    pledges_per_village: float
    links: int  # (offer, village) pairs
    duplicates: int  # (village, category) pairs served by more than one offer
    offers_split: int  # offers spread over more than one village
    km_total: float
    km_mean: float

    @property
    def checklist_total(self) -> int:
        return sum(self.checklist_closed.values())


@dataclass(frozen=True)
class KindDelivery:
    """How one kind of actor's pledges of this run were delivered."""

    kind: str
    pledges: int = 0
    dispatched: int = 0  # dispatched, received or confirmed
    confirmed: int = 0
    cancelled: int = 0
    overdue: int = 0
    problems: int = 0
    mean_rating: float | None = None
    mean_days_to_dispatch: float | None = None
    mean_days_to_confirm: float | None = None


@dataclass(frozen=True)
class CountyRow:
    """The run's pledges in one county."""

    county: str
    villages: int
    pledges: int
    value_by_category: dict[str, float]  # 折合金额 (元) of the pledges, per category
    confirmed: int
    overdue: int
    problems: int
    km: float
    mean_rating: float | None
    city: str = ""  # shown only when the report spans several cities


@dataclass(frozen=True)
class WeeklyReport:
    """Everything the printable weekly report shows."""

    run: AllocationRun
    township: str | None  # the scope's name when limited to one township
    plan: PlanFigures | None  # None for a run without its stored input and output
    greedy: PlanFigures | None
    delivery: list[KindDelivery]
    counties: list[CountyRow]
    solver: dict[str, Any] = field(default_factory=dict)
    greedy_solver: dict[str, Any] = field(default_factory=dict)
    several_cities: bool = False  # counties are then grouped under their city


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def _plan_figures(
    instance: Mapping[str, Any],
    allocations: list[Mapping[str, Any]],
    scope: set[str] | None,
    checklist: Mapping[str, str],
    kinds: Mapping[str, str],
    reach_all: frozenset[str],
    catalogue: Catalogue,
) -> PlanFigures:
    """The figures of one plan over the villages in scope (codes; None for the whole city)."""

    def inside(village: str) -> bool:
        return scope is None or village in scope

    needs = {n["id"]: n for n in instance["needs"] if inside(n["village"])}
    offers = {o["id"]: o for o in instance["offers"]}
    mine = [a for a in allocations if a["need"] in needs]
    given: dict[str, int] = defaultdict(int)
    for a in mine:
        given[a["need"]] += int(a["quantity"])
    needs_of: dict[str, list[str]] = defaultdict(list)
    for need_id, n in needs.items():
        needs_of[n["village"]].append(need_id)
    coverage = {
        v: sum(given[i] / needs[i]["quantity"] for i in ids) / len(ids)
        for v, ids in needs_of.items()
    }
    reach = {v for v in reach_all if inside(v)}
    reached = {needs[a["need"]]["village"] for a in mine}
    unmet, unmet_kind, closed = _unmet(needs, given, checklist, catalogue)
    links, duplicates, offers_split = _links(offers, needs, mine)
    return PlanFigures(
        villages_with_needs=len(needs_of),
        villages_reachable=len(reach),
        villages_reached=len(reached),
        villages_at_zero=len(reach - reached),
        mean_coverage=_mean(coverage.get(v, 0.0) for v in reach) or 0.0,
        unmet_by_category=dict(sorted(unmet.items())),
        unmet_by_kind=dict(sorted(unmet_kind.items())),
        checklist_closed=dict(sorted(closed.items())),
        by_kind=_kind_use(offers, mine, scope is not None, kinds),
        pledges=len(mine),
        pledges_per_village=len(mine) / len(reached) if reached else 0.0,
        links=links,
        duplicates=duplicates,
        offers_split=offers_split,
        km_total=sum(float(a.get("km", 0.0)) for a in mine),
        km_mean=_mean(float(a.get("km", 0.0)) for a in mine) or 0.0,
    )


def _unmet(
    needs: Mapping[str, Mapping[str, Any]],
    given: Mapping[str, int],
    checklist: Mapping[str, str],
    catalogue: Catalogue,
) -> tuple[dict[str, float], dict[str, int], dict[str, int]]:
    """What the plan leaves unmet: 折合金额 by category and units by kind; and the checklist
    items whose needs it meets in full."""
    unmet: dict[str, float] = defaultdict(float)
    unmet_kind: dict[str, int] = defaultdict(int)
    closed: dict[str, int] = defaultdict(int)
    for need_id, n in needs.items():
        left = n["quantity"] - given.get(need_id, 0)
        unmet[n["category"]] += catalogue.value_in_yuan(n.get("item"), n["category"], left)
        if left:
            unmet_kind[n.get("item") or n["category"]] += left
        item = checklist.get(need_id)
        if item and left <= 0:
            closed[item] += 1
    return unmet, unmet_kind, closed


def _links(
    offers: Mapping[str, Mapping[str, Any]],
    needs: Mapping[str, Mapping[str, Any]],
    mine: list[Mapping[str, Any]],
) -> tuple[int, int, int]:
    """The plan's donor-village links, the village-category pairs served by more than one offer,
    and the offers split over more than one village."""
    links = {(a["offer"], needs[a["need"]]["village"]) for a in mine}
    served_by: dict[tuple[str, str], set[str]] = defaultdict(set)
    spread: dict[str, set[str]] = defaultdict(set)
    for offer_id, village in links:
        served_by[(village, offers[offer_id]["category"])].add(offer_id)
        spread[offer_id].add(village)
    duplicates = sum(1 for by in served_by.values() if len(by) > 1)
    return len(links), duplicates, sum(1 for vs in spread.values() if len(vs) > 1)


def _kind_use(
    offers: Mapping[str, Mapping[str, Any]],
    allocations: list[Mapping[str, Any]],
    only_used: bool,
    kinds: Mapping[str, str],
) -> list[KindUse]:
    """Per kind of actor: offers, how many were used and fully used, mean share used."""
    given: dict[str, int] = defaultdict(int)
    pledges: dict[str, int] = defaultdict(int)
    for a in allocations:
        given[a["offer"]] += int(a["quantity"])
        pledges[kinds.get(a["offer"], "")] += 1
    shares: dict[str, list[float]] = defaultdict(list)
    for offer_id, o in offers.items():
        if only_used and not given[offer_id]:
            continue  # a township's report counts the offers that reached it
        shares[kinds.get(offer_id, "")].append(given[offer_id] / o["quantity"])
    return [
        KindUse(
            kind=kind,
            offers=len(shares[kind]),
            used=sum(1 for s in shares[kind] if s > 0),
            full=sum(1 for s in shares[kind] if s >= 1),
            mean_share=_mean(shares[kind]) or 0.0,
            pledges=pledges[kind],
        )
        for kind in ORGANIZATION_KINDS
    ]


def _days(start: datetime | None, end: datetime | None) -> float | None:
    begin, finish = as_utc(start), as_utc(end)
    if begin is None or finish is None:
        return None
    return (finish - begin).total_seconds() / 86400


def _delivery(
    run: AllocationRun, pledges: list[tuple[Allocation, str, str]], now: datetime | None
) -> list[KindDelivery]:
    """Per kind of actor, how the run's pledges (allocation, kind, county) were delivered."""
    by_kind: dict[str, list[Allocation]] = defaultdict(list)
    for allocation, kind, _county in pledges:
        by_kind[kind].append(allocation)
    rows = []
    for kind in ORGANIZATION_KINDS:
        items = by_kind.get(kind, [])
        ratings = [a.rating for a in items if a.rating is not None]
        to_dispatch = [_days(run.committed_at, a.dispatched_at) for a in items]
        to_confirm = [_days(a.dispatched_at, a.confirmed_at) for a in items]
        rows.append(
            KindDelivery(
                kind=kind,
                pledges=len(items),
                dispatched=sum(
                    1 for a in items if a.status in ("dispatched", "received", "confirmed")
                ),
                confirmed=sum(1 for a in items if a.status == "confirmed"),
                cancelled=sum(1 for a in items if a.status == "cancelled"),
                overdue=sum(1 for a in items if overdue_reason(a, run.committed_at, now)),
                problems=sum(1 for a in items if a.problem_note),
                mean_rating=_mean(float(r) for r in ratings),
                mean_days_to_dispatch=_mean(d for d in to_dispatch if d is not None),
                mean_days_to_confirm=_mean(d for d in to_confirm if d is not None),
            )
        )
    return rows


def _counties(
    run: AllocationRun,
    pledges: list[tuple[Allocation, str, str]],
    now: datetime | None,
    catalogue: Catalogue,
    cities: Mapping[str, str],
) -> list[CountyRow]:
    """The run's live pledges grouped by county, counties in order of city then name."""
    groups: dict[str, list[Allocation]] = defaultdict(list)
    for allocation, _kind, county in pledges:
        if allocation.status != "cancelled":
            groups[county].append(allocation)
    rows = []
    for county, items in sorted(groups.items(), key=lambda g: (cities.get(g[0], ""), g[0])):
        by_category: dict[str, float] = defaultdict(float)
        for a in items:
            code = a.need.category_code
            by_category[code] += catalogue.value_in_yuan(a.need.item_code, code, a.quantity)
        ratings = [float(a.rating) for a in items if a.rating is not None]
        rows.append(
            CountyRow(
                county=county,
                villages=len({a.need.village_id for a in items}),
                pledges=len(items),
                value_by_category=dict(sorted(by_category.items())),
                confirmed=sum(1 for a in items if a.status == "confirmed"),
                overdue=sum(1 for a in items if overdue_reason(a, run.committed_at, now)),
                problems=sum(1 for a in items if a.problem_note),
                km=sum(a.km for a in items),
                mean_rating=_mean(ratings),
                city=cities.get(county, ""),
            )
        )
    return rows


def _greedy_allocations(instance: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The greedy baseline's allocations on the run's input (None if it cannot be rebuilt)."""
    try:
        parsed = parse_instance(dict(instance))
    except InvalidInstance:
        return None
    # Through the week service's name, so the baseline is solved the same way as the preview's.
    return list(result_to_json(week_service.solve_greedy(parsed))["allocations"])


def reportable_run(session: Session, run_id: int) -> AllocationRun:
    """The committed or published run, or ReportError."""
    run = session.get(AllocationRun, run_id)
    if run is None or run.status not in REPORTABLE:
        raise ReportError(run_id)
    return run


def _plans(
    session: Session, run: AllocationRun, township_id: int | None, catalogue: Catalogue
) -> tuple[PlanFigures | None, PlanFigures | None]:
    """The run's plan and the greedy baseline's on its stored input; (None, None) without."""
    instance: dict[str, Any] = dict(run.input or {})
    if not instance or not run.output:
        return None, None
    scope = None
    if township_id is not None:
        scope = set(
            session.scalars(
                select(Village.code).where(
                    Village.township_id == township_id,
                    Village.code.in_([v["id"] for v in instance["villages"]]),
                )
            )
        )
    need_ids = [row_id(n["id"]) for n in instance["needs"]]
    checklist = {
        need_key(need_id): str(item)
        for need_id, item in session.execute(
            select(Need.id, Need.checklist_item).where(
                Need.id.in_(need_ids), Need.checklist_item.is_not(None)
            )
        )
    }
    offer_ids = [row_id(o["id"]) for o in instance["offers"]]
    kind_of = dict(
        session.execute(
            select(Offer.id, Organization.kind)
            .join(Organization, Organization.id == Offer.organization_id)
            .where(Offer.id.in_(offer_ids))
        ).all()
    )
    kinds = {o["id"]: kind_of.get(row_id(o["id"]), "") for o in instance["offers"]}
    reach_all = reachable(matcher_week(instance, []))  # type: ignore[arg-type]
    planned = list(run.output["allocations"])
    plan = _plan_figures(instance, planned, scope, checklist, kinds, reach_all, catalogue)
    greedy_allocations = _greedy_allocations(instance)
    greedy = (
        None
        if greedy_allocations is None
        else _plan_figures(
            instance, greedy_allocations, scope, checklist, kinds, reach_all, catalogue
        )
    )
    return plan, greedy


def weekly_report(
    session: Session,
    run_id: int,
    *,
    township_id: int | None = None,
    now: datetime | None = None,
) -> WeeklyReport:
    """The report of a committed or published run, for the whole city or one township."""
    run = reportable_run(session, run_id)
    township = None
    if township_id is not None:
        found = session.get(Township, township_id)
        township = found.name if found is not None else ""
    catalogue = request_catalogue(session)
    plan, greedy = _plans(session, run, township_id, catalogue)
    query = (
        select(Allocation, Organization.kind, County.name)
        .join(Offer, Offer.id == Allocation.offer_id)
        .join(Organization, Organization.id == Offer.organization_id)
        .join(Need, Need.id == Allocation.need_id)
        .join(Village, Village.id == Need.village_id)
        .join(County, County.id == Village.county_id)
        .where(Allocation.run_id == run.id)
        .order_by(Allocation.id)
    )
    if township_id is not None:
        query = query.where(Village.township_id == township_id)
    pledges = [(a, kind, county) for a, kind, county in session.execute(query)]
    greedy_metrics = (run.metrics or {}).get("greedy", {})
    return WeeklyReport(
        run=run,
        township=township,
        plan=plan,
        greedy=greedy,
        delivery=_delivery(run, pledges, now),
        counties=_counties(run, pledges, now, catalogue, city_of_county(session)),
        several_cities=several_cities(session),
        solver=dict((run.metrics or {}).get("optimizer", {})),
        greedy_solver={
            "objective": greedy_metrics.get("objective"),
            **greedy_metrics.get("metrics", {}),
        },
    )
