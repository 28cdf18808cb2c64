"""The needs sheet: a village's needs and its households' micro-wishes, checked by the need rules
(web.services.inputs) and the kind rules (web.services.kinds), written through the needs
service; and exported for the public (no household) or for staff."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from matcher.categories import BY_CODE
from matcher.kinds import Catalogue
from seeds.checklist import CHECKLIST_ITEMS
from web.models import Household, Need, User, Village
from web.services.inputs import DEFAULT_URGENCY, NeedFields, whole
from web.services.kinds import KindError, NeedKind, load_catalogue, need_kind
from web.services.needs import WISH_VALUE_CAP, NeedInput, add_need
from web.services.sheets.cells import Column, Row, cell_text, unknown_village
from web.services.sheets.kind_cells import (
    CODE_JOIN,
    CODES_NOTE,
    KIND_NOTE,
    UNIT_NOTE,
    RecognisedKind,
    kind_names,
)
from web.services.sheets.offers import STATUS_NAMES
from web.services.sheets.report import ImportDenied, ImportReport
from web.services.sheets.settings import SheetSettings

_MASKED_NAME = re.compile(r"^[^*\s]{1,4}\*{1,4}$")


NEED_COLUMNS = (
    Column("village_code", "村代码", False, "451102100201", "贫困村的 12 位代码；村委会不填为本村"),
    Column("category", "类别", True, "物资", "资金、物资、技能培训、就业岗位等"),
    Column("item", "品类", False, "棉被", f"需要的具体品类，只填一个：{KIND_NOTE}"),
    Column("item_code", "品类编码", False, "", CODES_NOTE, template=False),
    Column(
        "accepts",
        "替代品类",
        False,
        "冬衣",
        "没有所需品类时也可接受的同类别品类，可不填；写法同品类，几个用 | 或 、 分隔",
    ),
    Column("accept_codes", "替代品类编码", False, "", CODES_NOTE, template=False),
    Column("title", "标题", True, "过冬棉被", "最多 200 个字"),
    Column("description", "说明", False, "", "可不填"),
    Column("quantity", "数量", True, 30, "大于 0 的整数，按品类的单位计"),
    Column("unit", "单位", False, "床", UNIT_NOTE),
    Column("urgency", "紧急程度", False, 3, "1 到 5 的整数，5 最急；不填为 3"),
    Column("deadline", "截止日期", False, date(2026, 12, 20), "日期，可不填"),
    Column("checklist_item", "十一有一低于", False, "", "这项需求对应的脱贫指标，可不填"),
    Column("household_key", "户编号", False, "", "填写即为微心愿：本村贫困户的编号"),
    Column("household_name", "户名", False, "", "新户必填，遮蔽后的姓名，如 黄**"),
    Column("household_people", "户人口", False, "", "新户的人口数，不填为 1"),
    Column(
        "estimated_value", "估计价值（元）", False, "", f"微心愿必填：1 到 {WISH_VALUE_CAP} 的整数"
    ),
    Column("evidence", "核实说明", False, "", "微心愿必填：谁在何时如何核实"),
)


VERIFICATION_NAMES = {"pending": "待核实", "verified": "已核实", "rejected": "已驳回"}


@dataclass
class _NeedRow:
    village: Village
    household: Household | None
    data: NeedInput


def household_key(household: Household) -> str:
    """The key a sheet names a household by: its own key, or ID<n> for one made on a page."""
    return household.key or f"ID{household.id}"


class _Households:
    """Finds households by sheet key and keeps the new ones a file introduces."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.known = {
            h.key: h for h in session.scalars(select(Household).where(Household.key.is_not(None)))
        }
        self.new: dict[str, Household] = {}

    def find(self, key: str) -> Household | None:
        if key in self.known or key in self.new:
            return self.known.get(key) or self.new[key]
        by_id = re.fullmatch(r"ID(\d{1,9})", key)
        return self.session.get(Household, int(by_id[1])) if by_id else None


EXPORT_ONLY = ("编号", "类型", "已分配", "核实状态", "状态")  # an import skips them
CHECKLIST = {code: code for code, _zh, _en in CHECKLIST_ITEMS} | {
    zh: code for code, zh, _en in CHECKLIST_ITEMS
}


def _village(
    row: Row, col: dict[str, Column], villages: dict[str, Village], own: Village | None
) -> Village | None:
    """The row's village: a committee's own (blank or its code), any for an administrator."""
    code = cell_text(row.raw(col["village_code"]))
    village = villages.get(code) if code else own
    if not code and own is None:
        row.error(col["village_code"], _("The village code is required."))
    elif village is None:
        row.error(col["village_code"], unknown_village(code))
    elif own is not None and village.id != own.id:
        row.error(
            col["village_code"],
            _(
                "Only needs of your own village (%(name)s %(code)s) can be imported; "
                "this is “%(value)s”.",
                name=own.name,
                code=own.code,
                value=code,
            ),
        )
        return None
    return village


