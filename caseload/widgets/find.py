"""Type-to-find for pickers: letters and digits typed on a list move its cursor to the next row whose
text starts with them. Typing on within a second narrows ("gr", "gra"); after a pause it starts again.
Home, end, page up and page down move as they do everywhere else."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.widgets import SelectionList

from caseload.widgets.table import KeyedTable

FIND_PAUSE = 1.0  # seconds after which typing starts a new search


def _plain(value: Any) -> str:
    return (value.plain if isinstance(value, Text) else str(value or "")).strip().lower()


def find_index(rows: Sequence[Sequence[str]], start: int, typed: str) -> int | None:
    """The first row from `start` (wrapping round) with a cell starting with `typed`; failing that,
    with a word in a cell starting with it."""
    n = len(rows)
    order = [(start + i) % n for i in range(n)]
    for i in order:
        if any(cell.startswith(typed) for cell in rows[i]):
            return i
    for i in order:
        if any(word.startswith(typed) for cell in rows[i] for word in cell.split()):
            return i
    return None


class FindBuffer:
    """What has been typed in this search."""

    def __init__(self) -> None:
        self.text = ""
        self._at = 0.0

    def add(self, event: events.Key) -> str | None:
        """The search so far with this key, or None when the key is not something to find by."""
        ch = event.character
        if event.key in ("space", "tab") or not ch or len(ch) != 1 or not ch.isprintable() or ch.isspace():
            return None
        now = time.monotonic()
        if now - self._at > FIND_PAUSE:
            self.text = ""
        self._at = now
        self.text += ch.lower()
        return self.text


def _find(buffer: FindBuffer, event: events.Key, rows: Sequence[Sequence[str]], current: int) -> int | None | bool:
    typed = buffer.add(event)
    if typed is None:
        return False
    event.stop()
    event.prevent_default()
    if not rows:
        return None
    # Narrowing the search may stay on this row; a new search looks from the next one.
    return find_index(rows, current if len(typed) > 1 else current + 1, typed)


class PickerTable(KeyedTable):
    """A table to choose a row from: type-to-find; home and end go to the first and last row."""

    BINDINGS = [
        Binding("home", "scroll_top", "First", show=False, id="picker_first"),
        Binding("end", "scroll_bottom", "Last", show=False, id="picker_last"),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._find = FindBuffer()

    def on_key(self, event: events.Key) -> None:
        rows = [[_plain(c) for c in self.get_row_at(i)] for i in range(self.row_count)]
        found = _find(self._find, event, rows, self.cursor_row)
        if found is False:
            return
        if found is None:
            self.app.bell()
        else:
            self.move_cursor(row=int(found), animate=False)


class FindSelectionList(SelectionList):
    """A list to tick from (space ticks): type-to-find as in PickerTable."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._find = FindBuffer()

    def on_key(self, event: events.Key) -> None:
        rows = [[_plain(self.get_option_at_index(i).prompt)] for i in range(self.option_count)]
        found = _find(self._find, event, rows, self.highlighted if self.highlighted is not None else -1)
        if found is False:
            return
        if found is None:
            self.app.bell()
        else:
            self.highlighted = int(found)
