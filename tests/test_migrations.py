"""The schema's frozen versions (store/migrations): every path to the current version gives the same database,
the models match what the revisions create, and `caseload db migrate` upgrades or prints the SQL for review."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from caseload.cli import main
from caseload.clock import FixedClock
from caseload.store import db as dbmod
from caseload.store import migrations, schema
from caseload.store.db import open_database, schema_version, write

# This caseload's schema version and its revision.
V = schema.SCHEMA_VERSION
HEAD = migrations.revision(V)

pytestmark = pytest.mark.both_backends

DATA = Path(__file__).parent / "data"
VERSIONS = Path(migrations.__file__).parent / "versions"
CLOCK = FixedClock.on(dt.date(2026, 5, 11))


def schema_of(engine) -> dict:  # noqa: ANN001
    """What a DBA would compare: per table its columns (name, type, nullability, default, in order), primary key,
    indexes (columns, unique, the partial index's condition), foreign keys and unique constraints."""
    insp = inspect(engine)
    out = {}
    for t in sorted(set(insp.get_table_names()) - {migrations.VERSION_TABLE}):
        def where(i: dict) -> str | None:
            opts = i.get("dialect_options", {})
            w = opts.get("sqlite_where", opts.get("postgresql_where"))
            return None if w is None else re.sub(r"[()\s]+", " ", str(w)).strip()

        out[t] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in insp.get_columns(t)],
            "primary key": insp.get_pk_constraint(t)["constrained_columns"],
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]), where(i))
                              for i in insp.get_indexes(t)),
            "foreign keys": sorted((tuple(f["constrained_columns"]), f["referred_table"], tuple(f["referred_columns"]))
                                   for f in insp.get_foreign_keys(t)),
            "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(t)),
        }
    return out


def privileges_of(engine) -> dict:  # noqa: ANN001
    """PostgreSQL: what the group roles are granted, row-level security, its policies, caseload's functions and
    triggers. Nothing on SQLite."""
    if engine.dialect.name != "postgresql":
        return {}
    queries = {
        "grants": "SELECT grantee, table_name, privilege_type FROM information_schema.role_table_grants "
                  "WHERE grantee LIKE 'caseload_%' ORDER BY 1, 2, 3",
        "row security": "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                        "WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace ORDER BY 1",
        "policies": "SELECT tablename, policyname, cmd, roles::text, qual, with_check FROM pg_policies "
                    "WHERE schemaname = current_schema() ORDER BY 1, 2",
        "functions": "SELECT proname, prosecdef, prosrc FROM pg_proc "
                     "WHERE pronamespace = current_schema()::regnamespace ORDER BY 1",
        "triggers": "SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1",
    }
    with engine.connect() as conn:
        return {k: [tuple(r) for r in conn.execute(text(q))] for k, q in queries.items()}


def stamp_of(engine) -> str | None:  # noqa: ANN001
    with engine.connect() as conn:
        if not inspect(conn).has_table(migrations.VERSION_TABLE):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()


def test_the_newest_revision_is_this_caseloads_schema_version():
    assert migrations.head_version() == schema.SCHEMA_VERSION
    names = sorted(p.name for p in VERSIONS.glob("0*.py"))
    assert [n[:4] for n in names] == [f"{v:04d}" for v in range(1, schema.SCHEMA_VERSION + 1)]


def test_no_revision_imports_the_models():
    """A revision's DDL is frozen: it never reads today's models. Only the data and privilege steps call the store."""
    allowed = {"caseload.store.summary", "caseload.store.migrations"}
    for path in VERSIONS.glob("0*.py"):
        source = path.read_text()
        imported = set(re.findall(r"^\s*(?:from|import) (caseload[\w.]*)", source, flags=re.M))
        assert imported <= allowed, (path.name, imported - allowed)
        assert "sqlmodel" not in source.lower() and "schema." not in source, path.name


