"""The week's optimizer input (spec v1) from the database, and its figures from matcher."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from statistics import mean
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from matcher import model as mm
from matcher.figures import week_figures
from matcher.kinds import Catalogue
from optimizer import Policy
from optimizer.rolling.model import MAX_HORIZON
from seeds.catalogue import hezhou_catalogue
from web.models import Allocation, Need, Offer, Organization, Village
from web.services.claim_hold import held_need_ids


class WeekError(Exception):
    """A week's run cannot be built, committed or published; the message says why."""


Instance = dict[str, Any]  # the spec's input JSON, decoded
POLICY_KEYS = (
    "fragmentation_penalty",
    "distance_discount_per_km",
    "fairness_floor",
    "fairness_penalty",
)


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


def offer_key(offer_id: int) -> str:
    """The instance id of an offer."""
    return f"O{offer_id}"


def need_key(need_id: int) -> str:
    """The instance id of a need."""
    return f"N{need_id}"


def row_id(key: str) -> int:
    """The database id inside an instance id like O12 or N7."""
    return int(key[1:])


def open_offers(session: Session, week: str) -> list[Offer]:
    """Open offers of approved organizations, valid during the week, with units left, that name
    their kinds or are general by the donor's choice (the others wait in the review list)."""
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
            or_(Offer.general, Offer.items.any()),
        )
        .options(
            selectinload(Offer.counties), selectinload(Offer.villages), selectinload(Offer.items)
        )
        .order_by(Offer.id)
    )
    return list(session.scalars(query))


def open_needs(session: Session, now: datetime | None = None) -> list[Need]:
    """Open, verified needs with units still wanted that name their kind (the others wait in
    the township's review list), of villages still on the exit list (one marked exited on it,
    web.services.exit_list, leaves the weekly run), less the micro-wishes a donor's claim holds
    at `now`."""
    now = now or datetime.now(UTC)
    query = (
        select(Need)
        .join(Village, Need.village_id == Village.id)
        .where(
            Need.status == "open",
            Need.verification == "verified",
            Need.quantity > Need.allocated,
            Need.item_code.is_not(None),
            Village.exited_on.is_(None),
            Need.id.not_in(held_need_ids(now)),
        )
        .options(selectinload(Need.accepts))
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
    if offer.items:
        item["items"] = offer.item_codes
    if offer.max_villages is not None:
        left = offer.max_villages - already_served
        if left < 1:
            return None
        item["max_villages"] = left
    if offer.dispatch_lat is not None and offer.dispatch_lon is not None:
        item.update(lat=offer.dispatch_lat, lon=offer.dispatch_lon)
    return item


def _need_json(need: Need, village_code: str) -> dict[str, Any]:
    """A need's remaining units as the spec's JSON object, with its kind and alternatives."""
    item: dict[str, Any] = {
        "id": need_key(need.id),
        "village": village_code,
        "category": need.category_code,
        "quantity": need.remaining,
        "urgency": need.urgency,
        "item": need.item_code,
    }
    if need.accepts:
        item["accepts"] = need.accept_codes
    return item


def build_week_instance(
    session: Session, week: str, policy: Mapping[str, float] | None = None
) -> tuple[Instance, IdMaps]:
    """The optimizer's input (spec v1.1) for the week's open offers and needs, and its id maps."""
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
        "needs": [_need_json(n, code_of[n.village_id]) for n in needs],
        "offers": [item for item in offer_items if item is not None],
        # v1's weights only: the rolling settings (spec v2) are read by web.services.rolling
        "policy": {k: v for k, v in effective_policy(policy).items() if k in POLICY_KEYS},
    }
    maps = IdMaps(
        offers={item["id"]: row_id(item["id"]) for item in instance["offers"]},
        needs={need_key(n.id): n.id for n in needs},
        villages={v.code: v.id for v in villages},
    )
    return instance, maps


def effective_policy(policy: Mapping[str, float] | None) -> dict[str, float]:
    """The spec's defaults overridden by the given knobs; unknown knobs are refused. With a
    `horizon`, the rolling settings (spec v2) follow, checked by web.services.rolling."""
    unknown = sorted(set(policy or {}) - set(POLICY_KEYS) - set(ROLLING_KEYS))
    if unknown:
        raise WeekError(f"unknown policy setting: {', '.join(unknown)}")
    default, given = Policy(), dict(policy or {})
    try:
        weights = {key: float(given.get(key, getattr(default, key))) for key in POLICY_KEYS}
    except (TypeError, ValueError):
        raise WeekError("policy settings must be numbers") from None
    return {**weights, **(rolling_policy(given) or {})}


def matcher_week(
    instance: Instance,
    allocations: Iterable[Mapping[str, Any]],
    catalogue: Catalogue | None = None,
) -> mm.Week:
    """The instance and an allocation as matcher's Week, for its figures.

    Kinds (spec v1.1 `item`, `accepts`, `items`) pass through when present; the figures value
    them with the catalogue given, else Hezhou's starting catalogue.
    """
    policy = mm.Policy(distance_discount_per_km=instance["policy"]["distance_discount_per_km"])
    return mm.Week(
        villages=tuple(
            mm.Village(v["id"], v["county"], v["poverty_weight"], v.get("lat"), v.get("lon"))
            for v in instance["villages"]
        ),
        needs=tuple(
            mm.Need(
                n["id"],
                n["village"],
                n["category"],
                n["quantity"],
                n["urgency"],
                item=n.get("item"),
                accepts=frozenset(n.get("accepts", ())),
            )
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
                items=frozenset(o.get("items", ())),
            )
            for o in instance["offers"]
        ),
        allocations=tuple(mm.Allocation(a["offer"], a["need"], a["quantity"]) for a in allocations),
        policy=policy,
        catalogue=catalogue if catalogue is not None else hezhou_catalogue(),
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
        # 折合金额 (元) per category: kinds of one category have different units.
        "unmet_value_by_category": dict(figures.unmet_by_category),
        "unmet_by_kind": dict(figures.unmet_by_kind),
        "sameness_by_county": dict(figures.sameness_by_county),
    }


# The rolling settings (spec v2) of a run's policy, checked with its weights; the rolling model
# itself is web.services.rolling.
ROLLING_KEYS = ("horizon", "window", "catch_up")
DEFAULT_WINDOW = 2  # weeks of committed history: a village passed over twice catches up
DEFAULT_CATCH_UP = 1.0


def rolling_policy(policy: Mapping[str, Any]) -> dict[str, float] | None:
    """The rolling settings of a run's policy (None: a v1 run), validated; WeekError if not."""
    if "horizon" not in policy:
        if set(ROLLING_KEYS) & set(policy):
            raise WeekError("window and catch_up need a horizon")
        return None
    horizon = policy["horizon"]
    if (
        isinstance(horizon, bool) or not isinstance(horizon, int | float)
        or horizon != int(horizon) or not 1 <= horizon <= MAX_HORIZON
    ):
        raise WeekError(f"the horizon must be a whole number of weeks from 1 to {MAX_HORIZON}")
    window = policy.get("window", DEFAULT_WINDOW)
    if isinstance(window, bool) or not isinstance(window, int | float) or window != int(window) \
            or not 1 <= window <= 52:
        raise WeekError("the history window must be a whole number of weeks from 1 to 52")
    catch_up = policy.get("catch_up", DEFAULT_CATCH_UP)
    if isinstance(catch_up, bool) or not isinstance(catch_up, int | float) or not (
        0 <= catch_up <= 100
    ):
        raise WeekError("catch_up must be a number from 0 to 100")
    return {"horizon": int(horizon), "window": int(window), "catch_up": float(catch_up)}
