"""The administrator's week: build the optimizer's instance, preview, commit and publish a run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from statistics import mean
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from matcher import model as mm
from matcher.figures import week_figures
from optimizer import (
    InvalidInstance,
    Policy,
    Progress,
    parse_instance,
    result_to_json,
    solve,
    solve_greedy,
)
from web.models import Allocation, AllocationRun, Need, Offer, Organization, User, Village
from web.services.notifications import notify, organization_members, village_committees

Instance = dict[str, Any]
POLICY_KEYS = (
    "fragmentation_penalty",
    "distance_discount_per_km",
    "fairness_floor",
    "fairness_penalty",
)


class WeekError(Exception):
    """A week's run cannot be built, committed or published; the message says why."""


class NotAllowed(WeekError, PermissionError):
    """The acting user may not do this."""


class AlreadyCommitted(WeekError):
    """The week already has a committed run."""


class StaleRun(WeekError):
    """Offers or needs changed since the preview; preview the week again."""


@dataclass(frozen=True)
class IdMaps:
    """Instance ids back to database ids: offers, needs and villages."""

    offers: Mapping[str, int]
    needs: Mapping[str, int]
    villages: Mapping[str, int]


def week_days(week: str) -> tuple[date, date]:
    """Monday and Sunday of an ISO week like 2026-W48, or WeekError."""
    try:
        year, number = week.split("-W")
        monday = date.fromisocalendar(int(year), int(number), 1)
    except ValueError:
        raise WeekError(f"not an ISO week like 2026-W48: {week!r}") from None
    return monday, monday + timedelta(days=6)


def require_admin(actor: User, action: str) -> None:
    """Raise NotAllowed unless the actor is an active administrator."""
    if actor.role != "admin" or not actor.active:
        raise NotAllowed(f"only an administrator may {action}")


def offer_key(offer_id: int) -> str:
    """The instance id of an offer."""
    return f"O{offer_id}"


def need_key(need_id: int) -> str:
    """The instance id of a need."""
    return f"N{need_id}"


def _row_id(key: str) -> int:
    """The database id inside an instance id like O12 or N7."""
    return int(key[1:])


def open_offers(session: Session, week: str) -> list[Offer]:
    """Open offers of approved organizations, valid during the week, with units left."""
    monday, sunday = week_days(week)
    query = (
        select(Offer)
        .join(Organization, Offer.organization_id == Organization.id)
        .where(
            Offer.status == "open",
            Organization.vetting == "approved",
            Offer.quantity > Offer.allocated,
            Offer.valid_from <= sunday,
            Offer.valid_until >= monday,
        )
        .options(selectinload(Offer.counties), selectinload(Offer.villages))
        .order_by(Offer.id)
    )
    return list(session.scalars(query))


def open_needs(session: Session) -> list[Need]:
    """Open, verified needs with units still wanted."""
    query = (
        select(Need)
        .where(
            Need.status == "open", Need.verification == "verified", Need.quantity > Need.allocated
        )
        .order_by(Need.id)
    )
    return list(session.scalars(query))


def villages_served(session: Session, offer_ids: Iterable[int]) -> dict[int, int]:
    """How many villages each offer already serves through live (not cancelled) pledges."""
    query = (
        select(Allocation.offer_id, func.count(func.distinct(Need.village_id)))
        .join(Need, Allocation.need_id == Need.id)
        .where(Allocation.offer_id.in_(list(offer_ids)), Allocation.status != "cancelled")
        .group_by(Allocation.offer_id)
    )
    return {offer_id: count for offer_id, count in session.execute(query)}


def _village_json(village: Village, county_code: str) -> dict[str, Any]:
    """A village as the spec's JSON object."""
    item: dict[str, Any] = {
        "id": village.code,
        "county": county_code,
        "name": village.name,
        "poverty_weight": max(1.0, village.poverty_weight),
    }
    if village.lat is not None and village.lon is not None:
        item.update(lat=village.lat, lon=village.lon)
    return item


def _offer_json(offer: Offer, already_served: int) -> dict[str, Any] | None:
    """An offer's remaining units as the spec's JSON object; None when its village cap is used."""
    remaining = offer.remaining
    item: dict[str, Any] = {
        "id": offer_key(offer.id),
        "donor": f"D{offer.organization_id}",
        "category": offer.category_code,
        "quantity": remaining,
        # The last units may go as a smaller lot, so min_lot never exceeds what is left.
        "min_lot": min(offer.min_lot, remaining),
        "indivisible": offer.indivisible,
        "counties": sorted(c.code for c in offer.counties),
        "villages": sorted(v.code for v in offer.villages),
    }
    if offer.max_villages is not None:
        left = offer.max_villages - already_served
        if left < 1:
            return None
        item["max_villages"] = left
    if offer.dispatch_lat is not None and offer.dispatch_lon is not None:
        item.update(lat=offer.dispatch_lat, lon=offer.dispatch_lon)
    return item


