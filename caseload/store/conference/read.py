"""Reading conferences: one with its context per customer, its summary, the lists to open one
from, and the team view's figures (last conference per adviser, estimates against outcomes)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, case, desc, func, select

from caseload.measures.clock import MILESTONES, milestone_date
from caseload.measures.conference import (
    CONTACTS_SHOWN, OVERDUE_DAYS, AdviserConference, ConferenceDetail, ConferenceSummary, ContactLine,
    CustomerContext, ItemDetail, RagLine, SummaryCounts, SummaryItem, TeamEstimates,
)
from caseload.measures.people import mask_nino
from caseload.store import schema
from caseload.store.access import Actor, Role
from caseload.store.conference.history import actions_by_claim, previous_items
from caseload.store.conference.rules import (
    action_line, adviser_row, aware, chunks, conference_row, require_read, runs, staff_names, visible_staff,
)

# Reading a conference.


def _context(conn: Connection, claim_ids: Sequence[str], held_day: int, conference_id: int,
             names: dict[str, str], actions: dict[str, list]) -> dict[str, CustomerContext]:
    c, cu, st = schema.Claim.__table__, schema.Customer.__table__, schema.ClaimState.__table__
    r, ct = schema.RagRating.__table__, schema.Contact.__table__
    on = schema.from_day_number(held_day)
    previous = previous_items(conn, claim_ids, held_day, names, actions, exclude_conference=conference_id)
    claims, history, contacts = {}, defaultdict(list), defaultdict(list)
    for chunk in chunks(claim_ids):
        for x in conn.execute(select(c.c.id, c.c.customer_id, c.c.benefit, c.c.claim_start, c.c.claim_end,
                                     c.c.start_day, cu.c.name, cu.c.nino, st.c.rag)
                              .select_from(c.join(cu, cu.c.id == c.c.customer_id)
                                           .outerjoin(st, st.c.claim_id == c.c.id))
                              .where(c.c.id.in_(chunk))):
            claims[x.id] = x
        for x in conn.execute(select(r).where(r.c.claim_id.in_(chunk)).order_by(r.c.set_day, r.c.id)):
            history[x.claim_id].append(RagLine(x.set_on, x.rating, x.reason, names.get(x.set_by, x.set_by), x.source,
                                               x.next_review))
        for x in conn.execute(select(ct.c.claim_id, ct.c.contact_on, ct.c.kind, ct.c.attended)
                              .where(ct.c.claim_id.in_(chunk), ct.c.status == "active")
                              .order_by(desc(ct.c.contact_day), desc(ct.c.id))):
            if len(contacts[x.claim_id]) < CONTACTS_SHOWN:
                contacts[x.claim_id].append(ContactLine(x.contact_on, x.kind, bool(x.attended)))
    out = {}
    for cid in claim_ids:
        x = claims[cid]
        upcoming = [(w, milestone_date(x.claim_start, w)) for w in MILESTONES
                    if milestone_date(x.claim_start, w) >= on]
        nxt = upcoming[0] if upcoming else None
        out[cid] = CustomerContext(
            customer_id=x.customer_id, name=x.name or "", nino=mask_nino(x.nino), benefit=x.benefit,
            claim_start=x.claim_start, claim_end=x.claim_end, weeks=(held_day - x.start_day) // 7,
            milestones=tuple((w, milestone_date(x.claim_start, w)) for w in MILESTONES),
            next_milestone=nxt[0] if nxt else None, milestone_on=nxt[1] if nxt else None,
            days_to_milestone=(nxt[1] - on).days if nxt else None, rag=x.rag,
            rag_history=tuple(history[cid]), contacts=tuple(contacts[cid]), earlier=tuple(previous.get(cid, [])),
        )
    return out


def conference_detail(conn: Connection, actor: Actor, conference_id: int) -> ConferenceDetail:
    """The conference with every item and, per customer, the context to discuss them."""
    conf = conference_row(conn, conference_id)
    adviser = adviser_row(conn, conf.adviser_id)
    require_read(actor, adviser)
    ci, r = schema.ConferenceItem.__table__, schema.RagRating.__table__
    rv = schema.ConferenceActionReview.__table__
    names = staff_names(conn)
    rows = conn.execute(select(ci, r.c.rating.label("rag_after"), r.c.reason.label("rag_reason"))
                        .select_from(ci.outerjoin(r, r.c.id == ci.c.rag_rating_id))
                        .where(ci.c.conference_id == conference_id).order_by(ci.c.position)).all()
    claim_ids = [x.claim_id for x in rows]
    actions = actions_by_claim(conn, claim_ids, names)
    context = _context(conn, claim_ids, conf.held_day, conf.id, names, actions)
    reviews: dict[int, dict[int, str]] = defaultdict(dict)
    for x in conn.execute(select(rv.c.conference_item_id, rv.c.action_id, rv.c.outcome)
                          .where(rv.c.conference_item_id.in_([x.id for x in rows] or [-1]))):
        reviews[x.conference_item_id][x.action_id] = x.outcome
    items = []
    for x in rows:
        mine = reviews.get(x.id, {})
        new = tuple(action_line(a, names) for a in actions.get(x.claim_id, []) if a.conference_item_id == x.id)
        earlier = tuple(action_line(a, names, mine.get(a.id)) for a in actions.get(x.claim_id, [])
                        if a.conference_id != conf.id and a.held_day < conf.held_day
                        and (a.status == "open" or a.id in mine))
        items.append(ItemDetail(
            id=x.id, version=x.version, position=x.position, claim_id=x.claim_id, reasons=x.reasons, status=x.status,
            skip_reason=x.skip_reason, done_so_far=x.done_so_far, plan=x.plan, expected_offflow=x.expected_offflow,
            expected_offflow_unknown=bool(x.expected_offflow_unknown), offflow_note=x.offflow_note,
            rag_review=x.rag_review, rag_before=x.rag_before, rag_after=x.rag_after,
            rag_reason=x.rag_reason if x.rag_rating_id is not None else None,
            new_actions=new, earlier_actions=earlier, context=context[x.claim_id],
        ))
    return ConferenceDetail(
        id=conf.id, version=conf.version, adviser_id=adviser.id, adviser_name=adviser.name,
        manager_id=conf.manager_id, manager_name=names.get(conf.manager_id, conf.manager_id), team=adviser.team,
        held_on=conf.held_on, status=conf.status, position=conf.position, started_at=aware(conf.started_at),
        finished_at=aware(conf.finished_at), attendees=conf.attendees, items=tuple(items),
        can_write=conf.status != "finished" and runs(actor, adviser),
    )


def conference_summary(conn: Connection, actor: Actor, conference_id: int) -> ConferenceSummary:
    """The one-page summary: counts, then each customer with what was recorded."""
    d = conference_detail(conn, actor, conference_id)
    items = []
    for it in d.items:
        items.append(SummaryItem(
            position=it.position, claim_id=it.claim_id, customer_id=it.context.customer_id,
            customer_name=it.context.name, reasons=it.reasons, status=it.status, skip_reason=it.skip_reason,
            done_so_far=it.done_so_far, plan=it.plan, expected_offflow=it.expected_offflow,
            expected_offflow_unknown=it.expected_offflow_unknown, offflow_note=it.offflow_note,
            rag_review=it.rag_review, rag_before=it.rag_before, rag_after=it.rag_after, rag_reason=it.rag_reason,
            new_actions=it.new_actions,
            done_actions=tuple(a for a in it.earlier_actions if a.outcome == "done"),
            carried_actions=tuple(a for a in it.earlier_actions if a.outcome == "carried"),
        ))
    counts = SummaryCounts(
        items=len(items),
        discussed=sum(1 for i in items if i.status == "discussed"),
        skipped=sum(1 for i in items if i.status == "skipped"),
        pending=sum(1 for i in items if i.status == "pending"),
        rag_changes=sum(1 for i in items if i.status == "discussed" and i.rag_review == "change"),
        new_actions=sum(len(i.new_actions) for i in items),
        carried_actions=sum(len(i.carried_actions) for i in items),
        done_actions=sum(len(i.done_actions) for i in items),
    )
    return ConferenceSummary(
        id=d.id, adviser_id=d.adviser_id, adviser_name=d.adviser_name, manager_id=d.manager_id,
        manager_name=d.manager_name, team=d.team, held_on=d.held_on, status=d.status, finished_at=d.finished_at,
        attendees=d.attendees, counts=counts, items=tuple(items),
    )


def find_conferences(conn: Connection, actor: Actor, adviser_id: str | None = None,
                     on: dt.date | None = None) -> list[int]:
    """Conference ids for an export: on `on` (else each adviser's latest), for `adviser_id` (else every
    adviser whose conferences the actor may see), by team, adviser name and date."""
    cf, st, tt = schema.Conference.__table__, schema.Staff.__table__, schema.Team.__table__
    if adviser_id is not None:
        require_read(actor, adviser_row(conn, adviser_id))
    q = (select(cf.c.id, cf.c.adviser_id, cf.c.held_day, tt.c.name.label("team"), st.c.name)
         .select_from(cf.join(st, st.c.id == cf.c.adviser_id).outerjoin(tt, tt.c.id == st.c.team_id)))
    if adviser_id is not None:
        q = q.where(cf.c.adviser_id == adviser_id)
    else:
        q = q.where(visible_staff(actor, st))
    if on is not None:
        q = q.where(cf.c.held_day == schema.day_number(on))
    rows = conn.execute(q).all()
    if on is None:
        latest: dict[str, object] = {}
        for r in rows:
            if r.adviser_id not in latest or r.held_day > latest[r.adviser_id].held_day:
                latest[r.adviser_id] = r
        rows = list(latest.values())
    rows.sort(key=lambda r: (r.team or "", r.name or "", r.adviser_id, r.held_day))
    return [r.id for r in rows]


@dataclass(frozen=True)
class ConferenceLine:
    """One of an adviser's conferences, for a list to open it from."""

    id: int
    adviser_id: str
    adviser_name: str
    held_on: dt.date
    status: str  # in_progress | finished
    manager_id: str
    manager_name: str
    finished_at: dt.datetime | None
    items: int
    discussed: int
    skipped: int


