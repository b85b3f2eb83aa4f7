"""The next working day's extract into a loaded database: how long a district's daily import takes.

    .venv/bin/python bench/daily.py --rows 1000000 --runs 3 [--pg [URL]] [--keep DIR]

1. Generates the extract of ``--rows`` claims (seed 1, as at 2026-10-30, the district shape) with
   ``python -m fixtures.generate --district`` and imports it once with ``caseload import claims``
   (the first load, timed and reported beside the daily figure).
2. Writes the next day's extract (as at 2026-10-31) of the same claims: 1% new claims starting that
   day, 1% of all claims (open ones) ended that day as found work, 0.5% moved to another adviser of
   the same team; every other row exactly as before. Chosen with a fixed seed, so every run and every
   commit measures the same change.
3. ``--runs`` times: a copy of the loaded SQLite file, then ``caseload import claims`` of the daily
   extract into it as a child process, wall time from spawn to exit and its peak RSS. The output is
   checked: the added, updated and transferred counts must be exactly the change written.
4. ``--pg``: the same first load and one daily import on PostgreSQL (the schema is emptied first:
   ``DROP SCHEMA public CASCADE``; without URL, ``$CASELOAD_TEST_PG`` as ``scripts/pg.sh`` sets it).
   Between the two the server is settled as a night between two working days would leave it:
   ``VACUUM ANALYZE`` and a ``CHECKPOINT`` (which needs a superuser or ``pg_checkpoint``; without
   it the bench says so and goes on), so the daily figure is not the first load's autovacuum and
   dirty pages being written out underneath it. Both are timed and reported.

Goals (bench/README.md): the daily extract of 1,000,000 claims in under 5 s on SQLite and under 10 s
on PostgreSQL, every change audited as in any import.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402  (bench/run.py: the child launcher, medians, environment)

NEXT_DAY = run.AS_AT + dt.timedelta(days=1)
DAILY_GOAL_S = {"sqlite": 5.0, "postgresql": 10.0}


def daily_extract(first: Path, out: Path, seed: int = 1) -> dict[str, int]:
    """The next day's extract of `first`'s claims, and the change it carries (see the module's step 2)."""
    with open(first, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    col = {name: i for i, name in enumerate(header)}
    n = len(rows)
    rng = random.Random(seed)
    open_rows = [i for i, r in enumerate(rows) if not r[col["claim_end"]]]
    ended = rng.sample(open_rows, min(len(open_rows), n // 100))
    for i in ended:
        rows[i][col["claim_end"]] = NEXT_DAY.isoformat()
        rows[i][col["end_reason"]] = "found_work"
    advisers: dict[tuple[str, str], dict[str, str]] = {}
    for r in rows:
        advisers.setdefault((r[col["office"]], r[col["team"]]), {})[r[col["adviser_id"]]] = r[col["adviser_name"]]
    movable = [i for i in range(n) if len(advisers[(rows[i][col["office"]], rows[i][col["team"]])]) > 1]
    moved = rng.sample(movable, min(len(movable), n // 200))
    for i in moved:
        r = rows[i]
        team = advisers[(r[col["office"]], r[col["team"]])]
        other = rng.choice(sorted(a for a in team if a != r[col["adviser_id"]]))
        r[col["adviser_id"]], r[col["adviser_name"]] = other, team[other]
    new_rows = []
    for k in range(n // 100):
        r = list(rows[rng.randrange(n)])
        r[col["claim_id"]] = f"D{k:07d}"
        r[col["customer_id"]] = f"DP{k:07d}"
        r[col["nino"]] = ""
        r[col["claim_start"]] = NEXT_DAY.isoformat()
        r[col["claim_end"]] = r[col["end_reason"]] = ""
        new_rows.append(r)
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)
        w.writerows(new_rows)
    changed = len(set(ended) | set(moved))
    return {"rows": n + len(new_rows), "added": len(new_rows), "updated": changed, "transfers": len(moved)}


def import_child(extract: Path, as_at: dt.date, db: str, expect: dict[str, int] | None) -> dict:
    r = run.run_child([run.bin_path("caseload"), "import", "claims", str(extract), "--as-at", as_at.isoformat(),
                       "--db", db, "--quiet"])
    if expect is not None:
        # Every line the change did not touch is recognised as exactly as before (never checked again).
        same = expect["rows"] - expect["added"] - expect["updated"]
        said = (f"{expect['rows']} rows read ({same} exactly as before), {expect['added']} claims added, "
                f"{expect['updated']} updated, {expect['transfers']} transfers")
        if said not in r["stdout"]:
            raise SystemExit(f"bench: the daily import did not make the change written ({said}):\n{r['stdout']}")
    return r


def copy_db(src: Path, dst: Path) -> None:
    run.remove_db(dst)
    for suffix in ("", "-wal"):
        if Path(f"{src}{suffix}").exists():
            shutil.copyfile(f"{src}{suffix}", f"{dst}{suffix}")


def empty_pg(url: str) -> None:
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def settle_pg(url: str, log) -> float:
    """What a night does to a server after the first load: vacuum and statistics, then a checkpoint."""
    import time

    import psycopg

    t0 = time.perf_counter()
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        try:
            conn.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            log("PostgreSQL: CHECKPOINT needs a superuser or pg_checkpoint; the daily run follows without it")
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000, help="claims in the first extract (default 100000)")
    ap.add_argument("--runs", type=int, default=3, help="runs of the daily import on SQLite (median; default 3)")
    ap.add_argument("--pg", nargs="?", const="", metavar="URL", help="also PostgreSQL (emptied first)")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="work in DIR and keep the extracts and database")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    tmp = None
    if args.keep:
        work = args.keep
        work.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="caseload-daily-")
        work = Path(tmp.name)
    env = run.environment()
    load_at_start = os.getloadavg()
    first, gen_s = run.generate(args.rows, work, "--district")
    log(f"generated {args.rows:,} claims in {gen_s:.1f} s")
    daily = work / "daily.csv"
    change = daily_extract(first, daily)
    log(f"daily extract: {change['rows']:,} rows, {change['added']:,} new, {change['updated']:,} changed "
        f"({change['transfers']:,} moved)")
    loaded = work / "loaded.sqlite3"
    run.remove_db(loaded)
    load = import_child(first, run.AS_AT, str(loaded), None)
    log(f"first load: {load['seconds']:.2f} s ({args.rows / load['seconds']:,.0f} rows/s), peak {load['peak_mb']:.0f} MB")
    walls, peaks = [], []
    db = work / "daily.sqlite3"
    for k in range(args.runs):
        copy_db(loaded, db)
        r = import_child(daily, NEXT_DAY, str(db), change)
        walls.append(r["seconds"])
        peaks.append(r["peak_mb"])
        log(f"  daily run {k + 1}: {r['seconds']:.2f} s, peak {r['peak_mb']:.0f} MB")
    rows = [("SQLite", load["seconds"], run.median(walls), max(peaks), DAILY_GOAL_S["sqlite"])]
    if args.pg is not None:
        url = args.pg or os.environ.get("CASELOAD_TEST_PG", "")
        if not url:
            raise SystemExit("bench: --pg needs a URL or $CASELOAD_TEST_PG (run under scripts/pg.sh)")
        empty_pg(url)
        pg_load = import_child(first, run.AS_AT, url, None)
        settle_s = settle_pg(url, log)
        log(f"PostgreSQL: first load {pg_load['seconds']:.2f} s; VACUUM ANALYZE and CHECKPOINT {settle_s:.1f} s")
        pg_daily = import_child(daily, NEXT_DAY, url, change)
        log(f"PostgreSQL: daily {pg_daily['seconds']:.2f} s, peak {pg_daily['peak_mb']:.0f} MB")
        rows.append(("PostgreSQL", pg_load["seconds"], pg_daily["seconds"], pg_daily["peak_mb"],
                     DAILY_GOAL_S["postgresql"]))
    print(f"Daily extract of {args.rows:,} claims ({change['added']:,} new, {change['updated']:,} changed, "
          f"{change['transfers']:,} moved), {run.describe_env(env)}; load average at start "
          f"{load_at_start[0]:.2f}, at end {os.getloadavg()[0]:.2f}\n")
    print("| store | first load | next day's extract | peak RSS (daily) | goal | verdict |")
    print("|---|---|---|---|---|---|")
    for name, first_s, daily_s, peak, goal in rows:
        if args.rows < 1_000_000:
            verdict = "(the goal is for 1,000,000 claims)"
        else:
            verdict = "met" if daily_s < goal else f"**missed** ({daily_s / goal:.1f}× the goal)"
        print(f"| {name} | {first_s:.1f} s ({args.rows / first_s:,.0f} rows/s) | {daily_s:.2f} s | {peak:.0f} MB | "
              f"< {goal:.0f} s | {verdict} |")
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
