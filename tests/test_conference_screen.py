"""The caseload conference in the app, with Pilot on the demo office: the team view's last conferences,
starting and resuming, recording, skipping, adding, moving, finishing, the summary, and what an adviser
may do with their own conferences.

The demo office has three months of conferences run by M001 (Grace Holloway) with team A's advisers:
A0007's November conference is unfinished (left at item 4) and A0008 has had none this month.
Expected values come from store.conference on the same database.
"""

from __future__ import annotations

import datetime as dt
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from textual.widgets import Input, Select, Static, TextArea
from textual.widgets._select import SelectOverlay

from caseload.screens.conference import ConferenceScreen
from caseload.screens.conference_dialogs import AddCustomerChooser, FinishDialog, SkipDialog, StartConferenceDialog
from caseload.screens.conference_summary import ConferenceListScreen, SummaryScreen
from caseload.screens.home import HomeScreen
from caseload.store import conference
from caseload.store.access import actor_for
from caseload.widgets.conference_item import short_reasons
from caseload.widgets.table import KeyedTable
from test_app_support import config_dir, demo, demo_db, demo_office, make_app, settle  # noqa: F401
from test_caseload_screen import cells, choose, keys_for, palette_command, query_db, shown, title

SIZE = (120, 40)
MANAGER = "M001"
NONE_THIS_MONTH = "A0008"  # no conference this month: overdue
UNFINISHED = "A0007"  # November's conference started and not finished


# Reading what the store says


def store(db: Path, clock, staff_id: str, fn) -> Any:  # noqa: ANN001
    """fn(conn, actor) on this test's database."""
    from caseload.store.db import open_database

    engine = open_database(str(db), clock)
    try:
        with engine.connect() as conn:
            return fn(conn, actor_for(conn, staff_id))
    finally:
        engine.dispose()


def detail(db: Path, clock, conference_id: int, staff_id: str = MANAGER) -> conference.ConferenceDetail:  # noqa: ANN001
    return store(db, clock, staff_id, lambda conn, actor: conference.conference_detail(conn, actor, conference_id))


def conference_on(db: Path, adviser: str, on: dt.date) -> int:
    return query_db(db, "SELECT id FROM conference WHERE adviser_id = :a AND held_on = :d", a=adviser,
                    d=on.isoformat())[0][0]


# Reading what the user sees


def agenda(app) -> KeyedTable:  # noqa: ANN001
    return app.screen.query_one("#agenda", KeyedTable)


def message(app) -> str:  # noqa: ANN001
    return shown(app.screen.query_one("#conference-message", Static))


def context(app) -> str:  # noqa: ANN001
    return shown(app.screen.query_one("#item-context", Static))


def dialog_message(app) -> str:  # noqa: ANN001
    return shown(app.screen.query_one("#dialog-message", Static))


async def open_conference(pilot, adviser: str) -> float:  # noqa: ANN001
    """From the team screen: the adviser's row, c, enter on the date. Seconds from enter to the agenda shown."""
    app = pilot.app
    await settle(pilot)
    assert isinstance(app.screen, HomeScreen)
    await choose(pilot, app.screen.query_one("#teams", KeyedTable), f"adviser:{adviser}")
    await pilot.press("c")
    await settle(pilot)
    assert isinstance(app.screen, StartConferenceDialog)
    started = time.perf_counter()
    await pilot.press("enter")
    # Not a sleep: each pause lets the app handle what is waiting, until the agenda is painted.
    while not (isinstance(app.screen, ConferenceScreen) and app.screen.view is not None):
        await pilot.pause()
    elapsed = time.perf_counter() - started
    await settle(pilot)
    return elapsed


@asynccontextmanager
async def conference_started(make_app, demo_db: Path, on: dt.date, size: tuple[int, int] = SIZE):  # noqa: ANN001, ANN201
    """The team manager's app with the conference of the adviser with none this month started on
    `on`: yields (app, pilot, the conference's id)."""
    app = make_app(as_staff=MANAGER)
    async with app.run_test(size=size) as pilot:
        await open_conference(pilot, NONE_THIS_MONTH)
        yield app, pilot, conference_on(demo_db, NONE_THIS_MONTH, on)


