"""`duijie allocate` draws a one-line progress bar on a terminal for a week solved whole."""

from __future__ import annotations

import re

import pytest
from flask import Flask

from seeds.demo import WEEK

LIMIT = 4.0

pytestmark = pytest.mark.usefixtures("english_commands")


def test_allocate_draws_one_bar_line_on_a_terminal_closed_before_the_summary(
    demo_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    import web.commands_solve

    monkeypatch.setattr(web.commands_solve, "is_terminal", lambda stream: True)
    done = demo_app.test_cli_runner().invoke(
        args=["allocate", "--week", WEEK, "--time-limit", str(LIMIT)]
    )
    assert done.exit_code == 0, done.output
    drawn = done.stderr
    # Redrawn in place on one line (carriage returns), then closed with one newline.
    assert drawn.startswith("\r[") and drawn.endswith("\n") and drawn.count("\n") == 1
    frames = [frame for frame in drawn.rstrip("\n").split("\r") if frame]
    shown = re.compile(
        r"\[#* *\] +(\d+\.\d) / 4\.0 s  best ([\d,]+\.\d|-)  bound ([\d,]+\.\d|-)\s*$"
    )
    assert frames and all(shown.match(frame) for frame in frames), frames
    elapsed = [float(shown.match(frame).group(1)) for frame in frames]  # type: ignore[union-attr]
    assert elapsed == sorted(elapsed) and elapsed[-1] <= LIMIT
    # The bar shows the objective the summary reports as best found (the last frame's best).
    last_best = shown.match(frames[-1]).group(2)  # type: ignore[union-attr]
    summary = re.search(r"objective ([\d,]+\.\d)", done.stdout)
    assert summary is not None and last_best != "-", done.stdout
    assert float(last_best.replace(",", "")) <= float(summary.group(1).replace(",", "")) + 0.1
    assert "Preview run" in done.stdout and "\r" not in done.stdout


def test_allocate_draws_nothing_when_stderr_is_not_a_terminal(demo_app: Flask) -> None:
    done = demo_app.test_cli_runner().invoke(
        args=["allocate", "--week", WEEK, "--time-limit", str(LIMIT)]
    )
    assert done.exit_code == 0, done.output
    assert done.stderr == "" and "\r" not in done.output and "Preview run" in done.output
