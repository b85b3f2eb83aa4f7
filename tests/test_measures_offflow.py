"""The reference off-flow roll-up (DOMAIN sections 5, 6, 12 and the section 13 cohort)."""

from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseload.measures.cohorts import CohortKind, Period, period_of, periods_between
from caseload.measures.destinations import END_REASONS, rule_set
from caseload.measures.offflow import ClaimFacts, OffflowRow, offflow_rows
from caseload.measures.rates import DEFAULT_EXPECTED_LEVELS, Count, pool

OPTE = rule_set("opte-2010")
APRIL = period_of(CohortKind.CALENDAR_MONTH, date(2011, 4, 1))
LATE = date(2013, 1, 1)


def claim(
    n: int,
    start: date,
    days: int | None,
    reason: str | None = None,
    *,
    benefit: str = "JSA",
    group: str = "all",
    gap: int | None = None,
) -> ClaimFacts:
    end = None if days is None else start + timedelta(days=days)
    return ClaimFacts(f"c{n:03d}", start, end, reason, benefit, group, gap)


def rows_for(claims: list[ClaimFacts], *, as_at: date = LATE, periods: list[Period] | None = None,
             milestones: tuple[int, ...] = (13, 26, 52), group_by: str = "none") -> list[OffflowRow]:
    return offflow_rows(
        claims,
        group_by=group_by,
        periods=periods or [APRIL],
        milestones=milestones,
        as_at=as_at,
        rule_set=OPTE,
        expected_levels=DEFAULT_EXPECTED_LEVELS,
    )


def cohort_of_40() -> list[ClaimFacts]:
    """DOMAIN 13: 18 off by day 91, 26 by day 182, 33 by day 364, of 40."""
    by_13 = (
        ["found_work"] * 10 + ["sanction"] * 3 + ["other_benefit"] * 2 + ["not_known", "", None]
    )
    by_26 = ["found_work"] * 4 + ["failed_to_sign"] * 2 + ["", "retired"]
    by_52 = ["found_work"] * 3 + ["education"] * 2 + ["programme_start", None]
    spec: list[tuple[int | None, str | None]] = []
    spec += [(91 if i == 0 else 5 * i, r) for i, r in enumerate(by_13)]
    spec += [(92 if i == 0 else 182 - i, r) for i, r in enumerate(by_26)]
    spec += [(183 if i == 0 else 364 - i, r) for i, r in enumerate(by_52)]
    spec += [(365, "found_work")] + [(None, None)] * 6
    assert len(spec) == 40
    return [
        claim(i, APRIL.start + timedelta(days=i % 30), days, reason)
        for i, (days, reason) in enumerate(spec)
    ]


def test_cohort_of_40_worked_example() -> None:
    r13, r26, r52 = rows_for(cohort_of_40())
    assert [(r.milestone_weeks, r.cohort_size, r.offflows, r.rate_pct) for r in (r13, r26, r52)] == [
        (13, 40, 18, "45.00"),
        (26, 40, 26, "65.00"),
        (52, 40, 33, "82.50"),
    ]
    assert (r13.employment, r13.sanction, r13.not_known, r13.opte) == (10, 3, 3, 16)
    assert Count(r13.employment, r13.cohort_size).rate_pct() == "25.00"  # into-employment
    assert [(r.target_pct, r.meets_target, r.status, r.not_yet_at) for r in (r13, r26, r52)] == [
        (56, False, "final", 0),
        (78, False, "final", 0),
        (92, False, "final", 0),
    ]
    assert (r26.employment, r26.sanction, r26.not_known, r26.opte) == (14, 3, 4, 23)
    assert (r52.employment, r52.sanction, r52.not_known, r52.opte) == (17, 3, 5, 29)
    assert (r13.group_by, r13.group, r13.period.label) == ("none", "all", "2011-04")
    assert r13.still_needed == 5  # ceil(56 * 40 / 100) = 23 - 18


def test_reclaim_within_7_days_is_not_opte_but_is_an_offflow() -> None:
    s = date(2011, 4, 4)
    claims = [
        claim(1, s, 30, "found_work", gap=0),
        claim(2, s, 30, "found_work", gap=7),
        claim(3, s, 30, "found_work", gap=8),
        claim(4, s, 30, "found_work", gap=None),
        claim(5, s, 30, "other_benefit", gap=60),
    ]
    (r13,) = rows_for(claims, milestones=(13,))
    assert (r13.offflows, r13.employment, r13.opte) == (5, 4, 2)
    assert r13.rate_pct == "100.00"
    assert r13.meets_target is True