async def type_into(pilot, selector: str, typed: str) -> None:  # noqa: ANN001
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    if isinstance(widget, Input):
        widget.value = ""
    elif isinstance(widget, TextArea):
        widget.load_text("")
    await pilot.press(*keys_for(typed))


async def pick(pilot, selector: str, starts: str) -> None:  # noqa: ANN001
    """Open the Select and choose the option whose text starts with `starts`, with the keys."""
    select = pilot.app.screen.query_one(selector, Select)
    select.focus()
    await pilot.press("enter")
    await settle(pilot)
    overlay = select.query_one(SelectOverlay)
    prompts = [str(overlay.get_option_at_index(i).prompt) for i in range(overlay.option_count)]
    target = next(i for i, p in enumerate(prompts) if p.startswith(starts))
    while overlay.highlighted != target:
        await pilot.press("down")
    await pilot.press("enter")
    await settle(pilot)


# The team view


async def test_the_team_screen_shows_each_advisers_last_conference(make_app, demo, demo_db) -> None:
    lines = store(demo_db, demo.clock, MANAGER,
                  lambda conn, actor: conference.last_conferences(conn, actor, demo.clock.today()))
    app = make_app(as_staff=MANAGER)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#teams", KeyedTable)
        for line in lines:
            shown_text = cells(table, f"adviser:{line.adviser_id}")[4]
            assert shown_text.startswith(line.last_on.isoformat() if line.last_on else "never")
            assert ("overdue" in shown_text) == line.overdue
            assert ("in progress" in shown_text) == (line.unfinished_on is not None)
    by_id = {x.adviser_id: x for x in lines}
    assert by_id[NONE_THIS_MONTH].overdue and by_id[UNFINISHED].unfinished_on is not None
    assert any(not x.overdue for x in lines)


# Starting, recording, skipping, moving, resuming


async def test_starting_a_conference_shows_the_rules_agenda_in_order(make_app, demo, demo_db) -> None:
    today = demo.clock.today()
    expected = store(demo_db, demo.clock, MANAGER,
                     lambda conn, actor: conference.build_agenda(conn, actor, NONE_THIS_MONTH, today))
    assert len(expected) > 10
    app = make_app(as_staff=MANAGER)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose(pilot, app.screen.query_one("#teams", KeyedTable), f"adviser:{NONE_THIS_MONTH}")
        await pilot.press("c")
        await settle(pilot)
        # The date comes from the app's clock.
        assert app.screen.query_one("#conference-date", Input).value == today.isoformat()
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        elapsed = await open_conference(pilot, NONE_THIS_MONTH)
        print(f"\nagenda of {len(expected)} shown {elapsed * 1000:.0f} ms after choosing the adviser's date")
        cid = conference_on(demo_db, NONE_THIS_MONTH, today)
        d = detail(demo_db, demo.clock, cid)
        assert [i.claim_id for i in d.items] == [i.claim_id for i in expected]
        table = agenda(app)
        assert table.row_keys == [str(i.id) for i in d.items]
        rows = [cells(table, k) for k in table.row_keys]
        assert [r[1] for r in rows] == ["pending"] * len(expected)
        assert [r[3] for r in rows] == [short_reasons(i.reason_text) for i in expected]
        assert [r[2] for r in rows] == [n if len(n) <= 18 else n[:17] + "…" for n in
                                        (i.customer_name for i in expected)]
        assert title(app) == (f"Caseload conference · {d.adviser_name} ({NONE_THIS_MONTH}) · {today.isoformat()} · "
                              f"item 1 of {len(expected)} · in progress")
        first = expected[0]
        assert context(app).startswith(f"{first.customer_name} · NI ")
        assert f"claim {first.claim_id} ({first.benefit})" in context(app)


