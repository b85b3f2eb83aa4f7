"""The caseload screen, my actions, switching adviser and finding customers, with Pilot on the demo office.

Expected rows, counts and orders come from the store's own functions on the same database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from sqlalchemy import text as sql
from textual.command import CommandList, CommandPalette
from textual.widgets import DataTable, Input, Static

from caseload.screens.actions import MyActionsScreen
from caseload.screens.caseload import CaseloadScreen, PageResult
from caseload.screens.customer import CustomerScreen
from caseload.screens.dialogs import AdviserChooser
from caseload.screens.home import HomeScreen
from caseload.store.access import actor_for
from caseload.store.caseload import CaseloadPage, CaseloadQuery, caseload
from caseload.store.customer import CustomerHit, MyAction, find_customers, my_actions
from caseload.store.info import latest_import, office_overview
from caseload.widgets.table import KeyedTable
from test_app_support import config_dir, demo, demo_db, demo_office, make_app, settle  # noqa: F401

SIZE = (120, 30)
SHORT_FLAGS = {"approaching": "appr", "just passed": "passed", "review due": "review", "red no plan": "red!",
               "beyond 52": "52+", "churn": "churn"}


# Reading what the store says


def with_store(db: Path, clock, staff_id: str, fn: Callable[..., Any]) -> Any:  # noqa: ANN001
    """fn(conn, actor, as_at) on this test's database, as staff_id, at the latest import's date."""
    from caseload.store.db import open_database

    engine = open_database(str(db), clock)
    try:
        with engine.connect() as conn:
            return fn(conn, actor_for(conn, staff_id), latest_import(conn).as_at)
    finally:
        engine.dispose()


def store_page(db: Path, clock, staff_id: str, **query: Any) -> CaseloadPage:  # noqa: ANN001
    return with_store(db, clock, staff_id, lambda conn, actor, as_at: caseload(conn, actor, as_at,
                                                                              CaseloadQuery(**query)))


def store_hits(db: Path, clock, staff_id: str, text: str) -> list[CustomerHit]:  # noqa: ANN001
    return with_store(db, clock, staff_id, lambda conn, actor, _: find_customers(conn, actor, text))


def store_actions(db: Path, clock, staff_id: str) -> list[MyAction]:  # noqa: ANN001
    return with_store(db, clock, staff_id, lambda conn, actor, _: my_actions(conn, actor, clock.today()))


def query_db(db: Path, statement: str, **params: Any) -> list:
    from caseload.clock import FixedClock
    from caseload.store.db import open_database

    engine = open_database(str(db), FixedClock.on(dt.date(2026, 1, 1)))
    try:
        with engine.connect() as conn:
            return conn.execute(sql(statement), params).all()
    finally:
        engine.dispose()


def rich_adviser(db: Path) -> str:
    """The adviser with the most notes: the demo writes notes, contacts and actions on one team only."""
    return query_db(db, "SELECT c.adviser_id FROM note n JOIN claim c ON c.id = n.claim_id "
                        "GROUP BY c.adviser_id ORDER BY count(*) DESC, c.adviser_id LIMIT 1")[0][0]


# Reading what the user sees


def plain(value: Any) -> str:
    return value.plain if isinstance(value, Text) else str(value)


def shown(widget: Static) -> str:
    return plain(widget.content)


def cells(table: DataTable, key: str) -> list[str]:
    return [plain(c) for c in table.get_row(key)]


def title(app) -> str:  # noqa: ANN001
    return shown(app.screen.query_one("#screen-title", Static))


def keys(page: CaseloadPage) -> list[str]:
    return [r.claim_id for r in page.rows]


def caseload_table(app) -> KeyedTable:  # noqa: ANN001
    return app.screen.query_one("#caseload", KeyedTable)


async def choose(pilot, table: KeyedTable, key: str) -> None:  # noqa: ANN001
    """Move the cursor to the row keyed `key` with the arrow keys, as a user would."""
    table.focus()
    target = table.row_keys.index(key)
    while table.cursor_row < target:
        await pilot.press("down")
    while table.cursor_row > target:
        await pilot.press("up")
    assert table.cursor_key == key


def keys_for(typed: str) -> list[str]:
    return ["space" if ch == " " else ch for ch in typed]


async def palette_command(pilot, words: str) -> None:  # noqa: ANN001
    await pilot.press("ctrl+p")
    await settle(pilot)
    await pilot.press(*keys_for(words))
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def find_customer(pilot, query: str, via_palette: bool = False) -> list[str]:  # noqa: ANN001
    """Open "Find customer" (f on the caseload, or the palette's command) and type query;
    the hits' texts, best first."""
    if via_palette:
        await palette_command(pilot, "find cu")
    else:
        await pilot.press("f")
        await settle(pilot)
    assert isinstance(pilot.app.screen, CommandPalette)
    await pilot.press(*keys_for(query))
    await settle(pilot)
    options = pilot.app.screen.query_one(CommandList)
    return [str(options.get_option_at_index(i).hit.text) for i in range(options.option_count)
            if hasattr(options.get_option_at_index(i), "hit")]


# The caseload


async def test_an_advisers_home_is_their_caseload_most_urgent_first(make_app, demo, demo_db) -> None:
    adviser = rich_adviser(demo_db)
    page = store_page(demo_db, demo.clock, adviser, adviser_id=adviser)
    as_at = with_store(demo_db, demo.clock, adviser, lambda conn, actor, as_at: as_at)
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CaseloadScreen) and app.screen.home
        table = caseload_table(app)
        assert table.row_keys == keys(page) and len(page.rows) == page.total
        for r in page.rows:
            row = cells(table, r.claim_id)
            assert row[0] == f"{r.customer_name} {r.nino}"
            assert row[1].strip() == (r.rag or "–")  # the letter always; a dash, never a blank
            # The next action before the flags (which the runway, weeks and RAG already say).
            assert row[2:4] == [r.runway, str(r.weeks)] and row[5] == " ".join(SHORT_FLAGS[f] for f in r.flags)
            if r.next_action:
                assert row[4].startswith(r.next_action_due.isoformat()) and r.next_action[:10] in row[4]
                # Overdue against the app's clock, as in My actions.
                assert ("overdue" in row[4]) == (r.next_action_due < demo.clock.today())
            else:
                assert row[4] == "—"
            assert row[6] == (r.last_contact.isoformat() if r.last_contact else "—")
            assert row[7:9] == [r.benefit, r.claim_start.isoformat()]
        s = page.summary
        assert shown(app.screen.query_one("#caseload-summary", Static)) == (
            f"{s.size} open · R {s.red} A {s.amber} G {s.green} unrated {s.unrated} · approaching "
            f"13w {s.approaching[13]} 26w {s.approaching[26]} 52w {s.approaching[52]} · beyond 52: {s.beyond_52}")
        assert s.red + s.amber + s.green + s.unrated == s.size == len(page.rows)
        assert title(app).startswith("Your caseload") and "sorted by urgency ↑" in title(app)
        assert f"as at {as_at.isoformat()}" in title(app)
        # Escape at home goes nowhere (there is nothing under an adviser's home).
        await pilot.press("escape")
        await settle(pilot)
        assert [type(s) for s in app.screen_stack] == [CaseloadScreen]


