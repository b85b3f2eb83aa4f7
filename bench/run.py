"""Import and export benchmarks for caseload, each beside its floor measured in the same run.

    .venv/bin/python bench/run.py --rows 100000 --runs 3 [--commit REV] [--keep DIR] [--json PATH]

With ``--commit REV`` the code measured is ``caseload/`` and ``fixtures/`` as at that commit
(a ``git archive`` snapshot, first on ``PYTHONPATH``), not the working tree.

1. Generates a claims extract of ``--rows`` rows (seed 1, as at 2026-10-30) with
   ``python -m fixtures.generate`` and reports how long that took (not a benchmark figure).
2. Import: ``--runs`` times, ``caseload import claims`` into a fresh SQLite file, as a child
   process; wall time and the child's peak RSS (``os.wait4`` in a small launcher; see LAUNCHER).
   Floor: a child Python that loads the same CSV rows with ``csv.reader`` and
   ``sqlite3.executemany`` into a bare table of the extract's columns (all TEXT, no keys,
   no indexes, one transaction, the same WAL / synchronous=NORMAL pragmas).
3. Export, on the last imported database:
   * ``caseload export offflow --by team --cohort reporting-month --last 12`` as a child
     process (end to end: start-up, opening the database, the roll-up, writing the CSV).
     Floor: a child Python that runs the hand-written GROUP BY below and writes its rows
     as CSV; ``python -c pass`` is shown beside it as the bare start-up cost.
   * the roll-up in this process: the ``offflow(conn, ADMIN, OffflowQuery(...))`` call only.
     Floor: the hand-written GROUP BY over the same 12 reporting months, in ``sqlite3``::

         SELECT onflow_team_id, start_day / 7, (end_day - start_day) <= 91, end_reason, COUNT(*)
         FROM claim WHERE start_day BETWEEN ? AND ? GROUP BY 1, 2, 3, 4

   * ``caseload --help``: the command's fixed start-up cost (its imports), beside ``python -c pass``.
   * (diagnostic, not a floor) the same GROUP BY with the roll-up's quick re-claim check,
     a correlated EXISTS on another claim of the customer starting within 7 days of the end.

Every figure is the median of ``--runs`` runs (peak memory: the largest). Nothing is
appended anywhere; ``--json PATH`` writes the raw figures. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where the measured caseload/ and fixtures/ are: the checkout, or a snapshot of one commit (--commit).
SOURCE = ROOT
SOURCE_COMMIT = ""
# Children run here, so that the current directory never shadows the code being measured.
CHILD_CWD: Path | None = None
SEED = 1
AS_AT = dt.date(2026, 10, 30)
IMPORT_GOAL_ROWS_S = 100_000
IMPORT_GOAL_PEAK_MB = 250
EXPORT_ARGS = ["--by", "team", "--cohort", "reporting-month", "--last", "12"]

FLOOR_GROUP_BY = (
    "SELECT onflow_team_id, start_day / 7, (end_day - start_day) <= 91, end_reason, COUNT(*) "
    "FROM claim WHERE start_day BETWEEN ? AND ? GROUP BY 1, 2, 3, 4"
)
# Diagnostic only: the floor plus the roll-up's costliest part, the quick re-claim check.
RECLAIM_GROUP_BY = (
    "SELECT c.onflow_team_id, c.start_day / 7, (c.end_day - c.start_day) <= 91, c.end_reason, "
    "c.end_day IS NOT NULL AND EXISTS (SELECT 1 FROM claim n WHERE n.customer_id = c.customer_id "
    "AND n.id <> c.id AND n.start_day >= c.end_day AND n.start_day <= c.end_day + 7 "
    "AND n.start_day <= ?3), COUNT(*) "
    "FROM claim c WHERE c.start_day BETWEEN ?1 AND ?2 GROUP BY 1, 2, 3, 4, 5"
)

# The import floor, run as a child process so that it pays the same start-up as the import.
FLOOR_IMPORT_SCRIPT = r"""
import csv, sqlite3, sys
src, db = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db, isolation_level=None)
con.execute("PRAGMA journal_mode=WAL")
con.execute("PRAGMA synchronous=NORMAL")
with open(src, encoding="utf-8-sig", newline="") as f:
    rows = csv.reader(f)
    header = next(rows)
    cols = ", ".join(f'"{h}" TEXT' for h in header)
    con.execute(f"CREATE TABLE claim_floor ({cols})")
    con.execute("BEGIN")
    con.executemany(f"INSERT INTO claim_floor VALUES ({', '.join('?' * len(header))})", rows)
    con.execute("COMMIT")
