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
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, case, desc, exists, func, or_, select

from caseload.clock import Clock
from caseload.measures.clock import APPROACHING_DAYS, MILESTONES, just_passed, milestone_date

# The rules in words and the result values live in measures (pure), so widgets need no query code.
from caseload.measures.conference import (
    ACTION_UPDATES, ActionLine, AdviserConference, Agenda, AgendaItem, CONTACTS_SHOWN, ConferenceDetail,
    ConferenceSummary, ContactLine, CustomerContext, ItemDetail, NOT_DISCUSSED_DAYS, OVERDUE_DAYS,
    PreviousItem, REASON_ORDER, REVIEWS, RagLine, SummaryCounts, SummaryItem, TeamEstimates,
)
from caseload.measures.people import mask_nino
from caseload.measures.rag import Rag
from caseload.store import records, schema
from caseload.store.access import Actor, Role
from caseload.store.audit import last_change, record
from caseload.store.caseload import _columns as caseload_columns
from caseload.store.errors import AccessDenied, ConflictError, StoreError


# ---------------------------------------------------------------------------------------------
# Who may see and run a conference.


@dataclass(frozen=True)
class _Adviser:
    id: str
    name: str
    role: str
    team_id: int | None
    office_id: int | None
    team: str | None


def _adviser(conn: Connection, adviser_id: str) -> _Adviser:
    st, tt = schema.Staff.__table__, schema.Team.__table__
    row = conn.execute(
        select(st.c.id, st.c.name, st.c.role, st.c.team_id, st.c.office_id, tt.c.name.label("team"))
        .select_from(st.outerjoin(tt, tt.c.id == st.c.team_id)).where(st.c.id == adviser_id)
    ).first()
    if row is None:
        raise StoreError(f"There is no staff member {adviser_id!r}; `caseload staff list` shows who there is.")
    if row.role != Role.ADVISER.value:
        raise StoreError(f"{adviser_id} is a {Role(row.role).label}, not an adviser: a caseload conference is "
                         "held with an adviser about their caseload.")
    return _Adviser(row.id, row.name or row.id, row.role, row.team_id, row.office_id, row.team)


def _runs(actor: Actor, adviser: _Adviser) -> bool:
    if actor.is_admin:
        return True
    if actor.role is Role.TEAM_MANAGER:
        return actor.team_id is not None and actor.team_id == adviser.team_id
    if actor.role is Role.TEAM_LEADER:
        return actor.office_id is not None and actor.office_id == adviser.office_id
    return False


def _require_run(actor: Actor, adviser: _Adviser) -> None:
    if not _runs(actor, adviser):
        raise AccessDenied(
            f"Only {adviser.name}'s team manager or a team leader of their office runs their caseload "
            f"conference; you are acting as {actor.role.label} {actor.id}."
        )


def _require_read(actor: Actor, adviser: _Adviser) -> None:
    if actor.role is Role.ADVISER and actor.id == adviser.id:
        return
    if not _runs(actor, adviser):
        if actor.role is Role.ADVISER:
            raise AccessDenied("An adviser sees their own caseload conferences only.")
        raise AccessDenied(
            f"{adviser.name}'s caseload conferences are for them, their team manager and their office's "
            f"team leader; you are acting as {actor.role.label} {actor.id}."
        )


def may_name_customers(actor: Actor) -> bool:
    """Whether the actor may ask for a named customer-level export (team manager, team leader, admin)."""
    return actor.is_admin or actor.role in (Role.TEAM_MANAGER, Role.TEAM_LEADER)


# ---------------------------------------------------------------------------------------------
# The agenda.


def _open_on(c, day: int):  # noqa: ANN001, ANN202
    return and_(c.start_day <= day, or_(c.end_day.is_(None), c.end_day > day))


