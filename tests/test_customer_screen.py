"""The customer record and its edits (RAG, notes, contacts, actions, destinations, corrections), stale
edits, finding customers from the palette and stepping through the caseload, on the demo office.

Claims to work on are found with queries on the test's database; expected values come from it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from textual.widgets import Input, Select, Static, TextArea

from caseload.measures.destinations import destination_name
from caseload.screens.caseload import CaseloadScreen
from caseload.screens.customer import CustomerScreen
from caseload.screens.dialogs import ActionDialog, ContactDialog, DestinationDialog, NoteDialog, RagDialog
from caseload.store.access import actor_for
from caseload.widgets.table import KeyedTable
from test_app_support import config_dir, demo, demo_db, demo_office, make_app, settle  # noqa: F401
from test_caseload_screen import (
    caseload_table,
    cells,
    choose,
    find_customer,
    keys,
    keys_for,
    query_db,
    rich_adviser,
    shown,
    store_hits,
    store_page,
    title,
)

SIZE = (120, 30)


def timeline(app) -> KeyedTable:  # noqa: ANN001
    return app.screen.query_one("#timeline", KeyedTable)


def message(app) -> str:  # noqa: ANN001
    return shown(app.screen.query_one("#customer-message", Static))


def dialog_message(app) -> str:  # noqa: ANN001
    return shown(app.screen.query_one("#dialog-message", Static))


async def open_record(pilot, claim_id: str) -> None:  # noqa: ANN001
    """The claim's record over the caseload (getting there by keys is tested on its own, and slowly)."""
    pilot.app.push_screen(CustomerScreen(claim_id))
    await settle(pilot)
    assert isinstance(pilot.app.screen, CustomerScreen) and pilot.app.screen.claim_id == claim_id


def claim_with(db: Path, adviser: str, table: str) -> tuple[str, int, int]:
    """An open claim of the adviser with an active note or contact: (claim id, row id, version)."""
    return query_db(db, f"SELECT x.claim_id, x.id, x.version FROM {table} x JOIN claim c ON c.id = x.claim_id "
                        "WHERE c.adviser_id = :a AND c.end_day IS NULL AND x.status = 'active' "
                        "ORDER BY x.claim_id, x.id LIMIT 1", a=adviser)[0]


# RAG


async def test_rag_needs_a_reason_then_shows_on_the_record_and_the_caseload(make_app, demo, demo_db) -> None:
    adviser = rich_adviser(demo_db)
    page = store_page(demo_db, demo.clock, adviser, adviser_id=adviser)
    claim, other = page.rows[0], page.rows[1]
    count = "SELECT count(*) FROM rag_rating WHERE claim_id = :c"
    (ratings,), = query_db(demo_db, count, c=claim.claim_id)
    reason = "No housing"
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = caseload_table(app)
        untouched = table.get_cell(other.claim_id, "customer")
        await pilot.press("enter")  # the first, most urgent row
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and app.screen.claim_id == claim.claim_id
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, RagDialog)
        review = app.screen.query_one("#rag-review", Input).value
        assert review == (demo.clock.today() + dt.timedelta(days=28)).isoformat()  # from the app's clock
        new = "R" if claim.rag != "R" else "G"
        await pilot.press(new.lower(), "ctrl+s")
        await settle(pilot)
        # Refused in the dialog, with a sentence, and nothing written.
        assert isinstance(app.screen, RagDialog)
        assert dialog_message(app) == "⚠ A reason for the rating is required."
        assert query_db(demo_db, count, c=claim.claim_id)[0][0] == ratings
        await pilot.press("tab", *keys_for(reason), "enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        rows = query_db(demo_db, "SELECT rating, reason, set_by, next_review FROM rag_rating WHERE claim_id = :c "
                                 "ORDER BY id DESC", c=claim.claim_id)
        assert len(rows) == ratings + 1 and tuple(rows[0]) == (new, reason, adviser, review)
        first = cells(timeline(app), timeline(app).row_keys[0])
        change = f"{claim.rag} → {new}" if claim.rag else f"set {new}"
        assert first[:2] == [demo.clock.today().isoformat(), "RAG"]
        assert first[2] == f"RAG {change}: {reason} (review by {review})"
        assert first[3] == app.identity.actor.name
        assert f"RAG  {new} " in shown(app.screen.query_one("#customer-head", Static))
        assert message(app) == "RAG rating saved."
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CaseloadScreen)
        # The row changed in place; the table was not rebuilt around it.
        assert cells(table, claim.claim_id)[1].strip() == new
        assert table.get_cell(other.claim_id, "customer") is untouched
        assert table.row_keys == keys(store_page(demo_db, demo.clock, adviser, adviser_id=adviser))
        assert table.cursor_key == claim.claim_id