def build_week_instance(
    session: Session, week: str, policy: Mapping[str, float] | None = None
) -> tuple[Instance, IdMaps]:
    """The optimizer's input (spec v1) for the week's open offers and needs, and its id maps."""
    villages = list(
        session.scalars(
            select(Village).options(selectinload(Village.county)).order_by(Village.code)
        )
    )
    code_of = {v.id: v.code for v in villages}
    offers = open_offers(session, week)
    served = villages_served(session, (o.id for o in offers))
    offer_items = [_offer_json(o, served.get(o.id, 0)) for o in offers]
    needs = open_needs(session)
    instance: Instance = {
        "week": week,
        "villages": [_village_json(v, v.county.code) for v in villages],
        "needs": [
            {
                "id": need_key(n.id),
                "village": code_of[n.village_id],
                "category": n.category_code,
                "quantity": n.remaining,
                "urgency": n.urgency,
            }
            for n in needs
        ],
        "offers": [item for item in offer_items if item is not None],
        "policy": effective_policy(policy),
    }
    maps = IdMaps(
        offers={item["id"]: _row_id(item["id"]) for item in instance["offers"]},
        needs={need_key(n.id): n.id for n in needs},
        villages={v.code: v.id for v in villages},
    )
    return instance, maps


def effective_policy(policy: Mapping[str, float] | None) -> dict[str, float]:
    """The spec's defaults overridden by the given knobs; unknown knobs are refused."""
    unknown = sorted(set(policy or {}) - set(POLICY_KEYS))
    if unknown:
        raise WeekError(f"unknown policy setting: {', '.join(unknown)}")
    default = Policy()
    return {key: float((policy or {}).get(key, getattr(default, key))) for key in POLICY_KEYS}


def matcher_week(instance: Instance, allocations: Iterable[Mapping[str, Any]]) -> mm.Week:
    """The instance and an allocation as matcher's Week, for its figures."""
    policy = mm.Policy(distance_discount_per_km=instance["policy"]["distance_discount_per_km"])
    return mm.Week(
        villages=tuple(
            mm.Village(v["id"], v["county"], v["poverty_weight"], v.get("lat"), v.get("lon"))
            for v in instance["villages"]
        ),
        needs=tuple(
            mm.Need(n["id"], n["village"], n["category"], n["quantity"], n["urgency"])
            for n in instance["needs"]
        ),
        offers=tuple(
            mm.Offer(
                o["id"],
                o["donor"],
                o["category"],
                o["quantity"],
                o["min_lot"],
                o.get("max_villages"),
                o["indivisible"],
                frozenset(o["counties"]),
                frozenset(o["villages"]),
                o.get("lat"),
                o.get("lon"),
            )
            for o in instance["offers"]
        ),
        allocations=tuple(mm.Allocation(a["offer"], a["need"], a["quantity"]) for a in allocations),
        policy=policy,
    )


def figures_summary(week: mm.Week) -> dict[str, Any]:
    """The week's fairness and fragmentation figures as JSON-ready numbers."""
    figures = week_figures(week)
    donors = list(figures.donors_per_village.values())
    return {
        "weighted_fulfilment": figures.weighted_fulfilment,
        "coverage_gini": figures.coverage_gini,
        "reachable": len(figures.reachable),
        "served": len(figures.served),
        "at_zero": len(figures.at_zero),
        "links": figures.links,
        "mean_donors_per_village": mean(donors) if donors else 0.0,
        "offers_split": sum(1 for n in figures.offer_spread.values() if n > 1),
        "unmet_by_category": dict(figures.unmet_by_category),
        "sameness_by_county": dict(figures.sameness_by_county),
    }


def preview_week(
    session: Session,
    week: str,
    policy: Mapping[str, float] | None,
    actor: User,
    *,
    time_limit: float = 30.0,
    progress: Callable[[Progress], None] | None = None,
) -> AllocationRun:
    """Solve the week and store a preview run with its input, output and figures; no pledges."""
    require_admin(actor, "preview a week's allocation")
    ensure_not_committed(session, week)
    data, _maps = build_week_instance(session, week, policy)
    try:
        instance = parse_instance(data)
    except InvalidInstance as error:
        problems = "; ".join(error.problems[:5])
        raise WeekError(f"the week's data is not a valid instance: {problems}") from None
    result = solve(instance, time_limit=time_limit, progress=progress)
    greedy = solve_greedy(instance)
    output = result_to_json(result)
    run = AllocationRun(
        week=week,
        status="preview",
        policy=data["policy"],
        solver_status=result.status,
        objective=result.objective,
        bound=result.bound,
        seconds=result.seconds,
        input=data,
        output=output,
        metrics={
            "optimizer": dict(result.metrics),
            "figures": figures_summary(matcher_week(data, output["allocations"])),
            "greedy": {"objective": greedy.objective, "metrics": dict(greedy.metrics)},
        },
        created_by_id=actor.id,
    )
    session.add(run)
    session.commit()
    return run


def ensure_not_committed(session: Session, week: str) -> None:
    """Raise AlreadyCommitted when the week has a committed run."""
    done = session.scalar(select(AllocationRun.id).where(AllocationRun.committed_week == week))
    if done is not None:
        raise AlreadyCommitted(f"week {week} is already committed (run {done})")


