"""The exit list (动态脱贫清单): each village against the 十一有一低于 standard, the evidence
that closed an item (the village's needs tied to it, fully delivered and confirmed), the
villages nearest to exit per county, the map coloured by items met (挂图作战), and marking a
village exited. Public at village level (公示): never a household's data. Reads only, except
`mark_exited`, which flushes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from seeds.checklist import CHECKLIST_CODES
from web.models import Allocation, County, Need, Village
from web.services.mapping import Outline, Projection, district_map

NEAREST = 5  # villages nearest to exit shown per county
# Dots by items met (of 12): all met, nearly, half, few; a village marked exited apart.
COLOURS: tuple[tuple[int, str], ...] = (
    (12, "#1a7f37"),
    (10, "#7cc47f"),
    (7, "#f2c94c"),
    (4, "#f2994a"),
    (0, "#d64545"),
)
EXITED_COLOUR = "#5b6cc4"


class ExitError(ValueError):
    """A village cannot be marked exited; `code` says why (already_exited)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def items_met(village: Village) -> list[str]:
    """The checklist codes the village meets, in the standard's order."""
    checklist = village.checklist or {}
    return [code for code in CHECKLIST_CODES if checklist.get(code)]


def missing_items(village: Village) -> list[str]:
    """The checklist codes the village does not meet yet."""
    checklist = village.checklist or {}
    return [code for code in CHECKLIST_CODES if not checklist.get(code)]


def colour(village: Village) -> str:
    """The dot colour of a village: by items met, or the exited colour."""
    if village.exited_on is not None:
        return EXITED_COLOUR
    met = len(items_met(village))
    return next(hex for floor, hex in COLOURS if met >= floor)


def evidence(session: Session, village_ids: list[int]) -> dict[tuple[int, str], list[Need]]:
    """(village id, item code) -> the village's needs tied to the item whose whole quantity
    was delivered and confirmed by the village: the evidence that closed it."""
    if not village_ids:
        return {}
    confirmed = (
        select(Allocation.need_id, func.sum(Allocation.quantity).label("done"))
        .where(Allocation.status == "confirmed")
        .group_by(Allocation.need_id)
        .subquery()
    )
    query = (
        select(Need)
        .join(confirmed, confirmed.c.need_id == Need.id)
        .where(
            Need.village_id.in_(village_ids),
            Need.checklist_item.is_not(None),
            Need.household_id.is_(None),  # a household's wish is never public evidence
            confirmed.c.done >= Need.quantity,
        )
        .order_by(Need.id)
    )
    found: dict[tuple[int, str], list[Need]] = {}
    for need in session.scalars(query):
        found.setdefault((need.village_id, need.checklist_item or ""), []).append(need)
    return found


@dataclass(frozen=True)
class ExitRow:
    """One village on the exit list."""

    village: Village
    met: int
    missing: list[str]


@dataclass(frozen=True)
class CountyExit:
    """A county's villages still on the list, nearest to exit first, and those exited."""

    county: County
    nearest: list[ExitRow]
    on_list: int
    ready: int  # meeting every item, not yet marked exited
    exited: int


@dataclass(frozen=True)
class ExitDot:
    """A village on the map: the `village_map` macro's dot (colour, name, and its own tooltip
    text: the items met, instead of a coverage)."""

    village_id: int
    name: str
    x: float
    y: float
    colour: str
    tip: str


@dataclass(frozen=True)
class ExitMap:
    projection: Projection
    outlines: tuple[Outline, ...]
    dots: list[ExitDot]


@dataclass(frozen=True)
class ExitListPage:
    counties: list[CountyExit]
    map: ExitMap
    legend: list[tuple[str, int]]  # colour, the fewest items met it stands for (-1: exited)


def exit_list_page(session: Session, county_code: str | None = None) -> ExitListPage:
    """Every county's villages nearest to exit and the map coloured by items met."""
    villages = list(
        session.scalars(select(Village).options(joinedload(Village.county)).order_by(Village.code))
    )
    if county_code:
        villages = [v for v in villages if v.county.code == county_code]
    by_county: dict[int, list[Village]] = {}
    for village in villages:
        by_county.setdefault(village.county_id, []).append(village)
    counties = []
    for county in session.scalars(select(County).order_by(County.code)):
        mine = by_county.get(county.id, [])
        if not mine:
            continue
        on_list = [v for v in mine if v.exited_on is None]
        rows = sorted(
            (ExitRow(v, len(items_met(v)), missing_items(v)) for v in on_list),
            key=lambda r: (len(r.missing), r.village.code),
        )
        counties.append(
            CountyExit(
                county,
                rows[:NEAREST],
                len(on_list),
                sum(1 for r in rows if not r.missing),
                len(mine) - len(on_list),
            )
        )
    projection, outlines = district_map()
    dots = []
    for v in villages:
        if v.lat is None or v.lon is None:
            continue
        x, y = projection.point(v.lon, v.lat)
        tip = _("%(met)s/%(total)s exit items met", met=len(items_met(v)),
                total=len(CHECKLIST_CODES))  # fmt: skip
        dots.append(ExitDot(v.id, v.name, x, y, colour(v), tip))
    legend = [(hex, floor) for floor, hex in COLOURS] + [(EXITED_COLOUR, -1)]
    return ExitListPage(counties, ExitMap(projection, outlines, dots), legend)


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    met: bool
    evidence: list[Need]


@dataclass(frozen=True)
class VillageExitState:
    """A village's page part of the exit list: each item met or not, with its evidence."""

    village: Village
    items: list[ChecklistItem]

    @property
    def met(self) -> int:
        return sum(1 for item in self.items if item.met)

    @property
    def ready(self) -> bool:
        return all(item.met for item in self.items)


def village_exit_state(session: Session, village: Village) -> VillageExitState:
    """Each 十一有一低于 item of the village, met or not, with the needs that closed it."""
    found = evidence(session, [village.id])
    checklist = village.checklist or {}
    items = [
        ChecklistItem(code, bool(checklist.get(code)), found.get((village.id, code), []))
        for code in CHECKLIST_CODES
    ]
    return VillageExitState(village, items)


def mark_exited(session: Session, village: Village, today: date) -> Village:
    """Mark the village exited today: it leaves the weekly run (its needs are no longer
    allocated) and keeps its history (pages, past pledges, ledger). Flushes; cannot be undone
    here (ExitError when it was marked already)."""
    if village.exited_on is not None:
        raise ExitError("already_exited")
    if village.status != "exited" or village.exit_year is None:
        village.exit_year = today.year  # one imported as exited keeps its year
    village.status = "exited"
    village.exited_on = today
    session.flush()
    return village
