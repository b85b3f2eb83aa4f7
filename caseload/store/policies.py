"""What each PostgreSQL group role may do, as SQL generated from one definition.

Three group roles, one per staff role (GROUP_ROLES); each person's login is a member of one
(store/logins.py). The database owner (the role that ran `caseload db init`/`migrate`, owning the
tables) administers and bypasses nothing by accident: it owns the tables, so it alone may alter them.

`install(conn)` is idempotent: it creates the group roles if missing and grants them what they may do.
Nothing here runs on SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, inspect
from sqlmodel import SQLModel

from caseload.store.access import CLAIM_SCOPE, Role

# The group role of each staff role.
GROUP_ROLES: dict[Role, str] = {
    Role.ADVISER: "caseload_adviser",
    Role.TEAM_MANAGER: "caseload_team_manager",
    Role.TEAM_LEADER: "caseload_team_leader",
}

# The owner (who runs migrations, imports and the summaries' upkeep) writes everything. Each group role gets, table
# by table, SELECT only unless a rule below lets it write: a table added to the models is read-only to the logins
# until someone decides otherwise. The audit is append-only in the database itself.
APPEND_ONLY = ("audit",)
WRITE_ALL = "SELECT, INSERT, UPDATE, DELETE"
# Tables outside row-level security (shared reference data, the same for everyone in the database) that a group
# writes: team leaders keep the office's teams and shared settings (store/staff.py, store/settings.py).
SHARED_WRITES: dict[str, dict[Role, str]] = {
    "setting": {Role.TEAM_LEADER: WRITE_ALL},
    "team": {Role.TEAM_LEADER: "SELECT, INSERT"},
    "office": {Role.TEAM_LEADER: "SELECT, INSERT"},
}

# The acting login's attributes (SECURITY DEFINER helpers below), each in a scalar subquery: evaluated once per
# statement (an InitPlan), so the comparison is a plain parameter the planner can use an index for.
ME, MY_TEAM, MY_OFFICE = (f"(SELECT {f}(current_user::text))" for f in
                          ("caseload_my_id", "caseload_my_team", "caseload_my_office"))


@dataclass(frozen=True)
class Rule:
    """What a group role may do with a table's rows: read those meeting `read`; write (insert, update, delete)
    those meeting `write` (None: read only, and the role is granted SELECT alone)."""

    read: str
    write: str | None = None
    append: str | None = None  # the check on rows it adds to a table it may only add to (the audit)


def both(condition: str) -> Rule:
    return Rule(condition, condition)


SUMMARY_SCOPE: dict[str, dict[Role, Rule]] = {
    name: {Role.ADVISER: Rule(f"team_key = {MY_TEAM}"), Role.TEAM_MANAGER: Rule(f"team_key = {MY_TEAM}"),
           Role.TEAM_LEADER: Rule(f"office_key = {MY_OFFICE}")}
    for name in ("cohort_summary", "cohort_summary_team", "cohort_start")
}


def _held_in_scope(table: str, column: str, role: Role) -> str:
    """The row's `column` names a member of staff in the role's scope: store/conference/rules.py's `runs` (the
    adviser's team manager, their office's team leader), store/reassign.py's covers."""
    where = f"s.team_id = {MY_TEAM}" if role is Role.TEAM_MANAGER else f"s.office_id = {MY_OFFICE}"
    return f'EXISTS (SELECT 1 FROM staff s WHERE s.id = "{table}".{column} AND {where})'


def _numeric_id(column: str) -> str:
    """An audit row's entity_id as the integer id it names (text in the audit), so the lookup uses the key."""
    return f"CASE WHEN {column} ~ '^[0-9]+$' THEN {column}::bigint END"


