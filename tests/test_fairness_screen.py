"""The fairness screen with Pilot on the demo office: what a team manager, a team leader and an adviser see,
the tabs, the window and grouping keys, the ways in (f on the team view, the palette); and a snapshot of
each tab at 120x40.

Expected figures come from the store's own functions on the same database.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from rich.text import Text
from textual.widgets import Static, TabbedContent

from caseload.screens.fairness import TABS, FairnessScreen
from caseload.screens.team_view import TeamViewScreen
from caseload.store import fairness
from caseload.store.access import actor_for
from caseload.widgets.table import KeyedTable
from test_app_support import config_dir, demo, demo_db, demo_office, make_app, open_screen, settle  # noqa: F401

SIZE = (120, 40)


def plain(widget: Static) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


def column(table: KeyedTable, index: int) -> list[str]:
    out = []
    for key in table.row_keys:
        v = table.get_row(key)[index]
        out.append(v.plain if isinstance(v, Text) else str(v))
    return out


def store(db: Path, clock, staff_id: str, fn, **q):  # noqa: ANN001, ANN003, ANN201
    from caseload.store.db import open_database

    engine = open_database(str(db), clock)
    try:
        with engine.connect() as conn:
            return fn(conn, actor_for(conn, staff_id), fairness.FairnessQuery(**q))
    finally:
        engine.dispose()


async def open_fairness(pilot) -> FairnessScreen:  # noqa: ANN001
    return await open_screen(pilot, FairnessScreen)


def first_adviser(db: Path, clock, team_manager: str) -> tuple[str, str]:  # noqa: ANN001
    r = store(db, clock, team_manager, fairness.attention, by="adviser")
    from caseload.store.db import open_database
    from sqlalchemy import select

    from caseload.store import schema

    engine = open_database(str(db), clock)
    try:
        with engine.connect() as conn:
            st = schema.Staff.__table__
            sid = conn.execute(select(st.c.id).where(st.c.name == r.groups[0].group)).scalar()
    finally:
        engine.dispose()
    return sid, r.groups[0].group


async def test_a_team_manager_sees_each_adviser_and_the_team_as_the_store_counts_them(make_app, demo, demo_db):
    expected = store(demo_db, demo.clock, demo.first_manager, fairness.attention, by="adviser")
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_fairness(pilot)
        assert plain(screen.query_one("#screen-title", Static)) == "Fairness · per adviser · last 28 days"
        assert plain(screen.query_one("#fairness-status", Static)).startswith("as at 2026-11-06 · last 28 days (w)")
        share = screen.query_one("#fx-milestones", KeyedTable)
        assert column(share, 0) == [g.group for g in expected.groups]  # name order, then the team
        assert column(share, 3) == [f"{g.total.near_contact_share_pct}%" for g in expected.groups]
        assert column(share, 4) == [f"{g.total.near_caseload_share_pct}%" for g in expected.groups]
        # Every tab has something to show on the demo office.
        for key, _ in TABS:
            tables = screen.query(f"#fairness-{key} KeyedTable")
            assert tables and all(t.row_count > 0 for t in tables if t.id != "fx-referrals"), key


async def test_the_window_key_changes_the_figures_and_the_grouping_key_the_rows(make_app, demo, demo_db):
    wide = store(demo_db, demo.clock, demo.first_manager, fairness.attention, by="adviser", window=91)
    team = store(demo_db, demo.clock, demo.first_manager, fairness.attention, by="team")
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_fairness(pilot)
        before = column(screen.query_one("#fx-milestones", KeyedTable), 1)
        await pilot.press("w")
        await settle(pilot)
        assert plain(screen.query_one("#fairness-status", Static)).startswith("as at 2026-11-06 · last 91 days (w)")
        after = column(screen.query_one("#fx-milestones", KeyedTable), 1)
        assert after == [str(g.total.contacts) for g in wide.groups] and after != before
        await pilot.press("w", "g")
        await settle(pilot)
        assert column(screen.query_one("#fx-milestones", KeyedTable), 0) == [g.group for g in team.groups]


async def test_tabs_switch_with_number_keys(make_app, demo):
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_fairness(pilot)
        tabs = screen.query_one(TabbedContent)
        for i, (key, _) in enumerate(TABS, start=1):
            await pilot.press(str(i))
            await pilot.pause()
            assert tabs.active == key


async def test_a_team_leader_sees_teams_and_the_office(make_app, demo, demo_db):
    expected = store(demo_db, demo.clock, demo.leader, fairness.attention, by="team")
    app = make_app(as_staff=demo.leader)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_fairness(pilot)
        names = column(screen.query_one("#fx-milestones", KeyedTable), 0)
        assert names == [g.group for g in expected.groups]
        assert names[-1] == "Northgate" and len(names) == 4
        await pilot.press("g")
        await settle(pilot)
        assert column(screen.query_one("#fx-milestones", KeyedTable), 0) == ["Northgate"]
        await pilot.press("g")  # back to teams: a team leader is never offered per-adviser rows
        await settle(pilot)
        assert column(screen.query_one("#fx-milestones", KeyedTable), 0) == names


async def test_an_adviser_sees_no_other_advisers_rows(make_app, demo, demo_db):
    adviser, name = first_adviser(demo_db, demo.clock, demo.first_manager)
    red = store(demo_db, demo.clock, adviser, fairness.red_without_plan, by="adviser")
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_fairness(pilot)
        groups = column(screen.query_one("#fx-milestones", KeyedTable), 0)
        assert groups[0] == name and len(groups) == 2  # their own row, then their team's total
        listed = screen.query_one("#fx-red-list", KeyedTable)
        assert column(listed, 1) == [ln.claim_id for ln in red.lines]
        assert set(column(listed, 3)) <= {adviser}
        assert set(column(screen.query_one("#fx-beyond-list", KeyedTable), 0)) <= {name}


async def test_f_on_the_team_view_and_the_palette_open_it(make_app, demo):
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.push_screen(TeamViewScreen())
        await settle(pilot)
        await pilot.press("f")
        await settle(pilot)
        assert isinstance(app.screen, FairnessScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, TeamViewScreen)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Fairness")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, FairnessScreen)


def on_screen(app) -> str:  # noqa: ANN001
    """The screen's text as drawn (the screenshot's text), its lines and spaces run together."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", app.export_screenshot())).split())


