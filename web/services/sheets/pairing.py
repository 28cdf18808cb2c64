"""The pairing plan's sheet (定点帮扶方案, 一帮一联): one row per village and paired unit, with
the period and the village's leader (挂点领导) and first secretary (第一书记). Imported by an
administrator: each village named has its pairings and responsible people replaced by the
sheet's; villages not named keep theirs. Exported (phones included) to staff only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import Organization, User, Village
from web.services.pairing import (
    PAIRING_KINDS,
    PairingInput,
    ResponsibleInput,
    VillagePlan,
    plan_rows,
    replace_plans,
)
from web.services.sheets.cells import Column, Row, cell_text, unknown_village
from web.services.sheets.report import ImportDenied, ImportReport

PAIRING_COLUMNS = (
    Column("code", "村代码", True, "451102100201", "12 位统计代码；一村多个帮扶单位时每个单位一行"),
    Column(
        "unit",
        "帮扶单位",
        False,
        "贺州市财政局",
        "已登记的帮扶单位或政府部门全称；不填即暂无",
    ),
    Column("starts_on", "帮扶起始日期", False, "2026-01-01", "填了帮扶单位则必填，如 2026-01-01"),
    Column("ends_on", "帮扶结束日期", False, "2027-12-31", "可不填（长期）；不早于起始日期"),
    Column("leader", "挂点领导", False, "张某某", "姓名"),
    Column("leader_post", "挂点领导职务", False, "市财政局副局长", "如 市财政局副局长"),
    Column("leader_unit", "挂点领导单位", False, "贺州市财政局", ""),
    Column("leader_phone", "挂点领导电话", False, "", "仅工作人员可见；可不填"),
    Column("secretary", "第一书记", False, "李某某", "姓名"),
    Column("secretary_post", "第一书记职务", False, "驻村第一书记", ""),
    Column("secretary_unit", "第一书记派出单位", False, "贺州市财政局", ""),
    Column("secretary_phone", "第一书记电话", False, "", "仅工作人员可见；可不填"),
)
EXPORT_ONLY = ("村名", "县区")  # an import skips them
COL = {c.key: c for c in PAIRING_COLUMNS}
_PHONE = re.compile(r"^[0-9+\-() ]{5,20}$")
_ROLES = (("leader", "leader_post", "leader_unit", "leader_phone"),
          ("secretary", "secretary_post", "secretary_unit", "secretary_phone"))  # fmt: skip


@dataclass
class _Seen:
    """What earlier rows of the file said, to name repeats."""

    units: dict[tuple[str, int], int]
    people: dict[tuple[str, str, str], int]


def _period(row: Row, has_unit: bool) -> tuple[date | None, date | None]:
    starts = row.day(COL["starts_on"])
    ends = row.day(COL["ends_on"])
    if has_unit and starts is None and "starts_on" not in row.refused:
        row.error(COL["starts_on"], _("A paired unit needs the day its pairing starts."))
    if starts is not None and ends is not None and ends < starts:
        row.error(
            COL["ends_on"],
            _(
                "The pairing ends (%(ends)s) before it starts (%(starts)s).",
                ends=ends.isoformat(),
                starts=starts.isoformat(),
            ),
        )
    return starts, ends


def _unit(row: Row, units: dict[str, Organization]) -> Organization | None:
    name = row.text(COL["unit"], 128)
    if not name:
        return None
    unit = units.get(name)
    if unit is None:
        row.error(
            COL["unit"],
            _(
                "“%(name)s” is not a registered paired unit or government body: register it "
                "first, with this exact name.",
                name=name,
            ),
        )
    return unit


def _people(row: Row, code: str, seen: _Seen) -> list[ResponsibleInput]:
    found = []
    for name_key, post_key, unit_key, phone_key in _ROLES:
        name = row.text(COL[name_key], 32)
        post = row.text(COL[post_key], 64)
        unit = row.text(COL[unit_key], 128)
        phone = row.text(COL[phone_key], 20)
        if phone and not _PHONE.match(phone):
            row.error(COL[phone_key], _("Not a phone number: “%(value)s”.", value=phone))
        if not name:
            if post or unit or phone:
                row.error(COL[name_key], _("Fill in the name of the person this row describes."))
            continue
        key = (code, name_key, name)
        if key in seen.people:
            continue  # the same person on the village's next unit row
        seen.people[key] = row.number
        found.append(ResponsibleInput(name_key, name, unit, post, phone or None))
    return found


def check(
    session: Session, actor: User, rows: list[Row], report: ImportReport, settings: Any
) -> list[VillagePlan]:
    """The rows as one plan per village; problems go to the report."""
    villages = {v.code: v for v in session.scalars(select(Village))}
    units = {
        o.name: o
        for o in session.scalars(select(Organization).where(Organization.kind.in_(PAIRING_KINDS)))
    }
    plans: dict[str, VillagePlan] = {}
    seen = _Seen({}, {})
    for row in rows:
        code = row.text(COL["code"], 12)
        village = villages.get(code)
        if code and village is None:
            row.error(COL["code"], unknown_village(code))
        unit = _unit(row, units)
        starts, ends = _period(row, bool(cell_text(row.raw(COL["unit"]))))
        people = _people(row, code, seen)
        if unit is not None and village is not None:
            first = seen.units.setdefault((code, unit.id), row.number)
            if first != row.number:
                row.error(
                    COL["unit"],
                    _(
                        "“%(unit)s” is paired with this village on row %(row)s already.",
                        unit=unit.name,
                        row=first,
                    ),
                )
        if row.bad or village is None:
            continue
        plan = plans.setdefault(code, VillagePlan(village))
        if unit is not None and starts is not None:
            plan.pairings.append(PairingInput(unit, starts, ends))
        plan.responsibles.extend(people)
    return list(plans.values())


def write(session: Session, actor: User, checked: list[VillagePlan], report: ImportReport) -> None:
    """Replace the named villages' pairings and responsible people."""
    replace_plans(session, checked)


def table(session: Session, actor: User | None) -> list[list[Any]]:
    """The whole plan, one row per village and unit (a village nobody is paired with: one row
    with its people only); phones included, so staff only."""
    if actor is None or actor.role not in ("admin", "auditor"):
        raise ImportDenied(_("Only administrators and auditors can export the pairing plan."))
    out: list[list[Any]] = [[c.header for c in PAIRING_COLUMNS] + list(EXPORT_ONLY)]
    for village, pairings, people in plan_rows(session):
        leaders = [p for p in people if p.role == "leader"]
        secretaries = [p for p in people if p.role == "secretary"]
        lines = max(len(pairings), len(leaders), len(secretaries), 1)
        for i in range(lines):
            pairing = pairings[i] if i < len(pairings) else None
            leader = leaders[i] if i < len(leaders) else None
            secretary = secretaries[i] if i < len(secretaries) else None
            out.append(
                [
                    village.code,
                    pairing.organization.name if pairing else "",
                    pairing.starts_on if pairing else "",
                    (pairing.ends_on or "") if pairing else "",
                    *(_person(leader)),
                    *(_person(secretary)),
                    village.name,
                    village.county.name,
                ]
            )
    return out


def _person(person: Any) -> list[Any]:
    if person is None:
        return ["", "", "", ""]
    return [person.name, person.post, person.unit, person.phone or ""]
