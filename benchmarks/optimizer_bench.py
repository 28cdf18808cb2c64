"""Benchmark the optimizer against greedy, HiGHS on the direct MILP, and the LP bound.

    python benchmarks/optimizer_bench.py --regimes scarce normal rich --seeds 101 102 103
    python benchmarks/optimizer_bench.py                       # every shared + generated instance
    python benchmarks/optimizer_bench.py --instances hezhou-31 gen:500:2 --time-limits 5 30 60
    python benchmarks/optimizer_bench.py --instances kinds/hezhou-kinds-33 genk:500:1
    python benchmarks/optimizer_bench.py --instances hezhou-31 hezhou-32 --repeats 3

Instances are names from ../shared/instances (kinds/NAME for the spec v1.1 weeks with kinds),
gen:OFFERS:SEED (benchmarks/instance_gen.py, 267 villages) or genk:OFFERS:SEED (the same week
with kinds); `--regimes` with `--seeds` adds the generated weeks of each supply regime
(instance_gen.REGIMES: scarce 250, normal 500, rich 1,000 offers), fresh seeds being weeks the
optimizer was never tuned on.

duijie runs as the user runs it: the whole `duijie solve INSTANCE --time-limit T` command in
a child process, its wall time measured from spawning it to its exit (Python's start-up,
imports, reading, solving and writing the result all count). Greedy, HiGHS (scipy's
`milp` on the direct model, benchmarks/direct_milp.py) and the LP bound (the same model with
integrality dropped, HiGHS) each run in their own worker process, so peak memory (max RSS)
is each one's own. Objectives are recomputed exactly from each solver's allocation by
optimizer.evaluate. A summary gives, per family (regime, each shared Hezhou week, v1 or kinds)
and solver, the median ratio to the LP bound over the instances (and --repeats runs), the worst
one and the median and worst wall time, with the machine's load average beside them (the
machine is shared and noisy).
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


def instance_data(name: str) -> Any:
    """The JSON data of a shared name, gen:OFFERS:SEED or genk:OFFERS:SEED."""
    if name.startswith(("gen:", "genk:")):
        from instance_gen import generate

        kind, offers, seed = name.split(":")
        return generate(offers=int(offers), seed=int(seed), kinds=kind == "genk")
    return json.loads((SHARED / f"{name}.json").read_text(encoding="utf-8"))


def load(name: str) -> Any:
    """The Instance of a shared name or gen:OFFERS:SEED."""
    from optimizer import parse_instance

    return parse_instance(instance_data(name))


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
    """Run `work` in a child process (duijie: the `duijie solve` command); add its wall time
    and peak memory."""
    if solver == "duijie":
        return run_command(name, time_limit)
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
               peak_mb=usage.ru_maxrss / 1024, load=os.getloadavg()[0])
    return row


def solve_command() -> list[str]:
    """The `duijie solve` console script beside this Python (else `python -m optimizer`)."""
    script = Path(sys.executable).with_name("duijie")
    return [str(script), "solve"] if script.exists() else [sys.executable, "-m", "optimizer"]


def run_command(name: str, time_limit: float) -> dict[str, Any]:
    """`duijie solve INSTANCE --time-limit T --output RESULT` as a user runs it, timed from
    spawn to exit; the result is checked and its objective recomputed here."""
    from optimizer import Allocation, evaluate

    folder = RESULTS / "instances"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name.replace(":", "-").replace("/", "-") + ".json")
    if not path.exists():
        path.write_text(json.dumps(instance_data(name), ensure_ascii=False), encoding="utf-8")
    out = folder / f"result-{os.getpid()}.json"
    out.unlink(missing_ok=True)
    command = [*solve_command(), str(path), "--time-limit", f"{time_limit:g}", "--output", str(out)]
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    row: dict[str, Any] = {
        "solver": "duijie", "instance": name, "limit": time_limit, "wall": wall,
        "peak_mb": usage.ru_maxrss / 1024, "load": os.getloadavg()[0],
    }
    if status != 0 or not out.exists():
        row.update(objective=None, status=f"failed ({status})")
        return row
    result = json.loads(out.read_text(encoding="utf-8"))
    chosen = [
        Allocation(a["offer"], a["need"], a["quantity"]) for a in result["allocations"]
    ]
    checked = evaluate(load(name), chosen)
    row.update(
        objective=checked.objective if checked.feasible else None,
        feasible=checked.feasible,
        seconds=result["seconds"],
        status=result["status"] if checked.feasible else "infeasible",
        bound=result["bound"],
        links=checked.metrics["links"],
        gini=checked.metrics["gini_coverage"],
    )
    out.unlink()
    return row


def table(rows: list[dict[str, Any]], bounds: dict[str, float | None]) -> str:
    lines = [
        "| instance | solver | limit s | objective | / LP bound | wall s | peak MB | load "
        "| status |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        bound = bounds.get(r["instance"])
        obj = r.get("objective")
        ratio = f"{obj / bound:.4f}" if obj is not None and bound else "-"
        text = f"{obj:,.1f}" if obj is not None else "-"
        limit = "-" if r["solver"] in ("greedy", "lp") else f"{r['limit']:g}"
        lines.append(
            f"| {r['instance']} | {r['solver']} | {limit} | {text} | {ratio} | "
            f"{r['wall']:.1f} | {r['peak_mb']:.0f} | {r.get('load', 0):.1f} | "
            f"{r.get('status', '')} |"
        )
    return "\n".join(lines)


def family(name: str) -> str:
    """The supply regime of a generated v1 week; "kinds" for weeks with kinds (spec v1.1);
    else "v1"."""
    if name.startswith(("kinds/", "genk:")):
        return "kinds"
    if name.startswith("gen:"):
        from instance_gen import REGIMES

        offers = int(name.split(":")[1])
        return next((r for r, n in REGIMES.items() if n == offers), "v1")
    return name if name.startswith("hezhou") else "v1"  # the shared Hezhou weeks, each alone


def summary(rows: list[dict[str, Any]], bounds: dict[str, float | None]) -> str:
    """Per family, solver and limit: median and worst ratio to the LP bound, median and worst
    wall time (the load average beside them)."""
    cells: dict[tuple[str, str, str], list[tuple[float, float, float]]] = {}
    for r in rows:
        bound, obj = bounds.get(r["instance"]), r.get("objective")
        if r["solver"] == "lp" or not bound:
            continue
        ratio = obj / bound if obj is not None else float("-inf")
        limit = "-" if r["solver"] == "greedy" else f"{r['limit']:g}"
        cells.setdefault((family(r["instance"]), r["solver"], limit), []).append(
            (ratio, r["wall"], r.get("load", 0.0))
        )
    lines = [
        "| family | solver | limit s | runs | median / LP bound | min / LP bound "
        "| median wall s | max wall s | median load |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    order = {"scarce": 0, "normal": 1, "rich": 2, "hezhou-31": 3, "hezhou-32": 4, "v1": 5,
             "kinds": 6}
    solvers = {"duijie": 0, "greedy": 1, "highs": 2}
    for (fam, solver, limit), values in sorted(
        cells.items(),
        key=lambda c: (order.get(c[0][0], 9), solvers.get(c[0][1], 9), _num(c[0][2])),
    ):
        ratios = [v[0] for v in values]
        walls = [v[1] for v in values]
        lines.append(
            f"| {fam} | {solver} | {limit} | {len(values)} | {statistics.median(ratios):.4f} | "
            f"{min(ratios):.4f} | {statistics.median(walls):.1f} | {max(walls):.1f} | "
            f"{statistics.median(v[2] for v in values):.1f} |"
        )
    return "\n".join(lines)


def _num(limit: str) -> float:
    return -1.0 if limit == "-" else float(limit)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(work(sys.argv[2], sys.argv[3], float(sys.argv[4]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    shared = sorted(p.stem for p in SHARED.glob("*.json")) if SHARED.is_dir() else []
    shared += sorted(f"kinds/{p.stem}" for p in (SHARED / "kinds").glob("*.json"))
    parser.add_argument("--instances", nargs="*", default=None)
    parser.add_argument(
        "--regimes", nargs="*", default=[], help="supply regimes of generated Hezhou weeks"
    )
    parser.add_argument("--seeds", nargs="+", type=int, default=[101, 102, 103])
    parser.add_argument("--time-limits", nargs="+", type=float, default=[5.0, 10.0, 30.0])
    parser.add_argument("--highs-time-limits", nargs="+", type=float, default=[30.0])
    parser.add_argument("--solvers", nargs="+", default=["duijie", "greedy", "highs"])
    parser.add_argument("--lp-time-limit", type=float, default=600.0)
    parser.add_argument(
        "--repeats", type=int, default=1,
        help="runs of duijie per shared instance and limit (a loaded machine is noisy)",
    )
    args = parser.parse_args()
    from instance_gen import REGIMES

    regimes = [f"gen:{REGIMES[r]}:{seed}" for r in args.regimes for seed in args.seeds]
    if args.instances is None:
        args.instances = [] if regimes else (
            shared + DEFAULT_GENERATED + DEFAULT_GENERATED_KINDS
        )
    args.instances = regimes + args.instances
    print(f"load average at start: {os.getloadavg()[0]:.1f}", flush=True)
    rows: list[dict[str, Any]] = []
    bounds: dict[str, float | None] = {}
    for name in args.instances:
        lp = run("lp", name, args.lp_time_limit)
        bounds[name] = lp.get("objective")
        rows.append(lp)
        for solver in args.solvers:
            limits = {"greedy": [0.0], "highs": args.highs_time_limits}.get(
                solver, args.time_limits
            )
            for limit in limits:
                repeats = args.repeats if solver == "duijie" and not name.startswith(
                    ("gen:", "genk:")
                ) else 1  # generated weeks: one run per seed, the seeds are the repeats
                for _ in range(repeats):
                    rows.append(run(solver, name, limit))
                    print(table(rows[-1:], bounds).splitlines()[-1], flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (RESULTS / f"bench-{stamp}.json").write_text(json.dumps(rows, indent=1))
    report = (
        table(rows, bounds) + "\n\n" + summary(rows, bounds)
        + f"\n\nload average at the end: {os.getloadavg()[0]:.1f}\n"
    )
    (RESULTS / f"bench-{stamp}.md").write_text(report)
    print()
    print(report)


if __name__ == "__main__":
    main()
