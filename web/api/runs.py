"""Allocation runs (administrators): preview a week, read it, commit it, publish it."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from flask import current_app
from pydantic import Field
from sqlalchemy import select

from web import clock, jobs
from web.api.access import setting
from web.api.blueprint import ops
from web.api.kinds import kind_fields
from web.api.registry import ApiError, Call
from web.api.schemas import Moment, Out, Page, Paging, Strict, Week, page_of
from web.extensions import db
from web.models import AllocationRun, Need
from web.services import listing
from web.services.kinds import request_catalogue
from web.services.week import (
    AlreadyCommitted,
    NotAllowed,
    WeekError,
    commit_run,
    publish_run,
)
from web.services.week_instance import row_id
from web.services.weeks import check_preview_week

DEFAULT_SOLVE_SECONDS = 30.0
RunStatus = Literal["queued", "running", "preview", "committed", "published", "failed", "cancelled"]


class RunQuery(Paging):
    """Filters of the run list."""

    week: Week | None = None
    status: RunStatus | None = None


class Policy(Strict):
    """Policy weights of a preview; absent ones take the model's defaults."""

    fragmentation_penalty: Annotated[float, Field(ge=0, le=10000)] | None = None
    distance_discount_per_km: Annotated[float, Field(ge=0, le=1)] | None = None
    fairness_floor: Annotated[float, Field(ge=0, le=1)] | None = None
    fairness_penalty: Annotated[float, Field(ge=0, le=100000)] | None = None
    horizon: Annotated[int, Field(ge=1, le=12)] | None = Field(
        None,
        description="weeks to plan over (spec v2, docs/rolling.md): only week 0 is committed, "
        "the run's output.plan holds the later weeks; absent, the week alone (v1)",
    )
    window: Annotated[int, Field(ge=1, le=52)] | None = Field(
        None, description="with a horizon: weeks of committed history (default 2)"
    )
    catch_up: Annotated[float, Field(ge=0, le=100)] | None = Field(
        None, description="with a horizon: weight of a village's rolling deficit (default 1)"
    )


class RunIn(Strict):
    """A preview to start: the ISO week and the policy weights."""

    week: Week
    policy: Policy = Field(default_factory=Policy)
    time_limit: Annotated[float, Field(gt=0, le=86400)] | None = Field(
        default=None,
        description="seconds the preview may take (default DUIJIE_API_SOLVE_SECONDS); at most "
        "120 for a city's week, one more per 20 open needs for a larger one",
    )


class Proposed(Out):
    """One allocation a run proposes or pledged: units of an offer to a need."""

    offer_id: int
    need_id: int
    quantity: int
    item: str | None = Field(description="the need's kind (null: a need of a run before kinds)")
    item_name: str | None = Field(description="the kind's Chinese name")
    unit: str = Field(description="the unit of quantity (Chinese): the kind's")
    km: float
    value: float


class RunProgress(Out):
    """A preview job's progress while it is queued or running (complete once it is a preview)."""

    stage: str
    fraction: float
    elapsed: float
    time_limit: float
    objective: float | None
    bound: float | None
    no_worker: bool
    parts_done: int | None = Field(description="a week cut into parts: parts solved so far")
    parts_total: int | None = Field(description="a week cut into parts: how many parts")
    parts_lost: int | None = Field(description="parts given nothing (failed or out of time)")


class RunOut(Out):
    """An allocation run and its figures; a preview job's `status` is queued, then running,
    then preview (or failed, with `error`, or cancelled)."""

    id: int
    week: str
    status: str
    policy: dict[str, Any]
    solver_status: str | None
    objective: float | None
    bound: float | None
    seconds: float | None
    metrics: dict[str, Any]
    error: str | None
    created_at: Moment
    committed_at: Moment | None
    published_at: Moment | None
    allocation_count: int
    progress: RunProgress


class RunDetail(RunOut):
    """A run with the allocations it proposes (a preview) or pledged."""

    allocations: list[Proposed]


RunPage = Page[RunOut]


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: such figures are given as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _proposed(run: AllocationRun) -> list[dict[str, Any]]:
    items = (run.output or {}).get("allocations", [])
    if not items:
        return []
    kinds = _need_kinds(run, {row_id(item["need"]) for item in items})
    catalogue = request_catalogue(db.session)
    return [
        {
            "offer_id": row_id(item["offer"]),
            "need_id": row_id(item["need"]),
            "quantity": int(item["quantity"]),
            **kind_fields(catalogue, *kinds.get(row_id(item["need"]), (None, ""))),
            "km": _finite(float(item["km"])) or 0.0,
            "value": _finite(float(item["value"])) or 0.0,
        }
        for item in items
    ]


def _need_kinds(run: AllocationRun, need_ids: set[int]) -> dict[int, tuple[str | None, str]]:
    """Each need's kind and category as the run's instance gave them to the solver, else as
    stored (a need left out of the instance's kinds)."""
    found: dict[int, tuple[str | None, str]] = {}
    for need in (run.input or {}).get("needs", []):
        if need.get("item"):
            found[row_id(need["id"])] = (need["item"], need["category"])
    missing = sorted(need_ids - found.keys())
    if missing:
        rows = db.session.execute(
            select(Need.id, Need.item_code, Need.category_code).where(
                listing.among(db.session, Need.id, missing)
            )
        )
        found.update({need_id: (item, category) for need_id, item, category in rows})
    return found


