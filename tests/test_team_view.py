"""The team view with Pilot, on the demo office: what a team manager and a team leader see, the keys
that switch cohort kind, benefit, periods and group, explain-this-number, context notes, the stale
data warning; and snapshots at 120x40.

Expected figures come from the store's own functions on the same database, never from guesses.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from rich.text import Text
from textual.widgets import Static, TabbedContent, TextArea

from caseload.clock import FixedClock
from caseload.measures.cohorts import CohortKind
from caseload.screens.team_view import ExplainScreen, NoteDialog, TeamViewScreen
from caseload.store import notes
from caseload.store.access import actor_for
from caseload.app import create_app
from caseload.store.offflow import OffflowQuery, offflow
from caseload.widgets.cohort_matrix import CohortMatrix
from caseload.widgets.table import KeyedTable
from test_app_support import config_dir, demo, demo_db, demo_office, make_app, open_screen, settle  # noqa: F401

SIZE = (120, 40)


def plain(widget: Static) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


def cell(matrix: CohortMatrix, row: int, col: int) -> str:
    value = matrix.get_cell_at((row, col))
    return value.plain if isinstance(value, Text) else str(value)


def store_rows(db: Path, staff_id: str, clock, **query):  # noqa: ANN001, ANN003, ANN201
    from caseload.store.db import open_database

    engine = open_database(str(db), clock)
    try:
        with engine.connect() as conn:
            actor = actor_for(conn, staff_id)
            return actor, offflow(conn, actor, OffflowQuery(**query))
    finally:
        engine.dispose()


async def open_team_view(pilot) -> TeamViewScreen:  # noqa: ANN001
    return await open_screen(pilot, TeamViewScreen)


def write_note(db: Path, staff_id: str, label: str, text: str, clock) -> None:  # noqa: ANN001
    from caseload.store.db import open_database, write

    engine = open_database(str(db), clock)
    try:
        with write(engine) as conn:
            actor = actor_for(conn, staff_id)
            notes.set_note(conn, clock, actor, actor.office_id, "reporting-month", label, text, None)
    finally:
        engine.dispose()


async def test_a_team_manager_sees_their_teams_cohorts_as_the_store_counts_them(make_app, demo, demo_db):
    _, result = store_rows(demo_db, demo.first_manager, demo.clock, group_by="team",
                           cohort=CohortKind.REPORTING_MONTH, last_n=12, benefit="JSA")
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_team_view(pilot)
        (team,) = {r.group for r in result.rows}
        assert plain(screen.query_one("#screen-title", Static)) == f"Team view · {team}"
        status = plain(screen.query_one("#team-status", Static))
        assert status.startswith("12 reporting months (c) · JSA (b) · as at 2026-11-06 (3 days old)")
        assert "rule set opte-2010" in status
        assert not screen.query_one("#team-groups", Static).display  # one team: nothing to switch between
        matrix = screen.query_one(CohortMatrix)
        assert matrix.row_count == 12
        assert [str(c.label) for c in matrix.ordered_columns] == ["Cohort", "13 weeks", "26 weeks", "52 weeks"]
        # Every cell as the store has it: count, truncated rate, Red or Green in words, interim, emp and OPtE.
        by_key = {(r.period.label, r.milestone_weeks): r for r in result.rows}
        for i, period in enumerate(result.periods):
            assert cell(matrix, i, 0) == period.label
            for j, w in enumerate((13, 26, 52), start=1):
                r = by_key[(period.label, w)]
                text = cell(matrix, i, j)
                first, second = text.split("\n")
                assert first.startswith(f"{r.offflows}/{r.cohort_size} {r.rate_pct}% ")
                assert ("✓ Green" in first) is (r.meets_target is True)
                assert ("✗ Red" in first) is (r.meets_target is False)
                assert ("interim" in first) is (r.status == "interim")
                assert second.endswith(f"OPtE {r.opte}")
                needs = r.status == "interim" and r.meets_target is False and r.still_needed <= r.not_yet_at
                assert second.startswith(f"need {r.still_needed} · ") is needs
        # The cursor starts on the latest cohort at 13 weeks, and the line below explains it in full.
        latest = by_key[(result.periods[-1].label, 13)]
        detail = plain(screen.query_one("#team-detail", Static))
        assert detail.startswith(f"{latest.period.label} ({latest.period.start.isoformat()} to "
                                 f"{latest.period.end.isoformat()}) · 13 weeks · {team} · as at 2026-11-06")
        assert f"{latest.offflows} of {latest.cohort_size} ended within 13 weeks: {latest.rate_pct}%" in detail
        mix = result.mix_of(latest)
        assert f"employment {mix[list(mix)[0]]} · other benefit" in detail
        assert f"OPtE {latest.opte}" in detail
        assert f"No context note on {latest.period.label}." in detail


async def test_keys_switch_cohort_kind_benefit_and_periods(make_app, demo, demo_db):
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_team_view(pilot)
        matrix = screen.query_one(CohortMatrix)
        await pilot.press("c")
        await settle(pilot)
        assert plain(screen.query_one("#team-status", Static)).startswith("12 calendar months (c) · JSA (b)")
        _, cm = store_rows(demo_db, demo.first_manager, demo.clock, group_by="team",
                           cohort=CohortKind.CALENDAR_MONTH, last_n=12, benefit="JSA")
        assert [cell(matrix, i, 0) for i in range(matrix.row_count)] == [p.label for p in cm.periods]
        await pilot.press("c")
        await settle(pilot)
        assert plain(screen.query_one("#team-status", Static)).startswith("12 quarters (c)")
        assert cell(matrix, matrix.row_count - 1, 0) == "2026-Q3"
        await pilot.press("c", "b")
        await settle(pilot)
        status = plain(screen.query_one("#team-status", Static))
        assert status.startswith("12 reporting months (c) · ESA (b)")
        # ESA has no expected level here: no Red or Green, and the line says why.
        assert "Red" not in cell(matrix, 0, 1) and "Green" not in cell(matrix, 0, 1)
        assert "(no expected level for this benefit mix)" in plain(screen.query_one("#team-detail", Static))
        await pilot.press("p")
        await settle(pilot)
        assert plain(screen.query_one("#team-status", Static)).startswith("24 reporting months (c) · ESA (b)")
        assert matrix.row_count == 24


async def test_explain_lists_exactly_the_claims_of_the_cell(make_app, demo, demo_db):
    app = make_app(as_staff=demo.first_manager)
    _, result = store_rows(demo_db, demo.first_manager, demo.clock, group_by="team",
                           cohort=CohortKind.REPORTING_MONTH, last_n=12, benefit="JSA")
    async with app.run_test(size=SIZE) as pilot:
        await open_team_view(pilot)
        # Up four cohorts and across to 26 weeks, then explain.
        await pilot.press("k", "k", "up", "up", "l")
        await pilot.press("e")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ExplainScreen)
        period = result.periods[-5]
        (row,) = [r for r in result.rows if r.period == period and r.milestone_weeks == 26]
        head = plain(modal.query_one("#explain-head", Static))
        assert head.startswith(f"Explain: {period.label} · 26 weeks · {row.group} · as at 2026-11-06")
        assert (f"{row.offflows} of the {row.cohort_size} claims that started from {period.start.isoformat()} to "
                f"{period.end.isoformat()} ended within 26 weeks ({row.rate_pct}%); {row.opte} count as OPtE.") in head
        assert "Rule set opte-2010: Off-flows potentially to employment" in head
        table = modal.query_one("#explain-table", KeyedTable)
        assert table.row_count == row.cohort_size
        counted = [k for k in table.row_keys if str(table.get_row(k)[6]) == "✓ counts"]
        assert len(counted) == row.offflows
        for key in counted[:5]:
            started, ended, days = (str(v) for v in table.get_row(key)[1:4])
            assert ended != "open" and int(days) <= 26 * 7
        # Destinations in words ("failed to sign on"), never the extract's codes.
        reasons = {str(table.get_row(k)[4]) for k in table.row_keys} - {"", "(none)"}
        assert reasons and not any("_" in r for r in reasons)
        await pilot.press("escape")
        assert isinstance(app.screen, TeamViewScreen)


async def test_a_team_leader_moves_between_the_office_and_its_teams_in_name_order(make_app, demo, demo_db):
    _, teams = store_rows(demo_db, demo.leader, demo.clock, group_by="team", cohort=CohortKind.REPORTING_MONTH,
                          last_n=12, benefit="JSA")
    _, office = store_rows(demo_db, demo.leader, demo.clock, group_by="office", cohort=CohortKind.REPORTING_MONTH,
                           last_n=12, benefit="JSA")
    names = sorted({r.group for r in teams.rows})
    (office_name,) = {r.group for r in office.rows}
    app = make_app(as_staff=demo.leader)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_team_view(pilot)
        groups = plain(screen.query_one("#team-groups", Static))
        assert groups == "Group (g): ▸ " + " · ".join([f"{office_name} (whole office)", *names])
        assert plain(screen.query_one("#screen-title", Static)) == f"Team view · {office_name} (whole office)"
        matrix = screen.query_one(CohortMatrix)
        # The office row pools its teams: the sum of their counts, never an average of their rates.
        last = teams.periods[-1]
        pooled = [sum(r.offflows for r in teams.rows if r.period == last and r.milestone_weeks == 13),
                  sum(r.cohort_size for r in teams.rows if r.period == last and r.milestone_weeks == 13)]
        assert cell(matrix, 11, 1).startswith(f"{pooled[0]}/{pooled[1]} ")
        await pilot.press("g")
        assert plain(screen.query_one("#screen-title", Static)) == f"Team view · {names[0]}"
        assert plain(screen.query_one("#team-groups", Static)).endswith(f"▸ {names[0]} · {names[1]} · {names[2]}")
        await pilot.press("G", "G")
        assert plain(screen.query_one("#screen-title", Static)) == f"Team view · {names[-1]}"
        # The per-adviser figures are for the team manager alone.
        await pilot.press("3")
        assert screen.query_one(TabbedContent).active == "cohorts"


async def test_the_team_manager_sees_each_adviser_in_name_order(make_app, demo, demo_db):
    from caseload.store.caseload import summary
    from caseload.store.db import open_database

    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_team_view(pilot)
        await pilot.press("3")
        assert screen.query_one(TabbedContent).active == "advisers"
        table = screen.query_one("#team-advisers", KeyedTable)
        names = [str(table.get_row(k)[0]) for k in table.row_keys]
        assert names == sorted(names, key=str.casefold) and len(names) == 8
        first = table.row_keys[0]
        engine = open_database(str(demo_db), demo.clock)
        with engine.connect() as conn:
            s = summary(conn, actor_for(conn, demo.first_manager), dt.date(2026, 11, 6), first)
        engine.dispose()
        row = [str(v) for v in table.get_row(first)]
        assert row[1:4] == [str(s.size), f"R {s.red} · A {s.amber} · G {s.green} · – {s.unrated}",
                            f"{s.approaching[13]} / {s.approaching[26]} / {s.approaching[52]}"]
        assert row[6] == "none final yet"  # no cohort of these 12 months has reached 52 weeks
        note = plain(screen.query_one("#advisers-note", Static))
        assert note.startswith("Ordered by name.")


async def test_a_context_note_is_written_shown_and_kept_to_managers_and_leaders(make_app, demo, demo_db):
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_team_view(pilot)
        await pilot.press("n")
        assert isinstance(app.screen, NoteDialog)
        app.screen.query_one(TextArea).text = "Warehouse closure: 300 jobs lost locally"
        await pilot.press("ctrl+s")
        await settle(pilot)
        detail = plain(screen.query_one("#team-detail", Static))
        assert detail.endswith("Note on 2026-10 (Northgate, M001): Warehouse closure: 300 jobs lost locally")
    with app.engine.connect() as conn:
        leader = actor_for(conn, demo.leader)
        (saved,) = notes.list_notes(conn, leader)
    assert (saved.period_label, saved.cohort_kind, saved.author) == ("2026-10", "reporting-month", "M001")

    adviser = make_app(as_staff="A0001")
    async with adviser.run_test(size=SIZE) as pilot:
        screen = await open_team_view(pilot)
        assert plain(screen.query_one("#team-detail", Static)).endswith(
            "Note on 2026-10 (Northgate, M001): Warehouse closure: 300 jobs lost locally")
        await pilot.press("n")
        assert isinstance(adviser.screen, TeamViewScreen)


async def test_an_extract_more_than_7_days_old_carries_a_warning(make_app):
    app = make_app(as_staff="M001", clock=FixedClock.on(dt.date(2026, 11, 16)))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_team_view(pilot)
        status = screen.query_one("#team-status", Static)
        assert "as at 2026-11-06 ⚠ extract 10 days old" in plain(status)
        assert status.has_class("-stale")


# Snapshots: layout only, behaviour is asserted above.


def _with_note(demo_db, demo) -> None:  # noqa: ANN001
    write_note(demo_db, demo.first_manager, "2026-10", "New distribution centre opened: 120 jobs, most filled "
               "by our customers in week 3", demo.clock)


def test_snapshot_team_view_as_team_manager(snap_compare, make_app, demo, demo_db) -> None:
    _with_note(demo_db, demo)
    assert snap_compare(make_app(as_staff=demo.first_manager), terminal_size=SIZE, run_before=open_team_view)


def test_snapshot_team_view_as_team_leader(snap_compare, make_app, demo) -> None:
    assert snap_compare(make_app(as_staff=demo.leader), terminal_size=SIZE, run_before=open_team_view)


def test_snapshot_team_view_trend(snap_compare, make_app, demo) -> None:
    async def trend(pilot) -> None:  # noqa: ANN001
        await open_team_view(pilot)
        await pilot.press("2")
        await settle(pilot)

    assert snap_compare(make_app(as_staff=demo.first_manager), terminal_size=SIZE, run_before=trend)


def test_snapshot_team_view_advisers(snap_compare, make_app, demo) -> None:
    async def advisers(pilot) -> None:  # noqa: ANN001
        await open_team_view(pilot)
        await pilot.press("3")
        await settle(pilot)

    assert snap_compare(make_app(as_staff=demo.first_manager), terminal_size=SIZE, run_before=advisers)


def test_snapshot_explain(snap_compare, make_app, demo) -> None:
    async def explain(pilot) -> None:  # noqa: ANN001
        await open_team_view(pilot)
        await pilot.press("k", "k", "k", "k", "k", "k", "l")
        await pilot.press("e")
        await settle(pilot)

    assert snap_compare(make_app(as_staff=demo.first_manager), terminal_size=SIZE, run_before=explain)


async def test_home_v_and_the_palette_open_the_team_view(demo_db, demo, tmp_path):
    """The team view is one key from the team screen, and in the palette for everyone."""
    app = create_app(str(demo_db), demo.first_manager, demo.clock, config_dir=tmp_path, theme="textual-dark")
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, TeamViewScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, TeamViewScreen)
        assert "Team view" in [c.title for c in app.get_system_commands(app.screen)]


async def test_x_exports_what_the_team_view_shows_to_the_format_its_name_gives(make_app, demo, demo_db, tmp_path,
                                                                              monkeypatch):
    """x, then enter: the figures on screen (JSA, 12 reporting months, by team) in an XLSX workbook in the
    current folder, and a line saying where; a name ending in .csv writes CSV and its metadata; an ending that
    is no format is refused in the dialog, which stays open."""
    import csv
    import json

    from openpyxl import load_workbook
    from textual.widgets import Input

    from caseload.screens.dialogs import ExportDialog

    monkeypatch.chdir(tmp_path)
    _, result = store_rows(demo_db, demo.first_manager, demo.clock, group_by="team",
                           cohort=CohortKind.REPORTING_MONTH, last_n=12, benefit="JSA")
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        await open_team_view(pilot)
        await pilot.press("x")
        await settle(pilot)
        assert isinstance(app.screen, ExportDialog)
        title = plain(app.screen.query_one("#export-title", Static))
        assert "by team as on screen: JSA, 12 reporting months, milestones 13w, 26w, 52w" in title
        path = tmp_path / f"offflow-team-jsa-{result.as_at.isoformat()}.xlsx"
        assert app.screen.query_one(Input).value == str(path)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, TeamViewScreen)
        said = [n.message for n in app._notifications]  # noqa: SLF001
        assert said[-1] == f"Wrote {len(result.rows)} rows (XLSX) to {path}."
        sheet = load_workbook(path).worksheets[0]
        assert sheet.max_row - 1 >= len(result.rows) > 0
        # The same, as CSV: typed over the proposed name.
        await pilot.press("x")
        await settle(pilot)
        app.screen.query_one(Input).value = ""
        await pilot.press(*"figures.txt", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ExportDialog)  # not a format: said, and the dialog stays
        assert "CSV" in plain(app.screen.query_one("#export-message", Static))
        app.screen.query_one(Input).value = ""
        await pilot.press(*"figures.csv", "enter")
        await app.workers.wait_for_complete()
        await settle(pilot)
        with open(tmp_path / "figures.csv", newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert len(rows) == len(result.rows)
        assert {r["group"] for r in rows} == {r.group for r in result.rows}
        assert [r["offflows"] for r in rows] == [str(r.offflows) for r in result.rows]
        meta = json.loads((tmp_path / "figures.csv.meta.json").read_text(encoding="utf-8"))
        assert "JSA" in json.dumps(meta)
        assert [n.message for n in app._notifications][-1].endswith("its metadata in figures.csv.meta.json.")  # noqa: SLF001
        # A folder that cannot be written: said, with what to do, and nothing written.
        (tmp_path / "afile").write_text("", encoding="utf-8")
        await pilot.press("x")
        await settle(pilot)
        app.screen.query_one(Input).value = ""
        await pilot.press(*str(tmp_path / "afile" / "out.csv"), "enter")
        await app.workers.wait_for_complete()
        await settle(pilot)
        said = list(app._notifications)[-1]  # noqa: SLF001
        assert said.message.startswith("Could not write ") and said.message.endswith("Choose another folder or name.")
        assert said.severity == "error" and (tmp_path / "afile").read_text(encoding="utf-8") == ""
