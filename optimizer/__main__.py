"""`python -m optimizer INSTANCE.json [--output RESULT.json] [--time-limit SECONDS]`."""

from __future__ import annotations

import argparse
import sys

from optimizer.cli import DEFAULT_TIME_LIMIT, run_solve


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the solve; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m optimizer", description=__doc__)
    parser.add_argument("instance", help="instance JSON file (specs/allocation-model-v1.md)")
    parser.add_argument("--output", help="write the result here instead of stdout")
    parser.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT, help="seconds")
    args = parser.parse_args(argv)
    return run_solve(
        args.instance, args.output, args.time_limit, stdout=sys.stdout, stderr=sys.stderr
    )


if __name__ == "__main__":
    sys.exit(main())
