"""Province-size week: greedy, the decomposed solve with 1, 2 and 4 workers, and the bound.

    python benchmarks/province_bench.py                    # one Guangxi-size week, seed 1
    python benchmarks/province_bench.py --workers 2 --repeat 3 --budget 480
    python benchmarks/province_bench.py --provinces 2 --workers 2   # the scaling run
    DUIJIE_REDIS_URL=redis://127.0.0.1:6379/13 python benchmarks/province_bench.py \
        --villages 1000 --needs 8000 --offers 2000 --workers 1 2 --rq 1 2 --budget 120

`--rq 1 2` adds the RQ path beside the process pool: `duijie worker` processes (1, then 2) on
DUIJIE_REDIS_URL, a queue of their own, serve the parts of web.services.distributed's
coordinator (`solve_distributed`, as `duijie solve --distributed` runs it) within a wall time
limit of --rq-time-limit seconds (default: the wall time the process pool took with as many
workers in this run, so the two compare at equal wall time; without such a row, the budget over
the workers times 1.5, as the coordinator gives parts 60% of the workers' time);
its bound jobs run on the same workers when time allows. The workers are this measurement's
child processes, so their memory and CPU are counted with it. `--villages/--needs/--offers`
give a smaller week (the full province is very heavy for a shared 2-core machine).

The week comes from province_gen.py (14 cities, 111 counties, 5,000 villages, 40,000 needs,
10,000 offers). Each measurement runs in its own child process, which runs the parts on a
ProcessPoolExecutor (spawned workers), so its peak memory is its own: `peak MB` is the
largest sum of the resident sizes of the child and its workers, sampled every 0.2 s from
/proc; `maxrss MB` is getrusage's max RSS of the child plus that of its largest worker.
The bound is the Lagrangian bound of optimizer.decompose (sum of the categories' LP
relaxations, with fairness priced at mu_v per unit of coverage, minus floor * sum of mu),
run on the same kind of pool after the solves, with prices from the best solution's
coverage (the penalty below the floor, 0 above it, half at it; any prices give a valid
bound, these a tight one). Objectives are recomputed by optimizer.evaluate on the whole week.
Results go to benchmarks/results/ (gitignored).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

RESULTS = ROOT / "benchmarks" / "results"


def _tree_rss_mb(pid: int) -> tuple[float, float]:
    """Resident MB of a process and all its descendants, and of the largest descendant (a part
    worker or its work horse), from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21])
    total, largest, stack = 0, 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        if p != pid:
            largest = max(largest, rss.get(p, 0))
        stack += children.get(p, [])
    page = os.sysconf("SC_PAGE_SIZE") / 2**20
    return total * page, largest * page


