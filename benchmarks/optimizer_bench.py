"""Benchmark the optimizer against greedy, HiGHS on the direct MILP, and the LP bound.

    python benchmarks/optimizer_bench.py                       # every shared + generated instance
    python benchmarks/optimizer_bench.py --instances hezhou-31 gen:500:2 --time-limits 5 30 60
    python benchmarks/optimizer_bench.py --instances kinds/hezhou-kinds-33 genk:500:1

Instances are names from ../shared/instances (kinds/NAME for the spec v1.1 weeks with kinds),
gen:OFFERS:SEED (benchmarks/instance_gen.py, 267 villages) or genk:OFFERS:SEED (the same week
with kinds). A summary gives, per family (v1 or kinds) and solver, the median ratio to the LP
bound and the median wall time. Each solver runs in its own process, so peak memory (max
RSS) is its own.
Objectives are recomputed exactly from each solver's allocation by optimizer.evaluate.
Results go to benchmarks/results/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

SHARED = next(
    (p / "shared" / "instances" for p in ROOT.parents if (p / "shared" / "instances").is_dir()),
    ROOT.parent / "shared" / "instances",
)
RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_GENERATED = [f"gen:{offers}:{seed}" for offers in (250, 500, 1000) for seed in (1, 2)]
DEFAULT_GENERATED_KINDS = [f"genk:{offers}:{seed}" for offers in (500, 1000) for seed in (1, 2)]


def load(name: str) -> Any:
    """The Instance of a shared name or gen:OFFERS:SEED."""
    from optimizer import parse_instance

    if name.startswith(("gen:", "genk:")):
        from instance_gen import generate

        family, offers, seed = name.split(":")
        return parse_instance(generate(offers=int(offers), seed=int(seed), kinds=family == "genk"))
    return parse_instance(json.loads((SHARED / f"{name}.json").read_text(encoding="utf-8")))


def work(solver: str, name: str, time_limit: float) -> dict[str, Any]:
    """Run one solver on one instance in this process; the objective is recomputed exactly."""
    from optimizer import Allocation, evaluate, solve, solve_greedy
    from optimizer.problem import build_problem
    from optimizer.solution import allocations

    instance = load(name)
    start = time.perf_counter()
    status, bound = "feasible", None
    if solver == "duijie":
        result = solve(instance, time_limit=time_limit)
        chosen: tuple[Allocation, ...] = result.allocations
        status, bound = result.status, result.bound
    elif solver == "greedy":
        chosen = solve_greedy(instance).allocations
    else:
        from direct_milp import solve_direct

        problem = build_problem(instance)
        remaining = time_limit - (time.perf_counter() - start)
        units, value = solve_direct(problem, remaining, relax=solver == "lp")
        if solver == "lp":
            return {"objective": value, "seconds": time.perf_counter() - start, "status": "lp"}
        chosen = allocations(problem, units) if units is not None else ()
    seconds = time.perf_counter() - start
    checked = evaluate(instance, chosen)
    return {
        "objective": checked.objective if checked.feasible else None,
        "feasible": checked.feasible,
        "seconds": seconds,
        "status": status if checked.feasible else "infeasible after rounding",
        "bound": bound,
        "links": checked.metrics["links"],
        "gini": checked.metrics["gini_coverage"],
    }


def run(solver: str, name: str, time_limit: float) -> dict[str, Any]:
    """Run `work` in a child process; add its wall time and peak memory."""
    command = [sys.executable, __file__, "--worker", solver, name, str(time_limit)]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = status
    wall = time.perf_counter() - start
    try:
        row = json.loads(output.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        row = {"objective": None, "status": f"failed ({status})"}
    row.update(solver=solver, instance=name, limit=time_limit, wall=wall,
               peak_mb=usage.ru_maxrss / 1024)
    return row


def table(rows: list[dict[str, Any]], bounds: dict[str, float | None]) -> str:
    lines = [
        "| instance | solver | limit s | objective | / LP bound | wall s | peak MB | status |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        bound = bounds.get(r["instance"])
        obj = r.get("objective")
        ratio = f"{obj / bound:.4f}" if obj is not None and bound else "-"
        text = f"{obj:,.1f}" if obj is not None else "-"
        limit = "-" if r["solver"] in ("greedy", "lp") else f"{r['limit']:g}"
        lines.append(
            f"| {r['instance']} | {r['solver']} | {limit} | {text} | {ratio} | "
            f"{r['wall']:.1f} | {r['peak_mb']:.0f} | {r.get('status', '')} |"
        )
    return "\n".join(lines)


def family(name: str) -> str:
    """"kinds" for weeks with kinds (spec v1.1), else "v1"."""
    return "kinds" if name.startswith(("kinds/", "genk:")) else "v1"


def summary(rows: list[dict[str, Any]], bounds: dict[str, float | None]) -> str:
    """Median ratio to the LP bound and median wall time per family, solver and limit."""
    cells: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    for r in rows:
        bound, obj = bounds.get(r["instance"]), r.get("objective")
        if r["solver"] == "lp" or obj is None or not bound:
            continue
        limit = "-" if r["solver"] == "greedy" else f"{r['limit']:g}"
        cells.setdefault((family(r["instance"]), r["solver"], limit), []).append(
            (obj / bound, r["wall"])
        )
    lines = [
        "| family | solver | limit s | instances | median / LP bound | min / LP bound "
        "| median wall s |",
        "|---|---|---|---|---|---|---|",
    ]
    for (fam, solver, limit), values in sorted(cells.items()):
        ratios = [v[0] for v in values]
        lines.append(
            f"| {fam} | {solver} | {limit} | {len(values)} | {statistics.median(ratios):.4f} | "
            f"{min(ratios):.4f} | {statistics.median(v[1] for v in values):.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(work(sys.argv[2], sys.argv[3], float(sys.argv[4]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = sorted(p.stem for p in SHARED.glob("*.json")) if SHARED.is_dir() else []
    shared += sorted(f"kinds/{p.stem}" for p in (SHARED / "kinds").glob("*.json"))
    parser.add_argument(
        "--instances", nargs="+", default=shared + DEFAULT_GENERATED + DEFAULT_GENERATED_KINDS
    )
    parser.add_argument("--time-limits", nargs="+", type=float, default=[30.0])
    parser.add_argument("--solvers", nargs="+", default=["duijie", "greedy", "highs"])
    parser.add_argument("--lp-time-limit", type=float, default=600.0)
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    bounds: dict[str, float | None] = {}
    for name in args.instances:
        lp = run("lp", name, args.lp_time_limit)
        bounds[name] = lp.get("objective")
        rows.append(lp)
        for solver in args.solvers:
            limits = [0.0] if solver == "greedy" else args.time_limits
            for limit in limits:
                rows.append(run(solver, name, limit))
                print(table(rows[-1:], bounds).splitlines()[-1], flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"bench-{stamp}.json").write_text(json.dumps(rows, indent=1))
    report = table(rows, bounds) + "\n\n" + summary(rows, bounds) + "\n"
    (RESULTS / f"bench-{stamp}.md").write_text(report)
    print()
    print(report)


if __name__ == "__main__":
    main()
