"""Row-level security on PostgreSQL (issue 13): a raw psycopg session as each role's login sees and writes exactly
the app's scope (store/access.py) on a seeded demo office, table by table; a moved team manager loses the old
team's rows at once; nobody but the owner alters the audit."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest
from sqlalchemy import func, or_, select, text
from sqlmodel import SQLModel
from sqlalchemy.engine import make_url

from caseload.clock import FixedClock
from caseload.demo import build_demo, demo_dates
from caseload.store import schema
from caseload.store.audit import about_claims, read_audit
from caseload.store.access import ADMIN, Role, actor_for
from caseload.store.db import open_database, write
from caseload.store.logins import grant
from caseload.store.conference.rules import adviser_row, require_read, runs
from caseload.store.errors import AccessDenied
from caseload.store.notes import list_notes, set_note
from caseload.store.policies import SUMMARY_SCOPE, privileges, rls_tables
from caseload.store.reassign import add_cover, list_covers
from caseload.store.staff import list_staff, move
from test_logins import login_name

ROWS = 400


class Rollback(Exception):
    """Raised inside a psycopg transaction block to roll it back."""


def raw(url: str, login: str) -> psycopg.Connection:
    """A plain psycopg session as `login` (the test cluster trusts its socket): no caseload code in the way."""
    u = make_url(url)
    return psycopg.connect(host=u.query["host"], dbname=u.database, user=login, autocommit=True)


def app_counts(conn, actor, writes: bool = False) -> dict[str, int]:  # noqa: ANN001
    """What the app lets `actor` see of each table under row-level security (with `writes`: change), by the
    app's own rules: the claim filter, the conference, cover and note rules, the summaries at the role's level.
    With `writes`, a table the role only reads is left out."""
    c = schema.Claim.__table__
    visible = select(c.c.id).where(actor.claim_filter(c))
    out = {}
    for name in rls_tables():
        t = schema.SQLModel.metadata.tables[name]
        if writes and not actor.is_admin and rls_tables()[name][actor.role].write is None:
            continue
        if name in SUMMARY_SCOPE:  # the aggregates at the role's level (store/offflow.py's _scope)
            q = select(func.count()).select_from(t)
            if actor.role is Role.TEAM_LEADER:
                q = q.where(t.c.office_key == actor.office_id)
            elif actor.role is not Role.ADMIN:
                q = q.where(t.c.team_key == actor.team_id)
        elif name == "claim":
            q = select(func.count()).select_from(c).where(actor.claim_filter(c))
        elif name == "customer":
            q = select(func.count()).select_from(t).where(
                t.c.id.in_(select(c.c.customer_id).where(actor.claim_filter(c))))
        elif name == "conference":  # store/conference/rules.py: who reads, who runs
            rule = runs if writes else may_read
            ids = [r.adviser_id for r in conn.execute(select(t.c.adviser_id))]
            out[name] = sum(rule(actor, adviser_row(conn, a)) for a in ids)
            continue
        elif name == "conference_action_review":
            ci = schema.ConferenceItem.__table__
            q = select(func.count()).select_from(t).where(
                t.c.conference_item_id.in_(select(ci.c.id).where(ci.c.claim_id.in_(visible))))
        elif name == "cover":  # store/reassign.py: the covers listed; changed for the caseloads in scope
            covers = list_covers(conn, actor, dt.date(1900, 1, 1), include_past=True)
            held = None if actor.is_admin or not writes else {s.id for s in list_staff(conn, actor)}
            out[name] = sum(held is None or v.adviser_id in held for v in covers)
            continue
        elif name == "audit":  # store/audit.py's read_audit; an adviser also reads what concerns their claims
            if actor.role is Role.ADVISER:
                q = select(func.count()).select_from(t).where(or_(t.c.actor == actor.id, about_claims(visible)))
            else:
                out[name] = len(read_audit(conn, actor, limit=0))
                continue
        elif name == "context_note":  # store/notes.py: the office's notes
            out[name] = len(list_notes(conn, actor))
            continue
        elif name == "staff":  # everyone reads their office's staff (and themself); team leaders write them
            q = select(func.count()).select_from(t)
            if not actor.is_admin:
                q = q.where(t.c.office_id == actor.office_id) if writes else \
                    q.where(or_(t.c.office_id == actor.office_id, t.c.id == actor.id))
        else:
            q = select(func.count()).select_from(t).where(t.c.claim_id.in_(visible))
        out[name] = conn.execute(q).scalar_one()
    return out


def may_read(actor, adviser) -> bool:  # noqa: ANN001
    try:
        require_read(actor, adviser)
    except AccessDenied:
        return False
    return True


# A column each table's no-op UPDATE sets to itself.
NOOP = {"claim": "version", "customer": "version", "conference": "position", "conference_action_review": "outcome",
        "cover": "reason", "context_note": "version", "staff": "version"}


def db_counts(session: psycopg.Connection) -> dict[str, int]:
    return {name: session.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in rls_tables()}


@pytest.fixture(scope="module")
def demo(pg_server):  # noqa: ANN201
    """One demo office on a fresh database, with a login per role (module-wide: building it takes seconds)."""
    clock = FixedClock.on(demo_dates(1)[1])
    name = pg_server.fresh(clock)
    url = pg_server.url_of(name)
    engine = open_database(url, clock)
    build_demo(engine, seed=1, rows=ROWS)
    logins = {}
    with write(engine) as conn:
        for role in (Role.ADVISER, Role.TEAM_MANAGER, Role.TEAM_LEADER):
            staff_id = conn.execute(text("SELECT id FROM staff WHERE role = :r ORDER BY id LIMIT 1"),
                                    {"r": role.value}).scalar_one()
            logins[role] = (staff_id, login_name())
            grant(conn, clock, ADMIN, staff_id, logins[role][1])
        # Covers and a context note, which the demo does not make: the adviser login covers a colleague (seen
        # by cover_id), and an adviser of the team manager's team is covered by another (seen through the team).
        today = conn.execute(text("SELECT current_date")).scalar_one()
        adviser, manager = logins[Role.ADVISER][0], logins[Role.TEAM_MANAGER][0]
        office, team = conn.execute(text("SELECT s.office_id, m.team_id FROM staff s, staff m WHERE s.id = :a "
                                         "AND m.id = :m"), {"a": adviser, "m": manager}).one()
        others = conn.execute(text("SELECT id, team_id FROM staff WHERE role = 'adviser' AND office_id = :o AND "
                                   "id <> :a ORDER BY id"), {"o": office, "a": adviser}).all()
        held = next(o.id for o in others if o.team_id == team)
        add_cover(conn, clock, ADMIN, next(o.id for o in others if o.id != held), adviser, today, today + dt.timedelta(30))
        add_cover(conn, clock, ADMIN, held, next(o.id for o in others if o.id != held), today, today + dt.timedelta(9))
        set_note(conn, clock, ADMIN, office, "calendar-month", "2026-04", "A large employer closed.", None)
    yield url, engine, clock, logins
    engine.dispose()
    pg_server.drop(name)


@pytest.mark.parametrize("role", [Role.ADVISER, Role.TEAM_MANAGER, Role.TEAM_LEADER])
def test_a_login_reads_exactly_the_apps_scope_in_every_table(demo, role):
    url, engine, _clock, logins = demo
    staff_id, login = logins[role]
    with engine.connect() as conn:
        today = conn.execute(text("SELECT current_date")).scalar_one()  # the database's day decides covers
        actor = actor_for(conn, staff_id, today)
        expected = app_counts(conn, actor)
        everything = app_counts(conn, ADMIN)
        may_write = app_counts(conn, actor, writes=True)
    with raw(url, login) as session:
        got = db_counts(session)
        # What it may update: a no-op UPDATE of every row of each table it may write, rolled back.
        updated = {}
        with pytest.raises(Rollback), session.transaction():
            for name in set(rls_tables()) - set(SUMMARY_SCOPE):
                if rls_tables()[name][role].write is not None:
                    column = NOOP.get(name, "claim_id")
                    updated[name] = session.execute(f'UPDATE "{name}" SET {column} = {column}').rowcount
            raise Rollback
        # And delete, each table on its own and rolled back: a delete a foreign key stops (rows still referred to,
        # as a claim is by its notes) changes nothing and is left out; every table nothing refers to is counted.
        deleted = {}
        for name in updated:
            try:
                with pytest.raises(Rollback), session.transaction():
                    deleted[name] = session.execute(f'DELETE FROM "{name}"').rowcount
                    raise Rollback
            except psycopg.errors.ForeignKeyViolation:
                pass
    assert got == expected
    assert updated == {n: v for n, v in may_write.items() if n not in SUMMARY_SCOPE}
    assert deleted == {n: v for n, v in updated.items() if n in deleted}
    assert {"note", "contact", "destination", "claim_state"} <= set(deleted), deleted
    # What it only reads, it may not change at all: the summaries (kept by the owner's upkeep function and
    # imports), and for an adviser the conference records, cover and notes; shared tables but for team leaders.
    for name in SQLModel.metadata.tables:
        if privileges(name, role) == "SELECT":
            column = NOOP.get(name) or next(iter(SQLModel.metadata.tables[name].c)).name
            with raw(url, login) as session, pytest.raises(psycopg.errors.InsufficientPrivilege):
                session.execute(f'UPDATE "{name}" SET {column} = {column}')
    # The demo office gives every table rows to see (a rule that hid everything would pass the counts).
    assert all(got[n] > 0 for n in ("claim", "cover", "context_note", "staff")), got
    assert role is Role.ADVISER or got["conference"] > 0, got
    assert 0 < got["claim"] < everything["claim"] or role is Role.TEAM_LEADER


def test_a_login_cannot_write_outside_its_scope(demo):
    url, engine, _clock, logins = demo
    staff_id, login = logins[Role.ADVISER]
    with engine.connect() as conn:
        theirs = conn.execute(text("SELECT id FROM claim WHERE adviser_id = :a LIMIT 1"), {"a": staff_id}).scalar_one()
        other = conn.execute(text("SELECT c.id FROM claim c WHERE c.adviser_id <> :a AND NOT EXISTS (SELECT 1 FROM "
                                  "cover v WHERE v.cover_id = :a AND v.adviser_id = c.adviser_id) LIMIT 1"),
                             {"a": staff_id}).scalar_one()
    with raw(url, login) as session:
        assert session.execute("UPDATE claim SET version = version WHERE id = %s", (other,)).rowcount == 0
        assert session.execute("DELETE FROM note WHERE claim_id = %s", (other,)).rowcount == 0
        assert session.execute("UPDATE claim SET version = version WHERE id = %s", (theirs,)).rowcount == 1
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            session.execute(
                "INSERT INTO note (claim_id, body, author, written_at, status, version) "
                "VALUES (%s, 'x', %s, now(), 'active', 1)", (other, staff_id))


@pytest.mark.parametrize("role", [Role.ADVISER, Role.TEAM_MANAGER, Role.TEAM_LEADER])
def test_the_audit_is_append_only_for_every_login(demo, role):
    url, _engine, _clock, logins = demo
    staff_id, login = logins[role]
    with raw(url, login) as session:
        session.execute("INSERT INTO audit (at, actor, action, entity, entity_id) VALUES (now(), %s, 'test', 'x', '1')",
                        (staff_id,))
        # The database stamps the actor: a login cannot write in someone else's name.
        session.execute("INSERT INTO audit (at, actor, action, entity, entity_id) VALUES (now(), 'admin', 'forged', "
                        "'x', %s) RETURNING actor", (login,))
        assert session.execute("SELECT actor FROM audit WHERE action = 'forged' AND entity_id = %s",
                               (login,)).fetchone()[0] == staff_id
        for sql in ("UPDATE audit SET actor = 'someone'", "DELETE FROM audit"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                session.execute(sql)


def test_a_moved_team_manager_loses_the_old_teams_rows_at_once(demo):
    url, engine, clock, logins = demo
    staff_id, login = logins[Role.TEAM_MANAGER]
    with engine.connect() as conn:
        old_team, name = conn.execute(text("SELECT s.team_id, t.name FROM staff s JOIN team t ON t.id = s.team_id "
                                           "WHERE s.id = :s"), {"s": staff_id}).one()
        other = conn.execute(text("SELECT name FROM team WHERE id <> :t ORDER BY id LIMIT 1"), {"t": old_team}).scalar_one()
    with raw(url, login) as session:
        before = session.execute("SELECT count(*) FROM claim WHERE team_id = %s", (old_team,)).fetchone()[0]
        assert before > 0
        with write(engine) as conn:
            move(conn, clock, ADMIN, staff_id, other)
        try:
            assert session.execute("SELECT count(*) FROM claim WHERE team_id = %s", (old_team,)).fetchone()[0] == 0
        finally:
            with write(engine) as conn:
                move(conn, clock, ADMIN, staff_id, name)


@pytest.mark.parametrize("role", [Role.ADVISER, Role.TEAM_MANAGER, Role.TEAM_LEADER])
def test_the_command_line_works_as_each_login(demo, role, tmp_path, capsys):
    from caseload.cli import main
    from test_logins import as_login

    url, _engine, clock, logins = demo
    staff_id, login = logins[role]
    db = as_login(url, login)
    assert main(["staff", "list", "--db", db], clock=clock) == 0
    assert staff_id in capsys.readouterr().out
    assert main(["export", "offflow", "--by", "team", "--db", db, "--output", str(tmp_path / "o.csv")], clock=clock) == 0
    assert main(["audit", "--db", db], clock=clock) == 0


def test_only_the_owner_copies_or_backs_up_a_shared_database(demo, tmp_path, capsys):
    from caseload.cli import main
    from test_logins import as_login

    url, _engine, clock, logins = demo
    db = as_login(url, logins[Role.TEAM_LEADER][1])
    assert main(["db", "copy", "--db", db, "--to", str(tmp_path / "copy.sqlite3")], clock=clock) == 1
    assert "Only the database owner may copy or back up" in capsys.readouterr().err
    assert not (tmp_path / "copy.sqlite3").exists()


def test_every_claim_level_table_is_forced_under_the_generated_policies(demo):
    """The tables under row-level security are derived from the models (any table keyed by a claim joins them),
    and the database holds exactly the policies store/policies.py generates, forced for the owner too."""
    from caseload.store.policies import GROUP_ROLES, claim_keyed_tables, policy_names

    url, engine, _clock, _logins = demo
    keyed = {n for n, t in schema.SQLModel.metadata.tables.items() if "claim_id" in t.c}
    shared = {"schema_info", "office", "team", "import_batch", "setting", "cohort_segment", "summary_info"}
    assert keyed <= set(claim_keyed_tables()) and set(rls_tables()) == set(SQLModel.metadata.tables) - shared
    with engine.connect() as conn:
        forced = dict(conn.execute(text("SELECT relname, relrowsecurity AND relforcerowsecurity FROM pg_class "
                                        "WHERE relnamespace = current_schema()::regnamespace AND relkind = 'r'")).all())
        policies = {(t, p) for t, p in conn.execute(text("SELECT tablename, policyname FROM pg_policies "
                                                         "WHERE schemaname = current_schema()"))}
        grants = {(t, g, p) for t, g, p in conn.execute(text(
            "SELECT table_name, grantee, privilege_type FROM information_schema.role_table_grants "
            "WHERE table_schema = current_schema() AND grantee LIKE 'caseload\\_%'"))}
    assert {t for t, on in forced.items() if on} == set(rls_tables())
    assert policies == {(t, p) for t, rules in rls_tables().items() for p in policy_names(rules)}
    # Each group holds exactly the privileges its rules give (a table it only reads: SELECT alone).
    assert grants == {(t, GROUP_ROLES[r], p) for t in SQLModel.metadata.tables for r in GROUP_ROLES
                      for p in privileges(t, r).split(", ")}


def test_an_adviser_login_keeps_another_teams_summary_row_right(demo):
    """Recording a destination counts the claim's block again in its on-flow team's summary rows, which the
    adviser's login may not see: the upkeep runs as the owner (store/summary.py), so the totals stay equal to a
    full recount; and each login's SELECT of the summaries, and the team roll-up as that login, are its scope's."""
    from caseload.store.offflow import OffflowQuery, offflow
    from caseload.store.records import record_destination
    from caseload.measures.destinations import END_REASONS
    from caseload.store.summary import rebuild_summaries
    from test_logins import as_login
    from test_summary import assert_summaries_equal_a_recount

    url, engine, clock, logins = demo
    staff_id, login = logins[Role.ADVISER]
    with write(engine) as conn:
        team, office = conn.execute(text("SELECT team_id, office_id FROM staff WHERE id = :s"), {"s": staff_id}).one()
        other_team, other_office = conn.execute(text("SELECT id, office_id FROM team WHERE id <> :t ORDER BY id "
                                                     "LIMIT 1"), {"t": team}).one()
        claim_id, claim_end = conn.execute(text(
            "SELECT c.id, c.claim_end FROM claim c WHERE c.adviser_id = :s AND c.claim_end IS NOT NULL AND NOT "
            "EXISTS (SELECT 1 FROM destination d WHERE d.claim_id = c.id) ORDER BY c.id LIMIT 1"),
            {"s": staff_id}).one()
        # The claim came from another team (transferred since): its summary row is that team's.
        conn.execute(text("UPDATE claim SET onflow_team_id = :t, onflow_office_id = :o WHERE id = :c"),
                     {"t": other_team, "o": other_office, "c": claim_id})
        rebuild_summaries(conn)
    mine = open_database(as_login(url, login), clock)
    try:
        with mine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM cohort_summary WHERE team_key = :t"),
                                {"t": other_team}).scalar_one() == 0  # hidden from the adviser
        with engine.connect() as conn:
            before = conn.execute(text("SELECT SUM(confirmed) FROM cohort_summary WHERE team_key = :t"),
                                  {"t": other_team}).scalar_one()
        with write(mine) as conn:
            actor = actor_for(conn, staff_id, clock.today())
            record_destination(conn, clock, actor, claim_id, next(iter(END_REASONS)), "customer", claim_end)
        with engine.connect() as conn:
            after = conn.execute(text("SELECT SUM(confirmed) FROM cohort_summary WHERE team_key = :t"),
                                 {"t": other_team}).scalar_one()
        assert after == before + 1
        assert_summaries_equal_a_recount(engine)
    finally:
        mine.dispose()
    for role in (Role.ADVISER, Role.TEAM_MANAGER, Role.TEAM_LEADER):
        sid, name = logins[role]
        as_them = open_database(as_login(url, name), clock)
        try:
            with engine.connect() as conn:
                actor = actor_for(conn, sid, conn.execute(text("SELECT current_date")).scalar_one())
                expected = app_counts(conn, actor)
                shown = offflow(conn, actor, OffflowQuery(group_by="team"))
            with as_them.connect() as conn:
                assert {n: v for n, v in app_counts(conn, ADMIN).items() if n in SUMMARY_SCOPE} == \
                    {n: v for n, v in expected.items() if n in SUMMARY_SCOPE}
                got = offflow(conn, actor, OffflowQuery(group_by="team"))
            assert got.rows == shown.rows
        finally:
            as_them.dispose()


@pytest.mark.parametrize("query", [dict(attribution="current"), dict(milestones=(39,))], ids=["current", "39-weeks"])
@pytest.mark.parametrize("role", [Role.TEAM_MANAGER, Role.TEAM_LEADER])
def test_a_roll_up_counted_from_the_claims_is_the_same_as_each_login(demo, role, query):
    """Off-flow by the current holder, or at a milestone the summaries do not keep, is counted from the claims
    themselves: as each manager's login it gives the figures the app shows that person (an adviser's login is
    told why it gets none: the next test)."""
    from caseload.store.offflow import OffflowQuery, offflow
    from test_logins import as_login

    url, engine, clock, logins = demo
    staff_id, login = logins[role]
    q = OffflowQuery(group_by="team", **query)
    with engine.connect() as conn:
        actor = actor_for(conn, staff_id, conn.execute(text("SELECT current_date")).scalar_one())
        shown = offflow(conn, actor, q)
    as_them = open_database(as_login(url, login), clock)
    try:
        with as_them.connect() as conn:
            got = offflow(conn, actor, q)
    finally:
        as_them.dispose()
    assert got.rows == shown.rows and shown.rows


def test_an_adviser_login_sees_its_teams_totals_and_is_told_where_team_figures_need_every_claim(demo):
    """An adviser's login reads only their own claims. The home screen's team totals come from the owner's
    function and equal what the app shows the adviser on the owner's connection; figures counted from every
    claim of the team (fairness, time-to-off-flow curves, a roll-up the kept totals cannot answer) are refused
    with the reason, never shown short of the colleagues' claims. The team manager's login gets them."""
    from caseload.store import fairness
    from caseload.store.errors import AccessDenied
    from caseload.store.info import office_overview
    from caseload.store.offflow import OffflowQuery, offflow
    from caseload.store.survival import CurveQuery, curve
    from test_logins import as_login

    url, engine, clock, logins = demo
    for role in (Role.ADVISER, Role.TEAM_MANAGER):
        staff_id, login = logins[role]
        with engine.connect() as conn:
            actor = actor_for(conn, staff_id, conn.execute(text("SELECT current_date")).scalar_one())
            as_at = conn.execute(text("SELECT max(as_at) FROM import_batch")).scalar_one()
            shown = office_overview(conn, actor, as_at)
        as_them = open_database(as_login(url, login), clock)
        try:
            with as_them.connect() as conn:
                assert office_overview(conn, actor, as_at) == shown
                own = sum(a.caseload for t in shown for a in t.advisers)
                assert shown[0].caseload > own or role is Role.TEAM_MANAGER  # colleagues' claims are counted
                checks = (lambda: fairness.attention(conn, actor, fairness.FairnessQuery(by="team")),
                          lambda: curve(conn, actor, CurveQuery()),
                          lambda: offflow(conn, actor, OffflowQuery(group_by="team", attribution="current")))
                for check in checks:
                    if role is Role.ADVISER:
                        with pytest.raises(AccessDenied, match="an adviser's login reads their own claims only"):
                            check()
                    else:
                        check()
                assert offflow(conn, actor, OffflowQuery(group_by="team")).rows  # the kept totals still answer
        finally:
            as_them.dispose()