async def test_quick_filters_show_the_stores_rows(make_app, demo, demo_db) -> None:
    adviser = rich_adviser(demo_db)
    size = store_page(demo_db, demo.clock, adviser, adviser_id=adviser).summary.size
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key, quick in (("a", "approaching"), ("r", "red"), ("v", "review due"), ("b", "beyond 52"),
                           ("x", "all"), ("r", "red"), ("asterisk", "all")):
            await pilot.press(key)
            await settle(pilot)
            page = store_page(demo_db, demo.clock, adviser, adviser_id=adviser, quick=quick)
            assert caseload_table(app).row_keys == keys(page), quick
            assert shown(app.screen.query_one("#caseload-showing", Static)) == \
                f"showing: {quick} · {page.total} of {size}"
            if quick != "all":
                assert 0 < page.total < size, quick  # each filter really filters this caseload


async def test_slash_filters_as_you_type_and_escape_clears(make_app, demo, demo_db) -> None:
    adviser = rich_adviser(demo_db)
    every = store_page(demo_db, demo.clock, adviser, adviser_id=adviser)
    someone = every.rows[len(every.rows) // 2]
    name = someone.customer_name.split()[-1][:4]
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press(*name)
        await settle(pilot)
        expected = store_page(demo_db, demo.clock, adviser, adviser_id=adviser, text=name)
        assert caseload_table(app).row_keys == keys(expected)
        assert someone.claim_id in keys(expected) and len(expected.rows) < len(every.rows)
        # Escape clears the filter and gives the table the keys back.
        await pilot.press("escape")
        await settle(pilot)
        assert app.focused is caseload_table(app)
        assert app.screen.query_one("#caseload-filter", Input).value == ""
        assert caseload_table(app).row_keys == keys(every)
        # The end of an NI number finds the customer; enter in the filter goes back to the table.
        await pilot.press("slash", *someone.nino[-3:], "enter")
        await settle(pilot)
        assert app.focused is caseload_table(app)
        expected = store_page(demo_db, demo.clock, adviser, adviser_id=adviser, text=someone.nino[-3:])
        assert caseload_table(app).row_keys == keys(expected) and someone.claim_id in keys(expected)


async def test_an_older_answer_never_overwrites_a_newer_one(make_app, demo, demo_db) -> None:
    adviser = rich_adviser(demo_db)
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        before = caseload_table(app).row_keys
        empty = CaseloadPage([], 0, store_page(demo_db, demo.clock, adviser, adviser_id=adviser).summary)
        screen.post_message(CaseloadScreen.Loaded(screen._generation - 1, "replace", CaseloadQuery(),
                                                  PageResult(None, demo.as_at, empty)))
        await settle(pilot)
        assert caseload_table(app).row_keys == before and before


async def test_digits_sort_by_a_column_and_again_reverse(make_app, demo, demo_db) -> None:
    adviser = rich_adviser(demo_db)
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = caseload_table(app)
        for key, sort, descending in (("4", "weeks", False), ("4", "weeks", True), ("1", "customer", False),
                                      ("2", "rag", False), ("5", "action", False), ("0", "urgency", False)):
            await pilot.press(key)
            await settle(pilot)
            page = store_page(demo_db, demo.clock, adviser, adviser_id=adviser, sort=sort, descending=descending)
            assert table.row_keys == keys(page), (sort, descending)
            arrow = "↓" if descending else "↑"
            assert title(app).endswith(arrow)
            headings = [plain(c.label) for c in table.ordered_columns]
            marked = [h for h in headings if h.endswith(("▲", "▼"))]
            # The sorted column's heading carries its digit and the direction (urgency has no column).
            assert marked == ([] if sort == "urgency" else [next(h for h in headings if h.startswith(f"{key} "))])
            assert all(h.endswith("▼" if descending else "▲") for h in marked)
        weeks = [int(cells(table, k)[3]) for k in table.row_keys]
        assert weeks != sorted(weeks) and weeks != sorted(weeks, reverse=True)  # urgency is its own order


async def test_office_wide_list_loads_more_at_the_end(make_app, demo, demo_db) -> None:
    first = store_page(demo_db, demo.clock, demo.leader, limit=400)
    assert first.total > 400
    app = make_app(as_staff=demo.leader)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, HomeScreen)
        await palette_command(pilot, "switch ad")
        assert isinstance(app.screen, AdviserChooser)
        await pilot.press("enter")  # the first row: every open claim you can see
        await settle(pilot)
        assert isinstance(app.screen, CaseloadScreen) and app.screen.target.adviser_id is None
        table = caseload_table(app)
        assert table.row_keys == keys(first)[:200]
        showing = shown(app.screen.query_one("#caseload-showing", Static))
        assert f"{first.total:,} of {first.summary.size:,}" in showing and "200 loaded" in showing
        await pilot.press("ctrl+end")
        await settle(pilot)
        assert table.row_keys == keys(first)
        assert "400 loaded" in shown(app.screen.query_one("#caseload-showing", Static))


