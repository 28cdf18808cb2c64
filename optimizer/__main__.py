"""`python -m optimizer INSTANCE.json [--output RESULT.json] [--time-limit SECONDS]`."""

from __future__ import annotations

import argparse
import os
import sys

from optimizer.cli import DEFAULT_TIME_LIMIT, process_start, run_solve


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the solve; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m optimizer", description=__doc__)
    parser.add_argument("instance", help="instance JSON file (specs/allocation-model-v1.md)")
    parser.add_argument("--output", help="write the result here instead of stdout")
    parser.add_argument(
        "--time-limit", type=float, default=DEFAULT_TIME_LIMIT,
        help="seconds of wall time for the whole command, start-up and output included",
    )
    args = parser.parse_args(argv)
    return run_solve(
        args.instance, args.output, args.time_limit, stdout=sys.stdout, stderr=sys.stderr,
        started=process_start(),
    )


if __name__ == "__main__":
    code = main()
    # Leave without tearing down the solve's objects (up to half a second when the machine is
    # loaded): the time limit covers the whole command. The result is written and flushed.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
