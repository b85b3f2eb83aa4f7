"""Cohort periods (DOMAIN section 4).

A cohort is the set of claims starting in one period. Four kinds of period:
calendar months, the official statistics' reporting months (Saturday after the
previous month's final Friday to this month's final Friday), calendar quarters
and calendar years.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

_DAY = timedelta(days=1)
_FRIDAY = 4


class CohortKind(StrEnum):
    CALENDAR_MONTH = "calendar-month"
    REPORTING_MONTH = "reporting-month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True, order=True)
class Period:
    """One cohort period, both ends inclusive. Orders by start date first."""

    start: date
    end: date
    kind: CohortKind
    label: str

    def __contains__(self, d: object) -> bool:
        return isinstance(d, date) and self.start <= d <= self.end

    @property
    def days(self) -> int:
        """Length of the period in days (inclusive)."""
        return (self.end - self.start).days + 1


class PeriodBoundsError(ValueError):
    """A report range that does not start and end on period boundaries."""


def final_friday(year: int, month: int) -> date:
    """The last Friday of the calendar month."""
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - _FRIDAY) % 7)


def _prev_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _month_label(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def _reporting_month(year: int, month: int) -> Period:
    py, pm = _prev_month(year, month)
    return Period(
        start=final_friday(py, pm) + _DAY,
        end=final_friday(year, month),
        kind=CohortKind.REPORTING_MONTH,
        label=_month_label(year, month),
    )


def period_of(kind: CohortKind, d: date) -> Period:
    """The period of ``kind`` that contains the date ``d``.

    For reporting months, a date after the final Friday of its calendar month
    belongs to the next month's period (so 2010-03-27 is in April 2010, and
    2010-12-25 is in January 2011).
    """
    kind = CohortKind(kind)
    if kind is CohortKind.CALENDAR_MONTH:
        last = calendar.monthrange(d.year, d.month)[1]
        return Period(
            start=date(d.year, d.month, 1),
            end=date(d.year, d.month, last),
            kind=kind,
            label=_month_label(d.year, d.month),
        )
    if kind is CohortKind.REPORTING_MONTH:
        if d <= final_friday(d.year, d.month):
            return _reporting_month(d.year, d.month)
        return _reporting_month(*_next_month(d.year, d.month))
    if kind is CohortKind.QUARTER:
        q = (d.month - 1) // 3 + 1
        first_month = 3 * q - 2
        last_month = 3 * q
        return Period(
            start=date(d.year, first_month, 1),
            end=date(d.year, last_month, calendar.monthrange(d.year, last_month)[1]),
            kind=kind,
            label=f"{d.year:04d}-Q{q}",
        )
    return Period(
        start=date(d.year, 1, 1),
        end=date(d.year, 12, 31),
        kind=kind,
        label=f"{d.year:04d}",
    )


def next_period(p: Period) -> Period:
    """The period of the same kind straight after ``p``."""
    return period_of(p.kind, p.end + _DAY)


def previous_period(p: Period) -> Period:
    """The period of the same kind straight before ``p``."""
    return period_of(p.kind, p.start - _DAY)


def periods_between(kind: CohortKind, first: date, last: date) -> list[Period]:
    """Every period from the one containing ``first`` to the one containing ``last``.

    Empty when ``first`` is after ``last``.
    """
    if first > last:
        return []
    out = [period_of(kind, first)]
    while out[-1].end < last:
        out.append(next_period(out[-1]))
    return out


def last_complete_periods(kind: CohortKind, as_at: date, n: int) -> list[Period]:
    """The last ``n`` complete periods as at ``as_at``, oldest first.

    A period is complete when its end is on or before the as-at date: the
    as-at date is the data date of an extract, which includes that day's
    on-flows, so a period ending on it already has all its members. (Its
    off-flow figures may still be interim; that is a separate status.)
    """
    if n <= 0:
        return []
    p = period_of(kind, as_at)
    if p.end > as_at:
        p = previous_period(p)
    out = [p]
    while len(out) < n:
        out.append(previous_period(out[-1]))
    out.reverse()
    return out


def check_bounds(kind: CohortKind, first: date, last: date) -> list[Period]:
    """Validate a report range and return its periods.

    ``first`` must be the first day of a period of ``kind``, ``last`` the last
    day of one, and ``first <= last``. Otherwise raise PeriodBoundsError naming
    the nearest period starts/ends, so the user can correct the range.
    """
    kind = CohortKind(kind)
    problems: list[str] = []
    p_first = period_of(kind, first)
    if p_first.start != first:
        problems.append(
            f"{first.isoformat()} is not the first day of a {kind} period; "
            f"the nearest period starts are {p_first.start.isoformat()} "
            f"and {next_period(p_first).start.isoformat()}"
        )
    p_last = period_of(kind, last)
    if p_last.end != last:
        problems.append(
            f"{last.isoformat()} is not the last day of a {kind} period; "
            f"the nearest period ends are {previous_period(p_last).end.isoformat()} "
            f"and {p_last.end.isoformat()}"
        )
    if first > last:
        problems.append(
            f"the first day {first.isoformat()} is after the last day {last.isoformat()}"
        )
    if problems:
        raise PeriodBoundsError(". ".join(problems))
    return periods_between(kind, first, last)