def build_agenda(conn: Connection, actor: Actor, adviser_id: str, on: dt.date,
                 approaching_days: int = APPROACHING_DAYS) -> list[AgendaItem]:
    """The customers the rules put on `adviser_id`'s conference agenda for `on`, in agenda order."""
    adviser = _adviser(conn, adviser_id)
    _require_read(actor, adviser)
    return _agenda(conn, actor, adviser.id, on, approaching_days)


def _agenda(conn: Connection, actor: Actor, adviser_id: str, on: dt.date, approaching_days: int) -> list[AgendaItem]:
    t, cu, st = schema.Claim.__table__, schema.Customer.__table__, schema.ClaimState.__table__
    ac, cf = schema.Action.__table__, schema.Conference.__table__
    c = t.c
    D = schema.day_number(on)
    cols, flags = caseload_columns(on, approaching_days)
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
        .where(c.adviser_id == adviser_id, _open_on(c, D), actor.claim_filter(t), or_(*conditions.values()))
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


def _staff_names(conn: Connection) -> dict[str, str]:
    st = schema.Staff.__table__
    names = {r.id: r.name or r.id for r in conn.execute(select(st.c.id, st.c.name))}
    names.setdefault("admin", "administrator")
    return names


def _actions_by_claim(conn: Connection, claim_ids: Sequence[str], names: dict[str, str]) -> dict[str, list]:
    """Actions set at conferences, per claim, with the day of the conference that set them."""
    ac, cf = schema.Action.__table__, schema.Conference.__table__
    out: dict[str, list] = defaultdict(list)
    for chunk in _chunks(claim_ids):
        for a in conn.execute(
            select(ac, cf.c.held_on, cf.c.held_day).select_from(ac.join(cf, cf.c.id == ac.c.conference_id))
            .where(ac.c.claim_id.in_(chunk), ac.c.status != "withdrawn").order_by(ac.c.due_day, ac.c.id)
        ):
            out[a.claim_id].append(a)
    return out


def _chunks(ids: Sequence, size: int = 500) -> Iterable[list]:
    ids = list(ids)
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def _action_line(a, names: dict[str, str], outcome: str | None = None) -> ActionLine:  # noqa: ANN001
    return ActionLine(
        id=a.id, version=a.version, description=a.description, owner=a.owner, owner_name=names.get(a.owner, a.owner),
        due=a.due_on, status=a.status, done_on=a.done_on, set_on=getattr(a, "held_on", None), outcome=outcome,
    )


def _previous_items(conn: Connection, claim_ids: Sequence[str], before_day: int, names: dict[str, str],
                    actions: dict[str, list], exclude_conference: int | None = None) -> dict[str, list[PreviousItem]]:
    """Earlier conference items (held before `before_day`) per claim, newest first."""
    cf, ci, r = schema.Conference.__table__, schema.ConferenceItem.__table__, schema.RagRating.__table__
    out: dict[str, list[PreviousItem]] = defaultdict(list)
    by_item: dict[int, list] = defaultdict(list)
    for rows in actions.values():
        for a in rows:
            if a.conference_item_id is not None:
                by_item[a.conference_item_id].append(a)
    for chunk in _chunks(claim_ids):
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
                actions=tuple(_action_line(a, names) for a in by_item.get(x.id, [])),
            ))
    return out


def _agenda_context(conn: Connection, claim_ids: Sequence[str], D: int):  # noqa: ANN202
    names = _staff_names(conn)
    actions = _actions_by_claim(conn, claim_ids, names)
    previous = _previous_items(conn, claim_ids, D, names, actions)
    out = {}
    for cid in claim_ids:
        open_actions = tuple(_action_line(a, names) for a in actions.get(cid, [])
                             if a.status == "open" and a.held_day < D)
        discussed = [p for p in previous.get(cid, []) if p.status == "discussed"]
        out[cid] = (open_actions, discussed[0] if discussed else None)
    return out


