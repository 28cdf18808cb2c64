"""`python -m matcher dedupe FILE`: the dedupe command without the web app."""

from __future__ import annotations

import sys

from matcher.cli import run_dedupe


def main(argv: list[str]) -> int:
    """Run the command named in argv; 2 with a usage line when it is not understood."""
    if len(argv) != 2 or argv[0] != "dedupe":
        print("usage: python -m matcher dedupe FILE", file=sys.stderr)
        return 2
    return run_dedupe(argv[1], stdout=sys.stdout, stderr=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
