"""`caseload db copy` between SQLite and PostgreSQL, and `caseload db backup` of a database in use."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
import subprocess

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from caseload.cli import main
from caseload.clock import FixedClock
from caseload.store import records
from caseload.store.access import ADMIN
from caseload.store.db import open_database, write
from caseload.store.transfer import pg_tool
from extracts import row, write_extract

CLOCK = FixedClock.on(dt.date(2026, 5, 11))
ROWS = [
    row("C1", claim_start="2025-06-02", claim_end="2025-07-01", end_reason="not_known"),
    row("C2", claim_start="2025-06-03", claim_end="2025-08-01", end_reason="found_work", sex="female"),
    row("C3", customer_id="P2", claim_start="2025-07-09", adviser_id="A2", adviser_name="Ben Okafor", team="Team B"),
    row("C4", customer_id="P3", claim_start="2026-02-02"),
]


def _office(tmp_path, db: str) -> None:  # noqa: ANN001
    """An office with an import, RAG ratings, a note and a confirmed destination."""
    assert main(["import", "claims", str(write_extract(tmp_path / "x.csv", ROWS)), "--as-at", "2026-05-01",
                 "--db", db], clock=CLOCK) == 0
    engine = open_database(db, CLOCK)
    with write(engine) as conn:
        records.set_rag(conn, CLOCK, ADMIN, "C3", "A", "Job ready with help on CV")
        records.set_rag(conn, CLOCK, ADMIN, "C4", "R", "Housing first")
        records.add_note(conn, CLOCK, ADMIN, "C4", "Called about housing")
        records.record_destination(conn, CLOCK, ADMIN, "C1", "found_work", "customer", dt.date(2025, 8, 1))
    engine.dispose()


def _export(db: str, capsys) -> str:  # noqa: ANN001
    capsys.readouterr()
    assert main(["export", "offflow", "--by", "team", "--cohort", "calendar-month", "--from", "2025-06-01", "--to",
                 "2025-08-31", "--db", db, "--output", "-"], clock=CLOCK) == 0
    return capsys.readouterr().out


def _copy(source: str, target: str, capsys) -> tuple[int, str, str]:  # noqa: ANN001
    capsys.readouterr()
    code = main(["db", "copy", "--from", source, "--to", target], clock=CLOCK)
    out = capsys.readouterr()
    return code, out.out, out.err


def _counts(report: str) -> dict[str, str]:
    return dict(line.split(":") for line in report.replace(" ", "").splitlines()[1:])


def test_copy_sqlite_to_postgresql_and_back_keeps_every_row_and_figure(tmp_path, pg_db, capsys):
    first, pg, back = str(tmp_path / "first.sqlite3"), pg_db(), str(tmp_path / "back.sqlite3")
    _office(tmp_path, first)
    code, there, _ = _copy(first, pg, capsys)
    assert code == 0 and "rows per table (each checked)" in there
    code, again, _ = _copy(pg, back, capsys)
    assert code == 0
    assert _counts(there) == _counts(again)
    assert {k: _counts(there)[k] for k in ("claim", "rag_rating", "note", "destination", "import_batch")} == {
        "claim": "4", "rag_rating": "2", "note": "1", "destination": "1", "import_batch": "1"}
    csv = _export(first, capsys)
    assert csv.count("\n") > 3 and csv == _export(pg, capsys) == _export(back, capsys)
    # Ids are kept, and PostgreSQL's sequences carry on after them.
    engine = open_database(pg, CLOCK)
    with write(engine) as conn:
        records.set_rag(conn, CLOCK, ADMIN, "C4", "A", "Housing sorted")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, rating FROM rag_rating ORDER BY id")).all() == [
            (1, "A"), (2, "R"), (3, "A")]
    engine.dispose()


def test_a_target_that_holds_data_is_refused_and_left_as_it_was(tmp_path, pg_db, capsys):
    source, pg = str(tmp_path / "source.sqlite3"), pg_db()
    _office(tmp_path, source)
    assert main(["staff", "add", "L1", "--name", "Ruth Callaghan", "--role", "team_leader", "--office", "Northgate",
                 "--db", pg], clock=CLOCK) == 0
    code, out, err = _copy(source, pg, capsys)
    assert (code, out) == (1, "")
    assert "is not empty (it holds " in err and "copy into a new, empty database" in err
    with open_database(pg, CLOCK).connect() as conn:
        assert conn.execute(text("SELECT id FROM staff")).scalars().all() == ["L1"]
        assert conn.execute(text("SELECT COUNT(*) FROM claim")).scalar() == 0
    code, _, err = _copy(pg, source, capsys)  # the other way round too
    assert code == 1 and "is not empty" in err


def test_a_copy_that_fails_half_way_leaves_the_target_empty(tmp_path, pg_db, capsys):
    source, pg = str(tmp_path / "source.sqlite3"), pg_db()
    _office(tmp_path, source)
    with open_database(pg, CLOCK).connect() as conn:  # the target's server refuses the notes
        conn.execute(text("CREATE FUNCTION no_notes() RETURNS trigger LANGUAGE plpgsql AS "
                          "$$ BEGIN RAISE EXCEPTION 'notes are refused here'; END $$"))
        conn.execute(text("CREATE TRIGGER no_notes BEFORE INSERT ON note FOR EACH ROW EXECUTE FUNCTION no_notes()"))
        conn.commit()
    code, out, err = _copy(source, pg, capsys)
    assert (code, out) == (1, "")
    assert "notes are refused here" in err and "Nothing was changed" in err
    with open_database(pg, CLOCK).connect() as conn:
        assert [conn.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar() for t in ("claim", "audit", "note")] == [
            0, 0, 0]


def test_only_the_owner_or_a_team_leader_copies_the_whole_database(tmp_path, capsys):
    source = str(tmp_path / "source.sqlite3")
    _office(tmp_path, source)
    capsys.readouterr()
    assert main(["db", "backup", str(tmp_path / "b.sqlite3"), "--as", "A1", "--db", source], clock=CLOCK) == 1
    assert "Only a team leader may copy or back up the whole database" in capsys.readouterr().err
    assert not (tmp_path / "b.sqlite3").exists()


def test_sqlite_backup_while_another_connection_is_writing(tmp_path, capsys):
    source, path = str(tmp_path / "source.sqlite3"), tmp_path / "backup.sqlite3"
    _office(tmp_path, source)
    writer = sqlite3.connect(source, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM note")
    try:
        assert main(["db", "backup", str(path), "--db", source], clock=CLOCK) == 0
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert "(SQLite online backup)" in capsys.readouterr().out
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not (tmp_path / "backup.sqlite3-wal").exists()
    with open_database(str(path), CLOCK, create=False).connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM claim")).scalar() == 4
        assert conn.execute(text("SELECT COUNT(*) FROM note")).scalar() == 1  # committed, not the open delete
    assert _export(str(path), capsys) == _export(source, capsys)
    assert main(["db", "backup", str(path), "--db", source], clock=CLOCK) == 1
    assert "already exists: give the backup a new name" in capsys.readouterr().err


def test_postgresql_backup_while_another_connection_is_writing(tmp_path, pg_db, capsys):
    pg, path, restored = pg_db(), tmp_path / "office.dump", pg_db(empty=True)
    _office(tmp_path, pg)
    engine = open_database(pg, CLOCK)
    with pytest.raises(LookupError), write(engine) as conn:  # a writer holds the write lock meanwhile
        conn.execute(text("UPDATE note SET body = 'uncommitted'"))
        assert main(["db", "backup", str(path), "--db", pg], clock=CLOCK) == 0
        raise LookupError("roll back")
    engine.dispose()
    assert "(pg_dump --format=custom)" in capsys.readouterr().out
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    u = make_url(restored)
    subprocess.run([pg_tool("pg_restore"), "--no-owner", f"--host={u.query['host']}", f"--username={u.username}",
                    f"--dbname={u.database}", str(path)], check=True, capture_output=True)
    with open_database(restored, CLOCK).connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM claim")).scalar() == 4
        assert conn.execute(text("SELECT body FROM note")).scalars().all() == ["Called about housing"]
    assert _export(restored, capsys) == _export(pg, capsys)