# Notes, contacts, actions


async def test_note_and_contact_are_saved_at_once(make_app, demo, demo_db) -> None:
    adviser = rich_adviser(demo_db)
    claim = store_page(demo_db, demo.clock, adviser, adviser_id=adviser).rows[2].claim_id
    today = demo.clock.today()
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_record(pilot, claim)
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, NoteDialog) and isinstance(app.focused, TextArea)
        await pilot.press(*keys_for("Rang"), "enter", *keys_for("ok"), "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and message(app) == "Note saved."
        (body, author), = query_db(demo_db, "SELECT body, author FROM note WHERE claim_id = :c ORDER BY id DESC "
                                            "LIMIT 1", c=claim)
        assert (body, author) == ("Rang\nok", adviser)
        assert cells(timeline(app), timeline(app).row_keys[0])[1:3] == ["Note", "Rang ok"]
        # A contact that the customer failed to attend: date (today by default), kind, attended.
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ContactDialog)
        assert app.screen.query_one("#contact-on", Input).value == today.isoformat()
        await pilot.press("tab", "enter", "down", "enter")  # kind: the second kind in the list
        await pilot.press("tab", "down", "space", "ctrl+s")  # "Failed to attend"
        await settle(pilot)
        assert message(app) == "Contact saved."
        row, = query_db(demo_db, "SELECT contact_on, kind, attended, recorded_by FROM contact WHERE claim_id = :c "
                                 "ORDER BY id DESC LIMIT 1", c=claim)
        assert tuple(row) == (today.isoformat(), "phone", 0, adviser)
        assert f"phone on {today.isoformat()}: failed to attend" in [
            cells(timeline(app), k)[2] for k in timeline(app).row_keys]
        await pilot.press("escape")
        await settle(pilot)
        assert cells(caseload_table(app), claim)[6] == today.isoformat()  # the caseload's last contact


async def test_action_add_reassign_and_complete(make_app, demo, demo_db) -> None:
    adviser = rich_adviser(demo_db)
    claim = store_page(demo_db, demo.clock, adviser, adviser_id=adviser).rows[3].claim_id
    team = query_db(demo_db, "SELECT s.id FROM staff s WHERE s.team_id = (SELECT team_id FROM staff WHERE id = :a) "
                             "ORDER BY s.name, s.id", a=adviser)
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_record(pilot, claim)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, ActionDialog)
        assert app.screen.query_one("#action-owner", Select).value == adviser  # the current user by default
        await pilot.press(*keys_for("Book CV"), "enter")
        await settle(pilot)
        assert message(app) == "Action added."
        (aid, owner, due, status), = query_db(
            demo_db, "SELECT id, owner, due_on, status FROM action WHERE claim_id = :c ORDER BY id DESC LIMIT 1",
            c=claim)
        assert (owner, due, status) == (adviser, (demo.clock.today() + dt.timedelta(days=7)).isoformat(), "open")
        key = f"action:{aid}"
        assert cells(timeline(app), key)[4] == "open"
        # Reassign: the first colleague offered (the list leaves out the current owner).
        await choose(pilot, timeline(app), key)
        await pilot.press("o")
        await settle(pilot)
        await pilot.press("enter", "down", "enter", "ctrl+s")  # past the blank prompt to the first name
        await settle(pilot)
        new_owner = [sid for (sid,) in team if sid != adviser][0]
        assert query_db(demo_db, "SELECT owner FROM action WHERE id = :i", i=aid)[0][0] == new_owner
        assert message(app) == "Action reassigned."
        # Done.
        await choose(pilot, timeline(app), key)
        await pilot.press("d")
        await settle(pilot)
        assert tuple(query_db(demo_db, "SELECT status, done_on FROM action WHERE id = :i", i=aid)[0]) == (
            "done", demo.clock.today().isoformat())
        assert cells(timeline(app), key)[4] == "done"
        # A done action cannot be completed again: a sentence, not an error.
        await choose(pilot, timeline(app), key)
        await pilot.press("d")
        await settle(pilot)
        assert message(app) == "⚠ That action is done; only an open action can be marked done."