n = con.execute("SELECT COUNT(*) FROM claim_floor").fetchone()[0]
con.close()
print(n)
"""

# The end-to-end export floor: start up, run the hand-written GROUP BY, write its rows as CSV.
FLOOR_EXPORT_SCRIPT = r"""
import csv, sqlite3, sys
db, first, last, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
con = sqlite3.connect(db)
rows = con.execute(sys.argv[5], (first, last)).fetchall()
with open(out, "w", newline="", encoding="utf-8") as f:
    csv.writer(f).writerows(rows)
"""


# ---------------------------------------------------------------------------------------------
# Measuring


# Children are started through this small launcher, not straight from this process: Linux
# carries a process's peak RSS across fork and exec, so a child forked from this process (which
# has imported caseload by the time it measures the export) would report at least this
# process's size. The launcher is ~10 MB, below any Python child, and times the child itself.
LAUNCHER = r"""
import json, os, sys, time
result, argv = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, ru = os.wait4(pid, 0)
seconds = time.perf_counter() - t0
kb = ru.ru_maxrss / 1024 if sys.platform == "darwin" else ru.ru_maxrss  # macOS reports bytes
with open(result, "w") as f:
    json.dump({"seconds": seconds, "peak_mb": kb / 1024, "exit": os.waitstatus_to_exitcode(status)}, f)
"""


def run_child(argv: list[str]) -> dict:
    """Run one command; its wall time, peak RSS (of that child alone) and output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(suffix=".json") as res:
        launcher = subprocess.run([sys.executable, "-I", "-S", "-c", LAUNCHER, res.name, *map(str, argv)],
                                  stdout=out, stderr=err, cwd=CHILD_CWD)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
        try:
            r = json.loads(Path(res.name).read_text())
        except (OSError, ValueError):
            r = {"exit": launcher.returncode}
    if launcher.returncode != 0 or r["exit"] != 0:
        raise SystemExit(f"bench: {' '.join(map(str, argv))} failed ({r['exit']}):\n{stdout}{stderr}")
    return {"seconds": r["seconds"], "peak_mb": r["peak_mb"], "stdout": stdout, "stderr": stderr}


def timed(fn, *args, **kwargs) -> tuple[float, object]:  # noqa: ANN001
    t0 = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - t0, value


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def median(xs: list[float]) -> float:
    return statistics.median(xs)


# ---------------------------------------------------------------------------------------------
# The environment


MEASURED_MODULES = ("caseload.cli", "caseload.store.importer", "caseload.store.offflow",
                    "caseload.export.offflow", "fixtures.generate")


def code_fingerprint(everything: bool = False) -> str:
    """A hash of the source files the measured commands load, to notice them changing mid-run.

    The files are those of every module under this checkout that importing MEASURED_MODULES
    loads (others may edit unrelated files, such as the app's screens, while this runs), or with
    `everything` (the app is measured too) every .py file under caseload/ and fixtures/.
    """
    import hashlib
    import importlib

    roots = (SOURCE / "caseload", SOURCE / "fixtures")
    if everything:
        files = sorted(f.resolve() for r in roots for f in r.rglob("*.py"))
    else:
        for name in MEASURED_MODULES:
            importlib.import_module(name)
        files = sorted({
            Path(m.__file__).resolve() for m in list(sys.modules.values())
            if getattr(m, "__file__", None) and any(Path(m.__file__).resolve().is_relative_to(r) for r in roots)
        })
    h = hashlib.sha256()
    for f in files:
        try:
            h.update(str(f.relative_to(SOURCE)).encode() + b"\0" + f.read_bytes() + b"\0")
        except OSError:
            continue
    return h.hexdigest()[:12]


