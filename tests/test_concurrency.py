"""Two people at once: stale edits refused between two real connections (naming who changed it and when),
a database held by another writer retried then reported in plain words (in the app too, with the typed
text kept), and an import killed with SIGKILL half-way leaving the database as it was."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel
from textual.widgets import Input, TextArea

from caseload.cli import main
from caseload.screens.customer import CustomerScreen
from caseload.screens.dialogs import NoteDialog, RagDialog
from caseload.store import conference, records
from caseload.store.access import actor_for
from caseload.store.db import BUSY_TIMEOUT_MS, open_database, write
from caseload.store.errors import ConflictError, DatabaseBusy
from test_app_support import config_dir, demo, demo_db, demo_office, make_app, settle  # noqa: F401
from test_caseload_screen import keys_for, query_db, rich_adviser, shown
from test_roles import CLOCK, TODAY, RoleOffice

BUSY = ("The database is busy: someone else is writing to it (an import may be running, or another caseload). "
        f"It was retried for {BUSY_TIMEOUT_MS // 1000} seconds and nothing was changed; try again in a minute.")
pytestmark = pytest.mark.both_backends  # the tests about two connections; those about SQLite's locks name db_path


@pytest.fixture
def two(store_url: str, tmp_path: Path):
    """The role office, and a second engine (another caseload) on the same database."""
    o = RoleOffice(store_url, tmp_path / "office")
    other = open_database(store_url, CLOCK)
    yield o, other
    other.dispose()
    o.close()


def as_(engine, staff_id: str):  # noqa: ANN001, ANN201
    with engine.connect() as conn:
        return actor_for(conn, staff_id)


STALE = "after you opened it. Your text is kept"


def test_a_stale_note_action_or_rating_is_refused_naming_who_and_when(two) -> None:
    o, other = two
    first, second = as_(o.engine, "A1"), as_(other, "M1")
    # Both opened the note at version 1; the adviser saves first.
    with write(o.engine) as conn:
        records.amend(conn, CLOCK, first, "note", o.note_id, 1, "typo", body="Rent arrears cleared")
    with pytest.raises(ConflictError) as stale, write(other) as conn:
        records.amend(conn, CLOCK, second, "note", o.note_id, 1, "mine", body="Overwritten")
    assert str(stale.value).startswith(f"This note was changed by Asha Patel (A1) on {TODAY} at 09:00 {STALE}")
    with write(o.engine) as conn:
        records.complete_action(conn, CLOCK, first, o.action_id, 1)
    with pytest.raises(ConflictError, match="This action was changed by Asha Patel"), write(other) as conn:
        records.reassign_action(conn, CLOCK, second, o.action_id, 1, "A2")
    # A rating: both saw none on A1-1; the second is refused instead of silently replacing the first.
    with write(other) as conn:
        records.set_rag(conn, CLOCK, second, "A1-1", "G", "Ready for work", seen=0)
    with pytest.raises(ConflictError) as stale, write(o.engine) as conn:
        records.set_rag(conn, CLOCK, first, "A1-1", "R", "Needs a lot of help", seen=0)
    assert str(stale.value).startswith(f"The rating was changed by Maya Ford (M1) on {TODAY} at 09:00 {STALE}")
    with o.engine.connect() as conn:
        assert conn.execute(text("SELECT body FROM note WHERE id = :i"), {"i": o.note_id}).scalar() == "Rent arrears cleared"
        assert conn.execute(text("SELECT owner, status FROM action WHERE id = :i"), {"i": o.action_id}).one() == ("A1", "done")
        assert conn.execute(text("SELECT rating FROM rag_rating WHERE claim_id = 'A1-1'")).scalars().all() == ["G"]


def test_a_stale_conference_item_is_refused_between_two_connections(two) -> None:
    o, other = two
    leader = as_(other, "L1")
    with write(o.engine) as conn:
        manager = as_(o.engine, "M1")
        item_id = next((i.id for i in conference.conference_detail(conn, manager, o.conference_id).items
                        if i.claim_id == "A1-1"), None) or conference.add_customer(conn, CLOCK, manager, o.conference_id, "A1-1")
    fields = {"done_so_far": "CV done", "plan": "Apply for jobs", "expected_offflow": TODAY + dt.timedelta(days=30),
              "rag_review": "change", "rag": "A", "rag_reason": "On a journey"}
    with write(o.engine) as conn:
        conference.record_item(conn, CLOCK, as_(o.engine, "M1"), item_id, 1, **fields)
    with pytest.raises(ConflictError) as stale, write(other) as conn:
        conference.record_item(conn, CLOCK, leader, item_id, 1, **{**fields, "plan": "Something else"})
    assert str(stale.value).startswith(f"This item was changed by Maya Ford (M1) on {TODAY} at 09:00 {STALE}")


@contextmanager
def held(db: Path):
    """Another writer (an import, say) holding the write lock until the block ends."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE setting SET key = key")
    try:
        yield conn
    finally:
        conn.execute("ROLLBACK")
        conn.close()