def test_a_new_database_matches_the_models(new_db, clock, backend, tmp_path, request):  # noqa: ANN001
    """The drift test: a model changed without a revision fails here. A new database (every revision from empty)
    has exactly the schema SQLModel.metadata.create_all makes, and Alembic's comparison finds nothing to add."""
    fresh = open_database(new_db(empty=True), clock)
    if backend == "sqlite":
        made = create_engine(f"sqlite:///{tmp_path / 'models.sqlite3'}")
    else:
        made = dbmod.make_engine(request.getfixturevalue("pg_db")(empty=True))
    SQLModel.metadata.create_all(made)
    assert schema_of(fresh) == schema_of(made)
    assert len(schema_of(fresh)) == len(SQLModel.metadata.tables)
    with fresh.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "compare_server_default": True})
        assert compare_metadata(context, SQLModel.metadata) == []
    assert stamp_of(fresh) == f"{schema.SCHEMA_VERSION:04d}"
    fresh.dispose()
    made.dispose()


@pytest.mark.parametrize("version", range(1, schema.SCHEMA_VERSION))
def test_every_older_version_upgrades_to_a_new_database(new_db, clock, version):
    """A database made by revisions 1..N, as an office's from before the revisions holds it (schema_info at N, no
    alembic_version), upgrades to exactly a new database: tables, columns, types, nullability, indexes, keys,
    unique constraints; on PostgreSQL also the grants, row-level security, policies and functions."""
    engine = dbmod.make_engine(new_db(empty=True))
    assert dbmod.migrate(engine, clock, target=version) == version
    with write(engine) as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    engine.dispose()
    upgraded = open_database(str(engine.url.render_as_string(hide_password=False)), clock)
    fresh = open_database(new_db(empty=True), clock)
    with upgraded.connect() as conn:
        assert schema_version(conn) == schema.SCHEMA_VERSION
    assert stamp_of(upgraded) == f"{schema.SCHEMA_VERSION:04d}"
    assert schema_of(upgraded) == schema_of(fresh)
    assert privileges_of(upgraded) == privileges_of(fresh)
    upgraded.dispose()
    fresh.dispose()


@pytest.mark.parametrize("version", [1, 2, 4])
def test_each_committed_database_upgrades_to_a_new_one(tmp_path, clock, version):
    """tests/data/schema-vN.sqlite3, written by caseload at version N, upgrades to exactly a new database."""
    path = tmp_path / f"v{version}.sqlite3"
    shutil.copyfile(DATA / f"schema-v{version}.sqlite3", path)
    upgraded = open_database(str(path), clock)
    fresh = open_database(str(tmp_path / "new.sqlite3"), clock)
    assert schema_of(upgraded) == schema_of(fresh)
    assert stamp_of(upgraded) == stamp_of(fresh) == f"{schema.SCHEMA_VERSION:04d}"
    upgraded.dispose()
    fresh.dispose()


def test_an_up_to_date_database_from_before_the_revisions_is_stamped_as_it_is(new_db, clock):
    """A database at this version without alembic_version: the owner's open records its revision and changes nothing else."""
    url = new_db()
    engine = open_database(url, clock)
    with write(engine) as conn:
        conn.execute(text("DROP TABLE alembic_version"))
    before = schema_of(engine)
    engine.dispose()
    later = FixedClock.on(dt.date(2026, 7, 1))
    engine = open_database(url, later)
    assert stamp_of(engine) == HEAD
    assert schema_of(engine) == before
    with engine.connect() as conn:
        assert schema_version(conn) == schema.SCHEMA_VERSION
        assert str(conn.execute(text("SELECT upgraded_at FROM schema_info")).scalar())[:10] != "2026-07-01"
    engine.dispose()


# `caseload db migrate`


def run(capsys, *args: str) -> tuple[int, str, str]:  # noqa: ANN001
    code = main(list(args), clock=CLOCK)
    out = capsys.readouterr()
    return code, out.out, out.err


def _sqlite_version(path: Path) -> tuple[int, str | None]:
    with sqlite3.connect(path) as raw:
        version = raw.execute("SELECT version FROM schema_info").fetchone()[0]
        has = raw.execute("SELECT name FROM sqlite_master WHERE name = 'alembic_version'").fetchone()
        stamp = raw.execute("SELECT version_num FROM alembic_version").fetchone()[0] if has else None
    return version, stamp