def _audit_rules() -> dict[Role, Rule]:
    """store/audit.py's read_audit as policies: a team leader reads all of it; a team manager what their team's
    staff did, what was done to them, and everything about the claims they see (about_claims); an adviser what
    they did, and everything about the claims they see (a stale edit names who changed the record). Every login
    adds rows in its own name only (the trigger below stamps it)."""
    about = ['(entity = \'claim\' AND EXISTS (SELECT 1 FROM claim k WHERE k.id = "audit".entity_id))',
             '(entity = \'customer\' AND EXISTS (SELECT 1 FROM claim k WHERE k.customer_id = "audit".entity_id))']
    key = _numeric_id('"audit".entity_id')
    about += [f"(entity = '{t}' AND EXISTS (SELECT 1 FROM {t} x WHERE x.id = {key}))"
              for t in ("note", "contact", "action", "conference_item")]
    team = f"s.team_id = {MY_TEAM}"
    mine = f"actor = {ME}"
    return {
        Role.ADVISER: Rule(f"({mine} OR {' OR '.join(about)})", append=mine),
        Role.TEAM_MANAGER: Rule(
            f'(EXISTS (SELECT 1 FROM staff s WHERE s.id = "audit".actor AND {team}) OR (entity = \'staff\' AND '
            f'EXISTS (SELECT 1 FROM staff s WHERE s.id = "audit".entity_id AND {team})) OR {" OR ".join(about)})',
            append=mine),
        Role.TEAM_LEADER: Rule("true", append=mine),
    }


def _staff_rules() -> dict[str, dict[Role, Rule]]:
    """Conferences, their action reviews, cover, context notes and the staff list: store/conference/rules.py,
    store/reassign.py, store/notes.py and store/staff.py, as policies."""
    managers = (Role.TEAM_MANAGER, Role.TEAM_LEADER)
    item = 'EXISTS (SELECT 1 FROM conference_item i WHERE i.id = "conference_action_review".conference_item_id)'
    out: dict[str, dict[Role, Rule]] = {
        # An adviser reads their own conferences; their team manager and office's team leader run them.
        "conference": {Role.ADVISER: Rule(f"adviser_id = {ME}"),
                       **{r: both(_held_in_scope("conference", "adviser_id", r)) for r in managers}},
        "conference_action_review": {Role.ADVISER: Rule(item), **{r: both(item) for r in managers}},
        # Covers of the caseloads in scope, and those the login gives; arranged by managers only.
        "cover": {Role.ADVISER: Rule(f"(adviser_id = {ME} OR cover_id = {ME})"),
                  **{r: Rule(f"({_held_in_scope('cover', 'adviser_id', r)} OR cover_id = {ME})",
                             _held_in_scope("cover", "adviser_id", r)) for r in managers}},
        # Read by the office's staff, written by its team managers and team leaders.
        "context_note": {Role.ADVISER: Rule(f"office_id = {MY_OFFICE}"),
                         **{r: both(f"office_id = {MY_OFFICE}") for r in managers}},
        "audit": _audit_rules(),
        # Everyone reads their office's staff (names on ratings, actions and conferences; a colleague to cover);
        # team leaders add, move and re-role them. Logins themselves are the owner's (store/logins.py).
        "staff": {Role.ADVISER: Rule(f"(office_id = {MY_OFFICE} OR id = {ME})"),
                  Role.TEAM_MANAGER: Rule(f"(office_id = {MY_OFFICE} OR id = {ME})"),
                  Role.TEAM_LEADER: Rule(f"(office_id = {MY_OFFICE} OR id = {ME})", f"office_id = {MY_OFFICE}")},
    }
    return out


def group_role(role: Role | str) -> str:
    return GROUP_ROLES[Role(role)]


