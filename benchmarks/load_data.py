"""Fill a PostgreSQL database with a city at load-test size: 100,000 offers and 400,000 needs.

    python benchmarks/load_data.py                       # database duijie_load, seed 1
    python benchmarks/load_data.py --force               # drop and build it again
    python benchmarks/load_data.py --url postgresql://postgres@127.0.0.1:5432/other --seed 2

What it holds, on top of `duijie seed --demo` (Hezhou's places and the demo actors, so the
demo logins work against it):
- 4,733 more villages in Hezhou's townships (5,000 in all, a province's count), without map
  coordinates, so that 400,000 needs give each village about 80, not 1,500;
- 5,000 organizations of the five kinds, all approved, and 100,000 offers spread over them
  and the demo organizations (about 20 each), half limited to one county, a few to villages;
- 20,000 households (4 per village) and 400,000 needs (10% of them micro-wishes of those
  households): 60% open, 35% closed, 5% withdrawn; 85% verified, 10% pending, 5% rejected;
- two weeks of pledges: 2026-W47 published and 2026-W48 committed, 25,000 each, in every
  delivery state, with offers' and needs' allocated totals kept equal to their live pledges.

Rows go in with COPY (about two minutes on two cores). The same seed gives the same rows.
A database that already holds the offers and needs is left alone unless --force is given.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/duijie_load"
OFFERS = 100_000
NEEDS = 400_000
VILLAGES = 5_000
ORGANIZATIONS = 5_000
HOUSEHOLDS_PER_VILLAGE = 4
PLEDGES_PER_WEEK = 25_000
WEEKS = (
    ("2026-W47", "published", date(2026, 11, 16)),
    ("2026-W48", "committed", date(2026, 11, 23)),
)
KINDS = ("enterprise", "ngo", "paired_unit", "individual", "government")
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def _split(url: str) -> tuple[str, str]:
    """The server URL (on database postgres) and the database name of a PostgreSQL URL."""
    base, _, name = url.rpartition("/")
    if not name or not base.startswith("postgresql"):
        raise SystemExit(f"not a postgresql://.../DATABASE URL: {url}")
    return f"{base}/postgres", name.split("?")[0]


def loaded(url: str) -> bool:
    """True when the database exists and already holds the load set."""
    server, name = _split(url)
    with psycopg.connect(server, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            return False
    try:
        with psycopg.connect(url) as conn:
            offers = conn.execute("SELECT count(*) FROM offer").fetchone()
            needs = conn.execute("SELECT count(*) FROM need").fetchone()
    except psycopg.Error:
        return False
    return bool(offers and needs and offers[0] >= OFFERS and needs[0] >= NEEDS)


def recreate(url: str) -> None:
    """Drop (if present) and create the database."""
    server, name = _split(url)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def migrate_and_seed(url: str) -> None:
    """Alembic to head through the app factory, then Hezhou's places and the demo actors."""
    import flask_migrate

    from web.app import create_app
    from web.extensions import db
    from web.services.seeding import seed

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        flask_migrate.upgrade()
        seed(db.session, demo=True)
        db.session.remove()
        db.engine.dispose()


