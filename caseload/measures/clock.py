"""The claim clock (DOMAIN section 3).

Weeks are always 7 days, never months: the 13/26/52-week points are
``start + 91/182/364`` days, and 52 weeks is not a year. Every function takes
the as-at date explicitly; nothing here asks the system for today's date.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

MILESTONES: tuple[int, ...] = (13, 26, 52)
APPROACHING_DAYS = 28
JUST_PASSED_DAYS = 14
BEYOND_DAYS = 365
CHURN_DAYS = 91
RECLAIM_DAYS = 7
RECENT_DAYS = 91
REVIEW_DAYS = 28
RED_PLAN_DAYS = 62

DURATION_BANDS: tuple[str, ...] = ("0-91", "92-182", "183-364", "365+")


def milestone_date(start: date, weeks: int) -> date:
    """The day a claim reaches ``weeks`` weeks: ``start + 7*weeks`` days."""
    return start + timedelta(days=7 * weeks)


def duration_days(start: date, end: date | None, as_at: date) -> int:
    """Claim duration in days as at ``as_at``.

    An end date after the as-at date is not yet known at that date, so such a
    claim is measured as open (``as_at - start``).
    """
    if end is not None and end <= as_at:
        return (end - start).days
    return (as_at - start).days


def offflowed_by(start: date, end: date | None, weeks: int, as_at: date) -> bool:
    """True when the claim had ended, as at ``as_at``, within ``weeks`` weeks (inclusive)."""
    return end is not None and end <= as_at and (end - start).days <= 7 * weeks


def next_milestone(
    start: date, as_at: date, milestones: Sequence[int] = MILESTONES
) -> tuple[int, date] | None:
    """The first milestone on or after ``as_at`` as ``(weeks, date)``.

    None when every milestone has passed (the claim is beyond the last one and
    must be listed by the beyond-52 rules instead).
    """
    for weeks in sorted(milestones):
        when = milestone_date(start, weeks)
        if when >= as_at:
            return weeks, when
    return None


def approaching(
    start: date,
    as_at: date,
    window: int = APPROACHING_DAYS,
    milestones: Sequence[int] = MILESTONES,
) -> int | None:
    """The milestone (weeks) due in 0..``window`` days from ``as_at``, else None.

    A milestone falling on the as-at date itself is approaching (0 days).
    """
    for weeks in sorted(milestones):
        gap = (milestone_date(start, weeks) - as_at).days
        if 0 <= gap <= window:
            return weeks
    return None


def just_passed(
    start: date,
    as_at: date,
    last_review: date | None,
    window: int = JUST_PASSED_DAYS,
    milestones: Sequence[int] = MILESTONES,
) -> int | None:
    """The milestone (weeks) passed 1..``window`` days ago with no review since, else None.

    ``last_review`` is the latest conference item or RAG review for the claim.
    A review on the milestone day itself counts as a review since the milestone.
    When two milestones qualify (only possible with a very wide window), the
    most recent one is returned.
    """
    for weeks in sorted(milestones, reverse=True):
        when = milestone_date(start, weeks)
        gap = (as_at - when).days
        if 1 <= gap <= window and (last_review is None or last_review < when):
            return weeks
    return None


def beyond_52(start: date, end: date | None, as_at: date) -> bool:
    """An open claim (as at ``as_at``) with a duration of 365 days or more."""
    is_open = end is None or end > as_at
    return is_open and (as_at - start).days >= BEYOND_DAYS


def duration_band(days: int) -> str:
    """The report band for a duration in days.

    Raises ValueError for a negative duration (a claim starting after the
    as-at date has no duration yet and belongs in no band).
    """
    if days < 0:
        raise ValueError(f"a duration cannot be negative: {days} days")
    if days <= 91:
        return DURATION_BANDS[0]
    if days <= 182:
        return DURATION_BANDS[1]
    if days <= 364:
        return DURATION_BANDS[2]
    return DURATION_BANDS[3]


def is_churn(end: date, next_start: date) -> bool:
    """A re-claim starting 0..91 days after the previous claim ended."""
    return 0 <= (next_start - end).days <= CHURN_DAYS


def is_quick_reclaim(end: date, next_start: date) -> bool:
    """A re-claim starting 0..7 days after the previous claim ended (not an OPtE off-flow)."""
    return 0 <= (next_start - end).days <= RECLAIM_DAYS
