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

SHOWN = 200  # allocation rows shown on a run's page; the total is counted
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


@dataclass(frozen=True)
class RunPage:
    """A run's page: its first allocation lines and their count, the parts a distributed run
    gave nothing, and its map and charts (None while the job is queued or running)."""

    run: AllocationRun
    rows: list[Row]
    total: int
    lost_parts: list[dict[str, Any]]
    board: RunBoard | None


def runs_page(session: Session, page: int, per_page: int = RUNS_PER_PAGE) -> RunsPage:
    """The runs of page `page` (from 1), newest first, and how many pages there are."""
    total = session.scalar(select(func.count(AllocationRun.id))) or 0
    runs = session.scalars(
        select(AllocationRun)
        .order_by(AllocationRun.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return RunsPage(list(runs), page, max(1, -(-total // per_page)), total)


def run_page(session: Session, run: AllocationRun) -> RunPage:
    """What the run's page shows (its job already checked alive by the caller)."""
    rows, total = rows_of(session, run) if run.status not in ("queued", "running", "failed") \
        else ([], 0)  # fmt: skip
    board = run_board(session, run) if run.status not in ("queued", "running") else None
    return RunPage(run, rows, total, lost_parts(session, run), board)


def rows_of(session: Session, run: AllocationRun) -> tuple[list[Row], int]:
    """The run's first allocation lines (committed ones from the database) and their count."""
    if run.status != "preview":
        query = (
            select(Allocation)
            .where(Allocation.run_id == run.id)
            .order_by(Allocation.id)
            .options(
                selectinload(Allocation.offer).selectinload(Offer.items),
                selectinload(Allocation.need).selectinload(Need.accepts),
            )
        )
        allocations = list(session.scalars(query))
        rows = [Row(a.offer, a.need, a.quantity, a.km, a.value, a) for a in allocations]
        return rows[:SHOWN], len(rows)
    items = (run.output or {}).get("allocations", [])
    shown = items[:SHOWN]
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