def environment(everything: bool = False) -> dict:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,
                                  check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    if SOURCE != ROOT:
        commit, dirty = SOURCE_COMMIT, False
    else:
        commit = git("rev-parse", "--short", "HEAD") or "unknown"
        dirty = bool(git("status", "--porcelain", "--", "caseload", "fixtures", "pyproject.toml"))
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 0
    return {
        "date": dt.date.today().isoformat(),
        "cores": cores,
        "commit": commit,
        "uncommitted_changes": dirty,
        "source": "snapshot, --commit" if SOURCE != ROOT else "working tree",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "code_fingerprint": code_fingerprint(everything),
    }


def describe_env(env: dict) -> str:
    return (f"{env['date']}, {env['cores']} cores, commit {env['commit']}"
            f"{' + uncommitted changes' if env['uncommitted_changes'] else ''} ({env['source']}), "
            f"Python {env['python']}, SQLite {env['sqlite']}")


def prepare(keep: Path | None, commit: str | None) -> tuple[Path, tempfile.TemporaryDirectory | None]:
    """The work directory (kept, or temporary: clean it up), where children run; with `commit`, a
    snapshot of that commit put ahead of the working tree for this process and every child."""
    global SOURCE, SOURCE_COMMIT, CHILD_CWD
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        work, cleanup = keep.resolve(), None
    else:
        cleanup = tempfile.TemporaryDirectory(prefix="caseload-bench-")
        work = Path(cleanup.name)
    CHILD_CWD = work
    if commit:
        SOURCE, SOURCE_COMMIT = snapshot(commit, work)
        # Ahead of the editable install's finder, in the children and in this process.
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(SOURCE), os.environ.get("PYTHONPATH")) if p)
        sys.path.insert(0, str(SOURCE))
        where = run_child([sys.executable, "-c", "import caseload, fixtures; print(caseload.__file__, fixtures.__file__)"])
        if any(not Path(f).resolve().is_relative_to(SOURCE) for f in where["stdout"].split()):
            raise SystemExit(f"bench: the children would not run the snapshot: {where['stdout']}")
    return work, cleanup


def run_heading(env: dict, log) -> str:  # noqa: ANN001
    """What was measured, and when (after env["code_fingerprint_at_end"] is set): the environment,
    a bold line if the code changed during the run, and the load average at start and end."""
    env["commit_at_end"] = SOURCE_COMMIT or environment()["commit"]
    lines = [f"\n{describe_env(env)}, code {env['code_fingerprint']}\n"]
    if env["code_fingerprint_at_end"] != env["code_fingerprint"]:
        log("warning: the measured code changed during the run: the figures mix versions")
        lines.append(f"**The code changed during this run (code {env['code_fingerprint']} -> "
                     f"{env['code_fingerprint_at_end']}, commit {env['commit']} -> {env['commit_at_end']}): "
                     "these figures mix versions; run again.**\n")
    load = env["load_average_at_start"]
    if load:
        env["load_average_at_end"] = list(os.getloadavg())
        lines.append(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; at end: "
                     + " ".join(f"{x:.2f}" for x in env["load_average_at_end"]) + "\n")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The benchmarks


def snapshot(rev: str, work: Path) -> tuple[Path, str]:
    """caseload/ and fixtures/ as they are at commit `rev`, unpacked into work/src."""
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", f"{rev}^{{commit}}"],
                                capture_output=True, text=True, check=True).stdout.strip()
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"bench: {rev} is not a commit here: {exc.stderr.strip()}") from None
    src = work / "src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "caseload", "fixtures"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    return src, commit


def bin_path(name: str) -> str:
    here = Path(sys.executable).parent / name
    if here.exists():
        return str(here)
    venv = ROOT / ".venv" / "bin" / name
    if venv.exists():
        return str(venv)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"bench: cannot find {name}; run with the project's .venv/bin/python")
    return found


def generate(rows: int, work: Path, *options: str) -> tuple[Path, float]:
    """The extract (``options``: more arguments for fixtures.generate, such as --district) and its time."""
    path = work / f"claims-{rows}.csv"
    r = run_child([sys.executable, "-m", "fixtures.generate", "--rows", str(rows), "--seed", str(SEED),
                   "--as-at", AS_AT.isoformat(), "--output", str(path), *options])
    return path, r["seconds"]