async def test_recording_an_item_writes_the_record_and_the_rag_history(make_app, demo, demo_db) -> None:
    today = demo.clock.today()
    async with conference_started(make_app, demo_db, today) as (app, pilot, cid):
        item = detail(demo_db, demo.clock, cid).items[0]
        assert item.context.claim_end is None and item.context.rag and item.context.rag != "R"
        history = query_db(demo_db, "SELECT count(*) FROM rag_rating WHERE claim_id = :c", c=item.claim_id)[0][0]
        expected_on = today + dt.timedelta(days=45)
        due = today + dt.timedelta(days=14)
        await type_into(pilot, "#f-done", "Two applications sent")
        await type_into(pilot, "#f-plan", "Interview practice then apply")
        await type_into(pilot, "#f-expected", expected_on.isoformat())
        await pick(pilot, "#f-rag", "Change to Red")
        await type_into(pilot, "#f-rag-reason", "Housing lost")
        await type_into(pilot, "#f-action", "Book mock interview")
        await type_into(pilot, "#f-due", due.isoformat())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert message(app) == f"Saved: {item.context.name}."
        after = detail(demo_db, demo.clock, cid).items[0]
        assert (after.status, after.done_so_far, after.plan, after.expected_offflow) == \
            ("discussed", "Two applications sent", "Interview practice then apply", expected_on)
        assert (after.rag_review, after.rag_before, after.rag_after, after.rag_reason) == \
            ("change", item.context.rag, "R", "Housing lost")
        assert [(a.description, a.owner, a.due) for a in after.new_actions] == \
            [("Book mock interview", NONE_THIS_MONTH, due)]
        rows = query_db(demo_db, "SELECT rating, reason, source, set_by FROM rag_rating WHERE claim_id = :c "
                                 "ORDER BY id", c=item.claim_id)
        assert len(rows) == history + 1 and tuple(rows[-1]) == ("R", "Housing lost", "conference", MANAGER)
        # The screen shows what is recorded; the list says so in words; the new action's fields are cleared.
        record = shown(app.screen.query_one("#item-record", Static))
        assert "Plan: Interview practice then apply" in record and f"Expected off-flow: {expected_on}" in record
        assert f"changed {'Amber' if item.context.rag == 'A' else 'Green'} to Red: Housing lost" in record
        assert "Book mock interview" in record
        assert cells(agenda(app), str(item.id))[1] == "discussed"
        assert app.screen.query_one("#f-action", Input).value == ""

        # An item with an action from an earlier conference: tick it done; the others carry.
        d = detail(demo_db, demo.clock, cid)
        index, with_actions = next((i, x) for i, x in enumerate(d.items)
                                   if len([a for a in x.earlier_actions if a.status == "open"]) >= 1
                                   and x.context.claim_end is None and x.context.rag)
        opened = [a for a in with_actions.earlier_actions if a.status == "open"]
        await choose(pilot, agenda(app), str(with_actions.id))
        await pilot.press("enter")
        await settle(pilot)
        assert title(app).endswith(f"item {index + 1} of {len(d.items)} · in progress")
        await type_into(pilot, "#f-done", "Course booked")
        await type_into(pilot, "#f-plan", "Finish the course")
        app.screen.query_one("#f-unknown").focus()
        await pilot.press("space")
        await type_into(pilot, "#f-note", "Waiting for the course dates")
        await pick(pilot, "#f-rag", "Confirm:")
        earlier = app.screen.query_one("#f-earlier")
        earlier.focus()
        await pilot.press("space")  # the first (highlighted) open action: done
        await pilot.press("ctrl+s")
        await settle(pilot)
        after = detail(demo_db, demo.clock, cid).items[index]
        assert message(app) == f"Saved: {with_actions.context.name}."
        assert after.status == "discussed" and after.expected_offflow is None and after.expected_offflow_unknown
        assert after.offflow_note == "Waiting for the course dates" and after.rag_review == "confirm"
        outcomes = {a.id: (a.status, a.outcome) for a in after.earlier_actions}
        assert outcomes[opened[0].id] == ("done", "done")
        assert all(outcomes[a.id] == ("open", "carried") for a in opened[1:])


