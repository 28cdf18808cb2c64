"""`duijie solve` semantics: read an instance, solve it, write the result JSON."""

from __future__ import annotations

import json
import os
import tempfile
import time
from typing import TextIO

from optimizer.model import Progress, Result
from optimizer.parse import InvalidInstance, load_instance
from optimizer.result import result_to_json
from optimizer.solve import solve

DEFAULT_TIME_LIMIT = 30.0
EXIT_OK, EXIT_INVALID = 0, 2


class _ProgressBar:
    """A one-line progress bar on a terminal: elapsed time, best objective, bound."""

    def __init__(self, stream: TextIO, time_limit: float) -> None:
        self.stream, self.time_limit, self.shown = stream, time_limit, 0.0

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self.shown < 0.2:
            return
        self.shown = now
        share = min(1.0, progress.elapsed / self.time_limit) if self.time_limit > 0 else 1.0
        bar = "#" * int(share * 30)
        best = "-" if progress.objective is None else f"{progress.objective:,.1f}"
        bound = "-" if progress.bound is None else f"{progress.bound:,.1f}"
        self.stream.write(
            f"\r[{bar:<30}] {progress.elapsed:5.1f}s  best {best}  bound {bound}  "
        )
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


WRITE_SECONDS = 0.25  # kept for writing the result and leaving the process (idle: ~0.05 s)


def process_start() -> float:
    """When this process started, on the time.perf_counter() clock (Linux: from /proc; else
    now), so a command's time limit can cover the interpreter's start and its imports."""
    now = time.perf_counter()
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # seconds after boot
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - started
    except (OSError, ValueError, IndexError, AttributeError):
        return now
    return now - age if 0.0 <= age < 3600.0 else now


def run_solve(
    instance_path: str,
    output_path: str | None,
    time_limit: float = DEFAULT_TIME_LIMIT,
    *,
    stdout: TextIO,
    stderr: TextIO,
    started: float | None = None,
) -> int:
    """Solve INSTANCE.json; write the result to `output_path` or stdout. Returns the exit code:
    0 with a result, 2 on invalid input (one line per problem on stderr, nothing written).

    `time_limit` bounds the wall time from `started` (a time.perf_counter() value; default:
    now; the console commands pass process_start()) to the result written: reading, solving
    and writing all count.
    """
    begun = time.perf_counter() if started is None else started
    try:
        instance = load_instance(instance_path)
    except InvalidInstance as error:
        for problem in error.problems:
            stderr.write(f"{problem}\n")
        return EXIT_INVALID
    bar = _ProgressBar(stderr, time_limit) if _is_terminal(stderr) else None
    left = time_limit - (time.perf_counter() - begun) - WRITE_SECONDS
    result = solve(instance, time_limit=max(0.05, left), progress=bar)
    if bar is not None:
        bar.close()
    write_result(result, output_path, stdout)
    return EXIT_OK


def write_result(result: Result, output_path: str | None, stdout: TextIO) -> None:
    """The result JSON on stdout, or written atomically to `output_path`."""
    text = json.dumps(result_to_json(result), ensure_ascii=False, indent=1) + "\n"
    if output_path is None:
        stdout.write(text)
    else:
        _write_atomically(output_path, text)


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _write_atomically(path: str, text: str) -> None:
    """Write via a temporary file beside `path`, so a crash never leaves half a result."""
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".result-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
