"""Every picker finds by typing and moves with home, end, page up and page down (issue 17): the
identity picker, switch adviser, add a customer to a conference, and the reassign targets (the
caseload's colleagues and an action's new owner). Pilot on the demo office."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Select, SelectionList
from textual.widgets._select import SelectOverlay

from caseload.screens.conference_dialogs import AddCustomerChooser
from caseload.screens.dialogs import AdviserChooser, ReassignDialog as ActionReassignDialog
from caseload.screens.identity import IdentityScreen
from caseload.screens.reassign import ReassignDialog
from caseload.widgets.table import KeyedTable
from test_app_support import config_dir, demo, demo_db, demo_office, make_app, settle  # noqa: F401
from test_caseload_screen import choose, keys_for, palette_command
from test_conference_screen import MANAGER, UNFINISHED
from test_customer_screen import open_record
from test_undo import an_advisers_customer

SIZE = (120, 30)


def plain(v) -> str:  # noqa: ANN001
    return (v.plain if isinstance(v, Text) else str(v)).strip()


async def moves_with_home_end_and_pages(pilot, table: KeyedTable) -> None:  # noqa: ANN001
    last = table.row_count - 1
    assert last > 0
    await pilot.press("end")
    assert table.cursor_row == last
    await pilot.press("home")
    assert table.cursor_row == 0
    await pilot.press("pagedown")
    assert table.cursor_row > (1 if last > 20 else 0)
    await pilot.press("pageup")
    assert table.cursor_row == 0


async def finds_by_typing(pilot, table: KeyedTable, column: int, pick: int) -> None:  # noqa: ANN001
    """Typing the start of row `pick`'s text in `column` puts the cursor on it (or on an earlier row with
    the same start), whatever single-letter keys the screen has."""
    target = plain(table.get_row_at(pick)[column])
    prefix = target[: min(len(target), 4)]
    await pilot.press("home")
    await pilot.press(*keys_for(prefix.lower()))
    landed = plain(table.get_row_at(table.cursor_row)[column])
    assert landed.lower().startswith(prefix.lower()), (landed, prefix)
    assert table.cursor_row <= pick or any(
        plain(table.get_row_at(i)[column]).lower().startswith(prefix.lower()) for i in range(pick))


async def test_identity_picker(make_app, demo, demo_db) -> None:
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette_command(pilot, "identity")
        assert isinstance(app.screen, IdentityScreen)
        table = app.screen.query_one("#staff", KeyedTable)
        await moves_with_home_end_and_pages(pilot, table)
        leader = f"staff:{demo.leader}"
        index = table.row_keys.index(leader)
        await finds_by_typing(pilot, table, 1, index)
        # The id finds too, and q (quit elsewhere) and j/k are letters here.
        await pilot.press("home", *demo.leader.lower())
        assert table.cursor_key == leader
        await pilot.press("enter")
        await settle(pilot)
        assert app.identity.actor.id == demo.leader


async def test_switch_adviser_picker(make_app, demo, demo_db) -> None:
    app = make_app(as_staff=demo.leader)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await palette_command(pilot, "switch adv")
        assert isinstance(app.screen, AdviserChooser)
        table = app.screen.query_one("#advisers", KeyedTable)
        await moves_with_home_end_and_pages(pilot, table)
        name_col = next(i for i, c in enumerate(table.ordered_columns) if "name" in str(c.label).lower()
                        or "adviser" in str(c.label).lower())
        await finds_by_typing(pilot, table, name_col, table.row_count - 1)


async def test_add_a_customer_picker(make_app, demo, demo_db) -> None:
    app = make_app(as_staff=MANAGER)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await choose(pilot, app.screen.query_one("#teams", KeyedTable), f"adviser:{UNFINISHED}")
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AddCustomerChooser)
        table = app.screen.query_one("#add-customer-table", KeyedTable)
        table.focus()
        await settle(pilot)
        await moves_with_home_end_and_pages(pilot, table)
        await finds_by_typing(pilot, table, 0, table.row_count // 2)


async def test_reassign_colleagues_picker(make_app, demo, demo_db) -> None:
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, ReassignDialog)
        targets = app.screen.query_one("#reassign-to", SelectionList)
        targets.focus()
        await settle(pilot)
        n = targets.option_count
        assert n > 2
        await pilot.press("end")
        assert targets.highlighted == n - 1
        await pilot.press("home")
        assert targets.highlighted == 0
        await pilot.press("pagedown")
        assert targets.highlighted == n - 1 or targets.highlighted > 0
        await pilot.press("pageup")
        assert targets.highlighted == 0
        wanted = plain(targets.get_option_at_index(n - 1).prompt)
        await pilot.press(*keys_for(wanted[:4].lower()))
        assert plain(targets.get_option_at_index(targets.highlighted).prompt).lower().startswith(wanted[:4].lower())


async def test_an_actions_new_owner_picker(make_app, demo, demo_db) -> None:
    adviser, claim = an_advisers_customer(demo, demo_db)
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_record(pilot, claim)
        await pilot.press("t", *keys_for("Book CV"), "enter")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, ActionReassignDialog)
        await pilot.press("enter")  # opens the list of colleagues
        await settle(pilot)
        overlay = app.screen.query_one(SelectOverlay)
        n = overlay.option_count
        await pilot.press("end")
        assert overlay.highlighted == n - 1
        await pilot.press("home")
        assert overlay.highlighted == 0
        wanted = plain(overlay.get_option_at_index(n - 1).prompt)
        await pilot.press(*keys_for(wanted[:3].lower()))
        assert plain(overlay.get_option_at_index(overlay.highlighted).prompt).lower().startswith(wanted[:3].lower())
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen.query_one("#reassign-owner", Select).value is not Select.NULL
