"""The funnel plot in the terminal: each unit (team, or adviser for a team manager) at (cohort size,
rate) for one cohort period and milestone, with the expected level and its 95% and 99.8% limit
curves, drawn by plotext as the trend chart is (textual-plotext).

Each point is drawn as its label (1-9, then letters), given in name order, and the key beside the
chart lists them in that order with their counts, verdict and whether final or interim: never
ranked, never colour alone (95% limits dotted, 99.8% limits a braille line; the chosen point is
coloured and marked ▸ in the key). Left/right (or up/down) choose a point, enter asks for its
explain list.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual_plotext import PlotextPlot

import caseload.widgets.trend_chart  # noqa: F401  (plotext's drawing order made stable)
from caseload.measures.funnel import FunnelPoint, common_target, limit_curves

LABELS = "123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def label_of(i: int) -> str:
    """A point's one-character label (its marker on the plot): 1-9, then a-z and A-Z, then +."""
    return LABELS[i] if i < len(LABELS) else "+"


def axis_end(n: int) -> int:
    """A round x-axis end at or above n."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= n:
                return m * step
        step *= 10


def funnel_key(points: Sequence[FunnelPoint], selected: int | None) -> Text:
    """The key: one line per point, in name order, the selected one marked ▸ and reversed."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if not points:
        text.append("No unit has claims in this cohort period.", style="dim")
        return text
    for i, p in enumerate(points):
        if i:
            text.append("\n")
        mark = "▸" if i == selected else " "
        style = "reverse bold" if i == selected else ""
        text.append(f"{mark}{label_of(i)} {p.name}", style=style)
        v = p.verdict
        detail = f"  {p.offflows}/{p.size} {p.rate_pct}%"
        if v is not None:
            detail += f" {v.short}"
        detail += ", final" if p.status == "final" else ", interim"
        text.append("\n" + detail, style=style)
    return text


class FunnelChart(PlotextPlot):
    """A focusable funnel plot; posts `Chosen` with the selected point on enter."""

    can_focus = True
    BINDINGS = [
        Binding("right,down", "move(1)", "Next point", show=False, id="funnel_next"),
        Binding("left,up", "move(-1)", "Previous point", show=False, id="funnel_previous"),
        Binding("enter", "choose", "Explain point", id="funnel_choose"),
    ]
    DEFAULT_CSS = """
    FunnelChart { height: 1fr; min-height: 8; }
    FunnelChart:focus { border: none; }
    """

    class Chosen(Message):
        def __init__(self, point: FunnelPoint) -> None:
            super().__init__()
            self.point = point

    class Selected(Message):
        def __init__(self, index: int | None) -> None:
            super().__init__()
            self.index = index

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self.title_text = ""
        self.points: tuple[FunnelPoint, ...] = ()
        self.selected: int | None = None

    def show(self, title: str, points: Sequence[FunnelPoint], keep: str | None = None) -> None:
        """Show these points; the selection stays on the unit named ``keep`` when it is still there."""
        self.title_text = title
        self.points = tuple(points)
        names = [p.name for p in self.points]
        self.selected = names.index(keep) if keep in names else (0 if names else None)
        self.post_message(self.Selected(self.selected))
        self.refresh()

    @property
    def point(self) -> FunnelPoint | None:
        return None if self.selected is None else self.points[self.selected]

    def action_move(self, step: int) -> None:
        if not self.points:
            return
        self.selected = ((self.selected or 0) + step) % len(self.points)
        self.post_message(self.Selected(self.selected))
        self.refresh()

    def action_choose(self) -> None:
        if self.point is not None:
            self.post_message(self.Chosen(self.point))

    def render(self):  # noqa: ANN201
        self._draw()  # afresh every time, as the trend chart is (plotext keeps layout state)
        return super().render()

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_figure()
        plt.title(self.title_text)
        plt.ylim(0, 100)
        if not self.points:
            return
        x_max = axis_end(max(p.size for p in self.points))
        plt.xlim(0, x_max)
        plt.xticks([x_max * i / 5 for i in range(6)], [f"{x_max * i / 5:g}" for i in range(6)])
        target = common_target(self.points)
        plt.yticks(sorted({0, 20, 40, 60, 80, 100} | ({target} if target is not None else set())))
        plt.xlabel("cohort size (claims)")
        if target is not None:
            plt.hline(target, "gray")
            for which, line in limit_curves(target, x_max, steps=40).items():
                xs = [n for n, _ in line]
                ys = [max(0.0, min(100.0, r)) for _, r in line]
                plt.plot(xs, ys, marker="braille" if "998" in which else "dot", color="gray")
        # Each point is drawn as its label, so a point and its name in the key can never be mixed up;
        # the chosen one is drawn last (on top) and in a colour, and marked ▸ in the key.
        order = [i for i in range(len(self.points)) if i != self.selected] + (
            [self.selected] if self.selected is not None else [])
        for i in order:
            p = self.points[i]
            plt.scatter([p.size], [p.rate], marker=label_of(i), color="cyan+" if i == self.selected else "default")