def test_exactly_56_percent_meets_and_200_cohort_misses_by_one() -> None:
    s = date(2011, 4, 4)
    claims = [claim(i, s, 10 if i < 14 else None, "found_work") for i in range(25)]
    (row,) = rows_for(claims, milestones=(13,))
    assert (row.rate_pct, row.meets_target, row.still_needed) == ("56.00", True, 0)
    claims = [claim(i, s, 10 if i < 111 else None, "found_work") for i in range(200)]
    (row,) = rows_for(claims, milestones=(13,))
    assert (row.rate_pct, row.meets_target, row.still_needed) == ("55.50", False, 1)


def test_day_91_vs_92_at_13_weeks() -> None:
    s = date(2011, 4, 4)
    r13, r26 = rows_for([claim(1, s, 91), claim(2, s, 92)], milestones=(13, 26))
    assert (r13.offflows, r26.offflows) == (1, 2)
    assert r13.rate_pct == "50.00"


def test_interim_cohort_counts_only_what_is_known_at_as_at() -> None:
    as_at = date(2011, 7, 15)
    claims = [
        claim(1, date(2011, 4, 1), 20, "found_work"),
        claim(2, date(2011, 4, 10), 90, "found_work"),  # ends 2011-07-09: known
        claim(3, date(2011, 4, 20), 90, "sanction"),  # ends 2011-07-19: not yet
        claim(4, date(2011, 4, 30), None),
        claim(5, date(2011, 5, 1), 5, "found_work"),  # next period: not in April
    ]
    (row,) = rows_for(claims, as_at=as_at, milestones=(13,))
    assert (row.cohort_size, row.offflows, row.rate_pct) == (4, 2, "50.00")
    assert row.status == "interim"  # final from 2011-07-30
    assert row.not_yet_at == 2  # 04-20 and 04-30 reach 13 weeks after 2011-07-15
    (row,) = rows_for(claims, as_at=date(2011, 7, 30), milestones=(13,))
    assert (row.status, row.not_yet_at, row.offflows, row.sanction) == ("final", 0, 3, 1)


def test_claims_starting_after_as_at_are_ignored() -> None:
    claims = [claim(1, date(2011, 4, 1), None), claim(2, date(2011, 4, 20), None)]
    (row,) = rows_for(claims, as_at=date(2011, 4, 10), milestones=(13,))
    assert row.cohort_size == 1
    assert rows_for(claims, as_at=date(2011, 3, 31)) == []


def test_empty_cohort_gives_no_row_and_empty_count_is_na() -> None:
    assert rows_for([]) == []
    assert rows_for([claim(1, date(2011, 5, 1), 10)]) == []
    assert Count(0, 0).rate_pct() is None


def test_target_only_for_a_single_benefit_with_a_level() -> None:
    s = date(2011, 4, 4)
    mixed = [claim(1, s, 10, benefit="JSA"), claim(2, s, 10, benefit="ESA")]
    (row,) = rows_for(mixed, milestones=(13,))
    assert (row.target_pct, row.meets_target, row.still_needed) == (None, None, None)
    (row,) = rows_for([claim(1, s, 10, benefit="ESA")], milestones=(13,))
    assert row.target_pct is None
    (row,) = rows_for([claim(1, s, 10, benefit="JSA")], milestones=(65,))
    assert (row.milestone_weeks, row.target_pct) == (65, None)


def test_rows_sorted_by_group_code_point_then_period_then_milestone() -> None:
    may = period_of(CohortKind.CALENDAR_MONTH, date(2011, 5, 1))
    claims = [
        claim(1, date(2011, 5, 2), 10, group="alpha"),
        claim(2, date(2011, 4, 2), 10, group="Émile"),
        claim(3, date(2011, 4, 3), 10, group="alpha"),
        claim(4, date(2011, 5, 3), 10, group="Zeta"),
    ]
    rows = rows_for(claims, periods=[may, APRIL], milestones=(26, 13), group_by="team")
    assert [(r.group, r.period.label, r.milestone_weeks) for r in rows] == [
        ("Zeta", "2011-05", 13),
        ("Zeta", "2011-05", 26),
        ("alpha", "2011-04", 13),
        ("alpha", "2011-04", 26),
        ("alpha", "2011-05", 13),
        ("alpha", "2011-05", 26),
        ("Émile", "2011-04", 13),
        ("Émile", "2011-04", 26),
    ]
    assert {r.group_by for r in rows} == {"team"}