def test_db_migrate_upgrades_and_says_from_which_version(tmp_path, capsys):
    path = tmp_path / "office.sqlite3"
    shutil.copyfile(DATA / "schema-v4.sqlite3", path)
    code, out, err = run(capsys, "db", "migrate", "--db", str(path))
    assert (code, err) == (0, "")
    assert out == f"Upgraded sqlite:///{path} from schema version 4 to {V}.\n"
    assert _sqlite_version(path) == (schema.SCHEMA_VERSION, HEAD)
    code, out, _ = run(capsys, "db", "migrate", "--db", str(path))
    assert out == f"sqlite:///{path} is at schema version {V}, this caseload's: nothing to upgrade.\n"
    code, out, _ = run(capsys, "db", "info", "--db", str(path))
    assert f"schema version: {V}" in out
    new = tmp_path / "new.sqlite3"
    code, out, _ = run(capsys, "db", "migrate", "--db", str(new))
    assert out == f"Created schema version {V} in sqlite:///{new}.\n"
    assert _sqlite_version(new) == (schema.SCHEMA_VERSION, HEAD)


def test_db_migrate_refuses_a_newer_database(tmp_path, capsys):
    path = tmp_path / "office.sqlite3"
    run(capsys, "db", "migrate", "--db", str(path))
    with sqlite3.connect(path) as raw:
        raw.execute(f"UPDATE schema_info SET version = {V + 1}")
    for args in ([], ["--sql"]):
        code, out, err = run(capsys, "db", "migrate", *args, "--db", str(path))
        assert code == 1 and out == ""
        assert f"schema version {V + 1}, newer than this caseload (version {V}). Upgrade caseload to open it." in err