def list_conferences(conn: Connection, actor: Actor, adviser_id: str) -> list[ConferenceLine]:
    """Every conference held with `adviser_id`, newest first (the adviser reads their own)."""
    adviser = adviser_row(conn, adviser_id)
    require_read(actor, adviser)
    cf, ci = schema.Conference.__table__, schema.ConferenceItem.__table__
    names = staff_names(conn)

    def n(status: str):  # noqa: ANN202
        return func.coalesce(func.sum(case((ci.c.status == status, 1), else_=0)), 0)

    rows = conn.execute(
        select(cf.c.id, cf.c.held_on, cf.c.status, cf.c.manager_id, cf.c.finished_at, func.count(ci.c.id),
               n("discussed"), n("skipped"))
        .select_from(cf.outerjoin(ci, ci.c.conference_id == cf.c.id))
        .where(cf.c.adviser_id == adviser.id)
        .group_by(cf.c.id, cf.c.held_on, cf.c.held_day, cf.c.status, cf.c.manager_id, cf.c.finished_at)
        .order_by(desc(cf.c.held_day))
    ).all()
    return [ConferenceLine(r[0], adviser.id, adviser.name, r[1], r[2], r[3], names.get(r[3], r[3]), aware(r[4]),
                           int(r[5]), int(r[6]), int(r[7])) for r in rows]


