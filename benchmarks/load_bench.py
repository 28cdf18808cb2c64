"""Load benchmark: gunicorn on the load database, wrk at 32 connections on each page.

    python benchmarks/load_data.py                 # once: 100,000 offers, 400,000 needs
    python benchmarks/load_bench.py                # 15 s per endpoint, one round
    python benchmarks/load_bench.py --seconds 30 --rounds 3 --only healthz,dashboard

The server is gunicorn with 4 gthread workers of 4 threads each (two per core on this
2-core machine, so one worker's Python can run while another waits on PostgreSQL; threads
keep connections alive, so wrk measures the pages rather than TCP set-up, and a slow request
does not hold a whole process). The API's per-token rate limit is raised out of the way (its
Redis counter still runs on every API request) because one token driving 32 connections is a
load test, not a client. Every endpoint is fetched once first and must answer 200.

For each endpoint wrk runs 2 threads and 32 connections for --seconds; benchmarks/
load_report.lua prints the p50, p95, request count and non-2xx count as JSON. The table gives
p50 and p95 in ms, requests per second, the ratio to /healthz in the same round (the mean of
/healthz run first and last) and errors (non-2xx and socket errors). With --rounds > 1 the
figures are medians over the rounds. Results also go to benchmarks/results/load-*.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from load_data import DEFAULT_URL, loaded  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
LUA = ROOT / "benchmarks" / "load_report.lua"
BIN = Path(sys.executable).parent
PASSWORDS = {name: f"demo-{name}-2026" for name in ("admin", "auditor", "donor", "village")}
WORKERS = 4
THREADS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def api_token(url: str, username: str) -> str:
    """A fresh personal access token for the user (the tokens service, as `duijie token create`)."""
    from sqlalchemy import select

    from web.app import create_app
    from web.extensions import db
    from web.models import User
    from web.services import tokens

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        assert user is not None, f"no user {username} in {url}"
        secret = tokens.create_token(db.session, user, "load-bench").secret
        db.session.remove()
        db.engine.dispose()
    return secret


def facts(url: str) -> dict[str, Any]:
    """Ids and codes the endpoints need, and the table sizes."""
    import psycopg

    with psycopg.connect(url) as conn:
        one = lambda q: conn.execute(q).fetchone()[0]  # noqa: E731
        sizes = {
            t: one(f"SELECT count(*) FROM {t}")
            for t in ("village", "organization", "household", "offer", "need", "allocation")
        }
        village = conn.execute(
            "SELECT v.id, c.code FROM user_account u JOIN village v ON v.id = u.village_id "
            "JOIN county c ON c.id = v.county_id WHERE u.username = 'village'"
        ).fetchone()
        county = one("SELECT code FROM county ORDER BY code LIMIT 1")
    return {
        "sizes": sizes,
        "village_id": village[0],
        "village_county": village[1],
        "county": county,
    }


# Sent with every request, as a browser does: cached pages then travel gzipped, and the session
# keeps the User-Agent it signed in with (Flask-Login marks a session whose client changed).
BROWSER = {"Accept-Encoding": "gzip, deflate", "User-Agent": "Mozilla/5.0 (duijie load bench)"}


def sign_in(base: str, username: str) -> str:
    """Sign in through the form (CSRF token read from it); the Cookie header of the session."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", BROWSER["User-Agent"])]
    form = opener.open(f"{base}/login").read().decode()
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', form
    )
    assert found, "no csrf_token in the login form"
    body = urllib.parse.urlencode(
        {"csrf_token": found.group(1), "username": username, "password": PASSWORDS[username]}
    ).encode()
    opener.open(
        urllib.request.Request(f"{base}/login", data=body, headers={"Referer": f"{base}/login"})
    )
    # A page with the sign-out form, fetched as a browser would: it stores the session's form
    # token, whose cookie the browser then sends (wrk does not keep cookies, so it is taken now).
    with opener.open(f"{base}/account") as answer:
        assert "/login" not in answer.url, f"{username} could not sign in"
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def endpoints(f: dict[str, Any], cookies: dict[str, str], token: str) -> list[dict[str, Any]]:
    """(name, path, headers) of each endpoint driven."""
    bearer = {"Authorization": f"Bearer {token}"}
    county, home = f["county"], f["village_county"]
    return [
        {"name": "healthz", "path": "/healthz", "headers": {}},
        {"name": "villages", "path": f"/villages?county={home}&page=2", "headers": {}},
        {"name": "village (API)", "path": f"/api/v1/villages/{f['village_id']}", "headers": {}},
        {"name": "donor offers", "path": "/donor/offers", "headers": {"Cookie": cookies["donor"]}},
        {
            "name": "village needs",
            "path": "/village/needs",
            "headers": {"Cookie": cookies["village"]},
        },
        {
            "name": "API offers",
            "headers": bearer,
            "path": f"/api/v1/offers?county={county}&category=goods&status=open&page=3",
        },
        {
            "name": "API needs",
            "headers": bearer,
            "path": f"/api/v1/needs?county={county}&category=funds&status=open"
            "&verification=verified&page=3",
        },
        {
            "name": "ledger week",
            "headers": {"Cookie": cookies["auditor"]},
            "path": "/ledger?week=2026-W48&state=pledged&page=2",
        },
        {
            "name": "ledger county",
            "headers": {"Cookie": cookies["auditor"]},
            "path": f"/ledger?county={county}&state=pledged&page=2",
        },
        {"name": "dashboard", "path": "/dashboard", "headers": {"Cookie": cookies["admin"]}},
        {
            "name": "dashboard county",
            "path": f"/dashboard?county={county}&category=goods",
            "headers": {"Cookie": cookies["admin"]},
        },
    ]