def agenda(conn: Connection, actor: Actor, adviser_id: str, on: dt.date,
           approaching_days: int = APPROACHING_DAYS) -> Agenda:
    """The agenda for the adviser on `on`: the started conference's items if there is one, else the rules'."""
    adviser = _adviser(conn, adviser_id)
    _require_read(actor, adviser)
    cf = schema.Conference.__table__
    conf = conn.execute(select(cf).where(cf.c.adviser_id == adviser.id, cf.c.held_on == on)).first()
    if conf is None:
        items = tuple(_agenda(conn, actor, adviser.id, on, approaching_days))
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


# ---------------------------------------------------------------------------------------------
# Starting, resuming and moving.


def _conference(conn: Connection, conference_id: int):  # noqa: ANN202
    cf = schema.Conference.__table__
    row = conn.execute(select(cf).where(cf.c.id == conference_id)).first()
    if row is None:
        raise StoreError(f"There is no caseload conference {conference_id}.")
    return row


def _require_unfinished(conf) -> None:  # noqa: ANN001
    if conf.status == "finished":
        raise StoreError(
            f"This conference ({conf.held_on.isoformat()}) was finished at {conf.finished_at:%Y-%m-%d %H:%M}; "
            "it is a record now and is not changed."
        )


def start_or_resume(conn: Connection, clock: Clock, actor: Actor, adviser_id: str, on: dt.date,
                    approaching_days: int = APPROACHING_DAYS) -> int:
    """The id of the adviser's conference on `on`: the one already started (resumed as it was left),
    else a new one with the agenda built now."""
    adviser = _adviser(conn, adviser_id)
    _require_run(actor, adviser)
    cf, ci = schema.Conference.__table__, schema.ConferenceItem.__table__
    existing = conn.execute(select(cf.c.id).where(cf.c.adviser_id == adviser.id, cf.c.held_on == on)).scalar()
    if existing is not None:
        return int(existing)
    if on > clock.today():
        raise StoreError(
            f"{on.isoformat()} is in the future: a conference is recorded on the day it is held (or later). "
            "To prepare, export its agenda: caseload export agenda."
        )
    unfinished = conn.execute(select(cf.c.held_on).where(cf.c.adviser_id == adviser.id, cf.c.status == "in_progress")
                              .order_by(cf.c.held_day)).scalar()
    if unfinished is not None:
        raise StoreError(
            f"{adviser.name}'s conference of {unfinished.isoformat()} is not finished: resume it, or finish it, "
            "before starting another."
        )
    items = _agenda(conn, actor, adviser.id, on, approaching_days)
    cid = conn.execute(cf.insert().values(
        manager_id=actor.id, adviser_id=adviser.id, team_id=adviser.team_id, held_on=on,
        held_day=schema.day_number(on), status="in_progress", position=0, started_at=clock.now(), version=1,
    )).inserted_primary_key[0]
    if items:
        conn.execute(ci.insert(), [
            {"conference_id": cid, "claim_id": it.claim_id, "position": i, "reasons": it.reason_text,
             "status": "pending", "expected_offflow_unknown": False, "version": 1}
            for i, it in enumerate(items)
        ])
    record(conn, clock, actor, "start", "conference", str(cid), "agenda", None,
           f"with {adviser.id} on {on.isoformat()}: {len(items)} customers: "
           + ", ".join(it.claim_id for it in items))
    return int(cid)


def move_to(conn: Connection, actor: Actor, conference_id: int, position: int) -> int:
    """Save where the conference is (0-based item position), so leaving and coming back resumes there.

    Where a conference is at is not a record of it, so it is not audited and does not change its version.
    """
    conf = _conference(conn, conference_id)
    _require_run(actor, _adviser(conn, conf.adviser_id))
    _require_unfinished(conf)
    ci, cf = schema.ConferenceItem.__table__, schema.Conference.__table__
    n = conn.execute(select(func.count()).where(ci.c.conference_id == conference_id)).scalar_one()
    if not 0 <= position < max(n, 1):
        raise StoreError(f"The conference has {n} items; there is no item {position + 1}.")
    conn.execute(cf.update().where(cf.c.id == conference_id).values(position=position))
    return position


