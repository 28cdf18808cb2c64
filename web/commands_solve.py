"""`duijie solve` (whole, or `--distributed` on the RQ queue) and the progress bars of
`duijie allocate` (a week solved whole, or cut into parts)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, TextIO

from optimizer import Progress
from web.services.distributed import Distributed, PartsProgress

if TYPE_CHECKING:
    from redis import Redis

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
SHOWN_LOST = 10  # parts given nothing listed on stderr (all are in the result's metrics)


# The bars' words; `duijie allocate` passes them translated (the solver's callbacks may come
# from a thread without the app's context, so they are looked up before the solve).
BAR_WORDS = {"parts": "parts", "best": "best", "bound": "bound", "lost": "lost"}


class PartsBar:
    """A one-line bar on a terminal: parts done / total, elapsed, best objective, bound."""

    def __init__(self, stream: TextIO, words: dict[str, str] | None = None) -> None:
        self.stream, self.shown, self.drawn = stream, 0.0, False
        self.words = {**BAR_WORDS, **(words or {})}

    def __call__(self, parts: PartsProgress) -> None:
        now = time.monotonic()
        if now - self.shown < 0.2 and parts.done < parts.total:
            return
        self.shown, self.drawn = now, True
        share = parts.done / parts.total if parts.total else 1.0
        bar = "#" * int(share * 30)
        best = "-" if parts.objective is None else f"{parts.objective:,.1f}"
        bound = "-" if parts.bound is None else f"{parts.bound:,.1f}"
        said = self.words
        lost = f"  {said['lost']} {parts.lost}" if parts.lost else ""
        self.stream.write(
            f"\r[{bar:<30}] {parts.done}/{parts.total} {said['parts']}  {parts.elapsed:5.1f}s  "
            f"{said['best']} {best}  {said['bound']} {bound}{lost}  "
        )
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


class WeekBar:
    """A one-line bar on a terminal for a week solved whole: seconds since the command started
    against its time limit, best objective, bound. Nothing is written until the solver reports."""

    def __init__(
        self, stream: TextIO, time_limit: float, started: float,
        words: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        self.stream, self.time_limit, self.started = stream, time_limit, started
        self.shown, self.drawn = 0.0, False
        self.words = {**BAR_WORDS, **(words or {})}

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self.shown < 0.2:
            return
        self.shown, self.drawn = now, True
        elapsed = max(0.0, now - self.started)
        share = min(1.0, elapsed / self.time_limit) if self.time_limit > 0 else 1.0
        bar = "#" * int(share * 30)
        best = "-" if progress.objective is None else f"{progress.objective:,.1f}"
        bound = "-" if progress.bound is None else f"{progress.bound:,.1f}"
        self.stream.write(
            f"\r[{bar:<30}] {elapsed:5.1f} / {self.time_limit:.1f} s  "
            f"{self.words['best']} {best}  {self.words['bound']} {bound}  "
        )
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def process_started() -> float:
    """When this process started, on time.monotonic()'s clock (optimizer.cli.process_start):
    a time limit that bounds a command's wall time counts its start-up too."""
    from optimizer.cli import process_start

    return time.monotonic() - (time.perf_counter() - process_start())


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def run_distributed(
    instance_path: str,
    output_path: str | None,
    time_limit: float,
    *,
    redis_url: str | None,
    queue: str,
    part_seconds: str | None = None,
    stdout: TextIO,
    stderr: TextIO,
) -> int:
    """Solve INSTANCE.json as parts on the RQ queue; write the result like `duijie solve`.

    Exit 0 with a result, 1 with one line when Redis is not configured or does not answer or
    no worker listens on the queue (nothing is enqueued then), 2 on invalid input. The time
    limit bounds the whole command, reading and writing included.
    """
    started = process_started()
    from optimizer.cli import write_result
    from web.services.distributed import part_seconds_setting

    if not redis_url:
        stderr.write("no Redis is configured: set DUIJIE_REDIS_URL to send the parts to workers\n")
        return EXIT_FAILED
    try:
        longest = part_seconds_setting(part_seconds)
    except ValueError as error:
        stderr.write(f"{error}\n")
        return EXIT_FAILED
    from redis import Redis

    connection = Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=30)
    bar = PartsBar(stderr) if is_terminal(stderr) else None
    try:
        solved = _solve_on_queue(
            instance_path, time_limit, connection, queue, bar, started, longest, stderr
        )
    finally:
        if bar is not None:
            bar.close()
        connection.close()
    if isinstance(solved, int):
        return solved
    for lost in solved.lost[:SHOWN_LOST]:
        stderr.write(
            f"part {lost['key']} ({lost['needs']} needs) given nothing: {lost['reason']}\n"
        )
    if len(solved.lost) > SHOWN_LOST:
        stderr.write(f"… and {len(solved.lost) - SHOWN_LOST} more parts given nothing\n")
    write_result(solved.result, output_path, stdout)
    return EXIT_OK


def _solve_on_queue(
    instance_path: str,
    time_limit: float,
    connection: Redis,
    queue: str,
    bar: PartsBar | None,
    started: float,
    part_seconds: float | None,
    stderr: TextIO,
) -> Distributed | int:
    """The instance solved as parts by the queue's workers, or the exit status after one line
    on stderr: no worker listens, Redis does not answer, or the instance is invalid."""
    from optimizer.parse import InvalidInstance, load_instance
    from web.services.distributed import (
        NoWorkers,
        QueueUnavailable,
        solve_distributed,
        workers_on,
    )

    try:
        # Workers first: with none listening the command fails at once, before reading the week.
        if workers_on(connection, queue) == 0:
            raise NoWorkers(f"no worker listens on the queue {queue!r}")
        try:
            instance = load_instance(instance_path)
        except InvalidInstance as error:
            for problem in error.problems:
                stderr.write(f"{problem}\n")
            return EXIT_INVALID
        return solve_distributed(
            instance,
            time_limit=time_limit,
            connection=connection,
            queue_name=queue,
            steal=False,
            on_progress=bar,
            started=started,
            part_seconds=part_seconds,
        )
    except NoWorkers as error:
        stderr.write(f"{error} on {_where(connection)}: start `duijie worker` (docs/deploy.md)\n")
        return EXIT_FAILED
    except QueueUnavailable as error:
        stderr.write(f"Redis at {_where(connection)} cannot be reached: {_first_line(error)}\n")
        return EXIT_FAILED


def _where(connection: object) -> str:
    kwargs = connection.connection_pool.connection_kwargs  # type: ignore[attr-defined]
    return "{host}:{port}/{db}".format(**{"host": "?", "port": "?", "db": 0, **kwargs})


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
