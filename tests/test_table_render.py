"""KeyedTable renders a one-line cell once per content and place (DataTable renders every visible cell
again after any change): what the user sees must be exactly what a plain DataTable shows for the same rows."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.widgets import DataTable

from caseload.widgets.merge_table import MergeTable

COLUMNS = ("Customer", "RAG", "Wks", "Next action")


def row(i: int, action: str = "call back") -> tuple[str, tuple]:
    customer = Text(f"Customer {i:02d}")
    customer.append(f" {i:03d}", style="dim")
    return f"c{i:02d}", (customer, Text("R", style="bold red") if i % 3 else "R", Text(str(i), justify="right"),
                         "—" if i % 4 == 0 else f"2026-11-{i % 28 + 1:02d} · {action}")


class Pair(App):
    """The table under test beside a plain DataTable filled from scratch with the same rows."""

    AUTO_FOCUS = None
    CSS = "DataTable { height: 14; }"

    def compose(self) -> ComposeResult:
        yield MergeTable(id="merged")
        yield DataTable(id="plain", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        for table in self.query(DataTable):
            table.add_columns(*COLUMNS)


def seen(table: DataTable) -> list[list[tuple]]:
    """The table's lines as drawn: every segment's text, colours, attributes and mouse meta."""
    lines = table.render_lines(Region(0, 0, table.size.width, table.size.height))
    return [[(s.text, s.style, s.style.meta if s.style else None) for s in line] for line in lines]


async def show(app: Pair, pilot, rows: list[tuple[str, tuple]]) -> tuple[DataTable, DataTable]:  # noqa: ANN001
    merged, plain = app.query_one("#merged", MergeTable), app.query_one("#plain", DataTable)
    merged.merge(rows)
    plain.clear()
    for key, cells in rows:
        plain.add_row(*cells, key=key)
    plain.move_cursor(row=merged.cursor_row, animate=False)
    await pilot.pause()
    await pilot.pause()
    return merged, plain


async def test_a_merged_table_shows_what_a_fresh_datatable_shows() -> None:
    app = Pair()
    async with app.run_test(size=(70, 32)) as pilot:
        rows = [row(i) for i in range(30)]
        merged, plain = await show(app, pilot, rows)
        assert seen(merged) == seen(plain)
        merged.move_cursor(row=4, animate=False)
        # A filter drops rows above and below the cursor; rows below the first dropped one move up
        # (their stripe and row number change), one cell's value changes, one row is new.
        kept = [r for r in rows if r[0] not in {"c01", "c06", "c07", "c20"}]
        kept[8] = row(int(kept[8][0][1:]), action="letter sent")
        kept.insert(3, row(41))
        merged, plain = await show(app, pilot, kept)
        assert merged.row_keys == [k for k, _ in kept]
        assert merged.cursor_key == "c04"
        assert seen(merged) == seen(plain)
        # The cursor moving down restyles two rows; every line still matches.
        merged.action_cursor_down()
        plain.move_cursor(row=merged.cursor_row, animate=False)
        await pilot.pause()
        assert merged.cursor_key == "c05"
        assert seen(merged) == seen(plain)