def test_reporting_month_cohort_attribution() -> None:
    periods = periods_between(CohortKind.REPORTING_MONTH, date(2010, 3, 1), date(2010, 4, 30))
    claims = [claim(1, date(2010, 3, 26), 10), claim(2, date(2010, 3, 27), 10), claim(3, date(2010, 3, 28), None)]
    rows = rows_for(claims, periods=periods, milestones=(13,))
    assert [(r.period.label, r.cohort_size, r.offflows) for r in rows] == [("2010-03", 1, 1), ("2010-04", 2, 1)]


def test_overlapping_periods_are_rejected() -> None:
    q2 = period_of(CohortKind.QUARTER, date(2011, 4, 1))
    with pytest.raises(ValueError, match="overlap"):
        rows_for([claim(1, date(2011, 4, 4), 10)], periods=[APRIL, q2])


# --- properties --------------------------------------------------------------

REPORT_PERIODS = periods_between(CohortKind.REPORTING_MONTH, date(2011, 1, 1), date(2011, 6, 30))

claim_strategy = st.builds(
    ClaimFacts,
    claim_id=st.uuids().map(str),
    start=st.dates(min_value=date(2010, 12, 1), max_value=date(2011, 8, 1)),
    end=st.none(),
    end_reason=st.sampled_from([*END_REASONS, None, ""]),
    benefit=st.sampled_from(["JSA", "ESA"]),
    group=st.sampled_from(["a", "b", "Z"]),
    next_claim_gap=st.one_of(st.none(), st.integers(min_value=0, max_value=120)),
)


@st.composite
def claim_sets(draw: st.DrawFn) -> list[ClaimFacts]:
    out = []
    for c in draw(st.lists(claim_strategy, max_size=40)):
        days = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=500)))
        end = None if days is None else c.start + timedelta(days=days)
        out.append(replace(c, end=end))
    return out


as_at_strategy = st.dates(min_value=date(2011, 1, 1), max_value=date(2012, 12, 31))


def run(claims: list[ClaimFacts], as_at: date, group_by: str = "team") -> list[OffflowRow]:
    return offflow_rows(
        claims,
        group_by=group_by,
        periods=REPORT_PERIODS,
        milestones=(52, 13, 26),
        as_at=as_at,
        rule_set=OPTE,
        expected_levels=DEFAULT_EXPECTED_LEVELS,
    )


@given(claims=claim_sets(), as_at=as_at_strategy)
def test_rates_are_cumulative_per_cohort(claims: list[ClaimFacts], as_at: date) -> None:
    by_cohort: dict[tuple[str, Period], list[OffflowRow]] = defaultdict(list)
    for r in run(claims, as_at):
        by_cohort[(r.group, r.period)].append(r)
    for rows in by_cohort.values():
        assert [r.milestone_weeks for r in rows] == [13, 26, 52]
        assert len({r.cohort_size for r in rows}) == 1
        fractions = [Fraction(r.offflows, r.cohort_size) for r in rows]
        assert fractions == sorted(fractions)
        shown = [Fraction(r.rate_pct) for r in rows if r.rate_pct is not None]
        assert shown == sorted(shown)


@given(claims=claim_sets(), as_at=as_at_strategy)
def test_pooled_groups_equal_the_union(claims: list[ClaimFacts], as_at: date) -> None:
    grouped = run(claims, as_at)
    union = run([replace(c, group="all") for c in claims], as_at, group_by="none")
    pooled: dict[tuple[Period, int], list[OffflowRow]] = defaultdict(list)
    for r in grouped:
        pooled[(r.period, r.milestone_weeks)].append(r)
    assert sorted(pooled) == sorted((r.period, r.milestone_weeks) for r in union)
    for u in union:
        parts = pooled[(u.period, u.milestone_weeks)]
        assert pool(p.count for p in parts) == u.count
        for field in ("employment", "sanction", "not_known", "opte", "not_yet_at"):
            assert sum(getattr(p, field) for p in parts) == getattr(u, field)
        assert {p.status for p in parts} == {u.status}


@given(claims=claim_sets(), as_at=as_at_strategy)
def test_row_invariants(claims: list[ClaimFacts], as_at: date) -> None:
    rows = run(claims, as_at)
    keys = [(r.group, r.period.start, r.milestone_weeks) for r in rows]
    assert keys == sorted(keys)
    assert len(keys) == len(set(keys))
    for r in rows:
        assert 0 < r.cohort_size
        assert 0 <= r.opte <= r.offflows <= r.cohort_size
        assert r.employment + r.sanction + r.not_known <= r.offflows
        assert r.status in ("final", "interim")
        assert (r.status == "final") <= (r.not_yet_at == 0)
        assert r.rate_pct is not None
        if r.target_pct is not None:
            assert r.meets_target == (100 * r.offflows >= r.target_pct * r.cohort_size)
