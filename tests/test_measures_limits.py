"""Control limits and verdicts against the expected level (funnel plots).

The known answers below were worked independently of caseload.measures.limits: each test sums the
binomial probabilities exactly, in fractions, from math.comb, and checks that the expected limit
is the first count whose tail reaches 2.5% (95% limits) or 0.1% (99.8% limits) while the count
before it does not. The tail probabilities quoted beside each case are those sums, rounded.
"""

import subprocess
import sys
from fractions import Fraction
from math import comb

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseload.measures.limits import Verdict, control_limits, verdict


def pmf(n: int, pct: int) -> list[Fraction]:
    p = Fraction(pct, 100)
    return [comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]


def at_most(n: int, pct: int, k: int) -> Fraction:
    """P(X <= k), summed by hand."""
    return sum(pmf(n, pct)[: k + 1], Fraction(0))


def at_least(n: int, pct: int, k: int) -> Fraction:
    """P(X >= k), summed by hand."""
    return sum(pmf(n, pct)[k:], Fraction(0))


# (n, expected level %, lower95, upper95, lower998, upper998). Derivations (X ~ Bin(n, p)):
#  n=20  p=.45: P(X<=4)=.0189 < .025 <= P(X<=5)=.0553; P(X>=13)=.0580 >= .025 > P(X>=14)=.0214;
#               P(X<=2)=.00093 < .001 <= P(X<=3)=.0049; P(X>=16)=.00153 >= .001 > P(X>=17)=.00028
#  n=50  p=.45: P(X<=15)=.0220, P(X<=16)=.0427; P(X>=29)=.0444, P(X>=30)=.0235;
#               P(X<=11)=.00063, P(X<=12)=.00177; P(X>=33)=.00224, P(X>=34)=.00087
#  n=400 p=.45: P(X<=160)=.02466, P(X<=161)=.03113; P(X>=200)=.02522, P(X>=201)=.01988;
#               P(X<=148)=.00072, P(X<=149)=.00102; P(X>=211)=.00112, P(X>=212)=.00080
#  n=20  p=.56: P(X<=6)=.0172, P(X<=7)=.0482; P(X>=15)=.0660, P(X>=16)=.0233;
#               P(X<=3)=.00020, P(X<=4)=.00114; P(X>=18)=.00123, P(X>=19)=.00015
#  n=50  p=.56: P(X<=20)=.0166, P(X<=21)=.0325; P(X>=35)=.0304, P(X>=36)=.0149;
#               P(X<=16)=.00053, P(X<=17)=.00141; P(X>=39)=.00101, P(X>=40)=.00034
#  n=400 p=.56: P(X<=203)=.01971, P(X<=204)=.02502; P(X>=243)=.03078, P(X>=244)=.02435;
#               P(X<=192)=.00079, P(X<=193)=.00110; P(X>=254)=.00138, P(X>=255)=.00098
# A normal check for n=400 at .45: mean 180, sd 9.95, 180 +/- 1.96 sd = 160.5 to 199.5.
KNOWN = [
    (20, 45, 5, 13, 3, 16),
    (50, 45, 16, 29, 12, 33),
    (400, 45, 161, 200, 149, 211),
    (20, 56, 7, 15, 4, 18),
    (50, 56, 21, 35, 17, 39),
    (400, 56, 204, 243, 193, 254),
]


@pytest.mark.parametrize(("n", "pct", "lo95", "hi95", "lo998", "hi998"), KNOWN)
def test_known_limits(n, pct, lo95, hi95, lo998, hi998) -> None:
    # The hand sums confirm each stated limit is the boundary of its tail.
    for lo, hi, tail in ((lo95, hi95, Fraction(25, 1000)), (lo998, hi998, Fraction(1, 1000))):
        assert at_most(n, pct, lo - 1) < tail <= at_most(n, pct, lo)
        assert at_least(n, pct, hi) >= tail > at_least(n, pct, hi + 1)
    lim = control_limits(n, pct)
    assert (lim.lower95, lim.upper95, lim.lower998, lim.upper998) == (lo95, hi95, lo998, hi998)