async def test_the_store_refuses_a_future_date_and_a_second_unfinished_conference(make_app, demo, demo_db) -> None:
    today = demo.clock.today()
    app = make_app(as_staff=MANAGER)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose(pilot, app.screen.query_one("#teams", KeyedTable), f"adviser:{NONE_THIS_MONTH}")
        await pilot.press("c")
        await settle(pilot)
        tomorrow = (today + dt.timedelta(days=1)).isoformat()
        await type_into(pilot, "#conference-date", tomorrow)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StartConferenceDialog)
        assert dialog_message(app) == (f"⚠ {tomorrow} is in the future: a conference is recorded on the day it is "
                                       "held (or later). To prepare, export its agenda: caseload export agenda.")
        assert app.screen.query_one("#conference-date", Input).value == tomorrow
        await type_into(pilot, "#conference-date", "9 Nov")
        await pilot.press("enter")
        await settle(pilot)
        assert dialog_message(app) == "⚠ The conference date must be a date written YYYY-MM-DD, such as 2026-11-30."
        await pilot.press("escape")
        await settle(pilot)
        # A0007's November conference is not finished: another day is refused until it is.
        await choose(pilot, app.screen.query_one("#teams", KeyedTable), f"adviser:{UNFINISHED}")
        await pilot.press("c")
        await settle(pilot)
        await type_into(pilot, "#conference-date", today.isoformat())
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StartConferenceDialog)
        assert dialog_message(app).startswith("⚠ Olivia Morgan's conference of 2026-11-03 is not finished: resume it")
    assert query_db(demo_db, "SELECT count(*) FROM conference WHERE held_on > '2026-11-03'")[0][0] == 0


async def test_moving_on_saves_the_item_left(make_app, demo, demo_db) -> None:
    today = demo.clock.today()
    async with conference_started(make_app, demo_db, today) as (app, pilot, cid):
        first = detail(demo_db, demo.clock, cid).items[0]
        await type_into(pilot, "#f-done", "Started a course")
        await type_into(pilot, "#f-plan", "Apply when it ends")
        await type_into(pilot, "#f-expected", (today + dt.timedelta(days=90)).isoformat())
        await pick(pilot, "#f-rag", "Confirm:")
        await pilot.press("escape")  # from the form to the list
        await settle(pilot)
        assert app.focused is agenda(app)
        await pilot.press("n")
        await settle(pilot)
        saved = detail(demo_db, demo.clock, cid)
        assert (saved.items[0].status, saved.items[0].plan, saved.items[0].rag_review) == \
            ("discussed", "Apply when it ends", "confirm")
        assert saved.position == 1 and "item 2 of" in title(app)
        assert message(app) == f"Saved: {first.context.name}."
        assert cells(agenda(app), str(first.id))[1] == "discussed"


async def test_an_expected_date_before_the_conference_is_refused_and_the_text_kept(make_app, demo, demo_db) -> None:
    today = demo.clock.today()
    async with conference_started(make_app, demo_db, today) as (app, pilot, cid):
        before = today - dt.timedelta(days=1)
        await type_into(pilot, "#f-done", "Applied for two jobs")
        await type_into(pilot, "#f-plan", "Keep applying")
        await type_into(pilot, "#f-expected", before.isoformat())
        await pick(pilot, "#f-rag", "Confirm:")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert message(app) == (f"⚠ The expected off-flow date {before.isoformat()} is before the conference "
                                f"({today.isoformat()}): give a later date, or \"don't know\" with a note.")
        screen = app.screen
        assert screen.query_one("#f-done", TextArea).text == "Applied for two jobs"
        assert screen.query_one("#f-plan", TextArea).text == "Keep applying"
        assert screen.query_one("#f-expected", Input).value == before.isoformat()
        assert detail(demo_db, demo.clock, cid).items[0].status == "pending"
        # Moving on tries to save, is refused the same way, and stays; the same key again moves on
        # and keeps the text for when the manager comes back.
        await pilot.press("escape")  # out of the field, to the list
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        assert title(app).startswith("Caseload conference") and "item 1 of" in title(app)
        assert "Press the same key again" in message(app)
        await pilot.press("n")
        await settle(pilot)
        assert "item 2 of" in title(app)
        assert cells(agenda(app), agenda(app).row_keys[0])[1] == "pending *"
        await pilot.press("p")
        await settle(pilot)
        assert screen.query_one("#f-expected", Input).value == before.isoformat()
        assert screen.query_one("#f-done", TextArea).text == "Applied for two jobs"


