"""Why aid went where it went, in words: for donors (their pledges and their offers that got
nothing in the latest committed week) and for the administrator's allocation list.

The rules are matcher's (`matcher.eligibility`) and its sentences (`matcher.messages`); this
module only picks which verdicts to tell, and names kinds from the catalogue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from matcher.eligibility import Ineligibility, Reason, Verdict, explain_offer
from matcher.kinds import Catalogue
from matcher.messages import message
from web.models import Allocation, AllocationRun, Offer, Organization
from web.services.dashboard import LIVE_RUNS, latest_run
from web.services.kind_match import kind_match, kind_names
from web.services.translate import _
from web.services.week_instance import matcher_week, offer_key, row_id, week_days

PLACE_REASONS = frozenset({Reason.COUNTY, Reason.PAIRED_VILLAGE, Reason.DISTANCE})
LOT_REASONS = frozenset({Reason.MIN_LOT, Reason.INDIVISIBLE})


def allocation_reasons(allocation: Allocation, catalogue: Catalogue, lang: str = "zh") -> list[str]:
    """Why a pledge went where it went: kinds, the need's urgency, the village's poverty weight
    and the distance (the allocation's offer, need and village must be loaded)."""
    offer, need = allocation.offer, allocation.need
    reasons = [
        kind_match(catalogue, offer.item_codes, need.item_code, need.accept_codes, lang),
        _("urgency %(urgency)s of 5", urgency=need.urgency),
        _("poverty weight %(weight)s", weight=f"{need.village.poverty_weight:.2f}"),
    ]
    if offer.dispatch_lat is not None and offer.dispatch_lon is not None:  # funds: no distance
        reasons.append(_("%(km)s km away", km=f"{allocation.km:.1f}"))
    return reasons


@dataclass(frozen=True)
class IdleOffer:
    """An offer of the donor's that got nothing in the week, and why, in words."""

    offer: Offer
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class IdleReport:
    """The latest committed week and the donor's offers that got nothing in it."""

    week: str | None
    offers: tuple[IdleOffer, ...] = ()


def _first(verdicts: Iterable[Verdict], codes: frozenset[Reason]) -> Ineligibility | None:
    """The first reason with one of these codes among the verdicts."""
    for verdict in verdicts:
        for reason in verdict.reasons:
            if reason.reason in codes:
                return reason
    return None


def _in_week_reasons(
    verdicts: Sequence[Verdict], items: Sequence[str], catalogue: Catalogue, lang: str
) -> tuple[str, ...]:
    """Why an offer that entered the week's allocation got nothing, from matcher's verdicts."""
    same_category = [v for v in verdicts if Reason.CATEGORY not in v.codes]
    of_kind = [v for v in same_category if Reason.KIND not in v.codes]
    kinds = kind_names(catalogue, items, lang) if items else _("any kind")
    if not of_kind:
        out = [_("No verified open need of its kinds (%(kinds)s) this week.", kinds=kinds)]
        example = _first(same_category, frozenset({Reason.KIND}))
        if example is not None:
            out.append(
                _("For example: %(reason)s", reason=message(example, lang, catalogue=catalogue))
            )
        return tuple(out)
    reachable = [v for v in of_kind if not (v.codes & PLACE_REASONS)]
    if not reachable:
        out = [
            _(
                "%(count)s needs of its kinds this week, none within its counties, paired "
                "villages or reach.",
                count=len(of_kind),
            )
        ]
        example = _first(of_kind, PLACE_REASONS)
        if example is not None:
            out.append(
                _("For example: %(reason)s", reason=message(example, lang, catalogue=catalogue))
            )
        return tuple(out)
    absorbing = [v for v in reachable if not (v.codes & LOT_REASONS)]
    if not absorbing:
        example = _first(reachable, LOT_REASONS)
        assert example is not None
        return (
            _("Its minimum lot is larger than any village can absorb."),
            _("For example: %(reason)s", reason=message(example, lang, catalogue=catalogue)),
        )
    return (
        _(
            "%(count)s needs it could serve this week were met first by other offers.",
            count=len(absorbing),
        ),
    )


def _outside_week_reasons(
    offer: Offer, organization: Organization, run: AllocationRun, lang: str
) -> tuple[str, ...]:
    """Why an offer did not enter the week's allocation at all."""
    monday, sunday = week_days(run.week)
    if offer.valid_until is not None and offer.valid_until < monday:
        expired = Ineligibility(
            Reason.EXPIRED, {"until": offer.valid_until.isoformat(), "on": monday.isoformat()}
        )
        return (message(expired, lang),)
    if offer.valid_from is not None and offer.valid_from > sunday:
        return (
            _(
                "Its validity starts %(start)s, after week %(week)s.",
                start=offer.valid_from.isoformat(),
                week=run.week,
            ),
        )
    if (
        offer.created_at is not None
        and run.created_at is not None
        and offer.created_at > run.created_at
    ):
        return (
            _(
                "Posted after week %(week)s was allocated; it takes part in the next week.",
                week=run.week,
            ),
        )
    if organization.vetting != "approved":
        return (_("Your organization was not approved yet when the week was allocated."),)
    return (_("It was not open with units left when week %(week)s was allocated.", week=run.week),)


def idle_offers(
    session: Session, organization_id: int, catalogue: Catalogue, lang: str = "zh"
) -> IdleReport:
    """The organization's open offers that got nothing in the latest committed week, and why."""
    run = latest_run(session)
    if run is None:
        return IdleReport(None)
    organization = session.get(Organization, organization_id)
    if organization is None:
        return IdleReport(run.week)
    offers = session.scalars(
        select(Offer)
        .where(
            Offer.organization_id == organization_id,
            Offer.status == "open",
            Offer.allocated < Offer.quantity,
        )
        .order_by(Offer.id)
        .options(selectinload(Offer.items))
    ).all()
    given = set(
        session.scalars(
            select(Allocation.offer_id)
            .join(AllocationRun, AllocationRun.id == Allocation.run_id)
            .join(Offer, Offer.id == Allocation.offer_id)
            .where(
                AllocationRun.week == run.week,
                AllocationRun.status.in_(LIVE_RUNS),
                Offer.organization_id == organization_id,
            )
            .distinct()
        )
    )
    instance: dict[str, Any] = dict(run.input or {})
    in_week = {row_id(o["id"]) for o in instance.get("offers", [])}
    week = matcher_week(instance, [], catalogue) if in_week else None  # type: ignore[arg-type]
    found = []
    for offer in offers:
        if offer.id in given:
            continue
        if not offer.classified:
            reasons: tuple[str, ...] = (
                _(
                    "Its kinds are not set yet: it waits for the office's review and enters no "
                    "week until then."
                ),
            )
        elif not instance:  # the week holds only the administrator's manual pledges
            reasons = (
                _("Week %(week)s had only manual pledges, no computed allocation.", week=run.week),
            )
        elif offer.id in in_week and week is not None:
            verdicts = explain_offer(week, offer_key(offer.id))
            items = week.offer_by_id[offer_key(offer.id)].items
            reasons = _in_week_reasons(verdicts, sorted(items), catalogue, lang)
        else:
            reasons = _outside_week_reasons(offer, organization, run, lang)
        found.append(IdleOffer(offer, reasons))
    return IdleReport(run.week, tuple(found))