@pytest.mark.parametrize(("n", "pct", "lo95", "hi95", "lo998", "hi998"), KNOWN)
def test_verdicts_at_the_boundaries(n, pct, lo95, hi95, lo998, hi998) -> None:
    assert verdict(lo998 - 1, n, pct) is Verdict.BELOW
    assert verdict(lo998, n, pct) is Verdict.POSSIBLY_BELOW
    assert verdict(lo95 - 1, n, pct) is Verdict.POSSIBLY_BELOW
    assert verdict(lo95, n, pct) is Verdict.CONSISTENT
    assert verdict(hi95, n, pct) is Verdict.CONSISTENT
    assert verdict(hi95 + 1, n, pct) is Verdict.POSSIBLY_ABOVE
    assert verdict(hi998, n, pct) is Verdict.POSSIBLY_ABOVE
    assert verdict(hi998 + 1, n, pct) is Verdict.ABOVE


def test_interpolated_limit_is_spiegelhalters() -> None:
    # n=20, p=.45, 95% lower: r=5, alpha = (P(X<=5) - .025) / P(X=5), limit (r - alpha)/n.
    n, pct = 20, 45
    alpha = (at_most(n, pct, 5) - Fraction(25, 1000)) / pmf(n, pct)[5]
    assert control_limits(n, pct).rate("lower95") == pytest.approx(float(100 * (5 - alpha) / n), abs=1e-9)
    # The upper limit mirrors it on those still on benefit (n - X ~ Bin(20, .55)): its 95% lower limit
    # is s=7 (P(Y<=6)=P(X>=14)=.0214 < .025 <= P(Y<=7)=P(X>=13)=.0580), so 20 - (7 - beta) = 13 + beta.
    beta = (at_least(n, pct, 13) - Fraction(25, 1000)) / pmf(n, pct)[13]
    assert control_limits(n, pct).rate("upper95") == pytest.approx(float(100 * (13 + beta) / n), abs=1e-9)


def test_interim_cohorts_are_never_beyond_chance() -> None:
    # 2 of 20 at 56% is far below the 99.8% lower limit (4), yet an interim cohort can still rise.
    assert verdict(2, 20, 56, "final") is Verdict.BELOW
    assert verdict(2, 20, 56, "interim") is Verdict.POSSIBLY_BELOW
    assert verdict(20, 20, 56, "interim") is Verdict.POSSIBLY_ABOVE
    assert verdict(11, 20, 56, "interim") is Verdict.CONSISTENT


def test_no_level_or_empty_cohort_has_no_verdict() -> None:
    assert verdict(3, 10, None) is None
    assert verdict(0, 0, 56) is None
    with pytest.raises(ValueError, match="at least one claim"):
        control_limits(0, 56)


def test_words_and_symbols() -> None:
    assert [v.short for v in Verdict] == ["⇊ below", "↓ possibly below", "≈ consistent", "↑ possibly above",
                                         "⇈ above"]
    assert Verdict.BELOW.words == "below the expected level beyond chance"
    assert Verdict.CONSISTENT.words == "consistent with the expected level"


@given(st.integers(1, 300), st.integers(1, 99), st.data())
def test_a_point_is_outside_a_drawn_curve_exactly_when_its_verdict_says_so(n, pct, data) -> None:
    lim = control_limits(n, pct)
    x = data.draw(st.integers(0, n))
    rate = 100 * x / n
    v = lim.verdict(x)
    assert (v is Verdict.BELOW) == (rate < lim.rate("lower998") - 1e-9)
    assert (v in (Verdict.BELOW, Verdict.POSSIBLY_BELOW)) == (rate < lim.rate("lower95") - 1e-9)
    assert (v is Verdict.ABOVE) == (rate > lim.rate("upper998") + 1e-9)
    assert (v in (Verdict.ABOVE, Verdict.POSSIBLY_ABOVE)) == (rate > lim.rate("upper95") + 1e-9)
    assert lim.lower998 <= lim.lower95 <= lim.upper95 <= lim.upper998


def test_limits_import_only_the_standard_library() -> None:
    code = ("import sys; import caseload.measures.limits; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'sqlalchemy', 'scipy')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr
