"""The caseload conference's rules in words and the plain values it is read as (DOMAIN.md section 8).

Pure: no database. The store builds these from its queries; screens, widgets and exports show them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from caseload.measures.clock import APPROACHING_DAYS, JUST_PASSED_DAYS, RECENT_DAYS, RED_PLAN_DAYS

OVERDUE_DAYS = 31  # a conference more than this many days ago is overdue ("at least monthly")
NOT_DISCUSSED_DAYS = RECENT_DAYS  # beyond-52 customers not discussed in the last 91 days
CONTACTS_SHOWN = 3

# Why a customer is on the agenda, in agenda order. The first reason a customer has places them.
REASON_ORDER = ("approaching", "just passed", "red no plan", "beyond 52", "open action", "added")
def reason_rules(approaching_days: int = APPROACHING_DAYS) -> dict[str, str]:
    """Each agenda rule in words, for the people reading an agenda."""
    return {**REASON_RULES, "approaching": f"a 13, 26 or 52-week milestone falls 0 to {approaching_days} days "
                                           "after the conference"}


REASON_RULES = {
    "approaching": f"a 13, 26 or 52-week milestone falls 0 to {APPROACHING_DAYS} days after the conference",
    "just passed": f"a milestone passed 1 to {JUST_PASSED_DAYS} days before the conference, with no RAG review "
                   "or conference item since",
    "red no plan": f"Red, and the plan update (the later of the day Red was set and the last conference item "
                   f"with a plan) is more than {RED_PLAN_DAYS} days before the conference",
    "beyond 52": f"on benefit 365 days or more, and not discussed at a conference in the last "
                 f"{NOT_DISCUSSED_DAYS} days",
    "open action": "an action set at an earlier conference is still open",
    "added": "added to the agenda by the manager",
}
REVIEWS = ("confirm", "change")
ACTION_UPDATES = ("done", "carry")


# ---------------------------------------------------------------------------------------------
# Plain result objects (never ORM rows).


@dataclass(frozen=True)
class ActionLine:
    id: int
    version: int
    description: str
    owner: str
    owner_name: str
    due: dt.date
    status: str  # open | done | withdrawn
    done_on: dt.date | None
    set_on: dt.date | None  # the conference that set it; None for an action set outside a conference
    outcome: str | None = None  # what this item decided about it: done | carried (earlier actions only)


@dataclass(frozen=True)
class PreviousItem:
    """What an earlier conference recorded for the customer."""

    conference_id: int
    held_on: dt.date
    manager: str
    status: str  # discussed | skipped | pending
    skip_reason: str | None
    done_so_far: str | None
    plan: str | None
    expected_offflow: dt.date | None
    expected_offflow_unknown: bool
    offflow_note: str | None
    rag_review: str | None
    rag_after: str | None
    actions: tuple[ActionLine, ...]  # set at that item, with whether they are done now


@dataclass(frozen=True)
class AgendaItem:
    claim_id: str
    customer_id: str
    customer_name: str
    benefit: str
    claim_start: dt.date
    weeks: int  # whole weeks on benefit on the conference date
    next_milestone: int | None
    milestone_on: dt.date | None
    days_to_milestone: int | None
    rag: str | None
    reasons: tuple[str, ...]  # e.g. ("approaching 13w", "open action")
    open_actions: tuple[ActionLine, ...] = ()  # from earlier conferences, still open
    previous: PreviousItem | None = None  # the last earlier conference item for the claim

    @property
    def reason_text(self) -> str:
        return "; ".join(self.reasons)


@dataclass(frozen=True)
class Agenda:
    adviser_id: str
    adviser_name: str
    team: str | None
    on: dt.date
    conference_id: int | None  # the conference already started for that day, if any
    status: str | None
    items: tuple[AgendaItem, ...]
    approaching_days: int = APPROACHING_DAYS


@dataclass(frozen=True)
class RagLine:
    on: dt.date
    rating: str
    reason: str
    by: str
    source: str
    next_review: dt.date


@dataclass(frozen=True)
class ContactLine:
    on: dt.date
    kind: str
    attended: bool


@dataclass(frozen=True)
class CustomerContext:
    customer_id: str
    name: str
    nino: str  # masked
    benefit: str
    claim_start: dt.date
    claim_end: dt.date | None
    weeks: int
    milestones: tuple[tuple[int, dt.date], ...]
    next_milestone: int | None
    milestone_on: dt.date | None
    days_to_milestone: int | None
    rag: str | None
    rag_history: tuple[RagLine, ...]  # oldest first
    contacts: tuple[ContactLine, ...]  # the last three, newest first
    earlier: tuple[PreviousItem, ...]  # earlier conference items, newest first


@dataclass(frozen=True)
class ItemDetail:
    id: int
    version: int
    position: int
    claim_id: str
    reasons: str
    status: str
    skip_reason: str | None
    done_so_far: str | None
    plan: str | None
    expected_offflow: dt.date | None
    expected_offflow_unknown: bool
    offflow_note: str | None
    rag_review: str | None
    rag_before: str | None
    rag_after: str | None
    rag_reason: str | None
    new_actions: tuple[ActionLine, ...]
    earlier_actions: tuple[ActionLine, ...]  # set at earlier conferences: open, or reviewed by this item
    context: CustomerContext


@dataclass(frozen=True)
class ConferenceDetail:
    id: int
    version: int
    adviser_id: str
    adviser_name: str
    manager_id: str
    manager_name: str
    team: str | None
    held_on: dt.date
    status: str
    position: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    attendees: str | None
    items: tuple[ItemDetail, ...]
    can_write: bool  # False for the adviser (and for a finished conference)

    @property
    def current(self) -> ItemDetail | None:
        return self.items[self.position] if 0 <= self.position < len(self.items) else None


@dataclass(frozen=True)
class SummaryItem:
    position: int
    claim_id: str
    customer_id: str
    customer_name: str
    reasons: str
    status: str
    skip_reason: str | None
    done_so_far: str | None
    plan: str | None
    expected_offflow: dt.date | None
    expected_offflow_unknown: bool
    offflow_note: str | None
    rag_review: str | None
    rag_before: str | None
    rag_after: str | None
    rag_reason: str | None
    new_actions: tuple[ActionLine, ...]
    done_actions: tuple[ActionLine, ...]
    carried_actions: tuple[ActionLine, ...]


@dataclass(frozen=True)
class SummaryCounts:
    items: int
    discussed: int
    skipped: int
    pending: int
    rag_changes: int
    new_actions: int
    carried_actions: int
    done_actions: int


@dataclass(frozen=True)
class ConferenceSummary:
    id: int
    adviser_id: str
    adviser_name: str
    manager_id: str
    manager_name: str
    team: str | None
    held_on: dt.date
    status: str
    finished_at: dt.datetime | None
    attendees: str | None
    counts: SummaryCounts
    items: tuple[SummaryItem, ...]


@dataclass(frozen=True)
class AdviserConference:
    """One adviser's line on the team view."""

    adviser_id: str
    adviser_name: str
    team: str | None
    last_on: dt.date | None  # the last finished conference
    days_since: int | None
    overdue: bool  # more than 31 days ago, or never
    unfinished_on: dt.date | None = None  # a conference started and not finished, to resume
    unfinished_id: int | None = None


@dataclass(frozen=True)
class TeamEstimates:
    """Expected off-flow dates against what happened, for one team (pooled, never per adviser)."""

    team_id: int | None
    team: str | None
    estimates: int  # discussed items with an expected date
    unknown: int  # discussed items recorded as "don't know"
    ended_by_date: int  # the claim ended on or before the expected date
    ended_later: int
    open_past_date: int  # still open, and the expected date has passed
    open_not_yet_due: int
