"""Time to off-flow: the share of a cohort still on benefit at each week (Kaplan-Meier).

A claim that ended by the as-at date ends in week ``ceil((end - start) / 7)`` (an end 91 days after
the start is in week 13, 92 days in week 14), which is the off-flow rule of DOMAIN section 3: a claim
has off-flowed by N weeks exactly when it ended in week N or before. A claim still open at the
as-at date (or ending after it) is censored: it is known to be on benefit through week
``floor((as_at - start) / 7)`` and nothing after. The product-limit estimate

    S(w) = prod over k <= w of (1 - ended(k) / at_risk(k))

where ``at_risk(k)`` counts the claims neither ended nor censored before week k, uses interim
cohorts honestly: a claim too young to have reached week 26 says nothing about week 26. Where no
claim is censored before week N, 1 - S(N) is the N-week off-flow rate exactly (computed in
fractions, so the equality is exact).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from caseload.measures.cohorts import CohortKind, Period
from caseload.measures.rates import SUPPRESS_BELOW, suppressed, truncated_pct

LAST_WEEK = 104


@dataclass(frozen=True)
class CurvePoint:
    week: int
    at_risk: int  # neither ended nor censored before this week
    ended: int  # ended in this week
    censored: int  # still on benefit, last seen in this week
    share_on_benefit: Fraction  # S(week)

    @property
    def share_text(self) -> str:
        """S as a proportion to 4 places, rounded up, so the off-flow share 1 - S reads truncated."""
        return _ceil_places(self.share_on_benefit, 4)

    @property
    def offflow_pct(self) -> str:
        """100 * (1 - S) truncated to 2 decimals, as every displayed rate is."""
        off = 1 - self.share_on_benefit
        return truncated_pct(off.numerator, off.denominator) or "0.00"


def _ceil_places(x: Fraction, places: int) -> str:
    scale = 10**places
    up = -((-x.numerator * scale) // x.denominator)
    whole, frac = divmod(up, scale)
    return f"{whole}.{frac:0{places}d}"


def week_ended(start: date, end: date) -> int:
    """The claim week an end falls in: 0 for the start day, 13 for days 85-91."""
    return -(-(end - start).days // 7)


def kaplan_meier(claims: Iterable[tuple[date, date | None]], as_at: date,
                 last_week: int = LAST_WEEK) -> list[CurvePoint]:
    """The curve at weeks 0..last_week for claims given as (start, end or None); [] for none.

    Claims starting after ``as_at`` are not yet in any cohort and are left out.
    """
    ended = [0] * (last_week + 2)
    censored = [0] * (last_week + 2)
    n = 0
    for start, end in claims:
        if start > as_at:
            continue
        n += 1
        if end is not None and end <= as_at:
            ended[min(week_ended(start, end), last_week + 1)] += 1
        else:
            censored[min((as_at - start).days // 7, last_week + 1)] += 1
    if n == 0:
        return []
    points = []
    at_risk, share = n, Fraction(1)
    for w in range(last_week + 1):
        if at_risk:
            share *= Fraction(at_risk - ended[w], at_risk)
        points.append(CurvePoint(w, at_risk, ended[w], censored[w], share))
        at_risk -= ended[w] + censored[w]
    return points


CURVE_COLUMNS = ("week", "at_risk", "ended", "censored", "share_on_benefit")
MARKS = (13, 26, 52)


@dataclass(frozen=True)
class CurveQuery:
    cohort: CohortKind = CohortKind.REPORTING_MONTH
    first: dt.date | None = None
    last: dt.date | None = None
    last_n: int = 12
    benefit: str | None = None
    attribution: str = "onflow"
    as_at: dt.date | None = None
    office: str | None = None  # an office's name
    team: str | None = None  # a team's name
    group: tuple[str, str] | None = None  # (characteristic, value): ("sex", "F"), ("age_band", "25-49")


@dataclass
class CurveResult:
    query: CurveQuery
    as_at: dt.date
    periods: list[Period]
    label: str  # "team Team A", "office Northgate, sex F", "all claims in scope"
    scope: str
    size: int  # claims in the cohorts
    points: list[CurvePoint] = field(default_factory=list)
    suppressed: bool = False  # an equality group: counts under 5 are hidden
    withheld: bool = False  # an equality group under 5: no curve at all
    latest_import: dict | None = None

    @property
    def suppress_below(self) -> int:
        return SUPPRESS_BELOW

    def shown(self, p: CurvePoint) -> bool:
        """Whether the share at this week may be shown (suppressed curves stop under 5 at risk)."""
        return not self.suppressed or p.at_risk >= SUPPRESS_BELOW

    def row_values(self, p: CurvePoint) -> list[str]:
        """One CSV row: week, at_risk, ended, censored, share_on_benefit (suppression applied)."""
        if not self.suppressed:
            return [str(p.week), str(p.at_risk), str(p.ended), str(p.censored), p.share_text]
        t = SUPPRESS_BELOW
        return [str(p.week), suppressed(p.at_risk, t), suppressed(p.ended, t), suppressed(p.censored, t),
                p.share_text if self.shown(p) else ""]

    def mark(self, week: int) -> CurvePoint | None:
        return self.points[week] if week < len(self.points) else None
