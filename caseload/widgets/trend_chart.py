"""The trend chart: the 13, 26 and 52-week off-flow rates per cohort against the expected levels,
drawn in the terminal by plotext (through Textualize's textual-plotext widget).

Never colour alone: each milestone has its own marker shape, filled for a final rate and hollow for
an interim one (it can still rise), and each expected level is a labelled horizontal line.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotext._utility as _plotext_utility
from textual_plotext import PlotextPlot

from caseload.measures.cohorts import Period
from caseload.measures.offflow import OffflowRow

# plotext removes duplicate points and tick labels through a set, so the order it draws them in (and
# where tick labels land) changes with Python's string hash seed from one run to the next. Its own
# order-keeping alternative, left commented out in plotext, makes the chart the same every time.
_plotext_utility.no_duplicates = lambda data: list(dict.fromkeys(data))

# Per milestone in order: (final marker, interim marker), and its colour (a second cue, never the only one).
MARKERS = (("●", "○"), ("■", "□"), ("▲", "△"), ("◆", "◇"))
COLOURS = ("cyan+", "orange+", "magenta+", "green+")


def series(rows: Sequence[OffflowRow], periods: Sequence[Period], weeks: int) -> tuple[list, list]:
    """Final and interim points (x = position of the period from 1, y = the truncated rate)."""
    by_start = {r.period.start: r for r in rows if r.milestone_weeks == weeks}
    final, interim = [], []
    for x, p in enumerate(periods, start=1):
        r = by_start.get(p.start)
        if r is None or r.rate_pct is None:
            continue
        (final if r.status == "final" else interim).append((x, float(r.rate_pct)))
    return final, interim


def common_target(rows: Sequence[OffflowRow], weeks: int) -> int | None:
    """The expected level at `weeks` when every cohort shown has the same one."""
    targets = {r.target_pct for r in rows if r.milestone_weeks == weeks}
    return next(iter(targets)) if len(targets) == 1 else None


def legend(rows: Sequence[OffflowRow], milestones: Sequence[int]) -> str:
    """The chart's key in words, for the line under it (plotext's own legend would cover the points)."""
    parts = [f"{filled} {w} weeks final, {hollow} interim" for w, (filled, hollow) in zip(sorted(milestones), MARKERS)]
    levels = [f"{w}w {t}%" for w in sorted(milestones) if (t := common_target(rows, w)) is not None]
    text = " · ".join(parts)
    if levels:
        text += " · flat lines: expected levels " + ", ".join(levels)
    return text


class TrendChart(PlotextPlot):
    DEFAULT_CSS = """
    TrendChart { height: 1fr; min-height: 8; }
    """

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self._data: tuple[str, tuple[OffflowRow, ...], tuple[Period, ...], tuple[int, ...]] | None = None

    def show(self, title: str, rows: Sequence[OffflowRow], periods: Sequence[Period],
             milestones: Sequence[int]) -> None:
        self._data = (title, tuple(rows), tuple(periods), tuple(sorted(milestones)))
        self.refresh()

    def render(self):  # noqa: ANN201
        # Drawn afresh at every render: plotext keeps layout state between builds, so a chart first
        # built while its tab was hidden (at another size) would otherwise place its labels differently.
        self._draw()
        return super().render()

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_figure()
        if self._data is None:
            return
        title, rows, periods, milestones = self._data
        plt.title(title)
        labels = [p.label for p in periods]
        step = 1 if len(periods) <= 12 else 2
        ticks = list(range(1, len(periods) + 1))
        plt.xticks(ticks[::step], labels[::step])
        targets = {t for w in milestones if (t := common_target(rows, w)) is not None}
        plt.ylim(0, 100)
        plt.yticks(sorted({0, 20, 40, 60, 80, 100} | targets))
        if periods:
            plt.xlim(0.5, len(periods) + 0.5)
        for w in milestones:
            target = common_target(rows, w)
            if target is not None and periods:
                plt.hline(target, "gray")
        for w, (filled, hollow), colour in zip(milestones, MARKERS, COLOURS):
            final, interim = series(rows, periods, w)
            both = sorted(final + interim)
            if len(both) > 1:
                plt.plot([x for x, _ in both], [y for _, y in both], marker="braille", color=colour)
            if final:
                plt.scatter([x for x, _ in final], [y for _, y in final], marker=filled, color=colour)
            if interim:
                plt.scatter([x for x, _ in interim], [y for _, y in interim], marker=hollow, color=colour)