def add_customer(conn: Connection, clock: Clock, actor: Actor, conference_id: int, claim_id: str) -> int:
    """Put one more customer from the adviser's caseload on the agenda, at the end. Returns the item id."""
    conf = _conference(conn, conference_id)
    adviser = _adviser(conn, conf.adviser_id)
    _require_run(actor, adviser)
    _require_unfinished(conf)
    claim = records.claim_in_scope(conn, actor, claim_id)
    t = schema.Claim.__table__
    if claim.adviser_id != adviser.id or not conn.execute(
            select(t.c.id).where(t.c.id == claim_id, _open_on(t.c, conf.held_day))).first():
        raise StoreError(f"Claim {claim_id} is not on {adviser.name}'s caseload on {conf.held_on.isoformat()}.")
    ci, cf = schema.ConferenceItem.__table__, schema.Conference.__table__
    already = conn.execute(select(ci.c.position).where(ci.c.conference_id == conference_id,
                                                        ci.c.claim_id == claim_id)).scalar()
    if already is not None:
        raise StoreError(f"Claim {claim_id} is already on the agenda, at item {already + 1}.")
    last = conn.execute(select(func.max(ci.c.position)).where(ci.c.conference_id == conference_id)).scalar()
    position = 0 if last is None else last + 1
    iid = conn.execute(ci.insert().values(
        conference_id=conference_id, claim_id=claim_id, position=position, reasons="added", status="pending",
        expected_offflow_unknown=False, version=1,
    )).inserted_primary_key[0]
    conn.execute(cf.update().where(cf.c.id == conference_id).values(version=conf.version + 1))
    record(conn, clock, actor, "add", "conference_item", str(iid), "claim_id", None,
           f"{claim_id} added to conference {conference_id}")
    return int(iid)


# ---------------------------------------------------------------------------------------------
# Recording an item.


def _item(conn: Connection, item_id: int):  # noqa: ANN202
    ci = schema.ConferenceItem.__table__
    row = conn.execute(select(ci).where(ci.c.id == item_id)).first()
    if row is None:
        raise StoreError(f"There is no conference item {item_id}.")
    return row


def _stale(conn: Connection, item_id: int) -> ConflictError:
    return ConflictError(
        f"This item was changed {last_change(conn, 'conference_item', str(item_id))} after you opened it. Your text is kept: look at the new version "
        "and apply your change again."
    )


def _writable_item(conn: Connection, actor: Actor, item_id: int, version: int):  # noqa: ANN202
    item = _item(conn, item_id)
    conf = _conference(conn, item.conference_id)
    adviser = _adviser(conn, conf.adviser_id)
    _require_run(actor, adviser)
    _require_unfinished(conf)
    if item.version != version:
        raise _stale(conn, item_id)
    claim = records.claim_in_scope(conn, actor, item.claim_id)
    return item, conf, claim


def _text(value: str | None, what: str) -> str:
    v = (value or "").strip()
    if not v:
        raise StoreError(f"{what} is required.")
    return v


def _earlier_actions(conn: Connection, item, conf) -> dict[int, tuple]:  # noqa: ANN001
    """Actions set at earlier conferences for the item's claim that this item reviews: the open ones,
    and any it has already reviewed. Maps action id to (row, outcome so far)."""
    ac, cf, rv = (schema.Action.__table__, schema.Conference.__table__, schema.ConferenceActionReview.__table__)
    reviewed = {r.action_id: r.outcome for r in conn.execute(
        select(rv.c.action_id, rv.c.outcome).where(rv.c.conference_item_id == item.id))}
    rows = conn.execute(
        select(ac, cf.c.held_on).select_from(ac.join(cf, cf.c.id == ac.c.conference_id))
        .where(ac.c.claim_id == item.claim_id, ac.c.conference_id != conf.id, cf.c.held_day < conf.held_day,
               or_(ac.c.status == "open", ac.c.id.in_(list(reviewed) or [-1])))
        .order_by(ac.c.due_day, ac.c.id)
    ).all()
    return {a.id: (a, reviewed.get(a.id)) for a in rows}


