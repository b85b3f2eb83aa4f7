"""A screen's write through the one shared path (screens/reading.Reads.write_and_post), with Pilot on a copy
of the demo office: a stale edit is refused with the store's own sentence and writes nothing; the same
change made on the record as it now stands is saved and shown. The writes: the team view's context note
(its outcome a notification) and d on My actions (the screen base's marking done, said on the screen).
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widgets import Static, TextArea

from caseload.screens.team_view import NoteDialog, TeamViewScreen
from caseload.store import notes
from caseload.store.access import actor_for
from caseload.store.db import open_database, write
from test_app_support import config_dir, demo, demo_db, demo_office, make_app, open_screen, settle  # noqa: F401

SIZE = (120, 40)
LABEL = "2026-10"  # the period under the matrix's cursor when the team view opens


def detail(screen: TeamViewScreen) -> str:
    content = screen.query_one("#team-detail", Static).content
    return content.plain if isinstance(content, Text) else str(content)


def said(app) -> list[tuple[str, str]]:  # noqa: ANN001
    return [(n.message, n.severity) for n in app._notifications]  # noqa: SLF001


def stored_notes(db: Path, clock) -> list[tuple[str, str, str, int]]:  # noqa: ANN001
    engine = open_database(str(db), clock)
    try:
        with engine.connect() as conn:
            return [(n.period_label, n.text, n.author, n.version) for n in notes.list_notes(conn, actor_for(conn, "L001"))]
    finally:
        engine.dispose()


def colleague_writes(db: Path, clock, text: str) -> None:  # noqa: ANN001
    """The office's team leader writes the note from another copy of caseload while the manager's is open."""
    engine = open_database(str(db), clock)
    try:
        with write(engine) as conn:
            actor = actor_for(conn, "L001")
            notes.set_note(conn, clock, actor, actor.office_id, "reporting-month", LABEL, text, None)
    finally:
        engine.dispose()


async def write_in_dialog(pilot, text: str) -> None:  # noqa: ANN001
    await pilot.press("n")
    assert isinstance(pilot.app.screen, NoteDialog)
    pilot.app.screen.query_one(TextArea).text = text
    await pilot.press("ctrl+s")
    await settle(pilot)


async def test_a_stale_note_is_refused_in_the_stores_words_and_the_fresh_one_is_saved(make_app, demo, demo_db):
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot, TeamViewScreen)
        assert f"No context note on {LABEL}." in detail(screen)
        colleague_writes(demo_db, demo.clock, "Job fair on the 14th")

        # The manager's screen still shows no note: saving over it is a stale edit.
        await write_in_dialog(pilot, "Warehouse closure: 300 jobs lost locally")
        text, severity = said(app)[-1]
        assert text.startswith(f"The note for {LABEL} was changed ") and severity == "error"
        assert text.endswith("Your text is kept: look at the new version and apply your change again.")
        assert stored_notes(demo_db, demo.clock) == [(LABEL, "Job fair on the 14th", "L001", 1)]

        assert f"No context note on {LABEL}." in detail(screen)

        # Read again (r), the dialog holds the colleague's note; the change made on it is saved.
        await pilot.press("r")
        await settle(pilot)
        await write_in_dialog(pilot, "Job fair on the 14th; warehouse closure: 300 jobs lost")
        assert said(app)[-1] == (f"Saved the note on {LABEL}.", "information")
        assert detail(screen).endswith(
            f"Note on {LABEL} (Northgate, M001): Job fair on the 14th; warehouse closure: 300 jobs lost")
    assert stored_notes(demo_db, demo.clock) == [
        (LABEL, "Job fair on the 14th; warehouse closure: 300 jobs lost", "M001", 2)]


def amend_elsewhere(db: Path, clock, staff_id: str, action_id: int, version: int, description: str) -> None:  # noqa: ANN001
    """The same adviser corrects the action from another copy of caseload while My actions is open."""
    from caseload.store.records import amend

    engine = open_database(str(db), clock)
    try:
        with write(engine) as conn:
            amend(conn, clock, actor_for(conn, staff_id), "action", action_id, version, "typo",
                  description=description)
    finally:
        engine.dispose()


def action_row(db: Path, clock, action_id: int) -> tuple:  # noqa: ANN001
    from sqlalchemy import text as sql

    engine = open_database(str(db), clock)
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(sql("SELECT description, status, done_by, version FROM action WHERE id = :id"),
                                      {"id": action_id}).one())
    finally:
        engine.dispose()


async def test_marking_a_stale_action_done_is_refused_and_the_action_as_it_now_is_is_marked(make_app, demo, demo_db):
    from caseload.screens.actions import MyActionsScreen

    adviser = "A0001"
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot, MyActionsScreen)
        first = next(iter(screen.actions.values()))
        amend_elsewhere(demo_db, demo.clock, adviser, first.action_id, first.version, "Call about the CV workshop")

        await pilot.press("d")  # the list still holds the action as it was: a stale change
        await settle(pilot)
        note = str(screen.query_one("#actions-note", Static).content)
        assert note.startswith("⚠ This action was changed ") and "after you opened it." in note
        assert action_row(demo_db, demo.clock, first.action_id) == ("Call about the CV workshop", "open", None,
                                                                    first.version + 1)

        # Read again after the refusal, the list has the corrected action; d now marks it done.
        assert screen.actions[f"action:{first.action_id}"].description == "Call about the CV workshop"
        await pilot.press("d")
        await settle(pilot)
        assert str(screen.query_one("#actions-note", Static).content).startswith("Done: Call about the CV workshop")
        assert f"action:{first.action_id}" not in screen.actions
    assert action_row(demo_db, demo.clock, first.action_id) == ("Call about the CV workshop", "done", adviser,
                                                                first.version + 2)


async def test_a_write_that_is_waited_on_says_so_and_the_screen_stays_usable(make_app, demo, demo_db):
    """Another copy of caseload holds the database's write lock: the manager's note waits for it. After a moment
    the working line says what is waited on, with a spinner and the time; the screen still answers keys (the
    matrix cursor moves); once the lock goes the note is saved, said, stored, and the line has gone."""
    import sqlite3

    from caseload.widgets.cohort_matrix import CohortMatrix
    from caseload.widgets.working import Working

    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot, TeamViewScreen)
        line = screen.query_one(Working)
        assert not line.display
        other = sqlite3.connect(demo_db, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # the other copy's write, still running
        try:
            await pilot.press("n")
            assert isinstance(app.screen, NoteDialog)
            app.screen.query_one(TextArea).text = "Job fair on the 14th"
            await pilot.press("ctrl+s")
            await pilot.pause(0.8)
            assert line.display and line.doing == f"Saving the note on {LABEL}"
            assert str(line.render()).startswith(tuple(f"{frame} Saving the note on {LABEL}… 0:0" for frame in "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"))
            assert app.screen is screen  # the dialog closed; the screen is the user's meanwhile
            footer = screen.query_one("KeysFooter")
            assert line.region.bottom == footer.region.y  # on the line above the footer, covering none of it
            matrix = screen.query_one(CohortMatrix)
            before = matrix.cursor_coordinate
            await pilot.press("up")
            assert matrix.cursor_coordinate != before
            assert stored_notes_raw(demo_db) == []
        finally:
            other.rollback()
            other.close()
        await settle(pilot)
        assert not line.display and line.doing is None
        assert (f"Saved the note on {LABEL}.", "information") in said(app)
        assert [n[:3] for n in stored_notes(demo_db, demo.clock)] == [(LABEL, "Job fair on the 14th", demo.first_manager)]


def stored_notes_raw(db: Path) -> list:
    import sqlite3

    with sqlite3.connect(db) as raw:
        return raw.execute("SELECT text FROM context_note").fetchall()
