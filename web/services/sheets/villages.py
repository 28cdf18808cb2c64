"""The villages sheet: poor villages' figures and exit checklist, and new villages with their
township, county and city; imported by an administrator and exported."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from seeds.checklist import CHECKLIST_CODES, CHECKLIST_ITEMS
from seeds.demo_villages import poverty_weight
from web.models import City, County, Township, User, Village, city_code
from web.services.sheets.cells import Column, Row, cell_text
from web.services.sheets.report import ImportDenied, ImportReport
from web.services.sheets.settings import Box, SheetSettings

# The province's box (Guangxi's, with a margin): a village's coordinates must fall inside it.
# A deployment elsewhere sets DUIJIE_VILLAGE_BOX (web.config) to its own.


FIRST_EXIT_YEAR = 2014  # the year households and villages were first registered (建档立卡)


VILLAGE_STATUS_NAMES = {"poor": "未脱贫", "exited": "已脱贫"}


_VILLAGE_STATUS_ALIASES = {
    "未脱贫": "poor",
    "贫困村": "poor",
    "poor": "poor",
    "已脱贫": "exited",
    "已出列": "exited",
    "脱贫出列": "exited",
    "exited": "exited",
}


VILLAGE_COLUMNS = (
    Column("code", "村代码", True, "451102100201", "12 位统计代码；新村须填村名、乡镇、县区、市"),
    Column("status", "脱贫状态", True, "未脱贫", "未脱贫或已脱贫"),
    Column("exit_year", "脱贫年份", False, "", f"已脱贫必填：{FIRST_EXIT_YEAR} 年至今；未脱贫不填"),
    Column("population", "户籍人口", True, 1200, "0 到 100000 的整数"),
    Column("poor_households", "建档立卡贫困户数", True, 80, "不大于贫困人口数的整数"),
    Column("poor_population", "建档立卡贫困人口", True, 310, "不大于户籍人口的整数"),
    Column("incidence", "贫困发生率（%）", False, 25.8, "0 到 100 之间的数；不填则不改"),
    Column("ethnic_minority", "少数民族村", False, "否", "是或否"),
    Column("lat", "纬度", False, 24.41, "本省范围内的小数，可不填"),
    Column("lon", "经度", False, 111.57, "本省范围内的小数，可不填"),
    *(
        Column(f"checklist_{code}", zh, False, "否", "十一有一低于：是或否")
        for code, zh, _ in CHECKLIST_ITEMS
    ),
    # Read only for a code not yet known: the new village, and its township, county and city
    # when they are new too (their codes are the first 9, 6 and 4 digits of the village's).
    Column("name", "村名", False, "", "新村必填；已有的村不改"),
    Column("township", "乡镇", False, "", "新村必填"),
    Column("county", "县区", False, "", "新村必填"),
    Column("city", "市", False, "", "新村必填，如 贺州市"),
)


@dataclass
class _VillageRow:
    village: Village
    status: str
    exit_year: int | None
    population: int
    poor_households: int
    poor_population: int
    incidence: float | None
    ethnic_minority: bool
    lat: float | None
    lon: float | None
    checklist: dict[str, bool]
    new: bool = False


class _Places:
    """The cities, counties and townships known, and those a village import adds."""

    def __init__(self, session: Session) -> None:
        self.cities = {c.code: c for c in session.scalars(select(City))}
        self.counties = {c.code: c for c in session.scalars(select(County))}
        self.townships = {t.code: t for t in session.scalars(select(Township))}
        known = [*self.cities, *self.counties, *self.townships]
        self.province = known[0][:2] if known else None

    def new_village(self, row: Row, col: Mapping[str, Column], code: str) -> Village | None:
        """A new village of the province from the row's names, or None after an error."""
        if not re.fullmatch(r"\d{12}", code):
            row.error(col["code"], _("A village code is 12 digits, not “%(code)s”.", code=code))
            return None
        names = {key: row.text(col[key], 64) for key in ("name", "township", "county", "city")}
        missing = [col[key].header for key, value in names.items() if not value]
        if missing:
            row.error(
                col["code"],
                _(
                    "Unknown village code “%(code)s”: to add a new village, fill in %(columns)s.",
                    code=code,
                    columns="、".join(missing),
                ),
            )
            return None
        if self.province is not None and code[:2] != self.province:
            row.error(
                col["code"],
                _(
                    "The village code “%(code)s” is of another province: this platform's codes "
                    "start with %(province)s.",
                    code=code,
                    province=self.province,
                ),
            )
            return None
        city = self._place(row, col["city"], self.cities, city_code(code), names["city"])
        county = self._place(row, col["county"], self.counties, code[:6], names["county"])
        township = self._place(row, col["township"], self.townships, code[:9], names["township"])
        if row.bad:
            return None
        if city is None:
            city = self.cities[city_code(code)] = City(code=city_code(code), name=names["city"])
        if county is None:
            county = self.counties[code[:6]] = County(code=code[:6], name=names["county"])
            county.city = city
        elif county.city is None:
            county.city = city
        elif county.city is not city:
            row.error(
                col["city"],
                _(
                    "The county “%(county)s” is in %(city)s.",
                    county=county.name,
                    city=county.city.name,
                ),
            )
            return None
        if township is None:
            township = self.townships[code[:9]] = Township(code=code[:9], name=names["township"])
            township.county = county
        village = Village(code=code, name=names["name"], checklist={})
        village.township = township
        village.county = county
        return village

    @staticmethod
    def _place(
        row: Row, column: Column, known: Mapping[str, Any], code: str, name: str
    ) -> Any | None:
        """The known place of this code (None when new); an error if it has another name."""
        place = known.get(code)
        if place is not None and place.name != name:
            row.error(
                column,
                _(
                    "Code %(code)s is “%(known)s”, not “%(name)s”.",
                    code=code,
                    known=place.name,
                    name=name,
                ),
            )
        return place


