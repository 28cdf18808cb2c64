"""The web layer's shape, measured (issue 18): no import cycle (deferred imports included), no
service reading settings for itself, no module over 600 lines and no function over 60.

Each allow-list below names files that another helper of issue 18 still owns, with the owner:
the integrator empties it as their branches land. An entry that no longer applies fails the
test too, so a list never outlives its reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[3]
WEB = ROOT / "web"

# Imports left out of the cycle search, each the last link of a cycle another helper removes.
CYCLE_ALLOWED: dict[tuple[str, str], str] = {}

# Services that still read current_app / os.environ, by owner.
SETTINGS_ALLOWED: dict[str, str] = {}

MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60
# Modules over 600 lines, by owner.
LONG_MODULES_ALLOWED: dict[str, str] = {}
# Functions over 60 lines (path:name), by owner.
LONG_FUNCTIONS_ALLOWED: dict[str, str] = {}


def _web_files() -> list[Path]:
    return sorted(p for p in WEB.rglob("*.py") if "migrations" not in p.relative_to(WEB).parts)


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's components of more than one module, without recursion."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _cycle_through(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One shortest cycle through the component's first module, for the message."""
    first, members = component[0], set(component)
    paths = {first: [first]}
    queue = [first]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node] & members):
            if target == first:
                return [*paths[node], first]
            if target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    return component


def import_graph() -> dict[str, set[str]]:
    """Every import between web's modules, function-level (deferred) ones included; imports
    under `if TYPE_CHECKING:` run never and are left out."""
    built = grimp.build_graph("web", exclude_type_checking_imports=True)
    return {m: set(built.find_modules_directly_imported_by(m)) for m in built.modules}


def test_the_cycle_search_finds_a_deferred_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _strongly_connected(graph) == [["a", "b", "c"]]
    assert _cycle_through(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]
    # grimp sees imports inside functions: web.cli imports the app factory only in one.
    assert "web.app" in import_graph()["web.cli"]


def test_web_has_no_import_cycle() -> None:
    graph = import_graph()
    for (importer, imported), owner in CYCLE_ALLOWED.items():
        assert imported in graph[importer], f"{importer} -> {imported} is gone ({owner}): unlist it"
        graph[importer].discard(imported)
    cycles = [" -> ".join(_cycle_through(graph, c)) for c in _strongly_connected(graph)]
    assert not cycles, "import cycles (deferred imports count):\n" + "\n".join(cycles)


def _reads_settings(tree: ast.AST) -> list[str]:
    """Where a module reaches for the app's or the process's settings itself."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in ("flask", "os"):
            names = {alias.name for alias in node.names}
            found += [f"line {node.lineno}: from {node.module} import {n}" for n in sorted(
                names & {"current_app", "environ", "getenv"}
            )]  # fmt: skip
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr)
            in {("os", "environ"), ("os", "getenv"), ("flask", "current_app")}
        ):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_no_service_reads_current_app_or_the_environment() -> None:
    offenders = {}
    for path in sorted((WEB / "services").rglob("*.py")):
        name = str(path.relative_to(WEB / "services"))
        found = _reads_settings(ast.parse(path.read_text(encoding="utf-8")))
        if name in SETTINGS_ALLOWED:
            assert found, f"{name} reads no settings now ({SETTINGS_ALLOWED[name]}): unlist it"
        elif found:
            offenders[name] = found
    assert not offenders, f"services must be passed their settings: {offenders}"


def test_the_settings_check_sees_both_ways_in() -> None:
    tree = ast.parse("import os\nfrom flask import current_app\nx = os.environ.get('A')\n")
    assert _reads_settings(tree) == [
        "line 2: from flask import current_app", "line 3: os.environ"
    ]


def test_no_web_module_over_600_lines_nor_function_over_60() -> None:
    long_modules, long_functions, allowed_seen = [], [], set()
    for path in _web_files():
        name = str(path.relative_to(ROOT))
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_MODULE_LINES and name not in LONG_MODULES_ALLOWED:
            long_modules.append(f"{name} ({len(text.splitlines())} lines)")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                where = f"{name}:{node.name}"
                if length > MAX_FUNCTION_LINES and where in LONG_FUNCTIONS_ALLOWED:
                    allowed_seen.add(where)
                elif length > MAX_FUNCTION_LINES:
                    long_functions.append(f"{where} ({length} lines)")
    assert not long_modules, f"modules over {MAX_MODULE_LINES} lines: {long_modules}"
    assert not long_functions, f"functions over {MAX_FUNCTION_LINES} lines: {long_functions}"
    for where in sorted(set(LONG_FUNCTIONS_ALLOWED) - allowed_seen):
        raise AssertionError(f"{where} is short now ({LONG_FUNCTIONS_ALLOWED[where]}): unlist it")
    for name, owner in LONG_MODULES_ALLOWED.items():
        path = ROOT / name
        assert path.exists() and len(path.read_text(encoding="utf-8").splitlines()) > 600, (
            f"{name} is short now ({owner}): unlist it"
        )
