"""The cohort-by-milestone matrix: cohort periods down, milestones across, one cell per rate.

Each cell reads on its own, without colour: the count (27/50), the truncated rate, ✓ Green or
✗ Red against the expected level, "interim" while the rate can still rise (with the off-flows
still needed when the cohort can still make it), and beside the rate the into-employment rate and
the OPtE count, so an off-flow rate is never read alone. Rows are in time order; nothing is ranked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable

from caseload.measures.cohorts import Period
from caseload.measures.offflow import OffflowRow
from caseload.measures.rates import SMALL_N, truncated_pct
from caseload.widgets.table import is_narrow

MEETS, MISSES = "\u2713", "\u2717"  # ✓ ✗
GREEN_STYLE = "bold #3fa34d"
RED_STYLE = "bold #e5484d"


def target_word(row: OffflowRow) -> tuple[str, str]:
    """("✓ Green", style), ("✗ Red", style), or ("", "") when no expected level applies."""
    meets = row.meets_target
    if meets is None:
        return "", ""
    return (f"{MEETS} Green", GREEN_STYLE) if meets else (f"{MISSES} Red", RED_STYLE)


def can_still_make_it(row: OffflowRow) -> bool:
    """An interim cell short of its level that enough members, not yet at the milestone, could close."""
    needed = row.still_needed
    return row.status == "interim" and bool(needed) and needed <= row.not_yet_at


def cell_text(row: OffflowRow, narrow: bool = False) -> Text:
    """Two lines: `27/50 54.00% ✗ Red interim` and `need 1 · emp 24.00% · OPtE 20`. Narrow (an 80-column
    terminal, so every milestone's column is whole): `27/50 54.00% ✗ int` and `need 1 · emp 24.00%`; the
    line under the matrix gives the cell in full words, OPtE included."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{row.offflows}/{row.cohort_size} ", style="")
    text.append(f"{row.rate_pct}%", style="bold")
    word, style = target_word(row)
    if word:
        text.append(" ")
        text.append(word.split(" ")[0] if narrow else word, style=style)
    if row.status == "interim":
        text.append(" int" if narrow else " interim", style="italic")
    if row.cohort_size < SMALL_N:
        text.append(f" n<{SMALL_N}" if narrow else " small n", style="reverse")
    text.append("\n")
    if can_still_make_it(row):
        text.append(f"need {row.still_needed}", style="bold")
        text.append(" · ")
    emp = truncated_pct(row.employment, row.cohort_size) or "n/a"
    text.append(f"emp {emp}%" if narrow else f"emp {emp}% · OPtE {row.opte}", style="dim")
    return text


@dataclass(frozen=True)
class CellKey:
    period: Period
    milestone: int


class CohortMatrix(DataTable):
    """The matrix for one group. `show` replaces its contents; `cell` is the cell under the cursor."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False, id="matrix_down_j"),
        Binding("k", "cursor_up", "Up", show=False, id="matrix_up_k"),
        Binding("h", "cursor_left", "Left", show=False, id="matrix_left_h"),
        Binding("l", "cursor_right", "Right", show=False, id="matrix_right_l"),
    ]
    DEFAULT_CSS = """
    CohortMatrix { height: 1fr; }
    CohortMatrix:nocolor > .datatable--cursor { text-style: bold reverse; }
    """

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        kwargs.setdefault("cursor_type", "cell")
        kwargs.setdefault("zebra_stripes", True)
        super().__init__(**kwargs)
        self._periods: list[Period] = []
        self._milestones: list[int] = []
        self._rows: dict[tuple[dt.date, int], OffflowRow] = {}

    def show(self, rows: Sequence[OffflowRow], periods: Sequence[Period], milestones: Sequence[int]) -> None:
        """Every period of the window, newest last; a period with no claims says so instead of 0/0."""
        keep = self.cursor_coordinate if self.row_count else None
        self._periods = list(periods)
        self._milestones = sorted(milestones)
        self._rows = {(r.period.start, r.milestone_weeks): r for r in rows}
        self._narrow = narrow = is_narrow(self)
        self.clear(columns=True)
        self.add_column("Cohort", key="period")
        for w in self._milestones:
            self.add_column(f"{w} weeks", key=f"w{w}")
        for p in self._periods:
            cells: list[Text | str] = [Text(p.label, style="bold")]
            for w in self._milestones:
                r = self._rows.get((p.start, w))
                cells.append(cell_text(r, narrow) if r is not None else
                             Text("no claims" if narrow else "no claims started", style="dim"))
            self.add_row(*cells, key=p.start.isoformat(), height=2)
        if keep is not None and keep.row < self.row_count:
            self.move_cursor(row=keep.row, column=max(1, keep.column), animate=False)
        elif self.row_count:
            # Start on the latest cohort at the first milestone: the newest figures people ask about.
            self.move_cursor(row=self.row_count - 1, column=1, animate=False)

    def on_resize(self) -> None:
        if self._periods and (is_narrow(self)) != getattr(self, "_narrow", None):
            self.show(list(self._rows.values()), self._periods, self._milestones)

    @property
    def cell(self) -> CellKey | None:
        """The period and milestone under the cursor (None on the cohort column or an empty table)."""
        if not self.row_count or not self._periods:
            return None
        row, col = self.cursor_coordinate
        if col < 1 or row >= len(self._periods) or col - 1 >= len(self._milestones):
            return None
        return CellKey(self._periods[row], self._milestones[col - 1])

    def row_for(self, key: CellKey | None) -> OffflowRow | None:
        if key is None:
            return None
        return self._rows.get((key.period.start, key.milestone))