def test_a_held_database_is_retried_then_reported_in_plain_words(two, db_path, capsys) -> None:
    o, other = two
    with held(db_path):
        started = time.monotonic()
        with pytest.raises(DatabaseBusy) as busy, write(other) as conn:
            records.add_note(conn, CLOCK, as_(other, "A1"), "A1-1", "While the import runs")
        waited = time.monotonic() - started
        # Readers are not held up (write-ahead log): the caseload still opens.
        with other.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM claim")).scalar() == 16
        # The command line says the same, without a traceback, and exits 1.
        code = main(["staff", "add", "M9", "--name", "New Manager", "--role", "team_manager", "--team", "Team A",
                     "--db", str(db_path)], clock=CLOCK)
        err = capsys.readouterr().err
    assert str(busy.value) == BUSY
    assert BUSY_TIMEOUT_MS / 1000 - 0.5 <= waited < BUSY_TIMEOUT_MS / 1000 + 5
    assert code == 1 and err == f"caseload: {BUSY}\n"
    with o.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM note WHERE body = 'While the import runs'")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM staff WHERE id = 'M9'")).scalar() == 0
    with write(other) as conn:  # and once it is free, the same write goes through
        records.add_note(conn, CLOCK, as_(other, "A1"), "A1-1", "While the import runs")


# ---------------------------------------------------------------------------------------------
# In the app


@asynccontextmanager
async def on_a_customer(make_app, demo_db):  # noqa: ANN001, ANN201
    """The app as the demo adviser with the most records, on the customer screen of their first open claim:
    yields the app, the pilot, the adviser and the claim."""
    adviser = rich_adviser(demo_db)
    claim_id = query_db(demo_db, "SELECT id FROM claim WHERE adviser_id = :a AND end_day IS NULL ORDER BY id LIMIT 1",
                        a=adviser)[0][0]
    app = make_app(as_staff=adviser)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        app.push_screen(CustomerScreen(claim_id))
        await settle(pilot)
        yield app, pilot, adviser, claim_id


async def test_in_the_app_a_busy_database_keeps_the_typed_note(make_app, demo, demo_db) -> None:
    async with on_a_customer(make_app, demo_db) as (app, pilot, _, claim_id):
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*keys_for("Spoke about the warehouse job"))
        with held(demo_db):
            await pilot.press("ctrl+s")
            await settle(pilot)  # the save's worker waits out the busy timeout
            assert isinstance(app.screen, NoteDialog)
            said = shown(app.screen.query_one("#dialog-message"))
            assert said == f"⚠ {BUSY} What you typed is kept here."
            assert app.screen.query_one(TextArea).text == "Spoke about the warehouse job"
        await pilot.press("ctrl+s")  # the import has finished: saving again works
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
    assert query_db(demo_db, "SELECT count(*) FROM note WHERE claim_id = :c AND body = 'Spoke about the warehouse job'",
                    c=claim_id)[0][0] == 1