def record_item(
    conn: Connection, clock: Clock, actor: Actor, item_id: int, version: int, *,
    done_so_far: str, plan: str, expected_offflow: dt.date | None = None, unknown_note: str | None = None,
    rag_review: str | None = None, rag: str | None = None, rag_reason: str | None = None,
    new_actions: Sequence[tuple[str, str, dt.date]] = (), action_updates: Mapping[int, str] | None = None,
    next_review: dt.date | None = None,
) -> int:
    """Record the discussion of one customer. Returns the item's new version.

    - `expected_offflow` is a date on or after the conference; or None with `unknown_note` ("don't know").
    - `rag_review`: "confirm" the current rating, or "change" it to `rag` with `rag_reason`. Either writes
      the claim's RAG history (source "conference"), so it counts as a review. None only for a claim
      that has ended (a rating is for an open claim).
    - `new_actions`: (description, owner staff id, due date), due on or after the conference.
    - `action_updates`: {action id: "done" | "carry"} for actions set at earlier conferences; any open
      one not named is carried.
    Recording an item again (with its new version) corrects it; the audit keeps what it said before.
    """
    item, conf, claim = _writable_item(conn, actor, item_id, version)
    done_so_far = _text(done_so_far, "What has been done so far")
    plan = _text(plan, "The plan")
    note = (unknown_note or "").strip() or None
    if expected_offflow is not None:
        if note is not None:
            raise StoreError('Give either an expected off-flow date or "don\'t know" with a note, not both.')
        if expected_offflow < conf.held_on:
            raise StoreError(
                f"The expected off-flow date {expected_offflow.isoformat()} is before the conference "
                f"({conf.held_on.isoformat()}): give a later date, or \"don't know\" with a note."
            )
    elif note is None:
        raise StoreError('An expected off-flow date is required, or "don\'t know" with a note saying why.')

    actions_new = []
    for n, spec in enumerate(new_actions, start=1):
        try:
            description, owner, due = spec
        except (TypeError, ValueError):
            raise StoreError("Each new action is a description, an owner and a due date.") from None
        description = _text(description, f"New action {n}'s description")
        if not owner:
            raise StoreError(f"New action {n} needs an owner.")
        if not isinstance(due, dt.date):
            raise StoreError(f"New action {n} needs a due date.")
        if due < conf.held_on:
            raise StoreError(f"New action {n} is due {due.isoformat()}, before the conference "
                             f"({conf.held_on.isoformat()}); give a later date.")
        actions_new.append((description, owner, due))

    earlier = _earlier_actions(conn, item, conf)
    updates = dict(action_updates or {})
    for aid, what in updates.items():
        if what not in ACTION_UPDATES:
            raise StoreError(f"An earlier action is marked done or carry, not {what!r}.")
        if aid not in earlier:
            raise StoreError(f"Action {aid} was not set at an earlier conference for claim {item.claim_id}, "
                             "or is no longer open.")
        row, outcome = earlier[aid]
        if what == "carry" and row.status == "done":
            raise StoreError(f"Action {aid} ({row.description}) is done; a done action is not carried.")

    rag_before, rag_after, rag_id, reason_text = _review_rag(
        conn, clock, actor, item, conf, claim, rag_review, rag, rag_reason, next_review)

    changes = {
        "status": "discussed", "skip_reason": None, "done_so_far": done_so_far, "plan": plan,
        "expected_offflow": expected_offflow,
        "expected_offflow_day": None if expected_offflow is None else schema.day_number(expected_offflow),
        "expected_offflow_unknown": expected_offflow is None, "offflow_note": note,
        "rag_review": rag_review, "rag_before": rag_before, "rag_rating_id": rag_id,
    }
    ci = schema.ConferenceItem.__table__
    n = conn.execute(ci.update().where(ci.c.id == item.id, ci.c.version == item.version)
                     .values(**changes, version=item.version + 1, updated_at=clock.now())).rowcount
    if n != 1:
        raise _stale(conn, item.id)
    for k, v in changes.items():
        if k.endswith("_day") or k == "rag_rating_id":
            continue
        old = getattr(item, k)
        if k == "expected_offflow_unknown":
            old = bool(old)
        if old != v:
            record(conn, clock, actor, "record", "conference_item", str(item.id), k, old, v)
    if reason_text is not None:
        record(conn, clock, actor, "record", "conference_item", str(item.id), "rag", None, rag_after)

    ac = schema.Action.__table__
    for description, owner, due in actions_new:
        aid = records.add_action(conn, clock, actor, item.claim_id, description, owner, due)
        conn.execute(ac.update().where(ac.c.id == aid).values(conference_id=conf.id, conference_item_id=item.id))

    rv = schema.ConferenceActionReview.__table__
    for aid, (row, outcome) in earlier.items():
        what = updates.get(aid)
        new = "done" if (what == "done" or row.status == "done") else "carried"
        if what == "done" and row.status == "open":
            records.complete_action(conn, clock, actor, aid, row.version)
        if outcome == new:
            continue
        if outcome is None:
            conn.execute(rv.insert().values(conference_item_id=item.id, action_id=aid, outcome=new))
        else:
            conn.execute(rv.update().where(rv.c.conference_item_id == item.id, rv.c.action_id == aid)
                         .values(outcome=new))
        record(conn, clock, actor, "review", "action", str(aid), "conference", outcome,
               f"{new} at conference {conf.id}")
    records.refresh_state(conn, item.claim_id)
    return item.version + 1


