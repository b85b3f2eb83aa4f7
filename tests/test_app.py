"""The app with Pilot: who is using it, getting around, help, quitting, themes; on the demo office.

Expected values come from the store's own functions on the same database, never from guesses.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from rich.text import Text
from textual.command import CommandPalette
from textual.widgets import Static

from caseload import config as config_mod
from caseload.app import DEFAULT_THEME, HIGH_CONTRAST_THEME, CaseloadApp
from caseload.clock import FixedClock
from caseload.screens.caseload import CaseloadScreen
from caseload.screens.help import HelpScreen
from caseload.screens.home import HomeScreen
from caseload.screens.identity import IdentityScreen
from caseload.store.access import actor_for
from caseload.store.db import describe, resolve_url
from caseload.store.errors import StoreError
from caseload.store.caseload import CaseloadQuery, CaseloadRow, caseload
from caseload.store.info import latest_import, office_overview
from caseload.widgets.table import KeyedTable
from test_app_support import config_dir, demo, demo_db, demo_office, make_app, settle  # noqa: F401

SIZE = (100, 30)


def text(widget: Static) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


def header(app: CaseloadApp) -> str:
    return f"{text(app.screen.query_one('#frame-who', Static))} | {text(app.screen.query_one('#frame-data', Static))}"


def cells(table: KeyedTable, key: str) -> list[str]:
    return [c.plain if isinstance(c, Text) else str(c) for c in table.get_row(key)]


def overview(db: Path, staff_id: str, clock):  # noqa: ANN001, ANN201
    from caseload.store.db import open_database

    engine = open_database(str(db), clock)
    try:
        with engine.connect() as conn:
            actor = actor_for(conn, staff_id)
            as_at = latest_import(conn).as_at
            return actor, as_at, office_overview(conn, actor, as_at)
    finally:
        engine.dispose()


def claims(db: Path, staff_id: str, adviser_id: str, clock) -> list[CaseloadRow]:  # noqa: ANN001
    """The first page of an adviser's caseload as the store gives it, most urgent first."""
    from caseload.store.db import open_database

    engine = open_database(str(db), clock)
    try:
        with engine.connect() as conn:
            actor = actor_for(conn, staff_id)
            return caseload(conn, actor, latest_import(conn).as_at, CaseloadQuery(adviser_id=adviser_id)).rows
    finally:
        engine.dispose()


async def choose(pilot, table: KeyedTable, key: str) -> None:  # noqa: ANN001
    """Move the cursor to the row keyed `key` with j/k and the arrows, as a user would (in a picker,
    letters find a row, so only the arrows)."""
    from caseload.widgets.find import PickerTable

    vim = not isinstance(table, PickerTable)
    target = table.row_keys.index(key)
    while table.cursor_row < target:
        await pilot.press("j" if vim and table.cursor_row % 2 else "down")
    while table.cursor_row > target:
        await pilot.press("k" if vim else "up")
    assert table.cursor_key == key


# Identity


async def test_as_staff_opens_home_as_them(make_app, demo, demo_db) -> None:
    actor, as_at, teams = overview(demo_db, demo.first_manager, demo.clock)
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        top = header(app)
        assert actor.name in top and "team manager" in top and "Northgate" in top
        assert f"as at {as_at.isoformat()}" in top and "⚠" not in top
        table = app.screen.query_one("#teams", KeyedTable)
        (team,) = teams
        assert table.row_keys == [f"team:{team.id}"] + [f"adviser:{a.id}" for a in team.advisers]
        assert cells(table, f"team:{team.id}")[2:4] == [str(team.caseload), str(team.approaching)]
        for a in team.advisers:
            # The fifth column, the last conference, is tested in test_conference_screen.py.
            assert cells(table, f"adviser:{a.id}")[:4] == [f"  {a.name}", a.id, str(a.caseload), str(a.approaching)]
        shown = text(app.screen.query_one("#home-import", Static))
        assert f"demo-extract-3-{as_at.isoformat()}.csv" in shown


