"""Importing accounts, offers and needs from XLSX or CSV, all or nothing; exporting them.

An import reads the whole file, checks every row and every column, and writes nothing unless
every row is valid; the report names each problem by row number (as the spreadsheet numbers
it, the header being row 1), column header and what is wrong. The headers and the values a
cell may hold stay Chinese, since the sheets are the ones county and village cadres already
keep; the messages are in the user's language (Chinese unless they chose English), and in the
app's default language, Chinese, outside a request (the `duijie import` command).

Who may import what: an administrator imports staff accounts (village committees, township
officers, auditors) and needs of any poor village; a vetted donor imports offers for its own
organization; a village committee imports needs and households' micro-wishes for its own
village only.

Exports come in two audiences: public (no actor) never holds a household's name, key, phone
or the committee's evidence note; a village committee's export of its own needs shows each
micro-wish's household key and masked display name, never a phone.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask import current_app, has_app_context
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from matcher.categories import BY_CODE, CATEGORIES
from matcher.kinds import Catalogue
from seeds.catalogue import hezhou_catalogue
from seeds.checklist import CHECKLIST_CODES, CHECKLIST_ITEMS
from seeds.demo_villages import poverty_weight
from web.models import (
    City,
    County,
    Household,
    Need,
    Offer,
    Organization,
    Township,
    User,
    Village,
    city_code,
)
from web.security import spreadsheet_rows, spreadsheet_value
from web.services import passwords
from web.services.accounts import (
    AccountError,
    create_user,
    normalise_email,
)
from web.services.import_kinds import (
    CATALOGUE_PAGE,
    CATALOGUE_SHEET,
    CODE_JOIN,
    KindCellError,
    RecognisedKind,
    catalogue_table,
    kind_codes,
    kind_names,
    same_unit,
    unit_of_items,
)
from web.services.inputs import DEFAULT_URGENCY, NeedFields, OfferFields, decimal, whole
from web.services.kinds import (
    KindError,
    NeedKind,
    OfferKinds,
    load_catalogue,
    need_kind,
    offer_kinds,
)
from web.services.ledger import LedgerFilter, export_table, ledger_rows
from web.services.needs import (
    WISH_VALUE_CAP,
    NeedInput,
    add_need,
)
from web.services.offers import OfferInput, add_offer
from web.services.organizations import STAFF_ROLES, can_post_offers
from web.services.titles import MAX_TITLE, title_message, title_problem
from web.services.translate import _

IMPORT_KINDS = ("accounts", "offers", "needs", "villages")
EXPORT_KINDS = ("offers", "needs", "accounts", "ledger", "villages")
KIND_NAMES = {
    "accounts": "账号",
    "offers": "帮扶资源",
    "needs": "需求和微心愿",
    "ledger": "台账",
    "villages": "贫困村",
}
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
# Lines read from a sheet at most, blank ones included, before giving up on it.
MAX_SHEET_LINES = 2 * MAX_IMPORT_ROWS
# Whole numbers above this are refused (the database keeps 32-bit integers).
MAX_INTEGER = 1_000_000_000
# An XLSX is a zip: refuse one that would unpack to more than this (a "zip bomb").
MAX_UNPACKED_BYTES = 64 * 1024 * 1024
# Cells a sheet may hold (and shared strings a workbook may have), counted in a fast streaming
# scan of the unpacked XML before openpyxl reads anything: a 119 KB sheet of 10,000 x 160
# cells held a worker for 40 s before "more than 5000 rows" (issue 24); now it is refused in
# well under a second. The import templates have fewer than 30 columns.
MAX_SHEET_CELLS = MAX_IMPORT_ROWS * 30
# An element's local name, with or without a namespace prefix (<c ...>, <x:row>, <si>).
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(c|row|si)[\s>/]")
_DIMENSION = re.compile(
    rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref="[A-Z]*\d*:?([A-Za-z]{1,3})(\d{1,9})"'
)
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

ROLE_NAMES = {"village": "村委会", "township": "乡镇干部", "auditor": "审计员"}
_ROLE_ALIASES = {
    **{name: role for role, name in ROLE_NAMES.items()},
    **{role: role for role in ROLE_NAMES},
    "村两委": "village",
    "乡镇": "township",
    "乡镇扶贫工作站": "township",
    "审计": "auditor",
}
_YES = {"是", "y", "yes", "true", "1", "√"}
_NO = {"否", "n", "no", "false", "0", ""}
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_MASKED_NAME = re.compile(r"^[^*\s]{1,4}\*{1,4}$")
_LIST_SPLIT = re.compile(r"[、,，;；\s]+")


KIND_NOTE = (
    f"填品类的中文名（如 茶苗）或编码（如 goods.seedling.tea），模板的「{CATALOGUE_SHEET}」"
    f"工作表列出全部品类，管理员可在 {CATALOGUE_PAGE} 查看；不填则按标题识别，识别不出时须填写"
)
CODES_NOTE = "导出时附带的品类编码，可不填；与中文名同时填写时须一致"
UNIT_NOTE = "可不填：数量按品类的单位计（见品类表）；填写时须与品类的单位一致"
KINDS_GUIDE = (
    "品类可填中文名（如 茶苗、化肥）或编码（如 goods.seedling.tea）。"
    f"全部品类及其编码、单位见本文件的「{CATALOGUE_SHEET}」工作表，"
    f"管理员也可在平台的品类目录页 {CATALOGUE_PAGE} 查看。"
    "品类须属于该行的类别；不填品类时按标题识别，识别结果列在导入报告中，"
    "识别不出的行须填写品类。"
)


@dataclass(frozen=True)
class Column:
    """One column of an import sheet: its key, Chinese header, whether required, an example."""

    key: str
    header: str
    required: bool
    example: Any
    note: str
    # False: read when present (an export's code columns) but left out of the template.
    template: bool = True


ACCOUNT_COLUMNS = (
    Column("username", "用户名", True, "cun-huangtian", "登录用的名字，1 至 64 个字符，不能重复"),
    Column("display_name", "显示名称", False, "黄田村村委会", "页面上显示的名字，可不填"),
    Column("role", "角色", True, "村委会", "村委会、乡镇干部或审计员"),
    Column("village_code", "村代码", False, "451102100201", "村委会必填：贫困村的 12 位统计代码"),
    Column("township_code", "乡镇代码", False, "", "乡镇干部必填：乡镇的 9 位统计代码"),
    Column("email", "电子邮箱", False, "", "接收通知的邮箱，可不填"),
    Column("password", "初始密码", False, "", "至少 8 个字符；不填则自动生成，导入后只显示一次"),
)
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
# The province's box (Guangxi's, with a margin): a village's coordinates must fall inside it.
# A deployment elsewhere sets DUIJIE_VILLAGE_BOX (web.config) to its own.
PROVINCE_BOX = (20.5, 26.5, 104.0, 113.0)  # lat min, lat max, lon min, lon max
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
COLUMNS: dict[str, tuple[Column, ...]] = {
    "accounts": ACCOUNT_COLUMNS,
    "offers": OFFER_COLUMNS,
    "needs": NEED_COLUMNS,
    "villages": VILLAGE_COLUMNS,
}
# Columns an export adds for reading; an import of the export skips them silently.
EXPORT_ONLY = {
    "offers": ("编号", "已分配", "状态"),
    "needs": ("编号", "类型", "已分配", "核实状态", "状态"),
    "accounts": (),
    "villages": (),
}
STATUS_NAMES = {"open": "开放", "withdrawn": "已撤回", "closed": "已结束"}
VERIFICATION_NAMES = {"pending": "待核实", "verified": "已核实", "rejected": "已驳回"}


class ImportFileError(ValueError):
    """The file as a whole cannot be read (type, size, headers); the message says why."""


class ImportDenied(PermissionError):
    """The actor may not import (or export) this kind; the message says who may."""


@dataclass(frozen=True)
class RowError:
    """One problem: the spreadsheet row, the column header and what is wrong."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.row and self.column:
            return _(
                "Row %(row)s, “%(column)s”: %(message)s",
                row=self.row,
                column=self.column,
                message=self.message,
            )
        if self.row:
            return _("Row %(row)s: %(message)s", row=self.row, message=self.message)
        if self.column:
            return _(
                "In the file, “%(column)s”: %(message)s", column=self.column, message=self.message
            )
        return _("In the file: %(message)s", message=self.message)


