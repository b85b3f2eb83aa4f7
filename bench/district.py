"""caseload at district scale, every figure beside its floor measured in the same run (issue 9).

    .venv/bin/python bench/district.py --sizes 10000,100000,1000000 --runs 3 [--commit REV] [--pg [URL]]

For each size it generates an extract in the demo office's shape, scaled by adding offices
(``python -m fixtures.generate --district``: one office of 3 teams of 8 advisers per 20,000
claims), imports it, and prints one table with the issue's rows: import rows/s, the team off-flow
roll-up, ``caseload export offflow --by team`` end to end, fresh process to an adviser's caseload
painted, next customer record, filter keystroke and the peak memory of any command. Each figure is
the median of ``--runs`` runs (peak memory: the largest), printed beside its floor measured in the
same run. The measuring is bench/run.py's (import, export, roll-up, floors) and bench/app.py's
(the app, timed by a probe inside it); ``--pg`` adds the import and roll-up rows against a
PostgreSQL server (``--pg`` alone: the one in $CASELOAD_TEST_PG, as scripts/pg.sh starts it).
``--national [ROWS] --pg`` instead measures a national history (10,000,000 claims) on PostgreSQL: import beside
its COPY floor, team roll-up, an adviser's caseload page, ``export offflow --by office``.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import app as app_bench
import run as rb

GOAL_IMPORT_ROWS_S = 100_000
GOAL_ROLLUP_S = 0.100
GOAL_EXPORT_S = 1.0
GOAL_PAINT_S = 1.0
GOAL_KEY_S = 0.100
GOAL_PEAK_MB = 250

# The PostgreSQL import floor: the same rows into a bare table of TEXT columns with COPY, in one
# transaction, as a child process (so it pays the same start-up as the import).
PG_FLOOR_IMPORT_SCRIPT = r"""
import csv, sys, psycopg
src, url = sys.argv[1], sys.argv[2]
with psycopg.connect(url) as con, open(src, encoding="utf-8-sig", newline="") as f:
    rows = csv.reader(f)
    header = next(rows)
    con.execute("DROP TABLE IF EXISTS claim_floor")
    con.execute(f"CREATE TABLE claim_floor ({', '.join(f'{h} TEXT' for h in header)})")
    with con.cursor().copy("COPY claim_floor FROM STDIN") as copy:
        for r in rows:
            copy.write_row(r)
    n = con.execute("SELECT COUNT(*) FROM claim_floor").fetchone()[0]
    con.execute("DROP TABLE claim_floor")
