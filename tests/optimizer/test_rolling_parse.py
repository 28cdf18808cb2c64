"""v2 input validation: v1's problems and v2's, named by field and id, nothing solved."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import pytest

from optimizer.parse import InvalidInstance
from optimizer.rolling import parse_rolling
from optimizer.rolling.__main__ import run_rolling
from tests.optimizer.factories import instance, need, offer, village


def _base() -> dict:
    data = instance([village("V1")], [need("N1", "V1", 5)], [offer("O1", 5)])
    data["horizon"] = 3
    return data


def problems(data: object) -> list[str]:
    with pytest.raises(InvalidInstance) as caught:
        parse_rolling(data)
    return caught.value.problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(horizon=0), "instance: horizon: must be an integer within [1, 12]"),
        (lambda d: d.update(horizon="4"), "instance: horizon"),
        (lambda d: d.update(horizon=True), "instance: horizon"),
        (lambda d: d["needs"][0].update(due=1.5), "needs[0] id='N1': due: must be an integer"),
        (lambda d: d["needs"][0].update(due="2026-12-01"), "needs[0] id='N1': due"),
        (lambda d: d["needs"][0].update(open_from=-1), "needs[0] id='N1': open_from"),
        (lambda d: d["needs"][0].update(open_from=2, due=1),
         "needs[0] id='N1': due: must not be before open_from (2), got 1"),
        (lambda d: d["offers"][0].update(available_from=2, available_until=1),
         "offers[0] id='O1': available_until: must not be before available_from (2), got 1"),
        (lambda d: d["offers"][0].update(available_until=-1), "offers[0] id='O1': available_until"),
        (lambda d: d["offers"][0].update(perishable=True),
         "offers[0] id='O1': perishable: unknown key"),
        (lambda d: d.update(history=[{"village": "V9", "weeks_ago": 1, "coverage": 0}]),
         "history[0]: village: unknown village id \"V9\""),
        (lambda d: d.update(history=[{"village": "V1", "weeks_ago": 0, "coverage": 0}]),
         "history[0]: weeks_ago"),
        (lambda d: d.update(history=[{"village": "V1", "weeks_ago": 1, "coverage": 1.5}]),
         "history[0]: coverage: must be a number within [0, 1]"),
        (lambda d: d.update(history=[{"village": "V1", "weeks_ago": 1, "coverage": 0}] * 2),
         "history[1]: duplicate history of village 'V1' 1 weeks ago"),
        (lambda d: d.update(history={}), "history: must be a list"),
        (lambda d: d["policy"].update(window=0), "policy: window: must be an integer >= 1"),
        (lambda d: d["policy"].update(catch_up=-1), "policy: catch_up: must be a number >= 0"),
        (lambda d: d["policy"].update(catch_up=float("nan")), "policy: catch_up"),
    ],
)
def test_bad_v2_input_is_refused_naming_the_field(change, expected: str) -> None:  # type: ignore[no-untyped-def]
    data = _base()
    change(data)
    found = problems(data)
    assert any(p.startswith(expected) for p in found), found


def test_v1_and_v2_problems_are_reported_together() -> None:
    data = _base()
    data["needs"][0]["quantity"] = 0
    data["needs"][0]["due"] = "soon"
    found = problems(data)
    assert any("needs[0] id='N1': quantity" in p for p in found)
    assert any("needs[0] id='N1': due" in p for p in found)


def test_overdue_need_without_open_from_is_valid() -> None:
    data = _base()
    data["needs"][0]["due"] = -2
    assert parse_rolling(data).need_due == (-2,)


def test_command_line_exit_2_on_bad_input_and_wall_time_bounded(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**_base(), "horizon": 99}))
    err = io.StringIO()
    assert run_rolling(str(bad), None, 5, stdout=io.StringIO(), stderr=err) == 2
    assert "horizon" in err.getvalue()
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_base()))
    out = io.StringIO()
    started = time.perf_counter()
    assert run_rolling(str(good), None, 2, stdout=out, stderr=io.StringIO()) == 0
    assert time.perf_counter() - started < 2
    assert json.loads(out.getvalue())["allocations"][0]["week"] == 0
