"""The time-to-off-flow curve in the terminal: the share of the cohorts still on benefit at each
week 0-104 (Kaplan-Meier), with the 13, 26 and 52-week marks, drawn by plotext as the trend chart
is; the off-flow share at each mark and the count at risk are given in words under it."""

from __future__ import annotations

from rich.text import Text
from textual_plotext import PlotextPlot

import caseload.widgets.trend_chart  # noqa: F401  (plotext's drawing order made stable)
from caseload.measures.survival import MARKS, CurveResult

AT_RISK_WEEKS = (0, 13, 26, 52, 78, 104)


def curve_key(result: CurveResult | None) -> Text:
    """Two lines: the off-flow share at each mark, and the count at risk at the usual weeks."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if result is None:
        text.append("Reading the claims…", style="dim")
        return text
    if result.withheld:
        text.append(f"{result.label}: fewer than {result.suppress_below} claims, so no curve is shown "
                    "(the fairness rules suppress groups under 5).")
        return text
    if not result.points:
        text.append("No claims started in these cohort periods.", style="dim")
        return text
    marks = []
    for w in MARKS:
        p = result.mark(w)
        if p is not None and result.shown(p):
            marks.append(f"{w} wk {p.offflow_pct}%")
        else:
            marks.append(f"{w} wk –")
    text.append("Off benefit by ", style="bold")
    text.append(" · ".join(marks))
    text.append("\n")
    text.append("At risk ", style="bold")
    text.append(" · ".join(f"wk {w} {result.row_values(p)[1]}" for w in AT_RISK_WEEKS
                           if (p := result.mark(w)) is not None))
    if result.suppressed:
        text.append(f" · under {result.suppress_below} shows <{result.suppress_below}")
    return text


class OffflowCurve(PlotextPlot):
    DEFAULT_CSS = """
    OffflowCurve { height: 1fr; min-height: 8; }
    """

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__(**kwargs)
        self.title_text = ""
        self.result: CurveResult | None = None

    def show(self, title: str, result: CurveResult | None) -> None:
        self.title_text = title
        self.result = result
        self.refresh()

    def render(self):  # noqa: ANN201
        self._draw()
        return super().render()

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_figure()
        plt.title(self.title_text)
        plt.xlim(0, 104)
        plt.ylim(0, 100)
        plt.xticks(list(AT_RISK_WEEKS), [str(w) for w in AT_RISK_WEEKS])
        plt.yticks([0, 20, 40, 60, 80, 100])
        plt.xlabel("weeks since the claim started · % still on benefit")
        r = self.result
        if r is None or r.withheld:
            return
        shown = [p for p in r.points if r.shown(p)]
        for w in MARKS:
            plt.vline(w, "gray")
            p = r.mark(w)
            if p is not None and r.shown(p):
                plt.text(f"{w}w", w + 1, 96, color="default", alignment="left")
        if not shown:
            return
        xs, ys, prev = [], [], 100.0
        for p in shown:
            share = 100 * float(p.share_on_benefit)
            xs += [p.week, p.week]
            ys += [prev, share]
            prev = share
        xs.append(min(104, shown[-1].week + 1))
        ys.append(prev)
        plt.plot(xs, ys, marker="braille", color="cyan+")
