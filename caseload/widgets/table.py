"""A DataTable whose rows are keyed by id, with vim keys, updated in place when the rows are the same."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable


def cell_width(value: Any) -> int:
    if isinstance(value, Text):
        return value.cell_len
    return cell_len("" if value is None else str(value))


class KeyedTable(DataTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="table_down_j"),
        Binding("k", "cursor_up", "Up", show=False, id="table_up_k"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)

    @property
    def cursor_key(self) -> str | None:
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    @property
    def row_keys(self) -> list[str]:
        return [row.key.value for row in self.ordered_rows]

    def set_rows(self, rows: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Show these (key, cells) rows: cells change in place when the keys are the same,
        otherwise the table is rebuilt and the cursor stays on the same key where it can."""
        keys = [k for k, _ in rows]
        same_keys = keys == self.row_keys
        self._fit_columns(rows, grow_only=same_keys)
        if same_keys:
            columns = list(self.columns)
            for key, cells in rows:
                old = self.get_row(key)
                for column, value, before in zip(columns, cells, old):
                    if value != before:
                        self.update_cell(key, column, value)
            return
        keep = self.cursor_key
        self.clear()
        for key, cells in rows:
            self.add_row(*cells, key=key)
        if keep in keys:
            self.move_cursor(row=keys.index(keep), animate=False)

    def _fit_columns(self, rows: Sequence[tuple[str, Sequence[Any]]], grow_only: bool) -> None:
        # The table measures new cells only when idle, which can be after it has drawn (and cached)
        # rows at the old widths; measuring here, before any drawing, keeps every column whole.
        for i, column in enumerate(self.ordered_columns):
            if not column.auto_width:
                continue
            widest = max([column.label.cell_len, *(cell_width(cells[i]) for _, cells in rows if i < len(cells))])
            column.content_width = max(widest, column.content_width) if grow_only else widest
