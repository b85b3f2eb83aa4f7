"""Context notes: a free-text note per office and cohort period (the local labour market, staffing),
shown beside the off-flow figures and carried into every off-flow export (DOMAIN section 9: context
travels with every comparison).

Team managers and team leaders write their own office's notes; everyone in the office reads them.
Every write is audited with the old and new text, and checked against the version the writer saw,
so a stale edit is refused instead of silently overwriting someone else's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select

from caseload.clock import Clock
from caseload.measures.cohorts import CohortKind, Period
from caseload.store import schema
from caseload.store.access import Actor, Role
from caseload.store.audit import last_change, record
from caseload.store.errors import AccessDenied, ConflictError, StoreError

MAX_LENGTH = 2000
KINDS = tuple(str(k) for k in CohortKind)


@dataclass(frozen=True)
class ContextNote:
    office_id: int
    office: str
    cohort_kind: str
    period_label: str
    text: str
    author: str
    at: dt.datetime
    version: int

    def as_dict(self) -> dict:
        return {"office": self.office, "cohort_period_kind": self.cohort_kind, "cohort_period": self.period_label,
                "text": self.text, "written_by": self.author, "written_at": self.at.isoformat()}


def _office_name(conn: Connection, office_id: int) -> str:
    o = schema.Office.__table__
    name = conn.execute(select(o.c.name).where(o.c.id == office_id)).scalar()
    if name is None:
        raise StoreError(f"There is no office {office_id}.")
    return name


def office_id_for(conn: Connection, name: str) -> int:
    o = schema.Office.__table__
    oid = conn.execute(select(o.c.id).where(o.c.name == name)).scalar()
    if oid is None:
        names = ", ".join(conn.execute(select(o.c.name).order_by(o.c.name)).scalars()) or "none yet"
        raise StoreError(f"There is no office {name!r}. Offices: {names}.")
    return int(oid)


def _may_read(actor: Actor, office_id: int) -> None:
    if actor.is_admin or actor.office_id == office_id:
        return
    raise AccessDenied("Context notes are read by the staff of their own office.")


def _may_write(actor: Actor, office_id: int) -> None:
    actor.require(Role.TEAM_MANAGER, Role.TEAM_LEADER, doing="write context notes")
    if not actor.is_admin and actor.office_id != office_id:
        raise AccessDenied("A context note is written by a team manager or team leader of its own office.")


def _check_kind(kind: str) -> str:
    kind = str(kind)
    if kind not in KINDS:
        raise StoreError(f"A cohort period kind is one of {', '.join(KINDS)}.")
    return kind


_LABELS = {
    "calendar-month": (re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"), "2026-04"),
    "reporting-month": (re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"), "2026-04"),
    "quarter": (re.compile(r"^\d{4}-Q[1-4]$"), "2026-Q2"),
    "year": (re.compile(r"^\d{4}$"), "2026"),
}


def check_label(kind: str, label: str) -> str:
    """A period label as exports print it (2026-04, 2026-Q2, 2026), checked against its kind."""
    label = (label or "").strip().upper()
    pattern, example = _LABELS[_check_kind(kind)]
    if not pattern.match(label):
        raise StoreError(f"'{label}' is not a {kind} period; write it as exports do, like {example}.")
    return label


def _to_note(row, office: str) -> ContextNote:  # noqa: ANN001
    at = row.at
    if isinstance(at, str):
        at = dt.datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.timezone.utc)
    return ContextNote(office_id=row.office_id, office=office, cohort_kind=row.cohort_kind,
                       period_label=row.period_label, text=row.text, author=row.author, at=at, version=row.version)


def get_note(conn: Connection, actor: Actor, office_id: int, kind: str, label: str) -> ContextNote | None:
    _may_read(actor, office_id)
    t = schema.ContextNote.__table__
    row = conn.execute(select(t).where(t.c.office_id == office_id, t.c.cohort_kind == _check_kind(kind),
                                       t.c.period_label == label)).first()
    return _to_note(row, _office_name(conn, office_id)) if row else None


def set_note(conn: Connection, clock: Clock, actor: Actor, office_id: int, kind: str, label: str, text: str,
             version: int | None) -> ContextNote | None:
    """Write (or, with empty text, remove) the note; ``version`` is the one the writer saw (None: no note).

    Returns the note as saved, or None when it was removed.
    """
    _may_write(actor, office_id)
    kind = _check_kind(kind)
    label = check_label(kind, label)
    text = (text or "").strip()
    if len(text) > MAX_LENGTH:
        raise StoreError(f"A context note is at most {MAX_LENGTH} characters; this one has {len(text)}.")
    t = schema.ContextNote.__table__
    where = (t.c.office_id == office_id, t.c.cohort_kind == kind, t.c.period_label == label)
    old = conn.execute(select(t).where(*where)).first()
    seen = old.version if old else None
    entity_id = f"{office_id}/{kind}/{label}"
    if seen != version:
        raise ConflictError(f"The note for {label} was changed {last_change(conn, 'context_note', entity_id)} after "
                            "you opened it. Your text is kept: look at the new version and apply your change again.")
    if not text:
        if old is not None:
            conn.execute(t.delete().where(*where))
            record(conn, clock, actor, "remove", "context_note", entity_id, "text", old.text, None)
        return None
    now = clock.now()
    if old is None:
        conn.execute(t.insert().values(office_id=office_id, cohort_kind=kind, period_label=label, text=text,
                                       author=actor.id, at=now, version=1))
    elif old.text != text:
        conn.execute(t.update().where(*where).values(text=text, author=actor.id, at=now, version=old.version + 1))
    if old is None or old.text != text:
        record(conn, clock, actor, "set", "context_note", entity_id, "text", old.text if old else None, text)
    return get_note(conn, actor, office_id, kind, label)


def list_notes(conn: Connection, actor: Actor, office_id: int | None = None, kind: str | None = None) -> list[ContextNote]:
    """Notes the actor may read (their office's; every office for the administrator), oldest period first."""
    t, o = schema.ContextNote.__table__, schema.Office.__table__
    stmt = select(t, o.c.name.label("office")).join(o, o.c.id == t.c.office_id)
    if office_id is not None:
        _may_read(actor, office_id)
        stmt = stmt.where(t.c.office_id == office_id)
    elif not actor.is_admin:
        stmt = stmt.where(t.c.office_id == actor.office_id)
    if kind is not None:
        stmt = stmt.where(t.c.cohort_kind == _check_kind(kind))
    rows = conn.execute(stmt.order_by(o.c.name, t.c.cohort_kind, t.c.period_label)).all()
    return [_to_note(r, r.office) for r in rows]


def notes_for_result(conn: Connection, actor: Actor, kind: CohortKind | str, periods: Sequence[Period]) -> list[ContextNote]:
    """The notes beside a set of figures: the periods shown, for the offices the actor reads."""
    labels = [p.label for p in periods]
    if not labels:
        return []
    t, o = schema.ContextNote.__table__, schema.Office.__table__
    stmt = (select(t, o.c.name.label("office")).join(o, o.c.id == t.c.office_id)
            .where(t.c.cohort_kind == str(kind), t.c.period_label.in_(labels)))
    if not actor.is_admin:
        if actor.office_id is None:
            return []
        stmt = stmt.where(t.c.office_id == actor.office_id)
    order = {label: i for i, label in enumerate(labels)}
    rows = conn.execute(stmt).all()
    return sorted((_to_note(r, r.office) for r in rows), key=lambda n: (order[n.period_label], n.office))
