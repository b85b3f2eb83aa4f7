"""The `caseload` command end to end: help, import, export, staff, db, and no Textual where it isn't needed."""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from caseload.cli import main
from caseload.clock import FixedClock
from caseload.store.schema import SCHEMA_VERSION
from fixtures.generator import iter_claims, write_extract

AS_AT = dt.date(2026, 10, 30)
CLOCK = FixedClock.on(dt.date(2026, 11, 2))

COMMANDS = [
    [], ["import"], ["import", "claims"], ["export"], ["export", "offflow"], ["staff"], ["staff", "add"],
    ["staff", "set-role"], ["staff", "move"], ["staff", "list"], ["db"], ["db", "info"], ["db", "imports"], ["demo"],
    ["export", "agenda"], ["export", "conference"], ["note"], ["note", "set"], ["note", "list"],
]


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "caseload")
def test_every_command_answers_help_and_takes_db(cmd, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*cmd, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "usage: caseload" in out
    assert "--db URL" in out


@pytest.fixture(scope="module")
def extract(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("extract") / "claims.csv"
    write_extract(path, iter_claims(10_000, seed=7, as_at=AS_AT))
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args), clock=CLOCK)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_import_then_export_offflow_by_team(tmp_path, extract, capsys):
    db = str(tmp_path / "db.sqlite3")
    code, out, _ = run(capsys, "import", "claims", str(extract), "--as-at", "2026-10-30", "--db", db)
    assert code == 0
    assert "10000 rows read, 10000 claims added, 0 updated, 0 transfers" in out

    out_path = tmp_path / "out" / "offflow.csv"
    code, _, err = run(capsys, "export", "offflow", "--by", "team", "--cohort", "calendar-month", "--last", "6",
                       "--db", db, "--output", str(out_path))
    assert code == 0 and "Wrote" in err
    rows = list(csv.DictReader(open(out_path, encoding="utf-8")))
    assert rows, "the export has rows"
    assert list(rows[0].keys())[:3] == ["group_by", "group", "cohort_period"]
    # Sorted by group, cohort start, milestone; six complete calendar months before the as-at date.
    keys = [(r["group"], r["cohort_start"], int(r["milestone_weeks"])) for r in rows]
    assert keys == sorted(keys)
    assert sorted({r["cohort_period"] for r in rows}) == ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08", "2026-09"]
    # Cumulative and consistent, from integer counts.
    by_cohort = defaultdict(dict)
    for r in rows:
        by_cohort[(r["group"], r["cohort_period"])][int(r["milestone_weeks"])] = int(r["offflows"])
        assert int(r["offflows"]) <= int(r["cohort_size"])
        done = dt.date.fromisoformat(r["cohort_end"]) + dt.timedelta(weeks=int(r["milestone_weeks"])) <= AS_AT
        assert r["status"] == ("final" if done else "interim")
    for counts in by_cohort.values():
        assert counts[13] <= counts[26] <= counts[52]

    # Team rows pool to the office total.
    total_path = tmp_path / "all.csv"
    run(capsys, "export", "offflow", "--cohort", "calendar-month", "--last", "6", "--db", db, "--output", str(total_path))
    total = {(r["cohort_period"], r["milestone_weeks"]): r for r in csv.DictReader(open(total_path, encoding="utf-8"))}
    pooled = defaultdict(lambda: [0, 0])
    for r in rows:
        p = pooled[(r["cohort_period"], r["milestone_weeks"])]
        p[0] += int(r["offflows"])
        p[1] += int(r["cohort_size"])
    assert {k: [int(v["offflows"]), int(v["cohort_size"])] for k, v in total.items()} == {k: v for k, v in pooled.items()}

    meta = json.loads((out_path.parent / "offflow.csv.meta.json").read_text())
    assert meta["as_at"] == "2026-10-30"
    assert meta["cohort_period_kind"] == "calendar-month"
    assert meta["rule_set"]["name"] == "opte-2010"
    assert meta["expected_levels_pct"] == {"JSA": {"13": 56, "26": 78, "52": 92}}
    assert meta["suppression"]["counts_below"] == 5
    assert meta["attribution"].startswith("on-flow")


def test_export_to_stdout_puts_metadata_on_stderr(tmp_path, capsys):
    db = str(tmp_path / "db.sqlite3")
    src = tmp_path / "x.csv"
    write_extract(src, iter_claims(10_000, seed=3, as_at=AS_AT))
    run(capsys, "import", "claims", str(src), "--as-at", "2026-10-30", "--db", db)
    code, out, err = run(capsys, "export", "offflow", "--by", "sex", "--cohort", "quarter", "--last", "2",
                         "--db", db, "--output", "-")
    assert code == 0
    assert out.splitlines()[0].startswith("group_by,group,cohort_period")
    assert json.loads(err)["suppression"]["applies"] is True
    assert {r["group"] for r in csv.DictReader(out.splitlines())} <= {"female", "male", "not recorded"}


