"""`duijie dedupe FILE` through run_dedupe, on CSV and XLSX files, good and bad."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from matcher.cli import run_dedupe

HEADER = ["id", "village", "category", "title", "description", "quantity"]
ROWS = [
    ["n1", "451102101212", "goods", "棉被50床", "入冬后五保户、贫困户御寒", "50"],
    ["n2", "451102101212", "goods", "冬季御寒被子五十床", "给村里五保户过冬", "50"],
    ["n3", "451102101212", "goods", "农药20箱", "砂糖橘防治木虱", "20"],
    ["n4", "451121103202", "goods", "棉被50床", "入冬后五保户、贫困户御寒", "50"],
    ["n5", "451102101212", "物资", "棉被 ５０床！", "", "80"],
]


def run(path: Path) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of the command on a file."""
    out, err = io.StringIO(), io.StringIO()
    code = run_dedupe(str(path), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def write_csv(tmp_path: Path, rows: list[list[str]], name: str = "needs.csv") -> Path:
    """A UTF-8 CSV file of rows."""
    path = tmp_path / name
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    return path


def write_xlsx(tmp_path: Path, rows: list[list[object]]) -> Path:
    """An XLSX workbook with rows in its first sheet."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    path = tmp_path / "needs.xlsx"
    book.save(path)
    return path


def test_csv_prints_the_duplicate_groups(tmp_path: Path) -> None:
    code, out, err = run(write_csv(tmp_path, [HEADER, *ROWS]))
    assert (code, err) == (0, "")
    assert json.loads(out) == {"groups": [["n1", "n2", "n5"]]}


def test_output_keeps_chinese_ids_readable(tmp_path: Path) -> None:
    rows = [HEADER, ["需求一", "V1", "goods", "棉被50床", "", "5"],
            ["需求二", "V1", "goods", "棉被五十床", "", "5"]]
    code, out, _ = run(write_csv(tmp_path, rows))
    assert code == 0 and '["需求一", "需求二"]' in out


def test_xlsx_with_numbers_as_cells(tmp_path: Path) -> None:
    rows: list[list[object]] = [list(HEADER), *[[*r[:5], int(r[5])] for r in ROWS]]
    rows[3][5] = 20.0  # Excel keeps whole numbers as floats
    code, out, err = run(write_xlsx(tmp_path, rows))
    assert (code, err) == (0, "")
    assert json.loads(out) == {"groups": [["n1", "n2", "n5"]]}


def test_csv_with_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_text("\n".join(",".join(r) for r in [HEADER, *ROWS]), encoding="utf-8-sig")
    assert run(path)[0] == 0


def test_no_duplicates_gives_empty_groups(tmp_path: Path) -> None:
    code, out, _ = run(write_csv(tmp_path, [HEADER, ROWS[0], ROWS[2]]))
    assert code == 0 and json.loads(out) == {"groups": []}


def test_missing_file(tmp_path: Path) -> None:
    code, out, err = run(tmp_path / "nope.csv")
    assert (code, out) == (2, "") and "no such file" in err and "Traceback" not in err


def test_missing_columns(tmp_path: Path) -> None:
    code, _, err = run(write_csv(tmp_path, [["id", "village", "title"], ["1", "V1", "x"]]))
    assert code == 2
    assert err.splitlines() == [
        f"error: {tmp_path / 'needs.csv'}: missing column '{c}'"
        for c in ("category", "description", "quantity")
    ]


@pytest.mark.parametrize("quantity", ["-3", "0", "2.5", "五十", ""])
def test_bad_quantity(tmp_path: Path, quantity: str) -> None:
    rows = [HEADER, ["n1", "V1", "goods", "棉被", "", quantity]]
    code, _, err = run(write_csv(tmp_path, rows))
    assert code == 2 and "row 2 (id 'n1'): bad quantity" in err and len(err.splitlines()) == 1


def test_every_bad_row_is_reported_once(tmp_path: Path) -> None:
    rows = [HEADER, ["n1", "V1", "food", "a", "", "1"], ["n1", "", "goods", "b", "", "x"]]
    code, _, err = run(write_csv(tmp_path, rows))
    assert code == 2
    assert len(err.splitlines()) == 4  # unknown category, duplicate id, empty village, quantity


def test_an_item_column_names_each_needs_kind(tmp_path: Path) -> None:
    rows = [[*HEADER, "item"],
            ["n1", "V1", "goods", "棉被50床", "", "50", "goods.living.quilt"],
            ["n2", "V1", "goods", "冬季御寒被子五十床", "", "50", "goods.living"],
            ["n3", "V1", "goods", "棉被50床", "", "50", "goods.school.desks"]]
    code, out, err = run(write_csv(tmp_path, rows))
    assert (code, err) == (0, "")
    assert json.loads(out) == {"groups": [["n1", "n2"]]}  # desks never repeat quilts


def test_a_kind_of_another_category_is_refused(tmp_path: Path) -> None:
    rows = [[*HEADER, "item"], ["n1", "V1", "goods", "救助金", "", "5", "funds.relief"]]
    code, _, err = run(write_csv(tmp_path, rows))
    assert code == 2
    assert err == (
        f"error: {tmp_path / 'needs.csv'}: row 2 (id 'n1'): kind 'funds.relief' is not of its "
        "category 'goods'\n"
    )


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("\n".join(",".join(r) for r in [HEADER, *ROWS]).encode("gbk"))
    code, _, err = run(path)
    assert code == 2 and "not UTF-8" in err


def test_invalid_csv(tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text(",".join(HEADER) + '\n"n1,V1,goods\n', encoding="utf-8")
    code, _, err = run(path)
    assert code == 2 and "invalid CSV" in err


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    code, _, err = run(path)
    assert code == 2 and "empty file" in err


def test_invalid_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("id,village\n", encoding="utf-8")
    code, _, err = run(path)
    assert code == 2 and "not a readable XLSX" in err and "Traceback" not in err


def test_python_dash_m(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [HEADER, *ROWS])
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "matcher", "dedupe", str(path)], cwd=root,
                          capture_output=True, text=True, encoding="utf-8", check=False)
    assert done.returncode == 0 and json.loads(done.stdout)["groups"] == [["n1", "n2", "n5"]]
    usage = subprocess.run([sys.executable, "-m", "matcher"], cwd=root, capture_output=True,
                           text=True, check=False)
    assert usage.returncode == 2 and "usage" in usage.stderr