def last_conferences(conn: Connection, actor: Actor, on: dt.date) -> list[AdviserConference]:
    """Each adviser the actor may see, with their last finished conference (on or before `on`) and
    whether it is overdue (more than 31 days before `on`, or never held). By team and name."""
    st, tt, cf = schema.Staff.__table__, schema.Team.__table__, schema.Conference.__table__
    D = schema.day_number(on)
    advisers = conn.execute(
        select(st.c.id, st.c.name, tt.c.name.label("team"))
        .select_from(st.outerjoin(tt, tt.c.id == st.c.team_id))
        .where(st.c.role == Role.ADVISER.value, st.c.active.is_(True), visible_staff(actor, st))
        .order_by(tt.c.name, st.c.name, st.c.id)
    ).all()
    ids = [a.id for a in advisers]
    last: dict[str, int] = {}
    unfinished: dict[str, tuple] = {}
    for chunk in chunks(ids):
        for r in conn.execute(select(cf.c.adviser_id, func.max(cf.c.held_day))
                              .where(cf.c.adviser_id.in_(chunk), cf.c.status == "finished", cf.c.held_day <= D)
                              .group_by(cf.c.adviser_id)):
            last[r[0]] = r[1]
        for r in conn.execute(select(cf.c.adviser_id, cf.c.id, cf.c.held_on)
                              .where(cf.c.adviser_id.in_(chunk), cf.c.status == "in_progress")
                              .order_by(cf.c.held_day)):
            unfinished.setdefault(r.adviser_id, (r.id, r.held_on))
    out = []
    for a in advisers:
        day = last.get(a.id)
        since = None if day is None else D - day
        u = unfinished.get(a.id)
        out.append(AdviserConference(
            adviser_id=a.id, adviser_name=a.name or a.id, team=a.team,
            last_on=None if day is None else schema.from_day_number(day), days_since=since,
            overdue=since is None or since > OVERDUE_DAYS,
            unfinished_on=u[1] if u else None, unfinished_id=u[0] if u else None,
        ))
    return out


