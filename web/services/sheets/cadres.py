"""The cadres of households' sheet (干部包户): which cadre looks after which poor household.
A household's data: imported and exported by administrators, and by a village committee for
its own households only; never public."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from web.models import Household, HouseholdCadre, User
from web.services.pairing import set_cadre
from web.services.sheets.cells import Column, Row
from web.services.sheets.needs import household_key
from web.services.sheets.report import ImportDenied, ImportReport

CADRE_COLUMNS = (
    Column("household_key", "户编号", True, "HH-0001", "本村贫困户的编号（见贫困户页面或需求表）"),
    Column("name", "包户干部", True, "王某某", "干部姓名"),
    Column("unit", "干部单位", False, "贺州市财政局", ""),
    Column("post", "干部职务", False, "科员", ""),
    Column("phone", "干部电话", False, "", "可不填"),
)
EXPORT_ONLY = ("户名", "村代码")
COL = {c.key: c for c in CADRE_COLUMNS}
_PHONE = re.compile(r"^[0-9+\-() ]{5,20}$")


@dataclass(frozen=True)
class _CadreRow:
    household: Household
    name: str
    unit: str
    post: str
    phone: str | None


def _household(session: Session, actor: User, key: str, row: Row) -> Household | None:
    by_id = re.fullmatch(r"ID(\d{1,9})", key)
    if by_id:
        found = session.get(Household, int(by_id[1]))
    else:
        found = session.scalar(select(Household).where(Household.key == key))
    # A committee's sheet names its own households only; another village's is "not found".
    if found is None or (actor.role == "village" and found.village_id != actor.village_id):
        row.error(
            COL["household_key"],
            _("There is no poor household with the key “%(key)s” in your villages.", key=key),
        )
        return None
    return found


def check(
    session: Session, actor: User, rows: list[Row], report: ImportReport, settings: Any
) -> list[_CadreRow]:
    checked = []
    seen: dict[str, int] = {}
    for row in rows:
        key = row.text(COL["household_key"], 64)
        household = _household(session, actor, key, row) if key else None
        if key in seen:
            row.error(
                COL["household_key"],
                _("Household “%(key)s” repeats row %(row)s.", key=key, row=seen[key]),
            )
        seen.setdefault(key, row.number)
        name = row.text(COL["name"], 32)
        unit = row.text(COL["unit"], 128)
        post = row.text(COL["post"], 64)
        phone = row.text(COL["phone"], 20)
        if phone and not _PHONE.match(phone):
            row.error(COL["phone"], _("Not a phone number: “%(value)s”.", value=phone))
        if not row.bad and household is not None:
            checked.append(_CadreRow(household, name, unit, post, phone or None))
    return checked


def write(session: Session, actor: User, checked: list[_CadreRow], report: ImportReport) -> None:
    for item in checked:
        set_cadre(session, item.household, item.name, item.unit, item.post, item.phone)


def table(session: Session, actor: User | None) -> list[list[Any]]:
    """The cadres of households: administrators all, a committee its own village's."""
    if actor is None or actor.role not in ("admin", "village"):
        raise ImportDenied(
            _("Only administrators and village committees can export the cadres of households.")
        )
    query = (
        select(HouseholdCadre)
        .join(Household, HouseholdCadre.household_id == Household.id)
        .options(joinedload(HouseholdCadre.household).joinedload(Household.village))
        .order_by(Household.village_id, Household.id)
    )
    if actor.role == "village":
        query = query.where(Household.village_id == (actor.village_id or -1))
    out: list[list[Any]] = [[c.header for c in CADRE_COLUMNS] + list(EXPORT_ONLY)]
    for cadre in session.scalars(query):
        household = cadre.household
        out.append(
            [
                household_key(household),
                cadre.cadre_name,
                cadre.cadre_unit,
                cadre.cadre_post,
                cadre.phone or "",
                household.display_name,
                household.village.code,
            ]
        )
    return out