async def test_first_start_asks_who_you_are_and_remembers(make_app, demo, demo_db, config_dir) -> None:
    adviser_id = "A0001"
    actor, _, teams = overview(demo_db, adviser_id, demo.clock)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, IdentityScreen)
        assert "No one chosen yet" in header(app)
        table = app.screen.query_one("#staff", KeyedTable)
        # Grouped by team, the role in words.
        row = cells(table, f"staff:{adviser_id}")
        assert row[1:] == [actor.name, "adviser", adviser_id]
        await choose(pilot, table, f"staff:{adviser_id}")
        await pilot.press("enter")
        await settle(pilot)
        # An adviser's home is their own caseload, in place of the teams screen.
        assert isinstance(app.screen, CaseloadScreen) and app.screen.home
        assert [type(s) for s in app.screen_stack] == [CaseloadScreen]
        assert actor.name in header(app) and "adviser" in header(app)
        own = claims(demo_db, adviser_id, adviser_id, demo.clock)
        assert app.screen.query_one("#caseload", KeyedTable).row_keys == [c.claim_id for c in own]
    saved = json.loads((config_dir / config_mod.FILE_NAME).read_text())
    assert saved["identities"] == {describe(resolve_url(str(demo_db))): adviser_id}

    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(again.screen, CaseloadScreen) and again.screen.home
        assert not any(isinstance(s, IdentityScreen) for s in again.screen_stack)
        assert actor.name in header(again)


async def test_picker_groups_staff_by_team(make_app, demo_db, demo) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#staff", KeyedTable)
        rows = [cells(table, k) for k in table.row_keys]
    groups = [r[0] for r in rows if r[0]]
    assert groups == ["Northgate (office)", "Northgate Team A", "Northgate Team B", "Northgate Team C",
                      "Whole database"]
    assert {r[2] for r in rows} == {"adviser", "team manager", "team leader", "administrator"}


async def test_forgotten_staff_member_asks_again(make_app, demo_db, config_dir) -> None:
    key = describe(resolve_url(str(demo_db)))
    config_mod.save(config_dir / config_mod.FILE_NAME, config_mod.Config(identities={key: "GONE1"}))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, IdentityScreen)
        # On first choice there is nothing to go back to.
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, IdentityScreen)


def test_unknown_as_staff_is_a_sentence(make_app) -> None:
    with pytest.raises(StoreError, match="no staff member 'NOBODY'"):
        make_app(as_staff="NOBODY")


async def test_switch_identity_from_the_palette(make_app, demo, demo_db, config_dir) -> None:
    leader, _, teams = overview(demo_db, demo.leader, demo.clock)
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"switch")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, IdentityScreen)
        table = app.screen.query_one("#staff", KeyedTable)
        # The picker opens on whoever is acting now.
        assert table.cursor_key == f"staff:{demo.first_manager}"
        await choose(pilot, table, f"staff:{demo.leader}")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert leader.name in header(app) and "team leader" in header(app)
        home = app.screen.query_one("#teams", KeyedTable)
        assert [k for k in home.row_keys if k.startswith("team:")] == [f"team:{t.id}" for t in teams]
        assert len(teams) == 3
    saved = config_mod.load(config_dir / config_mod.FILE_NAME).config
    assert saved.identity_for(describe(resolve_url(str(demo_db)))) == demo.leader
    # On SQLite anyone may say who they are, so each switch is written to the audit.
    import sqlite3

    with sqlite3.connect(demo_db) as raw:
        switches = raw.execute("SELECT actor, old, new FROM audit WHERE action = 'switch_identity'").fetchall()
    assert switches == [(demo.first_manager, demo.first_manager, demo.leader)]