def shown_rows(screen: FairnessScreen, key: str, table: KeyedTable) -> int:
    """The table's rows in sight: its region within its tab's box, less the header."""
    box = screen.query_one(f"#fairness-{key}")
    return table.region.intersection(box.region).height - table.header_height - table.scrollbar_size_horizontal


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_the_red_list_uses_the_tabs_height_and_says_n_of_m_when_cut(make_app, demo, demo_db, size):
    full = store(demo_db, demo.clock, demo.first_manager, fairness.red_without_plan, by="adviser")
    adviser, _ = first_adviser(demo_db, demo.clock, demo.first_manager)
    own = store(demo_db, demo.clock, adviser, fairness.red_without_plan, by="adviser")
    assert len(full.lines) == full.count > len(own.lines) > 0  # the demo office: a manager sees all, an adviser theirs
    for who, r in ((demo.first_manager, full), (adviser, own)):
        app = make_app(as_staff=who)
        async with app.run_test(size=size) as pilot:
            screen = await open_fairness(pilot)
            await pilot.press("2")
            await settle(pilot)
            listed = screen.query_one("#fx-red-list", KeyedTable)
            assert listed.row_count == len(r.lines)
            assert shown_rows(screen, "red", listed) >= min(len(r.lines), 4 if size == (80, 24) else 12), who
            counts = screen.query_one("#fx-red-counts", KeyedTable)
            assert shown_rows(screen, "red", counts) >= min(counts.row_count, 4)
            cut = f"{len(r.lines)} of {r.count} shown" if len(r.lines) < r.count else str(r.count)
            heading = f"Red without a plan update for more than 62 days: {cut}"
            drawn = on_screen(app)
            assert heading in drawn, who
            assert ("Only the claims you may open are listed." in drawn) == (len(r.lines) < r.count)


@pytest.mark.parametrize("key", [k for k, _ in TABS])
def test_snapshot_tab(snap_compare, make_app, demo, key) -> None:
    index = [k for k, _ in TABS].index(key) + 1

    async def show(pilot) -> None:  # noqa: ANN001
        await open_fairness(pilot)
        await pilot.press(str(index))
        await settle(pilot)

    assert snap_compare(make_app(as_staff=demo.first_manager), terminal_size=SIZE, run_before=show)


async def test_x_exports_the_tab_on_screen(make_app, demo, demo_db, tmp_path, monkeypatch):
    """x on the beyond-52 tab writes the beyond-52 export at the screen's grouping and window (CSV beside its
    metadata) in the current folder, customers by claim id, and says where; the Red list has no export and
    says which tabs do; XLSX, which a fairness export is not written as, is refused in the dialog."""
    import csv
    import json

    from textual.widgets import Input

    from caseload.screens.dialogs import ExportDialog

    monkeypatch.chdir(tmp_path)
    beyond = store(demo_db, demo.clock, demo.first_manager, fairness.beyond_52, by="adviser")
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        await open_fairness(pilot)
        await pilot.press("2", "x")
        await settle(pilot)
        assert isinstance(app.screen, FairnessScreen)
        assert "x exports the attention, beyond 52" in [n.message for n in app._notifications][-1]  # noqa: SLF001
        await pilot.press("3", "x")
        await settle(pilot)
        assert isinstance(app.screen, ExportDialog)
        assert "Beyond 52 weeks per adviser, 28-day window" in plain(app.screen.query_one("#export-title", Static))
        field = app.screen.query_one(Input)
        path = Path(field.value)
        assert path.parent == tmp_path and path.name.startswith("fairness-beyond52-adviser-") and path.suffix == ".csv"
        field.value = str(tmp_path / "beyond.xlsx")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ExportDialog) and not (tmp_path / "beyond.xlsx").exists()
        assert "CSV" in plain(app.screen.query_one("#export-message", Static))
        field.value = str(path)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await settle(pilot)
        assert isinstance(app.screen, FairnessScreen)
        said = [n.message for n in app._notifications][-1]  # noqa: SLF001
        assert said.startswith("Wrote Beyond 52 weeks (") and str(path) in said and said.endswith(".meta.json.")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows and len(rows) >= len(beyond.lines)
    assert {r["claim_id"] for r in rows if r.get("claim_id")} >= {ln.claim_id for ln in beyond.lines}
    written = path.read_text(encoding="utf-8")
    assert beyond.lines and not any(ln.customer_name and ln.customer_name in written for ln in beyond.lines)
    meta = json.loads(path.with_name(path.name + ".meta.json").read_text(encoding="utf-8"))
    assert meta
