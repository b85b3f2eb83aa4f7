"""Inline SVG for the HTML export: a funnel plot (each unit's rate against its cohort size, with the
expected level and its 95% and 99.8% limits) and the time-to-off-flow curve. Self-contained (no
scripts, no fonts, no links), sized by viewBox so it prints within an A4 page's width, and never
colour alone: limits differ by dash, points by fill and a number, and the words say it all again.
"""

from __future__ import annotations

from html import escape
from typing import Any

from caseload.measures.funnel import FunnelPoint, common_target, limit_curves
from caseload.measures.survival import MARKS, CurveResult

INK, GREY, LEVEL = "#1a1a1a", "#777", "#1f4e79"
# The legend under the plot: one line per unit, in name order.
LEGEND_LINE = 14
AT_RISK_WEEKS = (0, 13, 26, 52, 78, 104)


def e(text: Any) -> str:
    return escape(str(text), quote=True)


def _nice_max(n: int) -> int:
    """A round axis end at or above n: 10, 20, 50, 100, 200, 500, ..."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= n:
                return m * step
        step *= 10


def funnel_svg(points: list[FunnelPoint], milestone: int, heading: str) -> str:
    """One funnel plot: points numbered in name order, the legend below in the same order."""
    width, plot_h = 640, 250
    left, right, top, bottom = 44, 150, 14, 34
    pw = width - left - right
    height = top + plot_h + bottom + LEGEND_LINE * (len(points) + 1) + 6
    x_max = _nice_max(max((p.size for p in points), default=1))
    target = common_target(points)

    def x_of(n: float) -> float:
        return left + pw * n / x_max

    def y_of(pct: float) -> float:
        return top + plot_h * (1 - max(0.0, min(100.0, pct)) / 100)

    label = f"Funnel plot of the {milestone}-week off-flow rate for {heading}: each unit's rate against its cohort size"
    svg = [f'<svg class="funnel" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{e(label)}">',
           f"<title>{e(label)}</title>"]
    for pct in range(0, 101, 20):
        y = y_of(pct)
        svg.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        svg.append(f'<text x="{left - 6}" y="{y + 3:.1f}" text-anchor="end">{pct}%</text>')
    for i in range(0, 6):
        n = x_max * i / 5
        svg.append(f'<text x="{x_of(n):.1f}" y="{top + plot_h + 14}" text-anchor="middle">{n:g}</text>')
    svg.append(f'<text x="{left + pw / 2:.1f}" y="{top + plot_h + 28}" text-anchor="middle">cohort size '
               f'(claims)</text>')
    svg.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#555"/>')
    svg.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + pw}" y2="{top + plot_h}" stroke="#555"/>')
    if target is not None:
        y = y_of(target)
        svg.append(f'<line class="expected" x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" '
                   f'stroke="{LEVEL}" stroke-width="1.5"/>')
        svg.append(f'<text x="{left + pw + 4}" y="{y + 3:.1f}">expected {target}%</text>')
        curves = limit_curves(target, x_max)
        styles = {"lower95": "5 3", "upper95": "5 3", "lower998": "1.5 2.5", "upper998": "1.5 2.5"}
        for which, line in curves.items():
            pts = " ".join(f"{x_of(n):.1f},{y_of(r):.1f}" for n, r in line)
            svg.append(f'<polyline class="limit {which}" points="{pts}" fill="none" stroke="{GREY}" '
                       f'stroke-width="1.2" stroke-dasharray="{styles[which]}"/>')
        end_y = {w: y_of(line[-1][1]) for w, line in curves.items()}
        placed = -1e9
        for which, text in sorted(((w, ("95%" if "95" in w else "99.8%") + (" upper" if "upper" in w else " lower"))
                                   for w in curves), key=lambda wt: end_y[wt[0]]):
            y = max(end_y[which], placed + 11)
            placed = y
            svg.append(f'<text x="{left + pw + 4}" y="{y + 3:.1f}" fill="{GREY}">{e(text)} limit</text>')
    for i, p in enumerate(points, start=1):
        x, y = x_of(p.size), y_of(p.rate)
        fill = INK if p.status == "final" else "#fff"
        svg.append(f'<circle class="unit" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{fill}" stroke="{INK}" '
                   f'stroke-width="1.5" data-name="{e(p.name)}" data-size="{p.size}" data-offflows="{p.offflows}">'
                   f'<title>{e(p.label)}</title></circle>')
        svg.append(f'<text class="point-label" x="{x + 5:.1f}" y="{y - 4:.1f}">{i}</text>')
    ly = top + plot_h + bottom + 8
    svg.append(f'<text x="{left}" y="{ly}">In name order (not ranked); filled: final, hollow: interim; '
               f'dashed: 95% limits, dotted: 99.8% limits.</text>')
    for i, p in enumerate(points, start=1):
        svg.append(f'<text class="legend" x="{left}" y="{ly + LEGEND_LINE * i}">{i}. {e(p.label)}</text>')
    svg.append("</svg>")
    return "\n".join(svg)


def curve_svg(result: CurveResult) -> str:
    """The share still on benefit by week (a step line), the 13/26/52-week marks with the off-flow share
    there, and the count at risk under the axis."""
    width, plot_h = 640, 220
    left, right, top, bottom = 44, 20, 14, 60
    pw = width - left - right
    height = top + plot_h + bottom
    last = 104

    def x_of(w: float) -> float:
        return left + pw * w / last

    def y_of(share: float) -> float:
        return top + plot_h * (1 - share)

    label = f"Time to off-flow for {result.label}: the share still on benefit at each week"
    svg = [f'<svg class="curve" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{e(label)}">',
           f"<title>{e(label)}</title>"]
    for pct in range(0, 101, 20):
        y = y_of(pct / 100)
        svg.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        svg.append(f'<text x="{left - 6}" y="{y + 3:.1f}" text-anchor="end">{pct}%</text>')
    svg.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#555"/>')
    svg.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + pw}" y2="{top + plot_h}" stroke="#555"/>')
    shown = [p for p in result.points if result.shown(p)]
    if shown:
        path = [f"M{x_of(0):.1f},{y_of(1.0):.1f}"]
        for p in shown:
            path.append(f"H{x_of(p.week):.1f}V{y_of(float(p.share_on_benefit)):.1f}")
        path.append(f"H{x_of(shown[-1].week + 1 if shown[-1].week < last else last):.1f}")
        svg.append(f'<path class="km" d="{"".join(path)}" fill="none" stroke="{LEVEL}" stroke-width="1.8"/>')
    for w in MARKS:
        x = x_of(w)
        svg.append(f'<line class="mark" x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="{GREY}" '
                   f'stroke-dasharray="3 3"/>')
        p = result.mark(w)
        text = f"{w} wk"
        if p is not None and result.shown(p):
            text += f": {p.offflow_pct}% off"
        svg.append(f'<text class="mark-label" x="{x + 3:.1f}" y="{top + 10}">{e(text)}</text>')
    svg.append(f'<text x="{left - 6}" y="{top + plot_h + 14}" text-anchor="end">week</text>')
    svg.append(f'<text x="{left - 6}" y="{top + plot_h + 30}" text-anchor="end">at risk</text>')
    for w in AT_RISK_WEEKS:
        x = x_of(w)
        svg.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{w}</text>')
        p = result.mark(w)
        if p is not None:
            svg.append(f'<text class="at-risk" x="{x:.1f}" y="{top + plot_h + 30}" text-anchor="middle" '
                       f'data-week="{w}">{e(result.row_values(p)[1])}</text>')
    svg.append(f'<text x="{left}" y="{top + plot_h + 50}">Share still on benefit (Kaplan-Meier); claims open at the '
               f'as-at date count until their last week and then leave the count at risk.</text>')
    svg.append("</svg>")
    return "\n".join(svg)