async def test_a_manager_switches_adviser_from_the_palette(make_app, demo, demo_db) -> None:
    team = with_store(demo_db, demo.clock, demo.first_manager, office_overview)
    adviser = team[0].advisers[1]
    page = store_page(demo_db, demo.clock, demo.first_manager, adviser_id=adviser.id)
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette_command(pilot, "switch ad")
        chooser = app.screen.query_one("#advisers", KeyedTable)
        await choose(pilot, chooser, adviser.id)
        await pilot.press("enter")
        await settle(pilot)
        assert [type(s) for s in app.screen_stack] == [HomeScreen, CaseloadScreen]
        assert caseload_table(app).row_keys == keys(page)
        assert f"{adviser.name} ({adviser.id})" in title(app)


async def test_an_adviser_cannot_reach_another_advisers_customer(make_app, demo, demo_db) -> None:
    adviser = rich_adviser(demo_db)
    (other_claim, other_adviser), = query_db(
        demo_db, "SELECT c.id, c.adviser_id FROM claim c JOIN staff s ON s.id = c.adviser_id "
                 "WHERE c.team_id = (SELECT team_id FROM staff WHERE id = :me) AND c.adviser_id != :me "
                 "AND c.end_day IS NULL ORDER BY c.id LIMIT 1", me=adviser)
    own = store_page(demo_db, demo.clock, adviser)  # every open claim an adviser may see
    assert {r.adviser_id for r in own.rows} == {adviser}
    assert store_hits(demo_db, demo.clock, adviser, other_claim) == []
    assert store_hits(demo_db, demo.clock, other_adviser, other_claim) != []
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert other_claim not in caseload_table(app).row_keys
        # The palette finds nothing outside the adviser's own caseload...
        assert await find_customer(pilot, other_claim) == []
        await pilot.press("escape")
        await settle(pilot)
        # ...and a claim id given straight to the record is refused in a plain sentence.
        app.push_screen(CustomerScreen(other_claim))
        await settle(pilot)
        head = shown(app.screen.query_one("#customer-head", Static))
        assert head == f"⚠ Claim {other_claim} is not on a caseload you can see."
        assert app.screen.query_one("#timeline", KeyedTable).row_count == 0
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)  # nothing to rate: no dialog opens


# My actions


async def test_my_actions_overdue_first_open_and_mark_done(make_app, demo, demo_db) -> None:
    adviser = rich_adviser(demo_db)
    expected = store_actions(demo_db, demo.clock, adviser)
    assert any(a.overdue for a in expected) and not all(a.overdue for a in expected)
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(app.screen, MyActionsScreen)
        table = app.screen.query_one("#my-actions", KeyedTable)
        assert table.row_keys == [f"action:{a.action_id}" for a in expected]
        for a in expected:
            row = cells(table, f"action:{a.action_id}")
            assert row[0] == a.due.isoformat() and row[2:] == [a.customer, a.claim_id, a.description]
            assert row[1].startswith("overdue") == a.overdue
        overdue = sum(a.overdue for a in expected)
        assert f"{len(expected)} open actions, {overdue} overdue" in shown(app.screen.query_one("#actions-note"))
        # d marks the highlighted (first, most overdue) action done.
        done = expected[0]
        await pilot.press("d")
        await settle(pilot)
        (status,), = query_db(demo_db, "SELECT status FROM action WHERE id = :id", id=done.action_id)
        assert status == "done"
        assert table.row_keys == [f"action:{a.action_id}" for a in expected[1:]]
        assert shown(app.screen.query_one("#actions-note")).startswith(f"Done: {done.description}")
        # Enter opens that customer's record; escape comes back to the list.
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen) and app.screen.claim_id == expected[1].claim_id
        await pilot.press("escape", "escape")
        await settle(pilot)
        assert isinstance(app.screen, CaseloadScreen)
        # On the caseload itself, d marks the highlighted customer's next action done.
        page = store_page(demo_db, demo.clock, adviser, adviser_id=adviser)
        row = next(r for r in page.rows if r.next_action)
        (aid,), = query_db(demo_db, "SELECT id FROM action WHERE claim_id = :c AND status = 'open' "
                                    "ORDER BY due_day, id LIMIT 1", c=row.claim_id)
        await choose(pilot, caseload_table(app), row.claim_id)
        await pilot.press("d")
        await settle(pilot)
        assert query_db(demo_db, "SELECT status FROM action WHERE id = :i", i=aid)[0][0] == "done"
        after = next(r for r in store_page(demo_db, demo.clock, adviser, adviser_id=adviser).rows
                     if r.claim_id == row.claim_id)
        shown_action = cells(caseload_table(app), row.claim_id)[4]
        if after.next_action is None:
            assert shown_action == "—"
        else:
            assert after.next_action[:10] in shown_action
        # Also from the palette.
        await palette_command(pilot, "my act")
        assert isinstance(app.screen, MyActionsScreen)


# Snapshots


def test_caseload_snapshot_80x24(snap_compare, make_app, demo_db) -> None:
    assert snap_compare(make_app(as_staff=rich_adviser(demo_db)), terminal_size=(80, 24), run_before=settle)


def test_caseload_snapshot_120x40(snap_compare, make_app, demo_db) -> None:
    assert snap_compare(make_app(as_staff=rich_adviser(demo_db)), terminal_size=(120, 40), run_before=settle)
