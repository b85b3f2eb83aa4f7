"""What earlier conferences said about a claim: the actions set at them and their items."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Connection, desc, select

from caseload.measures.conference import PreviousItem
from caseload.store import schema
from caseload.store.conference.rules import action_line, chunks


def actions_by_claim(conn: Connection, claim_ids: Sequence[str], names: dict[str, str]) -> dict[str, list]:
    """Actions set at conferences, per claim, with the day of the conference that set them."""
    ac, cf = schema.Action.__table__, schema.Conference.__table__
    out: dict[str, list] = defaultdict(list)
    for chunk in chunks(claim_ids):
        for a in conn.execute(
            select(ac, cf.c.held_on, cf.c.held_day).select_from(ac.join(cf, cf.c.id == ac.c.conference_id))
            .where(ac.c.claim_id.in_(chunk), ac.c.status != "withdrawn").order_by(ac.c.due_day, ac.c.id)
        ):
            out[a.claim_id].append(a)
    return out


def previous_items(conn: Connection, claim_ids: Sequence[str], before_day: int, names: dict[str, str],
                    actions: dict[str, list], exclude_conference: int | None = None) -> dict[str, list[PreviousItem]]:
    """Earlier conference items (held before `before_day`) per claim, newest first."""
    cf, ci, r = schema.Conference.__table__, schema.ConferenceItem.__table__, schema.RagRating.__table__
    out: dict[str, list[PreviousItem]] = defaultdict(list)
    by_item: dict[int, list] = defaultdict(list)
    for rows in actions.values():
        for a in rows:
            if a.conference_item_id is not None:
                by_item[a.conference_item_id].append(a)
    for chunk in chunks(claim_ids):
        q = (select(ci, cf.c.held_on, cf.c.manager_id, r.c.rating.label("rag_after"))
             .select_from(ci.join(cf, cf.c.id == ci.c.conference_id).outerjoin(r, r.c.id == ci.c.rag_rating_id))
             .where(ci.c.claim_id.in_(chunk), cf.c.held_day < before_day)
             .order_by(desc(cf.c.held_day), desc(ci.c.id)))
        if exclude_conference is not None:
            q = q.where(ci.c.conference_id != exclude_conference)
        for x in conn.execute(q):
            out[x.claim_id].append(PreviousItem(
                conference_id=x.conference_id, held_on=x.held_on, manager=names.get(x.manager_id, x.manager_id),
                status=x.status, skip_reason=x.skip_reason, done_so_far=x.done_so_far, plan=x.plan,
                expected_offflow=x.expected_offflow, expected_offflow_unknown=bool(x.expected_offflow_unknown),
                offflow_note=x.offflow_note, rag_review=x.rag_review, rag_after=x.rag_after,
                actions=tuple(action_line(a, names) for a in by_item.get(x.id, [])),
            ))
    return out