def run_json(run: AllocationRun, *, detail: bool = False) -> dict[str, Any]:
    """A run as the API shows it."""
    proposed = _proposed(run) if detail else []
    count = len(proposed) if detail else len((run.output or {}).get("allocations", []))
    state = jobs.progress_of(run)
    body = {
        "id": run.id,
        "week": run.week,
        "status": run.status,
        "policy": _finite(run.policy or {}),
        "solver_status": run.solver_status,
        "objective": _finite(run.objective),
        "bound": _finite(run.bound),
        "seconds": _finite(run.seconds),
        "metrics": _finite(run.metrics or {}),
        "error": run.error,
        "created_at": run.created_at,
        "committed_at": run.committed_at,
        "published_at": run.published_at,
        "allocation_count": count,
        "progress": {
            "stage": str(state["stage"]),
            "fraction": float(state["fraction"]),
            "elapsed": _finite(float(state["elapsed"])) or 0.0,
            "time_limit": _finite(float(state["time_limit"])) or 0.0,
            "objective": _finite(state["objective"]),
            "bound": _finite(state["bound"]),
            "no_worker": bool(state["no_worker"]),
            "parts_done": state["parts_done"],
            "parts_total": state["parts_total"],
            "parts_lost": state["parts_lost"],
        },
    }
    if detail:
        body["allocations"] = proposed
    return body


def _run(run_id: int) -> AllocationRun:
    """The run, its job found dead if it is (failed, with the reason), or 404."""
    run = db.session.get(AllocationRun, run_id)
    if run is None:
        raise ApiError(404, "Not Found", f"no allocation run {run_id}")
    return jobs.check_alive(db.session, run)


def _refused(error: WeekError) -> ApiError:
    if isinstance(error, NotAllowed):
        return ApiError(403, "Forbidden", str(error))
    return ApiError(409, "Conflict", str(error))


@ops.operation(
    "/runs", "GET", summary="List allocation runs", tag="runs", roles=("admin", "auditor"),
    query=RunQuery, response=RunPage,
)  # fmt: skip
def list_runs(call: Call) -> dict[str, Any]:
    """Allocation runs by id, filtered by week and status."""
    q: RunQuery = call.query
    result = listing.runs(
        db.session, listing.Filters(week=q.week, status=q.status), q.page, q.per_page
    )
    return page_of([run_json(r) for r in result.items], result.total, q)


@ops.operation(
    "/runs", "POST", summary="Start a preview of a week's allocation", tag="runs",
    roles=("admin",), body=RunIn, response=RunDetail, status=202, errors=(409, 422, 503),
    idempotent=True,
)  # fmt: skip
def start_run(call: Call) -> dict[str, Any]:
    """Queue the week's preview as a background job, as the run page does (RQ with
    DUIJIE_REDIS_URL, else a thread of the server), solved within `time_limit` seconds
    (default DUIJIE_API_SOLVE_SECONDS); a large week is cut into parts solved by the workers.
    Follow it with GET /runs/{run_id} until its status is preview (or failed, with the
    reason); nothing is pledged until it is committed."""
    body: RunIn = call.body
    seconds = body.time_limit or setting("DUIJIE_API_SOLVE_SECONDS", DEFAULT_SOLVE_SECONDS)
    policy = body.policy.model_dump(exclude_none=True)
    if "horizon" not in policy and {"window", "catch_up"} & set(policy):
        message = "window and catch_up need a horizon"
        raise ApiError(
            422, "Unprocessable Content", message,
            errors=[{"field": "policy.horizon", "message": message}],
        )  # fmt: skip
    try:
        check_preview_week(body.week, clock.today())
    except WeekError as error:  # a week that has ended (or that no calendar has)
        raise ApiError(
            422, "Unprocessable Content", str(error),
            errors=[{"field": "week", "message": str(error)}],
        ) from None  # fmt: skip
    try:
        run = jobs.start_preview(db.session, body.week, policy, call.actor, time_limit=seconds)
    except AlreadyCommitted as error:
        raise ApiError(409, "Conflict", str(error)) from None
    except NotAllowed as error:
        raise ApiError(403, "Forbidden", str(error)) from None
    except jobs.TimeLimitTooLong as error:
        raise ApiError(422, "Unprocessable Content", str(error)) from None
    except WeekError as error:  # the job queue is down: the run is stored as failed, say why
        db.session.rollback()
        current_app.logger.warning("API preview not queued: %s", error)
        raise ApiError(503, "Service Unavailable", str(error)) from None
    db.session.refresh(run)
    return run_json(run, detail=True)


@ops.operation(
    "/runs/<int:run_id>", "GET", summary="One allocation run", tag="runs",
    roles=("admin", "auditor"), response=RunDetail,
)  # fmt: skip
def get_run(call: Call, run_id: int) -> dict[str, Any]:
    """A run's figures and its allocations."""
    return run_json(_run(run_id), detail=True)


@ops.operation(
    "/runs/<int:run_id>/commit", "POST", summary="Commit a preview", tag="runs",
    roles=("admin",), response=RunOut, errors=(409,),
)  # fmt: skip
def commit(call: Call, run_id: int) -> dict[str, Any]:
    """Turn a preview's allocations into pledges, all or nothing; a week is committed once."""
    _run(run_id)
    try:
        run = commit_run(db.session, run_id, call.actor)
    except WeekError as error:
        raise _refused(error) from None
    return run_json(run)


@ops.operation(
    "/runs/<int:run_id>/publish", "POST", summary="Publish a committed run", tag="runs",
    roles=("admin",), response=RunOut, errors=(409,),
)  # fmt: skip
def publish(call: Call, run_id: int) -> dict[str, Any]:
    """Publish a committed run: donors and village committees are notified."""
    _run(run_id)
    try:
        run = publish_run(db.session, run_id, call.actor)
    except WeekError as error:
        raise _refused(error) from None
    return run_json(run)
