"""The administrator's week: preview an allocation, commit it as pledges, publish it."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from optimizer import Allocation as OptimizerAllocation
from optimizer import (
    Instance,
    InvalidInstance,
    Progress,
    parse_instance,
    result_to_json,
    sharing_problems,
    solve,
    solve_greedy,
)
from optimizer import Result as OptimizerResult
from web.models import Allocation, AllocationRun, Need, Offer, User
from web.services.distributed import Distributed, Spread, plan_size, solve_distributed
from web.services.faults import fault_point
from web.services.kinds import load_catalogue
from web.services.locking import begin_write
from web.services.notifications import notify, organization_members, village_committees
from web.services.organizations import unapproved
from web.services.rolling import solve_rolling_week
from web.services.week_instance import (
    IdMaps,
    WeekError,
    build_week_instance,
    figures_summary,
    matcher_week,
    rolling_policy,
    row_id,
)

__all__ = [
    "AlreadyCommitted",
    "IdMaps",
    "NotAllowed",
    "StaleRun",
    "WeekError",
    "build_week_instance",
    "commit_run",
    "preview_week",
    "publish_run",
    "require_admin",
    "solve_week",
]


class NotAllowed(WeekError, PermissionError):
    """The acting user may not do this."""


class AlreadyCommitted(WeekError):
    """The week already has a committed run."""


class StaleRun(WeekError):
    """Offers or needs changed since the preview; preview the week again."""


def require_admin(actor: User, action: str) -> None:
    """Raise NotAllowed unless the actor is an active administrator."""
    if actor.role != "admin" or not actor.active:
        raise NotAllowed(f"only an administrator may {action}")


def preview_week(
    session: Session,
    week: str,
    policy: Mapping[str, float] | None,
    actor: User,
    *,
    time_limit: float = 30.0,
    progress: Callable[[Progress], None] | None = None,
    spread: Spread | None = None,
) -> AllocationRun:
    """Solve the week and store a preview run with its input, output and figures; no pledges."""
    require_admin(actor, "preview a week's allocation")
    ensure_not_committed(session, week)
    fields = solve_week(
        session, week, policy, time_limit=time_limit, progress=progress, spread=spread
    )
    run = AllocationRun(week=week, status="preview", created_by_id=actor.id, **fields)
    session.add(run)
    session.flush()
    return run


def solve_week(
    session: Session,
    week: str,
    policy: Mapping[str, float] | None,
    *,
    time_limit: float = 30.0,
    progress: Callable[[Progress], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    stage: Callable[[str], None] | None = None,
    spread: Spread | None = None,
) -> dict[str, Any]:
    """Build and solve the week (optimizer and greedy): a preview run's fields, nothing stored.

    `stage` hears "solving", "greedy" and "figures" as the work moves on (background jobs show it).
    With `spread`, a week of at least `spread.threshold` eligible pairs is cut into parts solved
    as RQ part jobs (web.services.distributed), within `time_limit` from the start of this call;
    a smaller week is solved whole. A cancel (`should_stop`) raises distributed.Cancelled.
    `time_limit` bounds all of it: a whole week's solver gets what is left once the week is read,
    less a reserve for the greedy baseline and the figures. The solve starts from the week's latest
    preview (a what-if after a weight change starts where the last one ended, and is never
    worse than it); the result's solver settings say whether that start was used.
    """
    started = time.monotonic()
    settings = rolling_policy(policy or {})
    if settings is not None:  # a horizon: the rolling model (spec v2)
        return solve_rolling_week(
            session, week, policy or {}, settings, time_limit=time_limit, progress=progress,
            should_stop=should_stop, stage=stage,
        )
    say = stage or _quiet
    data, _maps = build_week_instance(session, week, policy)
    try:
        instance = parse_instance(data)
    except InvalidInstance as error:
        problems = "; ".join(error.problems[:5])
        raise WeekError(f"the week's data is not a valid instance: {problems}") from None
    plan, pairs = plan_size(instance) if spread is not None else (None, 0)
    spread_info: dict[str, Any] | None = None
    if spread is not None and pairs >= spread.threshold and len(plan.parts) > 1:
        say("parts")
        spread_out = solve_distributed(
            instance, time_limit=time_limit, connection=spread.connection,
            queue_name=spread.queue_name, steal=spread.steal, should_stop=should_stop,
            on_progress=spread.on_parts, started=started, plan=plan,
            part_seconds=spread.part_seconds, with_greedy=True,
        )  # fmt: skip
        result, spread_info = spread_out.result, _spread_info(spread_out, pairs)
        say("greedy")
        # The baseline ran beside the parts, within the time limit; here only if it was lost.
        greedy = spread_out.greedy or solve_greedy(instance)
    else:
        result, greedy = _solve_whole(
            session, week, instance, time_limit, started,
            progress=progress, should_stop=should_stop, say=say,
        )  # fmt: skip
        # A whole week never ends below greedy; a cut week keeps its parts' results (a lost
        # part's needs get nothing and are named, not quietly filled by the baseline).
        result = never_below_greedy(result, greedy)
    say("figures")
    return _preview_fields(session, data, result, greedy, spread_info)


def _quiet(_stage: str) -> None:
    """A stage nobody follows."""


def _spread_info(spread_out: Distributed, pairs: int) -> dict[str, Any]:
    """How a week cut into parts was solved, for the run's metrics."""
    return {
        "parts": spread_out.parts,
        "pairs": pairs,
        "workers": spread_out.workers,
        "retried": spread_out.retried,
        "wide_shared_by": spread_out.result.settings.get("wide_offers_shared_by"),
        "lost": spread_out.lost,
    }