def test_export_with_bad_bounds_names_the_nearest(tmp_path, capsys, extract):
    db = str(tmp_path / "db.sqlite3")
    run(capsys, "import", "claims", str(extract), "--as-at", "2026-10-30", "--db", db)
    code, _, err = run(capsys, "export", "offflow", "--cohort", "quarter", "--from", "2026-01-02", "--to",
                       "2026-03-31", "--db", db, "--output", "-")
    assert code == 1
    assert "2026-01-02 is not the first day of a quarter period" in err
    assert "Traceback" not in err


def test_rejected_import_exits_1_with_every_problem(tmp_path, capsys):
    src = tmp_path / "bad.csv"
    src.write_text("claim_id,customer_id,benefit,claim_start,adviser_id\nC1,P1,JSA,2026-02-30,A1\nC2,,JSA,2026-01-01,A1\n")
    code, _, err = run(capsys, "import", "claims", str(src), "--as-at", "2026-10-30", "--db", str(tmp_path / "d.sqlite3"))
    assert code == 1
    assert "line 2, claim_start: '2026-02-30' is not a real date" in err
    assert "line 3, customer_id: is empty" in err
    assert "--partial --rejects PATH" in err


def test_staff_add_move_set_role_and_list(tmp_path, capsys, extract):
    db = str(tmp_path / "db.sqlite3")
    run(capsys, "import", "claims", str(extract), "--as-at", "2026-10-30", "--db", db)
    code, out, _ = run(capsys, "staff", "list", "--db", db)
    team = [line for line in out.splitlines() if " adviser " in line][0]
    team_name = [c.strip() for c in team.split("  ") if c.strip()][3]
    assert run(capsys, "staff", "add", "M9", "--name", "Maya Ford", "--role", "team_manager", "--team", team_name,
               "--db", db)[0] == 0
    code, out, _ = run(capsys, "staff", "list", "--team", team_name, "--db", db)
    assert "Maya Ford" in out and "team_manager" in out
    assert run(capsys, "staff", "set-role", "M9", "team_leader", "--db", db)[0] == 0
    code, _, err = run(capsys, "staff", "move", "M9", "--team", "No Such Team", "--as", "M9", "--db", db)
    assert code == 0  # a team leader may move staff; the new team is created
    code, _, err = run(capsys, "staff", "add", "X1", "--name", "X", "--role", "adviser", "--team", team_name,
                       "--as", "A0001", "--db", db)
    assert code == 1 and "Only a team leader may add staff" in err
    code, _, err = run(capsys, "staff", "add", "M9", "--name", "Again", "--role", "adviser", "--team", team_name,
                       "--db", db)
    assert code == 1 and "already on the staff list" in err


def test_db_info_and_imports(tmp_path, capsys, extract):
    db = str(tmp_path / "db.sqlite3")
    code, _, err = run(capsys, "db", "info", "--db", db)
    assert code == 1 and "There is no database at" in err
    run(capsys, "import", "claims", str(extract), "--as-at", "2026-10-30", "--db", db)
    code, out, _ = run(capsys, "db", "info", "--db", db)
    assert f"schema version: {SCHEMA_VERSION}" in out
    assert "claim:          10000" in out
    assert "as at 2026-10-30 (3 days ago)" in out
    code, out, _ = run(capsys, "db", "imports", "--db", db)
    assert "2026-10-30" in out and "claims.csv" in out and "10000" in out


def test_db_and_as_may_come_before_the_command(tmp_path, capsys, extract):
    db = str(tmp_path / "db.sqlite3")
    code, out, _ = run(capsys, "--db", db, "import", "claims", str(extract), "--as-at", "2026-10-30")
    assert code == 0 and "10000 rows read" in out
    code, out, _ = run(capsys, "--db", db, "db", "info")
    assert "claim:          10000" in out
    code, _, err = run(capsys, "--db", db, "--as", "NOBODY", "note", "list")
    assert code == 1 and "NOBODY" in err


def test_db_from_environment(tmp_path, capsys, extract, monkeypatch):
    monkeypatch.setenv("CASELOAD_DB", str(tmp_path / "env.sqlite3"))
    run(capsys, "import", "claims", str(extract), "--as-at", "2026-10-30")
    assert (tmp_path / "env.sqlite3").exists()


def test_command_line_never_imports_textual(tmp_path, extract):
    """import, export, staff and db start fast: Textual is not loaded."""
    db = str(tmp_path / "db.sqlite3")
    script = f"""
import sys, datetime as dt
from caseload.cli import main
from caseload.clock import FixedClock
from caseload.store.schema import SCHEMA_VERSION
clock = FixedClock.on(dt.date(2026, 11, 2))
for args in (["import", "claims", {str(extract)!r}, "--as-at", "2026-10-30"], ["export", "offflow", "--output", "-"],
             ["staff", "list"], ["db", "info"], ["db", "imports"]):
    assert main([*args, "--db", {db!r}], clock=clock) == 0, args
import caseload.measures, caseload.store.offflow, caseload.store.staff, caseload.demo
loaded = sorted(m for m in sys.modules if m == "textual" or m.startswith("textual."))
print("TEXTUAL:", loaded)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "TEXTUAL: []" in done.stdout
