"""Importing the poor villages' records by code: all or nothing, administrators only."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from seeds.checklist import CHECKLIST_ITEMS
from tests.web.conftest import Auth
from tests.web.imports.boundary import imported
from web.extensions import db
from web.models import User, Village
from web.services.imports import ImportDenied, export_table_of, table_bytes

HEADER = [
    "村代码",
    "脱贫状态",
    "脱贫年份",
    "户籍人口",
    "建档立卡贫困户数",
    "建档立卡贫困人口",
    "纬度",
    "经度",
    *(zh for _, zh, _ in CHECKLIST_ITEMS),
]


def _csv(rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


def _snapshot() -> dict[str, tuple[Any, ...]]:
    db.session.expire_all()
    return {
        v.code: (
            v.status,
            v.exit_year,
            v.population,
            v.poor_households,
            v.poor_population,
            v.poverty_incidence,
            v.poverty_weight,
            v.ethnic_minority,
            v.lat,
            v.lon,
            dict(v.checklist or {}),
        )
        for v in db.session.scalars(select(Village))
    }


def _codes(n: int) -> list[str]:
    return list(db.session.scalars(select(Village.code).order_by(Village.code).limit(n)))


def _row(code: str, status: str = "已脱贫", year: Any = 2019, **over: Any) -> list[Any]:
    row = [code, status, year, 1500, 90, 320, 24.4, 111.6] + ["是"] * 11 + ["否"]
    for index, value in over.items():
        row[int(index[1:])] = value
    return row


def test_a_good_file_updates_the_named_villages_and_nothing_else(demo_db: Flask) -> None:
    before = _snapshot()
    first, second = _codes(2)
    data = _csv([HEADER, _row(first), _row(second, "未脱贫", "", c3=800, c6=23.1, c7=112.9)])
    report = imported(db.session, "villages", data, _user("admin"))
    assert report.ok, report.errors
    assert report.created == 2
    after = _snapshot()
    assert {code for code in after if after[code] != before[code]} == {first, second}
    one = db.session.scalar(select(Village).where(Village.code == first))
    two = db.session.scalar(select(Village).where(Village.code == second))
    assert one is not None and two is not None
    assert (one.status, one.exit_year, one.population) == ("exited", 2019, 1500)
    assert (one.poor_households, one.poor_population) == (90, 320)
    assert one.checklist["clinic"] is True and one.checklist["incidence"] is False
    assert (two.status, two.exit_year, two.population, two.lat, two.lon) == (
        "poor",
        None,
        800,
        23.1,
        112.9,
    )


def test_one_bad_row_changes_nothing_and_names_row_and_column(demo_db: Flask) -> None:
    before = _snapshot()
    a, b, c = _codes(3)
    data = _csv(
        [
            HEADER,
            _row(a),
            _row(b, c6=30.5),  # latitude outside Hezhou
            _row("451199999999"),  # no such village
            _row(c, "摘帽了", 1999, c5=2000),  # status, year, more poor people than people
        ]
    )
    report = imported(db.session, "villages", data, _user("admin"))
    assert not report.ok and report.created == 0
    found = {(e.row, e.column) for e in report.errors}
    assert found == {
        (3, "纬度"),
        (4, "村代码"),
        (5, "脱贫状态"),
        (5, "脱贫年份"),
        (5, "建档立卡贫困人口"),
    }
    assert any("451199999999" in e.message for e in report.errors)
    db.session.rollback()
    assert _snapshot() == before


@pytest.mark.parametrize("username", ["village", "donor", "township"])
def test_only_administrators_import_villages(
    demo_db: Flask, client: FlaskClient, auth: Auth, username: str
) -> None:
    before = _snapshot()
    data = _csv([HEADER, _row(_codes(1)[0])])
    with pytest.raises(ImportDenied):
        imported(db.session, "villages", data, _user(username))
    auth.login(username)
    assert client.get("/import/villages").status_code == 403
    assert client.get("/import/villages/template.xlsx").status_code == 403
    posted = client.post(
        "/import/villages",
        data={"file": (io.BytesIO(data), "v.csv")},
        content_type="multipart/form-data",
    )
    assert posted.status_code == 403
    assert _snapshot() == before


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_changes_nothing(demo_db: Flask, suffix: str) -> None:
    before = _snapshot()
    table = export_table_of(db.session, "villages", _user("admin"))
    assert len(table) - 1 == len(before)
    report = imported(db.session, "villages", table_bytes(table, suffix), _user("admin"))
    assert report.ok, report.errors[:5]
    assert report.created == len(before)
    assert _snapshot() == before


def test_admin_page_template_and_upload(demo_db: Flask, client: FlaskClient, auth: Auth) -> None:
    auth.login("admin")
    page = client.get("/import/villages")
    assert page.status_code == 200 and "贫困村" in page.text
    template = client.get("/import/villages/template.xlsx")
    sheet = load_workbook(io.BytesIO(template.data)).worksheets[0]
    assert [c.value for c in sheet[1]][:3] == ["村代码", "脱贫状态", "脱贫年份"]
    current = client.get("/import/villages/current.xlsx")
    rows = list(load_workbook(io.BytesIO(current.data)).worksheets[0].values)
    assert len(rows) > 2 and rows[0][-4:] == ("村名", "乡镇", "县区", "市")
    assert rows[1][-1] == "贺州市"
    code = str(rows[1][0])
    bad = client.post(
        "/import/villages",
        data={"file": (io.BytesIO(_csv([HEADER, _row(code, c3="很多")])), "v.csv")},
        content_type="multipart/form-data",
    )
    assert "什么也没有导入" in bad.text and "户籍人口" in bad.text
    done = client.post(
        "/import/villages",
        data={"file": (io.BytesIO(_csv([HEADER, _row(code, c3=4321)])), "v.csv")},
        content_type="multipart/form-data",
    )
    assert "1 行全部有效" in done.text
    village = db.session.scalar(select(Village).where(Village.code == code))
    assert village is not None and village.population == 4321


def test_cli_export_and_import_villages(demo_db: Flask, tmp_path: Any) -> None:
    runner = demo_db.test_cli_runner()
    exported = tmp_path / "villages.xlsx"
    result = runner.invoke(args=["export", "villages", str(exported)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["import", "villages", str(exported), "--as", "admin"])
    assert result.exit_code == 0, result.output
    assert "全部有效" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv([HEADER, _row("000000000000")]))
    result = runner.invoke(args=["import", "villages", str(bad), "--as", "admin"])
    assert result.exit_code == 1 and "000000000000" in result.output
    result = runner.invoke(args=["import", "villages", str(exported), "--as", "donor"])
    assert result.exit_code != 0 and "管理员" in result.output
