"""The app fits the terminal it is in (issue 17). The footer: when a screen's keys do not fit on the line, the first ones (each
screen lists its most used first) are shown whole, then "F1/? all keys" and the command palette; when they
fit, every key and "Help". A resize fits it again. Tables: below 100 columns the teams table's headers
shorten so every column, the last conference's date included, is whole without scrolling."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from test_app_support import config_dir, demo, demo_db, demo_office, make_app, settle  # noqa: F401


def footer_keys(app) -> list[FooterKey]:  # noqa: ANN001
    return sorted(app.screen.query(FooterKey), key=lambda k: k.region.x)


def shown_whole(app) -> None:  # noqa: ANN001
    """Every key is inside the screen and clear of the next one: none cut to a character."""
    keys = footer_keys(app)
    for k, after in zip(keys, keys[1:]):
        assert k.region.right <= after.region.x + 1, (k.description, after.description)  # a shared edge cell
    assert keys[-1].region.right <= app.size.width


async def test_a_footer_too_long_for_80_columns_keeps_its_first_keys_and_f1_for_all(make_app, demo) -> None:
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bindings = [b.description for _, b, _, _ in app.screen.active_bindings.values() if b.show]
        keys = footer_keys(app)
        described = [k.description for k in keys if not k.has_class("-command-palette")]
        assert described[-1] == "all keys" and keys[-1].has_class("-command-palette")
        assert described[:-1] == [d for d in bindings if d != "Help"][:len(described) - 1]  # a run from the start
        assert 2 <= len(described) - 1 < len(bindings) - 1
        shown_whole(app)
        # Wider, every key fits: nothing dropped, and Help by its name.
        await pilot.resize_terminal(160, 40)
        await settle(pilot)
        described = [k.description for k in footer_keys(app) if not k.has_class("-command-palette")]
        assert set(described) == set(bindings) and "Help" in described
        shown_whole(app)
        # And back.
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert [k.description for k in footer_keys(app)][-2] == "all keys"
        shown_whole(app)
        # F1 shows every key of the screen.
        await pilot.press("f1")
        await settle(pilot)
        assert type(app.screen).__name__ == "HelpScreen"


async def test_the_teams_table_shortens_its_headers_to_fit_80_columns(make_app, demo) -> None:
    from caseload.widgets.table import KeyedTable

    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#teams", KeyedTable)
        labels = [c.label.plain for c in table.ordered_columns]
        assert labels == ["Team / adviser", "ID", "Open", "Near", "Last conf."]
        assert table.virtual_size.width <= table.scrollable_content_region.width  # nothing off to the right
        markers = [str(table.get_row(k)[-1]) for k in table.row_keys if k.startswith("adviser:")]
        assert any(m.endswith("overdue · started") for m in markers), markers  # the demo has one of each
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        assert [c.label.plain for c in table.ordered_columns] == [
            "Team / adviser", "Staff ID", "Open claims", "Approaching", "Last conference"]
        assert table.virtual_size.width <= table.scrollable_content_region.width
        markers = [str(table.get_row(k)[-1]) for k in table.row_keys if k.startswith("adviser:")]
        assert any(m.endswith("overdue · in progress") for m in markers), markers
        # And narrow again: the columns shrink back.
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert [c.label.plain for c in table.ordered_columns][-1] == "Last conf."
        assert table.virtual_size.width <= table.scrollable_content_region.width


async def test_the_cohort_matrix_keeps_every_milestone_whole_at_80_columns(make_app, demo) -> None:
    """At 80 columns each cell takes its narrow form (markers without the words, "int" for interim, OPtE left to
    the line under the matrix), so the 52-week column is on screen whole; at 120 the full words again."""
    from test_app_support import open_screen

    from caseload.screens.team_view import TeamViewScreen
    from caseload.widgets.cohort_matrix import CohortMatrix

    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_screen(pilot, TeamViewScreen)
        matrix = screen.query_one(CohortMatrix)
        assert [c.label.plain for c in matrix.ordered_columns] == ["Cohort", "13 weeks", "26 weeks", "52 weeks"]
        assert matrix.virtual_size.width <= matrix.scrollable_content_region.width
        cells = [str(matrix.get_cell_at((r, 3))) for r in range(matrix.row_count)]
        assert any(" int" in c for c in cells) and not any("OPtE" in c for c in cells)
        assert any("✗" in c or "✓" in c for c in cells)
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        cells = [str(matrix.get_cell_at((r, 3))) for r in range(matrix.row_count)]
        assert any("interim" in c for c in cells) and any("OPtE" in c for c in cells)


async def test_the_caseloads_next_action_is_whole_at_80_columns(make_app, demo, demo_db) -> None:
    """At 80 columns the customer shows the NI number's visible end and the next action its narrow form (the due
    date, "!" when overdue, a shorter text), so the next action sits whole beside the customer, RAG, runway and
    weeks; the flags come after it. At 120 the full forms again, and at 80 once more."""
    from test_caseload_screen import caseload_table, cells, rich_adviser, store_page

    adviser = rich_adviser(demo_db)
    page = store_page(demo_db, demo.clock, adviser, adviser_id=adviser)
    today = demo.clock.today()
    with_action = [r for r in page.rows if r.next_action]
    overdue = next(r for r in with_action if r.next_action_due < today)
    app = make_app(as_staff=adviser)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = caseload_table(app)
        labels = [c.label.plain for c in table.ordered_columns]
        assert labels[4:6] == ["5 Next action (due)", "Flags"]
        # Every column up to the next action is on screen whole, with the table scrolled to its left edge.
        assert table.scroll_x == 0
        through_action = sum(c.get_render_width(table) for c in table.ordered_columns[:5])
        assert through_action <= table.scrollable_content_region.width
        row = cells(table, overdue.claim_id)
        assert row[0] == f"{overdue.customer_name} {overdue.nino.lstrip('*')}"
        assert row[4].startswith(f"{overdue.next_action_due.isoformat()}! ") and "overdue" not in row[4]
        assert overdue.next_action[:10] in row[4]
        for r in page.rows:
            assert len(cells(table, r.claim_id)[4]) <= 10 + 2 + 13 and len(cells(table, r.claim_id)[0]) <= 16 + 4
        # Sorted on weeks, its heading's arrow still leaves the next action whole.
        await pilot.press("4")
        await settle(pilot)
        assert sum(c.get_render_width(table) for c in table.ordered_columns[:5]) <= table.scrollable_content_region.width
        await pilot.resize_terminal(120, 40)
        await settle(pilot)
        row = cells(table, overdue.claim_id)
        assert row[0] == f"{overdue.customer_name} {overdue.nino}"
        assert row[4].startswith(f"{overdue.next_action_due.isoformat()} overdue · ")
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert cells(table, overdue.claim_id)[4].startswith(f"{overdue.next_action_due.isoformat()}! ")
        assert sum(c.get_render_width(table) for c in table.ordered_columns[:5]) <= table.scrollable_content_region.width


async def test_a_borderless_field_in_focus_is_visibly_tinted(make_app, demo, demo_db) -> None:
    """Focus is always visible: the caseload's one-line filter box, which has no border, takes an accent tint when
    `/` puts the cursor in it, and loses it when enter hands the keys back to the table."""
    from textual.widgets import Input

    from test_caseload_screen import rich_adviser

    app = make_app(as_staff=rich_adviser(demo_db))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        box = app.screen.query_one("#caseload-filter", Input)
        blurred = box.background_colors[1]
        assert box.styles.background_tint.a < 0.1
        await pilot.press("slash")
        await settle(pilot)
        assert app.focused is box
        assert box.styles.background_tint.a >= 0.2
        focused = box.background_colors[1]
        assert abs(focused.brightness - blurred.brightness) > 0.03 or focused.hsl.h != blurred.hsl.h, (focused, blurred)
        await pilot.press("enter")
        await settle(pilot)
        assert app.focused is not box and box.styles.background_tint.a < 0.1
