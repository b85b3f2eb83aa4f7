"""The reference off-flow roll-up (DOMAIN sections 5, 6 and 12).

This is the plain-Python statement of what an off-flow summary row contains.
The SQL version used for real data is property-tested against it, so it
favours being obviously right over being fast.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from caseload.measures.clock import offflowed_by
from caseload.measures.cohorts import Period
from caseload.measures.destinations import Category, RuleSet, category
from caseload.measures.rates import Count, cohort_status, meets_target, not_yet_at, still_needed


# What an off-flow summary can be grouped by; the personal characteristics are suppressed under 5.
GROUP_BY = ("none", "office", "team", "adviser", "benefit", "age_band", "sex", "disability", "ethnicity")
PERSONAL = ("age_band", "sex", "disability", "ethnicity")


@dataclass(frozen=True)
class ClaimFacts:
    """What the roll-up needs to know about one claim."""

    claim_id: str
    start: date
    end: date | None
    end_reason: str | None  # the effective reason (confirmed if any, else the extract's)
    benefit: str
    group: str  # the group value for this claim ("all" for by none)
    next_claim_gap: int | None  # days from end to the same customer's next claim start


@dataclass(frozen=True)
class OffflowRow:
    """One off-flow summary row: a group, a cohort period and a milestone."""

    group_by: str
    group: str
    period: Period
    milestone_weeks: int
    cohort_size: int
    offflows: int
    target_pct: int | None
    status: str  # final | interim
    not_yet_at: int
    employment: int
    sanction: int
    not_known: int
    opte: int

    @property
    def count(self) -> Count:
        """The off-flow count, for pooling rows into roll-ups."""
        return Count(self.offflows, self.cohort_size)

    @property
    def rate_pct(self) -> str | None:
        """The off-flow rate truncated to 2 decimals; None for an empty cohort."""
        return self.count.rate_pct(2)

    @property
    def meets_target(self) -> bool | None:
        """Exact integer comparison with the target; None when there is no target."""
        return meets_target(self.offflows, self.cohort_size, self.target_pct)

    @property
    def still_needed(self) -> int | None:
        """Further off-flows needed to meet the target; None when there is no target."""
        if self.target_pct is None:
            return None
        return still_needed(self.offflows, self.cohort_size, self.target_pct)


def _period_index(periods: Sequence[Period]) -> tuple[list[Period], list[date]]:
    ordered = sorted(set(periods))
    for a, b in zip(ordered, ordered[1:]):
        if b.start <= a.end:
            raise ValueError(f"cohort periods overlap: {a.label} ({a.kind}) and {b.label} ({b.kind})")
    return ordered, [p.start for p in ordered]


def _find_period(ordered: list[Period], starts: list[date], d: date) -> Period | None:
    i = bisect.bisect_right(starts, d) - 1
    if i >= 0 and d <= ordered[i].end:
        return ordered[i]
    return None


def offflow_rows(
    claims: Iterable[ClaimFacts],
    *,
    group_by: str,
    periods: Sequence[Period],
    milestones: Sequence[int],
    as_at: date,
    rule_set: RuleSet,
    expected_levels: Mapping[str, Mapping[int, int]],
) -> list[OffflowRow]:
    """One row per (group, period, milestone) with a non-empty cohort.

    A claim is in the cohort of the period containing its start date; claims
    starting in none of ``periods``, or after ``as_at``, are ignored. Rows are
    sorted by group (code-point order), period start, then milestone. The
    reason-based counts (employment, sanction, not known, OPtE) are taken among
    the off-flows only. ``periods`` must not overlap.
    """
    ordered, starts = _period_index(periods)
    weeks_list = sorted(set(milestones))

    cohorts: dict[tuple[str, Period], list[ClaimFacts]] = defaultdict(list)
    for c in claims:
        if c.start > as_at:
            continue
        p = _find_period(ordered, starts, c.start)
        if p is not None:
            cohorts[(c.group, p)].append(c)

    rows: list[OffflowRow] = []
    for (group, period), members in sorted(cohorts.items(), key=lambda kv: (kv[0][0], kv[0][1].start)):
        benefits = {c.benefit for c in members}
        for weeks in weeks_list:
            off = [c for c in members if offflowed_by(c.start, c.end, weeks, as_at)]
            cats = [category(c.end_reason) for c in off]
            target: int | None = None
            if len(benefits) == 1:
                target = expected_levels.get(next(iter(benefits)), {}).get(weeks)
            rows.append(
                OffflowRow(
                    group_by=group_by,
                    group=group,
                    period=period,
                    milestone_weeks=weeks,
                    cohort_size=len(members),
                    offflows=len(off),
                    target_pct=target,
                    status=cohort_status(period.end, weeks, as_at),
                    not_yet_at=not_yet_at((c.start for c in members), weeks, as_at),
                    employment=sum(1 for k in cats if k is Category.EMPLOYMENT),
                    sanction=sum(1 for k in cats if k is Category.SANCTION),
                    not_known=sum(1 for k in cats if k is Category.NOT_KNOWN),
                    opte=sum(
                        1 for c in off if rule_set.counts_for_opte(c.end_reason, c.next_claim_gap)
                    ),
                )
            )
    return rows