EXPORT_ONLY: tuple[str, ...] = ()
COL = {c.key: c for c in VILLAGE_COLUMNS}


def _status(row: Row, this_year: int) -> tuple[str, int | None]:
    """The village's status and, for one that exited poverty, its exit year."""
    status_text = cell_text(row.raw(COL["status"]))
    status = _VILLAGE_STATUS_ALIASES.get(status_text, "")
    if not status_text:
        row.error(COL["status"], _("Required."))
    elif not status:
        row.error(
            COL["status"],
            _(
                "Unknown status “%(value)s”; possible: 未脱贫 (poor), 已脱贫 (exited).",
                value=status_text,
            ),
        )
    exit_year = row.integer(COL["exit_year"], minimum=FIRST_EXIT_YEAR, maximum=this_year)
    if status == "exited" and not cell_text(row.raw(COL["exit_year"])):
        row.error(COL["exit_year"], _("A village that exited poverty needs its exit year."))
    if status == "poor" and exit_year is not None:
        row.error(COL["exit_year"], _("A village still poor has no exit year: leave it empty."))
        exit_year = None
    return status, exit_year


def _people(row: Row) -> tuple[int | None, int | None, int | None]:
    """Population, poor households and poor population, consistent with each other."""
    population = row.integer(COL["population"], minimum=0, maximum=100_000)
    households = row.integer(COL["poor_households"], minimum=0, maximum=100_000)
    poor_people = row.integer(COL["poor_population"], minimum=0, maximum=100_000)
    if population is not None and poor_people is not None and poor_people > population:
        row.error(
            COL["poor_population"],
            _(
                "The poor population %(poor)s cannot exceed the population %(population)s.",
                poor=poor_people,
                population=population,
            ),
        )
    if households is not None and poor_people is not None and households > poor_people:
        row.error(
            COL["poor_households"],
            _(
                "The poor households %(households)s cannot outnumber the poor population %(poor)s.",
                households=households,
                poor=poor_people,
            ),
        )
    return population, households, poor_people


def _position(row: Row, box: Box) -> tuple[float | None, float | None]:
    """Latitude and longitude within the province's box, both or neither."""
    lat_min, lat_max, lon_min, lon_max = box
    lat = row.decimal(COL["lat"], lat_min, lat_max)
    lon = row.decimal(COL["lon"], lon_min, lon_max)
    if (lat is None) != (lon is None) and not row.bad:
        row.error(
            COL["lon" if lon is None else "lat"],
            _("Fill in both latitude and longitude, or neither."),
        )
    return lat, lon


