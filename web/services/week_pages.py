"""What the week's pages show, as dataclasses the views render: the runs so far (a page of
them) and one run's allocation lines, lost parts and board. Reads only; nothing is written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from web.models import Allocation, AllocationRun, County, Need, Offer
from web.services.run_board import RunBoard, run_board
from web.services.week_instance import row_id

SHOWN = 200  # allocation rows shown on each page of a run's allocations; the total is counted
RUNS_PER_PAGE = 20  # rows of the runs table on the week page


@dataclass(frozen=True)
class Row:
    """One allocation line of a run's table."""

    offer: Offer
    need: Need
    quantity: int
    km: float
    value: float
    allocation: Allocation | None = None


@dataclass(frozen=True)
class RunsPage:
    """A page of the runs so far, newest first."""

    runs: list[AllocationRun]
    page: int
    pages: int
    total: int
    committed_weeks: set[str]  # weeks of these previews already committed: superseded


@dataclass(frozen=True)
class RunPage:
    """A run's page: its first allocation lines and their count, the parts a distributed run
    gave nothing, and its map and charts (None while the job is queued or running)."""

    run: AllocationRun
    rows: list[Row]
    total: int
    lost_parts: list[dict[str, Any]]
    board: RunBoard | None
    page: int = 1
    pages: int = 1
    per_page: int = SHOWN
    superseded: bool = False  # a preview of a week another run has committed


def runs_page(session: Session, page: int, per_page: int = RUNS_PER_PAGE) -> RunsPage:
    """The runs of page `page` (from 1), newest first, and how many pages there are."""
    total = session.scalar(select(func.count(AllocationRun.id))) or 0
    runs = session.scalars(
        select(AllocationRun)
        .order_by(AllocationRun.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    previews = {r.week for r in runs if r.status == "preview"}
    weeks = committed_weeks(session, previews)
    return RunsPage(list(runs), page, max(1, -(-total // per_page)), total, weeks)


def run_page(session: Session, run: AllocationRun, page: int = 1) -> RunPage:
    """What the run's page shows, its allocation lines a page at a time (its job already
    checked alive by the caller)."""
    listed = run.status not in ("queued", "running", "failed")
    rows, total = rows_of(session, run, page) if listed else ([], 0)
    board = run_board(session, run) if run.status not in ("queued", "running") else None
    return RunPage(
        run, rows, total, lost_parts(session, run), board,
        page=page, pages=max(1, -(-total // SHOWN)), superseded=superseded(session, run),
    )  # fmt: skip


def committed_weeks(session: Session, weeks: set[str]) -> set[str]:
    """Those of `weeks` that already hold a committed (or published) run."""
    if not weeks:
        return set()
    query = select(AllocationRun.week).where(
        AllocationRun.week.in_(weeks), AllocationRun.status.in_(("committed", "published"))
    )
    return set(session.scalars(query))


def superseded(session: Session, run: AllocationRun) -> bool:
    """Whether `run` is a preview of a week already committed by another run: it can no
    longer be committed and is shown as superseded."""
    return run.status == "preview" and bool(committed_weeks(session, {run.week}))


def allocation_count(session: Session, run: AllocationRun) -> int:
    """How many allocation lines the run has (stored pledges once committed)."""
    if run.status == "preview":
        return len((run.output or {}).get("allocations", []))
    query = select(func.count(Allocation.id)).where(Allocation.run_id == run.id)
    return int(session.scalar(query) or 0)


def rows_of(
    session: Session, run: AllocationRun, page: int = 1, per_page: int | None = SHOWN
) -> tuple[list[Row], int]:
    """One page of the run's allocation lines (committed ones from the database; every line
    when per_page is None) and their count."""
    start = (page - 1) * (per_page or 0)
    end = None if per_page is None else start + per_page
    if run.status != "preview":
        query = (
            select(Allocation)
            .where(Allocation.run_id == run.id)
            .order_by(Allocation.id)
            .options(
                selectinload(Allocation.offer).selectinload(Offer.items),
                selectinload(Allocation.need).selectinload(Need.accepts),
            )
            .offset(start)
        )
        if per_page is not None:
            query = query.limit(per_page)
        allocations = list(session.scalars(query))
        rows = [Row(a.offer, a.need, a.quantity, a.km, a.value, a) for a in allocations]
        return rows, allocation_count(session, run)
    items = (run.output or {}).get("allocations", [])
    shown = items[start:end]
    offers = _by_id(session, Offer, {row_id(a["offer"]) for a in shown}, selectinload(Offer.items))
    needs = _by_id(session, Need, {row_id(a["need"]) for a in shown}, selectinload(Need.accepts))
    rows = [
        Row(
            offers[row_id(a["offer"])],
            needs[row_id(a["need"])],
            int(a["quantity"]),
            float(a["km"]),
            float(a["value"]),
        )
        for a in shown
    ]
    return rows, len(items)


def _by_id(session: Session, model: Any, ids: set[int], *options: Any) -> dict[int, Any]:
    """Rows of `model` by id (with these loader options)."""
    query = select(model).where(model.id.in_(ids)).options(*options)
    return {row.id: row for row in session.scalars(query)}


def lost_parts(session: Session, run: AllocationRun) -> list[dict[str, Any]]:
    """The parts of a distributed run that were given nothing, with their region's name (the
    region is named by its first county) and category, largest first; SHOWN at most."""
    spread = (run.metrics or {}).get("distributed") or {}
    lost = sorted(spread.get("lost") or [], key=lambda p: -int(p.get("units") or 0))[:SHOWN]
    codes = {str(p.get("region")) for p in lost}
    names = dict(
        session.execute(select(County.code, County.name).where(County.code.in_(codes))).all()
    )
    return [{**p, "region_name": names.get(str(p.get("region")), p.get("region"))} for p in lost]