def _solve_whole(
    session: Session,
    week: str,
    instance: Instance,
    time_limit: float,
    started: float,
    *,
    progress: Callable[[Progress], None] | None,
    should_stop: Callable[[], bool] | None,
    say: Callable[[str], None],
) -> tuple[OptimizerResult, OptimizerResult]:
    """The week solved in this process within what is left of `time_limit` since `started` (less
    a reserve for the greedy baseline and the figures), from its latest preview, and the greedy
    baseline."""
    start_from = previous_allocations(session, week)
    say("solving")
    left = time_limit - (time.monotonic() - started) - (0.2 + 0.05 * time_limit)
    with sharing_problems():  # the greedy baseline reuses the solve's index of the week
        result = solve(
            instance, time_limit=max(0.1, left), progress=progress, should_stop=should_stop,
            start_from=start_from,
        )
        say("greedy")
        greedy = solve_greedy(instance)
    return result, greedy


def _preview_fields(
    session: Session,
    data: dict[str, Any],
    result: OptimizerResult,
    greedy: OptimizerResult,
    spread_info: dict[str, Any] | None,
) -> dict[str, Any]:
    """A preview run's fields from the week's instance, the solve and the greedy baseline."""
    output = result_to_json(result)
    return {
        "policy": data["policy"],
        "solver_status": result.status,
        "objective": result.objective,
        "bound": result.bound,
        "seconds": result.seconds,
        "input": data,
        "output": output,
        "metrics": {
            "optimizer": dict(result.metrics),
            "figures": figures_summary(
                matcher_week(data, output["allocations"], load_catalogue(session))
            ),
            "greedy": {"objective": greedy.objective, "metrics": dict(greedy.metrics)},
            **({"distributed": spread_info} if spread_info is not None else {}),
        },
    }


def never_below_greedy(result: OptimizerResult, greedy: OptimizerResult) -> OptimizerResult:
    """The preview is never worse than first come, first served: when the solver's time ran out
    before it did better (a short limit on a loaded machine), the greedy baseline's allocations
    stand, with the solver's bound and time; `method` says so."""
    if greedy.objective <= result.objective:
        return result
    return replace(
        greedy,
        status="feasible",
        bound=result.bound if result.bound is None else max(result.bound, greedy.objective),
        seconds=result.seconds,
        method="greedy (the solver's time ran out first)",
        settings={**result.settings, "fallback": "greedy"},
    )


def previous_allocations(session: Session, week: str) -> list[OptimizerAllocation]:
    """The allocations of the week's latest finished preview, as a solve's starting point."""
    output = session.scalar(
        select(AllocationRun.output)
        .where(
            AllocationRun.week == week,
            AllocationRun.status == "preview",
            AllocationRun.output.is_not(None),
        )
        .order_by(AllocationRun.id.desc())
        .limit(1)
    )
    found = []
    for item in (output or {}).get("allocations", ()):
        try:
            found.append(
                OptimizerAllocation(str(item["offer"]), str(item["need"]), int(item["quantity"]))
            )
        except (KeyError, TypeError, ValueError):
            return []  # not an output this solver wrote: start from scratch
    return found


def ensure_not_committed(session: Session, week: str) -> None:
    """Raise AlreadyCommitted when the week has a committed run."""
    done = session.scalar(select(AllocationRun.id).where(AllocationRun.committed_week == week))
    if done is not None:
        raise AlreadyCommitted(f"week {week} is already committed (run {done})")


