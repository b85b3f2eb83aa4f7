"""Off-flow rates and target comparison (DOMAIN section 5).

Everything is integer arithmetic on counts: a displayed rate is truncated,
never rounded, and a target is met only on exact integer comparison, so a rate
can never read as meeting a level it misses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

SMALL_N = 10
SUPPRESS_BELOW = 5

DEFAULT_EXPECTED_LEVELS: dict[str, dict[int, int]] = {"JSA": {13: 56, 26: 78, 52: 92}}


def truncated_pct(num: int, den: int, decimals: int = 2) -> str | None:
    """``100*num/den`` cut (not rounded) to ``decimals`` places, or None when ``den`` is 0.

    11199/20000 -> "55.99" (exactly 55.995); 2/3 -> "66.66".
    """
    if den == 0:
        return None
    if num < 0 or den < 0:
        raise ValueError(f"counts cannot be negative: {num}/{den}")
    if decimals < 0:
        raise ValueError(f"decimals cannot be negative: {decimals}")
    scale = 10**decimals
    scaled = (100 * num * scale) // den
    whole, frac = divmod(scaled, scale)
    if decimals == 0:
        return str(whole)
    return f"{whole}.{frac:0{decimals}d}"


def meets_target(offflows: int, size: int, target_pct: int | None) -> bool | None:
    """Exactly ``offflows/size >= target_pct%``; None with no target or an empty cohort."""
    if target_pct is None or size == 0:
        return None
    return 100 * offflows >= target_pct * size


def still_needed(offflows: int, size: int, target_pct: int) -> int:
    """Further off-flows needed to meet ``target_pct``: ``ceil(target*size/100) - offflows``, at least 0."""
    required = -(-(target_pct * size) // 100)
    return max(0, required - offflows)


@dataclass(frozen=True)
class Count:
    """A numerator over a denominator. Adding two pools them (never average rates)."""

    offflows: int
    size: int

    def __post_init__(self) -> None:
        if self.offflows < 0 or self.size < 0 or self.offflows > self.size:
            raise ValueError(f"not a valid count: {self.offflows} of {self.size}")

    def __add__(self, other: Count) -> Count:
        if not isinstance(other, Count):
            return NotImplemented
        return Count(self.offflows + other.offflows, self.size + other.size)

    def rate_pct(self, decimals: int = 2) -> str | None:
        """The truncated percentage, or None ("n/a") for an empty cohort."""
        return truncated_pct(self.offflows, self.size, decimals)

    @property
    def small_n(self) -> bool:
        """True when the rate rests on fewer than SMALL_N claims and needs a warning."""
        return self.size < SMALL_N


def pool(counts: Iterable[Count]) -> Count:
    """Sum of numerators over sum of denominators."""
    total = Count(0, 0)
    for c in counts:
        total = total + c
    return total


def cohort_status(period_end: date, weeks: int, as_at: date) -> str:
    """"final" once every possible member has reached ``weeks`` weeks, else "interim"."""
    return "final" if as_at >= period_end + timedelta(days=7 * weeks) else "interim"


def not_yet_at(starts: Iterable[date], weeks: int, as_at: date) -> int:
    """How many claims (by start date) have not yet reached ``weeks`` weeks as at ``as_at``."""
    span = timedelta(days=7 * weeks)
    return sum(1 for s in starts if s + span > as_at)


def suppressed(count: int, threshold: int = SUPPRESS_BELOW) -> str:
    """A count for an equality breakdown: "<5" below the threshold (zero included)."""
    return f"<{threshold}" if count < threshold else str(count)