def _village(
    row: Row, villages: dict[str, Village], places: _Places, seen: dict[str, int]
) -> tuple[Village | None, bool]:
    """The row's village, known or new (with its places), and whether it is new."""
    code = row.text(COL["code"], 12)
    village = villages.get(code) if code else None
    new = False
    if code in seen:
        row.error(
            COL["code"],
            _("The village code “%(code)s” repeats row %(row)s.", code=code, row=seen[code]),
        )
    elif code and village is None:
        village, new = places.new_village(row, COL, code), True
    if code:
        seen.setdefault(code, row.number)
    return village, new


def check(
    session: Session,
    actor: User,
    rows: list[Row],
    report: ImportReport,
    settings: SheetSettings,
) -> list[_VillageRow]:
    """The rows as villages to add or update; problems go to the report."""
    villages = {v.code: v for v in session.scalars(select(Village))}
    places = _Places(session)
    seen: dict[str, int] = {}
    checked = []
    for row in rows:
        village, new = _village(row, villages, places, seen)
        status, exit_year = _status(row, settings.today.year)
        population, households, poor_people = _people(row)
        incidence = row.decimal(COL["incidence"], 0, 100)
        minority = row.yes_no(COL["ethnic_minority"])
        lat, lon = _position(row, settings.village_box)
        checklist = {code: row.yes_no(COL[f"checklist_{code}"]) for code in CHECKLIST_CODES}
        if not row.bad:
            assert village is not None
            assert population is not None and households is not None and poor_people is not None
            checked.append(
                _VillageRow(
                    village,
                    status,
                    exit_year,
                    population,
                    households,
                    poor_people,
                    incidence,
                    minority,
                    lat,
                    lon,
                    checklist,
                    new,
                )
            )
    return checked


def write(session: Session, actor: User, checked: list[_VillageRow], report: ImportReport) -> None:
    """Add the new villages (and places) and update the known ones."""
    for item in checked:
        v = item.village
        if item.new:
            session.add(v)
            v.poverty_incidence = (item.incidence or 0.0) / 100
            v.poverty_weight = poverty_weight(v.poverty_incidence)
        v.status = item.status
        v.exit_year = item.exit_year
        v.population = item.population
        v.poor_households = item.poor_households
        v.poor_population = item.poor_population
        # The export rounds the rate to 0.01 %: change it (and the weight) only when it moved.
        if item.incidence is not None and abs(item.incidence - 100 * v.poverty_incidence) > 0.006:
            v.poverty_incidence = item.incidence / 100
            v.poverty_weight = poverty_weight(v.poverty_incidence)
        v.ethnic_minority = item.ethnic_minority
        v.lat = item.lat
        v.lon = item.lon
        v.checklist = dict(item.checklist)


def table(session: Session, actor: User | None) -> list[list[Any]]:
    if actor is not None and actor.role not in ("admin", "auditor", "township"):
        raise ImportDenied(
            _("Only administrators, auditors and township officers can export poor villages.")
        )
    query = select(Village).order_by(Village.code)
    if actor is not None and actor.role == "township":
        query = query.where(Village.township_id == (actor.township_id or -1))
    table: list[list[Any]] = [[c.header for c in VILLAGE_COLUMNS] + list(EXPORT_ONLY)]
    for v in session.scalars(query):
        checklist = v.checklist or {}
        table.append(
            [
                v.code,
                VILLAGE_STATUS_NAMES.get(v.status, v.status),
                v.exit_year or "",
                v.population,
                v.poor_households,
                v.poor_population,
                round(100 * v.poverty_incidence, 2),
                "是" if v.ethnic_minority else "否",
                v.lat if v.lat is not None else "",
                v.lon if v.lon is not None else "",
                *("是" if checklist.get(code) else "否" for code in CHECKLIST_CODES),
                v.name,
                v.township.name,
                v.county.name,
                v.county.city.name if v.county.city is not None else "",
            ]
        )
    return table