async def test_the_demo_reopens_as_the_person_chosen_last(make_app, demo, demo_db, config_dir) -> None:
    """`caseload demo` opens as the team manager the first time (run_app's default_staff), and after a
    switch, as whoever was chosen last on that database: the app is started again to see it."""
    leader, _, _ = overview(demo_db, demo.leader, demo.clock)
    manager, _, _ = overview(demo_db, demo.first_manager, demo.clock)
    first = make_app(default_staff=demo.first_manager)
    async with first.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert first.identity.actor.id == demo.first_manager and manager.name in header(first)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"identity", "enter")
        await settle(pilot)
        assert isinstance(first.screen, IdentityScreen)
        await choose(pilot, first.screen.query_one("#staff", KeyedTable), f"staff:{demo.leader}")
        await pilot.press("enter")
        await settle(pilot)
        assert leader.name in header(first)
    again = make_app(default_staff=demo.first_manager)
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert again.identity.actor.id == demo.leader
        assert isinstance(again.screen, HomeScreen) and leader.name in header(again)


# The frame


async def test_stale_data_is_said_in_words(make_app, demo) -> None:
    late = FixedClock.on(demo.as_at + dt.timedelta(days=12))
    app = make_app(as_staff=demo.first_manager, clock=late)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        data = app.screen.query_one("#frame-data", Static)
        assert "⚠ data 12 days old" in text(data)
        assert data.has_class("-stale")


async def test_a_week_old_is_not_stale(make_app, demo) -> None:
    week = FixedClock.on(demo.as_at + dt.timedelta(days=7))
    app = make_app(as_staff=demo.first_manager, clock=week)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "⚠" not in header(app)
        assert "(7 days old)" in header(app)


async def test_enter_on_adviser_opens_their_caseload_and_escape_returns(make_app, demo, demo_db) -> None:
    _, as_at, (team,) = overview(demo_db, demo.first_manager, demo.clock)
    adviser = team.advisers[2]
    expected = claims(demo_db, demo.first_manager, adviser.id, demo.clock)
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        home = app.screen.query_one("#teams", KeyedTable)
        await choose(pilot, home, f"adviser:{adviser.id}")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseloadScreen)
        table = app.screen.query_one("#caseload", KeyedTable)
        assert table.row_keys == [c.claim_id for c in expected]
        for c in (expected[0], expected[-1]):
            row = cells(table, c.claim_id)
            assert row[0] == f"{c.customer_name} {c.nino}" and row[2] == c.runway and row[3] == str(c.weeks)
        title = text(app.screen.query_one("#screen-title", Static))
        assert adviser.name in title and f"as at {as_at.isoformat()}" in title
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        assert app.screen.query_one("#teams", KeyedTable).cursor_key == f"adviser:{adviser.id}"


async def test_home_starts_on_the_first_adviser_and_a_team_total_opens_nothing(make_app, demo, demo_db) -> None:
    _, _, (team,) = overview(demo_db, demo.first_manager, demo.clock)
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#teams", KeyedTable)
        assert table.cursor_key == f"adviser:{team.advisers[0].id}"
        await choose(pilot, table, f"team:{team.id}")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_switching_identity_from_deeper_screens_returns_home(make_app, demo, demo_db) -> None:
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseloadScreen)
        app.action_switch_identity()
        await settle(pilot)
        table = app.screen.query_one("#staff", KeyedTable)
        await choose(pilot, table, "staff:A0001")
        await pilot.press("enter")
        await settle(pilot)
        # An adviser's home is their caseload: it replaces the teams screen at the bottom of the stack.
        assert [type(s) for s in app.screen_stack] == [CaseloadScreen]
        assert app.identity.actor.id == "A0001"
        expected = claims(demo_db, "A0001", "A0001", demo.clock)
        assert app.screen.query_one("#caseload", KeyedTable).row_keys == [c.claim_id for c in expected]
        # And back: a manager's home is the teams screen again.
        app.action_switch_identity()
        await settle(pilot)
        await choose(pilot, app.screen.query_one("#staff", KeyedTable), f"staff:{demo.first_manager}")
        await pilot.press("enter")
        await settle(pilot)
        assert [type(s) for s in app.screen_stack] == [HomeScreen]


