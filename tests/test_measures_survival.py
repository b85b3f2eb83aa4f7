"""Time to off-flow (Kaplan-Meier): a hand-built censored cohort and the link to off-flow rates."""

from datetime import date, timedelta
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from caseload.measures.clock import offflowed_by
from caseload.measures.survival import LAST_WEEK, kaplan_meier, week_ended

S = date(2025, 1, 6)
AS_AT = S + timedelta(days=100)


def d(days: int) -> date:
    return S + timedelta(days=days)


def test_week_of_an_end_follows_the_off_flow_rule() -> None:
    # DOMAIN 13: an end 91 days after the start counts at 13 weeks, 92 days does not.
    assert (week_ended(S, d(0)), week_ended(S, d(7)), week_ended(S, d(91)), week_ended(S, d(92))) == (0, 1, 13, 14)


def test_hand_built_cohort_with_censoring() -> None:
    claims = [
        (S, d(0)),  # A: ends on the start day, week 0
        (S, d(7)),  # B: week 1
        (S, d(10)),  # C: week 2
        (d(80), None),  # D: open, 20 days old at the as-at date: censored in week 2
        (S, d(12)),  # E: week 2
        (S, None),  # F: open, 100 days: censored in week 14
        (S, d(91)),  # G: week 13
        (S, d(92)),  # H: week 14
        (S, d(95)),  # I: week 14
        (S, d(120)),  # J: ends after the as-at date, so still on benefit then: censored in week 14
        (d(101), None),  # K: starts after the as-at date: not in the cohort
    ]
    curve = kaplan_meier(claims, AS_AT)
    assert len(curve) == LAST_WEEK + 1
    by = {p.week: p for p in curve}
    # week 0: 10 at risk, A ends: 9/10.  week 1: 9 at risk, B ends: 9/10 * 8/9 = 8/10.
    # week 2: 8 at risk, C and E end, D censored: 8/10 * 6/8 = 6/10.  weeks 3-12: 5 at risk, nothing.
    # week 13: 5 at risk, G ends: 6/10 * 4/5 = 12/25.  week 14: 4 at risk, H and I end, F and J
    # censored: 12/25 * 2/4 = 6/25.  week 15 on: nobody at risk, the curve stays at 6/25.
    expected = {0: (10, 1, 0, Fraction(9, 10)), 1: (9, 1, 0, Fraction(8, 10)), 2: (8, 2, 1, Fraction(6, 10)),
                3: (5, 0, 0, Fraction(6, 10)), 12: (5, 0, 0, Fraction(6, 10)), 13: (5, 1, 0, Fraction(12, 25)),
                14: (4, 2, 2, Fraction(6, 25)), 15: (0, 0, 0, Fraction(6, 25)), 104: (0, 0, 0, Fraction(6, 25))}
    for week, (at_risk, ended, censored, share) in expected.items():
        p = by[week]
        assert (p.at_risk, p.ended, p.censored, p.share_on_benefit) == (at_risk, ended, censored, share), week
    # The plain 13-week rate is 5 of 10 = 50%; the curve says 52%, because D (censored at 2 weeks)
    # has not had the chance to off-flow by 13 weeks that the plain rate counts against it.
    assert by[13].offflow_pct == "52.00"
    assert by[13].share_text == "0.4800"
    assert sum(p.ended + p.censored for p in curve) == 10


def test_share_text_rounds_up_so_the_off_flow_side_reads_truncated() -> None:
    # 11,199 of 20,000 ended by week 13, none censored: 55.99% off (not 56.00), 0.4401 still on.
    claims = [(S, d(91))] * 11199 + [(S, None)] * 8801
    p = kaplan_meier(claims, S + timedelta(days=400))[13]
    assert (p.offflow_pct, p.share_text) == ("55.99", "0.4401")


def test_no_claims_no_curve() -> None:
    assert kaplan_meier([], AS_AT) == []
    assert kaplan_meier([(AS_AT + timedelta(days=1), None)], AS_AT) == []


claim = st.tuples(st.integers(0, 900), st.one_of(st.none(), st.integers(0, 900)))


@given(st.lists(claim, min_size=1, max_size=60), st.integers(0, 900))
def test_one_minus_curve_is_the_off_flow_rate_where_none_censored_before(raw, as_at_day) -> None:
    as_at = d(as_at_day)
    claims = [(d(s), None if e is None else d(s + e)) for s, e in raw]
    members = [(s, e) for s, e in claims if s <= as_at]
    curve = kaplan_meier(claims, as_at)
    if not members:
        assert curve == []
        return
    censored_weeks = [(as_at - s).days // 7 for s, e in members if e is None or e > as_at]
    first_censored = min(censored_weeks, default=LAST_WEEK)
    for n in range(min(first_censored, LAST_WEEK) + 1):
        off = sum(1 for s, e in members if offflowed_by(s, e, n, as_at))
        assert 1 - curve[n].share_on_benefit == Fraction(off, len(members)), n
