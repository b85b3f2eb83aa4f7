"""The app on PostgreSQL (issue 8), with Pilot: a team manager walks a small demo office built on a fresh
PostgreSQL database, from home to an adviser's caseload, a customer record, a RAG rating, the team view, the
fairness screen and a caseload conference. Skipped without a PostgreSQL test cluster (see conftest.py).

Expected values come from the store's own functions on the same database.
"""

from __future__ import annotations

import pytest
from textual.widgets import Input, Static

from caseload.app import create_app
from caseload.demo import build_demo, demo_dates
from caseload.clock import FixedClock
from caseload.screens.caseload import CaseloadScreen
from caseload.screens.conference import ConferenceScreen
from caseload.screens.conference_dialogs import StartConferenceDialog
from caseload.screens.customer import CustomerScreen
from caseload.screens.dialogs import RagDialog
from caseload.screens.fairness import FairnessScreen
from caseload.screens.home import HomeScreen
from caseload.screens.team_view import TeamViewScreen
from caseload.store import fairness, records
from caseload.store.access import ADMIN, actor_for
from caseload.store.db import open_database, write
from caseload.store.logins import grant
from caseload.widgets.table import KeyedTable
from test_app import claims, overview
from test_app_support import settle
from test_caseload_screen import cells, choose, keys_for, query_db, shown, title
from test_conference_screen import conference_on, detail
from test_logins import as_login, login_name
from test_fairness_screen import column, store

ROWS = 400  # a small demo office (seed 1): built on PostgreSQL in a few seconds
NOTE = "Spoke about the warehouse job"


@pytest.mark.parametrize("own_login", [False, True], ids=["owner-as-manager", "manager-login"])
async def test_a_team_manager_walks_the_app_on_postgresql(pg_db, tmp_path, own_login) -> None:
    """Once as the owner acting as the manager, once as the manager's own login: every read and write the walk
    makes then goes through row-level security (issue 13), and shows the same as the store gives the owner."""
    url = pg_db()
    engine = open_database(url, FixedClock.on(demo_dates(1)[1]))
    office = build_demo(engine, seed=1, rows=ROWS)
    clock, manager = office.clock, office.first_manager
    _, as_at, (team,) = overview(url, manager, clock)
    adviser = team.advisers[1]
    expected = claims(url, manager, adviser.id, clock)
    claim = expected[0]
    with write(engine) as conn:  # a record added through the store, for the customer screen to show
        records.add_note(conn, clock, actor_for(conn, adviser.id), claim.claim_id, NOTE)
        if own_login:
            login = login_name()
            grant(conn, clock, ADMIN, manager, login)
    engine.dispose()
    if own_login:  # the app opens as the login's person: no identity given, none chosen
        app = create_app(as_login(url, login), None, clock, config_dir=tmp_path / "config", theme="textual-dark")
        assert app.identity.actor.id == manager
    else:
        app = create_app(url, manager, clock, config_dir=tmp_path / "config", theme="textual-dark")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            # Home: the manager's team and its advisers.
            assert isinstance(app.screen, HomeScreen)
            home = app.screen.query_one("#teams", KeyedTable)
            assert {f"adviser:{a.id}" for a in team.advisers} <= set(home.row_keys)
            # An adviser's caseload, as the store gives it.
            await choose(pilot, home, f"adviser:{adviser.id}")
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, CaseloadScreen)
            table = app.screen.query_one("#caseload", KeyedTable)
            assert table.row_keys == [c.claim_id for c in expected] and expected
            assert cells(table, claim.claim_id)[0] == f"{claim.customer_name} {claim.nino}"
            assert adviser.name in title(app) and f"as at {as_at.isoformat()}" in title(app)
            # The first customer's record: the note added through the store is on the timeline.
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, CustomerScreen) and app.screen.claim_id == claim.claim_id
            timeline = app.screen.query_one("#timeline", KeyedTable)
            notes = [cells(timeline, k) for k in timeline.row_keys if cells(timeline, k)[1] == "Note"]
            assert any(NOTE in n[2] and n[3] == adviser.name for n in notes)
            # A RAG rating through the dialog: saved, on the record and on the timeline.
            new = "R" if claim.rag != "R" else "G"
            await pilot.press("g")
            await settle(pilot)
            assert isinstance(app.screen, RagDialog)
            review = app.screen.query_one("#rag-review", Input).value
            await pilot.press(new.lower(), "tab", *keys_for("Housing first"), "enter")
            await settle(pilot)
            assert isinstance(app.screen, CustomerScreen)
            assert shown(app.screen.query_one("#customer-message", Static)) == "RAG rating saved."
            assert f"RAG  {new} " in shown(app.screen.query_one("#customer-head", Static))
            first = cells(timeline, timeline.row_keys[0])
            assert first[:2] == [clock.today().isoformat(), "RAG"] and "Housing first" in first[2]
            saved = query_db(url, "SELECT rating, reason, set_by, next_review FROM rag_rating WHERE claim_id = :c "
                                  "ORDER BY id DESC LIMIT 1", c=claim.claim_id)
            assert [(r[0], r[1], r[2], str(r[3])) for r in saved] == [(new, "Housing first", manager, review)]
            # Back: the caseload row shows the new rating; then home.
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, CaseloadScreen)
            assert cells(table, claim.claim_id)[1].strip() == new
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, HomeScreen)
            # The team view (v), then fairness (f): the team's advisers as the store counts them.
            await pilot.press("v")
            await settle(pilot)
            assert isinstance(app.screen, TeamViewScreen)
            assert title(app) == f"Team view · {team.name}"
            await pilot.press("f")
            await settle(pilot)
            assert isinstance(app.screen, FairnessScreen)
            attention = store(url, clock, manager, fairness.attention, by="adviser")
            red = store(url, clock, manager, fairness.red_without_plan, by="adviser")
            assert title(app) == "Fairness · per adviser · last 28 days"
            groups = column(app.screen.query_one("#fx-milestones", KeyedTable), 0)
            assert groups == [g.group for g in attention.groups] and adviser.name in groups
            assert column(app.screen.query_one("#fx-red-list", KeyedTable), 1) == [ln.claim_id for ln in red.lines]
            await pilot.press("escape", "escape")
            await settle(pilot)
            # A caseload conference started on today's date (c): the agenda the store built.
            assert isinstance(app.screen, HomeScreen)
            await choose(pilot, app.screen.query_one("#teams", KeyedTable), f"adviser:{adviser.id}")
            await pilot.press("c")
            await settle(pilot)
            assert isinstance(app.screen, StartConferenceDialog)
            assert app.screen.query_one("#conference-date", Input).value == clock.today().isoformat()
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, ConferenceScreen)
            held = detail(url, clock, conference_on(url, adviser.id, clock.today()), manager)
            agenda = app.screen.query_one("#agenda", KeyedTable)
            assert held.items and agenda.row_keys == [str(i.id) for i in held.items]
            assert adviser.name in title(app)
    finally:
        app.engine.dispose()


