"""Imports from XLSX or CSV, all or nothing with row-by-row errors; exports and round trips."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from tests.web.conftest import Auth
from tests.web.imports.boundary import imported
from web.extensions import db
from web.models import AuditEvent, Household, Need, Offer, User, Village
from web.services import imports
from web.services.imports import ImportDenied, ImportFileError, export_table_of

OFFER_HEADER = ["类别", "标题", "说明", "数量", "最小批量", "可去县区", "有效期起", "有效期止"]


def _csv(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _xlsx(rows: list[list[Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")
    return buffer.getvalue()


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


def _count(model: Any, *where: Any) -> int:
    return int(db.session.scalar(select(func.count(model.id)).where(*where)) or 0)


def _other_village(user: User) -> Village:
    village = db.session.scalar(select(Village).where(Village.id != user.village_id).limit(1))
    assert village is not None
    return village


def test_one_bad_row_imports_nothing_and_names_row_and_column(demo_db: Flask) -> None:
    donor = _user("donor")
    before = _count(Offer, Offer.organization_id == donor.organization_id)
    data = _csv(
        [
            OFFER_HEADER,
            ["物资", "冬季棉被", "", "200", "20", "八步区", "2026-11-23", "2026-12-31"],
            ["物资", "大米", "", "两百", "", "", "2026-11-23", "2026-12-31"],
            ["种子", "化肥", "", "50", "", "", "2026/11/23", "31.12.2026"],
            ["资金", "助学资金", "", "10000", "", "", "2026-11-23", "2026-12-31"],
        ]
    )
    report = imported(db.session, "offers", data, donor)
    assert not report.ok and report.created == 0
    found = {(e.row, e.column) for e in report.errors}
    assert found == {(3, "数量"), (4, "类别"), (4, "有效期止")}
    messages = " ".join(str(e) for e in report.errors)
    assert "第 3 行「数量」：数量必须是大于0的整数。这里是「两百」" in messages
    assert "未知类别「种子」" in messages and "日期格式不对" in messages
    assert _count(Offer, Offer.organization_id == donor.organization_id) == before


def test_a_good_file_imports_every_row_once(demo_db: Flask) -> None:
    committee = _user("village")
    assert committee.village is not None
    code = committee.village.code
    before = _count(Need, Need.village_id == committee.village_id)
    data = _xlsx(
        [
            ["村代码", "类别", "标题", "数量", "紧急程度", "截止日期", "十一有一低于",
             "户编号", "户名", "户人口", "估计价值（元）", "核实说明"],
            [code, "基础设施项目", "村卫生室标准化改造", 1, 4, "2026-12-20", "有标准化卫生室",
             None, None, None, None, None],
            [None, "物资", "过冬棉被", 1, None, None, None,
             "imp-001", "黄**", 4, 120, "村医 11 月 20 日入户核实"],
            [code, "物资", "学生书包", 2, 3, None, None,
             "imp-001", None, None, 80, "村两委入户核实"],
        ]
    )  # fmt: skip
    report = imported(db.session, "needs", data, committee)
    assert report.ok, [str(e) for e in report.errors]
    assert (report.rows, report.created, report.households_created) == (3, 3, 1)
    db.session.expire_all()
    assert _count(Need, Need.village_id == committee.village_id) == before + 3
    household = db.session.scalar(select(Household).where(Household.key == "imp-001"))
    assert household is not None and household.display_name == "黄**" and household.people == 4
    wishes = db.session.scalars(select(Need).where(Need.household_id == household.id)).all()
    assert sorted(w.title for w in wishes) == ["学生书包", "过冬棉被"]
    assert all(w.verification == "pending" and w.estimated_value for w in wishes)
    plain = db.session.scalar(select(Need).where(Need.title == "村卫生室标准化改造"))
    assert plain is not None and plain.urgency == 4 and plain.checklist_item == "clinic"
    assert plain.item_code == "infrastructure.clinic" and plain.item_inferred
    assert {w.item_code for w in wishes} == {"goods.living.quilt", "goods.school.stationery"}


def test_a_committee_cannot_import_needs_for_another_village(demo_db: Flask) -> None:
    committee = _user("village")
    other = _other_village(committee)
    before = _count(Need)
    header = ["村代码", "类别", "品类", "标题", "数量"]
    data = _csv([header, [other.code, "物资", "小型农机具", "水泵", "1"]])
    report = imported(db.session, "needs", data, committee)
    assert [(e.row, e.column) for e in report.errors] == [(2, "村代码")]
    assert "只能导入本村" in report.errors[0].message
    assert _count(Need) == before


def test_a_wish_of_another_villages_household_is_refused(demo_db: Flask) -> None:
    committee = _user("village")
    foreign = db.session.scalar(
        select(Household).where(Household.village_id != committee.village_id).limit(1)
    )
    assert foreign is not None and foreign.key
    data = _csv(
        [
            ["类别", "标题", "数量", "户编号", "估计价值（元）", "核实说明"],
            ["物资", "棉被", "1", foreign.key, "600", ""],
        ]
    )
    report = imported(db.session, "needs", data, committee)
    assert {e.column for e in report.errors} == {"户编号", "估计价值（元）", "核实说明"}


def test_a_donor_cannot_import_for_another_organization(demo_db: Flask) -> None:
    donor, other = _user("donor"), _user("donor-ngo")
    assert other.organization is not None
    before = _count(Offer)
    data = _csv(
        [
            ["机构", *OFFER_HEADER],
            [other.organization.name, "物资", "棉被", "", "10", "", "", "2026-11-23", "2026-12-31"],
        ]
    )
    report = imported(db.session, "offers", data, donor)
    assert [(e.row, e.column) for e in report.errors] == [(2, "机构")]
    assert "只能导入本机构" in report.errors[0].message
    assert _count(Offer) == before
    with pytest.raises(ImportDenied):
        imported(db.session, "offers", data, _user("donor-pending"))
    with pytest.raises(ImportDenied):
        imported(db.session, "accounts", data, donor)
    with pytest.raises(ImportDenied):
        imported(db.session, "needs", data, _user("township"))


def test_accounts_import_checks_duplicates_and_codes(demo_db: Flask) -> None:
    admin = _user("admin")
    village = _user("village").village
    township = _user("township").township
    assert village is not None and township is not None
    header = ["用户名", "显示名称", "角色", "村代码", "乡镇代码", "电子邮箱", "初始密码"]
    bad = _csv(
        [
            header,
            ["cun-new", "新村两委", "村委会", village.code, "", "", ""],
            ["village", "", "村委会", village.code, "", "", ""],
            ["cun-new", "", "审计员", "", "", "not-mail", "short"],
            ["xiang-new", "", "乡镇干部", "", "999999999", "", ""],
            ["boss", "", "管理员", "", "", "", ""],
        ]
    )
    report = imported(db.session, "accounts", bad, admin)
    assert {(e.row, e.column) for e in report.errors} == {
        (3, "用户名"), (4, "用户名"), (4, "电子邮箱"), (4, "初始密码"),
        (5, "乡镇代码"), (6, "角色"),
    }  # fmt: skip
    assert "与第 2 行重复" in " ".join(e.message for e in report.errors)
    assert _count(User, User.username == "cun-new") == 0
    good = _csv(
        [
            header,
            ["cun-new", "新村两委", "村委会", village.code, "", "cun@example.cn", ""],
            ["xiang-new", "", "乡镇干部", "", township.code, "", "xiang-pass-2026"],
            ["shenji-new", "", "auditor", "", "", "", ""],
        ]
    )
    report = imported(db.session, "accounts", good, admin)
    assert report.ok and report.created == 3
    assert [u for u, _ in report.passwords] == ["cun-new", "shenji-new"]
    created = _user("cun-new")
    assert created.village_id == village.id and created.email == "cun@example.cn"
    assert _user("xiang-new").township_id == township.id


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "文件是空的"),
        ("类别,标题\n物资,棉被\n".encode("gbk"), "UTF-8"),
        (b"PK\x03\x04not really a zip", "损坏"),
        (_zip_without_workbook(), "不是 Excel 工作簿"),
        (b"x" * (imports.MAX_IMPORT_BYTES + 1), "文件超过 2 MB"),
        (_csv([["类别", "标题"], ["物资", "棉被"]]), "缺少必填列：数量、有效期起、有效期止"),
        (_csv([OFFER_HEADER]), "没有数据行"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(
    demo_db: Flask, data: bytes, message: str
) -> None:
    with pytest.raises(ImportFileError, match=message):
        imported(db.session, "offers", data, _user("donor"))


def _round_trip(table: list[list[Any]], suffix: str) -> bytes:
    return imports.table_bytes(table, suffix)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_offers_round_trip_export_then_import(demo_db: Flask, suffix: str) -> None:
    donor = _user("donor-unit")
    own = Offer.organization_id == donor.organization_id
    originals = db.session.scalars(select(Offer).where(own).order_by(Offer.id)).all()
    assert originals
    table = export_table_of(db.session, "offers", donor)
    report = imported(db.session, "offers", _round_trip(table, suffix), donor)
    assert report.ok, [str(e) for e in report.errors]
    assert report.created == len(originals)
    copies = db.session.scalars(select(Offer).where(own).order_by(Offer.id)).all()[len(originals) :]

    def shape(o: Offer) -> tuple[Any, ...]:
        return (
            o.category_code, o.title, o.description, o.quantity, o.min_lot, o.max_villages,
            o.indivisible, sorted(c.code for c in o.counties), o.dispatch_lat, o.dispatch_lon,
            o.valid_from, o.valid_until, sorted(v.id for v in o.villages), o.item_codes, o.general,
        )  # fmt: skip

    assert [shape(c) for c in copies] == [shape(o) for o in originals]
    assert all(c.allocated == 0 and c.status == "open" for c in copies)


def test_needs_round_trip_for_the_committee_keeps_wishes_and_households(demo_db: Flask) -> None:
    committee = _user("village")
    own = Need.village_id == committee.village_id
    originals = db.session.scalars(select(Need).where(own).order_by(Need.id)).all()
    assert any(n.household_id for n in originals)
    table = export_table_of(db.session, "needs", committee)
    report = imported(db.session, "needs", _round_trip(table, ".xlsx"), committee)
    assert report.ok, [str(e) for e in report.errors]
    assert report.created == len(originals) and report.households_created == 0
    copies = db.session.scalars(select(Need).where(own).order_by(Need.id)).all()[len(originals) :]

    def shape(n: Need) -> tuple[Any, ...]:
        return (
            n.category_code, n.title, n.description, n.quantity, n.urgency, n.deadline,
            n.checklist_item, n.household_id, n.estimated_value, n.evidence, n.item_code,
            n.accept_codes,
        )  # fmt: skip

    assert [shape(c) for c in copies] == [shape(n) for n in originals]


def test_public_needs_export_holds_no_household(demo_db: Flask) -> None:
    households = db.session.scalars(select(Household)).all()
    for household in households[:5]:
        household.phone = "13800001234"
    db.session.commit()
    public = export_table_of(db.session, "needs", None)
    text = "\n".join(",".join(str(v) for v in row) for row in public)
    assert "微心愿" in text
    assert "13800001234" not in text and "**" not in text
    assert not any(h.key and h.key in text for h in households)
    committee = export_table_of(db.session, "needs", _user("village"))
    assert "**" in "\n".join(",".join(str(v) for v in row) for row in committee)
    assert "13800001234" not in str(committee)


def test_import_page_template_and_upload(client: FlaskClient, auth: Auth) -> None:
    auth.login("donor")
    page = client.get("/import/offers")
    assert page.status_code == 200 and "下载模板" in page.text
    template = client.get("/import/offers/template.xlsx")
    assert template.status_code == 200
    sheet = load_workbook(io.BytesIO(template.data)).worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["机构", "类别", "品类", "不限品类", "标题"] and "有效期止" in header
    assert sheet.max_row == 2  # one example row
    # The template's own example row imports as it is.
    done = client.post(
        "/import/offers",
        data={"file": (io.BytesIO(template.data), "offers.xlsx")},
        content_type="multipart/form-data",
    )
    assert "导入成功：1 行全部有效，已导入 1 条记录" in done.text
    bad = client.post(
        "/import/offers",
        data={"file": (io.BytesIO(_csv([OFFER_HEADER, ["物资", "棉被", "", "-3"]])), "x.csv")},
        content_type="multipart/form-data",
    )
    assert "什么也没有导入" in bad.text
    assert "数量必须是大于0的整数。这里是「-3」" in bad.text
    not_a_sheet = client.post(
        "/import/offers",
        data={"file": (io.BytesIO(b"\x89PNG\r\n\x1a\n\x00\x00"), "offers.xlsx")},
        content_type="multipart/form-data",
    )
    assert "UTF-8" in not_a_sheet.text


@pytest.mark.parametrize(
    ("username", "path", "status"),
    [
        ("village", "/import/accounts", 403),
        ("village", "/import/offers", 403),
        ("village", "/import/needs", 200),
        ("donor", "/import/needs", 403),
        ("donor-pending", "/import/offers", 403),
        ("township", "/import/needs", 403),
        ("auditor", "/import/accounts", 403),
        ("admin", "/import/accounts", 200),
        ("admin", "/import/needs", 200),
        ("admin", "/import/ledger", 404),
    ],
)
def test_import_pages_per_role(
    client: FlaskClient, auth: Auth, username: str, path: str, status: int
) -> None:
    assert client.get(path).status_code == 302
    auth.login(username)
    assert client.get(path).status_code == status


def test_cli_export_and_import(demo_db: Flask, tmp_path: Any) -> None:
    runner = demo_db.test_cli_runner()
    committee_file = tmp_path / "needs.csv"
    result = runner.invoke(args=["export", "needs", str(committee_file), "--as", "village"])
    assert result.exit_code == 0, result.output
    assert "**" in committee_file.read_text(encoding="utf-8-sig")
    before = _count(Need)
    result = runner.invoke(args=["import", "needs", str(committee_file), "--as", "village"])
    assert result.exit_code == 0 and "全部有效" in result.output, result.output
    exported = len(committee_file.read_text(encoding="utf-8-sig").strip().splitlines()) - 1
    assert _count(Need) == before + exported
    newest = db.session.scalar(select(Need.id).order_by(Need.id.desc()).limit(1))
    created = db.session.scalar(
        select(AuditEvent).where(AuditEvent.entity == "need", AuditEvent.entity_id == str(newest))
    )
    assert created is not None and created.actor_id == _user("village").id
    public_file = tmp_path / "needs.xlsx"
    assert runner.invoke(args=["export", "needs", str(public_file)]).exit_code == 0
    cells = [
        str(v) for row in load_workbook(public_file).worksheets[0].iter_rows(values_only=True)
        for v in row if v is not None
    ]  # fmt: skip
    assert cells and not any("**" in v for v in cells)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv([OFFER_HEADER, ["物资", "棉被", "", "0", "", "", "2026-11-23", "x"]]))
    result = runner.invoke(args=["import", "offers", str(bad), "--as", "donor"])
    assert result.exit_code == 1
    assert "第 2 行「数量」" in result.output and "第 2 行「有效期止」" in result.output
    assert runner.invoke(args=["export", "ledger", str(tmp_path / "l.txt")]).exit_code != 0
    ledger = tmp_path / "ledger.csv"
    assert runner.invoke(args=["export", "ledger", str(ledger)]).exit_code == 0
    assert ledger.read_text(encoding="utf-8-sig").startswith("编号,周次")


def test_admin_imports_the_accounts_template_and_sees_the_password_once(
    client: FlaskClient, auth: Auth, demo_app: Flask
) -> None:
    auth.login("admin")
    template = client.get("/import/accounts/template.xlsx")
    done = client.post(
        "/import/accounts",
        data={"file": (io.BytesIO(template.data), "accounts.xlsx")},
        content_type="multipart/form-data",
    )
    assert "已导入 1 条记录" in done.text and "初始密码（只显示这一次）" in done.text
    assert done.headers["Cache-Control"] == "no-store"
    with demo_app.app_context():
        created = db.session.scalar(select(User).where(User.username == "cun-huangtian"))
        assert created is not None and created.role == "village" and created.village_id
        db.session.remove()
    # Uploading the same file again imports nothing: the username is taken now.
    again = client.post(
        "/import/accounts",
        data={"file": (io.BytesIO(template.data), "accounts.xlsx")},
        content_type="multipart/form-data",
    )
    assert "什么也没有导入" in again.text and "用户名「cun-huangtian」已被使用" in again.text
    assert "初始密码（只显示这一次）" not in again.text


def test_current_data_downloads_in_the_import_layout(client: FlaskClient, auth: Auth) -> None:
    auth.login("village")
    download = client.get("/import/needs/current.xlsx")
    assert download.status_code == 200
    rows = list(load_workbook(io.BytesIO(download.data)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:4] == ("村代码", "类别", "品类", "品类编码") and len(rows) > 1
    own = {row[0] for row in rows[1:]}
    assert len(own) == 1  # only the committee's own village
    assert client.get("/import/offers/current.xlsx").status_code == 403


def test_accounts_round_trip_export_then_import(demo_db: Flask) -> None:
    admin = _user("admin")
    table = export_table_of(db.session, "accounts", admin)
    assert table[0][:3] == ["用户名", "显示名称", "角色"] and len(table) > 3
    # The same people under new usernames (the old ones are taken in this database).
    renamed = [table[0]] + [[f"copy-{row[0]}", *row[1:]] for row in table[1:]]
    report = imported(db.session, "accounts", imports.table_bytes(renamed, ".xlsx"), admin)
    assert report.ok, [str(e) for e in report.errors]
    assert report.created == len(table) - 1 == len(report.passwords)
    for row in table[1:]:
        original, copy = _user(str(row[0])), _user(f"copy-{row[0]}")
        assert (copy.role, copy.display_name, copy.village_id, copy.township_id, copy.email) == (
            original.role, original.display_name, original.village_id,
            original.township_id, original.email,
        )  # fmt: skip


def test_an_administrator_imports_needs_of_any_village_naming_each(demo_db: Flask) -> None:
    admin = _user("admin")
    first, second = db.session.scalars(select(Village).order_by(Village.code).limit(2)).all()
    header = ["村代码", "类别", "品类", "标题", "数量"]
    missing = _csv(
        [
            header,
            [first.code, "物资", "小型农机具", "水泵", "1"],
            ["", "物资", "小型农机具", "水管", "3"],
        ]
    )
    report = imported(db.session, "needs", missing, admin)
    found = [(e.row, e.column, e.message) for e in report.errors]
    assert found == [(3, "村代码", "必须填写村代码。")]
    rows = [
        header,
        [first.code, "物资", "小型农机具", "水泵", "1"],
        [second.code, "物资", "goods.agri.tools", "水管", "3"],
    ]
    report = imported(db.session, "needs", _csv(rows), admin)
    assert report.ok and report.created == 2
    assert _count(Need, Need.village_id == first.id, Need.title == "水泵") == 1
    assert _count(Need, Need.village_id == second.id, Need.title == "水管") == 1