def _review_rag(conn: Connection, clock: Clock, actor: Actor, item, conf, claim, review: str | None,  # noqa: ANN001
                rating: str | None, reason: str | None, next_review: dt.date | None):  # noqa: ANN202
    """Write the RAG review to the claim's history. Returns (rating before, rating after, row id, reason
    written or None when nothing new was written)."""
    st, r = schema.ClaimState.__table__, schema.RagRating.__table__
    if claim.claim_end is not None:
        if review is not None:
            raise StoreError(f"Claim {claim.id} has ended ({claim.claim_end.isoformat()}); its rating is not "
                             "reviewed. Record the item without a RAG review.")
        return None, None, None, None
    if review not in REVIEWS:
        raise StoreError("A RAG review is required: confirm the current rating, or change it with a reason.")
    # The rating the review is of: before this item's own earlier review, if it is being corrected.
    if item.rag_rating_id is not None:
        before = item.rag_before
        previous = conn.execute(select(r.c.rating, r.c.reason).where(r.c.id == item.rag_rating_id)).first()
    else:
        before = conn.execute(select(st.c.rag).where(st.c.claim_id == claim.id)).scalar()
        previous = None
    if review == "confirm":
        if before is None:
            raise StoreError(f"Claim {claim.id} has no rating to confirm: change it to R, A or G with a reason.")
        if rating and rating.upper()[:1] != before:
            raise StoreError(f"The current rating is {Rag(before).word}; to set another, change it with a reason.")
        new = before
        why = (reason or "").strip() or f"Confirmed at the caseload conference on {conf.held_on.isoformat()}"
    else:
        new = (rating or "").strip().upper()[:1]
        if new not in {x.value for x in Rag}:
            raise StoreError("A changed rating is R (Red), A (Amber) or G (Green).")
        if new == before:
            raise StoreError(f"{Rag(new).word} is the current rating: confirm it instead.")
        why = _text(reason, "A reason for the change of rating")
    if previous is not None and item.rag_review == review and previous.rating == new and previous.reason == why:
        return before, new, item.rag_rating_id, None
    rid = records.set_rag(conn, clock, actor, claim.id, new, why, next_review, source="conference")
    return before, new, rid, why


