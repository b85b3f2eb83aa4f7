"""The claim clock: every milestone date, and which have passed, as at a date (DOMAIN.md section 3)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static


def milestone_parts(milestones: Sequence[tuple[int, dt.date]], as_at: dt.date,
                    end: dt.date | None = None) -> list[str]:
    """One phrase per milestone: `13w 2026-11-10 in 4 days`, `26w 2026-05-03 passed`, or,
    for an ended claim, whether it had ended by then."""
    parts = []
    for weeks, when in milestones:
        if end is not None:
            state = "ended before" if end <= when else "passed"
        elif when < as_at:
            state = "✓ passed"
        elif when == as_at:
            state = "today"
        else:
            days = (when - as_at).days
            state = f"in {days} day{'s' if days != 1 else ''}"
        parts.append(f"{weeks}w {when.isoformat()} {state}")
    return parts


def clock_text(milestones: Sequence[tuple[int, dt.date]], start: dt.date, as_at: dt.date,
               end: dt.date | None = None) -> Text:
    if end is not None:
        days = (end - start).days
        head = f"Claim clock: ended {end.isoformat()} after {days // 7} weeks ({days} days)"
    else:
        days = (as_at - start).days
        head = f"Claim clock: {days // 7} weeks ({days} days) as at {as_at.isoformat()}"
    text = Text()
    text.append(head, style="bold")
    for part in milestone_parts(milestones, as_at, end):
        text.append(" · ")
        text.append(part, style="dim" if "passed" in part or "ended" in part else "")
    return text


class ClaimClock(Static):
    """A line (wrapping when narrow) with the claim's duration and its 13, 26 and 52-week dates."""

    def show(self, milestones: Sequence[tuple[int, dt.date]], start: dt.date, as_at: dt.date,
             end: dt.date | None = None) -> None:
        self.update(clock_text(milestones, start, as_at, end))
