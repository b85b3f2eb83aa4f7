"""What each PostgreSQL group role may do, as SQL generated from one definition.

Three group roles, one per staff role (GROUP_ROLES); each person's login is a member of one
(store/logins.py). The database owner (the role that ran `caseload db init`/`migrate`, owning the
tables) administers and bypasses nothing by accident: it owns the tables, so it alone may alter them.

`install(conn)` is idempotent: it creates the group roles if missing and grants them what they may do.
Nothing here runs on SQLite.
"""

from __future__ import annotations

from sqlalchemy import Connection
from sqlmodel import SQLModel

from caseload.store.access import Role

# The group role of each staff role.
GROUP_ROLES: dict[Role, str] = {
    Role.ADVISER: "caseload_adviser",
    Role.TEAM_MANAGER: "caseload_team_manager",
    Role.TEAM_LEADER: "caseload_team_leader",
}

# Tables the group roles may read and add to, never change: the audit is append-only in the database itself.
APPEND_ONLY = ("audit",)
# Tables only the owner writes (migrations).
READ_ONLY = ("schema_info",)


def group_role(role: Role | str) -> str:
    return GROUP_ROLES[Role(role)]


def statements() -> list[str]:
    """The SQL that gives the group roles their privileges, in order (idempotent)."""
    groups = ", ".join(GROUP_ROLES.values())
    out = [f"""DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') THEN CREATE ROLE {name} NOLOGIN; END IF;
END $$""" for name in GROUP_ROLES.values()]
    out.append(f"GRANT USAGE ON SCHEMA {_schema()} TO {groups}")
    for table in sorted(SQLModel.metadata.tables):
        if table in APPEND_ONLY:
            privileges = "SELECT, INSERT"
        elif table in READ_ONLY:
            privileges = "SELECT"
        else:
            privileges = "SELECT, INSERT, UPDATE, DELETE"
        out.append(f'REVOKE ALL ON "{table}" FROM {groups}')
        out.append(f'GRANT {privileges} ON "{table}" TO {groups}')
    out.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {_schema()} TO {groups}")
    return out


def _schema() -> str:
    return "CURRENT_SCHEMA"


def install(conn: Connection) -> None:
    """Create the group roles if missing and grant them what they may do (PostgreSQL, as the owner)."""
    schema_name = conn.exec_driver_sql("SELECT current_schema()").scalar()
    for sql in statements():
        conn.exec_driver_sql(sql.replace("CURRENT_SCHEMA", f'"{schema_name}"'))
