"""Who you are is the PostgreSQL login (issue 13): `caseload staff grant|revoke`, the group roles following a
change of role, the login mapped to its staff record, --as for the owner only (audited), an unknown login refused
with the fix named, and SQLite saying plainly that its file is one person's store."""

from __future__ import annotations

import itertools
import os

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from caseload.cli import main
from caseload.clock import FixedClock
from caseload.store.access import Role
from caseload.store.db import open_database
from caseload.store.errors import AccessDenied, UnknownStaff
from caseload.store.logins import connected_actor
from conftest import TODAY

CLOCK = FixedClock.on(TODAY)
_names = itertools.count()


def login_name() -> str:
    """A login unique in the cluster (roles are the cluster's, not one database's)."""
    return f"t{os.getpid()}_{next(_names)}"


def cli(*args: str) -> int:
    return main(list(args), clock=CLOCK)


def as_login(url: str, login: str) -> str:
    """The same database, connecting as another role (the test cluster trusts its socket)."""
    return make_url(url).set(username=login).render_as_string(hide_password=False)


def groups_of(engine, login: str) -> list[str]:  # noqa: ANN001
    with engine.connect() as conn:
        return sorted(conn.execute(text(
            "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
            "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = :n"), {"n": login}).scalars())


@pytest.fixture
def office(pg_db):  # noqa: ANN201
    url = pg_db()
    assert cli("staff", "add", "A1", "--name", "Asha Patel", "--role", "adviser", "--team", "North", "--db", url) == 0
    assert cli("staff", "add", "M1", "--name", "Grace Holloway", "--role", "team_manager", "--team", "North",
               "--db", url) == 0
    return url


def test_grant_links_a_login_to_its_role_and_revoke_takes_it_away(office, capsys):
    engine = open_database(office, CLOCK)
    login = login_name()
    assert cli("staff", "grant", "A1", "--login", login, "--db", office) == 0
    assert "a new login" in capsys.readouterr().out
    assert groups_of(engine, login) == ["caseload_adviser"]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT login FROM staff WHERE id = 'A1'")).scalar() == login
    # A change of role moves the login to the other group role in the same transaction.
    assert cli("staff", "set-role", "A1", "team_manager", "--db", office) == 0
    assert groups_of(engine, login) == ["caseload_team_manager"]
    # Another person cannot take a login already linked.
    assert cli("staff", "grant", "M1", "--login", login, "--db", office) == 1
    assert "already A1's" in capsys.readouterr().err
    assert cli("staff", "revoke", "A1", "--db", office) == 0
    assert groups_of(engine, login) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT login FROM staff WHERE id = 'A1'")).scalar() is None
        history = conn.execute(text("SELECT action, old, new FROM audit WHERE entity = 'staff' AND entity_id = 'A1' "
                                    "AND field = 'login' ORDER BY id")).all()
    assert [tuple(h) for h in history] == [("grant", None, login), ("revoke", login, None)]
    engine.dispose()


def test_a_login_acts_as_its_own_staff_record_and_may_not_use_as(office, capsys):
    login = login_name()
    assert cli("staff", "grant", "A1", "--login", login, "--db", office) == 0
    theirs = open_database(as_login(office, login), CLOCK)
    actor = connected_actor(theirs, CLOCK, None, TODAY)
    assert (actor.id, actor.role) == ("A1", Role.ADVISER)
    with pytest.raises(AccessDenied, match="--as is only for the database owner; you are connected as " + login):
        connected_actor(theirs, CLOCK, "M1", TODAY)
    theirs.dispose()
    capsys.readouterr()
    assert cli("staff", "list", "--as", "M1", "--db", as_login(office, login)) == 1
    assert "--as is only for the database owner" in capsys.readouterr().err
    # Nor may they administer logins.
    assert cli("staff", "grant", "M1", "--login", login_name(), "--db", as_login(office, login)) == 1


def test_a_login_with_no_staff_record_is_refused_with_the_fix(office, pg_server):
    stranger = login_name()
    with pg_server.admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE ROLE {stranger} LOGIN IN ROLE caseload_adviser")
    engine = open_database(as_login(office, stranger), CLOCK)
    with pytest.raises(UnknownStaff, match=f"Ask the database owner to run: caseload staff grant STAFF_ID "
                                           f"--login {stranger}"):
        connected_actor(engine, CLOCK, None, TODAY)
    engine.dispose()


