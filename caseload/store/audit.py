"""The audit log: who changed what, when, from what to what. Written for every change made through the store.

The audit keeps the fact of a change (who, when, which record, which field) and the values of coded
fields (ratings, dates, reason codes, ids), never personal content: free text about a customer
(notes, reasons, descriptions, plans) is recorded as ``[text]``, so erasing a customer
(store/erase.py) never needs to touch the audit. Nothing in the app updates or deletes an audit row;
this module only adds them and reads them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, String, cast, desc, or_, select

from caseload.clock import Clock
from caseload.store import schema
from caseload.store.access import Actor, Role
from caseload.store.errors import AccessDenied

# Fields whose values are free text about a customer: the audit says they changed, not what they say.
FREE_TEXT_FIELDS = frozenset({"body", "description", "reason", "change_reason", "done_so_far", "plan",
                              "offflow_note", "skip_reason"})
REDACTED = "[text]"


def _text(v: Any) -> str | None:
    return None if v is None else str(v)


def record(
    conn: Connection,
    clock: Clock,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str,
    field: str | None = None,
    old: Any = None,
    new: Any = None,
) -> None:
    if field in FREE_TEXT_FIELDS:
        old, new = (REDACTED if v not in (None, "") else None for v in (old, new))
    conn.execute(
        schema.AuditEntry.__table__.insert().values(
            at=clock.now(),
            actor=actor.id,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            field=field,
            old=_text(old),
            new=_text(new),
        )
    )


def last_change(conn: Connection, entity: str, entity_id: str) -> str:
    """Who last changed a record and when, for a stale-edit message: "by Asha Patel (A1) on 2026-05-11 at 09:30"."""
    a, st = schema.AuditEntry.__table__, schema.Staff.__table__
    last = conn.execute(
        select(a.c.actor, a.c.at, st.c.name).select_from(a.outerjoin(st, st.c.id == a.c.actor))
        .where(a.c.entity == entity, a.c.entity_id == str(entity_id)).order_by(desc(a.c.id)).limit(1)
    ).first()
    if last is None:
        return "by someone else"
    name = last.name or ("the database owner" if last.actor == "admin" else None)
    who = f"{name} ({last.actor})" if name else last.actor
    return f"by {who} on {last.at:%Y-%m-%d} at {last.at:%H:%M}"


# ---------------------------------------------------------------------------------------------
# Reading the audit log (caseload audit).


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    field: str | None
    old: str | None
    new: str | None


def about_claims(claims) -> Any:  # noqa: ANN001
    """A condition on audit rows: those about the claims in `claims` (a select of claim ids) or their
    customers, notes, contacts, actions and conference items."""
    a = schema.AuditEntry.__table__
    c = schema.Claim.__table__
    parts = [(a.c.entity == "claim") & a.c.entity_id.in_(claims),
             (a.c.entity == "customer") & a.c.entity_id.in_(select(c.c.customer_id).where(c.c.id.in_(claims)))]
    for entity, model in (("note", schema.Note), ("contact", schema.Contact), ("action", schema.Action),
                          ("conference_item", schema.ConferenceItem)):
        t = model.__table__
        parts.append((a.c.entity == entity)
                     & a.c.entity_id.in_(select(cast(t.c.id, String)).where(t.c.claim_id.in_(claims))))
    return or_(*parts)


def read_audit(conn: Connection, actor: Actor, *, customer: str | None = None, staff: str | None = None,
               since: dt.date | None = None, limit: int = 100) -> list[AuditRow]:
    """The audit log, newest first, within the actor's scope.

    A team leader and the administrator read all of it; a team manager reads what their team's staff
    did and what was done to their team's customers; an adviser reads what they did themselves.
    """
    a, c, st = schema.AuditEntry.__table__, schema.Claim.__table__, schema.Staff.__table__
    stmt = select(a)
    if actor.role is Role.TEAM_MANAGER:
        team_staff = select(st.c.id).where(st.c.team_id == actor.team_id)
        stmt = stmt.where(or_(a.c.actor.in_(team_staff), (a.c.entity == "staff") & a.c.entity_id.in_(team_staff),
                              about_claims(select(c.c.id).where(actor.claim_filter(c)))))
    elif actor.role is Role.ADVISER:
        stmt = stmt.where(a.c.actor == actor.id)
    if customer is not None:
        theirs = select(c.c.id).where(c.c.customer_id == customer)
        if actor.role in (Role.ADVISER, Role.TEAM_MANAGER) and conn.execute(
                select(c.c.id).where(c.c.customer_id == customer, actor.claim_filter(c)).limit(1)).first() is None:
            raise AccessDenied(f"Customer {customer} is not on a caseload you can see.")
        stmt = stmt.where(or_(about_claims(theirs), (a.c.entity == "customer") & (a.c.entity_id == customer)))
    if staff is not None:
        stmt = stmt.where(or_(a.c.actor == staff, (a.c.entity == "staff") & (a.c.entity_id == staff)))
    if since is not None:
        stmt = stmt.where(a.c.at >= dt.datetime(since.year, since.month, since.day, tzinfo=dt.timezone.utc))
    rows = conn.execute(stmt.order_by(desc(a.c.id)).limit(max(limit, 0) or None)).all()
    return [AuditRow(r.id, r.at, r.actor, r.action, r.entity, r.entity_id, r.field, r.old, r.new) for r in rows]