@dataclass
class ImportReport:
    """What an import found and did: rows read, problems, rows written, notes for the user."""

    kind: str
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    # Passwords generated for accounts imported without one: shown once, never stored.
    passwords: list[tuple[str, str]] = field(default_factory=list)
    households_created: int = 0
    # Rows whose empty 品类 was filled by recognition from the title, for the user to check.
    recognised: list[RecognisedKind] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# --- reading a file -----------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    """The rows of an uploaded sheet: header cells and (row number, cells) per data row."""

    header: list[str]
    rows: list[tuple[int, list[Any]]]


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_zip(data: bytes) -> None:
    """Refuse a zip that is not an XLSX workbook or that unpacks to too much."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise ImportFileError(
            _("The file is damaged and cannot be opened as an XLSX workbook.")
        ) from None
    if "xl/workbook.xml" not in names:
        raise ImportFileError(_("This zip file is not an Excel workbook (.xlsx)."))
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportFileError(
            _("The workbook is too large once unpacked; split it and import the parts in turn.")
        )
    _measure(data)


def _count_tags(archive: zipfile.ZipFile, name: str, limits: dict[bytes, int]) -> dict[bytes, int]:
    """How many of each tag (local name -> limit) the member holds, read streaming in one pass;
    stops as soon as one count is over its limit."""
    counts = dict.fromkeys(limits, 0)
    tail = b""
    with archive.open(name) as member:
        while True:
            chunk = member.read(1 << 20)
            block = tail + chunk
            # A tag cut by the chunk's end is counted with the next chunk (its last 64 bytes).
            cut = max(0, len(block) - 64) if chunk else len(block)
            for tag in _TAG.findall(block, 0, cut):
                if tag in counts:
                    counts[tag] += 1
            tail = block[cut:]
            if not chunk or any(counts[t] > limit for t, limit in limits.items()):
                return counts


def _declared_size(archive: zipfile.ZipFile, name: str) -> tuple[int, int]:
    """(rows, columns) the sheet's <dimension ref="A1:FD10000"/> declares; (0, 0) if none."""
    with archive.open(name) as member:
        head = member.read(4096)
    found = _DIMENSION.search(head)
    if found is None:
        return 0, 0
    letters, digits = found.group(1).decode(), found.group(2).decode()
    columns = 0
    for letter in letters.upper():
        columns = columns * 26 + ord(letter) - 64
    return int(digits), columns


