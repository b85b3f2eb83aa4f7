"""Who is connected, on PostgreSQL: each person's own login role, linked to their staff record.

- `grant` creates (or links) a login role and makes it a member of the group role of the person's staff role
  (store/policies.py); `revoke` takes the membership and the link away, and the audit keeps the history.
- `connected_actor` is the acting person: the login (current_user) mapped to its staff record. Only the
  database owner may act as someone else (`--as`), and every time it does the audit says so.

Passwords are never stored or seen here: authentication is PostgreSQL's (pg_hba.conf, ~/.pgpass).
SQLite has no logins: its file is one person's store.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import Connection, Engine, select, text

from caseload.clock import Clock
from caseload.store import schema
from caseload.store.access import ADMIN, Actor, Role, actor_for
from caseload.store.audit import record
from caseload.store.errors import AccessDenied, StoreError, UnknownStaff
from caseload.store.policies import GROUP_ROLES, group_role

LOGIN_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
SQLITE_ONE_PERSON = ("A SQLite file is one person's store: anyone who can open the file reads all of it "
                     "(share a database through PostgreSQL; see docs/deploy.md).")


def is_postgresql(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def current_login(conn: Connection) -> str:
    return conn.execute(text("SELECT current_user")).scalar_one()


def is_owner(conn: Connection) -> bool:
    """Whether the connected role is (a member of) the role that owns caseload's tables; always on SQLite."""
    if not is_postgresql(conn):
        return True
    owned = conn.execute(text(
        "SELECT pg_has_role(current_user, tableowner, 'MEMBER') FROM pg_tables "
        "WHERE schemaname = current_schema() AND tablename = 'schema_info'")).scalar()
    return bool(owned)


# Figures an adviser's login cannot count for itself: their team's, from claims row-level security hides from them.
TEAM_FIGURES_FROM_CLAIMS = (
    "on a shared database an adviser's login reads their own claims only, so team figures counted from every "
    "claim of the team are for the team manager and team leader. The team view's standard figures (on-flow "
    "attribution at 13, 26, 52 and 65 weeks, on the latest import) come from the kept team totals and are shown.")


def reads_only_own_claims(conn: Connection, actor: Actor) -> bool:
    """Whether row-level security limits this connection to the acting adviser's own claims (a PostgreSQL
    login of an adviser), so a team aggregate counted from the claims would silently leave colleagues' out."""
    if actor.role is not Role.ADVISER or not is_postgresql(conn):
        return False
    owner = conn.info.get("caseload_is_owner")  # the same login for the life of the pooled connection
    if owner is None:
        owner = conn.info["caseload_is_owner"] = is_owner(conn)
    return not owner


def require_team_claims(conn: Connection, actor: Actor, figures: str) -> None:
    """Refuse `figures` ("Fairness figures") counted from every claim of the team on a login that reads only the
    acting adviser's own: shown, they would silently leave colleagues' claims out."""
    if reads_only_own_claims(conn, actor):
        raise AccessDenied(f"{figures} are counted from the claims, and {TEAM_FIGURES_FROM_CLAIMS}")


def _require_owner(conn: Connection, actor: Actor, doing: str) -> None:
    if not is_postgresql(conn):
        raise StoreError(f"Logins are PostgreSQL's: a SQLite database has none to {doing}. {SQLITE_ONE_PERSON}")
    if not actor.is_admin or not is_owner(conn):
        raise AccessDenied(f"Only the database owner may {doing} (you are connected as {current_login(conn)}).")


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote_identifier(name)


def _role_exists(conn: Connection, name: str) -> bool:
    return conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first() is not None


def _staff(conn: Connection, staff_id: str):  # noqa: ANN202
    st = schema.Staff.__table__
    row = conn.execute(select(st).where(st.c.id == staff_id)).first()
    if row is None:
        raise UnknownStaff(f"There is no staff member {staff_id!r}; `caseload staff list` shows who there is.")
    return row


def _set_membership(conn: Connection, login: str, role: str | None) -> None:
    """The login a member of exactly the group role of `role` (None: of none)."""
    q = _quote(conn, login)
    for group in GROUP_ROLES.values():
        conn.exec_driver_sql(f"REVOKE {group} FROM {q}")
    if role is not None:
        conn.exec_driver_sql(f"GRANT {group_role(role)} TO {q}")