def bench_import(extract: Path, rows: int, runs: int, work: Path, log) -> tuple[dict, Path]:  # noqa: ANN001
    caseload = bin_path("caseload")
    walls, peaks = [], []
    db = work / "import.sqlite3"
    for k in range(runs):
        remove_db(db)
        r = run_child([caseload, "import", "claims", str(extract), "--as-at", AS_AT.isoformat(), "--db", str(db)])
        if f"{rows} rows read, {rows} claims added" not in r["stdout"]:
            raise SystemExit(f"bench: the import did not add every row:\n{r['stdout']}{r['stderr']}")
        walls.append(r["seconds"])
        peaks.append(r["peak_mb"])
        log(f"  import run {k + 1}: {r['seconds']:.2f} s, {rows / r['seconds']:,.0f} rows/s, peak {r['peak_mb']:.0f} MB")
    return {"seconds": walls, "peak_mb": peaks}, db


def bench_import_floor(extract: Path, rows: int, runs: int, work: Path, log) -> dict:  # noqa: ANN001
    walls, peaks = [], []
    db = work / "floor.sqlite3"
    for k in range(runs):
        remove_db(db)
        r = run_child([sys.executable, "-c", FLOOR_IMPORT_SCRIPT, str(extract), str(db)])
        if int(r["stdout"].strip()) != rows:
            raise SystemExit(f"bench: the floor loaded {r['stdout'].strip()} rows, not {rows}")
        walls.append(r["seconds"])
        peaks.append(r["peak_mb"])
        log(f"  floor run {k + 1}: {r['seconds']:.2f} s, {rows / r['seconds']:,.0f} rows/s, peak {r['peak_mb']:.0f} MB")
    remove_db(db)
    return {"seconds": walls, "peak_mb": peaks}


def time_rollup(url: str, runs: int, log):  # noqa: ANN001, ANN201
    """The team roll-up alone (12 reporting months), in this process, on an already-open connection:
    each run's seconds, and the last result."""
    from caseload.clock import FixedClock
    from caseload.measures.cohorts import CohortKind
    from caseload.store.access import ADMIN
    from caseload.store.db import open_database
    from caseload.store.offflow import OffflowQuery, offflow

    engine = open_database(url, FixedClock.on(AS_AT), create=False)
    query = OffflowQuery(group_by="team", cohort=CohortKind.REPORTING_MONTH, last_n=12)
    rollup = []
    with engine.connect() as conn:
        for k in range(runs):
            secs, result = timed(offflow, conn, ADMIN, query)
            rollup.append(secs)
            log(f"  roll-up run {k + 1}: {secs:.3f} s ({len(result.rows)} rows)")
    engine.dispose()
    return rollup, result