async def test_an_adviser_works_their_caseload_as_their_own_login(pg_db, tmp_path) -> None:
    """An adviser opens the app with their own login (row-level security on every read and write): their
    caseload as the store gives it, a customer's record, a RAG rating saved, rated and audited in their name."""
    url = pg_db()
    engine = open_database(url, FixedClock.on(demo_dates(1)[1]))
    office = build_demo(engine, seed=1, rows=ROWS)
    clock, manager = office.clock, office.first_manager
    _, _, (team,) = overview(url, manager, clock)
    adviser = team.advisers[0]
    expected = claims(url, adviser.id, adviser.id, clock)
    login = login_name()
    with write(engine) as conn:
        grant(conn, clock, ADMIN, adviser.id, login)
    engine.dispose()
    app = create_app(as_login(url, login), None, clock, config_dir=tmp_path / "config", theme="textual-dark")
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, CaseloadScreen) and adviser.name in title(app)
            table = app.screen.query_one("#caseload", KeyedTable)
            assert table.row_keys == [c.claim_id for c in expected] and expected
            claim = expected[0]
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, CustomerScreen) and app.screen.claim_id == claim.claim_id
            new = "R" if claim.rag != "R" else "G"
            await pilot.press("g")
            await settle(pilot)
            assert isinstance(app.screen, RagDialog)
            await pilot.press(new.lower(), "tab", *keys_for("Rent arrears first"), "enter")
            await settle(pilot)
            assert shown(app.screen.query_one("#customer-message", Static)) == "RAG rating saved."
    finally:
        app.engine.dispose()
    saved = query_db(url, "SELECT rating, reason, set_by FROM rag_rating WHERE claim_id = :c ORDER BY id DESC "
                          "LIMIT 1", c=claim.claim_id)
    assert [tuple(r) for r in saved] == [(new, "Rent arrears first", adviser.id)]
    audited = query_db(url, "SELECT actor FROM audit WHERE action = 'rag' AND entity_id = :c ORDER BY id DESC LIMIT 1",
                       c=claim.claim_id)
    assert [r[0] for r in audited] == [adviser.id]
