"""Who may see and run a caseload conference, and the lookups every part of it shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, or_, select

from caseload.measures.conference import ActionLine
from caseload.store import schema
from caseload.store.access import Actor, Role
from caseload.store.errors import AccessDenied, StoreError


@dataclass(frozen=True)
class AdviserRef:
    id: str
    name: str
    role: str
    team_id: int | None
    office_id: int | None
    team: str | None


def adviser_row(conn: Connection, adviser_id: str) -> AdviserRef:
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
    return AdviserRef(row.id, row.name or row.id, row.role, row.team_id, row.office_id, row.team)


def runs(actor: Actor, adviser: AdviserRef) -> bool:
    if actor.is_admin:
        return True
    if actor.role is Role.TEAM_MANAGER:
        return actor.team_id is not None and actor.team_id == adviser.team_id
    if actor.role is Role.TEAM_LEADER:
        return actor.office_id is not None and actor.office_id == adviser.office_id
    return False


def require_run(actor: Actor, adviser: AdviserRef) -> None:
    if not runs(actor, adviser):
        raise AccessDenied(
            f"Only {adviser.name}'s team manager or a team leader of their office runs their caseload "
            f"conference; you are acting as {actor.role.label} {actor.id}."
        )


def require_read(actor: Actor, adviser: AdviserRef) -> None:
    if actor.role is Role.ADVISER and actor.id == adviser.id:
        return
    if not runs(actor, adviser):
        if actor.role is Role.ADVISER:
            raise AccessDenied("An adviser sees their own caseload conferences only.")
        raise AccessDenied(
            f"{adviser.name}'s caseload conferences are for them, their team manager and their office's "
            f"team leader; you are acting as {actor.role.label} {actor.id}."
        )


def may_name_customers(actor: Actor) -> bool:
    """Whether the actor may ask for a named customer-level export (team manager, team leader, admin)."""
    return actor.is_admin or actor.role in (Role.TEAM_MANAGER, Role.TEAM_LEADER)


def open_on(c, day: int):  # noqa: ANN001, ANN202
    return and_(c.start_day <= day, or_(c.end_day.is_(None), c.end_day > day))


def staff_names(conn: Connection) -> dict[str, str]:
    st = schema.Staff.__table__
    names = {r.id: r.name or r.id for r in conn.execute(select(st.c.id, st.c.name))}
    names.setdefault("admin", "administrator")
    return names


def chunks(ids: Sequence, size: int = 500) -> Iterable[list]:
    ids = list(ids)
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def action_line(a, names: dict[str, str], outcome: str | None = None) -> ActionLine:  # noqa: ANN001
    return ActionLine(
        id=a.id, version=a.version, description=a.description, owner=a.owner, owner_name=names.get(a.owner, a.owner),
        due=a.due_on, status=a.status, done_on=a.done_on, set_on=getattr(a, "held_on", None), outcome=outcome,
    )


def conference_row(conn: Connection, conference_id: int):  # noqa: ANN202
    cf = schema.Conference.__table__
    row = conn.execute(select(cf).where(cf.c.id == conference_id)).first()
    if row is None:
        raise StoreError(f"There is no caseload conference {conference_id}.")
    return row


def require_unfinished(conf) -> None:  # noqa: ANN001
    if conf.status == "finished":
        raise StoreError(
            f"This conference ({conf.held_on.isoformat()}) was finished at {conf.finished_at:%Y-%m-%d %H:%M}; "
            "it is a record now and is not changed."
        )


def aware(v: dt.datetime | None) -> dt.datetime | None:
    """Times are written in UTC; a driver that drops the zone gets it back here."""
    return v if v is None or v.tzinfo else v.replace(tzinfo=dt.timezone.utc)


def visible_staff(actor: Actor, st):  # noqa: ANN001, ANN202
    """Advisers whose conferences the actor may see."""
    if actor.is_admin:
        return st.c.id.is_not(None)
    if actor.role is Role.TEAM_LEADER:
        return st.c.office_id == actor.office_id
    if actor.role is Role.TEAM_MANAGER:
        return st.c.team_id == actor.team_id
    return st.c.id == actor.id