def _measure(data: bytes) -> None:
    """Refuse a workbook with more rows or cells than an import takes, or more shared strings,
    before it is parsed: first by the sheet's declared dimension, then by a streaming count of
    the tags in its unpacked XML (a declared dimension may lie)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                rows, columns = _declared_size(archive, name)
                if rows > MAX_SHEET_LINES:
                    raise ImportFileError(_too_many_rows())
                if rows * columns > MAX_SHEET_CELLS:
                    raise ImportFileError(_too_many_cells())
                limits = {b"row": MAX_SHEET_LINES, b"c": MAX_SHEET_CELLS}
                counts = _count_tags(archive, name, limits)
                if counts[b"row"] > MAX_SHEET_LINES:
                    raise ImportFileError(_too_many_rows())
                if counts[b"c"] > MAX_SHEET_CELLS:
                    raise ImportFileError(_too_many_cells())
            elif name == "xl/sharedStrings.xml":
                counts = _count_tags(archive, name, {b"si": MAX_SHEET_CELLS})
                if counts[b"si"] > MAX_SHEET_CELLS:
                    raise ImportFileError(_too_many_cells())


def _too_many_cells() -> str:
    return _(
        "The sheet has more than %(cells)s cells; keep only the template's columns, or split "
        "the file and import the parts in turn.",
        cells=MAX_SHEET_CELLS,
    )


def _xlsx_rows(data: bytes) -> Iterable[Sequence[Any]]:
    _check_zip(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        rows = []
        cells = 0
        for row in sheet.iter_rows(values_only=True):
            rows.append(list(row))
            cells += len(row)  # a budget as it streams: rows padded to a declared width count
            if len(rows) > MAX_SHEET_LINES or cells > 2 * MAX_SHEET_CELLS:
                break  # read_sheet reports the file as too long, or below: too wide
        workbook.close()
    except Exception:
        raise ImportFileError(
            _("This Excel workbook cannot be read; save it again as .xlsx in Excel and retry.")
        ) from None
    if cells > 2 * MAX_SHEET_CELLS:
        raise ImportFileError(_too_many_cells())
    return rows


def _csv_rows(data: bytes) -> Iterable[Sequence[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFileError(
            _(
                "The file is neither an Excel workbook (.xlsx) nor a UTF-8 CSV file. "
                "In Excel choose “Save As → CSV UTF-8 (Comma delimited)”."
            )
        ) from None
    if "\x00" in text:
        raise ImportFileError(_("The file is not a CSV text file."))
    try:
        return list(csv.reader(io.StringIO(text)))
    except csv.Error as error:
        raise ImportFileError(_("The CSV is malformed: %(error)s", error=error)) from None


def read_sheet(data: bytes) -> Sheet:
    """Read an XLSX workbook's first sheet or a UTF-8 CSV, decided by the bytes, not the name."""
    if not data:
        raise ImportFileError(_("The file is empty."))
    if len(data) > MAX_IMPORT_BYTES:
        raise ImportFileError(
            _(
                "The file is larger than %(mb)s MB; split it and import the parts in turn.",
                mb=MAX_IMPORT_BYTES // (1024 * 1024),
            )
        )
    raw = _xlsx_rows(data) if data[:4] == b"PK\x03\x04" else _csv_rows(data)
    header: list[str] | None = None
    rows: list[tuple[int, list[Any]]] = []
    for number, cells in enumerate(raw, start=1):
        if number > MAX_SHEET_LINES:
            raise ImportFileError(_too_many_rows())
        if all(_is_blank(c) for c in cells):
            continue
        if header is None:
            header = ["" if c is None else str(c).strip() for c in cells]
            continue
        rows.append((number, [spreadsheet_value(c) for c in cells]))
        if len(rows) > MAX_IMPORT_ROWS:
            raise ImportFileError(_too_many_rows())
    if header is None:
        raise ImportFileError(_("The file holds neither a header nor data."))
    return Sheet(header, rows)


def _too_many_rows() -> str:
    return _(
        "More than %(rows)s data rows; split the file and import the parts in turn.",
        rows=MAX_IMPORT_ROWS,
    )


# --- checking cells -----------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    """A cell as text: whole floats without '.0', dates as 2026-12-31."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