def fetch_once(base: str, e: dict[str, Any]) -> tuple[int, int, float, str]:
    """Status, size, seconds and X-Page-Cache of one request (the warm-up and sanity check)."""
    start = time.perf_counter()
    request = urllib.request.Request(base + e["path"], headers={**BROWSER, **e["headers"]})
    try:
        with urllib.request.urlopen(request) as answer:
            body = answer.read()
            cache = answer.headers.get("X-Page-Cache", "-")
            return answer.status, len(body), time.perf_counter() - start, cache
    except urllib.error.HTTPError as error:
        return error.code, 0, time.perf_counter() - start, "-"


def drive(wrk: str, base: str, e: dict[str, Any], seconds: int, connections: int) -> dict[str, Any]:
    """Run wrk on one endpoint; the JSON line the Lua done() hook printed."""
    headers = {**BROWSER, **e["headers"]}
    env = dict(os.environ, WRK_HEADERS="\n".join(f"{k}: {v}" for k, v in headers.items()))
    out = subprocess.run(
        [
            wrk,
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            base + e["path"],
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = [x for x in out.splitlines() if x.startswith("{")][-1]
    found = json.loads(line)
    found["rps"] = found["requests"] / (found["duration_us"] / 1e6)
    found["errors"] = found["non2xx"] + found["socket_errors"]
    return found


def start_server(url: str, port: int, page_cache: bool = True) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        DUIJIE_PAGE_CACHE="1" if page_cache else "0",
        DUIJIE_DATABASE_URL=url,
        DUIJIE_SECRET_KEY="load-bench-secret-key-not-for-production",
        DUIJIE_REDIS_URL=os.environ.get("DUIJIE_REDIS_URL", "redis://127.0.0.1:6379/14"),
        DUIJIE_API_RATE_LIMIT="1000000000",
    )
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers",
            str(WORKERS),
            "--worker-class",
            "gthread",
            "--threads",
            str(THREADS),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--keep-alive",
            "30",
            "web.app:create_app()",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer /healthz")


def measure(
    args: argparse.Namespace, wrk: str, f: dict[str, Any], token: str, page_cache: bool
) -> dict[str, Any]:
    """Start gunicorn (page cache on or off), sign in, drive every endpoint; rounds and table."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(args.url, port, page_cache)
    try:
        cookies = {name: sign_in(base, name) for name in PASSWORDS}
        chosen = endpoints(f, cookies, token)
        if args.only:
            wanted = {"healthz", *args.only.split(",")}
            chosen = [e for e in chosen if e["name"] in wanted]
        for e in chosen:
            for _ in range(3):
                status, size, seconds, cache = fetch_once(base, e)
            e["size"] = size
            print(
                f"  {e['name']:<17} {status} {size:>8} bytes {seconds * 1000:7.1f} ms "
                f"{cache:<4} {e['path']}"
            )
            if status != 200:
                raise SystemExit(f"{e['name']} answered {status}")
        load_before = os.getloadavg()
        rounds: list[dict[str, dict[str, Any]]] = []
        for r in range(args.rounds):
            found: dict[str, dict[str, Any]] = {}
            order = [*chosen, chosen[0]]  # /healthz first and last
            for i, e in enumerate(order):
                key = e["name"] if i < len(chosen) else "healthz-end"
                if args.warmup and r == 0 and i < len(chosen):  # every worker's caches filled
                    drive(wrk, base, e, args.warmup, args.connections)
                found[key] = drive(wrk, base, e, args.seconds, args.connections)
                print(
                    f"  round {r + 1} {key:<17} {found[key]['rps']:8.1f} req/s, "
                    f"p95 {found[key]['p95_us'] / 1000:7.1f} ms, load {os.getloadavg()[0]:.1f}"
                )
            trivial = (found["healthz"]["rps"] + found["healthz-end"]["rps"]) / 2
            for value in found.values():
                value["ratio"] = value["rps"] / trivial
            rounds.append(found)
        load_after = os.getloadavg()
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    return {
        "chosen": chosen,
        "rounds": rounds,
        "load_before": load_before,
        "load_after": load_after,
        "page_cache": page_cache,
    }


def _hit_share(runs: list[dict[str, Any]]) -> str:
    """The share of answers served from the page cache, or "-" for a page that is not cached."""
    hits = sum(r.get("cache_hits", 0) for r in runs)
    answered = hits + sum(r.get("cache_misses", 0) for r in runs)
    return f"{100 * hits / answered:.1f}%" if answered else "-"


def print_table(args: argparse.Namespace, f: dict[str, Any], result: dict[str, Any]) -> None:
    """Print the run's table (medians over rounds) and keep its rows in result["table"]."""
    rounds, chosen = result["rounds"], result["chosen"]
    load_before, load_after = result["load_before"], result["load_after"]

    def median(name: str, field: str) -> float:
        return statistics.median(r[name][field] for r in rounds)

    print(
        f"\n{args.connections} connections, {args.seconds} s per endpoint, {args.rounds} round(s); "
        f"gunicorn {WORKERS} gthread workers x {THREADS} threads; load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after (2 cores)"
    )
    print("data: " + ", ".join(f"{t} {n:,}" for t, n in f["sizes"].items()))
    header = (
        f"{'endpoint':<17} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8} {'ratio':>6} {'errors':>7}"
        f" {'hits':>6}"
    )
    print(header)
    print("-" * len(header))
    table = result["table"] = []
    for e in chosen:
        row = {
            "endpoint": e["name"],
            "path": e["path"],
            "bytes": e["size"],
            "p50_ms": median(e["name"], "p50_us") / 1000,
            "p95_ms": median(e["name"], "p95_us") / 1000,
            "rps": median(e["name"], "rps"),
            "ratio": median(e["name"], "ratio"),
            "errors": int(sum(r[e["name"]]["errors"] for r in rounds)),
            "hit_share": _hit_share([r[e["name"]] for r in rounds]),
        }
        table.append(row)
        print(
            f"{row['endpoint']:<17} {row['p50_ms']:8.1f} {row['p95_ms']:8.1f} {row['rps']:8.1f} "
            f"{row['ratio']:6.2f} {row['errors']:7d} {row['hit_share']:>6}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--warmup", type=int, default=5, help="seconds of unmeasured load first")
    parser.add_argument(
        "--only", default="", help="comma-separated endpoint names (healthz always)"
    )
    parser.add_argument(
        "--page-cache",
        choices=("on", "off", "both"),
        default="both",
        help="serve with the page cache on, off, or both one after the other (the default)",
    )
    args = parser.parse_args(argv)
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    if not loaded(args.url):
        raise SystemExit(f"{args.url} lacks the load set: run benchmarks/load_data.py first")
    f = facts(args.url)
    token = api_token(args.url, "admin")
    modes = {"on": [True], "off": [False], "both": [True, False]}[args.page_cache]
    results = {}
    for page_cache in modes:
        label = "page cache on" if page_cache else "page cache off"
        print(f"\n== {label}")
        results[label] = measure(args, wrk, f, token, page_cache)
        print_table(args, f, results[label])
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"load-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(
        json.dumps(
            {
                "seconds": args.seconds,
                "connections": args.connections,
                "sizes": f["sizes"],
                "server": f"gunicorn {WORKERS} gthread x {THREADS}",
                "runs": {
                    label: {k: v for k, v in result.items() if k != "chosen"}
                    for label, result in results.items()
                },
            },
            indent=1,
        )
    )
    print(f"\nwritten {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
