"""Fault points for the fault-injection tests: a named place where a test may kill the process.

`fault_point("commit:locked")` does nothing unless the environment variable DUIJIE_FAULT names
that point when the app is built (web.config reads it, create_app calls `arm`), in which case
the process kills itself with SIGKILL there (no cleanup, no rollback: exactly like a crash or
an OOM kill). Production never sets
DUIJIE_FAULT, so a fault point costs one set lookup.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterable

_ARMED: frozenset[str] = frozenset()
_PAUSED: frozenset[str] = frozenset()


def arm(points: Iterable[str], pauses: Iterable[str]) -> None:
    """Make `points` kill the process and `pauses` wait for stdin (the process's settings)."""
    global _ARMED, _PAUSED
    _ARMED, _PAUSED = frozenset(points), frozenset(pauses)


def fault_point(name: str) -> None:
    """Die here with SIGKILL when DUIJIE_FAULT names this point; otherwise do nothing.

    When DUIJIE_FAULT_PAUSE names it, say so on stderr and wait for a line on stdin instead, so
    that a test can cut the database connection at this point and then let the code go on.
    """
    if name in _ARMED:
        os.kill(os.getpid(), signal.SIGKILL)
    if name in _PAUSED:
        print(f"paused at {name}", file=sys.stderr, flush=True)
        sys.stdin.readline()
