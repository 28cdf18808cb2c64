"""Settings shared by every test directory."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from seeds.demo import WEEK_START

# The tests replay the demo week (seeds.demo.WEEK, 2026-W48): "today" is its Monday for the week
# rules (web.clock.today), in this process and the commands it starts. A test of the clock
# itself sets DUIJIE_TODAY in its app's config, or removes it.
os.environ.setdefault("DUIJIE_TODAY", WEEK_START.isoformat())

SCREENSHOTS = Path(__file__).resolve().parent.parent / "build" / "browser-screenshots"
_STARTED = time.time()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where the browser tests left their screenshots (or that they did not run)."""
    fresh = [p for p in SCREENSHOTS.rglob("*.png") if p.stat().st_mtime >= _STARTED - 1]
    if fresh:
        terminalreporter.write_line(f"Browser screenshots ({len(fresh)}): {SCREENSHOTS}")