async def test_in_the_app_a_rating_set_elsewhere_meanwhile_is_not_overwritten(make_app, demo, demo_db) -> None:
    async with on_a_customer(make_app, demo_db) as (app, pilot, adviser, claim_id):
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("r")
        app.screen.query_one("#rag-reason", Input).focus()
        await pilot.press(*keys_for("Housing first"))
        # Meanwhile the team manager rates the same customer in their own caseload.
        manager = query_db(demo_db, "SELECT id FROM staff WHERE role = 'team_manager' AND team_id = "
                                    "(SELECT team_id FROM staff WHERE id = :a)", a=adviser)[0][0]
        engine = open_database(str(demo_db), demo.clock)
        try:
            with write(engine) as conn:
                records.set_rag(conn, demo.clock, actor_for(conn, manager), claim_id, "G", "Ready now")
        finally:
            engine.dispose()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, RagDialog)
        said = shown(app.screen.query_one("#dialog-message"))
        assert said.startswith("⚠ The rating was changed by ") and f"({manager}) on " in said and STALE in said
        assert app.screen.query_one("#rag-reason", Input).value == "Housing first"
    latest = query_db(demo_db, "SELECT rating, reason FROM rag_rating WHERE claim_id = :c ORDER BY id DESC LIMIT 1",
                      c=claim_id)[0]
    assert tuple(latest) == ("G", "Ready now")


# ---------------------------------------------------------------------------------------------
# An import killed half-way


def table_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in SQLModel.metadata.tables}


def offflow_csv(db: Path, out: Path) -> str:
    assert main(["export", "offflow", "--by", "team", "--cohort", "calendar-month", "--output", str(out),
                 "--db", str(db)], clock=CLOCK) == 0
    return out.read_text()


def import_command(db: Path, path: Path, as_at: dt.date) -> list[str]:
    return [sys.executable, "-m", "caseload.cli", "import", "claims", str(path), "--as-at", as_at.isoformat(),
            "--db", str(db)]


def writing(db: Path) -> bool:
    """Whether the import is visibly writing its transaction: the write-ahead log has grown past 1 MB (it
    reads and checks the whole file first, in a temporary table that never touches the log)."""
    wal = db.with_name(db.name + "-wal")
    return wal.exists() and wal.stat().st_size > 1_000_000


def test_an_import_killed_half_way_leaves_the_database_as_it_was(tmp_path: Path, capsys) -> None:
    from fixtures.generator import successive_extracts, write_extract

    dates = (dt.date(2024, 3, 1), dt.date(2024, 3, 29))  # in the past by any clock
    first, second = (tmp_path / "first.csv", tmp_path / "second.csv")
    for path, rows in zip((first, second), successive_extracts(40_000, seed=3, as_at_dates=dates)):
        write_extract(path, rows)
    db = tmp_path / "killed.sqlite3"
    subprocess.run(import_command(db, first, dates[0]), check=True, capture_output=True)
    before, figures = table_counts(db), offflow_csv(db, tmp_path / "before.csv")

    proc = subprocess.Popen(import_command(db, second, dates[1]), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not writing(db) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    assert proc.poll() is None, "the import finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    assert table_counts(db) == before
    assert offflow_csv(db, tmp_path / "after.csv") == figures
    assert main(["db", "info", "--db", str(db)], clock=CLOCK) == 0
    assert "latest import:  batch 1, first.csv" in capsys.readouterr().out

    done = subprocess.run(import_command(db, second, dates[1]), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    reference = tmp_path / "reference.sqlite3"
    for path, on in zip((first, second), dates):
        subprocess.run(import_command(reference, path, on), check=True, capture_output=True)
    assert table_counts(db) == table_counts(reference)
    assert done.stdout.startswith("Imported second.csv as at 2024-03-29 (batch 2): 40000 rows read")
