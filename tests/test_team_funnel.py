"""The team view's funnel plot (4 or u) and time-to-off-flow curve (5), with Pilot on the demo office.

What the screen shows is compared with the store's own roll-up and curve on the same database.
Snapshots of both at 120x40 and 80x24.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from rich.text import Text
from textual.widgets import Static, TabbedContent

from caseload.measures.cohorts import CohortKind
from caseload.measures.funnel import funnel_points
from caseload.screens.team_view import ExplainScreen, TeamViewScreen
from caseload.store.survival import CurveQuery, curve
from caseload.widgets.cohort_matrix import CohortMatrix
from caseload.widgets.funnel_chart import FunnelChart
from caseload.widgets.offflow_curve import OffflowCurve
from test_app_support import config_dir, demo, demo_db, demo_office, make_app, open_screen, settle  # noqa: F401
from test_team_view import store_rows

SIZE = (120, 40)


def plain(widget: Static) -> str:
    content = widget.content
    return content.plain if isinstance(content, Text) else str(content)


async def open_funnel(pilot) -> TeamViewScreen:  # noqa: ANN001
    screen = await open_screen(pilot, TeamViewScreen)
    await pilot.press("u")
    await settle(pilot)
    return screen


async def test_a_team_leaders_funnel_has_each_team_pooled_as_the_roll_up_counts(make_app, demo, demo_db):
    _, result = store_rows(demo_db, demo.leader, demo.clock, group_by="team", cohort=CohortKind.REPORTING_MONTH,
                           last_n=12, benefit="JSA")
    app = make_app(as_staff=demo.leader)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_funnel(pilot)
        assert screen.query_one(TabbedContent).active == "funnel"
        chart = screen.query_one(FunnelChart)
        assert chart.has_focus
        cell = screen.query_one(CohortMatrix).cell
        period, milestone = (cell.period, cell.milestone) if cell else (result.periods[-1], 13)
        want = funnel_points([r for r in result.rows if r.period.start == period.start], milestone)
        assert [(p.name, p.offflows, p.size) for p in chart.points] == [(p.name, p.offflows, p.size) for p in want]
        assert len(chart.points) > 1
        assert [p.name for p in chart.points] == sorted(p.name for p in chart.points)  # name order, never ranked
        assert f"{milestone}-week" in chart.title_text and period.label in chart.title_text
        key = plain(screen.query_one("#funnel-key", Static)).splitlines()
        assert key[0] == "▸1 " + chart.points[0].name
        first = chart.points[0]
        assert key[1].startswith(f"  {first.offflows}/{first.size} {first.rate_pct}% {first.verdict.short}")
        assert [line[1:] for line in key[::2]] == [f"{i + 1} {p.name}" for i, p in enumerate(chart.points)]
        # → moves the choice; m moves through the milestones.
        await pilot.press("right")
        await settle(pilot)
        assert chart.selected == 1
        assert plain(screen.query_one("#funnel-key", Static)).splitlines()[2].startswith("▸2 ")
        await pilot.press("m")
        await settle(pilot)
        assert f"{screen.data.milestones[1]}-week" in chart.title_text
        assert chart.selected == 1  # the same unit stays chosen


async def test_enter_on_a_point_opens_its_explain_list(make_app, demo, demo_db):
    app = make_app(as_staff=demo.leader)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_funnel(pilot)
        chart = screen.query_one(FunnelChart)
        point = chart.points[0]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ExplainScreen)
        e = app.screen.explanation
        assert (e.denominator, e.numerator) == (point.size, point.offflows)
        assert app.screen.label == point.name


async def test_a_team_managers_funnel_has_each_adviser(make_app, demo, demo_db):
    _, result = store_rows(demo_db, demo.first_manager, demo.clock, group_by="adviser",
                           cohort=CohortKind.REPORTING_MONTH, last_n=12, benefit="JSA")
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_funnel(pilot)
        chart = screen.query_one(FunnelChart)
        f = screen._funnel
        want = funnel_points([r for r in result.rows if r.period.start == f.period.start], f.milestone)
        assert [(p.name, p.offflows, p.size) for p in chart.points] == [(p.name, p.offflows, p.size) for p in want]
        assert f.group_by == "adviser" and chart.title_text.startswith("Advisers:")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ExplainScreen)
        assert app.screen.explanation.denominator == chart.points[0].size


def _store_curve(db, staff_id, clock, **q):  # noqa: ANN001, ANN003, ANN202
    from caseload.store.access import actor_for
    from caseload.store.db import open_database

    engine = open_database(str(db), clock)
    try:
        with engine.connect() as conn:
            return curve(conn, actor_for(conn, staff_id), CurveQuery(**q))
    finally:
        engine.dispose()


async def test_the_curve_follows_the_group_and_the_equality_group(make_app, demo, demo_db):
    app = make_app(as_staff=demo.leader)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot, TeamViewScreen)
        await pilot.press("5")
        await settle(pilot)
        office = screen.group
        want = _store_curve(demo_db, demo.leader, demo.clock, cohort=CohortKind.REPORTING_MONTH, last_n=12,
                            benefit="JSA", office=office.name)
        shown = screen.query_one(OffflowCurve).result
        assert shown.points == want.points and shown.label == f"office {office.name}"
        key = plain(screen.query_one("#curve-key", Static))
        p13 = want.points[13]
        assert f"13 wk {p13.offflow_pct}%" in key
        assert f"wk 0 {want.points[0].at_risk}" in key and f"wk 52 {want.points[52].at_risk}" in key
        # g: the first team's curve.
        await pilot.press("g")
        await settle(pilot)
        team = screen.group
        assert screen.query_one(OffflowCurve).result.label == f"team {team.name}"
        # y: an equality group, suppressed as the fairness views are.
        groups = plain(screen.query_one("#curve-groups", Static))
        assert groups.startswith("Equality group (y): everyone")
        await pilot.press("y")
        await settle(pilot)
        by, value = screen._equality_options[0]
        r = screen.query_one(OffflowCurve).result
        assert r.suppressed and r.query.group == (by, value)
        want = _store_curve(demo_db, demo.leader, demo.clock, cohort=CohortKind.REPORTING_MONTH, last_n=12,
                            benefit="JSA", team=team.name, group=(by, value))
        assert r.points == want.points and r.withheld == want.withheld
        if not r.withheld:
            assert all(v != "" or p.at_risk < 5 for p in r.points for v in [r.row_values(p)[4]])


async def test_the_equality_curve_is_for_team_leaders(make_app, demo, demo_db):
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(pilot, TeamViewScreen)
        await pilot.press("5")
        await settle(pilot)
        assert screen.query_one(OffflowCurve).result.label.startswith("team ")
        await pilot.press("y")
        await settle(pilot)
        assert screen.query_one(OffflowCurve).result.query.group is None


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_snapshot_funnel(snap_compare, make_app, demo, size) -> None:
    assert snap_compare(make_app(as_staff=demo.leader), terminal_size=size, run_before=open_funnel)


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_snapshot_curve(snap_compare, make_app, demo, size) -> None:
    async def open_curve(pilot) -> None:  # noqa: ANN001
        await open_screen(pilot, TeamViewScreen)
        await pilot.press("5")
        await settle(pilot)

    assert snap_compare(make_app(as_staff=demo.first_manager), terminal_size=size, run_before=open_curve)
