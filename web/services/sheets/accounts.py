"""The accounts sheet: staff accounts (village committees, township officers, auditors),
imported by an administrator through the accounts service, and exported without passwords."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from web.models import Township, User, Village
from web.services import passwords
from web.services.accounts import AccountError, create_user, normalise_email
from web.services.organizations import STAFF_ROLES
from web.services.sheets.cells import Column, Row, cell_text, unknown_village
from web.services.sheets.report import ImportDenied, ImportReport
from web.services.sheets.settings import SheetSettings

ROLE_NAMES = {"village": "村委会", "township": "乡镇干部", "auditor": "审计员"}


_ROLE_ALIASES = {
    **{name: role for role, name in ROLE_NAMES.items()},
    **{role: role for role in ROLE_NAMES},
    "村两委": "village",
    "乡镇": "township",
    "乡镇扶贫工作站": "township",
    "审计": "auditor",
}


ACCOUNT_COLUMNS = (
    Column("username", "用户名", True, "cun-huangtian", "登录用的名字，1 至 64 个字符，不能重复"),
    Column("display_name", "显示名称", False, "黄田村村委会", "页面上显示的名字，可不填"),
    Column("role", "角色", True, "村委会", "村委会、乡镇干部或审计员"),
    Column("village_code", "村代码", False, "451102100201", "村委会必填：贫困村的 12 位统计代码"),
    Column("township_code", "乡镇代码", False, "", "乡镇干部必填：乡镇的 9 位统计代码"),
    Column("email", "电子邮箱", False, "", "接收通知的邮箱，可不填"),
    Column("password", "初始密码", False, "", "至少 8 个字符；不填则自动生成，导入后只显示一次"),
)


@dataclass(frozen=True)
class _AccountRow:
    username: str
    display_name: str
    role: str
    village: Village | None
    township: Township | None
    email: str | None
    password: str


COL = {c.key: c for c in ACCOUNT_COLUMNS}
EXPORT_ONLY: tuple[str, ...] = ()


def _username(row: Row, taken: set[str], seen: dict[str, int]) -> str:
    """A new username, not taken and not repeating an earlier row."""
    username = row.text(COL["username"], 64)
    if username in taken:
        row.error(
            COL["username"], _("The username “%(username)s” is already taken.", username=username)
        )
    elif username in seen:
        message = _(
            "The username “%(username)s” repeats row %(row)s.",
            username=username,
            row=seen[username],
        )
        row.error(COL["username"], message)
    if username:
        seen.setdefault(username, row.number)
    return username


def _role(row: Row) -> str:
    """A staff role, from its Chinese name or alias."""
    role_text = cell_text(row.raw(COL["role"]))
    role = _ROLE_ALIASES.get(role_text, "")
    if not role_text:
        row.error(COL["role"], _("Required."))
    elif role not in STAFF_ROLES:
        row.error(
            COL["role"],
            _(
                "Unknown role “%(role)s”; possible: 村委会 (village committee), "
                "乡镇干部 (township officer), 审计员 (auditor).",
                role=role_text,
            ),
        )
    return role


def _place(
    row: Row, role: str, villages: dict[str, Village], townships: dict[str, Township]
) -> tuple[Village | None, Township | None]:
    """A committee's village (and its township), or a township officer's township."""
    village_code = cell_text(row.raw(COL["village_code"]))
    township_code = cell_text(row.raw(COL["township_code"]))
    if role == "village":
        village = villages.get(village_code)
        if not village_code:
            row.error(COL["village_code"], _("A village committee account needs a village code."))
        elif village is None:
            row.error(COL["village_code"], unknown_village(village_code))
        else:
            return village, village.township
    elif role == "township":
        township = townships.get(township_code)
        if not township_code:
            row.error(COL["township_code"], _("A township officer account needs a township code."))
        elif township is None:
            message = _("Unknown township code “%(code)s”.", code=township_code)
            row.error(COL["township_code"], message)
        return None, township
    return None, None


def _email(row: Row) -> str | None:
    email_text = cell_text(row.raw(COL["email"]))
    try:
        return normalise_email(email_text)
    except AccountError:
        row.error(COL["email"], _("Not a valid e-mail address: “%(email)s”.", email=email_text))
        return None


def _password(row: Row, username: str) -> str:
    """An initial password under the password policy, or blank (one is generated)."""
    password = cell_text(row.raw(COL["password"]))
    refused = passwords.problem(password, username) if password else None
    if refused is not None:
        row.error(COL["password"], passwords.message(refused))
    return password


def check(
    session: Session, actor: User, rows: list[Row], report: ImportReport, _settings: SheetSettings
) -> list[_AccountRow]:
    """The rows as accounts to create; problems go to the report."""
    villages = {v.code: v for v in session.scalars(select(Village))}
    townships = {t.code: t for t in session.scalars(select(Township))}
    taken = set(session.scalars(select(User.username)))
    seen: dict[str, int] = {}
    checked = []
    for row in rows:
        username = _username(row, taken, seen)
        display_name = row.text(COL["display_name"], 64)
        role = _role(row)
        village, township = _place(row, role, villages, townships)
        email = _email(row)
        password = _password(row, username)
        if not row.bad:
            checked.append(
                _AccountRow(username, display_name, role, village, township, email, password)
            )
    return checked


def write(session: Session, actor: User, checked: list[_AccountRow], report: ImportReport) -> None:
    """Create the accounts through the accounts service; generated passwords shown once."""
    for item in checked:
        password = item.password or secrets.token_urlsafe(9)
        user = create_user(session, item.username, password, item.role, item.display_name)
        user.village = item.village
        user.township = item.township
        user.email = item.email
        if not item.password:
            report.passwords.append((item.username, password))


def table(session: Session, actor: User | None) -> list[list[Any]]:
    """The staff accounts, without passwords."""
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