# Destinations


async def test_destination_for_an_ended_claim_only(make_app, demo, demo_db) -> None:
    adviser = rich_adviser(demo_db)
    (ended, reason), = query_db(demo_db, "SELECT id, end_reason FROM claim WHERE adviser_id = :a "
                                         "AND end_day IS NOT NULL ORDER BY id LIMIT 1", a=adviser)
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # an open claim first: s explains it is for ended claims
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and "is still open" in message(app)
        await pilot.press("escape")
        await settle(pilot)
        hits = await find_customer(pilot, ended)
        assert hits and hits[0].endswith(ended)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and app.screen.claim_id == ended
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, DestinationDialog)
        await pilot.press("enter", "down", "enter", "ctrl+s")  # the first code: found work
        await settle(pilot)
        assert message(app) == "Destination recorded."
        row, = query_db(demo_db, "SELECT code, source, confirmed_on, recorded_by FROM destination "
                                 "WHERE claim_id = :c", c=ended)
        assert tuple(row) == ("found_work", "customer", demo.clock.today().isoformat(), adviser)
        claims = app.screen.query_one("#customer-claims", KeyedTable)
        # In words, as people say them, not the extract's codes.
        assert cells(claims, ended)[5] == f"{destination_name(reason) or 'not known'} → confirmed found work"
        assert any(cells(timeline(app), k)[2].startswith("destination confirmed: found work")
                   for k in timeline(app).row_keys)
        # Ended claims take no RAG rating.
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and "has ended" in message(app)


# Corrections


async def test_amend_a_note_and_withdraw_a_contact_with_reasons(make_app, demo, demo_db) -> None:
    adviser = rich_adviser(demo_db)
    claim, note_id, _ = claim_with(demo_db, adviser, "note")
    contacts = query_db(demo_db, "SELECT id FROM contact WHERE claim_id = :c AND status = 'active'", c=claim)
    (old_body,), = query_db(demo_db, "SELECT body FROM note WHERE id = :i", i=note_id)
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_record(pilot, claim)
        await choose(pilot, timeline(app), f"note:{note_id}")
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, NoteDialog) and app.screen.query_one(TextArea).text == old_body
        await pilot.press(*keys_for("typo"), "tab", *keys_for(" (ok)"), "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        row, = query_db(demo_db, "SELECT body, status, change_reason, version FROM note WHERE id = :i", i=note_id)
        assert tuple(row) == (f"{old_body} (ok)", "active", "typo", 2)
        assert cells(timeline(app), f"note:{note_id}")[4] == "amended: typo"
        if not contacts:
            pytest.skip("this claim has no contact to withdraw")
        key = f"contact:{contacts[0][0]}"
        await choose(pilot, timeline(app), key)
        await pilot.press("w")
        await settle(pilot)
        await pilot.press(*keys_for("wrong"), "enter")
        await settle(pilot)
        assert cells(timeline(app), key)[4] == "withdrawn: wrong"
        assert query_db(demo_db, "SELECT status FROM contact WHERE id = :i", i=contacts[0][0])[0][0] == "withdrawn"
        # A withdrawn entry stays, and cannot be changed again.
        await choose(pilot, timeline(app), key)
        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and "was withdrawn" in message(app)


async def test_a_stale_edit_is_refused_and_the_typed_text_kept(make_app, demo, demo_db) -> None:
    from caseload.store import records
    from caseload.store.db import open_database, write

    adviser = rich_adviser(demo_db)
    claim, note_id, version = claim_with(demo_db, adviser, "note")
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_record(pilot, claim)
        await choose(pilot, timeline(app), f"note:{note_id}")
        await pilot.press("e")
        await settle(pilot)
        await pilot.press(*keys_for("typo"), "tab", *keys_for(" mine"))
        # Someone else corrects the same note while the dialog is open.
        engine = open_database(str(demo_db), demo.clock)
        try:
            with write(engine) as conn:
                records.amend(conn, demo.clock, actor_for(conn, adviser), "note", note_id, version,
                              "colleague's fix", body="Changed elsewhere")
        finally:
            engine.dispose()
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, NoteDialog)
        said = dialog_message(app)
        assert said.startswith("⚠ This note was changed by") and "Your text is kept" in said
        assert app.screen.query_one("#reason", Input).value == "typo"
        assert app.screen.query_one(TextArea).text.endswith(" mine")
        assert query_db(demo_db, "SELECT body FROM note WHERE id = :i", i=note_id)[0][0] == "Changed elsewhere"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)


