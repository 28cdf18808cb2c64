"""Notices, mail and command output speak their reader's language; no Chinese is hard-coded in
Python outside the catalogue (web/translations) except the data formats listed below."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from tests.web.week_support import committed, memo_solver, user  # noqa: F401  (memo_solver: a fixture)
from web.extensions import db
from web.models import Allocation, Notification, OutboxEmail, User
from web.services.delivery import cancel

ROOT = Path(__file__).resolve().parents[3]
HAN = re.compile(r"[\u3400-\u9fff]")  # Chinese characters (punctuation is not a message)


def _reader(username: str, role: str, locale: str | None, **where: int | None) -> User:
    person = User(username=username, password_hash="x", role=role, locale=locale,
                  email=f"{username}@example.org", **where)  # fmt: skip
    db.session.add(person)
    return person


@pytest.mark.usefixtures("memo_solver")
def test_a_notice_and_its_mail_are_in_each_readers_language(demo_db: Flask) -> None:
    demo_db.config.update(DUIJIE_SMTP_URL="smtp://127.0.0.1:1", DUIJIE_MAIL_FROM="d@example.org")
    committed()
    pledge = db.session.scalars(select(Allocation).order_by(Allocation.id)).first()
    assert pledge is not None
    org = pledge.offer.organization_id
    english = _reader("donor-en", "donor", "en", organization_id=org)
    chinese = _reader("donor-zh", "donor", None, organization_id=org)
    db.session.commit()
    cancel(db.session, pledge.id, user("admin"), "duplicate")
    db.session.commit()

    def notice(person: User) -> str:
        return db.session.scalars(
            select(Notification.message).where(
                Notification.user_id == person.id, Notification.kind == "allocation_cancelled"
            )
        ).one()

    def mail(person: User) -> OutboxEmail:
        return db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.to_address == person.email)
        ).one()

    pair = f"{pledge.offer.title} → {pledge.need.title}, {pledge.quantity}"
    assert notice(english) == f"The match ({pair}) was cancelled: duplicate"
    assert notice(chinese) == f"对接（{pair}）已取消：duplicate"
    sent_en, sent_zh = mail(english), mail(chinese)
    assert sent_en.subject.startswith("[duijie] The match")
    # Past the message (whose titles are the donor's own words), the mail is all English.
    footer_en = sent_en.body.split("\n", 1)[1]
    assert not HAN.search(footer_en) and "My account" in footer_en, sent_en.body
    assert sent_zh.subject.startswith("【对接】对接（") and "我的账户" in sent_zh.body


def test_choosing_a_language_while_signed_in_is_kept_for_notices(demo_app: Flask) -> None:
    client = demo_app.test_client()
    client.post("/login", data={"username": "auditor", "password": "demo-auditor-2026"})
    client.get("/?lang=en")
    with demo_app.app_context():
        assert user("auditor").locale == "en"
    client.get("/")  # the session's choice, unchanged: nothing to write
    client.get("/?lang=zh_CN")
    with demo_app.app_context():
        assert user("auditor").locale == "zh_CN"


def test_duijie_import_speaks_the_commands_language(demo_app: Flask, tmp_path: Path) -> None:
    sheet = tmp_path / "offers.csv"
    sheet.write_text(
        "类别,标题,说明,数量,最小批量,可去县区,有效期起,有效期止\n"
        "物资,大米,,两百,,,2026-11-23,2026-12-31\n",
        encoding="utf-8",
    )
    runner = demo_app.test_cli_runner()
    args = ["import", "offers", str(sheet), "--as", "donor"]
    english = runner.invoke(args=[*args, "--lang", "en"])
    assert english.exit_code == 1
    assert "1 problems: nothing was imported." in english.output
    # Only the sheet's own words (its header as typed, its cells) stay Chinese.
    words = english.output
    for typed in ("两百", "大米", "数量"):
        words = words.replace(typed, "")
    assert not HAN.search(words), english.output
    chinese = runner.invoke(args=args)
    assert chinese.exit_code == 1 and "1 处问题，什么也没有导入。" in chinese.output
    refused = runner.invoke(args=[*args, "--lang", "fr"])
    assert refused.exit_code == 2 and "'fr' is not one of" in refused.output


# Python files whose Chinese literals are data, not messages: the vocabulary of the sheets
# people fill in and the formats the office files (each with the reason).
DATA_FILES = {
    **{
        f"web/services/sheets/{name}.py": "the import sheets' Chinese headers and words, as "
        "people type them"
        for name in (
            "accounts", "offers", "needs", "villages", "cells", "registry", "exporters",
            "pairing", "cadres",
        )
    },
    "web/services/sheets/kind_cells.py": "the catalogue sheet's Chinese headers",
    "web/services/sheets/catalogue.py": "the catalogue export's sheet name",
    "web/services/ledger.py": "the ledger (台账) export: the office's column headings",
    "web/services/catalogue.py": "the catalogue export's sheet name",
    "web/i18n.py": "the yuan sign of amounts shown in Chinese",
    "web/api/openapi.py": "the API description names the Chinese menu a user opens",
    "web/services/certificate_pdf.py": "the donation certificate (捐赠证书) is printed in Chinese, "
    "the office's document language",
}
# Single literals that are data: stored on a row, not shown as a message.
DATA_LITERALS = {
    ("web/services/delivery.py", "农户本人确认收到"),  # the receipt note the ledger exports
    # The evidence a micro-wish accepted from a household's request keeps.
    ("web/services/households/review.py", "农户自己提出（求助 #{}），村委会受理；估值 {} 元"),
    # The API's field description names the term the office uses.
    ("web/api/kinds.py", "reference value of one unit in yuan (折合金额)"),
    # The prefix committees (and the demo) write into a micro-wish's title, taken off for show.
    ("web/services/titles.py", "微心愿："),
    ("web/services/titles.py", "微心愿:"),
    # What a certificate thanks for, fixed in its stored facts (printed on the Chinese PDF).
    ("web/services/certificates.py", "微心愿・{}"),
}


def _literals(path: Path) -> list[tuple[int, str]]:
    """String literals with Chinese in a module, outside docstrings and gettext calls."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            skip.add(id(first.value))  # a docstring
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("_", "_l"):
            skip.update(id(arg) for arg in node.args)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                part.value if isinstance(part, ast.Constant) else "{}" for part in node.values
            )
            if HAN.search(text):
                found.append((node.lineno, text))
            skip.update(id(part) for part in node.values)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
            and HAN.search(node.value)
        ):
            found.append((node.lineno, node.value))
    return found


def test_no_chinese_is_hard_coded_in_python_outside_the_catalogue() -> None:
    problems = []
    for path in sorted((ROOT / "web").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name in DATA_FILES or "/migrations/" in name:
            continue
        for line, text in _literals(path):
            if (name, text) not in DATA_LITERALS:
                problems.append(f"{name}:{line}: {text!r}")
    assert not problems, "write these through _() with the Chinese in messages.po:\n" + "\n".join(
        problems
    )


def test_the_check_finds_a_hard_coded_message(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        '"""文档。"""\nfrom flask_babel import gettext as _\n'
        'def f(n):\n    """说明。"""\n    ok = _("已导入")\n    return f"已导入 {n} 条"\n',
        encoding="utf-8",
    )
    assert _literals(module) == [(6, "已导入 {} 条")]