async def test_skip_with_a_reason_next_previous_and_resume_where_left(make_app, demo, demo_db) -> None:
    today = demo.clock.today()
    async with conference_started(make_app, demo_db, today) as (app, pilot, cid):
        items = detail(demo_db, demo.clock, cid).items
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, SkipDialog)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert dialog_message(app) == "⚠ A reason for skipping is required."
        await pilot.press(*keys_for("Adviser off sick"), "enter")
        await settle(pilot)
        assert isinstance(app.screen, ConferenceScreen)
        first = detail(demo_db, demo.clock, cid).items[0]
        assert (first.status, first.skip_reason) == ("skipped", "Adviser off sick")
        assert cells(agenda(app), str(first.id))[1] == "skipped"
        assert message(app) == f"Skipped: {first.context.name}."
        # Skipping moves on to the next customer.
        assert "item 2 of" in title(app) and context(app).startswith(items[1].context.name)
        await pilot.press("n", "n", "p")
        await settle(pilot)
        assert "item 3 of" in title(app) and context(app).startswith(items[2].context.name)
        assert cells(agenda(app), str(items[2].id))[0].startswith("▶")
        assert detail(demo_db, demo.clock, cid).position == 2
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert "item 4 of" in title(app)
        # Leaving and coming back resumes at the same item.
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert "in progress" in cells(app.screen.query_one("#teams", KeyedTable), f"adviser:{NONE_THIS_MONTH}")[4]
        await open_conference(pilot, NONE_THIS_MONTH)
        assert "item 4 of" in title(app) and context(app).startswith(items[3].context.name)
        assert cells(agenda(app), str(first.id))[1] == "skipped"


async def test_resuming_the_unfinished_conference_and_adding_a_customer(make_app, demo, demo_db) -> None:
    line = next(x for x in store(demo_db, demo.clock, MANAGER, lambda conn, actor: conference.last_conferences(
        conn, actor, demo.clock.today())) if x.adviser_id == UNFINISHED)
    before = detail(demo_db, demo.clock, line.unfinished_id)
    app = make_app(as_staff=MANAGER)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose(pilot, app.screen.query_one("#teams", KeyedTable), f"adviser:{UNFINISHED}")
        await pilot.press("c")
        await settle(pilot)
        # The date offered is the unfinished conference's, so it resumes.
        assert app.screen.query_one("#conference-date", Input).value == line.unfinished_on.isoformat()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConferenceScreen) and app.screen.conference_id == line.unfinished_id
        assert f"item {before.position + 1} of {len(before.items)}" in title(app)
        on_agenda = {i.claim_id for i in before.items}
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AddCustomerChooser)
        chooser = app.screen.query_one("#add-customer-table", KeyedTable)
        claim_id = next(k for k in chooser.row_keys if k not in on_agenda)
        await choose(pilot, chooser, claim_id)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConferenceScreen)
        after = detail(demo_db, demo.clock, line.unfinished_id)
        assert [i.claim_id for i in after.items] == [i.claim_id for i in before.items] + [claim_id]
        assert after.items[-1].reasons == "added" and after.position == len(after.items) - 1
        assert f"item {len(after.items)} of {len(after.items)}" in title(app)
        assert cells(agenda(app), agenda(app).row_keys[-1])[3] == "added"


