"""`python -m optimizer.rolling INSTANCE.json [--output RESULT.json] [--time-limit SECONDS]`:
solve a v2 instance (specs/allocation-model-v2.md)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TextIO

from optimizer.parse import InvalidInstance
from optimizer.rolling.parse import load_rolling
from optimizer.rolling.solve import rolling_result_to_json, solve_rolling


def run_rolling(
    instance_path: str, output_path: str | None, time_limit: float, *,
    stdout: TextIO, stderr: TextIO, started: float | None = None,
) -> int:
    """Solve and write the result; 0 on success, 2 on invalid input (one line per problem)."""
    started = time.perf_counter() if started is None else started
    try:
        instance = load_rolling(instance_path)
    except InvalidInstance as error:
        for problem in error.problems:
            print(problem, file=stderr)
        return 2
    left = time_limit - (time.perf_counter() - started)
    result = solve_rolling(instance, time_limit=max(0.1, left * 0.97 - 0.05))
    text = json.dumps(rolling_result_to_json(result), ensure_ascii=False, indent=1)
    if output_path:
        with open(output_path, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        stdout.write(text + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    parser = argparse.ArgumentParser(prog="python -m optimizer.rolling", description=__doc__)
    parser.add_argument("instance", help="instance JSON file (specs/allocation-model-v2.md)")
    parser.add_argument("--output", help="write the result here instead of stdout")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds, wall time")
    args = parser.parse_args(argv)
    return run_rolling(
        args.instance, args.output, args.time_limit, stdout=sys.stdout, stderr=sys.stderr,
        started=started,
    )


if __name__ == "__main__":
    sys.exit(main())
