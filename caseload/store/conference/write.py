"""Writing a conference: starting or resuming it, moving through it, adding a customer, recording
or skipping an item, finishing. Every write is audited; a stale write is refused."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from sqlalchemy import Connection, func, or_, select

from caseload.clock import Clock
from caseload.measures.clock import APPROACHING_DAYS
from caseload.measures.conference import ACTION_UPDATES, REVIEWS
from caseload.measures.rag import Rag
from caseload.store import records, schema
from caseload.store.access import Actor
from caseload.store.audit import last_change, record
from caseload.store.conference.agenda import agenda_items
from caseload.store.conference.rules import adviser_row, conference_row, open_on, require_run, require_unfinished
from caseload.store.errors import ConflictError, StoreError


def start_or_resume(conn: Connection, clock: Clock, actor: Actor, adviser_id: str, on: dt.date,
                    approaching_days: int = APPROACHING_DAYS) -> int:
    """The id of the adviser's conference on `on`: the one already started (resumed as it was left),
    else a new one with the agenda built now."""
    adviser = adviser_row(conn, adviser_id)
    require_run(actor, adviser)
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
    items = agenda_items(conn, actor, adviser.id, on, approaching_days)
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
    conf = conference_row(conn, conference_id)
    require_run(actor, adviser_row(conn, conf.adviser_id))
    require_unfinished(conf)
    ci, cf = schema.ConferenceItem.__table__, schema.Conference.__table__
    n = conn.execute(select(func.count()).where(ci.c.conference_id == conference_id)).scalar_one()
    if not 0 <= position < max(n, 1):
        raise StoreError(f"The conference has {n} items; there is no item {position + 1}.")
    conn.execute(cf.update().where(cf.c.id == conference_id).values(position=position))
    return position


def add_customer(conn: Connection, clock: Clock, actor: Actor, conference_id: int, claim_id: str) -> int:
    """Put one more customer from the adviser's caseload on the agenda, at the end. Returns the item id."""
    conf = conference_row(conn, conference_id)
    adviser = adviser_row(conn, conf.adviser_id)
    require_run(actor, adviser)
    require_unfinished(conf)
    claim = records.claim_in_scope(conn, actor, claim_id)
    t = schema.Claim.__table__
    if claim.adviser_id != adviser.id or not conn.execute(
            select(t.c.id).where(t.c.id == claim_id, open_on(t.c, conf.held_day))).first():
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
    conf = conference_row(conn, item.conference_id)
    adviser = adviser_row(conn, conf.adviser_id)
    require_run(actor, adviser)
    require_unfinished(conf)
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
    conf = conference_row(conn, conference_id)
    require_run(actor, adviser_row(conn, conf.adviser_id))
    require_unfinished(conf)
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
