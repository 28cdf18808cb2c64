"""Services only flush; the boundaries commit (web/unit_of_work.py).

A `.commit()` in web/services/ is allowed only on a line marked ``# commits mid-way: <why>``
(on the line itself or the comment line just above it), for the few places that must commit
before the boundary does: a refusal whose log entry or throttle record must stay, a token's
last use, a claim before a long solve, an outbox send.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[3] / "web" / "services"
MARK = re.compile(r"#\s*commits mid-way:\s*\S.{8,}")

# Services not yet converted, with the most commits they may keep (none left: jobs are
# boundaries in web/jobs/, the sheet importers flush).
NOT_YET_CONVERTED: dict[str, int] = {}


def _commits(path: Path) -> list[int]:
    """Line numbers of every `<anything>.commit()` call in the module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "commit"
        and not node.args
    ]


def _marked(lines: list[str], lineno: int) -> bool:
    here = lines[lineno - 1]
    above = lines[lineno - 2].strip() if lineno > 1 else ""
    return bool(MARK.search(here)) or (above.startswith("#") and bool(MARK.search(above)))


def unmarked_commits() -> dict[str, list[int]]:
    """module -> lines of its commits that carry no ``# commits mid-way: <why>`` comment."""
    found: dict[str, list[int]] = {}
    for path in sorted(SERVICES.rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        bad = [n for n in _commits(path) if not _marked(lines, n)]
        if bad:
            found[str(path.relative_to(SERVICES))] = bad
    return found


def test_services_commit_only_where_a_comment_says_why() -> None:
    unmarked = unmarked_commits()
    for name, most in NOT_YET_CONVERTED.items():
        assert len(unmarked.pop(name, [])) <= most, f"{name} gained a commit"
    assert unmarked == {}, (
        "services flush, the boundary commits (web/unit_of_work.py); a commit that truly must "
        f"happen mid-way needs '# commits mid-way: <why>': {unmarked}"
    )


def test_the_check_finds_an_unmarked_commit(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text(
        "def a(session):\n"
        "    session.commit()\n"
        "def b(session):\n"
        "    # commits mid-way: the refusal's log entry must stay\n"
        "    session.commit()\n"
        "def c(session):\n"
        "    session.commit()  # commits mid-way: a claim before the long solve\n"
        "def d(session):\n"
        "    session.commit()  # commits mid-way:\n",
        encoding="utf-8",
    )
    lines = module.read_text(encoding="utf-8").splitlines()
    assert [n for n in _commits(module) if not _marked(lines, n)] == [2, 9]


def test_households_share_one_session_without_a_deferred_commit() -> None:
    for path in (SERVICES / "households").glob("*.py"):
        assert "_DeferredCommit" not in path.read_text(encoding="utf-8"), path.name


def _long_functions(path: Path, most: int = 60) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{node.name} {node.end_lineno - node.lineno + 1}"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > most
    ]


def test_households_and_the_outbox_are_in_pieces_one_can_read() -> None:
    modules = [*sorted((SERVICES / "households").glob("*.py")), SERVICES / "outbox.py"]
    for path in modules:
        assert len(path.read_text(encoding="utf-8").splitlines()) <= 600, path.name
        assert _long_functions(path) == [], path.name


def test_households_read_no_app_settings_themselves() -> None:
    for path in sorted((SERVICES / "households").glob("*.py")):
        text = path.read_text(encoding="utf-8")
        assert "current_app" not in text and "os.environ" not in text, path.name
