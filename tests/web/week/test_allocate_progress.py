"""`duijie allocate` draws a one-line progress bar on a terminal for a week solved whole."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import time
from pathlib import Path

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


def test_the_bar_speaks_the_commands_language(
    demo_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    import web.commands_solve

    monkeypatch.setattr(web.commands_solve, "is_terminal", lambda stream: True)
    done = demo_app.test_cli_runner().invoke(
        args=["allocate", "--week", WEEK, "--time-limit", "3"], env={"DUIJIE_LANG": "zh_CN"}
    )
    assert done.exit_code == 0, done.output
    assert re.search(r"\r\[#* *\] +\d+\.\d / 3\.0 s  最优 [\d,]+\.\d  上界 ", done.stderr)
    assert "best" not in done.stderr and "预览方案" in done.stdout


def test_allocate_draws_nothing_when_stderr_is_not_a_terminal(demo_app: Flask) -> None:
    done = demo_app.test_cli_runner().invoke(
        args=["allocate", "--week", WEEK, "--time-limit", str(LIMIT)]
    )
    assert done.exit_code == 0, done.output
    assert done.stderr == "" and "\r" not in done.output and "Preview run" in done.output


def test_allocate_on_a_real_terminal_draws_the_bar_within_its_limit(tmp_path: Path) -> None:
    """The installed command with stderr on a pseudo-terminal, stdout on a pipe."""
    exe = Path(sys.executable).with_name("duijie")
    env = {
        **os.environ,
        "DUIJIE_DATABASE_URL": f"sqlite:///{tmp_path / 'bar.sqlite3'}",
        "DUIJIE_SECRET_KEY": "t",
        "DUIJIE_LANG": "en",
    }
    for args in (("db", "upgrade"), ("seed", "--demo")):
        done = subprocess.run([exe, *args], env=env, cwd=tmp_path, capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr
    leader, follower = pty.openpty()
    started = time.monotonic()
    with subprocess.Popen(
        [exe, "allocate", "--week", WEEK, "--time-limit", "8"],
        env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=follower, text=True,
    ) as allocate:  # fmt: skip
        os.close(follower)
        drawn = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            drawn += chunk
        summary = allocate.stdout.read() if allocate.stdout else ""
        assert allocate.wait(timeout=60) == 0, drawn
    os.close(leader)
    wall = time.monotonic() - started
    text = drawn.decode()
    assert re.search(r"\r\[#* *\] +\d+\.\d / 8\.0 s  best [\d,]+\.\d  bound ", text), text
    assert text.endswith("\r\n") and "Preview run" not in text  # closed; the summary on stdout
    assert "Preview run" in summary and wall < 8 + 1.5