def _locked(session: Session, model: Any, ids: Iterable[int]) -> dict[int, Any]:
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
    run: AllocationRun,
    offers: Mapping[int, Offer],
    needs: Mapping[int, Need],
    unapproved_donors: set[int],
) -> list[str]:
    """What changed since the preview among the offers and needs its allocations use (an
    offer's organization suspended since counts: its offers are no longer open to pledges)."""
    used_offers = {a["offer"] for a in run.output["allocations"]}  # type: ignore[index]
    used_needs = {a["need"] for a in run.output["allocations"]}  # type: ignore[index]
    problems = []
    for item in run.input["offers"]:  # type: ignore[index]
        offer = offers.get(row_id(item["id"])) if item["id"] in used_offers else None
        if item["id"] in used_offers and (
            offer is None
            or offer.status != "open"
            or offer.remaining != item["quantity"]
            or offer.organization_id in unapproved_donors
        ):
            problems.append(f"offer {row_id(item['id'])}")
    for item in run.input["needs"]:  # type: ignore[index]
        need = needs.get(row_id(item["id"])) if item["id"] in used_needs else None
        if item["id"] in used_needs and (
            need is None
            or need.status != "open"
            or need.verification != "verified"
            or need.remaining != item["quantity"]
        ):
            problems.append(f"need {row_id(item['id'])}")
    return problems


def _pledge(
    session: Session, run: AllocationRun, offers: Mapping[int, Offer], needs: Mapping[int, Need]
) -> None:
    """Add the run's allocations as pledges and count them on their offers and needs."""
    for item in run.output["allocations"]:  # type: ignore[index]
        offer, need = offers[row_id(item["offer"])], needs[row_id(item["need"])]
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
        begin_write(session)  # SQLite: the write lock first; PostgreSQL: row locks below
        run = session.get(AllocationRun, run_id, with_for_update=True, populate_existing=True)
        if run is None:
            raise WeekError(f"no allocation run {run_id}")
        if run.status in ("committed", "published"):  # a retried commit
            raise AlreadyCommitted(f"run {run_id} is {run.status}, not a preview: committed once")
        if run.status != "preview" or run.input is None or run.output is None:
            raise WeekError(f"run {run_id} is {run.status}, not a preview: it cannot be committed")
        ensure_not_committed(session, run.week)
        allocations = run.output["allocations"]
        offers = _locked(session, Offer, (row_id(a["offer"]) for a in allocations))
        needs = _locked(session, Need, (row_id(a["need"]) for a in allocations))
        # Again under the locks: a commit of the same week may have finished while we waited.
        ensure_not_committed(session, run.week)
        fault_point("commit:locked")
        donors = unapproved(session, (o.organization_id for o in offers.values()))
        stale = _stale_items(run, offers, needs, donors)
        if stale:
            raise StaleRun(
                f"changed since the preview of run {run_id}: {', '.join(stale[:10])}; "
                "preview the week again"
            )
        _pledge(session, run, offers, needs)
        session.flush()
        fault_point("commit:pledged")  # pledges and counters written, the run not yet marked
        run.committed_week = run.week
        run.status = "committed"
        run.committed_at = datetime.now(UTC)
        session.flush()
        fault_point("commit:before-commit")
    except IntegrityError:
        session.rollback()
        raise _refusal(session, run_id) from None
    return run


def _refusal(session: Session, run_id: int) -> WeekError:
    """Why the database refused a commit: the week was committed meanwhile, or the data moved."""
    week = session.scalar(select(AllocationRun.week).where(AllocationRun.id == run_id))
    if week is not None and session.scalar(
        select(AllocationRun.id).where(AllocationRun.committed_week == week)
    ):
        return AlreadyCommitted(f"week {week} was committed meanwhile by another run")
    return StaleRun(f"the database refused the pledges of run {run_id}; preview the week again")


def _notify_run(session: Session, run: AllocationRun) -> None:
    """Tell each donor organization's members and each village committee what the run gives."""
    by_org: Counter[int] = Counter(a.offer.organization_id for a in run.allocations)
    by_village: Counter[int] = Counter(a.need.village_id for a in run.allocations)
    for user in organization_members(session, by_org):
        count = by_org[user.organization_id or 0]

        def to_donor(count: int = count) -> str:
            return _(
                "Allocations of week %(week)s are published: your organization's donations "
                "make %(count)s matches; please dispatch them on time and confirm.",
                week=run.week, count=count,
            )  # fmt: skip

        notify(session, user, "run_published", to_donor)
    for user in village_committees(session, by_village):
        count = by_village[user.village_id or 0]

        def to_village(count: int = count) -> str:
            return _(
                "Allocations of week %(week)s are published: your village receives %(count)s "
                "matches; please confirm when they arrive.",
                week=run.week, count=count,
            )  # fmt: skip

        notify(session, user, "run_published", to_village)


def publish_run(session: Session, run_id: int, actor: User) -> AllocationRun:
    """Publish a committed run and notify the donors' members and the villages' committees."""
    try:
        require_admin(actor, "publish a week's allocation")
        begin_write(session)  # SQLite: one publisher at a time (the run's row lock on PostgreSQL)
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
    session.flush()
    return run