def _locked(
    session: Session, model: type[Offer] | type[Need], ids: Iterable[int]
) -> dict[int, Any]:
    """Rows of `model` by id, locked for update in id order and read afresh."""
    query = (
        select(model)
        .where(model.id.in_(sorted(set(ids))))
        .order_by(model.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.id: row for row in session.scalars(query)}


def _stale_items(
    run: AllocationRun, offers: Mapping[int, Offer], needs: Mapping[int, Need]
) -> list[str]:
    """What changed since the preview among the offers and needs its allocations use."""
    used_offers = {a["offer"] for a in run.output["allocations"]}  # type: ignore[index]
    used_needs = {a["need"] for a in run.output["allocations"]}  # type: ignore[index]
    problems = []
    for item in run.input["offers"]:  # type: ignore[index]
        offer = offers.get(_row_id(item["id"])) if item["id"] in used_offers else None
        if item["id"] in used_offers and (
            offer is None or offer.status != "open" or offer.remaining != item["quantity"]
        ):
            problems.append(f"offer {_row_id(item['id'])}")
    for item in run.input["needs"]:  # type: ignore[index]
        need = needs.get(_row_id(item["id"])) if item["id"] in used_needs else None
        if item["id"] in used_needs and (
            need is None
            or need.status != "open"
            or need.verification != "verified"
            or need.remaining != item["quantity"]
        ):
            problems.append(f"need {_row_id(item['id'])}")
    return problems


def _pledge(
    session: Session, run: AllocationRun, offers: Mapping[int, Offer], needs: Mapping[int, Need]
) -> None:
    """Add the run's allocations as pledges and count them on their offers and needs."""
    for item in run.output["allocations"]:  # type: ignore[index]
        offer, need = offers[_row_id(item["offer"])], needs[_row_id(item["need"])]
        quantity = int(item["quantity"])
        if quantity > offer.remaining or quantity > need.remaining:
            raise StaleRun(f"offer {offer.id} or need {need.id} has fewer units left than pledged")
        offer.allocated += quantity
        need.allocated += quantity
        session.add(
            Allocation(
                run=run,
                offer_id=offer.id,
                need_id=need.id,
                quantity=quantity,
                km=float(item["km"]),
                value=float(item["value"]),
                status="pledged",
            )
        )


def commit_run(session: Session, run_id: int, actor: User) -> AllocationRun:
    """Turn a preview's allocations into pledges, all or nothing; the week is committed once."""
    try:
        require_admin(actor, "commit a week's allocation")
        run = session.get(AllocationRun, run_id, with_for_update=True, populate_existing=True)
        if run is None:
            raise WeekError(f"no allocation run {run_id}")
        if run.status != "preview" or run.input is None or run.output is None:
            raise WeekError(f"run {run_id} is {run.status}, not a preview: it cannot be committed")
        ensure_not_committed(session, run.week)
        allocations = run.output["allocations"]
        offers = _locked(session, Offer, (_row_id(a["offer"]) for a in allocations))
        needs = _locked(session, Need, (_row_id(a["need"]) for a in allocations))
        stale = _stale_items(run, offers, needs)
        if stale:
            raise StaleRun(
                f"changed since the preview of run {run_id}: {', '.join(stale[:10])}; "
                "preview the week again"
            )
        _pledge(session, run, offers, needs)
        run.committed_week = run.week
        run.status = "committed"
        run.committed_at = datetime.now(UTC)
        session.flush()
    except IntegrityError:
        session.rollback()
        raise AlreadyCommitted(f"week of run {run_id} was committed meanwhile") from None
    except Exception:
        session.rollback()
        raise
    session.commit()
    return run


def _notify_run(session: Session, run: AllocationRun) -> None:
    """Tell each donor organization's members and each village committee what the run gives."""
    by_org: Counter[int] = Counter(a.offer.organization_id for a in run.allocations)
    by_village: Counter[int] = Counter(a.need.village_id for a in run.allocations)
    for user in organization_members(session, by_org):
        count = by_org[user.organization_id or 0]
        text = f"第{run.week}周分配已发布：贵单位的捐赠共{count}笔对接，请按时发货并确认。"
        notify(session, user, "run_published", text)
    for user in village_committees(session, by_village):
        count = by_village[user.village_id or 0]
        text = f"第{run.week}周分配已发布：本村获得{count}笔帮扶，收到后请确认。"
        notify(session, user, "run_published", text)


def publish_run(session: Session, run_id: int, actor: User) -> AllocationRun:
    """Publish a committed run and notify the donors' members and the villages' committees."""
    try:
        require_admin(actor, "publish a week's allocation")
        run = session.get(AllocationRun, run_id, with_for_update=True, populate_existing=True)
        if run is None:
            raise WeekError(f"no allocation run {run_id}")
        if run.status != "committed":
            raise WeekError(f"run {run_id} is {run.status}: only a committed run can be published")
        run.status = "published"
        run.published_at = datetime.now(UTC)
        _notify_run(session, run)
    except Exception:
        session.rollback()
        raise
    session.commit()
    return run
