"""Control limits for an off-flow count against its expected level (funnel plots).

Under the expected level p, a cohort of n claims has off-flows X ~ Binomial(n, p). A count is
"below the expected level beyond chance" when a count as low or lower would happen less than 0.1%
of the time (outside the 99.8% limits), "possibly below" when less than 2.5% of the time (outside
the 95% limits), and the same above; otherwise it is consistent with the expected level.

The limits are exact binomial quantiles (Spiegelhalter 2005, "Funnel plots for comparing
institutional performance"): the lower limit is the smallest count L with P(X <= L) >= a, the upper
limit the largest count U with P(X >= U) >= a (a = 2.5% or 0.1%); the verdict is exactly
"count < L" or "count > U". For drawing smooth curves the limits are interpolated as Spiegelhalter
does, applied to the off-flows for the lower limit and to the claims still on benefit for the upper,
so a point lies outside a drawn curve exactly when its verdict says so.

Standard library only (math.lgamma), so importing this costs the app's start nothing measurable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

# Two-sided levels: each tail holds (1 - level) / 2.
TAILS = {95: 0.025, 998: 0.001}


class Verdict(Enum):
    """Where a count stands against its expected level, in words and a symbol (never colour alone)."""

    BELOW = ("below", "\u21ca", "below the expected level beyond chance")
    POSSIBLY_BELOW = ("possibly_below", "\u2193", "possibly below the expected level")
    CONSISTENT = ("consistent", "\u2248", "consistent with the expected level")
    POSSIBLY_ABOVE = ("possibly_above", "\u2191", "possibly above the expected level")
    ABOVE = ("above", "\u21c8", "above the expected level beyond chance")

    def __init__(self, code: str, symbol: str, words: str) -> None:
        self.code = code
        self.symbol = symbol
        self.words = words

    @property
    def short(self) -> str:
        """The symbol and a few words: `⇊ below`, `↓ possibly below`, `≈ consistent`."""
        return f"{self.symbol} {self.code.replace('_', ' ')}"


def _pmf(n: int, p: float) -> list[float]:
    """P(X = k) for k = 0..n, through logarithms so large n neither overflows nor loses precision."""
    if p <= 0.0:
        return [1.0] + [0.0] * n
    if p >= 1.0:
        return [0.0] * n + [1.0]
    lp, lq, ln = math.log(p), math.log1p(-p), math.lgamma(n + 1)
    return [math.exp(ln - math.lgamma(k + 1) - math.lgamma(n - k + 1) + k * lp + (n - k) * lq)
            for k in range(n + 1)]


def _lower(pmf: list[float], tail: float) -> tuple[int, float]:
    """The smallest r with P(X <= r) >= tail, and Spiegelhalter's interpolated limit r - alpha."""
    below = 0.0
    for r, q in enumerate(pmf):
        if below + q >= tail:
            alpha = (below + q - tail) / q
            return r, r - alpha
        below += q
    return len(pmf) - 1, float(len(pmf) - 1)


@dataclass(frozen=True)
class Limits:
    """The 95% and 99.8% limits of the off-flow count for a cohort of ``size`` at ``target_pct``.

    ``lower95``/``upper95``/``lower998``/``upper998`` are counts (the verdict compares with them);
    the ``*_rate`` properties are the interpolated limits as proportions, for drawing curves.
    """

    size: int
    target_pct: float
    lower95: int
    upper95: int
    lower998: int
    upper998: int
    lower95_x: float
    upper95_x: float
    lower998_x: float
    upper998_x: float

    def verdict(self, offflows: int) -> Verdict:
        if offflows < self.lower998:
            return Verdict.BELOW
        if offflows < self.lower95:
            return Verdict.POSSIBLY_BELOW
        if offflows > self.upper998:
            return Verdict.ABOVE
        if offflows > self.upper95:
            return Verdict.POSSIBLY_ABOVE
        return Verdict.CONSISTENT

    def rate(self, which: str) -> float:
        """An interpolated limit as a percentage: ``which`` is lower95, upper95, lower998 or upper998."""
        return 100.0 * getattr(self, f"{which}_x") / self.size


def control_limits(size: int, target_pct: float) -> Limits:
    """The exact binomial limits for ``size`` claims at an expected level of ``target_pct`` percent."""
    if size <= 0:
        raise ValueError(f"a cohort needs at least one claim for control limits, not {size}")
    if not 0 <= target_pct <= 100:
        raise ValueError(f"an expected level is a percentage from 0 to 100, not {target_pct}")
    p = target_pct / 100
    on = _pmf(size, p)
    # The upper limit on off-flows is the lower limit on claims still on benefit (n - X), mirrored.
    off = on[::-1]
    out: dict[str, float] = {}
    for level, tail in TAILS.items():
        lo, lo_x = _lower(on, tail)
        hi_on, hi_on_x = _lower(off, tail)
        out[f"lower{level}"], out[f"lower{level}_x"] = lo, lo_x
        out[f"upper{level}"], out[f"upper{level}_x"] = size - hi_on, size - hi_on_x
    return Limits(size=size, target_pct=target_pct, **out)  # type: ignore[arg-type]


def verdict(offflows: int, size: int, target_pct: float | None, status: str = "final") -> Verdict | None:
    """The verdict for a count, or None without an expected level or with an empty cohort.

    An interim cohort (members or possible members not yet at the milestone) is never called
    beyond chance: its count can still change, so it reads at most "possibly" below or above.
    """
    if target_pct is None or size <= 0:
        return None
    v = control_limits(size, target_pct).verdict(offflows)
    if status != "final":
        v = {Verdict.BELOW: Verdict.POSSIBLY_BELOW, Verdict.ABOVE: Verdict.POSSIBLY_ABOVE}.get(v, v)
    return v
