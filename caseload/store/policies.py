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

from caseload.store.access import CLAIM_SCOPE, Role

# The group role of each staff role.
GROUP_ROLES: dict[Role, str] = {
    Role.ADVISER: "caseload_adviser",
    Role.TEAM_MANAGER: "caseload_team_manager",
    Role.TEAM_LEADER: "caseload_team_leader",
}

# Tables the group roles may read and add to, never change: the audit is append-only in the database itself.
APPEND_ONLY = ("audit",)
# Tables only the owner writes (migrations); the summaries are kept by the owner's upkeep function
# (store/summary.py) and imports, which the owner runs.
SUMMARY_SCOPE: dict[str, dict[Role, str]] = {
    name: {Role.ADVISER: "team_key = (SELECT caseload_my_team(current_user::text))",
           Role.TEAM_MANAGER: "team_key = (SELECT caseload_my_team(current_user::text))",
           Role.TEAM_LEADER: "office_key = (SELECT caseload_my_office(current_user::text))"}
    for name in ("cohort_summary", "cohort_summary_team", "cohort_start")
}
READ_ONLY = ("schema_info", *SUMMARY_SCOPE)


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


# The actor attributes CLAIM_SCOPE compares with, as functions of a login: SECURITY DEFINER, so they read the
# staff table whatever the caller may see, and take the caller's current_user (inside them it is the owner's).
HELPERS: dict[str, tuple[str, str, str]] = {
    "id": ("caseload_my_id", "text", "SELECT id FROM staff WHERE login = $1"),
    "team_id": ("caseload_my_team", "integer", "SELECT team_id FROM staff WHERE login = $1"),
    "office_id": ("caseload_my_office", "integer", "SELECT office_id FROM staff WHERE login = $1"),
}
# The caseloads a login covers today (the database's date: store/access.py's Actor.covered).
COVERED = ("caseload_covered", "SETOF text",
           "SELECT adviser_id FROM cover WHERE cover_id = (SELECT id FROM staff WHERE login = $1) "
           "AND ended_at IS NULL AND from_date <= current_date AND to_date >= current_date")


def claim_predicate(role: Role) -> str:
    """The SQL a claim row must satisfy for `role`'s group: CLAIM_SCOPE, plus the caseloads covered today."""
    column, attribute = CLAIM_SCOPE[role]
    # Each helper in a scalar subquery: evaluated once per statement (an InitPlan), so the comparison is a plain
    # parameter the planner can use an index for, not a function called on every row.
    return (f"({column} = (SELECT {HELPERS[attribute][0]}(current_user::text)) "
            f"OR adviser_id IN (SELECT {COVERED[0]}(current_user::text)))")


def claim_keyed_tables() -> list[str]:
    """Every table whose rows belong to one claim (a claim_id referring to claim): seen with their claim."""
    out = []
    for name, table in SQLModel.metadata.tables.items():
        col = table.c.get("claim_id")
        if col is not None and any(fk.column.table.name == "claim" for fk in col.foreign_keys):
            out.append(name)
    return sorted(out)


def rls_tables() -> dict[str, dict[Role, str]]:
    """Each table under row-level security and, per group role, the condition on its rows (reads and writes)."""
    # claim's own policy applies inside the subqueries. Correlated EXISTS, not IN (SELECT ...): IN was planned
    # as one hashed subplan over every visible claim, a scan of the whole claim table per statement (the OR
    # in claim's policy rules out its indexes) -- 10 ms at 100,000 claims on a page of 50 rows; EXISTS probes
    # claim's primary key (or its customer index) for just the rows the statement reaches.
    out: dict[str, dict[Role, str]] = {"claim": {r: claim_predicate(r) for r in GROUP_ROLES}}
    out["customer"] = {r: 'EXISTS (SELECT 1 FROM claim k WHERE k.customer_id = "customer".id)' for r in GROUP_ROLES}
    for name in claim_keyed_tables():
        out[name] = {r: f'EXISTS (SELECT 1 FROM claim k WHERE k.id = "{name}".claim_id)' for r in GROUP_ROLES}
    out.update(SUMMARY_SCOPE)
    return out


def rls_statements() -> list[str]:
    out = []
    for name, body, sql in (*HELPERS.values(), COVERED):
        out.append(f"CREATE OR REPLACE FUNCTION {name}(login text) RETURNS {body} LANGUAGE sql STABLE "
                   f"SECURITY DEFINER SET search_path = CURRENT_SCHEMA AS $f$ {sql} $f$")
        out.append(f"REVOKE ALL ON FUNCTION {name}(text) FROM PUBLIC")
        out.append(f"GRANT EXECUTE ON FUNCTION {name}(text) TO {', '.join(GROUP_ROLES.values())}")
    # Summary upkeep runs as the owner (store/summary.py's upkeep_function_sql); callable by the group roles.
    from caseload.store.summary import UPKEEP_FUNCTION, upkeep_function_sql
    out.append(upkeep_function_sql())
    out.append(f"REVOKE ALL ON FUNCTION {UPKEEP_FUNCTION}(text[]) FROM PUBLIC")
    out.append(f"GRANT EXECUTE ON FUNCTION {UPKEEP_FUNCTION}(text[]) TO {', '.join(GROUP_ROLES.values())}")
    # The audit's actor is stamped by the database: a person's login writes as their own staff id, whatever the
    # client passed in (the owner's rows keep theirs: "admin", or whoever it acts as, audited as such).
    out.append("""CREATE OR REPLACE FUNCTION caseload_stamp_audit() RETURNS trigger LANGUAGE plpgsql
SET search_path = CURRENT_SCHEMA AS $f$
DECLARE me text := caseload_my_id(current_user::text);
BEGIN
  IF me IS NOT NULL AND NOT pg_has_role(current_user,
      (SELECT tableowner FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'audit'), 'MEMBER') THEN
    NEW.actor := me;
  END IF;
  RETURN NEW;
END $f$""")
    out.append("DROP TRIGGER IF EXISTS caseload_stamp_audit ON audit")
    out.append("CREATE TRIGGER caseload_stamp_audit BEFORE INSERT ON audit FOR EACH ROW "
               "EXECUTE FUNCTION caseload_stamp_audit()")
    for table, per_role in rls_tables().items():
        out.append(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        out.append(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        # The owner (who runs migrations and imports) sees and writes every row.
        out.append(f'DROP POLICY IF EXISTS caseload_owner ON "{table}"')
        out.append(f'CREATE POLICY caseload_owner ON "{table}" TO CURRENT_USER USING (true) WITH CHECK (true)')
        for role, condition in per_role.items():
            group = GROUP_ROLES[role]
            out.append(f'DROP POLICY IF EXISTS {group} ON "{table}"')
            out.append(f'CREATE POLICY {group} ON "{table}" TO {group} USING ({condition}) WITH CHECK ({condition})')
    return out


def _schema() -> str:
    return "CURRENT_SCHEMA"


def install(conn: Connection) -> None:
    """Create the group roles if missing and grant them what they may do (PostgreSQL, as the owner)."""
    schema_name = conn.exec_driver_sql("SELECT current_schema()").scalar()
    for sql in statements() + rls_statements():
        conn.exec_driver_sql(sql.replace("CURRENT_SCHEMA", f'"{schema_name}"'))