# Finding customers


async def test_find_customer_by_name_claim_id_customer_id_and_ni_ending(make_app, demo, demo_db) -> None:
    adviser = rich_adviser(demo_db)
    target = store_page(demo_db, demo.clock, adviser, adviser_id=adviser).rows[4]
    queries = {"name": target.customer_name.split()[-1], "claim id": target.claim_id, "customer id": target.customer_id,
               "last 3 of the NI number": target.nino[-3:]}
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for by, query in queries.items():
            expected = store_hits(demo_db, demo.clock, adviser, query)
            # By name through the palette's own command; the others with f on the caseload.
            hits = await find_customer(pilot, query, via_palette=by == "name")
            assert hits == [f"{h.name} {h.claim_id}" for h in expected], by
            assert f"{target.customer_name} {target.claim_id}" in hits, by
            if by != "last 3 of the NI number":
                await pilot.press("escape")
                await settle(pilot)
        # Choosing a hit opens that customer's record.
        await pilot.press(*["down"] * hits.index(f"{target.customer_name} {target.claim_id}"), "enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and app.screen.claim_id == target.claim_id
        assert f"{target.customer_name} · NI {target.nino}" in shown(app.screen.query_one("#customer-head"))


# Moving through the caseload


async def test_brackets_step_through_the_caseload_order(make_app, demo, demo_db) -> None:
    adviser = rich_adviser(demo_db)
    rows = store_page(demo_db, demo.clock, adviser, adviser_id=adviser).rows
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        for key, index in (("right_square_bracket", 1), ("right_square_bracket", 2), ("left_square_bracket", 1),
                           ("left_square_bracket", 0)):
            await pilot.press(key)
            await settle(pilot)
            assert app.screen.claim_id == rows[index].claim_id
            assert title(app).endswith(f"claim {rows[index].claim_id} · {index + 1} of {len(rows)}")
            assert rows[index].customer_name in title(app)
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert app.screen.claim_id == rows[0].claim_id and message(app) == "This is the first customer in the list."
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, CaseloadScreen)


# Snapshots


async def _open_first(pilot) -> None:  # noqa: ANN001
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def _open_rag(pilot) -> None:  # noqa: ANN001
    await _open_first(pilot)
    await pilot.press("g")
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_customer_record_snapshot(snap_compare, make_app, demo_db, size) -> None:
    assert snap_compare(make_app(as_staff=rich_adviser(demo_db)), terminal_size=size, run_before=_open_first)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_rag_dialog_snapshot(snap_compare, make_app, demo_db, size) -> None:
    assert snap_compare(make_app(as_staff=rich_adviser(demo_db)), terminal_size=size, run_before=_open_rag)
