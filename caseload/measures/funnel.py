"""A funnel plot's content: one point per unit (office, team, adviser) at (cohort size, rate), the
expected level and its 95% and 99.8% limit curves (measures/limits.py). Pure and shared by the HTML
export and the team view's funnel widget, so both draw the same points.

A unit's point pools its rows at one milestone over the cohort periods shown: the off-flows and the
cohort sizes are summed (never rates averaged), exactly as a roll-up pools them. The expected level
is the one its rows share; rows with different levels (or none) give no level and no verdict. A point
is interim when any of its rows is. Points come in name order; nothing here ranks them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from caseload.measures.limits import Limits, Verdict, control_limits
from caseload.measures.limits import verdict as verdict_of
from caseload.measures.offflow import OffflowRow
from caseload.measures.rates import truncated_pct

LIMIT_CURVES = ("lower998", "lower95", "upper95", "upper998")


@dataclass(frozen=True)
class FunnelPoint:
    name: str
    size: int
    offflows: int
    target_pct: int | None
    status: str  # final | interim

    @property
    def rate_pct(self) -> str:
        return truncated_pct(self.offflows, self.size) or "0.00"

    @property
    def rate(self) -> float:
        return 100.0 * self.offflows / self.size

    @property
    def verdict(self) -> Verdict | None:
        return verdict_of(self.offflows, self.size, self.target_pct, self.status)

    @property
    def limits(self) -> Limits | None:
        return None if self.target_pct is None else limits(self.size, self.target_pct)

    @property
    def label(self) -> str:
        """"Team A 27/50 54.00% ≈ consistent (interim)": what a legend line or a tooltip says."""
        text = f"{self.name} {self.offflows}/{self.size} {self.rate_pct}%"
        v = self.verdict
        if v is not None:
            text += f" {v.short}"
        if self.status != "final":
            text += " (interim)"
        return text


@lru_cache(maxsize=4096)
def limits(size: int, target_pct: float) -> Limits:
    return control_limits(size, target_pct)


def funnel_points(rows: Iterable[OffflowRow], milestone: int, hidden: Iterable[str] = ()) -> list[FunnelPoint]:
    """Each group's rows at ``milestone`` pooled into one point, in code-point order of the names.

    ``hidden`` names groups left out (suppressed counts); empty cohorts give no point.
    """
    skip = set(hidden)
    acc: dict[str, list] = {}
    for r in rows:
        if r.milestone_weeks != milestone or r.group in skip:
            continue
        a = acc.setdefault(r.group, [0, 0, set(), "final"])
        a[0] += r.offflows
        a[1] += r.cohort_size
        a[2].add(r.target_pct)
        if r.status != "final":
            a[3] = "interim"
    out = []
    for name in sorted(acc):
        off, size, targets, status = acc[name]
        if size == 0:
            continue
        target = next(iter(targets)) if len(targets) == 1 else None
        out.append(FunnelPoint(name, size, off, target, status))
    return out


def common_target(points: Sequence[FunnelPoint]) -> int | None:
    """The expected level every point shares, or None (then no curves can be drawn)."""
    targets = {p.target_pct for p in points}
    return next(iter(targets)) if len(targets) == 1 else None


def curve_sizes(largest: int, steps: int = 48) -> list[int]:
    """Cohort sizes from 1 to ``largest`` at which to draw the limit curves, spaced evenly in log size
    (the curves bend most at small sizes), every integer included while they are few."""
    largest = max(1, largest)
    if largest <= steps:
        return list(range(1, largest + 1))
    got = {1, largest}
    for i in range(steps + 1):
        got.add(max(1, round(math.exp(math.log(largest) * i / steps))))
    return sorted(got)


def limit_curves(target_pct: float, largest: int, steps: int = 48) -> dict[str, list[tuple[int, float]]]:
    """The four interpolated limit curves as (size, rate %) from size 1 to ``largest``."""
    sizes = curve_sizes(largest, steps)
    return {which: [(n, limits(n, target_pct).rate(which)) for n in sizes] for which in LIMIT_CURVES}
