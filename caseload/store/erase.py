"""Erasing a customer's personal details (caseload customer erase).

One transaction blanks the customer's name, NI number, date of birth, sex, disability and ethnicity,
and replaces every free text written about their claims (notes, RAG reasons, action descriptions,
conference discussions, reasons for corrections) with ``(erased)``. The claims, their dates, holders,
end reasons, confirmed destinations, RAG bands, contacts and actions stay as rows, so every off-flow
figure and every count stays as it was; the equality breakdowns count the customer as "not recorded".

``customer.erased_at`` (schema version 5) is the marker that keeps the details from coming back: an
import blanks an erased customer's personal columns before it reads them (see
``blank_erased_in_staging``). The audit row ``erase customer ID`` says who erased them and why.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, text, update
from sqlmodel import SQLModel

from caseload.clock import Clock
from caseload.store import schema
from caseload.store.access import Actor, Role
from caseload.store.audit import record
from caseload.store.errors import AccessDenied, StoreError
from caseload.store.records import refresh_state

# The reason is a category, never free text (which could itself hold personal data).
REASONS = {
    "request": "the customer asked for their personal data to be erased",
    "retention": "the retention period has ended",
    "error": "the details were recorded in error (wrong person)",
    "other": "another lawful reason, recorded outside caseload",
}
ERASED = "(erased)"
PERSONAL_COLUMNS = ("name", "date_of_birth", "nino", "sex", "disability", "ethnicity")
STAGED_COLUMNS = ("customer_name", "date_of_birth", "nino", "sex", "disability", "ethnicity")
# Free text kept about a claim, by table (columns a schema version has not reached yet are left out).
CLAIM_TEXT = (
    ("note", ("body", "change_reason")),
    ("rag_rating", ("reason",)),
    ("contact", ("change_reason",)),
    ("action", ("description", "change_reason")),
    ("conference_item", ("done_so_far", "plan", "offflow_note", "skip_reason")),
    ("assignment", ("note",)),
)


@dataclass(frozen=True)
class Erased:
    customer_id: str
    claims: int
    texts: int  # free-text values replaced


def _marker(conn: Connection, customer_id: str):  # noqa: ANN202
    """When the customer was erased (``customer.erased_at``) and by whom (the audit row), or None."""
    cu, a = schema.Customer.__table__, schema.AuditEntry.__table__
    by = (select(a.c.actor).where(a.c.action == "erase", a.c.entity == "customer", a.c.entity_id == cu.c.id)
          .limit(1).scalar_subquery())
    return conn.execute(select(cu.c.erased_at.label("at"), by.label("actor"))
                        .where(cu.c.id == customer_id, cu.c.erased_at.is_not(None))).first()


def erase_customer(conn: Connection, clock: Clock, actor: Actor, customer_id: str, reason: str) -> Erased:
    """Erase one customer's personal details and the free text about them (team leader or administrator)."""
    actor.require(Role.TEAM_LEADER, doing="erase a customer's personal details")
    if reason not in REASONS:
        raise StoreError(f"The reason is one of: {', '.join(REASONS)} ({'; '.join(f'{k}: {v}' for k, v in REASONS.items())}).")
    cu, c = schema.Customer.__table__, schema.Claim.__table__
    if conn.execute(select(cu.c.id).where(cu.c.id == customer_id)).first() is None:
        raise StoreError(f"There is no customer {customer_id!r}.")
    claims = list(conn.execute(select(c.c.id).where(c.c.customer_id == customer_id).order_by(c.c.id)).scalars())
    if not conn.execute(select(c.c.id).where(c.c.customer_id == customer_id, actor.claim_filter(c)).limit(1)).first():
        raise AccessDenied(f"Customer {customer_id} has no claim in your office; their team leader erases them.")
    done = _marker(conn, customer_id)
    if done is not None:
        raise StoreError(f"Customer {customer_id} was erased on {done.at:%Y-%m-%d} by {done.actor}; there is "
                         "nothing more to erase.")
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        # Overwrite the erased bytes in the file instead of only unlinking them.
        conn.exec_driver_sql("PRAGMA secure_delete=ON")
    try:
        conn.execute(update(cu).where(cu.c.id == customer_id)
                     .values(**{k: None for k in PERSONAL_COLUMNS}, erased_at=clock.now(), version=cu.c.version + 1))
        texts = 0
        for name, columns in CLAIM_TEXT:
            t = SQLModel.metadata.tables[name]
            for col in (t.c[k] for k in columns if k in t.c):
                texts += conn.execute(update(t).where(t.c.claim_id.in_(claims), col.is_not(None), col != ERASED)
                                      .values({col: ERASED})).rowcount
        for claim_id in claims:
            refresh_state(conn, claim_id)  # the caseload's "next action" column copies a description
        record(conn, clock, actor, "erase", "customer", customer_id, "reason_category", None, reason)
    finally:
        if sqlite:
            conn.exec_driver_sql("PRAGMA secure_delete=OFF")
    return Erased(customer_id, len(claims), texts)


def blank_erased_in_staging(conn: Connection) -> int:
    """Called by the importer before it reads customers: an erased customer's personal columns in the
    extract are dropped, so a later extract never brings them back. Returns the rows blanked."""
    sets = ", ".join(f"{k} = NULL" for k in STAGED_COLUMNS)
    return conn.execute(text(
        f"UPDATE import_staging SET {sets} WHERE customer_id IN (SELECT id FROM customer WHERE erased_at IS NOT NULL)"
    )).rowcount


def checkpoint(conn: Connection) -> bool:
    """After an erase on SQLite: copy the write-ahead log into the file and empty it, so the old page
    images go too. False when another connection is reading (they go at the next checkpoint)."""
    if conn.dialect.name != "sqlite":
        return True
    busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
    return not (busy and busy[0])
