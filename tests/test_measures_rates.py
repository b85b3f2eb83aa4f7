"""Off-flow rates, targets, pooling and suppression (DOMAIN section 5)."""

from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseload.measures.rates import (
    DEFAULT_EXPECTED_LEVELS,
    SMALL_N,
    SUPPRESS_BELOW,
    Count,
    cohort_status,
    meets_target,
    not_yet_at,
    pool,
    still_needed,
    suppressed,
    truncated_pct,
)


def test_constants() -> None:
    assert (SMALL_N, SUPPRESS_BELOW) == (10, 5)
    assert DEFAULT_EXPECTED_LEVELS == {"JSA": {13: 56, 26: 78, 52: 92}}


@pytest.mark.parametrize(
    ("num", "den", "shown"),
    [
        (11199, 20000, "55.99"),
        (14, 25, "56.00"),
        (5, 9, "55.55"),
        (18, 40, "45.00"),
        (26, 40, "65.00"),
        (33, 40, "82.50"),
        (111, 200, "55.50"),
        (1, 3, "33.33"),
        (2, 3, "66.66"),
        (0, 7, "0.00"),
        (7, 7, "100.00"),
        (10, 40, "25.00"),
    ],
)
def test_truncated_pct(num: int, den: int, shown: str) -> None:
    assert truncated_pct(num, den) == shown


def test_truncated_pct_other_decimals_and_empty() -> None:
    assert truncated_pct(0, 0) is None
    assert truncated_pct(2, 3, 0) == "66"
    assert truncated_pct(2, 3, 1) == "66.6"
    assert truncated_pct(1, 7, 4) == "14.2857"
    assert truncated_pct(11199, 20000, 3) == "55.995"


def test_truncated_pct_rejects_negative_counts() -> None:
    with pytest.raises(ValueError):
        truncated_pct(-1, 3)


@pytest.mark.parametrize(
    ("offflows", "size", "target", "met"),
    [
        (14, 25, 56, True),  # exactly 56%
        (5, 9, 56, False),  # 55.55%: never "56%" with a tick
        (111, 200, 56, False),
        (112, 200, 56, True),
        (11199, 20000, 56, False),
        (10, 10, None, None),
        (0, 0, 56, None),
    ],
)
def test_meets_target(offflows: int, size: int, target: int | None, met: bool | None) -> None:
    assert meets_target(offflows, size, target) is met


@pytest.mark.parametrize(
    ("offflows", "size", "target", "needed"),
    [(0, 50, 56, 28), (111, 200, 56, 1), (14, 25, 56, 0), (5, 9, 56, 1), (20, 25, 56, 0),
     (18, 40, 56, 5), (0, 0, 56, 0), (0, 1, 56, 1)],
)
def test_still_needed(offflows: int, size: int, target: int, needed: int) -> None:
    assert still_needed(offflows, size, target) == needed


def test_pooling_never_averages() -> None:
    total = Count(18, 30) + Count(9, 20)
    assert total == Count(27, 50)
    assert total.rate_pct() == "54.00"
    assert pool([Count(18, 30), Count(9, 20)]).rate_pct() == "54.00"
    assert pool([]) == Count(0, 0)
    assert pool([]).rate_pct() is None


def test_count_small_n_and_validation() -> None:
    assert Count(3, 9).small_n is True
    assert Count(3, 10).small_n is False
    assert Count(0, 0).rate_pct() is None
    assert Count(1, 3).rate_pct(1) == "33.3"
    with pytest.raises(ValueError):
        Count(5, 4)


def test_cohort_status_at_exact_boundary_day() -> None:
    end = date(2010, 4, 30)
    assert cohort_status(end, 13, date(2010, 7, 29)) == "interim"
    assert cohort_status(end, 13, date(2010, 7, 30)) == "final"  # 2010-04-30 + 91 days
    assert cohort_status(end, 52, date(2011, 4, 28)) == "interim"
    assert cohort_status(end, 52, date(2011, 4, 29)) == "final"


def test_not_yet_at() -> None:
    starts = [date(2010, 4, 1), date(2010, 4, 15), date(2010, 4, 30)]
    assert not_yet_at(starts, 13, date(2010, 7, 1)) == 2  # 2010-04-01 + 91 = 2010-07-01: reached
    assert not_yet_at(starts, 13, date(2010, 6, 30)) == 3
    assert not_yet_at(starts, 13, date(2010, 7, 30)) == 0


@pytest.mark.parametrize(("count", "shown"), [(0, "<5"), (1, "<5"), (4, "<5"), (5, "5"), (123, "123")])
def test_suppressed(count: int, shown: str) -> None:
    assert suppressed(count) == shown


def test_suppressed_other_threshold() -> None:
    assert suppressed(9, 10) == "<10"
    assert suppressed(10, 10) == "10"


counts = st.integers(min_value=1, max_value=10**6).flatmap(
    lambda den: st.tuples(st.integers(min_value=0, max_value=den), st.just(den))
)


@given(nd=counts, decimals=st.integers(min_value=0, max_value=4))
def test_truncated_pct_never_exceeds_exact_fraction(nd: tuple[int, int], decimals: int) -> None:
    num, den = nd
    shown = truncated_pct(num, den, decimals)
    assert shown is not None
    exact = Fraction(100 * num, den)
    value = Fraction(shown)
    assert value <= exact < value + Fraction(1, 10**decimals)
    if decimals:
        assert len(shown.split(".")[1]) == decimals


@given(nd=counts, target=st.integers(min_value=0, max_value=100))
def test_target_and_still_needed_agree_with_exact_fractions(nd: tuple[int, int], target: int) -> None:
    num, den = nd
    assert meets_target(num, den, target) == (Fraction(num, den) >= Fraction(target, 100))
    need = still_needed(num, den, target)
    if num + need <= den:
        assert meets_target(num + need, den, target) is True
    if need > 0:
        assert meets_target(num + need - 1, den, target) is False


@given(a=counts, b=counts)
def test_pooled_rate_is_between_the_parts(a: tuple[int, int], b: tuple[int, int]) -> None:
    total = Count(*a) + Count(*b)
    exact = Fraction(total.offflows, total.size)
    lo, hi = sorted([Fraction(*a), Fraction(*b)])
    assert lo <= exact <= hi
