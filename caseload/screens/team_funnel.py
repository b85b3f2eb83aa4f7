"""The team view's funnel plot (4 or u) and time-to-off-flow curve (5), kept apart from the rest of
the team view so that file stays about the matrix, the trend and the advisers.

The funnel shows each team of the office (or each adviser, for a team manager) for the cohort period
and milestone under the matrix cursor (m moves through the milestones), with the expected level and
its limits; enter on a point opens its explain list. The curve is the Kaplan-Meier share still on
benefit for the group chosen with g (the office or a team), or for a team leader one equality group
(y moves through them), suppressed under 5 as the fairness views are. The claims behind the curve
are read in a thread worker, like every other read of the team view.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.message import Message
from textual.widgets import Static, TabbedContent

from caseload.measures.cohorts import Period
from caseload.measures.funnel import FunnelPoint, funnel_points
from caseload.measures.offflow import PERSONAL
from caseload.store.access import Actor, Role
from caseload.measures.survival import CurveQuery, CurveResult
from caseload.widgets.cohort_matrix import CellKey
from caseload.widgets.funnel_chart import FunnelChart, funnel_key
from caseload.widgets.offflow_curve import OffflowCurve, curve_key

FUNNEL_HELP = ("Funnel (4 or u): each unit, drawn as its label, at its cohort size and rate for the matrix "
               "cursor's period and milestone (m: milestone); the expected level, its 95% (dotted) and 99.8% "
               "(solid) limits. ←/→ choose, enter explains. Name order, never ranked.")


@dataclass(frozen=True)
class Funnel:
    title: str
    group_by: str  # "team" or "adviser": what a point's explain list groups by
    period: Period | None
    milestone: int | None
    points: tuple[FunnelPoint, ...]


def funnel_for(data, period: Period | None, milestone: int | None) -> Funnel:  # noqa: ANN001
    """The units of the team view's data for one period and milestone, in name order."""
    if data.unit_rows:
        rows, group_by, units = data.unit_rows, "adviser", "advisers"
    else:
        rows = tuple(r for g in data.groups if g.group_by == "team" for r in g.rows)
        group_by, units = "team", "teams"
    if period is None and data.periods:
        period = data.periods[-1]
    if milestone is None and data.milestones:
        milestone = data.milestones[0]
    if period is None or milestone is None:
        return Funnel("No cohorts to plot.", group_by, period, milestone, ())
    points = funnel_points((r for r in rows if r.period.start == period.start), milestone)
    title = (f"{units.capitalize()}: {milestone}-week off-flow rate against cohort size, {period.label} "
             f"({data.choice.benefit or 'all benefits'}), as at {data.as_at.isoformat()}")
    return Funnel(title, group_by, period, milestone, tuple(points))


def equality_values(engine, actor: Actor, data) -> list[tuple[str, str]]:  # noqa: ANN001
    """The equality groups with claims in the office's cohorts, for a team leader's curve."""
    from dataclasses import replace

    from caseload.store.offflow import offflow

    out = []
    with engine.connect() as conn:
        for by in PERSONAL:
            result = offflow(conn, actor, replace(data.query, group_by=by, milestones=(13,)))
            out += [(by, name) for name in sorted({r.group for r in result.rows})]
    return out


def read_curve(engine, actor: Actor, data, group, equality: tuple[str, str] | None) -> CurveResult:  # noqa: ANN001
    from caseload.store.survival import curve

    q = CurveQuery(cohort=data.choice.kind, last_n=data.choice.periods, benefit=data.choice.benefit,
                   attribution=data.query.attribution, as_at=data.as_at,
                   office=group.name if group is not None and group.group_by == "office" else None,
                   team=group.name if group is not None and group.group_by == "team" else None,
                   group=equality)
    with engine.connect() as conn:
        return curve(conn, actor, q)