print(n)
"""


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL (postgresql+psycopg://...) as libpq takes it."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def pg_reset(url: str) -> None:
    """An empty database: every table of an earlier run dropped."""
    import psycopg

    with psycopg.connect(libpq_url(url), autocommit=True) as con:
        con.execute("DROP SCHEMA public CASCADE")
        con.execute("CREATE SCHEMA public")


def bench_pg(url: str, extract: Path, rows: int, runs: int, log) -> dict:  # noqa: ANN001
    """Import into a fresh PostgreSQL database (child processes), its COPY floor, then the roll-up
    and the hand-written GROUP BY on what the last run imported."""
    import psycopg

    from caseload.store import schema

    caseload = rb.bin_path("caseload")
    out: dict[str, list] = {"seconds": [], "peak_mb": [], "floor_seconds": [], "floor_peak_mb": []}
    for k in range(runs):
        pg_reset(url)
        r = rb.run_child([caseload, "import", "claims", str(extract), "--as-at", rb.AS_AT.isoformat(), "--db", url])
        if f"{rows} rows read, {rows} claims added" not in r["stdout"]:
            raise SystemExit(f"bench: the PostgreSQL import did not add every row:\n{r['stdout']}{r['stderr']}")
        out["seconds"].append(r["seconds"])
        out["peak_mb"].append(r["peak_mb"])
        log(f"  PostgreSQL import run {k + 1}: {r['seconds']:.2f} s, {rows / r['seconds']:,.0f} rows/s")
    for k in range(runs):
        r = rb.run_child([sys.executable, "-c", PG_FLOOR_IMPORT_SCRIPT, str(extract), libpq_url(url)])
        if int(r["stdout"].strip()) != rows:
            raise SystemExit(f"bench: the PostgreSQL floor loaded {r['stdout'].strip()} rows, not {rows}")
        out["floor_seconds"].append(r["seconds"])
        out["floor_peak_mb"].append(r["peak_mb"])
        log(f"  PostgreSQL floor run {k + 1} (COPY into a bare table): {r['seconds']:.2f} s")
    out["rollup_seconds"], result = rb.time_rollup(url, runs, log)
    first, last = schema.day_number(result.periods[0].start), schema.day_number(min(result.periods[-1].end, result.as_at))
    out["group_by_seconds"] = []
    with psycopg.connect(libpq_url(url)) as con:
        for k in range(runs):
            secs, groups = rb.timed(lambda: con.execute(rb.FLOOR_GROUP_BY.replace("?", "%s"), (first, last)).fetchall())
            out["group_by_seconds"].append(secs)
            log(f"  PostgreSQL GROUP BY run {k + 1}: {secs:.3f} s ({len(groups)} groups)")
    return out


# ---------------------------------------------------------------------------------------------
# A national history on PostgreSQL (--national)

GOAL_NATIONAL_CASELOAD_S = 0.050
GOAL_NATIONAL_EXPORT_S = 2.0


def national(url: str, rows: int, runs: int, work: Path, log, extract: Path | None = None) -> str:  # noqa: ANN001
    """`rows` claims (10,000,000 by default: a national history) on PostgreSQL: the import beside its COPY floor,
    the 12-month roll-up by team as the administrator (every team in the country), a team leader (their office)
    and a team manager (their team), an adviser's caseload page, and `caseload export offflow --by office` end
    to end as the administrator and as the team leader. Import and floor once each (they are the long part);
    each read once to warm the server's cache (said apart), then `runs` times. Returns the table."""
    from fixtures.generator import district_shape
    from sqlalchemy import text

    from caseload.clock import FixedClock
    from caseload.measures.cohorts import CohortKind
    from caseload.store.access import ADMIN, actor_for
    from caseload.store.caseload import CaseloadQuery, caseload
    from caseload.store import staff
    from caseload.store.db import open_database, write
    from caseload.store.offflow import OffflowQuery, offflow

    work.mkdir(parents=True, exist_ok=True)
    if extract is None:
        log(f"national: {rows:,} claims ({district_shape(rows).offices} offices): generating the extract...")
        extract, gen = rb.generate(rows, work, "--district")
        log(f"  generated in {gen:.0f} s")
    m = bench_pg(url, extract, rows, 1, log)
    engine = open_database(url, FixedClock.on(rb.AS_AT), create=False)
    rollup = OffflowQuery(group_by="team", cohort=CohortKind.REPORTING_MONTH, last_n=12)
    reads: dict[str, tuple[list[float], float, str]] = {}  # what -> (warm runs, first run, about)

    def timed_read(what: str, read) -> None:  # noqa: ANN001
        first, got = rb.timed(read)
        secs = [rb.timed(read)[0] for _ in range(runs)]
        about = f"{len(got.rows):,} rows" if hasattr(got, "rows") and not hasattr(got, "total") else \
            f"{got.total} open claims"
        reads[what] = (secs, first, about)
        log(f"  {what}: first {first * 1000:.1f} ms, then {', '.join(f'{x * 1000:.1f}' for x in secs)} ms ({about})")

    with engine.connect() as conn:
        one = conn.execute(text(
            "SELECT s.id, s.team_id, s.office_id FROM staff s JOIN claim c ON c.adviser_id = s.id "
            "WHERE c.end_day IS NULL AND s.role = 'adviser' GROUP BY s.id, s.team_id, s.office_id "
            "ORDER BY COUNT(*) DESC, s.id LIMIT 1")).one()
        # An extract names advisers only: the busiest adviser's team gets a manager and their office a team
        # leader, as `caseload staff add` would make them.
        team, office = conn.execute(text("SELECT t.name, o.name FROM team t JOIN office o ON o.id = t.office_id "
                                         "WHERE t.id = :t"), {"t": one.team_id}).one()
        manager, leader = "BENCH-M", "BENCH-L"
        with write(engine) as w:
            clock = FixedClock.on(rb.AS_AT)
            if not w.execute(text("SELECT 1 FROM staff WHERE id = :m"), {"m": manager}).first():
                staff.add(w, clock, ADMIN, manager, "Bench manager", "team_manager", team=team, office=office)
                staff.add(w, clock, ADMIN, leader, "Bench leader", "team_leader", office=office)
        timed_read("roll-up by team, administrator (every team)", lambda: offflow(conn, ADMIN, rollup))
        for who, staff_id in (("team leader (their office)", leader), ("team manager (their team)", manager)):
            actor = actor_for(conn, staff_id)
            timed_read(f"roll-up by team, {who}", lambda a=actor: offflow(conn, a, rollup))
        adviser = actor_for(conn, one.id)
        timed_read("an adviser's caseload page",
                   lambda: caseload(conn, adviser, rb.AS_AT, CaseloadQuery(adviser_id=one.id)))
    engine.dispose()
    exports: dict[str, list[float]] = {}
    out = work / "offflow-office.csv"
    for who, staff_id in (("administrator (every office)", None), ("team leader (their office)", leader)):
        as_staff = ["--as", staff_id] if staff_id else []
        exports[who] = []
        for k in range(runs):
            r = rb.run_child([rb.bin_path("caseload"), "export", "offflow", "--by", "office", "--cohort",
                              "reporting-month", "--last", "12", "--output", str(out), "--db", url, *as_staff])
            exports[who].append(r["seconds"])
            log(f"  export --by office, {who}, run {k + 1}: {r['seconds']:.2f} s")
    imp, floor = m["seconds"][0], m["floor_seconds"][0]
    lines = [
        f"National history on PostgreSQL: {rows:,} claims; import and floor once; each read once to warm the "
        f"cache (its time in brackets), then the median of {runs}.",
        "",
        "| what | ours | floor | ratio | goal | verdict |",
        "|---|---:|---:|---:|---|---|",
        f"| import, rows/s (end to end) | {rows / imp:,.0f} ({imp:.0f} s, peak {m['peak_mb'][0]:.0f} MB) | "
        f"{rows / floor:,.0f} (COPY into a bare table) | {imp / floor:.1f}× slower | >= 100,000 rows/s | "
        f"{verdict(rows / imp >= GOAL_IMPORT_ROWS_S, f'needs {GOAL_IMPORT_ROWS_S * imp / rows:.1f}× more')} |",
    ]
    group_by = rb.median(m["group_by_seconds"])
    for what, (secs, first, about) in reads.items():
        goal = GOAL_NATIONAL_CASELOAD_S if "caseload" in what else GOAL_ROLLUP_S
        floor_cell, ratio = ("—", "—")
        if "administrator" in what:
            floor_cell, ratio = f"{_ms(group_by)} (hand-written GROUP BY)", f"{rb.median(secs) / group_by:.2f}×"
        lines.append(f"| {what}, {about} | {_ms(rb.median(secs))} ({_ms(first)}) | {floor_cell} | {ratio} | "
                     f"< {goal * 1000:.0f} ms | {verdict(rb.median(secs) < goal, 'slower than the goal')} |")
    for who, secs in exports.items():
        lines.append(f"| `export offflow --by office`, {who}, end to end | {_s(rb.median(secs))} | — | — | < 2 s | "
                     f"{verdict(rb.median(secs) < GOAL_NATIONAL_EXPORT_S, 'slower than the goal')} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The table


def _ms(s: float) -> str:
    return f"{s * 1000:,.0f} ms"


def _s(s: float) -> str:
    return f"{s:.2f} s"


def verdict(ok: bool, short_by: str) -> str:
    return "met" if ok else f"**missed** ({short_by})"


def time_row(what: str, secs: list[float], floor: list[float] | None, floor_what: str, goal: float,
             fmt=_ms) -> str:  # noqa: ANN001
    m = rb.median(secs)
    if floor:
        f = rb.median(floor)
        floor_cell, ratio = f"{fmt(f)} ({floor_what})", f"{m / f:.1f}×"
    else:
        floor_cell, ratio = "—", ""
    return (f"| {what} | {fmt(m)} | {floor_cell} | {ratio} | < {fmt(goal)} | "
            f"{verdict(m < goal, f'{m / goal:.1f}× the goal, {fmt(m - goal)} over')} |")


def import_row(what: str, rows: int, secs: list[float], floor: list[float], floor_what: str) -> str:
    rate, floor_rate = rows / rb.median(secs), rows / rb.median(floor)
    return (f"| {what} | {rate:,.0f} rows/s | {floor_rate:,.0f} rows/s ({floor_what}) | "
            f"{floor_rate / rate:.1f}× slower | ≥ {GOAL_IMPORT_ROWS_S:,} rows/s | "
            f"{verdict(rate >= GOAL_IMPORT_ROWS_S, f'needs {GOAL_IMPORT_ROWS_S / rate:.1f}× more')} |")


def table(rows: int, runs: int, m: dict) -> str:
    imp, imp_floor, exp, app = m["import"], m["import_floor"], m["export"], m["app"]
    peaks = {"import": max(imp["peak_mb"]), "export": max(exp["cli_peak_mb"]), "app start": max(app["peak_mb"])}
    floor_peaks = [*imp_floor["peak_mb"], *exp["floor_end_to_end_peak_mb"], *app["bare_peak_mb"]]
    if "pg" in m:
        peaks["import into PostgreSQL"] = max(m["pg"]["peak_mb"])
        floor_peaks += m["pg"]["floor_peak_mb"]
    worst = max(peaks, key=peaks.get)
    peak = peaks[worst]
    lines = [
        f"### {rows:,} claims",
        "",
        f"Median of {runs} runs (peak memory: the largest). {m['offices']} offices; extract generated in "
        f"{m['generate_seconds']:.1f} s; roll-up and export scope {exp['claims_in_scope']:,} claims "
        f"started {exp['periods'][0]} to {exp['periods'][1]}; adviser {app_bench.ADVISER} has {app['rows']} open "
        f"claims (the filter \"a\" leaves {app['filtered_rows']}).",
        "",
        "| what | figure | floor in the same run | ratio | goal | |",
        "|---|---:|---:|---:|---|---|",
        import_row("import of an extract (`caseload import claims`, end to end)", rows, imp["seconds"],
                   imp_floor["seconds"], "sqlite3 into a bare table"),
        time_row("team off-flow roll-up (on-flow, latest as-at), in process", exp["rollup_seconds"],
                 exp["floor_group_by_seconds"], "one GROUP BY", GOAL_ROLLUP_S),
        time_row("`caseload export offflow --by team`, end to end", exp["cli_seconds"], exp["floor_end_to_end_seconds"],
                 "python + the GROUP BY + CSV", GOAL_EXPORT_S, _s),
        time_row("fresh process to an adviser's caseload painted (headless)", app["paint"], app["bare_paint"],
                 "bare Textual app", GOAL_PAINT_S, _s),
        time_row("next customer record (`]`), key to paint", app["next_record"], None, "", GOAL_KEY_S),
        time_row("filter keystroke, key to the new rows painted", app["keystroke"], None, "", GOAL_KEY_S),
        f"| peak memory of any command (largest: {worst}) | {peak:.0f} MB | {max(floor_peaks):.0f} MB (largest "
        f"floor) | {peak / max(floor_peaks):.1f}× | < {GOAL_PEAK_MB} MB | "
        f"{verdict(peak < GOAL_PEAK_MB, f'{peak - GOAL_PEAK_MB:.0f} MB over')} |",
    ]
    if "pg" in m:
        pg = m["pg"]
        lines += [
            import_row("PostgreSQL: import of an extract", rows, pg["seconds"], pg["floor_seconds"],
                       "COPY into a bare table"),
            time_row("PostgreSQL: team off-flow roll-up, in process", pg["rollup_seconds"], pg["group_by_seconds"],
                     "one GROUP BY", GOAL_ROLLUP_S),
        ]
    if "pg_error" in m:
        lines.append(f"| PostgreSQL: import and roll-up | failed | | | | {m['pg_error'].splitlines()[0]} |")
    lines.append("")
    lines.append("Peak RSS by command: " + ", ".join(f"{k} {v:.0f} MB" for k, v in peaks.items()) + ".")
    return "\n".join(lines)


def measure(rows: int, runs: int, work: Path, pg: str | None, log) -> dict:  # noqa: ANN001
    from fixtures.generator import district_shape

    work.mkdir(parents=True, exist_ok=True)
    log(f"{rows:,} claims: generating the extract...")
    extract, gen = rb.generate(rows, work, "--district")
    m: dict = {"rows": rows, "generate_seconds": gen, "offices": district_shape(rows).offices}
    log("import:")
    m["import"], db = rb.bench_import(extract, rows, runs, work, log)
    log("import floor (csv.reader -> executemany, bare table):")
    m["import_floor"] = rb.bench_import_floor(extract, rows, runs, work, log)
    log("export and roll-up:")
    m["export"] = rb.bench_export(db, runs, work, log)
    log("the app:")
    m["app"] = app_bench.bench_app(db, runs, log)
    if pg:
        log("PostgreSQL:")
        try:
            m["pg"] = bench_pg(pg, extract, rows, runs, log)
        except SystemExit as exc:  # a failing child: say so in the table, keep the SQLite figures
            m["pg_error"] = str(exc)
    log(table(rows, runs, m))
    return m


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,100000,1000000",
                    help="claims in each generated extract, comma-separated (default 10000,100000,1000000)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each measurement; medians are reported (default 3)")
    ap.add_argument("--commit", metavar="REV",
                    help="measure caseload/ and fixtures/ as at this commit (a git archive snapshot), "
                         "not the working tree, which others may be editing")
    ap.add_argument("--pg", nargs="?", const="", metavar="URL",
                    help="also import and roll up on this PostgreSQL database (emptied first!); "
                         "without URL, $CASELOAD_TEST_PG")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="work in DIR and keep the extracts and databases")
    ap.add_argument("--json", type=Path, metavar="PATH", help="also write every raw figure to PATH")
    ap.add_argument("--extract", type=Path, metavar="CSV",
                    help="with --national: import this extract (one --keep kept) instead of generating one")
    ap.add_argument("--national", nargs="?", const=10_000_000, type=int, metavar="ROWS",
                    help="instead of --sizes: a national history on PostgreSQL (--pg needed), 10,000,000 claims "
                         "unless ROWS is given; import once, reads --runs times (about an hour on 2 cores)")
    args = ap.parse_args(argv)
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        ap.error(f"--sizes takes whole numbers separated by commas, not {args.sizes!r}")
    if not sizes or min(sizes) < 1 or args.runs < 1:
        ap.error("every size and --runs must be at least 1")
    pg = args.pg
    if pg == "":
        pg = os.environ.get("CASELOAD_TEST_PG") or ap.error("--pg without a URL needs $CASELOAD_TEST_PG")

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    work, cleanup = rb.prepare(args.keep, args.commit)
    env = rb.environment(everything=True)
    log(f"caseload district bench: {f'national, {args.national:,} claims' if args.national else 'sizes ' + ', '.join(f'{s:,}' for s in sizes)} x {args.runs} runs; "
        f"{rb.describe_env(env)}")
    load = env["load_average_at_start"]
    if load and load[0] > 0.5:
        log(f"warning: the 1-minute load average is {load[0]:.2f}; other work on this machine will slow these figures")
    t0 = time.perf_counter()
    if args.national:
        if not pg:
            ap.error("--national runs on PostgreSQL: give --pg")
        try:
            print(national(pg, args.national, args.runs, work / "national", log, args.extract))
        finally:
            if cleanup is not None:
                cleanup.cleanup()
        log(f"wall time {time.perf_counter() - t0:.0f} s")
        return 0
    try:
        results = [measure(n, args.runs, work / str(n), pg, log) for n in sizes]
        env["code_fingerprint_at_end"] = rb.code_fingerprint(everything=True)
    finally:
        if cleanup is not None:
            cleanup.cleanup()
    env["wall_seconds"] = time.perf_counter() - t0
    print(rb.run_heading(env, log))
    print("\n\n".join(table(m["rows"], args.runs, m) for m in results))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"environment": env, "runs": args.runs, "seed": rb.SEED,
                                         "as_at": rb.AS_AT.isoformat(), "sizes": results}, indent=2) + "\n",
                             encoding="utf-8")
        log(f"raw figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