def test_the_owner_acting_as_someone_is_audited_every_time(office):
    engine = open_database(office, CLOCK)
    for _ in range(2):
        assert connected_actor(engine, CLOCK, "M1", TODAY).id == "M1"
    assert connected_actor(engine, CLOCK, None, TODAY).is_admin
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT actor, new FROM audit WHERE action = 'act_as'")).all()
    assert [tuple(r) for r in rows] == [("admin", "owner acting as M1")] * 2
    engine.dispose()


def test_sqlite_has_no_logins_and_says_it_is_one_persons_store(tmp_path, capsys):
    db = str(tmp_path / "one.sqlite3")
    assert cli("staff", "add", "A1", "--name", "Asha", "--role", "adviser", "--team", "North", "--db", db) == 0
    assert cli("staff", "grant", "A1", "--login", "asha", "--db", db) == 1
    assert "Logins are PostgreSQL's" in capsys.readouterr().err
    assert cli("db", "info", "--db", db) == 0
    out = capsys.readouterr().out
    assert "A SQLite file is one person's store: anyone who can open the file reads all of it" in out


def test_the_app_opens_directly_as_the_login_on_postgresql(office, tmp_path):
    from caseload.app import create_app

    login = login_name()
    assert cli("staff", "grant", "M1", "--login", login, "--db", office) == 0
    app = create_app(as_login(office, login), None, CLOCK, config_dir=tmp_path / "config")
    assert app.identity is not None and (app.identity.actor.id, app.identity.actor.role) == ("M1", Role.TEAM_MANAGER)
    app.engine.dispose()
    with pytest.raises(AccessDenied):
        create_app(as_login(office, login), "A1", CLOCK, config_dir=tmp_path / "config")


def test_db_info_says_who_is_connected_on_postgresql(office, capsys):
    login = login_name()
    assert cli("staff", "grant", "A1", "--login", login, "--db", office) == 0
    capsys.readouterr()
    assert cli("db", "info", "--db", office) == 0
    owner = make_url(office).username
    assert f"connected as:   {owner} (the database owner)" in capsys.readouterr().out
    assert cli("db", "info", "--db", as_login(office, login)) == 0
    out = capsys.readouterr().out
    assert f"connected as:   {login}\n" in out


def test_a_team_leaders_login_keeps_its_office_staff_and_leaves_logins_to_the_owner(office, capsys):
    """A team leader's login adds, moves and re-roles the office's staff (row-level security lets it write its
    office's staff rows); a person with a login is re-roled by the owner only, since the login's group role
    follows in the same transaction: refused with the command to run, and nothing written."""
    engine = open_database(office, CLOCK)
    with engine.connect() as conn:
        name = conn.execute(text("SELECT o.name FROM office o JOIN team t ON t.office_id = o.id")).scalar_one()
    assert cli("staff", "add", "L1", "--name", "Lena Ortiz", "--role", "team_leader", "--office", name,
               "--db", office) == 0
    leader, adviser = login_name(), login_name()
    assert cli("staff", "grant", "L1", "--login", leader, "--db", office) == 0
    assert cli("staff", "grant", "A1", "--login", adviser, "--db", office) == 0
    theirs = as_login(office, leader)
    capsys.readouterr()
    assert cli("staff", "add", "A2", "--name", "Ben Okafor", "--role", "adviser", "--team", "North", "--db", theirs) == 0
    assert cli("staff", "set-role", "A2", "team_manager", "--db", theirs) == 0
    assert cli("staff", "set-role", "A1", "team_manager", "--db", theirs) == 1
    err = capsys.readouterr().err
    assert "owner" in err and "caseload staff set-role A1" in err, err
    with engine.connect() as conn:
        roles = dict(conn.execute(text("SELECT id, role FROM staff WHERE id IN ('A1', 'A2')")).all())
    assert roles == {"A1": "adviser", "A2": "team_manager"}
    assert groups_of(engine, adviser) == ["caseload_adviser"]
    engine.dispose()