def skip_item(conn: Connection, clock: Clock, actor: Actor, item_id: int, version: int, reason: str) -> int:
    """Skip a customer with a reason (kept on the record and in the summary). Returns the new version."""
    item, conf, _ = _writable_item(conn, actor, item_id, version)
    reason = _text(reason, "A reason for skipping")
    if item.status == "discussed":
        raise StoreError("This customer has been discussed; correct the record instead of skipping it.")
    ci = schema.ConferenceItem.__table__
    n = conn.execute(ci.update().where(ci.c.id == item.id, ci.c.version == item.version)
                     .values(status="skipped", skip_reason=reason, version=item.version + 1,
                             updated_at=clock.now())).rowcount
    if n != 1:
        raise _stale(conn, item.id)
    record(conn, clock, actor, "skip", "conference_item", str(item.id), "skip_reason", item.skip_reason, reason)
    return item.version + 1


def finish(conn: Connection, clock: Clock, actor: Actor, conference_id: int, attendees: str | Sequence[str],
           skip_pending_reason: str | None = None) -> None:
    """Finish the conference, recording who attended (and, by the clock, when).

    Customers not yet discussed or skipped must be dealt with first, or all skipped with
    `skip_pending_reason` (for example "out of time").
    """
    conf = _conference(conn, conference_id)
    _require_run(actor, _adviser(conn, conf.adviser_id))
    _require_unfinished(conf)
    names = [attendees] if isinstance(attendees, str) else list(attendees)
    who = ", ".join(x.strip() for x in names if x and x.strip())
    if not who:
        raise StoreError("Say who attended the conference.")
    ci, cf = schema.ConferenceItem.__table__, schema.Conference.__table__
    pending = conn.execute(select(ci.c.id, ci.c.version).where(ci.c.conference_id == conference_id,
                                                                ci.c.status == "pending")
                           .order_by(ci.c.position)).all()
    if pending:
        if not (skip_pending_reason or "").strip():
            raise StoreError(
                f"{len(pending)} customer{'s are' if len(pending) != 1 else ' is'} not yet discussed or skipped: "
                "discuss or skip them, or finish skipping them all with a reason."
            )
        for p in pending:
            skip_item(conn, clock, actor, p.id, p.version, skip_pending_reason)
    n = conn.execute(cf.update().where(cf.c.id == conference_id, cf.c.status == "in_progress")
                     .values(status="finished", finished_at=clock.now(), attendees=who,
                             version=conf.version + 1)).rowcount
    if n != 1:
        raise ConflictError("This conference was finished by someone else just now.")
    record(conn, clock, actor, "finish", "conference", str(conference_id), "attendees", None, who)


# ---------------------------------------------------------------------------------------------
# Reading a conference.


