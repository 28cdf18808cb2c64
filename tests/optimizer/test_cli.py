"""run_solve: the command line's semantics without a process."""

from __future__ import annotations

import io
import json
from pathlib import Path

from optimizer.cli import run_solve
from tests.optimizer.factories import instance, need, offer, village

GOOD = instance([village("V1")], [need("N1", "V1", 2, 3)], [offer("O1", 5)])


def run(path: Path, output: Path | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = run_solve(str(path), str(output) if output else None, 5.0, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_good_file_to_stdout(tmp_path: Path) -> None:
    path = tmp_path / "week.json"
    path.write_text(json.dumps(GOOD))
    code, out, err = run(path)
    assert code == 0 and err == ""
    result = json.loads(out)
    assert result["status"] == "optimal" and result["objective"] == 300.0
    assert result["allocations"] == [
        {"offer": "O1", "need": "N1", "quantity": 2, "km": 0.0, "value": 300.0}
    ]


def test_good_file_to_output(tmp_path: Path) -> None:
    path, output = tmp_path / "week.json", tmp_path / "result.json"
    path.write_text(json.dumps(GOOD))
    code, out, _ = run(path, output)
    assert code == 0 and out == ""
    assert json.loads(output.read_text())["objective"] == 300.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.json", "week.json"]


def test_invalid_file_lists_problems_and_writes_nothing(tmp_path: Path) -> None:
    bad = json.loads(json.dumps(GOOD))
    bad["needs"][0]["quantity"] = -2
    bad["offers"][0]["indivisible"] = "yes"
    path, output = tmp_path / "week.json", tmp_path / "result.json"
    path.write_text(json.dumps(bad))
    code, out, err = run(path, output)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("needs[0] id='N1': quantity:")
    assert lines[1].startswith("offers[0] id='O1': indivisible:")
    assert "Traceback" not in err
    assert not output.exists()


def test_unreadable_path(tmp_path: Path) -> None:
    code, out, err = run(tmp_path / "missing.json")
    assert code == 2 and out == ""
    assert "cannot read file" in err and "Traceback" not in err


def test_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "week.json"
    path.write_text('{"villages": [')
    code, _, err = run(path)
    assert code == 2 and err.startswith("instance: not valid JSON")
    assert len(err.splitlines()) == 1


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    path = tmp_path / "week.json"
    path.write_text(json.dumps(GOOD))
    assert run(path)[2] == ""


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    path = tmp_path / "week.json"
    path.write_text(json.dumps(GOOD))
    err = Terminal()
    assert run_solve(str(path), None, 5.0, stdout=io.StringIO(), stderr=err) == 0
    assert "best" in err.getvalue()
