"""A check box and a tick list whose mark shows only when ticked, so the state reads without colour.

Textual draws the same X in every box and tells ticked from not by colour alone.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import Checkbox, SelectionList
from textual.widgets._toggle_button import ToggleButton

TICK = "X"


class Tick(Checkbox):
    @property
    def BUTTON_INNER(self) -> str:  # noqa: N802 - the name ToggleButton renders
        return TICK if self.value else " "


class TickList(SelectionList):
    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        segments = list(strip)
        if len(segments) < 2 or segments[1].text != ToggleButton.BUTTON_INNER:
            return strip
        try:
            selection = self.get_option_at_index(self.scroll_offset.y + y)
        except Exception:  # noqa: BLE001 - a line past the options: nothing to mark
            return strip
        mark = TICK if selection.value in self._selected else " "
        segments[1] = Segment(mark, segments[1].style, segments[1].control)
        return Strip(segments, strip.cell_length)