def test_db_migrate_sql_prints_the_upgrade_and_changes_nothing(tmp_path, capsys):
    """A DBA reviews the SQL first: the file is untouched; applied by hand (sqlite3) it gives the database
    `caseload db migrate` would have made."""
    path = tmp_path / "office.sqlite3"
    shutil.copyfile(DATA / "schema-v1.sqlite3", path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    code, out, err = run(capsys, "db", "migrate", "--sql", "--db", str(path))
    assert (code, err) == (0, "")
    assert out.startswith(f"-- The SQL that upgrades sqlite:///{path} from schema version 1 to {V}.\n"
                          "-- Nothing has been changed.")
    for step in ("CREATE TABLE alembic_version", "-- Running upgrade 0001 -> 0002", "CREATE TABLE rag_rating",
                 "ALTER TABLE action ADD COLUMN conference_id INTEGER REFERENCES conference (id);",
                 "-- Version 4 data step (not SQL): `caseload db migrate` counts the cohort summaries",
                 "WHERE reason = 'reassigned' AND to_date IS NULL AND batch_id IS NULL;",
                 "CREATE UNIQUE INDEX ix_staff_login ON staff (login);", f"UPDATE schema_info SET version = {V};",
                 f"UPDATE alembic_version SET version_num='{HEAD}'", "COMMIT;"):
        assert step in out, step
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert _sqlite_version(path) == (1, None)

    # Applied by hand to a version-4 database (no data steps after version 4 on SQLite).
    by_hand, by_caseload = tmp_path / "by-hand.sqlite3", tmp_path / "by-caseload.sqlite3"
    shutil.copyfile(DATA / "schema-v4.sqlite3", by_hand)
    shutil.copyfile(DATA / "schema-v4.sqlite3", by_caseload)
    _, sql, _ = run(capsys, "db", "migrate", "--sql", "--db", str(by_hand))
    with sqlite3.connect(by_hand, isolation_level=None) as raw:
        raw.executescript(sql)
    assert _sqlite_version(by_hand) == (schema.SCHEMA_VERSION, HEAD)
    run(capsys, "db", "migrate", "--db", str(by_caseload))
    a, b = open_database(str(by_hand), CLOCK), open_database(str(by_caseload), CLOCK)
    assert schema_of(a) == schema_of(b)
    a.dispose()
    b.dispose()

    # A database that does not exist yet: the SQL that creates it, and still no file.
    missing = tmp_path / "none.sqlite3"
    code, out, _ = run(capsys, "db", "migrate", "--sql", "--db", str(missing))
    assert out.startswith(f"-- The SQL that creates schema version {V} in sqlite:///{missing}.\n")
    assert "-- Running upgrade  -> 0001" in out and "CREATE TABLE schema_info" in out
    assert not missing.exists()
    # An up-to-date one: nothing to apply.
    code, out, _ = run(capsys, "db", "migrate", "--sql", "--db", str(by_caseload))
    assert out == f"-- sqlite:///{by_caseload} is at schema version {V}, this caseload's: there is nothing to apply.\n"


def test_db_migrate_on_postgresql(pg_db, capsys):
    """On PostgreSQL: an empty database is created; --sql for a version-5 database prints the DDL and the
    privilege steps' SQL (grants, row-level security), and applied by hand gives what `db migrate` gives."""
    empty = pg_db(empty=True)
    code, out, err = run(capsys, "db", "migrate", "--db", empty)
    assert (code, err) == (0, "")
    assert out.startswith(f"Created schema version {V} in postgresql+psycopg://")
    by_hand, by_caseload = pg_db(empty=True), pg_db(empty=True)
    for url in (by_hand, by_caseload):
        engine = dbmod.make_engine(url)
        dbmod.migrate(engine, CLOCK, target=5)
        with write(engine) as conn:
            conn.execute(text("DROP TABLE alembic_version"))  # as a database from before the revisions
        engine.dispose()
    code, sql, _ = run(capsys, "db", "migrate", "--sql", "--db", by_hand)
    assert f"from schema version 5 to {V}." in sql.splitlines()[0]
    for step in ("CREATE TABLE alembic_version", "ALTER TABLE staff ADD COLUMN login VARCHAR;",
                 "-- Privileges (store/policies.py)", "CREATE ROLE caseload_adviser NOLOGIN",
                 'ALTER TABLE "conference" ENABLE ROW LEVEL SECURITY;', "CREATE POLICY caseload_adviser ON",
                 f"UPDATE schema_info SET version = {V};", "COMMIT;"):
        assert step in sql, step
    engine = dbmod.make_engine(by_hand)
    with engine.connect() as conn:
        assert schema_version(conn) == 5
    raw = engine.raw_connection()  # as psql would: the script as it is, its own BEGIN and COMMIT
    raw.driver_connection.autocommit = True
    raw.driver_connection.execute(sql)
    raw.close()
    engine.dispose()
    code, out, _ = run(capsys, "db", "migrate", "--db", by_caseload)
    assert out.endswith(f"from schema version 5 to {V}.\n")
    a, b = open_database(by_hand, CLOCK), open_database(by_caseload, CLOCK)
    assert stamp_of(a) == stamp_of(b) == HEAD
    assert schema_of(a) == schema_of(b)
    assert privileges_of(a) == privileges_of(b)
    a.dispose()
    b.dispose()


def test_a_login_opens_an_up_to_date_database_but_may_not_upgrade_one(pg_db, capsys):
    """On PostgreSQL a person's login opens an up-to-date database without writing (not even the stamp of one from
    before the revisions) and is told to ask the owner when the database is older than their caseload."""
    from caseload.store.access import ADMIN
    from caseload.store.logins import grant
    from test_logins import as_login, login_name

    url = pg_db(empty=True)
    engine = dbmod.make_engine(url)
    dbmod.migrate(engine, CLOCK, target=6)
    login = login_name()
    with write(engine) as conn:
        conn.execute(text("INSERT INTO staff (id, name, role, active, version) VALUES ('A1', 'Asha', 'adviser', "
                          "true, 1)"))
        grant(conn, CLOCK, ADMIN, "A1", login)
    code, out, err = run(capsys, "db", "migrate", "--db", as_login(url, login))
    assert code == 1 and out == ""
    assert (f"This database is at schema version 6, and this caseload needs version {V}: only the database owner may "
            f"upgrade it (you are connected as {login}). Ask them to run `caseload db migrate`.") in err
    with engine.connect() as conn:
        assert schema_version(conn) == 6
    dbmod.migrate(engine, CLOCK)
    with write(engine) as conn:
        conn.execute(text("DROP TABLE alembic_version"))  # up to date, from before the revisions
    code, out, err = run(capsys, "db", "migrate", "--db", as_login(url, login))
    assert (code, err) == (0, "")
    assert f"is at schema version {V}, this caseload's: nothing to upgrade." in out
    assert stamp_of(engine) is None
    engine.dispose()