class _Row:
    """One data row: typed access to its cells, recording a RowError for each bad one."""

    def __init__(self, number: int, values: dict[str, Any], report: ImportReport) -> None:
        self.number = number
        self.values = values
        self.report = report
        self.bad = False
        self.refused: set[str] = set()  # the keys of the columns already refused

    def error(self, column: Column, message: str) -> None:
        self.report.errors.append(RowError(self.number, column.header, message))
        self.bad = True
        self.refused.add(column.key)

    def ruled(self, problems: Mapping[str, Any], col: Mapping[str, Column]) -> None:
        """Record the field rules' refusals (web.services.inputs, as for the forms and the API)
        under their columns, naming what the cell holds; a cell already refused as read (a date
        that is not one) is not refused twice."""
        for key, message in problems.items():
            column = col[key]
            if key in self.refused:
                continue
            shown = _cell_text(self.raw(column))
            if shown and key not in ("title", "description"):
                message = _("%(message)s This is “%(value)s”.", message=message, value=shown)
            self.error(column, str(message))

    def raw(self, column: Column) -> Any:
        return self.values.get(column.key)

    def text(self, column: Column, max_length: int = 200) -> str:
        value = _cell_text(self.raw(column))
        if not value and column.required:
            self.error(column, _("Required."))
        elif len(value) > max_length:
            self.error(
                column,
                _(
                    "At most %(limit)s characters; this has %(count)s.",
                    limit=max_length,
                    count=len(value),
                ),
            )
        return value

    def title(self, column: Column) -> str:
        """A title cell, under the one title rule (web.services.titles)."""
        value = self.text(column, MAX_TITLE)
        refused = title_problem(value) if value else None
        if refused == "characters":
            self.error(column, title_message(refused))
        return value

    def integer(
        self, column: Column, *, minimum: int = 1, maximum: int | None = None
    ) -> int | None:
        value = self.raw(column)
        shown = _cell_text(value)
        if not shown:
            if column.required:
                self.error(column, _("Required."))
            return None
        number: int | None = None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str) and re.fullmatch(r"[+]?\d+", shown):
            number = int(shown)
        if number is not None and maximum is None and number > MAX_INTEGER:
            self.error(
                column,
                _(
                    "The number is too large (at most %(limit)s); this is “%(value)s”.",
                    limit=MAX_INTEGER,
                    value=shown,
                ),
            )
            return None
        if number is None or number < minimum or (maximum is not None and number > maximum):
            if maximum is not None:
                message = _(
                    "Must be a whole number from %(minimum)s to %(maximum)s; this is “%(value)s”.",
                    minimum=minimum,
                    maximum=maximum,
                    value=shown,
                )
            elif minimum == 1:
                message = _("Must be a whole number above 0; this is “%(value)s”.", value=shown)
            else:
                message = _(
                    "Must be a whole number of at least %(minimum)s; this is “%(value)s”.",
                    minimum=minimum,
                    value=shown,
                )
            self.error(column, message)
            return None
        return number

    def decimal(self, column: Column, low: float, high: float) -> float | None:
        shown = _cell_text(self.raw(column))
        if not shown:
            return None
        try:
            number = float(shown)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            self.error(
                column,
                _(
                    "Must be a number from %(low)s to %(high)s; this is “%(value)s”.",
                    low=format(low, "g"),
                    high=format(high, "g"),
                    value=shown,
                ),
            )
            return None
        return number

    def day(self, column: Column, *, ruled: bool = False) -> date | None:
        """A date cell; `ruled`: a blank one is left to the field's rule."""
        value = self.raw(column)
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        shown = _cell_text(value)
        if not shown:
            if column.required and not ruled:
                self.error(column, _("A date is required, such as 2026-12-31."))
            return None
        match = _DATE.match(shown)
        if match:
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                pass
        self.error(
            column,
            _("Wrong date format: write it as 2026-12-31; this is “%(value)s”.", value=shown),
        )
        return None

    def yes_no(self, column: Column) -> bool:
        shown = _cell_text(self.raw(column)).lower()
        if shown in _YES:
            return True
        if shown not in _NO:
            self.error(
                column, _("Fill in “是” (yes) or “否” (no); this is “%(value)s”.", value=shown)
            )
        return False

    def category(self, column: Column) -> str:
        shown = _cell_text(self.raw(column))
        if not shown:
            self.error(column, _("Required."))
            return ""
        for c in CATEGORIES:
            if shown in (c.code, c.name_zh) or shown.lower() == c.name_en.lower():
                return c.code
        names = "、".join(c.name_zh for c in CATEGORIES)
        self.error(
            column,
            _("Unknown category “%(value)s”; possible: %(names)s.", value=shown, names=names),
        )
        return ""

    def kinds(
        self, names: Column, codes: Column, catalogue: Catalogue, category: str
    ) -> tuple[str, ...] | None:
        """The kinds named in a row's name column or code column (both: the same kinds), as
        codes; None after recording what is wrong."""
        found: dict[str, tuple[str, ...]] = {}
        failed = False
        for column in (names, codes):
            shown = _cell_text(self.raw(column))
            if not shown:
                continue
            try:
                found[column.key] = kind_codes(catalogue, shown, category)
            except KindCellError as error:
                self.error(column, str(error))
                failed = True
        if failed:
            return None
        named, coded = found.get(names.key), found.get(codes.key)
        if named is not None and coded is not None and set(named) != set(coded):
            self.error(
                codes,
                _(
                    "“%(names)s” and “%(codes)s” name different kinds: correct one of them, or "
                    "clear “%(codes)s”.",
                    names=names.header,
                    codes=codes.header,
                ),
            )
            return None
        return named or coded or ()

    def kind_column(self, names: Column, codes: Column) -> Column:
        """The column a row names its kinds in: the code column when only it is filled."""
        filled = _cell_text(self.raw(names)) or not _cell_text(self.raw(codes))
        return names if filled else codes

    def unit(self, column: Column, catalogue: Catalogue, unit: str, kinds: str) -> None:
        """Check a filled unit cell against the unit the kinds are counted in."""
        shown = _cell_text(self.raw(column))
        if shown and unit and not same_unit(unit, shown, catalogue):
            self.error(
                column,
                _(
                    "%(kinds)s is counted in %(unit)s; this is “%(value)s”. Give the quantity "
                    "in %(unit)s, or name the kind it is counted in.",
                    kinds=kinds,
                    unit=unit,
                    value=shown,
                ),
            )


def _rows(sheet: Sheet, kind: str, report: ImportReport) -> list[_Row]:
    """Map the header onto the kind's columns; file-level problems raise ImportFileError."""
    columns = COLUMNS[kind]
    by_name = {c.header: c for c in columns} | {c.key: c for c in columns}
    positions: dict[str, int] = {}
    for index, name in enumerate(sheet.header):
        column = by_name.get(name)
        if column is None:
            if name and name not in EXPORT_ONLY[kind]:
                report.ignored_columns.append(name)
            continue
        if column.key in positions:
            raise ImportFileError(_("The header holds “%(column)s” twice.", column=column.header))
        positions[column.key] = index
    missing = [c.header for c in columns if c.required and c.key not in positions]
    if missing:
        raise ImportFileError(
            _(
                "Required columns are missing: %(columns)s. "
                "Download the template and fill it in under its headers.",
                columns="、".join(missing),
            )
        )
    if not sheet.rows:
        raise ImportFileError(_("The file holds only the header, no data rows."))
    rows = []
    for number, cells in sheet.rows:
        values = {
            key: (cells[index] if index < len(cells) else None) for key, index in positions.items()
        }
        rows.append(_Row(number, values, report))
    report.rows = len(rows)
    return rows