class FunnelCurveMixin:
    """What TeamViewScreen adds for the funnel and the curve (it provides data, group, actor, caseload)."""

    class CurveRead(Message):
        def __init__(self, result: CurveResult, equality: list | None) -> None:
            super().__init__()
            self.result = result
            self.equality = equality

    _funnel_milestone: int | None = None
    _funnel: Funnel | None = None
    _curve_result: CurveResult | None = None
    _equality_options: list | None = None
    _equality_index: int = -1  # -1: the whole group, else an index into _equality_options

    # The funnel and curve tabs stay out of the tab bar until asked for (4, u or 5), so the team view
    # reads as before for whoever does not use them.

    def hide_extra_tabs(self) -> None:
        tabs = self.query_one(TabbedContent)
        for tab in ("funnel", "curve"):
            tabs.hide_tab(tab)

    def reveal_tab(self, tab: str) -> None:
        if tab in ("funnel", "curve"):
            self.query_one(TabbedContent).show_tab(tab)

    # The funnel

    def _funnel_cell(self) -> tuple[Period | None, int | None]:
        from caseload.widgets.cohort_matrix import CohortMatrix

        cell: CellKey | None = self.query_one(CohortMatrix).cell
        period = cell.period if cell is not None else None
        milestone = self._funnel_milestone or (cell.milestone if cell is not None else None)
        return period, milestone

    def show_funnel(self) -> None:
        data = self.data
        if data is None:
            return
        period, milestone = self._funnel_cell()
        f = funnel_for(data, period, milestone)
        self._funnel = f
        chart = self.query_one(FunnelChart)
        keep = chart.point.name if chart.point is not None else None
        chart.show(f.title, f.points, keep)
        self._funnel_key()

    def _funnel_key(self) -> None:
        chart = self.query_one(FunnelChart)
        self.query_one("#funnel-key", Static).update(funnel_key(chart.points, chart.selected))

    def on_funnel_chart_selected(self, message: FunnelChart.Selected) -> None:
        self._funnel_key()

    def on_funnel_chart_chosen(self, message: FunnelChart.Chosen) -> None:
        from caseload.screens.team_view import GroupView

        f, data = self._funnel, self.data
        if f is None or data is None or f.period is None or f.milestone is None:
            return
        p = message.point
        group = GroupView(f"{f.group_by}:{p.name}", p.name, f.group_by, p.name, (), {})
        self._explain(data.actor, data.query, group, CellKey(f.period, f.milestone))

    def action_funnel_milestone(self) -> None:
        data = self.data
        if data is None or not data.milestones:
            return
        _, current = self._funnel_cell()
        ms = list(data.milestones)
        i = ms.index(current) if current in ms else -1
        self._funnel_milestone = ms[(i + 1) % len(ms)]
        self.show_funnel()

    # The curve

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "curve":
            self.load_curve()

    def curve_tab_active(self) -> bool:
        return self.query_one(TabbedContent).active == "curve"

    def load_curve(self) -> None:
        data, actor = self.data, self.actor
        if data is None or actor is None:
            return
        equality = None
        if self._equality_options and 0 <= self._equality_index < len(self._equality_options):
            equality = self._equality_options[self._equality_index]
        want_options = self._equality_options is None and actor.role is Role.TEAM_LEADER
        self.query_one("#curve-key", Static).update(curve_key(None))
        self._read_curve(actor, data, self.group, equality, want_options)

    @work(thread=True, exclusive=True, group="team-view-curve")
    def _read_curve(self, actor: Actor, data, group, equality, want_options: bool) -> None:  # noqa: ANN001
        engine = self.caseload.engine

        def read() -> tuple:
            options = equality_values(engine, actor, data) if want_options else None
            return read_curve(engine, actor, data, group, equality), options

        self.read_and_post(read, lambda got: self.CurveRead(*got))

    def on_funnel_curve_mixin_curve_read(self, message: CurveRead) -> None:
        if message.equality is not None:
            self._equality_options = message.equality
        self._curve_result = message.result
        r = message.result
        data = self.data
        size = "<5" if r.withheld else str(r.size)
        benefit = (data.choice.benefit or "all benefits") if data is not None else ""
        title = (f"Time to off-flow: {r.label} · {size} claims, cohorts {r.periods[0].label} to "
                 f"{r.periods[-1].label} ({benefit}), as at {r.as_at.isoformat()}")
        self.query_one(OffflowCurve).show(title, r)
        self.query_one("#curve-key", Static).update(curve_key(r))
        self.query_one("#curve-groups", Static).update(self._equality_text())

    def _equality_text(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        actor = self.actor
        if actor is None or actor.role is not Role.TEAM_LEADER:
            text.append("g: office or team · share still on benefit by week (Kaplan-Meier)", style="dim")
            return text
        opts = self._equality_options or []
        text.append("Equality group (y): ", style="bold")
        current = self._equality_index
        names = ["everyone"] + [f"{by.replace('_', ' ')} {v}" for by, v in opts]
        for i, name in enumerate(names):
            if i:
                text.append(" · ")
            text.append(name, style="reverse bold" if i - 1 == current else "")
        return text

    def action_equality_group(self) -> None:
        actor = self.actor
        if actor is None or actor.role is not Role.TEAM_LEADER:
            self.notify("The curve by equality group is for team leaders, as the equality views are.")
            return
        if not self._equality_options:
            return
        self._equality_index += 1
        if self._equality_index >= len(self._equality_options):
            self._equality_index = -1
        if not self.curve_tab_active():
            self.action_show_tab("curve")  # activating the tab reads the curve
            return
        self.load_curve()