def _checklist_item(row: Row, col: dict[str, Column]) -> str | None:
    """The exit-checklist indicator the need closes, by code or Chinese name."""
    item_text = cell_text(row.raw(col["checklist_item"]))
    item = CHECKLIST.get(item_text) if item_text else None
    if item_text and item is None:
        names = "、".join(zh for _code, zh, _en in CHECKLIST_ITEMS)
        message = _(
            "Unknown indicator “%(value)s”; possible: %(names)s.", value=item_text, names=names
        )
        row.error(col["checklist_item"], message)
    return item


def _fields(
    row: Row, col: dict[str, Column], category: str, wish: bool, today: date
) -> NeedFields:
    """The row's need fields, checked by the need rules (web.services.inputs)."""
    fields = NeedFields(
        category=category or None, title=cell_text(row.raw(col["title"])),
        description=cell_text(row.raw(col["description"])),
        quantity=row.raw(col["quantity"]), urgency=row.raw(col["urgency"]),
        deadline=row.day(col["deadline"]), estimated_value=row.raw(col["estimated_value"]),
        household_people=row.raw(col["household_people"]),
        evidence=cell_text(row.raw(col["evidence"])), wish=wish, today=today,
    )  # fmt: skip
    row.ruled(fields.problems(), col)
    return fields


def _input(
    fields: NeedFields, kind: NeedKind, item: str | None, household: Household | None
) -> NeedInput:  # fmt: skip
    """The needs service's input from a valid row."""
    value = whole(fields.estimated_value) if fields.wish else None
    return NeedInput(
        category=fields.category, title=fields.title, description=fields.description,
        quantity=whole(fields.quantity) or 0,
        urgency=whole(fields.urgency) or DEFAULT_URGENCY, deadline=fields.deadline,
        checklist_item=item, household_id=household.id if household is not None else None,
        evidence=(fields.evidence or "").strip(),
        estimated_value=float(value) if value is not None else None,
        item=kind.item, accepts=kind.accepts, item_inferred=kind.inferred,
    )  # fmt: skip


def check(
    session: Session, actor: User, rows: list[Row], report: ImportReport, settings: SheetSettings
) -> list[_NeedRow]:
    """The rows as needs and micro-wishes; problems go to the report."""
    col = {c.key: c for c in NEED_COLUMNS}
    catalogue = load_catalogue(session)
    villages = {v.code: v for v in session.scalars(select(Village))}
    own = actor.village if actor.role == "village" else None
    households = _Households(session)
    checked = []
    for row in rows:
        village = _village(row, col, villages, own)
        category = row.category(col["category"])
        title = cell_text(row.raw(col["title"]))
        description = cell_text(row.raw(col["description"]))
        kind = _need_kind(row, col, catalogue, category, title, description, report)
        item = _checklist_item(row, col)
        key = row.text(col["household_key"], 64) or None
        fields = _fields(row, col, category, key is not None, settings.today)
        household = None
        if key is not None:
            household = _check_household(row, col, key, village, households)
        if not row.bad:
            assert village is not None and kind is not None
            data = _input(fields, kind, item, household)
            checked.append(_NeedRow(village, household, data))
    return checked


def _need_kind(
    row: Row,
    col: dict[str, Column],
    catalogue: Catalogue,
    category: str,
    title: str,
    description: str,
    report: ImportReport,
) -> NeedKind | None:
    """A need row's kind and alternatives by the kind rules: named, or recognised from the title."""
    named = row.kinds(col["item"], col["item_code"], catalogue, category)
    accepts = row.kinds(col["accepts"], col["accept_codes"], catalogue, category)
    if not category or named is None or accepts is None or not (title or named):
        return None  # already reported: the rules need the category and something to go on
    column = row.kind_column(col["item"], col["item_code"])
    if len(named) > 1:
        row.error(
            column,
            _(
                "A need names one kind; put the others it would also take under “%(column)s”.",
                column=col["accepts"].header,
            ),
        )
        return None
    try:
        kind = need_kind(
            catalogue, category, named[0] if named else None, accepts,
            title=title, description=description,
        )  # fmt: skip
    except KindError as error:
        if error.field == "accepts":
            row.error(row.kind_column(col["accepts"], col["accept_codes"]), error.message)
        elif named:
            row.error(column, error.message)
        else:
            row.error(
                column,
                _(
                    "The kind cannot be told from the title “%(title)s”: fill in “%(column)s” "
                    "with a kind's Chinese name or code.",
                    title=title,
                    column=column.header,
                ),
            )
        return None
    if kind.inferred:
        report.recognised.append(RecognisedKind(row.number, title, catalogue[kind.item]))
    unit = catalogue[kind.item].unit_zh
    row.unit(col["unit"], catalogue, unit, kind_names(catalogue, [kind.item]))
    return kind