def bench_export(db: Path, runs: int, work: Path, log) -> dict:  # noqa: ANN001
    from caseload.store import schema

    caseload = bin_path("caseload")
    out = work / "offflow.csv"
    cli, cli_peak = [], []
    for k in range(runs):
        r = run_child([caseload, "export", "offflow", *EXPORT_ARGS, "--output", str(out), "--db", str(db)])
        cli.append(r["seconds"])
        cli_peak.append(r["peak_mb"])
        log(f"  export run {k + 1}: {r['seconds']:.3f} s, peak {r['peak_mb']:.0f} MB")
    csv_rows = sum(1 for _ in open(out, encoding="utf-8")) - 1

    rollup, result = time_rollup(str(db), runs, log)
    periods = result.periods
    as_at = result.as_at
    first_day = schema.day_number(periods[0].start)
    last_day = schema.day_number(min(periods[-1].end, as_at))
    as_at_day = schema.day_number(as_at)

    # The floor: one hand-written GROUP BY over the same start days.
    floor, reclaim = [], []
    con = sqlite3.connect(str(db))
    in_scope = con.execute("SELECT COUNT(*) FROM claim WHERE start_day BETWEEN ? AND ?", (first_day, last_day)).fetchone()[0]
    for k in range(runs):
        secs, groups = timed(lambda: con.execute(FLOOR_GROUP_BY, (first_day, last_day)).fetchall())
        floor.append(secs)
        log(f"  GROUP BY run {k + 1}: {secs:.3f} s ({len(groups)} groups)")
    for k in range(runs):
        secs, groups_r = timed(lambda: con.execute(RECLAIM_GROUP_BY, (first_day, last_day, as_at_day)).fetchall())
        reclaim.append(secs)
        log(f"  GROUP BY + re-claim run {k + 1}: {secs:.3f} s ({len(groups_r)} groups)")
    con.close()

    # End-to-end floor: start-up + the GROUP BY + writing CSV, and bare start-up.
    e2e_floor, e2e_floor_peak, startup, cli_startup = [], [], [], []
    for k in range(runs):
        cli_startup.append(run_child([caseload, "--help"])["seconds"])
        r = run_child([sys.executable, "-c", FLOOR_EXPORT_SCRIPT, str(db), str(first_day), str(last_day),
                       str(work / "floor-offflow.csv"), FLOOR_GROUP_BY])
        e2e_floor.append(r["seconds"])
        e2e_floor_peak.append(r["peak_mb"])
        startup.append(run_child([sys.executable, "-c", "pass"])["seconds"])
    log(f"  end-to-end floor: {median(e2e_floor):.3f} s; python -c pass: {median(startup):.3f} s; "
        f"caseload --help: {median(cli_startup):.3f} s")
    return {
        "cli_seconds": cli, "cli_peak_mb": cli_peak, "csv_rows": csv_rows,
        "rollup_seconds": rollup, "rollup_rows": len(result.rows),
        "claims_in_scope": in_scope, "first_day": first_day, "last_day": last_day,
        "periods": [periods[0].start.isoformat(), periods[-1].end.isoformat()],
        "floor_group_by_seconds": floor, "floor_groups": len(groups),
        "reclaim_group_by_seconds": reclaim,
        "floor_end_to_end_seconds": e2e_floor, "floor_end_to_end_peak_mb": e2e_floor_peak, "python_startup_seconds": startup,
        "caseload_help_seconds": cli_startup,
    }


# ---------------------------------------------------------------------------------------------
# Reporting


def _s(x: float) -> str:
    return f"{x:.3f} s" if x < 10 else f"{x:.1f} s"


