"""A DataTable whose rows are keyed by id, with vim keys, updated in place when the rows are the same."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.widgets import DataTable
from textual.widgets._data_table import _EMPTY_TEXT, default_cell_formatter

from caseload.widgets.literal import literal, visible


# Narrower than this many columns of terminal (an 80-column one) tables take their narrow forms: the teams table's
# short headers and conference marker, the cohort matrix's cells, the caseload's customer and next action. One
# width for every screen, read from the app's size in resize handlers (a screen's own handler runs before Textual
# sets its breakpoint classes).
NARROW_BELOW = 100


def is_narrow(widget: Any) -> bool:
    return widget.app.size.width < NARROW_BELOW


def table_cell(value: Any) -> Any:
    """A str cell is data (a name, a note): kept as literal Text, which DataTable never reads as markup."""
    return literal(value) if isinstance(value, str) else value


def cell_width(value: Any) -> int:
    if isinstance(value, Text):
        return value.cell_len
    return cell_len("" if value is None else visible(str(value)))


class KeyedTable(DataTable):
    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="table_down_j"),
        Binding("k", "cursor_up", "Up", show=False, id="table_up_k"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cursor_type", "row")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        # Rendered cells (see _render_cell), by the cell's value (str) or identity (anything else: each
        # entry keeps its value alive, so the identity is not reused while it is cached).
        self._content_cache: LRUCache[tuple, tuple[Any, list[list[Segment]]]] = LRUCache(4096)
        self._cell_cache: LRUCache[tuple, tuple[Any, list[list[Segment]]]] = LRUCache(4096)

    def add_row(self, *cells: Any, **kwargs: Any) -> Any:
        return super().add_row(*(table_cell(c) for c in cells), **kwargs)

    def update_cell(self, row_key: Any, column_key: Any, value: Any, **kwargs: Any) -> None:
        super().update_cell(row_key, column_key, table_cell(value), **kwargs)

    def update_cell_at(self, coordinate: Any, value: Any, **kwargs: Any) -> None:
        super().update_cell_at(coordinate, table_cell(value), **kwargs)

    @property
    def cursor_key(self) -> str | None:
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    @property
    def row_keys(self) -> list[str]:
        return [row.key.value for row in self.ordered_rows]

    def short_labels(self, labels: dict[str, str], below: int) -> None:
        """Below `below` columns of terminal, these columns (by key) go by their short labels, so the table
        narrows by its headers before any cell is cut; at or above it, by their own."""
        self._short = (labels, below, {k: self.columns[k].label for k in labels if k in self.columns})
        self._fit_labels(self.app.size.width)

    def _fit_labels(self, width: int) -> None:
        short = getattr(self, "_short", None)
        if short is None:
            return
        labels, below, full = short
        changed = False
        for key, label in full.items():
            column = self.columns[key]
            text = Text(labels[key]) if width < below else label
            if column.label.plain == text.plain:
                continue
            column.label, changed = text, True
            column.content_width = max([text.cell_len, *(cell_width(self.get_cell(row, key)) for row in self.rows)])
        if changed:
            self._require_update_dimensions = True
            self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_labels(self.app.size.width)

    def set_rows(self, rows: Sequence[tuple[str, Sequence[Any]]], refit: bool = False) -> None:
        """Show these (key, cells) rows: cells change in place when the keys are the same,
        otherwise the table is rebuilt and the cursor stays on the same key where it can. Columns only
        grow while the keys stay the same, unless `refit` (the terminal was resized)."""
        keys = [k for k, _ in rows]
        same_keys = keys == self.row_keys
        self._fit_columns(rows, grow_only=same_keys and not refit)
        if same_keys:
            columns = list(self.columns)
            for key, cells in rows:
                old = self.get_row(key)
                for column, value, before in zip(columns, cells, old):
                    if table_cell(value) != before:
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

    # DataTable keys its render caches by an update counter that every change bumps, so after any
    # change (a filter that drops one row) every visible cell went through Rich again. Here a one-line
    # cell is rendered once per content and width, and styled once per place: a cell whose content,
    # row number, stripe and cursor state are as before is not rendered again. The result is what
    # DataTable's own `Styled(Padding(cell))` gives; headers, labels and taller rows go its way.
    def _render_cell(self, row_index: int, column_index: int, base_style: Style, width: int,
                     cursor: bool = False, hover: bool = False) -> list[list[Segment]]:
        row_key = self._row_locations.get_key(row_index) if row_index >= 0 and column_index >= 0 else None
        row = self.rows.get(row_key) if row_key is not None else None
        if row is None or row.height != 1:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        value = self._data[row_key].get(self._column_locations.get_key(column_index))
        content_key = (value if isinstance(value, str) else id(value), width, self.cell_padding)
        fixed = row_index < self.fixed_rows or column_index < self.fixed_columns
        cell_key = (content_key, row_index, column_index, base_style, cursor, hover, fixed, self.show_cursor,
                    self._show_hover_cursor, self._pseudo_class_state)
        cached = self._cell_cache.get(cell_key)
        if cached is not None:
            return cached[1]
        content = self._content_cache.get(content_key)
        if content is None:
            cell = _EMPTY_TEXT if value is None else default_cell_formatter(value, wrap=False, height=1) or _EMPTY_TEXT
            options = self.app.console_options.update_dimensions(width, 1).update(no_wrap=True)
            content = (value, self.app.console.render_lines(Padding(cell, (0, self.cell_padding)), options))
            self._content_cache.set(content_key, content)
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, fixed, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")
        pre_style = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style
        lines = [list(Segment.apply_style(line, pre_style, post_style)) for line in content[1]]
        self._cell_cache.set(cell_key, (value, lines))
        return lines

    def notify_style_update(self) -> None:
        self._content_cache.clear()
        self._cell_cache.clear()
        super().notify_style_update()
