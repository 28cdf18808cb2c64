"""Settings shared by every test directory."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

SCREENSHOTS = Path(__file__).resolve().parent.parent / "build" / "browser-screenshots"
_STARTED = time.time()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where the browser tests left their screenshots (or that they did not run)."""
    fresh = [p for p in SCREENSHOTS.rglob("*.png") if p.stat().st_mtime >= _STARTED - 1]
    if fresh:
        terminalreporter.write_line(f"Browser screenshots ({len(fresh)}): {SCREENSHOTS}")