def _copy(conn: psycopg.Connection[Any], table: str, columns: list[str], rows: list[tuple]) -> None:
    """COPY rows into a table."""
    names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), names)
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _next_id(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(
        sql.SQL("SELECT coalesce(max(id), 0) + 1 FROM {}").format(sql.Identifier(table))
    ).fetchone()
    return int(row[0]) if row else 1


def _when(rng: random.Random, days: int) -> datetime:
    """A moment within the last `days` days before NOW."""
    return NOW - timedelta(seconds=rng.randrange(days * 86400))


def build(conn: psycopg.Connection[Any], seed: int, log: Any = print) -> dict[str, int]:
    """Add the load set to a migrated, seeded database; returns the rows added per table."""
    rng = random.Random(seed)
    added: dict[str, int] = {}
    categories = [r[0] for r in conn.execute("SELECT code FROM category ORDER BY code")]
    townships = conn.execute("SELECT id, code, county_id FROM township ORDER BY code").fetchall()
    counties = [r[0] for r in conn.execute("SELECT id FROM county ORDER BY code")]

    # Villages: the seeded poor villages and synthetic ones up to VILLAGES.
    have = conn.execute("SELECT count(*) FROM village").fetchone()[0]
    vid = _next_id(conn, "village")
    used = {r[0] for r in conn.execute("SELECT code FROM village")}
    rows = []
    serial: dict[str, int] = {}
    for _ in range(max(0, VILLAGES - have)):
        tid, tcode, cid = rng.choice(townships)
        while True:
            serial[tcode] = serial.get(tcode, 0) + 1
            code = f"{tcode}{serial[tcode]:03d}"
            if code not in used:
                break
        used.add(code)
        people = rng.randint(800, 4000)
        poor = rng.randint(30, 300)
        incidence = round(rng.uniform(0.03, 0.25), 4)
        rows.append(
            (
                vid,
                code,
                f"载荷村{vid}",
                tid,
                cid,
                people,
                poor,
                poor * 4,
                incidence,
                round(1 + incidence * 4, 3),
                rng.random() < 0.3,
                "poor",
                "{}",
            )
        )
        vid += 1
    _copy(
        conn,
        "village",
        [
            "id",
            "code",
            "name",
            "township_id",
            "county_id",
            "population",
            "poor_households",
            "poor_population",
            "poverty_incidence",
            "poverty_weight",
            "ethnic_minority",
            "status",
            "checklist",
        ],
        rows,
    )
    added["village"] = len(rows)
    village_rows = conn.execute("SELECT id, county_id FROM village ORDER BY id").fetchall()
    villages = [v for v, _ in village_rows]
    log(f"villages: {len(villages)}")

    # Organizations.
    oid = _next_id(conn, "organization")
    rows = []
    for i in range(ORGANIZATIONS):
        kind = KINDS[i % len(KINDS)]
        when = _when(rng, 720)
        rows.append((oid + i, f"load-org-{i}", f"载荷{kind}-{i}", kind, "approved", when, when))
    _copy(
        conn,
        "organization",
        ["id", "key", "name", "kind", "vetting", "created_at", "updated_at"],
        rows,
    )
    added["organization"] = len(rows)
    orgs = [
        r[0]
        for r in conn.execute("SELECT id FROM organization WHERE vetting = 'approved' ORDER BY id")
    ]

    # Households: HOUSEHOLDS_PER_VILLAGE per village.
    hid = _next_id(conn, "household")
    rows = []
    households: dict[int, list[int]] = {}
    for v in villages:
        for _ in range(HOUSEHOLDS_PER_VILLAGE):
            when = _when(rng, 720)
            rows.append((hid, v, f"载荷户{hid}", rng.randint(1, 7), False, 1, when, when))
            households.setdefault(v, []).append(hid)
            hid += 1
    _copy(
        conn,
        "household",
        [
            "id",
            "village_id",
            "display_name",
            "people",
            "sign_in_enabled",
            "session_version",
            "created_at",
            "updated_at",
        ],
        rows,
    )
    added["household"] = len(rows)
    log(f"households: {len(rows)}")

    # Offers, with their county and village limits.
    first = _next_id(conn, "offer")
    offers: list[list[Any]] = []  # id, category, quantity, allocated, organization
    rows, offer_county, offer_village = [], [], []
    for i in range(OFFERS):
        o = first + i
        cat = rng.choice(categories)
        qty = rng.choice((5, 10, 20, 50, 100, 200, 500))
        org = rng.choice(orgs)
        status = "open" if rng.random() < 0.8 else rng.choice(("closed", "withdrawn"))
        start = date(2026, 1, 5) + timedelta(days=rng.randrange(300))
        when = _when(rng, 360)
        rows.append(
            [
                o,
                org,
                cat,
                f"载荷捐赠{o}",
                "",
                qty,
                0,
                1,
                None,
                False,
                start,
                start + timedelta(days=rng.randint(30, 180)),
                status,
                when,
                when,
            ]
        )
        offers.append([o, cat, qty, 0, status])
        roll = rng.random()
        if roll < 0.5:
            offer_county.append((o, rng.choice(counties)))
        elif roll < 0.55:
            for v in rng.sample(villages, 3):
                offer_village.append((o, v))
    log(f"offers generated: {len(rows)}")

    # Needs.
    need_first = _next_id(conn, "need")
    needs: list[list[Any]] = []  # id, category, quantity, allocated, live (open+verified)
    need_rows = []
    for i in range(NEEDS):
        n = need_first + i
        v = rng.choice(villages)
        wish = rng.random() < 0.1
        cat = "goods" if wish else rng.choice(categories)
        qty = rng.randint(1, 3) if wish else rng.choice((1, 2, 5, 10, 20, 50))
        r = rng.random()
        status = "open" if r < 0.6 else ("closed" if r < 0.95 else "withdrawn")
        r = rng.random()
        verification = "verified" if r < 0.85 else ("pending" if r < 0.95 else "rejected")
        when = _when(rng, 360)
        deadline = (
            (NOW + timedelta(days=rng.randint(-60, 120))).date() if rng.random() < 0.5 else None
        )
        need_rows.append(
            [
                n,
                v,
                rng.choice(households[v]) if wish else None,
                cat,
                f"载荷需求{n}",
                "",
                qty,
                0,
                rng.randint(1, 5),
                deadline,
                None,
                "",
                verification,
                "",
                status,
                float(qty * 100) if wish else None,
                when,
                when,
            ]
        )
        needs.append([n, cat, qty, 0, status == "open" and verification == "verified"])
    log(f"needs generated: {len(need_rows)}")

    # Pledges: per week, live needs of a category get units of live offers of that category.
    live_offers: dict[str, list[list[Any]]] = {}
    for offer in offers:
        if offer[4] == "open":
            live_offers.setdefault(offer[1], []).append(offer)
    live_needs = [n for n in needs if n[4]]
    run_first = _next_id(conn, "allocation_run")
    alloc_id = _next_id(conn, "allocation")
    runs, pledges = [], []
    for w, (week, status, monday) in enumerate(WEEKS):
        run_id = run_first + w
        committed = datetime.combine(monday, datetime.min.time(), UTC) + timedelta(hours=10)
        runs.append(
            (
                run_id,
                week,
                status,
                week,
                "{}",
                "optimal",
                0.0,
                0.0,
                1.0,
                "{}",
                "{}",
                False,
                committed,
                committed if status == "published" else None,
                committed,
                committed,
            )
        )
        for need in rng.sample(live_needs, PLEDGES_PER_WEEK):
            pool = live_offers.get(need[1])
            offer = rng.choice(pool) if pool else None
            want = need[2] - need[3]
            if offer is None or want <= 0 or offer[2] - offer[3] <= 0:
                continue
            qty = min(want, offer[2] - offer[3], rng.randint(1, 10))
            if status == "published":
                state = rng.choices(
                    ("confirmed", "received", "dispatched", "pledged", "cancelled"),
                    (60, 10, 15, 10, 5),
                )[0]
            else:
                state = rng.choices(("pledged", "dispatched", "cancelled"), (70, 25, 5))[0]
            dispatched = committed + timedelta(hours=rng.randint(2, 60))
            received = dispatched + timedelta(hours=rng.randint(2, 60))
            steps = ("dispatched", "received", "confirmed")
            pledges.append(
                (
                    alloc_id,
                    run_id,
                    offer[0],
                    need[0],
                    qty,
                    round(rng.uniform(1, 120), 1),
                    float(qty * 50),
                    state,
                    dispatched if state in steps else None,
                    received if state in steps[1:] else None,
                    received + timedelta(hours=3) if state == "confirmed" else None,
                    committed + timedelta(hours=5) if state == "cancelled" else None,
                    "",
                    rng.randint(3, 5) if state == "confirmed" else None,
                    committed,
                    committed,
                )
            )
            alloc_id += 1
            if state != "cancelled":
                offer[3] += qty
                need[3] += qty
    log(f"pledges generated: {len(pledges)}")

    # Write, parents first; allocated totals from the pledges above.
    for row, offer in zip(rows, offers, strict=True):
        row[6] = offer[3]
    _copy(
        conn,
        "offer",
        [
            "id",
            "organization_id",
            "category_code",
            "title",
            "description",
            "quantity",
            "allocated",
            "min_lot",
            "max_villages",
            "indivisible",
            "valid_from",
            "valid_until",
            "status",
            "created_at",
            "updated_at",
        ],
        [tuple(r) for r in rows],
    )
    _copy(conn, "offer_county", ["offer_id", "county_id"], offer_county)
    _copy(conn, "offer_village", ["offer_id", "village_id"], offer_village)
    added.update(offer=len(rows), offer_county=len(offer_county), offer_village=len(offer_village))
    log("offers written")
    for row, need in zip(need_rows, needs, strict=True):
        row[7] = need[3]
    _copy(
        conn,
        "need",
        [
            "id",
            "village_id",
            "household_id",
            "category_code",
            "title",
            "description",
            "quantity",
            "allocated",
            "urgency",
            "deadline",
            "checklist_item",
            "evidence",
            "verification",
            "verification_note",
            "status",
            "estimated_value",
            "created_at",
            "updated_at",
        ],
        [tuple(r) for r in need_rows],
    )
    added["need"] = len(need_rows)
    log("needs written")
    _copy(
        conn,
        "allocation_run",
        [
            "id",
            "week",
            "status",
            "committed_week",
            "policy",
            "solver_status",
            "objective",
            "bound",
            "seconds",
            "metrics",
            "progress",
            "cancel_requested",
            "committed_at",
            "published_at",
            "created_at",
            "updated_at",
        ],
        runs,
    )
    _copy(
        conn,
        "allocation",
        [
            "id",
            "run_id",
            "offer_id",
            "need_id",
            "quantity",
            "km",
            "value",
            "status",
            "dispatched_at",
            "received_at",
            "confirmed_at",
            "cancelled_at",
            "receipt_note",
            "rating",
            "created_at",
            "updated_at",
        ],
        pledges,
    )
    added.update(allocation_run=len(runs), allocation=len(pledges))
    for table in (
        "village",
        "organization",
        "household",
        "offer",
        "need",
        "allocation_run",
        "allocation",
    ):
        conn.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence({t}, 'id'), (SELECT max(id) FROM {i}))"
            ).format(t=sql.Literal(table), i=sql.Identifier(table))
        )
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL, help="PostgreSQL URL of the load database")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--force", action="store_true", help="drop and rebuild the database")
    args = parser.parse_args(argv)
    start = time.monotonic()
    if not args.force and loaded(args.url):
        print(f"{args.url} already holds the load set (use --force to rebuild it)")
        return 0
    recreate(args.url)
    migrate_and_seed(args.url)
    print(f"migrated and seeded in {time.monotonic() - start:.0f} s")
    with psycopg.connect(args.url) as conn:
        added = build(
            conn, args.seed, log=lambda m: print(f"  {time.monotonic() - start:5.0f} s  {m}")
        )
        conn.commit()
    with psycopg.connect(args.url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    print("added: " + ", ".join(f"{t} {n:,}" for t, n in added.items()))
    print(f"done in {time.monotonic() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