async def test_finish_records_who_attended_then_the_summary(make_app, demo, demo_db) -> None:
    today = demo.clock.today()
    async with conference_started(make_app, demo_db, today) as (app, pilot, cid):
        d = detail(demo_db, demo.clock, cid)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FinishDialog)
        assert app.screen.query_one("#finish-attendees", Input).value == f"{d.manager_name}, {d.adviser_name}"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert dialog_message(app) == "⚠ A reason for skipping the customers not yet discussed is required."
        # The empty reason shows a hint, not something that looks typed (issue 17).
        reason = app.screen.query_one("#finish-skip-reason", Input)
        assert reason.value == "" and reason.placeholder.startswith("e.g. ")
        reason.focus()
        await pilot.press(*keys_for("Out of time"), "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, SummaryScreen)
        after = detail(demo_db, demo.clock, cid)
        assert after.status == "finished" and after.attendees == f"{d.manager_name}, {d.adviser_name}"
        assert after.finished_at == demo.clock.now()
        assert {i.status for i in after.items} == {"skipped"}
        summary = store(demo_db, demo.clock, MANAGER, lambda conn, actor: conference.conference_summary(conn, actor, cid))
        c = summary.counts
        assert shown(app.screen.query_one("#summary-counts", Static)) == (
            f"Discussed {c.discussed} · RAG changes {c.rag_changes} · New actions {c.new_actions} · "
            f"Carried actions {c.carried_actions}")
        # Back on the conference: a record now, read only.
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConferenceScreen) and title(app).endswith("finished · read only")
        assert not app.screen.query_one("#item-form").display
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert message(app).startswith("⚠ This conference was finished at ")


def visible_text(widget) -> str:  # noqa: ANN001
    """The words a widget shows on screen, line by line joined (what is cut off is not in it)."""
    from textual.geometry import Region

    lines = widget.render_lines(Region(0, 0, widget.size.width, widget.size.height))
    return " ".join(" ".join("".join(seg.text for seg in line).split()) for line in lines).strip()


async def test_the_finish_dialog_wraps_its_text_at_80_columns(make_app, demo, demo_db) -> None:
    """At 80x24 every sentence of the finish dialog is shown whole, wrapped onto as many lines as it needs,
    never cut at the dialog's edge (issue 17: "they are all sk")."""
    async with conference_started(make_app, demo_db, demo.clock.today(), size=(80, 24)) as (app, pilot, _cid):
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FinishDialog)
        labels = [w for w in app.screen.query(".dialog-label")]
        assert any("they are all skipped with this reason" in str(w.render()) for w in labels)
        for w in [*labels, app.screen.query_one("#dialog-keys")]:
            whole = " ".join(str(w.render()).split())
            assert visible_text(w) == whole, (visible_text(w), whole)
            assert w.region.right <= app.screen.query_one("#dialog-box").region.right


async def test_the_plan_field_grows_with_what_is_typed(make_app, demo, demo_db) -> None:
    """What has been done and the plan show several lines, and grow as lines are typed (up to a limit, then
    scroll), so a plan of six steps is read whole without scrolling a four-line box (issue 17)."""
    async with conference_started(make_app, demo_db, demo.clock.today()) as (app, pilot, _cid):
        plan = app.screen.query_one("#f-plan", TextArea)
        before = plan.size.height
        assert before >= 2
        plan.focus()
        steps = [f"Step {i}: call the employer" for i in range(1, 7)]
        for i, step in enumerate(steps):
            await pilot.press(*step)
            if i < len(steps) - 1:
                await pilot.press("enter")
        await settle(pilot)
        assert plan.text == "\n".join(steps)
        assert plan.size.height >= len(steps) > before
        assert visible_text(plan).startswith("Step 1")


async def test_the_rag_review_list_opens_above_the_footer(make_app, demo, demo_db) -> None:
    """The RAG review's list of choices, opened, stays clear of the footer's keys at 80x24 and 120x40."""
    from textual.widgets import Footer

    for size in ((80, 24), (120, 40)):
        async with conference_started(make_app, demo_db, demo.clock.today(), size=size) as (app, pilot, _cid):
            select = app.screen.query_one("#f-rag", Select)
            select.focus()
            await pilot.press("enter")
            await settle(pilot)
            overlay = select.query_one(SelectOverlay)
            assert overlay.display and overlay.option_count >= 3
            footer = app.screen.query_one(Footer)
            assert overlay.region.bottom <= footer.region.y, (size, overlay.region, footer.region)
            await pilot.press("escape")