def _context(conn: Connection, claim_ids: Sequence[str], held_day: int, conference_id: int,
             names: dict[str, str], actions: dict[str, list]) -> dict[str, CustomerContext]:
    c, cu, st = schema.Claim.__table__, schema.Customer.__table__, schema.ClaimState.__table__
    r, ct = schema.RagRating.__table__, schema.Contact.__table__
    on = schema.from_day_number(held_day)
    previous = _previous_items(conn, claim_ids, held_day, names, actions, exclude_conference=conference_id)
    claims, history, contacts = {}, defaultdict(list), defaultdict(list)
    for chunk in _chunks(claim_ids):
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
    conf = _conference(conn, conference_id)
    adviser = _adviser(conn, conf.adviser_id)
    _require_read(actor, adviser)
    ci, r = schema.ConferenceItem.__table__, schema.RagRating.__table__
    rv = schema.ConferenceActionReview.__table__
    names = _staff_names(conn)
    rows = conn.execute(select(ci, r.c.rating.label("rag_after"), r.c.reason.label("rag_reason"))
                        .select_from(ci.outerjoin(r, r.c.id == ci.c.rag_rating_id))
                        .where(ci.c.conference_id == conference_id).order_by(ci.c.position)).all()
    claim_ids = [x.claim_id for x in rows]
    actions = _actions_by_claim(conn, claim_ids, names)
    context = _context(conn, claim_ids, conf.held_day, conf.id, names, actions)
    reviews: dict[int, dict[int, str]] = defaultdict(dict)
    for x in conn.execute(select(rv.c.conference_item_id, rv.c.action_id, rv.c.outcome)
                          .where(rv.c.conference_item_id.in_([x.id for x in rows] or [-1]))):
        reviews[x.conference_item_id][x.action_id] = x.outcome
    items = []
    for x in rows:
        mine = reviews.get(x.id, {})
        new = tuple(_action_line(a, names) for a in actions.get(x.claim_id, []) if a.conference_item_id == x.id)
        earlier = tuple(_action_line(a, names, mine.get(a.id)) for a in actions.get(x.claim_id, [])
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
        held_on=conf.held_on, status=conf.status, position=conf.position, started_at=_aware(conf.started_at),
        finished_at=_aware(conf.finished_at), attendees=conf.attendees, items=tuple(items),
        can_write=conf.status != "finished" and _runs(actor, adviser),
    )


def _aware(v: dt.datetime | None) -> dt.datetime | None:
    """Times are written in UTC; a driver that drops the zone gets it back here."""
    return v if v is None or v.tzinfo else v.replace(tzinfo=dt.timezone.utc)


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
        _require_read(actor, _adviser(conn, adviser_id))
    q = (select(cf.c.id, cf.c.adviser_id, cf.c.held_day, tt.c.name.label("team"), st.c.name)
         .select_from(cf.join(st, st.c.id == cf.c.adviser_id).outerjoin(tt, tt.c.id == st.c.team_id)))
    if adviser_id is not None:
        q = q.where(cf.c.adviser_id == adviser_id)
    else:
        q = q.where(_visible_staff(actor, st))
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
    adviser = _adviser(conn, adviser_id)
    _require_read(actor, adviser)
    cf, ci = schema.Conference.__table__, schema.ConferenceItem.__table__
    names = _staff_names(conn)

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
    return [ConferenceLine(r[0], adviser.id, adviser.name, r[1], r[2], r[3], names.get(r[3], r[3]), _aware(r[4]),
                           int(r[5]), int(r[6]), int(r[7])) for r in rows]


def _visible_staff(actor: Actor, st):  # noqa: ANN001, ANN202
    """Advisers whose conferences the actor may see."""
    if actor.is_admin:
        return st.c.id.is_not(None)
    if actor.role is Role.TEAM_LEADER:
        return st.c.office_id == actor.office_id
    if actor.role is Role.TEAM_MANAGER:
        return st.c.team_id == actor.team_id
    return st.c.id == actor.id


# ---------------------------------------------------------------------------------------------
# The team view.


def last_conferences(conn: Connection, actor: Actor, on: dt.date) -> list[AdviserConference]:
    """Each adviser the actor may see, with their last finished conference (on or before `on`) and
    whether it is overdue (more than 31 days before `on`, or never held). By team and name."""
    st, tt, cf = schema.Staff.__table__, schema.Team.__table__, schema.Conference.__table__
    D = schema.day_number(on)
    advisers = conn.execute(
        select(st.c.id, st.c.name, tt.c.name.label("team"))
        .select_from(st.outerjoin(tt, tt.c.id == st.c.team_id))
        .where(st.c.role == Role.ADVISER.value, st.c.active.is_(True), _visible_staff(actor, st))
        .order_by(tt.c.name, st.c.name, st.c.id)
    ).all()
    ids = [a.id for a in advisers]
    last: dict[str, int] = {}
    unfinished: dict[str, tuple] = {}
    for chunk in _chunks(ids):
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
