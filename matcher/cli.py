"""The `duijie dedupe FILE` command: print the groups of duplicate needs in a list as JSON."""

from __future__ import annotations

import json
from typing import TextIO

from matcher.dedupe import duplicate_need_groups
from matcher.table import TableError, read_needs


def run_dedupe(path: str, *, stdout: TextIO, stderr: TextIO) -> int:
    """Print {"groups": [[id, ...], ...]} for the file; exit 0, or 2 with one line per problem."""
    try:
        needs = read_needs(path)
    except TableError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=stderr)
        return 2
    groups = duplicate_need_groups(needs)
    print(json.dumps({"groups": groups}, ensure_ascii=False), file=stdout)
    return 0
