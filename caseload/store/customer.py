"""The customer record (claims, claim clock, timeline), customer search, and "my actions"."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, or_, select

from caseload.measures.clock import MILESTONES, is_churn, milestone_date
from caseload.measures.destinations import category, destination_name
from caseload.measures.people import mask_nino
from caseload.store import schema
from caseload.store.access import Actor
from caseload.store.records import claim_in_scope


@dataclass(frozen=True)
class ClaimLine:
    claim_id: str
    benefit: str
    start: dt.date
    end: dt.date | None
    end_reason: str | None
    confirmed: str | None  # the latest adviser-confirmed destination code
    adviser: str
    milestones: tuple[tuple[int, dt.date], ...]
    links: tuple[str, ...]  # "re-claim of C1 after 5 days (churn)" and the like


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    kind: str  # rag | note | contact | action | transfer | destination | conference
    text: str
    who: str
    record_id: int | None = None
    version: int | None = None
    status: str = "active"
    change: str | None = None  # the reason for an amendment or withdrawal
    # A note's, contact's or action's fields as they stand (a correction starts from them).
    fields: dict | None = field(default=None, compare=False)
    # When it was written down (for same-day order): a contact or transfer shows its own day, but
    # among one day's entries the one recorded last comes first.
    recorded: dt.datetime | None = field(default=None, compare=False)


@dataclass(frozen=True)
class CustomerRecord:
    claim_id: str
    customer_id: str
    name: str
    nino: str
    date_of_birth: dt.date | None
    claims: tuple[ClaimLine, ...]
    timeline: tuple[TimelineEntry, ...]
    open_actions: tuple[TimelineEntry, ...]
    # The last caseload conference that discussed this claim, and the off-flow date it expected
    # (None with a conference: "don't know").
    last_conference: dt.date | None = None
    expected_offflow: dt.date | None = None


def _midday(d: dt.date) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, 12, tzinfo=dt.timezone.utc)


def _aware(v: dt.datetime) -> dt.datetime:
    return v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)


def customer_record(conn: Connection, actor: Actor, claim_id: str) -> CustomerRecord:
    claim = claim_in_scope(conn, actor, claim_id)
    c, cu, st = schema.Claim.__table__, schema.Customer.__table__, schema.Staff.__table__
    person = conn.execute(select(cu).where(cu.c.id == claim.customer_id)).one()
    names = {r.id: r.name for r in conn.execute(select(st.c.id, st.c.name))}
    names.setdefault("admin", "administrator")
    claims = conn.execute(select(c).where(c.c.customer_id == claim.customer_id).order_by(c.c.start_day)).all()
    d = schema.Destination.__table__
    confirmed = {r.claim_id: r.code for r in conn.execute(
        select(d.c.claim_id, d.c.code).where(d.c.claim_id.in_([x.id for x in claims])).order_by(d.c.id))}
    lines = []
    for i, x in enumerate(claims):
        links = []
        if i > 0 and claims[i - 1].claim_end is not None:
            prev = claims[i - 1]
            gap = (x.claim_start - prev.claim_end).days
            links.append(f"re-claim {gap} days after {prev.id} ended" + (" (churn)" if is_churn(prev.claim_end, x.claim_start) else ""))
        if i + 1 < len(claims) and x.claim_end is not None:
            nxt = claims[i + 1]
            if is_churn(x.claim_end, nxt.claim_start):
                links.append(f"followed by {nxt.id} within 91 days (churn)")
        lines.append(ClaimLine(
            claim_id=x.id, benefit=x.benefit, start=x.claim_start, end=x.claim_end, end_reason=x.end_reason,
            confirmed=confirmed.get(x.id), adviser=names.get(x.adviser_id, x.adviser_id),
            milestones=tuple((w, milestone_date(x.claim_start, w)) for w in MILESTONES), links=tuple(links),
        ))
    timeline, open_actions = _timeline(conn, claim_id, names)
    cs = schema.ClaimState.__table__
    state = conn.execute(select(cs.c.last_conference_on, cs.c.expected_offflow).where(cs.c.claim_id == claim_id)).first()
    return CustomerRecord(
        claim_id=claim_id, customer_id=person.id, name=person.name or "", nino=mask_nino(person.nino),
        date_of_birth=person.date_of_birth, claims=tuple(lines), timeline=tuple(timeline),
        open_actions=tuple(open_actions),
        last_conference=state.last_conference_on if state else None,
        expected_offflow=state.expected_offflow if state else None,
    )


def _timeline(conn: Connection, claim_id: str, names: dict[str, str]):  # noqa: ANN202
    r, n, ct, ac = (schema.RagRating.__table__, schema.Note.__table__, schema.Contact.__table__,
                    schema.Action.__table__)
    a, d = schema.Assignment.__table__, schema.Destination.__table__
    who = lambda sid: names.get(sid, sid)  # noqa: E731
    out: list[TimelineEntry] = []
    prev = None
    for x in conn.execute(select(r).where(r.c.claim_id == claim_id).order_by(r.c.set_day, r.c.id)):
        change = (f"confirmed {x.rating}" if prev == x.rating else f"{prev} → {x.rating}") if prev else f"set {x.rating}"
        where = " at a caseload conference" if x.source == "conference" else ""
        out.append(TimelineEntry(_aware(x.set_at), "rag",
                                 f"RAG {change}{where}: {x.reason} (review by {x.next_review})", who(x.set_by), x.id))
        prev = x.rating
    for x in conn.execute(select(n).where(n.c.claim_id == claim_id)):
        out.append(TimelineEntry(_aware(x.written_at), "note", x.body, who(x.author), x.id, x.version, x.status,
                                 x.change_reason, {"body": x.body}))
    for x in conn.execute(select(ct).where(ct.c.claim_id == claim_id)):
        text = f"{x.kind.replace('_', ' ')} on {x.contact_on}: {'attended' if x.attended else 'failed to attend'}"
        out.append(TimelineEntry(_midday(x.contact_on), "contact", text, who(x.recorded_by), x.id, x.version,
                                 x.status, x.change_reason,
                                 {"contact_on": x.contact_on, "kind": x.kind, "attended": bool(x.attended)},
                                 _aware(x.recorded_at)))
    actions = []
    for x in conn.execute(select(ac).where(ac.c.claim_id == claim_id)):
        state = {"open": f"due {x.due_on}", "done": f"done {x.done_on}", "withdrawn": "withdrawn"}[x.status]
        e = TimelineEntry(_aware(x.created_at), "action", f"{x.description} — {who(x.owner)}, {state}",
                          who(x.created_by), x.id, x.version, x.status, x.change_reason,
                          {"description": x.description, "owner": x.owner, "due_on": x.due_on})
        out.append(e)
        if x.status == "open":
            actions.append(e)
    holders = conn.execute(select(a).where(a.c.claim_id == claim_id).order_by(a.c.from_date, a.c.id)).all()
    for before, after in zip(holders, holders[1:]):
        local = after.reason == "reassigned"  # a local reassignment (store.reassign): by whom, and why
        out.append(TimelineEntry(_midday(after.from_date), "transfer",
                                 f"{'reassigned' if local else 'transferred'} from {who(before.adviser_id)} to "
                                 f"{who(after.adviser_id)}" + (f": {after.note}" if local else ""),
                                 who(after.assigned_by) if local else "extract"))
    for x in conn.execute(select(d).where(d.c.claim_id == claim_id)):
        out.append(TimelineEntry(_aware(x.recorded_at), "destination",
                                 f"destination confirmed: {destination_name(x.code)} ({category(x.code)}), from {x.source.replace('_', ' ')} "
                                 f"on {x.confirmed_on}", who(x.recorded_by), x.id))
    out.extend(_conference_entries(conn, claim_id, who))
    # Newest day first; within a day, the entry recorded last first (ties of one clock tick: the later
    # record, by id, first).
    out.sort(key=lambda e: (e.at.date(), e.recorded or e.at, e.record_id or 0), reverse=True)
    return out, sorted(actions, key=lambda e: e.text)


def _conference_entries(conn: Connection, claim_id: str, who) -> list[TimelineEntry]:  # noqa: ANN001
    """One entry per conference item discussed or skipped for the claim (actions and RAG reviews it
    made have their own entries)."""
    cf, ci = schema.Conference.__table__, schema.ConferenceItem.__table__
    out = []
    for x in conn.execute(select(ci, cf.c.held_on, cf.c.manager_id, cf.c.adviser_id)
                          .select_from(ci.join(cf, cf.c.id == ci.c.conference_id))
                          .where(ci.c.claim_id == claim_id, ci.c.status != "pending")):
        head = f"caseload conference on {x.held_on} ({who(x.manager_id)} with {who(x.adviser_id)})"
        if x.status == "skipped":
            text = f"{head}: skipped: {x.skip_reason}"
        else:
            expected = (f"expected off-flow {x.expected_offflow}" if x.expected_offflow is not None
                        else f"expected off-flow not known: {x.offflow_note}")
            text = f"{head}: done so far: {x.done_so_far}; plan: {x.plan}; {expected}"
        at = _aware(x.updated_at) if x.updated_at is not None else _midday(x.held_on)
        out.append(TimelineEntry(at, "conference", text, who(x.manager_id), x.id, x.version, x.status))
    return out


@dataclass(frozen=True)
class CustomerHit:
    claim_id: str
    customer_id: str
    name: str
    nino: str
    adviser: str
    open: bool


def find_customers(conn: Connection, actor: Actor, text: str, limit: int = 20) -> list[CustomerHit]:
    """By name, customer id, claim id or the last characters of the NI number, within what the actor may see."""
    words = text.strip().lower()
    if not words:
        return []
    c, cu, st = schema.Claim.__table__, schema.Customer.__table__, schema.Staff.__table__
    like = f"%{words}%"
    rows = conn.execute(
        select(c.c.id, c.c.customer_id, cu.c.name, cu.c.nino, st.c.name.label("adviser"), c.c.end_day)
        .select_from(c.join(cu, cu.c.id == c.c.customer_id).outerjoin(st, st.c.id == c.c.adviser_id))
        .where(actor.claim_filter(c), or_(
            func.lower(cu.c.name).like(like), func.lower(c.c.id) == words, func.lower(c.c.customer_id) == words,
            func.lower(cu.c.nino).like(f"%{words.replace(' ', '')}") if len(words) >= 3 else False,
        ))
        .order_by(c.c.end_day.is_not(None), cu.c.name, c.c.start_day.desc())
        .limit(limit)
    ).all()
    return [CustomerHit(r.id, r.customer_id, r.name or "", mask_nino(r.nino), r.adviser or "", r.end_day is None)
            for r in rows]


@dataclass(frozen=True)
class MyAction:
    action_id: int
    version: int
    claim_id: str
    customer: str
    description: str
    due: dt.date
    overdue: bool


def my_actions(conn: Connection, actor: Actor, as_at: dt.date) -> list[MyAction]:
    """The actor's open actions across what they may see, by due date, overdue first."""
    ac, c, cu = schema.Action.__table__, schema.Claim.__table__, schema.Customer.__table__
    rows = conn.execute(
        select(ac.c.id, ac.c.version, ac.c.claim_id, cu.c.name, ac.c.description, ac.c.due_on, ac.c.due_day)
        .select_from(ac.join(c, c.c.id == ac.c.claim_id).join(cu, cu.c.id == c.c.customer_id))
        .where(ac.c.owner == actor.id, ac.c.status == "open", actor.claim_filter(c))
        .order_by(ac.c.due_day, ac.c.id)
    ).all()
    today = schema.day_number(as_at)
    return [MyAction(r.id, r.version, r.claim_id, r.name or "", r.description, r.due_on, r.due_day < today)
            for r in rows]
