"""What advisers record about a claim: RAG ratings, notes, contacts, actions, confirmed destinations.

Every write is audited, checked against the actor's scope, and (for amendments) against
the row's version, so a stale edit is refused instead of silently overwriting someone else's.
Callers pass a connection inside `store.db.write`, so each edit is one transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Table, desc, select

from caseload.clock import Clock
from caseload.measures.clock import REVIEW_DAYS
from caseload.measures.destinations import END_REASONS
from caseload.measures.rag import Rag
from caseload.store import schema, summary
from caseload.store.access import Actor
from caseload.store.audit import last_change, record
from caseload.store.errors import AccessDenied, ConflictError, StoreError

CONTACT_KINDS = ("appointment", "phone", "group_session", "job_search_review", "decision_maker_referral")
DESTINATION_SOURCES = ("customer", "employer", "central_system", "other")
RAG_SOURCES = ("adviser", "conference")  # conference: a review recorded through store.conference


def claim_in_scope(conn: Connection, actor: Actor, claim_id: str):  # noqa: ANN201
    """The claim row, if the actor may see it; otherwise a plain refusal (not found reads the same)."""
    c = schema.Claim.__table__
    row = conn.execute(select(c).where(c.c.id == claim_id, actor.claim_filter(c))).first()
    if row is None:
        raise AccessDenied(f"Claim {claim_id} is not on a caseload you can see.")
    return row


def _required_text(value: str | None, what: str) -> str:
    v = (value or "").strip()
    if not v:
        raise StoreError(f"{what} is required.")
    return v


def set_rag(conn: Connection, clock: Clock, actor: Actor, claim_id: str, rating: str, reason: str,
            next_review: dt.date | None = None, source: str = "adviser", seen: int | None = None) -> int:
    """Rate the claim. ``seen`` is the id of the latest rating the user saw (0: none); when given, a
    rating set by someone else since is a stale edit, refused."""
    claim = claim_in_scope(conn, actor, claim_id)
    try:
        rag = Rag(rating.upper()[:1]) if rating else None
    except ValueError:
        rag = None
    if rag is None:
        raise StoreError("A rating is R (Red), A (Amber) or G (Green).")
    if source not in RAG_SOURCES:
        raise StoreError(f"A rating's source is one of {', '.join(RAG_SOURCES)}.")
    reason = _required_text(reason, "A reason for the rating")
    today = clock.today()
    review = next_review or today + dt.timedelta(days=REVIEW_DAYS)
    if review < today:
        raise StoreError(f"The next review date {review.isoformat()} is in the past; pick today or later.")
    if claim.claim_end is not None:
        raise StoreError(f"Claim {claim_id} has ended; a rating is for an open claim.")
    t = schema.RagRating.__table__
    latest = conn.execute(select(t.c.id, t.c.rating).where(t.c.claim_id == claim_id).order_by(desc(t.c.id)).limit(1)).first()
    if seen is not None and (latest.id if latest else 0) != seen:
        raise ConflictError(f"The rating was changed {last_change(conn, 'claim', claim_id)} after you opened it. "
                            "Your text is kept: look at the new rating and save again if yours still stands.")
    old = latest.rating if latest else None
    rid = conn.execute(t.insert().values(
        claim_id=claim_id, rating=rag.value, reason=reason, set_by=actor.id, set_at=clock.now(), set_on=today,
        set_day=schema.day_number(today), next_review=review, next_review_day=schema.day_number(review),
        source=source,
    )).inserted_primary_key[0]
    record(conn, clock, actor, "rag", "claim", claim_id, "rag", old, rag.value)
    refresh_state(conn, claim_id)
    return int(rid)


def add_note(conn: Connection, clock: Clock, actor: Actor, claim_id: str, body: str) -> int:
    claim_in_scope(conn, actor, claim_id)
    body = _required_text(body, "A note")
    t = schema.Note.__table__
    nid = conn.execute(t.insert().values(claim_id=claim_id, body=body, author=actor.id, written_at=clock.now(),
                                         status="active", version=1)).inserted_primary_key[0]
    record(conn, clock, actor, "add", "note", str(nid), "body", None, body)
    return int(nid)


def log_contact(conn: Connection, clock: Clock, actor: Actor, claim_id: str, on: dt.date, kind: str,
                attended: bool) -> int:
    claim_in_scope(conn, actor, claim_id)
    if kind not in CONTACT_KINDS:
        raise StoreError(f"A contact is one of: {', '.join(k.replace('_', ' ') for k in CONTACT_KINDS)}.")
    if on > clock.today():
        raise StoreError(f"The contact date {on.isoformat()} is in the future; log contacts that happened.")
    t = schema.Contact.__table__
    cid = conn.execute(t.insert().values(
        claim_id=claim_id, contact_on=on, contact_day=schema.day_number(on), kind=kind, attended=attended,
        recorded_by=actor.id, recorded_at=clock.now(), status="active", version=1,
    )).inserted_primary_key[0]
    record(conn, clock, actor, "add", "contact", str(cid), None, None,
           f"{on.isoformat()} {kind} {'attended' if attended else 'failed to attend'}")
    refresh_state(conn, claim_id)
    return int(cid)


def _owner_ok(conn: Connection, actor: Actor, claim, owner: str) -> None:  # noqa: ANN001
    st = schema.Staff.__table__
    row = conn.execute(select(st.c.id, st.c.team_id, st.c.office_id).where(st.c.id == owner)).first()
    if row is None:
        raise StoreError(f"There is no staff member {owner!r} to own the action.")
    if row.office_id is not None and claim.office_id is not None and row.office_id != claim.office_id:
        raise StoreError(f"{owner} works in another office; an action's owner works where the claim is held.")


def add_action(conn: Connection, clock: Clock, actor: Actor, claim_id: str, description: str, owner: str,
               due: dt.date) -> int:
    claim = claim_in_scope(conn, actor, claim_id)
    description = _required_text(description, "An action's description")
    _owner_ok(conn, actor, claim, owner)
    t = schema.Action.__table__
    aid = conn.execute(t.insert().values(
        claim_id=claim_id, description=description, owner=owner, due_on=due, due_day=schema.day_number(due),
        created_by=actor.id, created_at=clock.now(), status="open", version=1,
    )).inserted_primary_key[0]
    record(conn, clock, actor, "add", "action", str(aid), None, None, f"owner {owner}, due {due}")
    refresh_state(conn, claim_id)
    return int(aid)


def record_destination(conn: Connection, clock: Clock, actor: Actor, claim_id: str, code: str, source: str,
                       confirmed_on: dt.date) -> int:
    claim = claim_in_scope(conn, actor, claim_id)
    if claim.claim_end is None:
        raise StoreError(f"Claim {claim_id} is still open; a destination is recorded for an ended claim.")
    if code not in END_REASONS:
        raise StoreError(f"'{code}' is not a destination code; use one of {', '.join(END_REASONS)}.")
    if source not in DESTINATION_SOURCES:
        raise StoreError(f"The source is one of {', '.join(DESTINATION_SOURCES)}.")
    if confirmed_on > clock.today() or confirmed_on < claim.claim_end:
        raise StoreError("The date confirmed is between the claim's end and today.")
    t = schema.Destination.__table__
    did = conn.execute(t.insert().values(claim_id=claim_id, code=code, source=source, confirmed_on=confirmed_on,
                                         recorded_by=actor.id, recorded_at=clock.now())).inserted_primary_key[0]
    record(conn, clock, actor, "confirm", "claim", claim_id, "destination", claim.end_reason, f"{code} ({source})")
    # The confirmed destination replaces the extract's reason in the reason-based figures.
    summary.refresh_claims(conn, [claim_id])
    return int(did)


_AMENDABLE: dict[str, tuple[Table, tuple[str, ...]]] = {
    "note": (schema.Note.__table__, ("body",)),
    "contact": (schema.Contact.__table__, ("contact_on", "kind", "attended")),
    "action": (schema.Action.__table__, ("description", "owner", "due_on")),
}


def _stale(conn: Connection, kind: str, row_id: int) -> ConflictError:
    return ConflictError(
        f"This {kind} was changed {last_change(conn, kind, str(row_id))} after you opened it. Your text is kept: look at the new "
        "version and apply your change again."
    )


def _load_for_change(conn: Connection, actor: Actor, kind: str, row_id: int, version: int):  # noqa: ANN202
    table, _ = _AMENDABLE[kind]
    row = conn.execute(select(table).where(table.c.id == row_id)).first()
    if row is None:
        raise StoreError(f"There is no {kind} {row_id}.")
    claim_in_scope(conn, actor, row.claim_id)
    if row.version != version:
        raise _stale(conn, kind, row_id)
    if row.status == "withdrawn":
        raise StoreError(f"This {kind} was withdrawn; it cannot be changed.")
    return table, row


def _apply(conn: Connection, clock: Clock, actor: Actor, kind: str, table: Table, row, changes: dict[str, Any],
           reason: str | None, action: str) -> None:  # noqa: ANN001
    values = dict(changes)
    if reason is not None:
        values["change_reason"] = reason
        values["changed_at"] = clock.now()
    n = conn.execute(table.update().where(table.c.id == row.id, table.c.version == row.version)
                     .values(**values, version=row.version + 1)).rowcount
    if n != 1:
        raise _stale(conn, kind, row.id)
    for k, v in changes.items():
        if k.endswith("_day"):
            continue
        old = getattr(row, k)
        if old != v:
            record(conn, clock, actor, action, kind, str(row.id), k, old, v)
    if reason is not None:
        record(conn, clock, actor, action, kind, str(row.id), "change_reason", None, reason)
    refresh_state(conn, row.claim_id)


def amend(conn: Connection, clock: Clock, actor: Actor, kind: str, row_id: int, version: int, reason: str,
          **changes: Any) -> None:
    """Correct a note, contact or action. The original stays in the audit; the record shows the reason."""
    if kind not in _AMENDABLE:
        raise StoreError(f"Only {', '.join(_AMENDABLE)} can be amended.")
    reason = _required_text(reason, "A reason for the correction")
    table, row = _load_for_change(conn, actor, kind, row_id, version)
    allowed = _AMENDABLE[kind][1]
    unknown = set(changes) - set(allowed)
    if unknown:
        raise StoreError(f"A {kind} amendment changes only {', '.join(allowed)}.")
    if "body" in changes:
        changes["body"] = _required_text(changes["body"], "A note")
    if "description" in changes:
        changes["description"] = _required_text(changes["description"], "An action's description")
    if "kind" in changes and changes["kind"] not in CONTACT_KINDS:
        raise StoreError(f"A contact is one of: {', '.join(CONTACT_KINDS)}.")
    if "contact_on" in changes:
        changes["contact_day"] = schema.day_number(changes["contact_on"])
    if "due_on" in changes:
        changes["due_day"] = schema.day_number(changes["due_on"])
    if "owner" in changes:
        claim = claim_in_scope(conn, actor, row.claim_id)
        _owner_ok(conn, actor, claim, changes["owner"])
    _apply(conn, clock, actor, kind, table, row, changes, reason, "amend")


def withdraw(conn: Connection, clock: Clock, actor: Actor, kind: str, row_id: int, version: int, reason: str) -> None:
    if kind not in _AMENDABLE:
        raise StoreError(f"Only {', '.join(_AMENDABLE)} can be withdrawn.")
    reason = _required_text(reason, "A reason for withdrawing it")
    table, row = _load_for_change(conn, actor, kind, row_id, version)
    _apply(conn, clock, actor, kind, table, row, {"status": "withdrawn"}, reason, "withdraw")


def complete_action(conn: Connection, clock: Clock, actor: Actor, action_id: int, version: int) -> None:
    table, row = _load_for_change(conn, actor, "action", action_id, version)
    if row.status == "done":
        return
    _apply(conn, clock, actor, "action", table, row,
           {"status": "done", "done_on": clock.today(), "done_by": actor.id}, None, "complete")


def reopen_action(conn: Connection, clock: Clock, actor: Actor, action_id: int) -> str:
    """Undo "done" on an action marked done by this person today (the app's `u`); its description."""
    table, row = _load_for_change(conn, actor, "action", action_id, _version(conn, action_id))
    if row.status != "done" or row.done_by != actor.id or row.done_on != clock.today():
        raise StoreError("Only an action you marked done today can be reopened this way.")
    _apply(conn, clock, actor, "action", table, row, {"status": "open", "done_on": None, "done_by": None},
           None, "undo")
    return row.description


def _version(conn: Connection, action_id: int) -> int:
    t = schema.Action.__table__
    v = conn.execute(select(t.c.version).where(t.c.id == action_id)).scalar()
    if v is None:
        raise StoreError(f"There is no action {action_id}.")
    return int(v)


UNDO_RAG_WINDOW = dt.timedelta(minutes=2)  # the app offers 10 seconds; this allows for a slow save


def undo_rag(conn: Connection, clock: Clock, actor: Actor, rating_id: int) -> str | None:
    """Take back a rating this person set a moment ago (the app's `u`), while it is still the claim's
    latest: the rating before it is current again (returned; None when there was none). The audit keeps
    both the rating and its undoing."""
    t = schema.RagRating.__table__
    row = conn.execute(select(t).where(t.c.id == rating_id)).first()
    if row is None:
        raise StoreError("That rating is no longer on the record.")
    claim_in_scope(conn, actor, row.claim_id)
    latest = conn.execute(select(t.c.id).where(t.c.claim_id == row.claim_id).order_by(desc(t.c.id)).limit(1)).scalar()
    now, set_at = clock.now(), row.set_at
    if (now.tzinfo is None) != (set_at.tzinfo is None):  # SQLite gives back a naive time
        now, set_at = now.replace(tzinfo=None), set_at.replace(tzinfo=None)
    if latest != rating_id or row.set_by != actor.id or row.source != "adviser" or now - set_at > UNDO_RAG_WINDOW:
        raise StoreError("That rating can no longer be undone: set the rating again with a reason.")
    conn.execute(t.delete().where(t.c.id == rating_id))
    before = conn.execute(select(t.c.rating).where(t.c.claim_id == row.claim_id)
                          .order_by(desc(t.c.id)).limit(1)).scalar()
    record(conn, clock, actor, "undo", "claim", row.claim_id, "rag", row.rating, before)
    refresh_state(conn, row.claim_id)
    return before


def complete_next_action(conn: Connection, clock: Clock, actor: Actor, claim_id: str) -> str:
    """Mark done the claim's next open action (earliest due: the caseload's Next action); its description."""
    return complete_next_action_id(conn, clock, actor, claim_id)[1]


def complete_next_action_id(conn: Connection, clock: Clock, actor: Actor, claim_id: str) -> tuple[int, str]:
    """As complete_next_action, with the action's id (so that it can be reopened)."""
    claim_in_scope(conn, actor, claim_id)
    ac = schema.Action.__table__
    row = conn.execute(select(ac.c.id, ac.c.version, ac.c.description)
                       .where(ac.c.claim_id == claim_id, ac.c.status == "open")
                       .order_by(ac.c.due_day, ac.c.id).limit(1)).first()
    if row is None:
        raise StoreError("This customer has no open action to mark done.")
    complete_action(conn, clock, actor, row.id, row.version)
    return int(row.id), row.description


def reassign_action(conn: Connection, clock: Clock, actor: Actor, action_id: int, version: int, owner: str) -> None:
    table, row = _load_for_change(conn, actor, "action", action_id, version)
    claim = claim_in_scope(conn, actor, row.claim_id)
    _owner_ok(conn, actor, claim, owner)
    _apply(conn, clock, actor, "action", table, row, {"owner": owner}, None, "reassign")


def refresh_state(conn: Connection, claim_id: str) -> None:
    """Rebuild one claim's row of claim_state from its history (called by every edit above)."""
    r, ct, ac = schema.RagRating.__table__, schema.Contact.__table__, schema.Action.__table__
    # In the order they were set: by day, then as written (a conference recorded after the day it
    # was held writes its review on the conference's day).
    ratings = conn.execute(select(r.c.rating, r.c.set_on, r.c.set_day, r.c.next_review, r.c.next_review_day)
                           .where(r.c.claim_id == claim_id).order_by(r.c.set_day, r.c.id)).all()
    values: dict[str, Any] = {"claim_id": claim_id}
    if ratings:
        last = ratings[-1]
        values.update(rag=last.rating, rated_on=last.set_on, rated_day=last.set_day, next_review=last.next_review,
                      next_review_day=last.next_review_day)
        red_since = None
        for x in ratings:  # the start of the trailing run of Red ratings
            red_since = (red_since if red_since is not None else x.set_day) if x.rating == "R" else None
        values["red_since_day"] = red_since
    contact = conn.execute(select(ct.c.contact_on, ct.c.contact_day)
                           .where(ct.c.claim_id == claim_id, ct.c.status == "active")
                           .order_by(desc(ct.c.contact_day)).limit(1)).first()
    if contact:
        values.update(last_contact_on=contact.contact_on, last_contact_day=contact.contact_day)
    action = conn.execute(select(ac.c.description, ac.c.due_on, ac.c.due_day)
                          .where(ac.c.claim_id == claim_id, ac.c.status == "open")
                          .order_by(ac.c.due_day, ac.c.id).limit(1)).first()
    if action:
        values.update(next_action=action.description, next_action_due=action.due_on, next_action_day=action.due_day)
    # Discussed items count whether or not their conference has been finished: the discussion
    # happened, and its plan and estimate are saved as it goes.
    cf, ci = schema.Conference.__table__, schema.ConferenceItem.__table__
    discussed = conn.execute(select(cf.c.held_on, cf.c.held_day, ci.c.expected_offflow, ci.c.plan)
                             .select_from(cf.join(ci, ci.c.conference_id == cf.c.id))
                             .where(ci.c.claim_id == claim_id, ci.c.status == "discussed")
                             .order_by(desc(cf.c.held_day), desc(ci.c.id))).all()
    if discussed:
        last = discussed[0]
        values.update(last_conference_on=last.held_on, last_conference_day=last.held_day,
                      expected_offflow=last.expected_offflow,
                      last_plan_day=next((x.held_day for x in discussed if (x.plan or "").strip()), None))
    t = schema.ClaimState.__table__
    conn.execute(t.delete().where(t.c.claim_id == claim_id))
    conn.execute(t.insert().values(**values))