def grant(conn: Connection, clock: Clock, actor: Actor, staff_id: str, login: str) -> bool:
    """Link `login` to the staff member and give it their role's access, creating the login role if missing
    (True when it was created: the owner then sets its password, or pg_hba.conf says how it authenticates)."""
    _require_owner(conn, actor, "grant access")
    if not LOGIN_NAME.match(login):
        raise StoreError(f"{login!r} is not a login name caseload uses: lower-case letters, digits and _, "
                         "starting with a letter or _, at most 63 characters.")
    if login in GROUP_ROLES.values() or login == current_login(conn):
        raise StoreError(f"{login} is not a person's login (it is a group role or the owner).")
    row = _staff(conn, staff_id)
    st = schema.Staff.__table__
    other = conn.execute(select(st.c.id).where(st.c.login == login, st.c.id != staff_id)).scalar()
    if other is not None:
        raise StoreError(f"The login {login} is already {other}'s; `caseload staff revoke {other}` first.")
    created = not _role_exists(conn, login)
    if created:
        conn.exec_driver_sql(f"CREATE ROLE {_quote(conn, login)} LOGIN")
    if row.login and row.login != login:
        _set_membership(conn, row.login, None)
    _set_membership(conn, login, row.role)
    if row.login != login:
        conn.execute(st.update().where(st.c.id == staff_id).values(login=login, version=row.version + 1))
    record(conn, clock, actor, "grant", "staff", staff_id, "login", row.login, login)
    return created


def revoke(conn: Connection, clock: Clock, actor: Actor, staff_id: str) -> str | None:
    """Take a staff member's access away: their login leaves the group roles and is unlinked (the login role
    itself stays, owning nothing, and the audit keeps who had it). Returns the login, None if there was none."""
    _require_owner(conn, actor, "revoke access")
    row = _staff(conn, staff_id)
    if row.login is None:
        return None
    if _role_exists(conn, row.login):
        _set_membership(conn, row.login, None)
    st = schema.Staff.__table__
    conn.execute(st.update().where(st.c.id == staff_id).values(login=None, version=row.version + 1))
    record(conn, clock, actor, "revoke", "staff", staff_id, "login", row.login, None)
    return row.login


def follow_role(conn: Connection, staff_id: str, role: str) -> None:
    """After a change of role (store/staff.py, same transaction): the login's group role follows it."""
    if not is_postgresql(conn):
        return
    login = conn.execute(select(schema.Staff.__table__.c.login)
                         .where(schema.Staff.__table__.c.id == staff_id)).scalar()
    if login and _role_exists(conn, login):
        if not is_owner(conn):  # group membership is the owner's to give (store/policies.py)
            raise AccessDenied(f"{staff_id} connects with their own login ({login}), whose access follows their "
                               "role, and only the database owner changes a login's access: ask the owner to run "
                               f"`caseload staff set-role {staff_id} {role}`.")
        _set_membership(conn, login, role)


def connected_actor(engine: Engine, clock: Clock, staff_id: str | None, today: dt.date | None = None) -> Actor:
    """Who is acting. SQLite: --as STAFF_ID, else the administrator (as before). PostgreSQL: the login's staff
    record; the owner without --as is the administrator, and with --as is that person, audited every time;
    anyone else may not use --as."""
    with engine.connect() as conn:
        if not is_postgresql(conn):
            return actor_for(conn, staff_id, today)
        login = current_login(conn)
        owner = is_owner(conn)
        if not owner:
            if staff_id:
                raise AccessDenied(f"--as is only for the database owner; you are connected as {login}, and "
                                   "act as yourself. Leave out --as.")
            st = schema.Staff.__table__
            found = conn.execute(select(st.c.id).where(st.c.login == login)).scalar()
            if found is None:
                raise UnknownStaff(f"The PostgreSQL login {login} is not linked to anyone on the staff list. Ask "
                                   f"the database owner to run: caseload staff grant STAFF_ID --login {login}")
            return actor_for(conn, found, today)
        if not staff_id:
            return ADMIN
        actor = actor_for(conn, staff_id, today)
    from caseload.store.db import write

    with write(engine) as conn:
        record(conn, clock, ADMIN, "act_as", "staff", actor.id, None, None, f"owner acting as {actor.id}")
    return actor


__all__ = ["Role", "SQLITE_ONE_PERSON", "TEAM_FIGURES_FROM_CLAIMS", "connected_actor", "follow_role", "grant", "is_owner", "reads_only_own_claims", "require_team_claims", "revoke"]
