"""The audit log: who changed what, when, from what to what. Written for every change made through the store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from caseload.clock import Clock
from caseload.store import schema
from caseload.store.access import Actor


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
