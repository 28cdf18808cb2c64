"""Kinds in the sheets: 品类 named by name or code, or recognised from the title and reported;
every kind checked by the kind rules; exports with kind, code, unit and 折合金额."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from matcher.kinds import Kind
from tests.web.conftest import Auth
from tests.web.imports.boundary import imported
from tests.web.imports.test_imports import _count, _user
from tests.web.week_support import committed, memo_solver  # noqa: F401  (a fixture)
from web.extensions import db
from web.models import Need, Offer
from web.services.imports import export_table_of, table_bytes
from web.services.kinds import kinds_by_code, load_catalogue, row_of

OFFER_HEADER = ["类别", "品类", "不限品类", "标题", "数量", "单位", "有效期起", "有效期止"]
NEED_HEADER = ["类别", "品类", "替代品类", "标题", "数量", "单位", "户编号", "户名"]
NEED_HEADER += ["估计价值（元）", "核实说明"]
DATES = ["2026-11-23", "2026-12-31"]


def _csv(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _offer(category: str, kinds: str, title: str, quantity: str = "100", **more: str) -> list[str]:
    return [category, kinds, more.get("general", ""), title, quantity, more.get("unit", ""), *DATES]


def _need(category: str, kind: str, accepts: str, title: str, **more: str) -> list[str]:
    wish = ["", "", "", ""]
    if "key" in more:
        wish = [more["key"], "黄**", "120", "村两委 11 月入户核实"]
    return [category, kind, accepts, title, more.get("quantity", "1"), more.get("unit", ""), *wish]


def _newest_offer(title: str) -> Offer:
    offer = db.session.scalar(select(Offer).where(Offer.title == title).order_by(Offer.id.desc()))
    assert offer is not None
    return offer


def _problems(report: Any) -> list[tuple[int, str]]:
    return [(e.row, e.column) for e in report.errors]


def test_an_empty_kind_is_recognised_and_the_report_names_it(demo_db: Flask) -> None:
    donor = _user("donor")
    data = _csv(
        [
            OFFER_HEADER,
            _offer("物资", "", "优质茶苗", "5000"),
            _offer("物资", "化肥", "复合肥", "20", unit="袋"),
        ]
    )
    report = imported(db.session, "offers", data, donor)
    assert report.ok, [str(e) for e in report.errors]
    assert report.created == 2
    assert [str(r) for r in report.recognised] == [
        "第 2 行：品类按标题「优质茶苗」识别为 茶苗（goods.seedling.tea）"
    ]
    tea, fertiliser = _newest_offer("优质茶苗"), _newest_offer("复合肥")
    assert (tea.item_codes, tea.items_inferred) == (["goods.seedling.tea"], True)
    assert (fertiliser.item_codes, fertiliser.items_inferred) == (["goods.agri.fertiliser"], False)


def test_a_title_that_tells_no_kind_fails_naming_row_and_column(demo_db: Flask) -> None:
    donor = _user("donor")
    before = _count(Offer)
    rows = [OFFER_HEADER, _offer("物资", "化肥", "复合肥"), _offer("物资", "", "爱心物资一批")]
    report = imported(db.session, "offers", _csv(rows), donor)
    assert _problems(report) == [(3, "品类")] and report.created == 0
    assert str(report.errors[0]) == (
        "第 3 行「品类」：无法从标题「爱心物资一批」判断品类："
        "请在「品类」填写捐赠品类的中文名或编码；"
        "如本类别的任何需求都可接受，请在「不限品类」填“是”。"
    )
    assert _count(Offer) == before
    # Marked general, the same row is a general offer of its category.
    rows[2] = _offer("物资", "", "爱心物资一批", general="是")
    report = imported(db.session, "offers", _csv(rows), donor)
    assert report.ok and report.created == 2 and not report.recognised
    general = _newest_offer("爱心物资一批")
    assert general.general and general.item_codes == []


def test_kinds_by_chinese_name_or_code_several_in_one_cell(demo_db: Flask) -> None:
    donor = _user("donor")
    data = _csv(
        [
            OFFER_HEADER,
            _offer("物资", "茶苗|油茶苗", "茶苗油茶苗各一批", unit="株"),
            _offer("物资", "goods.seedling.tea、goods.seedling.oiltea", "苗木一批"),
            _offer("技能培训", "茶叶种植加工培训", "茶叶培训班", "30", unit="人天"),
        ]
    )
    report = imported(db.session, "offers", data, donor)
    assert report.ok, [str(e) for e in report.errors]
    both = ["goods.seedling.oiltea", "goods.seedling.tea"]
    assert _newest_offer("茶苗油茶苗各一批").item_codes == both
    assert _newest_offer("苗木一批").item_codes == both
    assert _newest_offer("茶叶培训班").item_codes == ["training.crop.tea"]


def test_a_kind_of_another_category_or_unit_or_name_fails_writing_nothing(
    demo_db: Flask,
) -> None:
    donor = _user("donor")
    before = _count(Offer)
    data = _csv(
        [
            OFFER_HEADER,
            _offer("资金", "化肥", "助农资金"),
            _offer("物资", "茶树苗", "茶苗"),
            _offer("物资", "化肥", "复合肥", unit="斤"),
            _offer("物资", "茶苗|食用菌菌棒", "种苗一批"),
            _offer("物资", "化肥", "复合肥", general="是"),
            _offer("物资", "茶苗", "茶苗一批"),
        ]
    )
    report = imported(db.session, "offers", data, donor)
    assert _problems(report) == [(2, "品类"), (3, "品类"), (4, "单位"), (5, "品类"), (6, "品类")]
    messages = [e.message for e in report.errors]
    assert messages[0] == "品类「化肥」（goods.agri.fertiliser）不属于类别「资金」"
    assert messages[1] == (
        "未知品类「茶树苗」：请填品类的中文名或编码，全部品类见模板的「品类表」工作表。"
        " 是不是 茶苗（goods.seedling.tea）？"
    )
    assert messages[2].startswith("化肥 按「袋」计，这里是「斤」。")
    assert "计量单位不同" in messages[3] and "不限品类的资源不能再指定品类" in messages[4]
    assert _count(Offer) == before


def test_an_edited_kind_whose_code_was_left_disagrees_and_is_refused(demo_db: Flask) -> None:
    header = ["类别", "品类", "品类编码", "标题", "数量", *OFFER_HEADER[-2:]]
    edited = ["物资", "油茶苗", "goods.seedling.tea", "茶苗", "100", *DATES]
    agreeing = ["物资", "茶苗", "goods.seedling.tea", "茶苗", "100", *DATES]
    report = imported(db.session, "offers", _csv([header, agreeing, edited]), _user("donor"))
    assert _problems(report) == [(3, "品类编码")]
    assert report.errors[0].message == (
        "「品类」和「品类编码」写的不是同样的品类：请改正其中一个，或清空「品类编码」。"
    )


def test_a_name_two_kinds_share_is_taken_in_the_rows_category_else_refused(
    demo_db: Flask,
) -> None:
    twin = Kind("training.fertiliser", "化肥", "Fertiliser use", "人天", "person-days", 200.0)
    db.session.add(row_of(twin, 999))
    db.session.commit()
    donor = _user("donor")
    data = _csv([OFFER_HEADER, _offer("物资", "化肥", "复合肥"), _offer("资金", "化肥", "化肥款")])
    report = imported(db.session, "offers", data, donor)
    assert _problems(report) == [(3, "品类")]
    assert report.errors[0].message == (
        "「化肥」是多个品类的名称（goods.agri.fertiliser、training.fertiliser），请改填编码。"
    )
    goods_only = _csv([OFFER_HEADER, _offer("物资", "化肥", "复合肥")])
    assert imported(db.session, "offers", goods_only, donor).ok
    assert _newest_offer("复合肥").item_codes == ["goods.agri.fertiliser"]


def test_needs_sheet_with_alternatives_and_wishes_by_household(demo_db: Flask) -> None:
    committee = _user("village")
    data = _csv(
        [
            NEED_HEADER,
            _need("物资", "棉被", "冬衣", "过冬棉被", quantity="30", unit="床"),
            _need("物资", "", "", "助听器", key="kinds-001"),
            _need("物资", "goods.school.desks", "书包文具|图书", "课桌椅", quantity="40"),
        ]
    )
    report = imported(db.session, "needs", data, committee)
    assert report.ok, [str(e) for e in report.errors]
    assert [str(r) for r in report.recognised] == [
        "第 3 行：品类按标题「助听器」识别为 助听器（goods.health.hearing_aid）"
    ]
    own = Need.village_id == committee.village_id
    quilts = db.session.scalar(select(Need).where(own, Need.title == "过冬棉被"))
    assert quilts is not None
    assert (quilts.item_code, quilts.accept_codes) == (
        "goods.living.quilt",
        ["goods.living.winter_clothes"],
    )
    wish = db.session.scalar(select(Need).where(own, Need.title == "助听器"))
    assert wish is not None and wish.household is not None and wish.household.key == "kinds-001"
    assert (wish.item_code, wish.item_inferred) == ("goods.health.hearing_aid", True)
    desks = db.session.scalar(select(Need).where(own, Need.title == "课桌椅"))
    assert desks is not None
    assert desks.accept_codes == ["goods.school.books", "goods.school.stationery"]

    before = _count(Need)
    bad = _csv(
        [
            NEED_HEADER,
            _need("物资", "棉被", "助学资金", "过冬棉被"),
            _need("物资", "棉被|冬衣", "", "过冬棉被"),
            _need("物资", "", "", "村里急需的东西", key="kinds-002"),
            _need("物资", "棉被", "", "过冬棉被", unit="件"),
        ]
    )
    report = imported(db.session, "needs", bad, committee)
    assert _problems(report) == [(2, "替代品类"), (3, "品类"), (4, "品类"), (5, "单位")]
    messages = [e.message for e in report.errors]
    assert messages[0] == "品类「助学资金」（funds.education）不属于类别「物资」"
    assert messages[1] == "一项需求只填一个品类；也可接受的其他品类请填在「替代品类」。"
    assert (
        messages[2] == "无法从标题「村里急需的东西」判断品类：请在「品类」填写品类的中文名或编码。"
    )
    assert _count(Need) == before


def _table_column(table: list[list[Any]], header: str) -> list[Any]:
    index = table[0].index(header)
    return [row[index] for row in table[1:]]


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_offers_export_holds_kinds_and_units_and_imports_again(demo_db: Flask, suffix: str) -> None:
    donor = _user("donor")
    own = Offer.organization_id == donor.organization_id
    originals = db.session.scalars(select(Offer).where(own).order_by(Offer.id)).all()
    table = export_table_of(db.session, "offers", donor)
    header = table[0]
    assert header.index("单位") == header.index("数量") + 1
    catalogue = load_catalogue(db.session)
    for offer, name, code, unit in zip(
        originals,
        _table_column(table, "品类"),
        _table_column(table, "品类编码"),
        _table_column(table, "单位"),
        strict=True,
    ):
        assert code == "|".join(offer.item_codes)
        assert name == "、".join(catalogue[c].name_zh for c in offer.item_codes)
        if offer.item_codes:
            assert unit == catalogue[offer.item_codes[0]].unit_zh
    report = imported(db.session, "offers", table_bytes(table, suffix), donor)
    assert report.ok, [str(e) for e in report.errors]
    assert not report.recognised  # every kind came back named
    copies = db.session.scalars(select(Offer).where(own).order_by(Offer.id)).all()[len(originals) :]
    assert [(c.title, c.item_codes, c.general) for c in copies] == [
        (o.title, o.item_codes, o.general) for o in originals
    ]


def test_needs_export_holds_kinds_and_imports_again(demo_db: Flask) -> None:
    committee = _user("village")
    own = Need.village_id == committee.village_id
    catalogue = load_catalogue(db.session)
    quilt = db.session.scalar(select(Need).where(own, Need.item_code.is_not(None)).limit(1))
    assert quilt is not None and quilt.item_code is not None
    others = [
        k.code for k in catalogue.leaves() if k.category == quilt.category_code and not k.retired
    ]
    alternatives = [c for c in others if c != quilt.item_code][:2]
    quilt.accepts = kinds_by_code(db.session, alternatives)
    db.session.commit()
    originals = db.session.scalars(select(Need).where(own).order_by(Need.id)).all()
    table = export_table_of(db.session, "needs", committee)
    row = next(r for r in table[1:] if r[table[0].index("编号")] == quilt.id)
    cell = dict(zip(table[0], row, strict=True))
    assert cell["品类编码"] == quilt.item_code
    assert cell["品类"] == catalogue[quilt.item_code].name_zh
    assert cell["单位"] == catalogue[quilt.item_code].unit_zh
    assert cell["替代品类编码"] == "|".join(sorted(alternatives))
    assert cell["替代品类"] == "、".join(catalogue[c].name_zh for c in sorted(alternatives))
    report = imported(db.session, "needs", table_bytes(table, ".xlsx"), committee)
    assert report.ok, [str(e) for e in report.errors]
    copies = db.session.scalars(select(Need).where(own).order_by(Need.id)).all()[len(originals) :]
    assert [(c.title, c.item_code, c.accept_codes) for c in copies] == [
        (n.title, n.item_code, n.accept_codes) for n in originals
    ]


def test_the_public_export_hides_what_a_wish_is_for(demo_db: Flask) -> None:
    table = export_table_of(db.session, "needs", None)
    kinds: dict[str, set[str]] = {"微心愿": set(), "村需求": set()}
    for row in table[1:]:
        cell = dict(zip(table[0], row, strict=True))
        kinds[cell["类型"]].add(cell["品类编码"] + cell["品类"] + cell["替代品类"])
    assert kinds["微心愿"] == {""}  # what a wish is for may describe its household
    assert len(kinds["村需求"] - {""}) > 3


def test_templates_explain_kinds_and_their_example_imports(client: FlaskClient, auth: Auth) -> None:
    auth.login("village")
    template = client.get("/import/needs/template.xlsx")
    workbook = load_workbook(io.BytesIO(template.data))
    assert workbook.sheetnames == ["需求和微心愿", "填写说明", "品类表"]
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    example = dict(zip(rows[0], rows[1], strict=True))
    assert (example["品类"], example["替代品类"], example["单位"]) == ("棉被", "冬衣", "床")
    guide = " ".join(
        str(v) for row in workbook["填写说明"].iter_rows(values_only=True) for v in row
    )
    assert "/admin/kinds" in guide and "中文名" in guide and "品类表" in guide
    catalogue = list(workbook["品类表"].iter_rows(values_only=True))
    assert catalogue[0][:3] == ("编码", "中文名", "单位")
    assert ("goods.seedling.tea", "茶苗", "株") in [row[:3] for row in catalogue]
    done = client.post(
        "/import/needs",
        data={"file": (io.BytesIO(template.data), "needs.xlsx")},
        content_type="multipart/form-data",
    )
    assert "已导入 1 条记录" in done.text, done.text


def _upload(client: FlaskClient, rows: list[list[Any]]) -> str:
    response = client.post(
        "/import/offers",
        data={"file": (io.BytesIO(_csv(rows)), "offers.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def test_kind_messages_in_chinese_by_default_and_english_for_an_english_user(
    client: FlaskClient, auth: Auth
) -> None:
    auth.login("donor")
    bad = [OFFER_HEADER, _offer("物资", "", "优质茶苗"), _offer("物资", "茶树苗", "茶苗")]
    bad.append(_offer("物资", "", "爱心物资一批"))
    chinese = _upload(client, bad)
    assert "第 2 行：品类按标题「优质茶苗」识别为 茶苗（goods.seedling.tea）" in chinese
    assert "未知品类「茶树苗」" in chinese and "无法从标题「爱心物资一批」判断品类" in chinese

    assert client.get("/import/offers?lang=en").status_code == 200
    english = _upload(client, bad)
    assert (
        "Row 2: the kind was recognised from the title “优质茶苗” as Tea seedlings "
        "(goods.seedling.tea)" in english
    )
    assert "Unknown kind “茶树苗”: write a kind's Chinese name or its code" in english
    assert "The kinds cannot be told from the title “爱心物资一批”" in english
    assert "Kinds recognised from the title" in english
    for chinese_sentence in ("识别为", "未知品类", "无法从标题", "请填"):
        assert chinese_sentence not in english

    good = [OFFER_HEADER, _offer("物资", "", "优质茶苗")]
    assert "Kinds recognised from the title" in _upload(client, good)


def test_cli_import_lists_the_kinds_it_recognised(demo_db: Flask, tmp_path: Any) -> None:
    sheet = tmp_path / "offers.csv"
    sheet.write_bytes(_csv([OFFER_HEADER, _offer("物资", "", "优质茶苗")]))
    result = demo_db.test_cli_runner().invoke(
        args=["import", "offers", str(sheet), "--as", "donor"]
    )
    assert result.exit_code == 0, result.output
    assert "第 2 行：品类按标题「优质茶苗」识别为 茶苗（goods.seedling.tea）" in result.output
    sheet.write_bytes(_csv([OFFER_HEADER, _offer("物资", "", "爱心物资一批")]))
    result = demo_db.test_cli_runner().invoke(
        args=["import", "offers", str(sheet), "--as", "donor"]
    )
    assert result.exit_code == 1 and "第 2 行「品类」：无法从标题「爱心物资一批」" in result.output


@pytest.mark.usefixtures("memo_solver")
def test_ledger_export_counts_each_quantity_in_its_unit_and_in_yuan(
    demo_app: Flask, client: FlaskClient, auth: Auth
) -> None:
    with demo_app.app_context():
        run = committed()
        catalogue = load_catalogue(db.session)
        expected = {}
        for a in run.allocations:
            kind = catalogue.unit_of(a.need.item_code, a.need.category_code)
            assert kind is not None
            value = a.quantity * kind.ref_value
            expected[a.id] = (a.need.item_code or "", a.quantity, kind.unit_zh, value)
        db.session.remove()
    auth.login("admin")
    body = client.get("/ledger.csv").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    header = rows[0]
    assert header[10:15] == ["品类", "品类编码", "数量", "单位", "折合金额（元）"]
    found = {int(r[0]): (r[11], int(r[12]), r[13], float(r[14])) for r in rows[1:]}
    assert found == expected
    assert len({r[13] for r in rows[1:]}) > 1  # several units: never added up as one