def table(rows: int, runs: int, gen_seconds: float, imp: dict, imp_floor: dict, exp: dict) -> str:
    imp_s, floor_s = median(imp["seconds"]), median(imp_floor["seconds"])
    imp_rate, floor_rate = rows / imp_s, rows / floor_s
    peak, floor_peak = max(imp["peak_mb"]), max(imp_floor["peak_mb"])
    goal_rate = f"≥ {IMPORT_GOAL_ROWS_S:,} rows/s ({'met' if imp_rate >= IMPORT_GOAL_ROWS_S else 'not met'})"
    goal_peak = f"≤ {IMPORT_GOAL_PEAK_MB} MB ({'met' if peak <= IMPORT_GOAL_PEAK_MB else 'not met'})"
    if rows != 1_000_000:
        goal_rate += ", goal is at 1,000,000 rows"
        goal_peak += ", goal is at 1,000,000 rows"
    cli, rollup = median(exp["cli_seconds"]), median(exp["rollup_seconds"])
    e2e_floor, gb = median(exp["floor_end_to_end_seconds"]), median(exp["floor_group_by_seconds"])
    lines = [
        f"{rows:,} rows, median of {runs} runs (peak memory: the largest); extract generated in {gen_seconds:.1f} s; "
        f"export scope: {exp['claims_in_scope']:,} claims started {exp['periods'][0]} to {exp['periods'][1]}",
        "",
        "| what | median | floor | ratio | goal |",
        "|---|---:|---:|---:|---|",
        f"| import, rows/s (`caseload import claims`, end to end) | {imp_rate:,.0f} | {floor_rate:,.0f} | "
        f"{floor_rate / imp_rate:.1f}× slower | {goal_rate} |",
        f"| import, wall time | {_s(imp_s)} | {_s(floor_s)} | {imp_s / floor_s:.1f}× | |",
        f"| import, peak RSS | {peak:.0f} MB | {floor_peak:.0f} MB | {peak / floor_peak:.1f}× | {goal_peak} |",
        f"| export offflow --by team, end to end | {_s(cli)} | {_s(e2e_floor)} | {cli / e2e_floor:.1f}× | none stated |",
        f"| export, peak RSS | {max(exp['cli_peak_mb']):.0f} MB | {max(exp['floor_end_to_end_peak_mb']):.0f} MB | "
        f"{max(exp['cli_peak_mb']) / max(exp['floor_end_to_end_peak_mb']):.1f}× | |",
        f"| off-flow roll-up, in process (`offflow()`) | {_s(rollup)} | {_s(gb)} | {rollup / gb:.1f}× | none stated |",
        f"| `python -c pass` (start-up) | {_s(median(exp['python_startup_seconds']))} | | | |",
        f"| `caseload --help` (the CLI's own start-up) | {_s(median(exp['caseload_help_seconds']))} | "
        f"{_s(median(exp['python_startup_seconds']))} | "
        f"{median(exp['caseload_help_seconds']) / median(exp['python_startup_seconds']):.1f}× | |",
        f"| diagnostic: GROUP BY + re-claim EXISTS | {_s(median(exp['reclaim_group_by_seconds']))} | {_s(gb)} | "
        f"{median(exp['reclaim_group_by_seconds']) / gb:.1f}× | |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000, help="rows in the generated extract (default 100000)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each measurement; medians are reported (default 3)")
    ap.add_argument("--keep", type=Path, metavar="DIR",
                    help="work in DIR and keep the extract, the last imported database and the CSV")
    ap.add_argument("--json", type=Path, metavar="PATH", help="write the raw figures to PATH")
    ap.add_argument("--commit", metavar="REV",
                    help="measure caseload/ and fixtures/ as at this commit (a snapshot made with git archive), "
                         "not the working tree, which others may be editing")
    ap.add_argument("--quiet", action="store_true", help="print only the table")
    args = ap.parse_args(argv)
    if args.rows < 1 or args.runs < 1:
        ap.error("--rows and --runs must be at least 1")

    def log(msg: str) -> None:
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    work, cleanup = prepare(args.keep, args.commit)
    env = environment()
    log(f"caseload bench: {args.rows:,} rows x {args.runs} runs; {describe_env(env)}")
    load = env["load_average_at_start"]
    if load and load[0] > 0.5:
        log(f"warning: the 1-minute load average is {load[0]:.2f}; other work on this machine will slow these figures")
    try:
        log("generating the extract...")
        extract, gen_seconds = generate(args.rows, work)
        log(f"  {extract.stat().st_size / 1e6:.0f} MB in {gen_seconds:.1f} s")
        log("import:")
        imp, db = bench_import(extract, args.rows, args.runs, work, log)
        log("import floor (csv.reader -> executemany, bare table):")
        imp_floor = bench_import_floor(extract, args.rows, args.runs, work, log)
        log("export:")
        exp = bench_export(db, args.runs, work, log)
        env["code_fingerprint_at_end"] = code_fingerprint()
    finally:
        if cleanup is not None:
            cleanup.cleanup()

    print(run_heading(env, log))
    print(table(args.rows, args.runs, gen_seconds, imp, imp_floor, exp))
    if args.json:
        raw = {
            "environment": env, "rows": args.rows, "runs": args.runs, "seed": SEED, "as_at": AS_AT.isoformat(),
            "generate_seconds": gen_seconds,
            "import": {**imp, "median_seconds": median(imp["seconds"]),
                       "rows_per_second": args.rows / median(imp["seconds"]), "max_peak_mb": max(imp["peak_mb"])},
            "import_floor": {**imp_floor, "median_seconds": median(imp_floor["seconds"]),
                             "rows_per_second": args.rows / median(imp_floor["seconds"]),
                             "max_peak_mb": max(imp_floor["peak_mb"])},
            "export": exp,
            "floor_group_by_sql": FLOOR_GROUP_BY,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
        log(f"raw figures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
