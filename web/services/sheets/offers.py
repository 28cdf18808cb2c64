"""The offers sheet: a vetted donor's offers, checked by the offer rules (web.services.inputs)
and the kind rules (web.services.kinds), written through the offers service; and exported."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from matcher.categories import BY_CODE
from matcher.kinds import Catalogue
from web.models import County, Offer, Organization, User
from web.models.accounts import shown_anonymously
from web.services.inputs import OfferFields, decimal, whole
from web.services.kinds import KindError, OfferKinds, load_catalogue, offer_kinds
from web.services.offers import OfferInput, add_offer
from web.services.sheets.cells import LIST_SPLIT, Column, Row, cell_text
from web.services.sheets.kind_cells import (
    CODE_JOIN,
    CODES_NOTE,
    KIND_NOTE,
    UNIT_NOTE,
    RecognisedKind,
    kind_names,
    unit_of_items,
)
from web.services.sheets.report import ImportDenied, ImportReport
from web.services.sheets.settings import SheetSettings

OFFER_COLUMNS = (
    Column("organization", "机构", False, "", "可不填；填写时必须是本机构的名称"),
    Column("category", "类别", True, "物资", "资金、物资、技能培训、就业岗位等"),
    Column("items", "品类", False, "棉被", f"捐赠的具体品类：{KIND_NOTE}；几个品类用 | 或 、 分隔"),
    Column("item_codes", "品类编码", False, "", CODES_NOTE, template=False),
    Column(
        "general", "不限品类", False, "否", "是或否；“是”表示本类别的任何需求都可接受，此时不填品类"
    ),
    Column("title", "标题", True, "冬季棉被", "最多 200 个字"),
    Column("description", "说明", False, "新棉被，每床 4 斤", "可不填"),
    Column("quantity", "数量", True, 200, "大于 0 的整数，按品类的单位计"),
    Column("unit", "单位", False, "床", UNIT_NOTE),
    Column("min_lot", "最小批量", False, 20, "大于 0 的整数，不大于数量；不填为 1"),
    Column("max_villages", "最多村数", False, "", "最多分给几个村；不填为不限"),
    Column("indivisible", "不可拆分", False, "否", "是或否；“是”表示整批只给一个村"),
    Column("counties", "可去县区", False, "八步区、昭平县", "县区名称，用顿号分隔；不填为全市"),
    Column("dispatch_lat", "发货点纬度", False, "", "18 到 30 之间的小数，可不填"),
    Column("dispatch_lon", "发货点经度", False, "", "100 到 120 之间的小数，可不填"),
    Column("valid_from", "有效期起", True, date(2026, 11, 23), "日期，如 2026-11-23"),
    Column("valid_until", "有效期止", True, date(2026, 12, 31), "日期，不早于有效期起"),
)


STATUS_NAMES = {"open": "开放", "withdrawn": "已撤回", "closed": "已结束"}


EXPORT_ONLY = ("编号", "已分配", "状态")  # columns an export adds; an import skips them


def _organization(row: Row, col: dict[str, Column], own_name: str) -> None:
    """The organization cell: blank, or the importer's own organization."""
    organization = cell_text(row.raw(col["organization"]))
    if organization and organization != own_name:
        row.error(
            col["organization"],
            _(
                "Only offers of your own organization (%(own)s) can be imported; "
                "this is “%(value)s”.",
                own=own_name,
                value=organization,
            ),
        )


def _counties(row: Row, col: dict[str, Column], counties: dict[str, str]) -> tuple[str, ...]:
    """The county codes the cell names (by name or code)."""
    names = "、".join(sorted(name for name, code in counties.items() if name != code))
    codes = []
    for name in LIST_SPLIT.split(cell_text(row.raw(col["counties"]))):
        if not name:
            continue
        if name not in counties:
            message = _("Unknown county “%(value)s”; possible: %(names)s.", value=name, names=names)
            row.error(col["counties"], message)
        else:
            codes.append(counties[name])
    return tuple(dict.fromkeys(codes))


def _fields(row: Row, col: dict[str, Column], category: str, today: date) -> OfferFields:
    """The row's offer fields, checked by the offer rules (web.services.inputs)."""
    fields = OfferFields(
        category=category or None, title=cell_text(row.raw(col["title"])),
        description=cell_text(row.raw(col["description"])),
        quantity=row.raw(col["quantity"]), min_lot=row.raw(col["min_lot"]),
        max_villages=row.raw(col["max_villages"]),
        dispatch_lat=row.raw(col["dispatch_lat"]), dispatch_lon=row.raw(col["dispatch_lon"]),
        valid_from=row.day(col["valid_from"], ruled=True),
        valid_until=row.day(col["valid_until"], ruled=True), today=today,
    )  # fmt: skip
    row.ruled(fields.problems(), col)
    return fields


