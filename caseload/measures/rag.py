"""Red-amber-green prioritisation rules (DOMAIN section 7)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum

from caseload.measures.clock import MILESTONES, RED_PLAN_DAYS, milestone_date


class Rag(StrEnum):
    RED = "R"
    AMBER = "A"
    GREEN = "G"

    @property
    def word(self) -> str:
        """The full word for screens: "Red", "Amber" or "Green"."""
        return {"R": "Red", "A": "Amber", "G": "Green"}[self.value]


def red_without_plan_update(
    rag: Rag | None,
    red_set_on: date | None,
    last_plan_on: date | None,
    as_at: date,
    days: int = RED_PLAN_DAYS,
) -> bool:
    """A Red customer whose plan update is more than ``days`` days before ``as_at``.

    The plan update is the later of the date Red was set and the last
    conference item with a plan. Red must never mean "parked": a Red rating
    with neither date known is flagged, since nothing shows it was acted on.
    """
    if rag is not Rag.RED:
        return False
    known = [d for d in (red_set_on, last_plan_on) if d is not None]
    if not known:
        return True
    return (as_at - max(known)).days > days


def review_due(
    next_review: date | None,
    rated_on: date | None,
    start: date,
    as_at: date,
    milestones: Sequence[int] = MILESTONES,
) -> bool:
    """Whether the claim's RAG rating needs reviewing as at ``as_at``.

    Due when never rated, when the next-review date is on or before the as-at
    date, or when a milestone has passed since the rating (``rated_on < m <= as_at``;
    a rating made on the milestone day counts as the milestone review).
    """
    if rated_on is None:
        return True
    if next_review is not None and next_review <= as_at:
        return True
    return any(rated_on < milestone_date(start, w) <= as_at for w in milestones)