def _col(kind: str, key: str) -> Column:
    return next(c for c in COLUMNS[kind] if c.key == key)


# --- accounts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _AccountRow:
    username: str
    display_name: str
    role: str
    village: Village | None
    township: Township | None
    email: str | None
    password: str


def _check_accounts(session: Session, rows: list[_Row]) -> list[_AccountRow]:
    col = {c.key: c for c in ACCOUNT_COLUMNS}
    villages = {v.code: v for v in session.scalars(select(Village))}
    townships = {t.code: t for t in session.scalars(select(Township))}
    taken = set(session.scalars(select(User.username)))
    seen: dict[str, int] = {}
    checked = []
    for row in rows:
        username = row.text(col["username"], 64)
        display_name = row.text(col["display_name"], 64)
        if username:
            if username in taken:
                row.error(
                    col["username"],
                    _("The username “%(username)s” is already taken.", username=username),
                )
            elif username in seen:
                row.error(
                    col["username"],
                    _(
                        "The username “%(username)s” repeats row %(row)s.",
                        username=username,
                        row=seen[username],
                    ),
                )
            seen.setdefault(username, row.number)
        role_text = _cell_text(row.raw(col["role"]))
        role = _ROLE_ALIASES.get(role_text, "")
        if not role_text:
            row.error(col["role"], _("Required."))
        elif role not in STAFF_ROLES:
            row.error(
                col["role"],
                _(
                    "Unknown role “%(role)s”; possible: 村委会 (village committee), "
                    "乡镇干部 (township officer), 审计员 (auditor).",
                    role=role_text,
                ),
            )
        village = township = None
        village_code = _cell_text(row.raw(col["village_code"]))
        township_code = _cell_text(row.raw(col["township_code"]))
        if role == "village":
            village = villages.get(village_code)
            if not village_code:
                row.error(
                    col["village_code"], _("A village committee account needs a village code.")
                )
            elif village is None:
                row.error(col["village_code"], _unknown_village(village_code))
            else:
                township = village.township
        elif role == "township":
            township = townships.get(township_code)
            if not township_code:
                row.error(
                    col["township_code"], _("A township officer account needs a township code.")
                )
            elif township is None:
                row.error(
                    col["township_code"],
                    _("Unknown township code “%(code)s”.", code=township_code),
                )
        email_text = _cell_text(row.raw(col["email"]))
        email = None
        try:
            email = normalise_email(email_text)
        except AccountError:
            row.error(col["email"], _("Not a valid e-mail address: “%(email)s”.", email=email_text))
        password = _cell_text(row.raw(col["password"]))
        refused = passwords.problem(password, username) if password else None
        if refused is not None:
            row.error(col["password"], passwords.message(refused))
        if not row.bad:
            checked.append(
                _AccountRow(username, display_name, role, village, township, email, password)
            )
    return checked


def _unknown_village(code: str) -> str:
    return _("Unknown village code “%(code)s”: not the 12-digit code of a poor village.", code=code)


def _write_accounts(session: Session, checked: list[_AccountRow], report: ImportReport) -> None:
    for item in checked:
        password = item.password or secrets.token_urlsafe(9)
        user = create_user(session, item.username, password, item.role, item.display_name)
        user.village = item.village
        user.township = item.township
        user.email = item.email
        if not item.password:
            report.passwords.append((item.username, password))


# --- offers -------------------------------------------------------------------------------


def _check_offers(
    session: Session, actor: User, rows: list[_Row], report: ImportReport
) -> list[OfferInput]:
    col = {c.key: c for c in OFFER_COLUMNS}
    catalogue = load_catalogue(session)
    assert actor.organization is not None
    own_name = actor.organization.name
    counties = {c.name: c.code for c in session.scalars(select(County))}
    county_names = "、".join(sorted(counties))
    counties |= {code: code for code in counties.values()}
    checked = []
    for row in rows:
        organization = _cell_text(row.raw(col["organization"]))
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
        category = row.category(col["category"])
        title = _cell_text(row.raw(col["title"]))
        description = _cell_text(row.raw(col["description"]))
        kinds = _offer_kinds(row, col, catalogue, category, title, description, report)
        indivisible = row.yes_no(col["indivisible"])
        codes = []
        for name in _LIST_SPLIT.split(_cell_text(row.raw(col["counties"]))):
            if not name:
                continue
            if name not in counties:
                row.error(
                    col["counties"],
                    _(
                        "Unknown county “%(value)s”; possible: %(names)s.",
                        value=name,
                        names=county_names,
                    ),
                )
            else:
                codes.append(counties[name])
        fields = OfferFields(
            category=category or None, title=title, description=description,
            quantity=row.raw(col["quantity"]), min_lot=row.raw(col["min_lot"]),
            max_villages=row.raw(col["max_villages"]),
            dispatch_lat=row.raw(col["dispatch_lat"]), dispatch_lon=row.raw(col["dispatch_lon"]),
            valid_from=row.day(col["valid_from"], ruled=True),
            valid_until=row.day(col["valid_until"], ruled=True),
        )  # fmt: skip
        row.ruled(fields.problems(), col)
        if not row.bad:
            assert kinds is not None
            checked.append(
                OfferInput(
                    category=category,
                    title=title,
                    description=description,
                    quantity=whole(fields.quantity) or 0,
                    min_lot=whole(fields.min_lot) or 1,
                    max_villages=whole(fields.max_villages),
                    indivisible=indivisible,
                    county_codes=tuple(dict.fromkeys(codes)),
                    dispatch_lat=decimal(fields.dispatch_lat),
                    dispatch_lon=decimal(fields.dispatch_lon),
                    valid_from=fields.valid_from,
                    valid_until=fields.valid_until,
                    items=kinds.items,
                    general=kinds.general,
                    items_inferred=kinds.inferred,
                )
            )
    return checked