def estimate_outcomes(conn: Connection, actor: Actor, as_at: dt.date) -> list[TeamEstimates]:
    """Expected off-flow dates recorded at conferences (held on or before `as_at`) against what happened
    by `as_at`, per team (the adviser's team on the day). Each discussed item is one estimate."""
    cf, ci, c, tt = (schema.Conference.__table__, schema.ConferenceItem.__table__, schema.Claim.__table__,
                     schema.Team.__table__)
    D = schema.day_number(as_at)
    ended = and_(c.c.end_day.is_not(None), c.c.end_day <= D)
    known = ci.c.expected_offflow_day.is_not(None)

    def n(cond):  # noqa: ANN001, ANN202
        return func.sum(case((cond, 1), else_=0))

    if actor.is_admin:
        scope = cf.c.id.is_not(None)
    elif actor.role is Role.TEAM_LEADER:
        scope = tt.c.office_id == actor.office_id
    else:
        scope = cf.c.team_id == actor.team_id
    rows = conn.execute(
        select(cf.c.team_id, tt.c.name, n(known), n(ci.c.expected_offflow_unknown.is_(True)),
               n(and_(known, ended, c.c.end_day <= ci.c.expected_offflow_day)),
               n(and_(known, ended, c.c.end_day > ci.c.expected_offflow_day)),
               n(and_(known, ~ended, ci.c.expected_offflow_day < D)),
               n(and_(known, ~ended, ci.c.expected_offflow_day >= D)))
        .select_from(ci.join(cf, cf.c.id == ci.c.conference_id).join(c, c.c.id == ci.c.claim_id)
                     .outerjoin(tt, tt.c.id == cf.c.team_id))
        .where(ci.c.status == "discussed", cf.c.held_day <= D, scope)
        .group_by(cf.c.team_id, tt.c.name).order_by(tt.c.name, cf.c.team_id)
    ).all()
    return [TeamEstimates(r[0], r[1], *(int(v or 0) for v in r[2:])) for r in rows]