def _check_household(
    row: Row, col: dict[str, Column], key: str, village: Village | None, households: _Households
) -> Household | None:
    """A micro-wish's household: one of the village's own, or a new one with a masked name."""
    known = households.find(key)
    if known is not None:
        if village is not None and known.village_id != village.id:
            row.error(
                col["household_key"],
                _("Household “%(key)s” is not a poor household of this village.", key=key),
            )
            return None
        return known
    if re.fullmatch(r"ID\d+", key):
        row.error(
            col["household_key"], _("There is no poor household with the key “%(key)s”.", key=key)
        )
        return None
    name = cell_text(row.raw(col["household_name"]))
    if not name:
        row.error(
            col["household_name"],
            _("Household “%(key)s” is new: fill in its masked name, such as 黄**.", key=key),
        )
        return None
    if not _MASKED_NAME.match(name):
        row.error(
            col["household_name"],
            _(
                "The household name must be masked, keeping only the surname, such as 黄**; "
                "this is “%(name)s”.",
                name=name,
            ),
        )
        return None
    people = whole(row.raw(col["household_people"])) or 1
    if village is None or row.bad:
        return None
    household = Household(key=key, village_id=village.id, display_name=name, people=people)
    households.new[key] = household
    return household


def write(session: Session, actor: User, checked: list[_NeedRow], report: ImportReport) -> None:
    """Add the needs through the needs service, with the households the file introduces."""
    new = [item.household for item in checked if item.household and item.household.id is None]
    for item in checked:
        if item.household is not None and item.household.id is None:
            session.add(item.household)
        add_need(session, item.village.id, item.data, household=item.household)
    report.households_created = len({id(household) for household in new})


def table(session: Session, actor: User | None) -> list[list[Any]]:
    query = select(Need).join(Village, Village.id == Need.village_id).order_by(Need.id)
    # Household key and masked name: only for the village's own committee and administrators.
    shows_household = actor is not None and actor.role in ("village", "admin")
    # Wish titles and evidence may describe the household: staff only.
    shows_details = actor is not None
    if actor is not None and actor.role == "village":
        query = query.where(Need.village_id == (actor.village_id or -1))
    elif actor is not None and actor.role == "township":
        query = query.where(Village.township_id == (actor.township_id or -1))
    elif actor is not None and actor.role not in ("admin", "auditor"):
        raise ImportDenied(_("This account cannot export needs."))
    if actor is None:
        # The public sees what the townships verified, never a household.
        query = query.where(Need.verification == "verified")
    catalogue = load_catalogue(session)
    table: list[list[Any]] = [[c.header for c in NEED_COLUMNS] + list(EXPORT_ONLY)]
    checklist = {code: zh for code, zh, _ in CHECKLIST_ITEMS}
    for n in session.scalars(query.options(selectinload(Need.accepts))):
        category = BY_CODE.get(n.category_code)
        household = n.household if (shows_household and n.household is not None) else None
        wish = n.household_id is not None
        # What a wish is for may describe the household (a hearing aid): staff only, as its title.
        shown = shows_details or not wish
        item = n.item_code if shown else None
        accepts = n.accept_codes if shown else []
        kind = catalogue.get(item) if item else None
        cells = {
            "village_code": n.village.code,
            "category": category.name_zh if category else n.category_code,
            "item": kind_names(catalogue, [item]) if item else "",
            "item_code": item or "",
            "accepts": kind_names(catalogue, accepts),
            "accept_codes": CODE_JOIN.join(accepts),
            "title": n.title if shown else "微心愿",
            "description": n.description if shown else "",
            "quantity": n.quantity,
            "unit": kind.unit_zh if kind else "",
            "urgency": n.urgency,
            "deadline": n.deadline or "",
            "checklist_item": checklist.get(n.checklist_item or "", n.checklist_item or ""),
            "household_key": household_key(household) if household else "",
            "household_name": household.display_name if household else "",
            "household_people": household.people if household else "",
            "estimated_value": (
                int(n.estimated_value) if (wish and n.estimated_value is not None) else ""
            ),
            "evidence": n.evidence if shows_details else "",
        }
        table.append(
            [cells[c.key] for c in NEED_COLUMNS]
            + [
                n.id,
                "微心愿" if wish else "村需求",
                n.allocated,
                VERIFICATION_NAMES.get(n.verification, n.verification),
                STATUS_NAMES.get(n.status, n.status),
            ]
        )
    return table
