"""What row-level security costs on PostgreSQL (issue 13): the same reads as each role's own login
(policies on) and as the database owner acting as that person (the owner's policy lets every row
through, so only the app's own filter narrows), side by side.

    bash scripts/pg.sh .venv/bin/python bench/rls.py --claims 100000 --runs 5   (or --pg URL)

It generates an extract in the district shape (bench/run.py's generator, seed 1), imports it as the
owner into a fresh schema, grants a login to the adviser with the most open claims, their team
manager and their office's team leader, then times in this process, on open connections, each
read a screen makes: an adviser's caseload page, the team off-flow roll-up (12 reporting months)
and a conference agenda. Each figure is the median of --runs runs after one warm-up run. The
logins are left in the cluster (roles are the cluster's, not one database's); a throwaway cluster
from scripts/pg.sh goes with them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import run as rb
from district import pg_reset


def timed_runs(fn, runs: int) -> float:  # noqa: ANN001
    fn()  # warm-up: plans and caches, as a screen opened a second time finds them
    secs = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        secs.append(time.perf_counter() - t)
    return statistics.median(secs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--claims", type=int, default=100_000, help="claims in the extract (default 100,000)")
    ap.add_argument("--runs", type=int, default=5, help="runs of each read; the median is reported (default 5)")
    ap.add_argument("--pg", metavar="URL", default=os.environ.get("CASELOAD_TEST_PG"),
                    help="a PostgreSQL database the bench may empty (default: $CASELOAD_TEST_PG)")
    args = ap.parse_args(argv)
    if not args.pg:
        ap.error("needs --pg URL or $CASELOAD_TEST_PG (bash scripts/pg.sh starts a throwaway cluster)")

    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from caseload.clock import FixedClock
    from caseload.measures.cohorts import CohortKind
    from caseload.store.access import ADMIN, actor_for
    from caseload.store.caseload import CaseloadQuery, caseload
    from caseload.store.conference import build_agenda
    from caseload.store.db import open_database, write
    from caseload.store.logins import connected_actor, grant
    from caseload.store.offflow import OffflowQuery, offflow

    clock = FixedClock.on(rb.AS_AT)
    with tempfile.TemporaryDirectory(prefix="caseload-rls-") as tmp:
        print(f"{args.claims:,} claims: generating and importing as the owner...", file=sys.stderr)
        extract, _ = rb.generate(args.claims, Path(tmp), "--district")
        pg_reset(args.pg)
        r = rb.run_child([rb.bin_path("caseload"), "import", "claims", str(extract), "--as-at", rb.AS_AT.isoformat(),
                          "--db", args.pg, "--quiet"])
        if f"{args.claims} rows read" not in r["stdout"]:
            raise SystemExit(f"bench: the import failed:\n{r['stdout']}{r['stderr']}")
    owner = open_database(args.pg, clock, create=False)
    with owner.connect() as conn:
        adviser, team_id, office_id = conn.execute(text(
            "SELECT s.id, s.team_id, s.office_id FROM staff s JOIN claim c ON c.adviser_id = s.id "
            "WHERE c.end_day IS NULL GROUP BY s.id, s.team_id, s.office_id ORDER BY count(*) DESC, s.id LIMIT 1")).one()
    tag = f"b{os.getpid()}"
    people = {"adviser": adviser}
    with write(owner) as conn:
        conn.execute(text("INSERT INTO staff (id, name, role, team_id, office_id, active, version) VALUES "
                          "('BM1', 'Bench Manager', 'team_manager', :t, :o, true, 1), "
                          "('BL1', 'Bench Leader', 'team_leader', NULL, :o, true, 1) ON CONFLICT DO NOTHING"),
                     {"t": team_id, "o": office_id})
        people.update({"team manager": "BM1", "team leader": "BL1"})
        for who, staff_id in people.items():
            grant(conn, clock, ADMIN, staff_id, f"{tag}_{who.replace(' ', '_')}")
    base = make_url(args.pg)
    today = clock.today()
    rollup = OffflowQuery(group_by="team", cohort=CohortKind.REPORTING_MONTH, last_n=12)
    rows = []
    for who, staff_id in people.items():
        login = open_database(base.set(username=f"{tag}_{who.replace(' ', '_')}").render_as_string(False), clock,
                              create=False)
        as_login = connected_actor(login, clock, None, today)
        with owner.connect() as conn:
            as_owner = actor_for(conn, staff_id, today)
        reads = {"team roll-up (12 months by team)": lambda conn, a: offflow(conn, a, rollup)}
        if who != "team leader":
            reads["caseload page (first 50, by milestone)"] = (
                lambda conn, a: caseload(conn, a, rb.AS_AT, CaseloadQuery(adviser_id=adviser)))
        if who != "adviser":
            reads["conference agenda"] = lambda conn, a: build_agenda(conn, a, adviser, today)
        for what, read in reads.items():
            with owner.connect() as oc, login.connect() as lc:
                bypass = timed_runs(lambda: read(oc, as_owner), args.runs)
                policed = timed_runs(lambda: read(lc, as_login), args.runs)
            rows.append((what, who, bypass, policed))
        login.dispose()
    owner.dispose()
    print(f"\n{args.claims:,} claims, PostgreSQL, medians of {args.runs} runs after a warm-up\n")
    print("| read | as | owner (policies let all through) | own login (policies on) | ratio |")
    print("|---|---|---:|---:|---:|")
    for what, who, bypass, policed in sorted(rows):
        print(f"| {what} | {who} | {bypass * 1000:,.1f} ms | {policed * 1000:,.1f} ms | {policed / bypass:.2f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
