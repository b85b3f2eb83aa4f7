"""A keyed table that takes a fresh result and changes only what differs: cells, rows in, rows out, order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual._two_way_dict import TwoWayDict
from textual.widgets.data_table import CellKey, RowKey

from caseload.widgets.table import KeyedTable, table_cell


class MergeTable(KeyedTable):
    """Rows keyed by id. `merge` makes the table equal a fresh query's rows without clearing it, so
    the cursor, the scroll position and every untouched cell stay as they were.

    The first column's cells must be distinct objects (Text, not shared strings): they carry each
    row's place when the order changes.
    """

    def merge(self, rows: Sequence[tuple[str, Sequence[Any]]]) -> None:
        keys = [k for k, _ in rows]
        wanted = set(keys)
        keep = self.cursor_key
        keep_index = self.cursor_row
        self._remove_rows([k for k in self.row_keys if k not in wanted])
        self._fit_columns(rows, grow_only=False)
        present = set(self.row_keys)
        columns = list(self.columns)
        for key, cells in rows:
            if key in present:
                for column, value, before in zip(columns, cells, self.get_row(key)):
                    if table_cell(value) != before:
                        self.update_cell(key, column, value)
            else:
                self.add_row(*cells, key=key)
        if self.row_keys != keys:
            first = columns[0]
            place = {id(self.get_cell(key, first)): i for i, key in enumerate(keys)}
            self.sort(first, key=lambda cell: place[id(cell)])
        if keep in wanted:
            self.move_cursor(row=keys.index(keep), animate=False)
        elif keys:
            self.move_cursor(row=min(keep_index, len(keys) - 1), animate=False)

    def _remove_rows(self, keys: Sequence[str]) -> None:
        """DataTable.remove_row for many rows in one go (it renumbers every row and re-checks the
        cursor once per row removed)."""
        if not keys:
            return
        gone = {RowKey(k) for k in keys}
        kept = [row.key for row in self.ordered_rows if row.key not in gone]
        for key in gone:
            for column_key in self._data.pop(key):
                self._updated_cells.discard(CellKey(key, column_key))
            del self.rows[key]
        self._row_locations = TwoWayDict({key: i for i, key in enumerate(kept)})
        self._require_update_dimensions = True
        self.check_idle()
        self.cursor_coordinate = self.cursor_coordinate
        self.hover_coordinate = self.hover_coordinate
        self._update_count += 1
        self.refresh(layout=True)

    def append(self, rows: Sequence[tuple[str, Sequence[Any]]]) -> None:
        """Add the next page's rows at the bottom (rows already shown are skipped)."""
        present = set(self.row_keys)
        fresh = [(k, cells) for k, cells in rows if k not in present]
        self._fit_columns(fresh, grow_only=True)
        for key, cells in fresh:
            self.add_row(*cells, key=key)