class _Sampler(threading.Thread):
    """Samples this process tree's resident memory until stopped; keeps the peak."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0.0
        self.worker_peak = 0.0  # the largest single worker process
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.2):
            total, largest = _tree_rss_mb(os.getpid())
            self.peak = max(self.peak, total)
            self.worker_peak = max(self.worker_peak, largest)


def prices_of(instance: Any, allocations: Any) -> dict[str, float]:
    """Fairness prices for the bound from a solution's coverage (optimizer.decompose's)."""
    from optimizer.decompose import fairness_prices

    return fairness_prices(instance, allocations)


def _rq_workers(count: int, queue: str, folder: Path) -> list[subprocess.Popen[bytes]]:
    """Start `count` duijie workers on a queue of their own; wait until they listen."""
    from redis import Redis
    from rq import Queue, Worker

    env = {
        **os.environ,
        "DUIJIE_QUEUE": queue,
        "DUIJIE_DATABASE_URL": f"sqlite:///{folder / 'bench-worker.sqlite3'}",
        "DUIJIE_SECRET_KEY": os.environ.get("DUIJIE_SECRET_KEY", "bench"),
    }
    duijie = str(Path(sys.executable).parent / "duijie")
    workers = [
        subprocess.Popen(
            [duijie, "worker", "--name", f"{queue}-{k}"],
            env=env,
            cwd=folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for k in range(count)
    ]
    connection = Redis.from_url(os.environ["DUIJIE_REDIS_URL"])
    deadline = time.monotonic() + 120
    while Worker.count(queue=Queue(queue, connection=connection)) < count:
        if time.monotonic() > deadline:
            raise RuntimeError("the duijie workers did not start")
        time.sleep(0.2)
    return workers


def work_rq(path: str, workers: int, time_limit: float) -> dict[str, Any]:
    """The RQ path: `workers` duijie workers serve the coordinator's parts."""
    import secrets

    from redis import Redis

    from optimizer import evaluate, load_instance
    from web.services.distributed import solve_distributed

    queue = f"duijie-bench-{secrets.token_hex(4)}"
    instance = load_instance(path)
    sampler = _Sampler()
    sampler.start()
    pool = _rq_workers(workers, queue, Path(path).parent)
    connection = Redis.from_url(os.environ["DUIJIE_REDIS_URL"])
    start = time.perf_counter()
    try:
        solved = solve_distributed(
            instance, time_limit=time_limit, connection=connection, queue_name=queue, steal=False
        )
    finally:
        wall = time.perf_counter() - start
        for process in pool:
            process.terminate()
        for process in pool:
            try:  # a worker finishing a job it took as the run ended: it is not needed
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
        for key in connection.scan_iter(match=f"rq:*{queue}*"):
            connection.delete(key)
    checked = evaluate(instance, solved.result.allocations)
    assert checked.feasible, checked.violations[:5]
    sampler.done.set()
    sampler.join()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    out = Path(path).with_suffix(f".prices-rq{workers}.json")
    out.write_text(json.dumps(prices_of(instance, solved.result.allocations)))
    return {
        "prices": str(out),
        "coordinator_mb": own,
        "worker_mb": sampler.worker_peak,
        "objective": checked.objective,
        "bound_rq": solved.result.bound,
        "metrics": dict(solved.result.metrics),
        "lost": [p["key"] for p in solved.lost],
        "wall": wall,
        "time_limit": time_limit,
        "peak_mb": max(sampler.peak, own),
        "maxrss_mb": own + kids,
        "cpu": sum(u.ru_utime + u.ru_stime for u in used),
        "load": os.getloadavg()[0],
    }


def work(
    mode: str, path: str, workers: int, budget: float, seed: int, prices: str | None = None
) -> dict[str, Any]:
    """One measurement in this (child) process."""
    if mode == "rq":
        return work_rq(path, workers, budget)
    from optimizer import evaluate, load_instance, solve_greedy
    from optimizer.decompose import bound_part, bound_payloads, combine_bounds, solve_decomposed

    instance = load_instance(path)
    sampler = _Sampler()
    sampler.start()
    start = time.perf_counter()
    row: dict[str, Any] = {}
    if mode == "greedy":
        result = solve_greedy(instance)
        row["objective"] = evaluate(instance, result.allocations).objective
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            if mode == "bound":
                mu = json.loads(Path(prices).read_text()) if prices else None
                outputs = list(pool.map(bound_part, bound_payloads(instance, mu)))
                row["objective"] = combine_bounds(instance, outputs)
                row["jobs"] = [
                    {k: o[k] for k in ("key", "pairs", "seconds", "bound")} for o in outputs
                ]
            else:
                solved = solve_decomposed(instance, budget=budget, executor=pool, seed=seed)
                checked = evaluate(instance, solved.result.allocations)
                assert checked.feasible, checked.violations[:5]
                row["objective"] = checked.objective
                row["metrics"] = dict(solved.result.metrics)
                row["parts"] = solved.parts
                out = Path(path).with_suffix(f".prices-w{workers}.json")
                out.write_text(json.dumps(prices_of(instance, solved.result.allocations)))
                row["prices"] = str(out)
    row["wall"] = time.perf_counter() - start
    sampler.done.set()
    sampler.join()
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    row.update(
        peak_mb=max(sampler.peak, own),
        maxrss_mb=own + kids,
        coordinator_mb=own,
        worker_mb=sampler.worker_peak,
    )
    used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    row["cpu"] = sum(u.ru_utime + u.ru_stime for u in used)
    row["load"] = os.getloadavg()[0]  # the machine is shared: other work slows every wall
    return row


