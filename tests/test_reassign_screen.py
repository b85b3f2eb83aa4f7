"""Reassignment and cover in the app, with Pilot on the demo office: the team manager's home screen, the
dialogs, and what the advisers then see. Expected claims come from the store on the same database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from textual.widgets import Input, SelectionList, Static

from caseload.screens.caseload import CaseloadScreen
from caseload.screens.home import HomeScreen, TeamTable
from caseload.screens.reassign import CoverDialog, ReassignDialog
from caseload.store.access import actor_for
from caseload.store.reassign import ClaimFilter, preview, share_out
from test_app_support import config_dir, demo, demo_db, demo_office, make_app, settle  # noqa: F401

SIZE = (120, 40)


def store(db: Path, clock, fn) -> Any:  # noqa: ANN001
    from caseload.store.db import open_database

    engine = open_database(str(db), clock)
    try:
        with engine.connect() as conn:
            return fn(conn)
    finally:
        engine.dispose()


def open_claims(db: Path, clock, adviser: str) -> set[str]:  # noqa: ANN001
    from sqlalchemy import text

    return set(store(db, clock, lambda conn: conn.execute(text(
        "SELECT id FROM claim WHERE adviser_id = :a AND end_day IS NULL"), {"a": adviser}).scalars().all()))


async def open_reassign(pilot, targets: int) -> ReassignDialog:  # noqa: ANN001
    """On the home screen's first adviser: r, Red, tick the first `targets` colleagues, a reason."""
    await settle(pilot)
    await pilot.press("r")
    await settle(pilot)
    dialog = pilot.app.screen
    assert isinstance(dialog, ReassignDialog)
    await pilot.press("enter", "down", "enter")  # the filter: the second choice, Red
    await pilot.press("tab")
    for _ in range(targets):
        await pilot.press("space", "down")
    await pilot.press("tab")
    await pilot.press(*"Mia is on long-term leave")
    await settle(pilot)
    return dialog


def first_adviser(home: HomeScreen) -> tuple[str, list[tuple[str, str]]]:
    advisers = [(a.id, a.name) for t in home.overview.teams for a in t.advisers]
    key = home.query_one(TeamTable).cursor_key
    return key.split(":", 1)[1], advisers


async def test_a_team_manager_reassigns_red_claims_and_they_show_on_the_new_caseloads(make_app, demo, demo_db):
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        home = app.screen
        from_id, advisers = first_adviser(home)
        targets = [sid for sid, _ in advisers if sid != from_id][:2]
        red = store(demo_db, demo.clock, lambda conn: preview(
            conn, actor_for(conn, demo.first_manager, demo.today), from_id, ClaimFilter(rag=("red",))))
        shares = share_out(red, targets)
        before = {sid: open_claims(demo_db, demo.clock, sid) for sid in (from_id, *targets)}
        dialog = await open_reassign(pilot, 2)
        assert dialog.query_one(SelectionList).selected == targets
        names = dict(advisers)
        shown = str(dialog.query_one("#reassign-preview", Static).render())
        assert shown == (f"{len(red)} claims would move: " + " · ".join(
            f"{names[t]} ({t}) {len(shares[t])}" for t in targets) + ".")
        await pilot.press("ctrl+s")
        await settle(pilot)
        # Asked once more, with the preview; nothing has moved yet.
        assert app.screen is dialog and "Press ctrl+s again to move them" in str(
            dialog.query_one("#dialog-message", Static).render())
        assert open_claims(demo_db, demo.clock, from_id) == before[from_id]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is home
        assert open_claims(demo_db, demo.clock, from_id) == before[from_id] - {c.claim_id for c in red}
        # The home screen counts again, and the first colleague's caseload lists the customers moved to them.
        row = home.query_one(TeamTable).get_row(f"adviser:{from_id}")
        assert str(row[2]) == str(len(before[from_id]) - len(red))
        await pilot.press("down", "enter")
        await settle(pilot)
        caseload = app.screen
        assert isinstance(caseload, CaseloadScreen) and caseload.target.adviser_id == targets[0]
        assert {r.claim_id for r in caseload.rows} == before[targets[0]] | {c.claim_id for c in shares[targets[0]]}


async def test_escape_and_an_unchanged_choice_move_nothing(make_app, demo, demo_db):
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        from_id, _ = first_adviser(app.screen)
        before = open_claims(demo_db, demo.clock, from_id)
        dialog = await open_reassign(pilot, 0)
        await pilot.press("ctrl+s")
        assert "Tick at least one adviser" in str(dialog.query_one("#dialog-message", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert open_claims(demo_db, demo.clock, from_id) == before


async def test_cover_shows_the_colleague_the_covered_caseload(make_app, demo, demo_db):
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        covered, advisers = first_adviser(app.screen)
        colleague = next(sid for sid, _ in advisers if sid != covered)
        await pilot.press("C")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, CoverDialog)
        await pilot.press("tab", "enter", "down", "enter")  # covered by: the first colleague
        assert dialog.query_one("#cover-by").value == colleague
        for field, value in (("#cover-to", (demo.today + dt.timedelta(days=2)).isoformat()),
                             ("#cover-reason", "Annual leave")):
            dialog.query_one(field, Input).value = value
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen), str(dialog.query_one("#dialog-message", Static).render())
    # The colleague's own caseload, then (w) the one they cover; the holder does not change.
    theirs, covered_claims = (open_claims(demo_db, demo.clock, s) for s in (colleague, covered))
    app = make_app(as_staff=colleague)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CaseloadScreen) and {r.claim_id for r in screen.rows} == theirs
        assert "caseload_cover" in {b.binding.id for b in screen.active_bindings.values() if b.enabled}
        await pilot.press("w")
        await settle(pilot)
        assert {r.claim_id for r in screen.rows} == covered_claims
        title = str(screen.query_one("#screen-title", Static).render())
        assert title.startswith(f"Covering · {dict(advisers)[covered]} ({covered})")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "CustomerScreen"
        await pilot.press("escape", "w")
        await settle(pilot)
        assert {r.claim_id for r in screen.rows} == theirs
    assert open_claims(demo_db, demo.clock, covered) == covered_claims
    # The day after the cover ends, no switch is offered.
    from caseload.clock import FixedClock

    app = make_app(as_staff=colleague, clock=FixedClock.on(demo.today + dt.timedelta(days=3)))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "caseload_cover" not in {b.binding.id for b in app.screen.active_bindings.values() if b.enabled}


async def test_an_adviser_is_not_offered_reassignment(make_app, demo, demo_db):
    app = make_app(as_staff="A0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CaseloadScreen)
        offered = {b.binding.action for b in screen.active_bindings.values() if b.enabled}
        assert "quick('red')" in offered and not offered & {"reassign", "cover", "switch_cover"}
        await pilot.press("r")  # the Red quick filter here
        await settle(pilot)
        assert app.screen is screen and screen.quick == "red"
        assert not any(isinstance(s, (ReassignDialog, CoverDialog)) for s in app.screen_stack)


def test_reassign_dialog_snapshot(snap_compare, make_app, demo):
    async def fill(pilot) -> None:  # noqa: ANN001
        await open_reassign(pilot, 2)

    assert snap_compare(make_app(as_staff=demo.first_manager), terminal_size=SIZE, run_before=fill)