def statements(tables: set[str] | None = None) -> list[str]:
    """The SQL that gives the group roles their privileges, in order (idempotent): on `tables` (default: every
    table of the models)."""
    groups = ", ".join(GROUP_ROLES.values())
    out = [f"""DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') THEN CREATE ROLE {name} NOLOGIN; END IF;
END $$""" for name in GROUP_ROLES.values()]
    out.append(f"GRANT USAGE ON SCHEMA {_schema()} TO {groups}")
    rules = rls_tables()
    for table in sorted(SQLModel.metadata.tables):
        if tables is not None and table not in tables:
            continue
        out.append(f'REVOKE ALL ON "{table}" FROM {groups}')
        for role, group in GROUP_ROLES.items():
            out.append(f'GRANT {privileges(table, role, rules)} ON "{table}" TO {group}')
    out.append(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {_schema()} TO {groups}")
    return out


def privileges(table: str, role: Role, rules: dict[str, dict[Role, Rule]] | None = None) -> str:
    """What `role`'s group is granted on `table`: its row rules decide, else SHARED_WRITES, else SELECT."""
    if table in APPEND_ONLY:
        return "SELECT, INSERT"
    rule = (rls_tables() if rules is None else rules).get(table, {}).get(role)
    if rule is not None:
        return WRITE_ALL if rule.write is not None else "SELECT"
    return SHARED_WRITES.get(table, {}).get(role, "SELECT")


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


# An adviser's home screen shows their team's open caseload and how many are near a milestone, counted over
# claims their login may not read: this owner's function gives the two numbers for the connected login's team
# (session_user: inside the function current_user is the owner), and nothing else (store/info.py).
TEAM_OPEN = ("caseload_team_open", "as_at_day integer, window_days integer, weeks integer[]",
             "TABLE (caseload bigint, approaching bigint)",
             "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM unnest(weeks) w "
             "WHERE c.start_day + 7 * w - as_at_day BETWEEN 0 AND window_days)) "
             "FROM claim c JOIN staff s ON s.id = c.adviser_id "
             "WHERE s.team_id = (SELECT team_id FROM staff WHERE login = session_user::text) "
             "AND c.end_day IS NULL AND c.start_day <= as_at_day")


def claim_predicate(role: Role) -> str:
    """The SQL a claim row must satisfy for `role`'s group: CLAIM_SCOPE, plus the caseloads covered today."""
    column, attribute = CLAIM_SCOPE[role]
    # Each helper in a scalar subquery (ME, MY_TEAM, MY_OFFICE), not a function called on every row.
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


def rls_tables() -> dict[str, dict[Role, Rule]]:
    """Each table under row-level security and, per group role, the rule for its rows."""
    # claim's own policy applies inside the subqueries. Correlated EXISTS, not IN (SELECT ...): IN was planned
    # as one hashed subplan over every visible claim, a scan of the whole claim table per statement (the OR
    # in claim's policy rules out its indexes) -- 10 ms at 100,000 claims on a page of 50 rows; EXISTS probes
    # claim's primary key (or its customer index) for just the rows the statement reaches.
    out: dict[str, dict[Role, Rule]] = {"claim": {r: both(claim_predicate(r)) for r in GROUP_ROLES}}
    out["customer"] = {r: both('EXISTS (SELECT 1 FROM claim k WHERE k.customer_id = "customer".id)')
                       for r in GROUP_ROLES}
    for name in claim_keyed_tables():
        seen = f'EXISTS (SELECT 1 FROM claim k WHERE k.id = "{name}".claim_id)'
        out[name] = {r: both(seen) for r in GROUP_ROLES}
    # A conference's items are written by whoever runs it, never by the adviser (store/conference/rules.py).
    out["conference_item"][Role.ADVISER] = Rule(out["conference_item"][Role.ADVISER].read)
    out.update(SUMMARY_SCOPE)
    out.update(_staff_rules())
    return out


def policy_names(rules: dict[Role, Rule]) -> list[str]:
    """The policies a table under row-level security carries (the owner's, then one or two per group role)."""
    out = ["caseload_owner"]
    for role, rule in rules.items():
        out.append(GROUP_ROLES[role])
        if rule.append is not None or rule.write is not None and rule.write != rule.read:
            out.append(f"{GROUP_ROLES[role]}_write")
    return out


def rls_statements(tables: set[str] | None = None) -> list[str]:
    out = []
    for name, body, sql in (*HELPERS.values(), COVERED):
        out.append(f"CREATE OR REPLACE FUNCTION {name}(login text) RETURNS {body} LANGUAGE sql STABLE "
                   f"SECURITY DEFINER SET search_path = CURRENT_SCHEMA AS $f$ {sql} $f$")
        out.append(f"REVOKE ALL ON FUNCTION {name}(text) FROM PUBLIC")
        out.append(f"GRANT EXECUTE ON FUNCTION {name}(text) TO {', '.join(GROUP_ROLES.values())}")
    name, args, returns, sql = TEAM_OPEN
    out.append(f"CREATE OR REPLACE FUNCTION {name}({args}) RETURNS {returns} LANGUAGE sql STABLE "
               f"SECURITY DEFINER SET search_path = CURRENT_SCHEMA AS $f$ {sql} $f$")
    out.append(f"REVOKE ALL ON FUNCTION {name}(integer, integer, integer[]) FROM PUBLIC")
    out.append(f"GRANT EXECUTE ON FUNCTION {name}(integer, integer, integer[]) TO {GROUP_ROLES[Role.ADVISER]}")
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
    # Whether a row is stamped at all (not for the owner's rows): the trigger's WHEN, so that an import's thousands of
    # audit rows, the owner's, never call the function above (a tenth of a millisecond a row), only this test.
    out.append("CREATE OR REPLACE FUNCTION caseload_audit_stamped() RETURNS boolean LANGUAGE sql STABLE "
               "SET search_path = CURRENT_SCHEMA AS $f$ SELECT NOT pg_has_role(current_user, "
               "(SELECT c.relowner FROM pg_class c WHERE c.oid = 'audit'::regclass), 'MEMBER') $f$")
    out.append("REVOKE ALL ON FUNCTION caseload_audit_stamped() FROM PUBLIC")
    out.append(f"GRANT EXECUTE ON FUNCTION caseload_audit_stamped() TO {', '.join(GROUP_ROLES.values())}")
    out.append("DROP TRIGGER IF EXISTS caseload_stamp_audit ON audit")
    out.append("CREATE TRIGGER caseload_stamp_audit BEFORE INSERT ON audit FOR EACH ROW "
               "WHEN (caseload_audit_stamped()) EXECUTE FUNCTION caseload_stamp_audit()")
    for table, per_role in rls_tables().items():
        if tables is not None and table not in tables:
            continue
        out.append(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        out.append(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        # The owner (who runs migrations and imports) sees and writes every row.
        out.append(f'DROP POLICY IF EXISTS caseload_owner ON "{table}"')
        out.append(f'CREATE POLICY caseload_owner ON "{table}" TO CURRENT_USER USING (true) WITH CHECK (true)')
        for role, rule in per_role.items():
            group = GROUP_ROLES[role]
            for name in (group, f"{group}_write"):
                out.append(f'DROP POLICY IF EXISTS {name} ON "{table}"')
            if rule.write == rule.read:
                out.append(f'CREATE POLICY {group} ON "{table}" TO {group} USING ({rule.read}) WITH CHECK ({rule.read})')
                continue
            # Reads wider than writes (or none): a SELECT policy, and one for every command over the writable rows
            # (PostgreSQL ORs the permissive policies of a command: a row is read if either allows it).
            out.append(f'CREATE POLICY {group} ON "{table}" FOR SELECT TO {group} USING ({rule.read})')
            if rule.append is not None:
                out.append(f'CREATE POLICY {group}_write ON "{table}" FOR INSERT TO {group} WITH CHECK ({rule.append})')
            if rule.write is not None:
                out.append(f'CREATE POLICY {group}_write ON "{table}" TO {group} USING ({rule.write}) '
                           f'WITH CHECK ({rule.write})')
    return out


def _schema() -> str:
    return "CURRENT_SCHEMA"


def install_statements(schema_name: str, tables: set[str] | None = None) -> list[str]:
    """install's SQL for the schema `schema_name`, on `tables` (default: every table of the models)."""
    return [sql.replace("CURRENT_SCHEMA", f'"{schema_name}"') for sql in statements(tables) + rls_statements(tables)]


def install(conn: Connection) -> None:
    """Create the group roles if missing and grant them what they may do (PostgreSQL, as the owner), on the tables
    the database has: a migration to an older version than the models' grants what that version has."""
    schema_name = conn.exec_driver_sql("SELECT current_schema()").scalar()
    present = set(inspect(conn).get_table_names())
    for sql in install_statements(schema_name, present):
        conn.exec_driver_sql(sql)