def _input(fields: OfferFields, counties: tuple[str, ...], indivisible: bool, kinds: OfferKinds
) -> OfferInput:  # fmt: skip
    """The offers service's input from a valid row."""
    return OfferInput(
        category=fields.category, title=fields.title, description=fields.description,
        quantity=whole(fields.quantity) or 0, min_lot=whole(fields.min_lot) or 1,
        max_villages=whole(fields.max_villages), indivisible=indivisible,
        county_codes=counties, dispatch_lat=decimal(fields.dispatch_lat),
        dispatch_lon=decimal(fields.dispatch_lon), valid_from=fields.valid_from,
        valid_until=fields.valid_until, items=kinds.items, general=kinds.general,
        items_inferred=kinds.inferred,
    )  # fmt: skip


def check(
    session: Session, actor: User, rows: list[Row], report: ImportReport, settings: SheetSettings
) -> list[OfferInput]:
    """The rows as offers of the donor's organization; problems go to the report."""
    col = {c.key: c for c in OFFER_COLUMNS}
    catalogue = load_catalogue(session)
    assert actor.organization is not None
    counties = {c.name: c.code for c in session.scalars(select(County))}
    counties |= {code: code for code in counties.values()}
    checked = []
    for row in rows:
        _organization(row, col, actor.organization.name)
        category = row.category(col["category"])
        title = cell_text(row.raw(col["title"]))
        description = cell_text(row.raw(col["description"]))
        kinds = _offer_kinds(row, col, catalogue, category, title, description, report)
        indivisible = row.yes_no(col["indivisible"])
        codes = _counties(row, col, counties)
        fields = _fields(row, col, category, settings.today)
        if not row.bad:
            assert kinds is not None
            checked.append(_input(fields, codes, indivisible, kinds))
    return checked


def _offer_kinds(
    row: Row,
    col: dict[str, Column],
    catalogue: Catalogue,
    category: str,
    title: str,
    description: str,
    report: ImportReport,
) -> OfferKinds | None:
    """An offer row's kinds by the kind rules: named, general, or recognised from the title."""
    general = row.yes_no(col["general"])
    named = row.kinds(col["items"], col["item_codes"], catalogue, category)
    if not category or named is None or not (title or named or general):
        return None  # already reported: the rules need the category and something to go on
    column = row.kind_column(col["items"], col["item_codes"])
    try:
        kinds = offer_kinds(
            catalogue, category, named, general=general, title=title, description=description
        )
    except KindError as error:
        if named or general:
            row.error(column, error.message)
        else:
            row.error(
                column,
                _(
                    "The kinds cannot be told from the title “%(title)s”: fill in “%(column)s” "
                    "with the Chinese names or codes of the kinds it gives, or “%(general)s” "
                    "with 是 for an offer any need of its category may receive.",
                    title=title,
                    column=column.header,
                    general=col["general"].header,
                ),
            )
        return None
    if kinds.inferred:
        report.recognised.append(RecognisedKind(row.number, title, catalogue[kinds.items[0]]))
    if kinds.items:
        unit = unit_of_items(catalogue, kinds.items, category)
        row.unit(col["unit"], catalogue, unit, kind_names(catalogue, kinds.items))
    return kinds


def write(session: Session, actor: User, checked: list[OfferInput], report: ImportReport) -> None:
    """Add the offers through the offers service (the caller commits)."""
    assert actor.organization is not None
    for data in checked:
        add_offer(session, actor.organization, data)


def _public_donor(organization: Organization) -> str:
    """An individual donor, or one that chose to, stays anonymous in public (爱心人士)."""
    anonymous = shown_anonymously(organization.kind, organization.public_anonymous)
    return "爱心人士" if anonymous else organization.name


def table(session: Session, actor: User | None) -> list[list[Any]]:
    """The offers a donor's organization, staff or the public may see."""
    query = select(Offer).order_by(Offer.id)
    if actor is not None and actor.role == "donor":
        query = query.where(Offer.organization_id == (actor.organization_id or -1))
    elif actor is not None and actor.role not in ("admin", "auditor", "township"):
        raise ImportDenied(_("This account cannot export offers."))
    catalogue = load_catalogue(session)
    table: list[list[Any]] = [[c.header for c in OFFER_COLUMNS] + list(EXPORT_ONLY)]
    for o in session.scalars(query.options(selectinload(Offer.items))):
        category = BY_CODE.get(o.category_code)
        organization = o.organization.name if actor is not None else _public_donor(o.organization)
        items = o.item_codes
        cells = {
            "organization": organization,
            "category": category.name_zh if category else o.category_code,
            "items": kind_names(catalogue, items),
            "item_codes": CODE_JOIN.join(items),
            "general": "是" if o.general else "否",
            "title": o.title,
            "description": o.description,
            "quantity": o.quantity,
            "unit": unit_of_items(catalogue, items, o.category_code) if o.classified else "",
            "min_lot": o.min_lot,
            "max_villages": o.max_villages or "",
            "indivisible": "是" if o.indivisible else "否",
            "counties": "、".join(c.name for c in o.counties),
            "dispatch_lat": o.dispatch_lat if o.dispatch_lat is not None else "",
            "dispatch_lon": o.dispatch_lon if o.dispatch_lon is not None else "",
            "valid_from": o.valid_from,
            "valid_until": o.valid_until,
        }
        table.append(
            [cells[c.key] for c in OFFER_COLUMNS]
            + [o.id, o.allocated, STATUS_NAMES.get(o.status, o.status)]
        )
    return table
