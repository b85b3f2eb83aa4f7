"""The caseload conference (DOMAIN.md section 8): one team manager, one adviser, one date.

The agenda is built from the claim clock and the records (section 3 boundaries, section 7 plan
update), in SQL over the integer day numbers, ordered by why each customer is on it and then
by claim start: never by anyone's likelihood of leaving benefit. Each item records what has
been done, the plan, the expected off-flow date, a RAG review and actions; actions set at a
conference come back at every later conference until they are done. Items are saved one by
one, with the conference's position, so a conference is resumed where it was left.

Who may do what: the adviser's own team manager, a team leader of their office, or the
administrator runs (writes) a conference; the adviser reads their own; nobody else sees it.
Every write is audited, and a stale write (an item changed since it was read) is refused.
Callers pass a connection inside `store.db.write` (writes) or a plain connection (reads).

By job: `rules` (who may, shared lookups), `history` (what earlier conferences said), `agenda`,
`write` and `read`. The rules in words and the result values are pure and live in
`caseload.measures.conference`, so widgets need no query code; they are named here too for callers.
"""

from caseload.measures.conference import (
    ActionLine, AdviserConference, Agenda, AgendaItem, ConferenceDetail, ConferenceSummary, ContactLine,
    CustomerContext, ItemDetail, PreviousItem, RagLine, SummaryCounts, SummaryItem, TeamEstimates,
)
from caseload.store.conference.agenda import agenda, build_agenda
from caseload.store.conference.read import (
    ConferenceLine, conference_detail, conference_summary, estimate_outcomes, find_conferences, last_conferences,
    list_conferences,
)
from caseload.store.conference.rules import may_name_customers
from caseload.store.conference.write import add_customer, finish, move_to, record_item, skip_item, start_or_resume

__all__ = [
    "ActionLine", "AdviserConference", "Agenda", "AgendaItem", "ConferenceDetail", "ConferenceLine",
    "ConferenceSummary", "ContactLine", "CustomerContext", "ItemDetail", "PreviousItem", "RagLine",
    "SummaryCounts", "SummaryItem", "TeamEstimates", "add_customer", "agenda", "build_agenda",
    "conference_detail", "conference_summary", "estimate_outcomes", "find_conferences", "finish",
    "last_conferences", "list_conferences", "may_name_customers", "move_to", "record_item", "skip_item",
    "start_or_resume",
]