def _offer_kinds(
    row: _Row,
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


def _write_offers(session: Session, actor: User, checked: list[OfferInput]) -> None:
    assert actor.organization is not None
    for data in checked:
        add_offer(session, actor.organization, data)


# --- needs --------------------------------------------------------------------------------


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


def _check_needs(
    session: Session, actor: User, rows: list[_Row], report: ImportReport
) -> tuple[list[_NeedRow], int]:
    col = {c.key: c for c in NEED_COLUMNS}
    catalogue = load_catalogue(session)
    villages = {v.code: v for v in session.scalars(select(Village))}
    own = actor.village if actor.role == "village" else None
    checklist = {code: code for code, _, _ in CHECKLIST_ITEMS} | {
        zh: code for code, zh, _ in CHECKLIST_ITEMS
    }
    households = _Households(session)
    checked = []
    for row in rows:
        code = _cell_text(row.raw(col["village_code"]))
        village = villages.get(code) if code else own
        if not code and own is None:
            row.error(col["village_code"], _("The village code is required."))
        elif village is None:
            row.error(col["village_code"], _unknown_village(code))
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
            village = None
        category = row.category(col["category"])
        title = _cell_text(row.raw(col["title"]))
        description = _cell_text(row.raw(col["description"]))
        kind = _need_kind(row, col, catalogue, category, title, description, report)
        item_text = _cell_text(row.raw(col["checklist_item"]))
        item = checklist.get(item_text) if item_text else None
        if item_text and item is None:
            names = "、".join(zh for _, zh, _ in CHECKLIST_ITEMS)
            row.error(
                col["checklist_item"],
                _(
                    "Unknown indicator “%(value)s”; possible: %(names)s.",
                    value=item_text,
                    names=names,
                ),
            )
        key = row.text(col["household_key"], 64) or None
        evidence = row.text(col["evidence"], 2000)
        fields = NeedFields(
            category=category or None, title=title, description=description,
            quantity=row.raw(col["quantity"]), urgency=row.raw(col["urgency"]),
            deadline=row.day(col["deadline"]), estimated_value=row.raw(col["estimated_value"]),
            household_people=row.raw(col["household_people"]), wish=key is not None,
        )  # fmt: skip
        row.ruled(fields.problems(), col)
        household = None
        if key is not None:
            if not evidence:
                row.error(
                    col["evidence"],
                    _("A micro-wish needs a verification note: who verified it, when and how."),
                )
            household = _check_household(row, col, key, village, households)
        if not row.bad:
            assert village is not None and kind is not None
            value = whole(fields.estimated_value) if key is not None else None
            data = NeedInput(
                category=category,
                title=title,
                description=description,
                quantity=whole(fields.quantity) or 0,
                urgency=whole(fields.urgency) or DEFAULT_URGENCY,
                deadline=fields.deadline,
                checklist_item=item,
                household_id=household.id if household is not None else None,
                evidence=evidence,
                estimated_value=float(value) if value is not None else None,
                item=kind.item,
                accepts=kind.accepts,
                item_inferred=kind.inferred,
            )
            checked.append(_NeedRow(village, household, data))
    return checked, len(households.new)


def _need_kind(
    row: _Row,
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
    row: _Row, col: dict[str, Column], key: str, village: Village | None, households: _Households
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
    name = _cell_text(row.raw(col["household_name"]))
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


def _write_needs(session: Session, checked: list[_NeedRow]) -> None:
    for item in checked:
        if item.household is not None and item.household.id is None:
            session.add(item.household)
        add_need(session, item.village.id, item.data, household=item.household)


# --- villages -----------------------------------------------------------------------------


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


def village_box() -> tuple[float, float, float, float]:
    """(lat min, lat max, lon min, lon max) a village's coordinates must fall in."""
    configured = current_app.config.get("DUIJIE_VILLAGE_BOX") if has_app_context() else None
    return tuple(configured) if configured else PROVINCE_BOX  # type: ignore[return-value]


class _Places:
    """The cities, counties and townships known, and those a village import adds."""

    def __init__(self, session: Session) -> None:
        self.cities = {c.code: c for c in session.scalars(select(City))}
        self.counties = {c.code: c for c in session.scalars(select(County))}
        self.townships = {t.code: t for t in session.scalars(select(Township))}
        known = [*self.cities, *self.counties, *self.townships]
        self.province = known[0][:2] if known else None

    def new_village(self, row: _Row, col: Mapping[str, Column], code: str) -> Village | None:
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
        row: _Row, column: Column, known: Mapping[str, Any], code: str, name: str
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


def _check_villages(session: Session, rows: list[_Row]) -> list[_VillageRow]:
    col = {c.key: c for c in VILLAGE_COLUMNS}
    villages = {v.code: v for v in session.scalars(select(Village))}
    places = _Places(session)
    lat_min, lat_max, lon_min, lon_max = village_box()
    this_year = date.today().year
    seen: dict[str, int] = {}
    checked = []
    for row in rows:
        code = row.text(col["code"], 12)
        village = villages.get(code) if code else None
        new = False
        if code in seen:
            row.error(
                col["code"],
                _("The village code “%(code)s” repeats row %(row)s.", code=code, row=seen[code]),
            )
        elif code and village is None:
            village, new = places.new_village(row, col, code), True
        if code:
            seen.setdefault(code, row.number)
        status_text = _cell_text(row.raw(col["status"]))
        status = _VILLAGE_STATUS_ALIASES.get(status_text, "")
        if not status_text:
            row.error(col["status"], _("Required."))
        elif not status:
            row.error(
                col["status"],
                _(
                    "Unknown status “%(value)s”; possible: 未脱贫 (poor), 已脱贫 (exited).",
                    value=status_text,
                ),
            )
        exit_year = row.integer(col["exit_year"], minimum=FIRST_EXIT_YEAR, maximum=this_year)
        if status == "exited" and not _cell_text(row.raw(col["exit_year"])):
            row.error(col["exit_year"], _("A village that exited poverty needs its exit year."))
        if status == "poor" and exit_year is not None:
            row.error(col["exit_year"], _("A village still poor has no exit year: leave it empty."))
            exit_year = None
        population = row.integer(col["population"], minimum=0, maximum=100_000)
        households = row.integer(col["poor_households"], minimum=0, maximum=100_000)
        poor_people = row.integer(col["poor_population"], minimum=0, maximum=100_000)
        if population is not None and poor_people is not None and poor_people > population:
            row.error(
                col["poor_population"],
                _(
                    "The poor population %(poor)s cannot exceed the population %(population)s.",
                    poor=poor_people,
                    population=population,
                ),
            )
        if households is not None and poor_people is not None and households > poor_people:
            row.error(
                col["poor_households"],
                _(
                    "The poor households %(households)s cannot outnumber the poor population "
                    "%(poor)s.",
                    households=households,
                    poor=poor_people,
                ),
            )
        incidence = row.decimal(col["incidence"], 0, 100)
        minority = row.yes_no(col["ethnic_minority"])
        lat = row.decimal(col["lat"], lat_min, lat_max)
        lon = row.decimal(col["lon"], lon_min, lon_max)
        if (lat is None) != (lon is None) and not row.bad:
            row.error(
                col["lon" if lon is None else "lat"],
                _("Fill in both latitude and longitude, or neither."),
            )
        checklist = {code: row.yes_no(col[f"checklist_{code}"]) for code in CHECKLIST_CODES}
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


def _write_villages(session: Session, checked: list[_VillageRow]) -> None:
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


# --- the import itself --------------------------------------------------------------------


def may_import(actor: User, kind: str) -> str | None:
    """None when the actor may import this kind, else a translated sentence saying who may."""
    if kind == "accounts" and actor.role != "admin":
        return _("Only administrators can import accounts.")
    if kind == "offers" and (actor.role != "donor" or not can_post_offers(actor)):
        return _("Only vetted donors can import their organization's offers.")
    if kind == "needs":
        if actor.role == "village" and actor.village_id is None:
            return _("This village committee account has no village and cannot import needs.")
        if actor.role not in ("village", "admin"):
            return _(
                "Only village committees (their own village) and administrators can import needs."
            )
    if kind == "villages" and actor.role != "admin":
        return _("Only administrators can import poor villages.")
    if kind not in IMPORT_KINDS:
        return _("“%(kind)s” cannot be imported.", kind=kind)
    return None


def import_file(session: Session, kind: str, data: bytes, actor: User) -> ImportReport:
    """Check every row of the file and, only if all are valid, write them all; commits.

    Raises ImportDenied when the actor may not import this kind and ImportFileError when the
    file cannot be read; row problems are returned in the report and nothing is written.
    """
    denied = may_import(actor, kind)
    if denied:
        raise ImportDenied(denied)
    report = ImportReport(kind)
    rows = _rows(read_sheet(data), kind, report)
    try:
        if kind == "accounts":
            accounts = _check_accounts(session, rows)
            if report.ok:
                _write_accounts(session, accounts, report)
                report.created = len(accounts)
        elif kind == "offers":
            offers = _check_offers(session, actor, rows, report)
            if report.ok:
                _write_offers(session, actor, offers)
                report.created = len(offers)
        elif kind == "villages":
            villages = _check_villages(session, rows)
            if report.ok:
                _write_villages(session, villages)
                report.created = len(villages)
        else:
            needs, new_households = _check_needs(session, actor, rows, report)
            if report.ok:
                _write_needs(session, needs)
                report.created = len(needs)
                report.households_created = new_households
        if report.ok:
            session.commit()
        else:
            session.rollback()
    except (SQLAlchemyError, AccountError):
        session.rollback()
        report.passwords.clear()
        report.created = report.households_created = 0
        report.errors.append(
            RowError(
                0,
                "",
                _(
                    "Writing to the database failed (perhaps someone changed the same data at "
                    "the same time); nothing was imported, please try again."
                ),
            )
        )
    return report


# --- templates and exports ----------------------------------------------------------------


def _xlsx(sheets: list[tuple[str, list[list[Any]]]]) -> bytes:
    workbook = Workbook()
    first = workbook.active
    assert first is not None
    workbook.remove(first)
    for title, table in sheets:
        sheet = workbook.create_sheet(title)
        for line in spreadsheet_rows(table):
            sheet.append(line)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for letter_cells in sheet.iter_cols(min_row=1, max_row=1):
            cell = letter_cells[0]
            width = max(len(str(c.value or "")) for c in sheet[cell.column_letter])
            sheet.column_dimensions[cell.column_letter].width = min(40, 4 + 2 * width)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_xlsx(kind: str, actor: User | None = None, session: Session | None = None) -> bytes:
    """An XLSX with the kind's Chinese headers, one example row and a sheet explaining them.

    With a session the example names a real poor village (the committee's own for needs).
    Offers and needs add the sheet 品类表 listing the kinds their 品类 cells may name.
    """
    columns = tuple(c for c in COLUMNS[kind] if c.template)
    example = {c.key: c.example for c in columns}
    if session is not None and "village_code" in example:
        first = session.scalar(select(Village.code).order_by(Village.code).limit(1))
        example["village_code"] = first or example["village_code"]
    if session is not None and kind == "villages":
        first = session.scalar(select(Village.code).order_by(Village.code).limit(1))
        example["code"] = first or example["code"]
    if actor is not None and kind == "offers" and actor.organization is not None:
        example["organization"] = actor.organization.name
    if actor is not None and kind == "needs" and actor.village is not None:
        example["village_code"] = actor.village.code
    guide = [["列", "是否必填", "说明"]] + [
        [c.header, "必填" if c.required else "选填", c.note] for c in columns
    ]
    sheets = [
        (KIND_NAMES[kind], [[c.header for c in columns], [example[c.key] for c in columns]]),
        ("填写说明", guide),
    ]
    if kind in ("offers", "needs"):
        guide.append([])
        guide.append(["品类", "", KINDS_GUIDE])
        catalogue = load_catalogue(session) if session is not None else hezhou_catalogue()
        sheets.append((CATALOGUE_SHEET, catalogue_table(catalogue)))
    return _xlsx(sheets)


def _public_donor(organization: Organization) -> str:
    """An individual donor stays anonymous in public (爱心人士); organizations are named."""
    return "爱心人士" if organization.kind == "individual" else organization.name


def _offer_table(session: Session, actor: User | None) -> list[list[Any]]:
    query = select(Offer).order_by(Offer.id)
    if actor is not None and actor.role == "donor":
        query = query.where(Offer.organization_id == (actor.organization_id or -1))
    elif actor is not None and actor.role not in ("admin", "auditor", "township"):
        raise ImportDenied(_("This account cannot export offers."))
    catalogue = load_catalogue(session)
    table: list[list[Any]] = [[c.header for c in OFFER_COLUMNS] + list(EXPORT_ONLY["offers"])]
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


def _need_table(session: Session, actor: User | None) -> list[list[Any]]:
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
    table: list[list[Any]] = [[c.header for c in NEED_COLUMNS] + list(EXPORT_ONLY["needs"])]
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


def _account_table(session: Session, actor: User | None) -> list[list[Any]]:
    if actor is not None and actor.role != "admin":
        raise ImportDenied(_("Only administrators can export accounts."))
    query = select(User).where(User.role.in_(STAFF_ROLES)).order_by(User.role, User.username)
    table: list[list[Any]] = [[c.header for c in ACCOUNT_COLUMNS]]
    for u in session.scalars(query):
        table.append(
            [
                u.username,
                u.display_name,
                ROLE_NAMES[u.role],
                u.village.code if u.village else "",
                u.township.code if (u.township and u.role == "township") else "",
                u.email or "",
                "",
            ]
        )
    return table


def _ledger_table(session: Session, actor: User | None) -> list[list[Any]]:
    if actor is not None and actor.role not in ("admin", "auditor", "township"):
        raise ImportDenied(
            _("Only administrators, auditors and township officers can export the ledger.")
        )
    scope = actor if actor is not None else User(role="admin")
    return export_table(ledger_rows(session, LedgerFilter(), scope), load_catalogue(session))


def _village_table(session: Session, actor: User | None) -> list[list[Any]]:
    if actor is not None and actor.role not in ("admin", "auditor", "township"):
        raise ImportDenied(
            _("Only administrators, auditors and township officers can export poor villages.")
        )
    query = select(Village).order_by(Village.code)
    if actor is not None and actor.role == "township":
        query = query.where(Village.township_id == (actor.township_id or -1))
    table: list[list[Any]] = [[c.header for c in VILLAGE_COLUMNS] + list(EXPORT_ONLY["villages"])]
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


def export_table_of(session: Session, kind: str, actor: User | None = None) -> list[list[Any]]:
    """A header row and one row per record; `actor` None means an export for the public."""
    makers = {
        "offers": _offer_table,
        "needs": _need_table,
        "accounts": _account_table,
        "ledger": _ledger_table,
        "villages": _village_table,
    }
    if kind not in makers:
        raise ImportFileError(
            _(
                "“%(kind)s” cannot be exported; possible: %(kinds)s.",
                kind=kind,
                kinds="、".join(EXPORT_KINDS),
            )
        )
    return makers[kind](session, actor)


def table_bytes(table: list[list[Any]], suffix: str, sheet_title: str = "数据") -> bytes:
    """A table as CSV (UTF-8 with BOM, so Excel reads the Chinese) or as XLSX."""
    if suffix == ".xlsx":
        return _xlsx([(sheet_title, table)])
    if suffix == ".csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerows(
            spreadsheet_rows(
                [v.isoformat() if isinstance(v, date) else v for v in line] for line in table
            )
        )
        return buffer.getvalue().encode("utf-8-sig")
    raise ImportFileError(_("The file name must end in .csv or .xlsx."))
