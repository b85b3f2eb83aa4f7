"""Each user's main job, end to end, through the keyboard only (issue 17), with the keys the README's table
gives: no widget is focused, filled or clicked by the test. What each journey leaves behind is read back from
the database.

- An adviser: the Red customers on their caseload, a customer's record, a note and a new RAG rating.
- A team manager: an adviser's caseload conference started, an item skipped, the conference finished.
- A team leader: the team view's figures and the fairness view's beyond-52 list exported to files.
"""

from __future__ import annotations

from pathlib import Path

from caseload.screens.caseload import CaseloadScreen
from caseload.screens.conference import ConferenceScreen
from caseload.screens.conference_summary import SummaryScreen
from caseload.screens.customer import CustomerScreen
from caseload.screens.fairness import FairnessScreen
from caseload.screens.home import HomeScreen
from caseload.screens.team_view import TeamViewScreen
from caseload.widgets.table import KeyedTable
from test_app_support import config_dir, demo, demo_db, demo_office, make_app, settle  # noqa: F401
from test_caseload_screen import keys_for, query_db

SIZE = (120, 40)


async def keys(pilot, *pressed: str) -> None:  # noqa: ANN001
    await pilot.press(*pressed)
    await settle(pilot)


async def test_an_adviser_works_a_red_customer_by_keyboard(make_app, demo_db) -> None:
    app = make_app(as_staff="A0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CaseloadScreen)
        await keys(pilot, "r")  # Red only
        table = app.screen.query_one("#caseload", KeyedTable)
        assert table.has_focus and table.row_count > 1
        await keys(pilot, "down")
        claim = table.cursor_key
        await keys(pilot, "enter")
        assert isinstance(app.screen, CustomerScreen) and app.screen.claim_id == claim
        await keys(pilot, "n", *keys_for("Rang about the forklift course"), "ctrl+s")
        assert isinstance(app.screen, CustomerScreen)
        await keys(pilot, "g", "a", "tab", *keys_for("Started the course"), "enter")
        assert isinstance(app.screen, CustomerScreen)
        await keys(pilot, "escape")
        assert isinstance(app.screen, CaseloadScreen)
    notes = query_db(demo_db, "SELECT body, author FROM note WHERE claim_id = :c ORDER BY id DESC LIMIT 1", c=claim)
    assert [tuple(n) for n in notes] == [("Rang about the forklift course", "A0001")]
    rating = query_db(demo_db, "SELECT rating, reason, set_by FROM rag_rating WHERE claim_id = :c ORDER BY id DESC "
                               "LIMIT 1", c=claim)
    assert [tuple(r) for r in rating] == [("A", "Started the course", "A0001")]


async def test_a_team_manager_runs_a_caseload_conference_by_keyboard(make_app, demo, demo_db) -> None:
    adviser = "A0008"  # no conference yet this month
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        teams = app.screen.query_one("#teams", KeyedTable)
        assert teams.has_focus
        for _ in range(teams.row_count):
            if teams.cursor_key == f"adviser:{adviser}":
                break
            await keys(pilot, "down")
        assert teams.cursor_key == f"adviser:{adviser}"
        await keys(pilot, "c", "enter")  # start on today's date, as proposed
        assert isinstance(app.screen, ConferenceScreen)
        await keys(pilot, "s", *keys_for("Customer moved away"), "enter")  # skip the first customer
        assert isinstance(app.screen, ConferenceScreen)
        await keys(pilot, "f", "tab", *keys_for("Out of time"), "ctrl+s")
        assert isinstance(app.screen, SummaryScreen)
    held = query_db(demo_db, "SELECT id, status, manager_id FROM conference WHERE adviser_id = :a ORDER BY id DESC "
                             "LIMIT 1", a=adviser)
    (cid, status, manager), = held
    assert (status, manager) == ("finished", demo.first_manager)
    skipped = query_db(demo_db, "SELECT skip_reason FROM conference_item WHERE conference_id = :c AND status = "
                                "'skipped' ORDER BY position", c=cid)
    assert skipped[0][0] == "Customer moved away" and {r[0] for r in skipped[1:]} <= {"Out of time"}


async def test_a_team_leader_takes_the_figures_to_a_meeting_by_keyboard(make_app, demo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(as_staff=demo.leader)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        await keys(pilot, "v")
        assert isinstance(app.screen, TeamViewScreen)
        await keys(pilot, "x", "enter")
        await app.workers.wait_for_complete()
        await keys(pilot, "f")
        assert isinstance(app.screen, FairnessScreen)
        await keys(pilot, "3", "x", "enter")
        await app.workers.wait_for_complete()
        await settle(pilot)
    written = sorted(p.name for p in Path(tmp_path).iterdir())
    assert any(n.startswith("offflow-office-jsa-") and n.endswith(".xlsx") for n in written), written
    assert any(n.startswith("fairness-beyond52-team-") and n.endswith(".csv") for n in written), written
    assert any(n.endswith(".csv.meta.json") for n in written), written
