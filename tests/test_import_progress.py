"""Progress while an extract imports: the stages the store reports, and the line the command line shows
on a terminal (and does not show when piped or asked to be quiet)."""

from __future__ import annotations

import datetime as dt
import os
import pty
import re
import select
import subprocess
import sys

import pytest

from caseload.store import importer
from caseload.store.access import ADMIN
from caseload.store.importer import import_claims
from extracts import row, write_extract

AS_AT = dt.date(2026, 5, 1)


def extract_of(path, n: int):
    return write_extract(path, [row(f"C{i}", customer_id=f"P{i}", claim_start="2026-01-05") for i in range(n)])


def test_the_store_reports_each_stage_in_order_with_the_rows_read(engine, clock, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH_ROWS", 100)  # several batches from a small file
    monkeypatch.setattr(importer, "BLOCK_BYTES", 10_000)  # and several blocks read (about 60 lines each)
    told: list[tuple[str, int, float | None]] = []
    r = import_claims(engine, extract_of(tmp_path / "x.csv", 450), as_at=AS_AT, actor=ADMIN, clock=clock,
                      progress=lambda stage, rows, share: told.append((stage, rows, share)))
    assert r.rows_read == 450 and r.claims_added == 450
    checking = [t for t in told if t[0] == "checking"]
    # The start, one report a block of the file read, and the end of the file.
    rows_told = [rows for _, rows, _ in checking]
    assert rows_told[0] == 0 and rows_told[-1] == 450 and len(rows_told) >= 6
    assert all(a < b for a, b in zip(rows_told[:-1], rows_told[1:-1])), rows_told
    shares = [share for _, _, share in checking]
    assert shares[0] == 0.0 and shares[-1] == 1.0
    assert all(a <= b for a, b in zip(shares, shares[1:])), shares
    assert 0.0 < shares[2] < 1.0
    after = [stage for stage, _, _ in told[len(checking):]]
    assert after == ["writing teams, advisers", "writing customers", "writing new claims", "indexing",
                     "counting summaries"]
    assert all(rows == 450 and share is None for _, rows, share in told[len(checking):])


def test_a_rejected_extract_reports_its_checking_and_writes_nothing(engine, clock, tmp_path):
    path = write_extract(tmp_path / "x.csv", [row("C1"), row("C2", claim_start="2026-02-30")])
    told: list[str] = []
    with pytest.raises(importer.ImportRejected):
        import_claims(engine, path, as_at=AS_AT, actor=ADMIN, clock=clock,
                      progress=lambda stage, rows, share: told.append(stage))
    assert told and set(told) == {"checking"}


def run_import(tmp_path, *extra: str, terminal: bool) -> tuple[int, str, str]:
    """`caseload import claims` in a child process, its standard error a terminal (a pseudo-terminal)
    or a pipe; the clock is fixed. Returns the exit code, standard output and standard error."""
    extract = extract_of(tmp_path / "x.csv", 300)
    db = str(tmp_path / "db.sqlite3")
    script = (
        "import sys, datetime as dt\n"
        "from caseload.cli import main\n"
        "from caseload.clock import FixedClock\n"
        f"sys.exit(main(['import', 'claims', {str(extract)!r}, '--as-at', '2026-05-01', '--db', {db!r},"
        f" *{list(extra)!r}], clock=FixedClock.on(dt.date(2026, 5, 4))))\n"
    )
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    if not terminal:
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
        return done.returncode, done.stdout, done.stderr
    main_fd, child_fd = pty.openpty()
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=child_fd, env=env)
    os.close(child_fd)
    seen = b""
    while True:
        ready, _, _ = select.select([main_fd], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(main_fd, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        seen += chunk
    out = child.stdout.read().decode()
    code = child.wait(timeout=60)
    os.close(main_fd)
    return code, out, seen.decode(errors="replace")


def plain(terminal_text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal_text).replace("\r", "\n")


SUMMARY = "Imported x.csv as at 2026-05-01 (batch 1): 300 rows read, 300 claims added, 0 updated, 0 transfers."


def test_on_a_terminal_the_import_shows_its_stages_then_one_summary_line(tmp_path):
    code, out, err = run_import(tmp_path, terminal=True)
    assert code == 0, err
    assert out.strip() == SUMMARY
    shown = plain(err)
    assert "checking" in shown and "counting summaries" in shown
    assert re.search(r"300 rows, [\d,]+/s", shown), shown


def test_piped_the_import_prints_only_its_summary(tmp_path):
    code, out, err = run_import(tmp_path, terminal=False)
    assert code == 0, err
    assert out.strip() == SUMMARY
    assert err == ""


def test_quiet_on_a_terminal_shows_no_progress(tmp_path):
    code, out, err = run_import(tmp_path, "--quiet", terminal=True)
    assert code == 0, err
    assert out.strip() == SUMMARY
    assert "checking" not in plain(err) and not re.search(r"rows, [\d,]+/s", plain(err))