def run(
    mode: str, path: Path, workers: int, budget: float, seed: int, prices: str = ""
) -> dict[str, Any]:
    """`work` in a child process (`prices`: a JSON file of fairness prices for the bound)."""
    command = [
        sys.executable,
        __file__,
        "--worker",
        mode,
        str(path),
        str(workers),
        str(budget),
        str(seed),
        prices,
    ]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    try:
        row = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        row = {"objective": None, "error": done.stderr[-2000:]}
    row.update(mode=mode, workers=workers, process_wall=time.perf_counter() - start)
    return row


def table(rows: list[dict[str, Any]], bound: float | None, greedy: float | None) -> str:
    one = [r["wall"] for r in rows if r["mode"] == "decomposed" and r["workers"] == 1]
    base = statistics.median(one) if one else None
    one_rq = [r["wall"] for r in rows if r["mode"] == "rq" and r["workers"] == 1]
    base_rq = statistics.median(one_rq) if one_rq else None
    lines = [
        "| run | workers | wall s | CPU s | load | peak MB | coordinator MB | worker MB | "
        "objective | / bound | / its own bound | / greedy | speed-up vs 1 | parts lost |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        obj = r.get("objective")
        if obj is None:
            lines.append(f"| {r['mode']} | {r['workers']} | failed: {r.get('error', '')[-200:]} |")
            continue
        ratio = f"{obj / bound:.4f}" if bound and r["mode"] != "bound" else "-"
        solved = r["mode"] in ("decomposed", "rq")
        vs_greedy = f"{obj / greedy:.3f}" if greedy and solved else "-"
        first = base if r["mode"] == "decomposed" else base_rq
        speed = f"{first / r['wall']:.2f}" if first and solved else "-"
        workers = "-" if r["mode"] == "greedy" else r["workers"]
        own = f"{obj / r['bound_rq']:.4f}" if r.get("bound_rq") else "-"
        lines.append(
            f"| {r['mode']} | {workers} | {r['wall']:.1f} | {r.get('cpu', 0):.0f} | "
            f"{r.get('load', 0):.1f} | {r['peak_mb']:.0f} | {r.get('coordinator_mb', 0):.0f} | "
            f"{r.get('worker_mb', 0):.0f} | {obj:,.1f} | {ratio} | {own} | {vs_greedy} | "
            f"{speed} | {len(r['lost']) if 'lost' in r else '-'} |"
        )
    return "\n".join(lines)


def plan_figures(provinces: int, seed: int) -> dict[str, Any]:
    """How the parts grow with the week: counts, sizes, payload bytes (nothing solved)."""
    from province_gen import generate

    from optimizer import parse_instance
    from optimizer.decompose import part_payloads, plan_parts

    instance = parse_instance(generate(provinces=provinces, seed=seed))
    start = time.perf_counter()
    plan = plan_parts(instance)
    payloads = part_payloads(instance, plan, budget=240.0 * provinces)
    seconds = time.perf_counter() - start
    sizes = sorted(p.size for p in plan.parts)
    return {
        "provinces": provinces,
        "villages": len(instance.villages),
        "needs": len(instance.needs),
        "offers": len(instance.offers),
        "parts": len(plan.parts),
        "wide_offers": plan.wide_offers,
        "largest_part": sizes[-1],
        "median_part": sizes[len(sizes) // 2],
        "total_size": sum(sizes),
        "payload_mb": sum(len(json.dumps(p, ensure_ascii=False)) for p in payloads) / 2**20,
        "plan_seconds": seconds,
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        mode, path, workers, budget, seed, prices = sys.argv[2:8]
        row = work(mode, path, int(workers), float(budget), int(seed), prices or None)
        print(json.dumps(row))
        return
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--provinces", type=int, default=1)
    parser.add_argument(
        "--workers", nargs="*", type=int, default=[1, 2, 4], help="process pool sizes (none: skip)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=480.0,
        help="solver seconds shared by the parts (both rounds)",
    )
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--bound-workers", type=int, default=2)
    parser.add_argument(
        "--rq",
        nargs="*",
        type=int,
        default=[],
        metavar="WORKERS",
        help="also the RQ path with these many duijie workers (needs DUIJIE_REDIS_URL)",
    )
    parser.add_argument("--rq-time-limit", type=float, default=None)
    parser.add_argument("--villages", type=int, default=5_000)
    parser.add_argument("--needs", type=int, default=40_000)
    parser.add_argument("--offers", type=int, default=10_000)
    parser.add_argument("--skip", nargs="*", default=[], choices=["greedy", "bound"])
    parser.add_argument(
        "--wide", type=float, default=None, help="share of province-wide offers (province_gen)"
    )
    parser.add_argument(
        "--plan-only",
        nargs="*",
        type=int,
        metavar="PROVINCES",
        help="only plan weeks of these many provinces and print the part figures",
    )
    args = parser.parse_args()
    if args.rq and not os.environ.get("DUIJIE_REDIS_URL"):
        parser.error("--rq needs DUIJIE_REDIS_URL (the Redis the duijie workers listen on)")
    if args.plan_only:
        for provinces in args.plan_only:
            print(json.dumps(plan_figures(provinces, args.seed)), flush=True)
        return
    from province_gen import generate

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    size = (args.villages, args.needs, args.offers)
    suffix = "" if size == (5_000, 40_000, 10_000) else f"-{args.villages}v"
    suffix += "" if args.wide is None else f"-wide{args.wide:g}"
    path = RESULTS / f"province-{args.provinces}x-seed{args.seed}{suffix}.json"
    data = generate(
        provinces=args.provinces,
        villages=args.villages,
        needs=args.needs,
        offers=args.offers,
        seed=args.seed,
        wide=args.wide,
    )
    path.write_text(json.dumps(data, ensure_ascii=False))
    print(
        f"{path.name}: {len(data['villages'])} villages, {len(data['needs'])} needs, "
        f"{len(data['offers'])} offers",
        flush=True,
    )
    rows: list[dict[str, Any]] = []
    greedy = bound = None
    if "greedy" not in args.skip:
        rows.append(run("greedy", path, 1, 0.0, args.seed))
        greedy = rows[-1].get("objective")
        print(rows[-1].get("wall"), greedy, rows[-1].get("error", ""), flush=True)
    for _ in range(args.repeat):
        for workers in args.workers:
            rows.append(run("decomposed", path, workers, args.budget, args.seed))
            print(table(rows[-1:], bound, greedy).splitlines()[-1], flush=True)
        for workers in args.rq:
            # Same wall time as the process pool with as many workers, when it ran: the RQ
            # coordinator is bounded by wall time, the pool by solver seconds.
            pool = [
                r["wall"] for r in rows if r["mode"] == "decomposed" and r["workers"] == workers
            ]
            limit = args.rq_time_limit or (
                statistics.median(pool) if pool else 1.5 * args.budget / workers
            )
            rows.append(run("rq", path, workers, limit, args.seed))
            print(table(rows[-1:], bound, greedy).splitlines()[-1], flush=True)
    solved = [
        r for r in rows if r["mode"] in ("decomposed", "rq") and r.get("objective") is not None
    ]
    if "bound" not in args.skip:
        # Prices from the best solution's coverage: tighter than mu = penalty everywhere.
        best = max(solved, key=lambda r: r["objective"]) if solved else None
        prices = best["prices"] if best else ""
        rows.append(run("bound", path, args.bound_workers, 0.0, args.seed, prices))
        bound = rows[-1].get("objective")
        print(rows[-1].get("wall"), bound, rows[-1].get("error", ""), flush=True)
    (RESULTS / f"province-{stamp}.json").write_text(json.dumps(rows, indent=1))
    (RESULTS / f"province-{stamp}.md").write_text(table(rows, bound, greedy) + "\n")
    print()
    print(table(rows, bound, greedy))


if __name__ == "__main__":
    main()
