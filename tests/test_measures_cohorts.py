"""Cohort periods (DOMAIN section 4, section 12 labels, section 13 reporting month)."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseload.measures.cohorts import (
    CohortKind,
    Period,
    PeriodBoundsError,
    check_bounds,
    final_friday,
    last_complete_periods,
    next_period,
    period_of,
    periods_between,
    previous_period,
)

RM = CohortKind.REPORTING_MONTH
CM = CohortKind.CALENDAR_MONTH
Q = CohortKind.QUARTER
Y = CohortKind.YEAR


def test_kind_values() -> None:
    assert [k.value for k in CohortKind] == ["calendar-month", "reporting-month", "quarter", "year"]
    assert CohortKind("reporting-month") is RM


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [(2010, 3, date(2010, 3, 26)), (2010, 4, date(2010, 4, 30)), (2010, 12, date(2010, 12, 31)),
     (2011, 1, date(2011, 1, 28)), (2009, 12, date(2009, 12, 25)), (2012, 2, date(2012, 2, 24))],
)
def test_final_friday(year: int, month: int, expected: date) -> None:
    assert final_friday(year, month) == expected
    assert expected.weekday() == 4


def test_reporting_month_worked_example() -> None:
    april = period_of(RM, date(2010, 3, 27))
    assert (april.start, april.end, april.label) == (date(2010, 3, 27), date(2010, 4, 30), "2010-04")
    march = period_of(RM, date(2010, 3, 26))
    assert march.label == "2010-03"
    assert march.end == date(2010, 3, 26)


def test_reporting_month_january_2011() -> None:
    jan = period_of(RM, date(2011, 1, 1))
    assert (jan.start, jan.end, jan.label) == (date(2011, 1, 1), date(2011, 1, 28), "2011-01")
    assert jan.days == 28  # a 4-week month
    assert period_of(RM, date(2011, 1, 29)).label == "2011-02"


def test_reporting_month_december_to_january_year_edge() -> None:
    # Final Friday of December 2009 is the 25th: the 26th-31st belong to January 2010.
    assert period_of(RM, date(2009, 12, 25)).label == "2009-12"
    jan = period_of(RM, date(2009, 12, 26))
    assert (jan.start, jan.end, jan.label) == (date(2009, 12, 26), date(2010, 1, 29), "2010-01")
    assert period_of(RM, date(2009, 12, 31)).label == "2010-01"
    assert jan.days == 35  # a 5-week month
    assert next_period(period_of(RM, date(2009, 12, 1))) == jan
    assert previous_period(jan).label == "2009-12"


def test_five_week_reporting_month() -> None:
    april = period_of(RM, date(2010, 4, 15))
    assert april.days == 35
    assert april.start.weekday() == 5 and april.end.weekday() == 4


def test_calendar_month() -> None:
    feb = period_of(CM, date(2012, 2, 29))
    assert (feb.start, feb.end, feb.label) == (date(2012, 2, 1), date(2012, 2, 29), "2012-02")
    assert period_of(CM, date(2010, 3, 27)).label == "2010-03"
    assert next_period(period_of(CM, date(2010, 12, 5))).label == "2011-01"


@pytest.mark.parametrize(
    ("d", "start", "end", "label"),
    [
        (date(2010, 1, 1), date(2010, 1, 1), date(2010, 3, 31), "2010-Q1"),
        (date(2010, 6, 30), date(2010, 4, 1), date(2010, 6, 30), "2010-Q2"),
        (date(2010, 7, 1), date(2010, 7, 1), date(2010, 9, 30), "2010-Q3"),
        (date(2010, 12, 31), date(2010, 10, 1), date(2010, 12, 31), "2010-Q4"),
    ],
)
def test_quarters(d: date, start: date, end: date, label: str) -> None:
    p = period_of(Q, d)
    assert (p.start, p.end, p.label, p.kind) == (start, end, label, Q)


def test_quarter_and_year_edges() -> None:
    assert next_period(period_of(Q, date(2010, 11, 1))).label == "2011-Q1"
    assert previous_period(period_of(Q, date(2011, 2, 1))).label == "2010-Q4"
    year = period_of(Y, date(2010, 6, 1))
    assert (year.start, year.end, year.label) == (date(2010, 1, 1), date(2010, 12, 31), "2010")
    assert next_period(year).label == "2011"
    assert previous_period(year).label == "2009"


def test_periods_order_by_start() -> None:
    a = period_of(CM, date(2010, 5, 1))
    b = period_of(CM, date(2010, 4, 1))
    assert sorted([a, b]) == [b, a]
    assert a.start.isoformat() == "2010-05-01"
    assert date(2010, 5, 31) in a and date(2010, 6, 1) not in a


def test_periods_between() -> None:
    labels = [p.label for p in periods_between(RM, date(2010, 3, 27), date(2010, 7, 1))]
    assert labels == ["2010-04", "2010-05", "2010-06", "2010-07"]
    labels = [p.label for p in periods_between(Q, date(2010, 5, 5), date(2011, 1, 1))]
    assert labels == ["2010-Q2", "2010-Q3", "2010-Q4", "2011-Q1"]
    assert [p.label for p in periods_between(Y, date(2010, 5, 5), date(2010, 6, 1))] == ["2010"]
    assert periods_between(CM, date(2010, 6, 1), date(2010, 5, 1)) == []


def test_last_complete_periods() -> None:
    # A period ending on the as-at date is complete.
    labels = [p.label for p in last_complete_periods(RM, date(2010, 4, 30), 3)]
    assert labels == ["2010-02", "2010-03", "2010-04"]
    labels = [p.label for p in last_complete_periods(RM, date(2010, 4, 29), 3)]
    assert labels == ["2010-01", "2010-02", "2010-03"]
    labels = [p.label for p in last_complete_periods(CM, date(2011, 1, 1), 2)]
    assert labels == ["2010-11", "2010-12"]
    labels = [p.label for p in last_complete_periods(Q, date(2011, 3, 31), 2)]
    assert labels == ["2010-Q4", "2011-Q1"]
    assert last_complete_periods(Y, date(2011, 3, 31), 0) == []


def test_check_bounds_accepts_exact_bounds() -> None:
    periods = check_bounds(RM, date(2010, 3, 27), date(2010, 5, 28))
    assert [p.label for p in periods] == ["2010-04", "2010-05"]
    assert [p.label for p in check_bounds(Y, date(2010, 1, 1), date(2010, 12, 31))] == ["2010"]


def test_check_bounds_bad_start_names_nearest_starts() -> None:
    with pytest.raises(PeriodBoundsError) as err:
        check_bounds(RM, date(2010, 4, 3), date(2010, 5, 28))
    assert str(err.value) == (
        "2010-04-03 is not the first day of a reporting-month period; "
        "the nearest period starts are 2010-03-27 and 2010-05-01"
    )
    assert isinstance(err.value, ValueError)


def test_check_bounds_bad_end_names_nearest_ends() -> None:
    with pytest.raises(PeriodBoundsError) as err:
        check_bounds(RM, date(2010, 3, 27), date(2010, 5, 5))
    assert str(err.value) == (
        "2010-05-05 is not the last day of a reporting-month period; "
        "the nearest period ends are 2010-04-30 and 2010-05-28"
    )


def test_check_bounds_both_bad_lists_both() -> None:
    with pytest.raises(PeriodBoundsError) as err:
        check_bounds(Q, date(2010, 2, 1), date(2010, 8, 15))
    assert str(err.value) == (
        "2010-02-01 is not the first day of a quarter period; the nearest period starts are "
        "2010-01-01 and 2010-04-01. 2010-08-15 is not the last day of a quarter period; "
        "the nearest period ends are 2010-06-30 and 2010-09-30"
    )


def test_check_bounds_reversed_range() -> None:
    with pytest.raises(PeriodBoundsError, match="the first day 2010-05-01 is after the last day 2010-04-30"):
        check_bounds(CM, date(2010, 5, 1), date(2010, 4, 30))


@given(kind=st.sampled_from(list(CohortKind)), d=st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31)))
def test_periods_tile_the_calendar(kind: CohortKind, d: date) -> None:
    p = period_of(kind, d)
    assert p.start <= d <= p.end
    nxt = next_period(p)
    assert nxt.start == p.end + timedelta(days=1)
    assert previous_period(nxt) == p
    assert period_of(kind, p.start) == p == period_of(kind, p.end)
    assert check_bounds(kind, p.start, p.end) == [p]
    if kind is RM:
        assert p.start.weekday() == 5 and p.end.weekday() == 4
        assert p.days in (28, 35)
        assert p.label == f"{p.end.year:04d}-{p.end.month:02d}"
