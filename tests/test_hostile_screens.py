"""Hostile names and notes on screen: Rich markup, HTML, formulas, right-to-left and very long text show as
the literal text in the caseload, the customer record, the conference item and the palette; terminal
control characters (written by some other client straight into the database) show as visible pictures
and never reach the terminal."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from caseload.app import create_app
from caseload.clock import FixedClock
from caseload.screens.caseload import CaseloadScreen
from caseload.screens.conference import ConferenceScreen
from caseload.screens.customer import CustomerScreen
from caseload.store import conference, records, staff
from caseload.store.access import ADMIN, actor_for
from caseload.store.db import open_database, write
from caseload.store.importer import import_claims
from caseload.widgets.literal import visible
from extracts import row, write_extract
from test_app_support import settle

AS_AT = dt.date(2026, 5, 1)
TODAY = dt.date(2026, 5, 11)
SIZE = (160, 40)

NAMES = ["[bold red]Eve[/]", "[/] Eve", '=HYPERLINK("http://x.example")', "<b>O'Brien</b> & Co", "שלום עולם Eve",
         "W" * 120]
# Not importable (the importer refuses control characters): written as another client might.
CONTROL_NAMES = ["\x1b]52;c;aGVsbG8=\x07Eve", "\x1b[2JEve\x1b[31m"]


def _office(root: Path, name: str) -> Path:
    db = root / "office.sqlite3"
    engine = open_database(str(db), FixedClock.on(AS_AT))
    safe = "Placeholder Name" if name in CONTROL_NAMES else name
    # 85 days on benefit on the conference date: approaching 13 weeks, so on the agenda.
    rows = [row("C1", customer_name=safe, claim_start=(TODAY - dt.timedelta(days=85)).isoformat(), adviser_name=safe),
            row("C2", customer_name="Another Customer", claim_start="2026-01-05", adviser_name=safe)]
    import_claims(engine, write_extract(root / "x.csv", rows), as_at=AS_AT, actor=ADMIN, clock=FixedClock.on(AS_AT))
    with write(engine) as conn:
        staff.add(conn, FixedClock.on(TODAY), ADMIN, "M1", "Grace Holloway", "team_manager", team="Team A")
        records.set_rag(conn, FixedClock.on(TODAY), ADMIN, "C1", "R", f"reason {name}")
        if name in CONTROL_NAMES:
            conn.execute(text("UPDATE customer SET name = :n WHERE id = 'P1'"), {"n": name})
    engine.dispose()
    return db


def _screen_text(app) -> str:  # noqa: ANN001
    svg = app.export_screenshot()
    assert "\x1b" not in svg and "\x07" not in svg  # nothing reaches the terminal as a control
    plain = html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<style.*?</style>|<defs.*?</defs>", "", svg, flags=re.S)))
    return re.sub(r"\s+", "", plain)


def _squeezed(value: str) -> str:
    return re.sub(r"\s+", "", visible(value))


def _app(tmp_path: Path, name: str, as_staff: str):  # noqa: ANN202
    db = _office(tmp_path, name)
    return create_app(str(db), as_staff, FixedClock.on(TODAY), config_dir=tmp_path / "config", theme="textual-dark")


@pytest.mark.parametrize("name", NAMES + CONTROL_NAMES)
async def test_the_caseload_and_the_customer_record_show_names_literally(tmp_path, name) -> None:
    app = _app(tmp_path, name, "A1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CaseloadScreen)
        shown = _screen_text(app)
        # A long name is cut to its column; the start of it is there, as typed.
        assert _squeezed(name)[:30] in shown
        assert "Another" in shown  # the rest of the table is drawn too
        await pilot.press("home", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        shown = _screen_text(app)
        assert _squeezed(name)[:30] in shown
        assert _squeezed(f"reason {name}")[:30] in shown
        if name in CONTROL_NAMES:
            assert "␛" in shown


@pytest.mark.parametrize("name", [NAMES[0], NAMES[1], NAMES[3]])
async def test_the_teams_screen_shows_an_advisers_name_literally(tmp_path, name) -> None:
    app = _app(tmp_path, name, "M1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert _squeezed(name)[:30] in _screen_text(app)


@pytest.mark.parametrize("name", [NAMES[0], NAMES[3], CONTROL_NAMES[0]])
async def test_the_conference_item_shows_names_literally(tmp_path, name) -> None:
    app = _app(tmp_path, name, "M1")
    with app.engine.connect() as conn:
        manager = actor_for(conn, "M1", TODAY)
    with write(app.engine) as conn:
        conference_id = conference.start_or_resume(conn, FixedClock.on(TODAY), manager, "A1", TODAY)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(ConferenceScreen(conference_id))
        await settle(pilot)
        shown = _screen_text(app)
        assert _squeezed(name)[:30] in shown


@pytest.mark.parametrize("name", [NAMES[0], NAMES[1], CONTROL_NAMES[1]])
async def test_the_palette_shows_names_literally(tmp_path, name) -> None:
    app = _app(tmp_path, name, "A1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"C1")
        await settle(pilot)
        await pilot.pause(0.3)
        await settle(pilot)
        assert _squeezed(name)[:30] in _screen_text(app)


async def test_a_notification_carrying_markup_is_never_read_as_markup(tmp_path) -> None:
    app = _app(tmp_path, NAMES[0], "A1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.notify("Moved [bold red]Eve[/] and \x1b[2J", timeout=30)
        await pilot.pause(0.3)
        await settle(pilot)
        (note,) = list(app._notifications)  # noqa: SLF001
        assert (note.message, note.markup) == ("Moved [bold red]Eve[/] and ␛[2J", False)
        # The toast draws the message with markup off: the words are shown as they are.
