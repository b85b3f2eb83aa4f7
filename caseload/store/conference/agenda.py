"""The agenda: the customers the rules put on a conference, in the order the rules give
(why each is on it, then claim start; never anyone's likelihood of leaving benefit)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection, and_, exists, or_, select

from caseload.measures.clock import APPROACHING_DAYS, just_passed, milestone_date
from caseload.measures.conference import NOT_DISCUSSED_DAYS, REASON_ORDER, Agenda, AgendaItem
from caseload.store import schema
from caseload.store.access import Actor
from caseload.store.caseload import claim_columns
from caseload.store.conference.history import actions_by_claim, previous_items
from caseload.store.conference.read import conference_detail
from caseload.store.conference.rules import action_line, adviser_row, open_on, require_read, staff_names


def build_agenda(conn: Connection, actor: Actor, adviser_id: str, on: dt.date,
                 approaching_days: int = APPROACHING_DAYS) -> list[AgendaItem]:
    """The customers the rules put on `adviser_id`'s conference agenda for `on`, in agenda order."""
    adviser = adviser_row(conn, adviser_id)
    require_read(actor, adviser)
    return agenda_items(conn, actor, adviser.id, on, approaching_days)


def agenda_items(conn: Connection, actor: Actor, adviser_id: str, on: dt.date, approaching_days: int) -> list[AgendaItem]:
    t, cu, st = schema.Claim.__table__, schema.Customer.__table__, schema.ClaimState.__table__
    ac, cf = schema.Action.__table__, schema.Conference.__table__
    c = t.c
    D = schema.day_number(on)
    cols, flags = claim_columns(on, approaching_days)
    beyond = and_(flags["beyond 52"],
                  or_(st.c.last_conference_day.is_(None), D - st.c.last_conference_day > NOT_DISCUSSED_DAYS))
    open_action = exists(
        select(ac.c.id).select_from(ac.join(cf, cf.c.id == ac.c.conference_id))
        .where(ac.c.claim_id == c.id, ac.c.status == "open", cf.c.held_day < D)
    )
    conditions = {
        "approaching": flags["approaching"], "just passed": flags["just passed"],
        "red no plan": flags["red no plan"], "beyond 52": beyond, "open action": open_action,
    }
    rows = conn.execute(
        select(c.id, c.customer_id, cu.c.name, c.benefit, c.claim_start, c.start_day, st.c.rag,
               cols["next_ms"].label("next_ms"), cols["days_to"].label("days_to"),
               *[cond.label("f_" + k.replace(" ", "_")) for k, cond in conditions.items()])
        .select_from(t.join(cu, cu.c.id == c.customer_id).outerjoin(st, st.c.claim_id == c.id))
        .where(c.adviser_id == adviser_id, open_on(c, D), actor.claim_filter(t), or_(*conditions.values()))
    ).all()
    items = []
    for r in rows:
        m = r._mapping
        reasons = []
        for k in conditions:
            if not m["f_" + k.replace(" ", "_")]:
                continue
            if k == "approaching":
                reasons.append(f"approaching {r.next_ms}w")
            elif k == "just passed":
                weeks = just_passed(r.claim_start, on, None)
                reasons.append(f"just passed {weeks}w")
            else:
                reasons.append(k)
        items.append((_reason_key(reasons[0]), r.start_day, r.id, r, tuple(reasons)))
    items.sort(key=lambda x: x[:3])
    context = _agenda_context(conn, [x[2] for x in items], D)
    out = []
    for _, _, _, r, reasons in items:
        open_actions, previous = context.get(r.id, ((), None))
        out.append(AgendaItem(
            claim_id=r.id, customer_id=r.customer_id, customer_name=r.name or "", benefit=r.benefit,
            claim_start=r.claim_start, weeks=(D - r.start_day) // 7, next_milestone=r.next_ms,
            milestone_on=None if r.next_ms is None else milestone_date(r.claim_start, r.next_ms),
            days_to_milestone=r.days_to, rag=r.rag, reasons=reasons, open_actions=open_actions, previous=previous,
        ))
    return out


def _reason_key(reason: str) -> int:
    for i, k in enumerate(REASON_ORDER):
        if reason == k or reason.startswith(k + " "):
            return i
    return len(REASON_ORDER)


def _agenda_context(conn: Connection, claim_ids: Sequence[str], D: int):  # noqa: ANN202
    names = staff_names(conn)
    actions = actions_by_claim(conn, claim_ids, names)
    previous = previous_items(conn, claim_ids, D, names, actions)
    out = {}
    for cid in claim_ids:
        open_actions = tuple(action_line(a, names) for a in actions.get(cid, [])
                             if a.status == "open" and a.held_day < D)
        discussed = [p for p in previous.get(cid, []) if p.status == "discussed"]
        out[cid] = (open_actions, discussed[0] if discussed else None)
    return out


def agenda(conn: Connection, actor: Actor, adviser_id: str, on: dt.date,
           approaching_days: int = APPROACHING_DAYS) -> Agenda:
    """The agenda for the adviser on `on`: the started conference's items if there is one, else the rules'."""
    adviser = adviser_row(conn, adviser_id)
    require_read(actor, adviser)
    cf = schema.Conference.__table__
    conf = conn.execute(select(cf).where(cf.c.adviser_id == adviser.id, cf.c.held_on == on)).first()
    if conf is None:
        items = tuple(agenda_items(conn, actor, adviser.id, on, approaching_days))
        return Agenda(adviser.id, adviser.name, adviser.team, on, None, None, items, approaching_days)
    detail = conference_detail(conn, actor, conf.id)
    D = schema.day_number(on)
    items = []
    for it in detail.items:
        ctx = it.context
        discussed = [p for p in ctx.earlier if p.status == "discussed"]
        items.append(AgendaItem(
            claim_id=it.claim_id, customer_id=ctx.customer_id, customer_name=ctx.name, benefit=ctx.benefit,
            claim_start=ctx.claim_start, weeks=(D - schema.day_number(ctx.claim_start)) // 7,
            next_milestone=ctx.next_milestone, milestone_on=ctx.milestone_on, days_to_milestone=ctx.days_to_milestone,
            rag=it.rag_before if it.rag_review else ctx.rag,
            reasons=tuple(x for x in it.reasons.split("; ") if x),
            open_actions=tuple(a for a in it.earlier_actions if a.status == "open" or a.outcome == "done"),
            previous=discussed[0] if discussed else None,
        ))
    return Agenda(adviser.id, adviser.name, adviser.team, on, conf.id, conf.status, tuple(items), approaching_days)