@pytest.mark.parametrize("key", ["question_mark", "f1"])
async def test_help_opens_for_the_screen_and_escape_closes(make_app, demo, key) -> None:
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert text(app.screen.query_one("#help-title", Static)) == "Help: Teams and advisers"
        described = {keys: what for keys, what, _name in app.screen.keys}
        assert described["⏎"] == "Open caseload" and described["^q"] == "Quit"
        assert described["↓ j"] == "Cursor down"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)


async def test_ctrl_q_quits(make_app, demo) -> None:
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app._exit
    assert app.return_code == 0


async def test_q_quits_where_no_input_has_focus_only(make_app, demo) -> None:
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press("q", "question_mark")
        await settle(pilot)
        # Typed into the palette's search box: neither quit nor help.
        assert isinstance(app.screen, CommandPalette) and not app._exit
        assert app.screen.query_one("CommandInput").value == "q?"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert app._exit


# Themes


async def test_high_contrast_theme_is_registered_chosen_and_remembered(make_app, demo, config_dir) -> None:
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == DEFAULT_THEME
        theme = app.get_theme(HIGH_CONTRAST_THEME)
        assert (theme.background, theme.foreground, theme.accent) == ("#000000", "#ffffff", "#ffff00")
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"contrast")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert app.theme == HIGH_CONTRAST_THEME
    assert config_mod.load(config_dir / config_mod.FILE_NAME).config.theme == HIGH_CONTRAST_THEME
    again = make_app(as_staff=demo.first_manager, theme=None)
    assert again.theme == HIGH_CONTRAST_THEME


async def test_starting_theme_is_not_written_to_config(make_app, demo, config_dir) -> None:
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
    assert not (config_dir / config_mod.FILE_NAME).exists()


def test_no_color_is_respected(make_app, demo, monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    assert make_app(as_staff=demo.first_manager).no_color


# The config file


def test_config_round_trip_is_atomic_and_private(tmp_path) -> None:
    path = tmp_path / "sub" / config_mod.FILE_NAME
    config_mod.save(path, config_mod.Config(theme="nord").with_identity("sqlite:///x", "A1"))
    loaded = config_mod.load(path)
    assert loaded.problem is None
    assert loaded.config == config_mod.Config(theme="nord", identities={"sqlite:///x": "A1"})
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == [config_mod.FILE_NAME]  # no temporary file left


def test_unreadable_config_falls_back_with_a_sentence(tmp_path) -> None:
    path = tmp_path / config_mod.FILE_NAME
    path.write_text("{not json")
    loaded = config_mod.load(path)
    assert loaded.config == config_mod.Config()
    assert "could not be read" in loaded.problem


def test_config_dir_comes_from_the_environment(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(config_mod.ENV_VAR, str(tmp_path / "cfg"))
    assert config_mod.config_dir() == tmp_path / "cfg"
    assert config_mod.config_dir(tmp_path / "given") == tmp_path / "given"


def test_config_never_holds_a_database_password(tmp_path) -> None:
    key = describe(resolve_url("postgresql://clerk:s3cret@db.example/caseload"))
    assert "s3cret" not in key


async def test_a_database_failure_on_a_screen_is_said_in_the_stores_words(make_app, demo_db) -> None:
    """A driver error (here: the claims table gone under the app) reaches the screen as the store's
    sentence; the app keeps running and nothing is shown as if it were the caseload."""
    import sqlite3

    app = make_app(as_staff="A0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CaseloadScreen)
        other = sqlite3.connect(demo_db)
        other.execute("ALTER TABLE claim RENAME TO claim_elsewhere")
        other.commit()
        other.close()
        await pilot.press("ctrl+r")
        await settle(pilot)
        said = text(app.screen.query_one("#caseload-summary", Static))
        assert said.startswith("⚠ The database reported a problem (OperationalError: no such table")
        assert "tell whoever looks after the database" in said
        assert app.is_running
