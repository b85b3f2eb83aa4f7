"""The claim clock: DOMAIN section 3 and the date examples of section 13."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseload.measures.clock import (
    APPROACHING_DAYS,
    BEYOND_DAYS,
    CHURN_DAYS,
    DURATION_BANDS,
    JUST_PASSED_DAYS,
    MILESTONES,
    RECENT_DAYS,
    RECLAIM_DAYS,
    RED_PLAN_DAYS,
    REVIEW_DAYS,
    approaching,
    beyond_52,
    duration_band,
    duration_days,
    is_churn,
    is_quick_reclaim,
    just_passed,
    milestone_date,
    next_milestone,
    offflowed_by,
)

D = timedelta


def test_constants() -> None:
    assert MILESTONES == (13, 26, 52)
    assert (APPROACHING_DAYS, JUST_PASSED_DAYS, BEYOND_DAYS) == (28, 14, 365)
    assert (CHURN_DAYS, RECLAIM_DAYS, RECENT_DAYS, REVIEW_DAYS, RED_PLAN_DAYS) == (91, 7, 91, 28, 62)
    assert DURATION_BANDS == ("0-91", "92-182", "183-364", "365+")


@pytest.mark.parametrize(
    ("start", "weeks", "expected"),
    [
        (date(2011, 4, 4), 13, date(2011, 7, 4)),
        (date(2011, 4, 4), 26, date(2011, 10, 3)),
        (date(2011, 4, 4), 52, date(2012, 4, 2)),
        # Not the "3 months" calendar rule, which would give 2011-04-30.
        (date(2011, 1, 31), 13, date(2011, 5, 2)),
        (date(2012, 2, 29), 13, date(2012, 5, 30)),
        (date(2012, 2, 29), 52, date(2013, 2, 27)),
    ],
)
def test_worked_milestone_dates(start: date, weeks: int, expected: date) -> None:
    assert milestone_date(start, weeks) == expected


def test_52_weeks_is_not_a_year() -> None:
    assert milestone_date(date(2011, 4, 4), 52) != date(2012, 4, 4)


def test_duration_days_open_and_ended() -> None:
    start = date(2011, 4, 4)
    assert duration_days(start, None, date(2011, 5, 4)) == 30
    assert duration_days(start, date(2011, 4, 24), date(2011, 5, 4)) == 20
    assert duration_days(start, date(2011, 5, 4), date(2011, 5, 4)) == 30
    # An end after the as-at date is not known yet: measured as open.
    assert duration_days(start, date(2011, 6, 1), date(2011, 5, 4)) == 30


def test_offflowed_by_13_weeks_day_91_counts_day_92_does_not() -> None:
    start = date(2011, 4, 4)
    as_at = date(2012, 1, 1)
    assert offflowed_by(start, start + D(91), 13, as_at) is True
    assert offflowed_by(start, start + D(92), 13, as_at) is False
    assert offflowed_by(start, start + D(92), 26, as_at) is True
    assert offflowed_by(start, start + D(0), 13, as_at) is True


def test_offflowed_by_needs_end_known_at_as_at() -> None:
    start = date(2011, 4, 4)
    end = start + D(30)
    assert offflowed_by(start, None, 13, date(2012, 1, 1)) is False
    assert offflowed_by(start, end, 13, end) is True
    assert offflowed_by(start, end, 13, end - D(1)) is False


def test_next_milestone() -> None:
    start = date(2011, 4, 4)
    assert next_milestone(start, start) == (13, date(2011, 7, 4))
    assert next_milestone(start, date(2011, 7, 4)) == (13, date(2011, 7, 4))
    assert next_milestone(start, date(2011, 7, 5)) == (26, date(2011, 10, 3))
    assert next_milestone(start, date(2012, 4, 2)) == (52, date(2012, 4, 2))
    assert next_milestone(start, date(2012, 4, 3)) is None
    assert next_milestone(start, date(2011, 7, 5), milestones=(13, 65)) == (65, date(2012, 7, 2))


@pytest.mark.parametrize(
    ("days_before", "expected"),
    [(-1, None), (0, 13), (1, 13), (28, 13), (29, None)],
)
def test_approaching_window_edges(days_before: int, expected: int | None) -> None:
    start = date(2011, 4, 4)
    as_at = date(2011, 7, 4) - D(days_before)
    assert approaching(start, as_at) == expected


def test_approaching_later_milestones_and_window_setting() -> None:
    start = date(2011, 4, 4)
    assert approaching(start, date(2011, 9, 5)) == 26  # 28 days before 2011-10-03
    assert approaching(start, date(2012, 3, 5)) == 52  # 28 days before 2012-04-02
    assert approaching(start, date(2011, 6, 4), window=35) == 13  # 30 days before
    assert approaching(start, date(2011, 6, 4)) is None


@pytest.mark.parametrize(
    ("days_after", "expected"),
    [(0, None), (1, 13), (14, 13), (15, None)],
)
def test_just_passed_window_edges(days_after: int, expected: int | None) -> None:
    start = date(2011, 4, 4)
    as_at = date(2011, 7, 4) + D(days_after)
    assert just_passed(start, as_at, None) == expected


def test_just_passed_cleared_by_a_review_since_the_milestone() -> None:
    start = date(2011, 4, 4)
    as_at = date(2011, 7, 10)
    assert just_passed(start, as_at, date(2011, 7, 3)) == 13
    assert just_passed(start, as_at, date(2011, 7, 4)) is None
    assert just_passed(start, as_at, date(2011, 7, 8)) is None
    assert just_passed(start, date(2012, 4, 3), date(2011, 7, 8)) == 52


def test_beyond_52_boundary_364_vs_365() -> None:
    start = date(2011, 4, 4)
    assert beyond_52(start, None, start + D(364)) is False
    assert beyond_52(start, None, start + D(365)) is True
    assert beyond_52(start, None, start + D(900)) is True


def test_beyond_52_only_open_claims() -> None:
    start = date(2011, 4, 4)
    as_at = start + D(400)
    assert beyond_52(start, start + D(399), as_at) is False
    assert beyond_52(start, as_at, as_at) is False
    # Ends after the as-at date: still open as at that date.
    assert beyond_52(start, start + D(401), as_at) is True


@pytest.mark.parametrize(
    ("days", "band"),
    [(0, "0-91"), (91, "0-91"), (92, "92-182"), (182, "92-182"), (183, "183-364"),
     (364, "183-364"), (365, "365+"), (3000, "365+")],
)
def test_duration_band(days: int, band: str) -> None:
    assert duration_band(days) == band


def test_duration_band_rejects_negative() -> None:
    with pytest.raises(ValueError, match="-1 days"):
        duration_band(-1)


def test_churn_91_vs_92() -> None:
    end = date(2011, 7, 4)
    assert is_churn(end, end) is True
    assert is_churn(end, end + D(91)) is True
    assert is_churn(end, end + D(92)) is False
    assert is_churn(end, end - D(1)) is False


def test_quick_reclaim_7_vs_8() -> None:
    end = date(2011, 7, 4)
    assert is_quick_reclaim(end, end) is True
    assert is_quick_reclaim(end, end + D(7)) is True
    assert is_quick_reclaim(end, end + D(8)) is False
    assert is_quick_reclaim(end, end - D(1)) is False


@given(
    start=st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31)),
    offset=st.integers(min_value=-30, max_value=800),
)
def test_milestones_are_whole_weeks_and_approaching_is_next(start: date, offset: int) -> None:
    as_at = start + D(offset)
    for w in MILESTONES:
        assert (milestone_date(start, w) - start).days == 7 * w
        assert milestone_date(start, w).weekday() == start.weekday()
    hit = approaching(start, as_at)
    if hit is not None:
        nxt = next_milestone(start, as_at)
        assert nxt is not None and nxt[0] == hit