async def test_the_summary_screen_counts_equal_the_stores(make_app, demo, demo_db) -> None:
    adviser = "A0001"
    lines = store(demo_db, demo.clock, MANAGER, lambda conn, actor: conference.list_conferences(conn, actor, adviser))
    newest = lines[0]
    summary = store(demo_db, demo.clock, MANAGER,
                    lambda conn, actor: conference.conference_summary(conn, actor, newest.id))
    assert summary.counts.discussed > 5 and summary.counts.rag_changes > 0
    app = make_app(as_staff=MANAGER)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await choose(pilot, app.screen.query_one("#teams", KeyedTable), f"adviser:{adviser}")
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, ConferenceListScreen)
        table = app.screen.query_one("#conferences", KeyedTable)
        assert table.row_keys == [str(x.id) for x in lines]
        assert cells(table, str(newest.id))[:2] == [newest.held_on.isoformat(),
                                                    f"finished {newest.finished_at:%Y-%m-%d %H:%M}"]
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, SummaryScreen)
        c = summary.counts
        assert shown(app.screen.query_one("#summary-counts", Static)) == (
            f"Discussed {c.discussed} · RAG changes {c.rag_changes} · New actions {c.new_actions} · "
            f"Carried actions {c.carried_actions}")
        assert shown(app.screen.query_one("#summary-detail", Static)).startswith(
            f"{c.discussed} discussed of {c.items} on the agenda, {c.skipped} skipped")
        body = shown(app.screen.query_one("#summary-items", Static))
        for it in summary.items:
            assert f"{it.position + 1}. {it.customer_name} · claim {it.claim_id} (" in body
        discussed = next(it for it in summary.items if it.status == "discussed")
        assert f"Plan: {' '.join(discussed.plan.split())}" in body


async def test_an_adviser_reads_their_conferences_but_cannot_start_or_record(make_app, demo, demo_db) -> None:
    lines = store(demo_db, demo.clock, UNFINISHED,
                  lambda conn, actor: conference.list_conferences(conn, actor, UNFINISHED))
    unfinished = next(x for x in lines if x.status == "in_progress")
    before = detail(demo_db, demo.clock, unfinished.id)
    app = make_app(as_staff=UNFINISHED)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette_command(pilot, "my conf")
        assert isinstance(app.screen, ConferenceListScreen)
        table = app.screen.query_one("#conferences", KeyedTable)
        assert table.row_keys == [str(x.id) for x in lines]
        assert title(app) == "Your caseload conferences"
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, ConferenceListScreen)
        assert shown(app.screen.query_one("#conferences-note", Static)) == (
            "⚠ Only your team manager or a team leader of your office starts or records your caseload "
            "conference; you can read yours here.")
        await choose(pilot, table, str(unfinished.id))
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConferenceScreen)
        assert title(app).endswith("in progress · read only")
        assert not app.screen.query_one("#item-form").display
        assert context(app).startswith(before.items[before.position].context.name)
        refusal = ("⚠ You can read your conferences; only your team manager or a team leader of your office "
                   "runs them and records what is said.")
        for key in ("ctrl+s", "s", "a", "f"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, ConferenceScreen) and message(app) == refusal, key
        # Reading moves through the agenda without saving a position.
        await pilot.press("n")
        await settle(pilot)
        assert f"item {before.position + 2} of" in title(app)
        assert detail(demo_db, demo.clock, unfinished.id) == before
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, SummaryScreen)


# Snapshots


async def _resume_unfinished(pilot) -> None:  # noqa: ANN001
    await settle(pilot)
    await choose(pilot, pilot.app.screen.query_one("#teams", KeyedTable), f"adviser:{UNFINISHED}")
    await pilot.press("c")
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


def test_agenda_item_snapshot_120x40(snap_compare, make_app) -> None:
    assert snap_compare(make_app(as_staff=MANAGER), terminal_size=(120, 40), run_before=_resume_unfinished)


def test_agenda_item_snapshot_80x24(snap_compare, make_app) -> None:
    assert snap_compare(make_app(as_staff=MANAGER), terminal_size=(80, 24), run_before=_resume_unfinished)


def test_summary_snapshot_120x40(snap_compare, make_app) -> None:
    async def open_summary(pilot) -> None:  # noqa: ANN001
        await _resume_unfinished(pilot)
        await pilot.press("v")
        await settle(pilot)

    assert snap_compare(make_app(as_staff=MANAGER), terminal_size=(120, 40), run_before=open_summary)
