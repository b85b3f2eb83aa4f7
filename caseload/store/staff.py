"""Staff, their team and role. Advisers arrive with extracts; managers and leaders are added here."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from caseload.clock import Clock
from caseload.store import schema
from caseload.store.access import STAFF_ROLES, Actor, Role
from caseload.store.audit import record
from caseload.store.errors import ConflictError, StoreError
from caseload.store.importer import DEFAULT_OFFICE
from caseload.store.logins import follow_role


@dataclass(frozen=True)
class StaffRow:
    id: str
    name: str
    role: str
    team: str | None
    office: str | None
    open_claims: int
    version: int


def _role(value: str) -> Role:
    v = value.strip().lower().replace(" ", "_").replace("-", "_")
    try:
        role = Role(v)
    except ValueError:
        role = None
    if role not in STAFF_ROLES:
        raise StoreError(f"'{value}' is not a role; use adviser, team_manager or team_leader.")
    return role


def _place(conn: Connection, team: str | None, office: str | None, *, create: bool) -> tuple[int | None, int | None]:
    """Team and office ids for names, creating them when asked."""
    ot, tt = schema.Office.__table__, schema.Team.__table__
    office_name = office or (None if team is None else None)
    office_id = None
    if office_name is not None:
        office_id = conn.execute(select(ot.c.id).where(ot.c.name == office_name)).scalar()
        if office_id is None:
            if not create:
                raise StoreError(f"There is no office {office_name!r}.")
            office_id = conn.execute(ot.insert().values(name=office_name)).inserted_primary_key[0]
    if team is None:
        return None, office_id
    q = select(tt.c.id, tt.c.office_id).where(tt.c.name == team)
    if office_id is not None:
        q = q.where(tt.c.office_id == office_id)
    found = conn.execute(q).all()
    if len(found) > 1:
        raise StoreError(f"There are teams called {team!r} in {len(found)} offices: say which with --office.")
    if found:
        return found[0].id, found[0].office_id
    if not create:
        raise StoreError(f"There is no team {team!r}; `caseload staff list` shows the teams.")
    if office_id is None:
        office_id = conn.execute(select(ot.c.id).order_by(ot.c.id)).scalar()
        if office_id is None:
            office_id = conn.execute(ot.insert().values(name=DEFAULT_OFFICE)).inserted_primary_key[0]
    team_id = conn.execute(tt.insert().values(office_id=office_id, name=team)).inserted_primary_key[0]
    return team_id, office_id


def add(conn: Connection, clock: Clock, actor: Actor, staff_id: str, name: str, role: str,
        team: str | None = None, office: str | None = None) -> None:
    actor.require(Role.TEAM_LEADER, doing="add staff")
    r = _role(role)
    st = schema.Staff.__table__
    if conn.execute(select(st.c.id).where(st.c.id == staff_id)).first():
        raise StoreError(f"{staff_id} is already on the staff list; use `caseload staff move` or `set-role`.")
    if r in (Role.ADVISER, Role.TEAM_MANAGER) and team is None:
        raise StoreError(f"An {r.label} belongs to a team: give --team NAME.")
    if r is Role.TEAM_LEADER and team is None and office is None:
        raise StoreError("A team leader leads an office: give --office NAME.")
    team_id, office_id = _place(conn, team, office, create=True)
    conn.execute(st.insert().values(id=staff_id, name=name, role=r.value, team_id=team_id, office_id=office_id,
                                    active=True, version=1))
    record(conn, clock, actor, "add", "staff", staff_id, None, None, f"{name}, {r.label}, team {team}, office {office}")


def _current(conn: Connection, staff_id: str):  # noqa: ANN202
    st = schema.Staff.__table__
    row = conn.execute(select(st).where(st.c.id == staff_id)).first()
    if row is None:
        raise StoreError(f"There is no staff member {staff_id!r}; `caseload staff list` shows who there is.")
    return row


def _update(conn: Connection, row, changes: dict) -> None:  # noqa: ANN001
    st = schema.Staff.__table__
    n = conn.execute(
        st.update().where(st.c.id == row.id, st.c.version == row.version).values(**changes, version=row.version + 1)
    ).rowcount
    if n != 1:
        raise ConflictError(f"{row.id} was changed by someone else just now; look again and retry.")


def set_role(conn: Connection, clock: Clock, actor: Actor, staff_id: str, role: str) -> None:
    actor.require(Role.TEAM_LEADER, doing="change a role")
    r = _role(role)
    row = _current(conn, staff_id)
    if row.role == r.value:
        return
    _update(conn, row, {"role": r.value})
    follow_role(conn, staff_id, r.value)  # the login's group role, in the same transaction
    record(conn, clock, actor, "update", "staff", staff_id, "role", row.role, r.value)


def move(conn: Connection, clock: Clock, actor: Actor, staff_id: str, team: str, office: str | None = None) -> None:
    actor.require(Role.TEAM_LEADER, doing="move staff between teams")
    row = _current(conn, staff_id)
    team_id, office_id = _place(conn, team, office, create=True)
    if row.team_id == team_id:
        return
    _update(conn, row, {"team_id": team_id, "office_id": office_id})
    record(conn, clock, actor, "update", "staff", staff_id, "team_id", row.team_id, team_id)


def list_staff(conn: Connection, actor: Actor, team: str | None = None) -> list[StaffRow]:
    st, tt, ot, c = schema.Staff.__table__, schema.Team.__table__, schema.Office.__table__, schema.Claim.__table__
    open_claims = (
        select(c.c.adviser_id, func.count().label("n")).where(c.c.end_day.is_(None)).group_by(c.c.adviser_id).subquery()
    )
    q = (
        select(st.c.id, st.c.name, st.c.role, tt.c.name.label("team"), ot.c.name.label("office"),
               func.coalesce(open_claims.c.n, 0).label("open_claims"), st.c.version)
        .select_from(st.outerjoin(tt, tt.c.id == st.c.team_id).outerjoin(ot, ot.c.id == st.c.office_id)
                     .outerjoin(open_claims, open_claims.c.adviser_id == st.c.id))
        .order_by(ot.c.name, tt.c.name, st.c.name, st.c.id)
    )
    if team:
        q = q.where(tt.c.name == team)
    if actor.role is Role.TEAM_LEADER:
        q = q.where(st.c.office_id == actor.office_id)
    elif actor.role in (Role.TEAM_MANAGER, Role.ADVISER):
        q = q.where(st.c.team_id == actor.team_id)
    return [StaffRow(**r._mapping) for r in conn.execute(q)]
