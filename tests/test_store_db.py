"""Opening databases: schema versions from empty, a newer database refused, a locked one reported; settings."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from caseload.store import db as dbmod
from caseload.store import schema, settings
from caseload.store.access import ADMIN, Actor, Role, actor_for
from caseload.store.db import open_database, resolve_url, schema_version, write
from caseload.store.errors import AccessDenied, StoreError
from caseload.store.importer import import_claims
from extracts import row, write_extract

# The tests about SQLite files (the committed old versions, locking, file mode) name db_path or tmp_path files
# and stay on SQLite; the rest run on PostgreSQL too.
pytestmark = pytest.mark.both_backends


def test_empty_database_is_created_at_the_current_version(new_db, clock):
    engine = open_database(new_db(empty=True), clock)
    with engine.connect() as conn:
        assert schema_version(conn) == schema.SCHEMA_VERSION == 9
        tables = set(inspect(conn).get_table_names())
    assert tables >= {"office", "team", "staff", "customer", "claim", "assignment", "import_batch", "setting",
                      "audit", "schema_info", "rag_rating", "note", "contact", "action", "destination",
                      "conference", "conference_item", "conference_action_review", "cohort_segment",
                      "cohort_summary", "cohort_summary_team", "cohort_start", "summary_info", "context_note"}


def test_upgrade_from_the_committed_version_1_database(tmp_path, clock):
    """tests/data/schema-v1.sqlite3 was written by version 1; opening it upgrades it and keeps every row."""
    path = tmp_path / "v1.sqlite3"
    shutil.copyfile(Path(__file__).parent / "data" / "schema-v1.sqlite3", path)
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT version FROM schema_info").fetchone() == (1,)
        before = {t: raw.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                  for t in ("office", "team", "staff", "customer", "claim", "assignment", "import_batch")}
    engine = open_database(str(path), clock)
    with engine.connect() as conn:
        assert schema_version(conn) == schema.SCHEMA_VERSION
        for t, rows in before.items():
            # Old columns keep their values (later versions add columns: assignment's version-5 ones).
            after = [tuple(r)[:len(rows[0])] for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1"))]
            assert after == rows, t
        assert conn.execute(text("SELECT COUNT(*) FROM rag_rating")).scalar() == 0
        assert conn.execute(text("SELECT COUNT(*) FROM conference")).scalar() == 0
    _assert_summaries_counted(engine)
    _assert_same_schema_as_new(engine, tmp_path, clock)


def _summary_rows(conn) -> dict:
    return {t: sorted(tuple(r) for r in conn.execute(text(f"SELECT * FROM {t}")))
            for t in ("cohort_summary", "cohort_summary_team", "cohort_start", "summary_info")}


def _assert_summaries_counted(engine) -> None:
    """Version 4 counts the claims already there into the cohort summaries, as a rebuild would."""
    from caseload.store.summary import rebuild_summaries

    with engine.connect() as conn:
        upgraded = _summary_rows(conn)
        claims = conn.execute(text("SELECT COUNT(*) FROM claim")).scalar()
        latest = conn.execute(text("SELECT MAX(id) FROM import_batch")).scalar()
    assert claims > 0
    assert sum(r[5] for r in upgraded["cohort_summary"]) == claims  # n, after the five key columns
    assert upgraded["summary_info"] == [(1, latest, "opte-2010", "13,26,52,65")]
    with write(engine) as conn:
        rebuild_summaries(conn)
    with engine.connect() as conn:
        assert _summary_rows(conn) == upgraded
        assert conn.execute(text("SELECT COUNT(*) FROM context_note")).scalar() == 0


def _columns_and_indexes(engine) -> dict:
    insp = inspect(engine)
    return {t: ([(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(t)],
                sorted((i["name"], tuple(i["column_names"])) for i in insp.get_indexes(t)),
                sorted((tuple(f["constrained_columns"]), f["referred_table"]) for f in insp.get_foreign_keys(t)))
            for t in insp.get_table_names()}


def _assert_same_schema_as_new(engine, tmp_path, clock) -> None:
    """An upgraded database has exactly the tables, columns, indexes and foreign keys of a new one."""
    new = open_database(str(tmp_path / "new.sqlite3"), clock)
    assert _columns_and_indexes(engine) == _columns_and_indexes(new)
    new.dispose()


def test_upgrade_from_the_committed_version_2_database(tmp_path, clock):
    """tests/data/schema-v2.sqlite3 was written by version 2 (RAG, contact, action, note on claims of the
    version-1 file); version 3 adds the conference tables and columns with ALTER TABLE and keeps every row."""
    path = tmp_path / "v2.sqlite3"
    shutil.copyfile(Path(__file__).parent / "data" / "schema-v2.sqlite3", path)
    tables = ("office", "team", "staff", "customer", "claim", "assignment", "import_batch", "rag_rating",
              "note", "contact", "action", "claim_state", "audit")
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT version FROM schema_info").fetchone() == (2,)
        assert "conference_id" not in [c[1] for c in raw.execute("PRAGMA table_info(action)")]
        before = {t: raw.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}
    engine = open_database(str(path), clock)
    with engine.connect() as conn:
        assert schema_version(conn) == schema.SCHEMA_VERSION
        for t, rows in before.items():
            # Old columns keep their values; the new ones are empty (no conference yet).
            after = [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1"))]
            assert [r[:len(rows[0])] for r in after] == rows, t
            assert all(set(r[len(rows[0]):]) <= {None} for r in after), t
        assert tuple(conn.execute(text("SELECT claim_id, rag, next_action, last_conference_on, expected_offflow, "
                                       "last_plan_day FROM claim_state")).one()) == (
            "C2", "R", "Refer to housing support", None, None, None)
    _assert_summaries_counted(engine)
    _assert_same_schema_as_new(engine, tmp_path, clock)


def test_opening_twice_keeps_the_data(store_url, clock, engine, tmp_path):
    import_claims(engine, write_extract(tmp_path / "x.csv", [row("C1")]), as_at=dt.date(2026, 5, 1), actor=ADMIN,
                  clock=clock)
    again = open_database(store_url, clock)
    with again.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM claim")).scalar() == 1


def test_a_newer_database_is_refused(store_url, clock, engine):
    with write(engine) as conn:
        conn.execute(text("UPDATE schema_info SET version = 99"))
    engine.dispose()
    with pytest.raises(StoreError, match="schema version 99, newer than this caseload"):
        open_database(store_url, clock)


def test_migrations_run_in_order(new_db, clock):
    """The mechanism: revision N (store/migrations) upgrades N-1 to N, once; alembic_version and schema_info's
    version move together."""
    from caseload.clock import FixedClock

    engine = dbmod.make_engine(new_db(empty=True))
    assert dbmod.migrate(engine, clock, target=1) == 1
    with engine.connect() as conn:
        assert not inspect(conn).has_table("rag_rating")
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0001"
    assert dbmod.migrate(engine, clock, target=6) == 6
    later = FixedClock.on(dt.date(2026, 6, 1))
    assert dbmod.migrate(engine, later, target=6) == 6  # nothing runs again, nothing is written
    with engine.connect() as conn:
        assert schema_version(conn) == 6
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0006"
        assert str(conn.execute(text("SELECT upgraded_at FROM schema_info")).scalar())[:10] == clock.today().isoformat()
        assert all(inspect(conn).has_table(t) for t in ("conference", "cohort_summary", "cover"))
    assert dbmod.migrate(engine, later) == schema.SCHEMA_VERSION
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == f"{schema.SCHEMA_VERSION:04d}"
        assert str(conn.execute(text("SELECT upgraded_at FROM schema_info")).scalar())[:10] == later.today().isoformat()
    engine.dispose()


def test_locked_database_is_reported_in_plain_words(db_path, clock, engine, tmp_path, monkeypatch):
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 200)
    engine.dispose()
    engine = dbmod.make_engine(str(db_path))
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreError, match="The database is busy.*nothing was changed; try again"):
            import_claims(engine, write_extract(tmp_path / "x.csv", [row("C1")]), as_at=dt.date(2026, 5, 1),
                          actor=ADMIN, clock=clock)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM claim")).scalar() == 0
        assert conn.execute(text("SELECT COUNT(*) FROM import_batch")).scalar() == 0


def test_resolve_url():
    assert resolve_url("/tmp/x.sqlite3") == "sqlite:////tmp/x.sqlite3"
    assert resolve_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert resolve_url("sqlite:///a.db") == "sqlite:///a.db"


def test_settings_are_shared_and_audited(engine, clock):
    with engine.connect() as conn:
        assert settings.load(conn).expected_levels == {"JSA": {13: 56, 26: 78, 52: 92}}
    with write(engine) as conn:
        settings.put(conn, clock, ADMIN, "approaching_days", 21)
    with engine.connect() as conn:
        assert settings.load(conn).approaching_days == 21
        audit = conn.execute(text("SELECT actor, entity, entity_id, old, new FROM audit")).all()
    assert [tuple(a) for a in audit] == [("admin", "setting", "approaching_days", "28", "21")]
    adviser = Actor(id="A1", role=Role.ADVISER, team_id=1, office_id=1)
    with write(engine) as conn, pytest.raises(AccessDenied, match="Only a team leader may change shared settings"):
        settings.put(conn, clock, adviser, "approaching_days", 7)
    with write(engine) as conn, pytest.raises(StoreError, match="There is no setting 'colour'"):
        settings.put(conn, clock, ADMIN, "colour", "red")


def test_unknown_staff_for_as(engine):
    with engine.connect() as conn, pytest.raises(StoreError, match="There is no staff member 'Z9'"):
        actor_for(conn, "Z9")
    with engine.connect() as conn:
        assert actor_for(conn, None) is ADMIN


def test_a_driver_error_reaches_the_caller_as_the_stores_error_with_a_sentence(engine):
    """One place turns driver errors into StoreError (screens catch only that); the store's own handling
    of the driver's classes is unchanged, because the error is both."""
    from sqlalchemy.exc import IntegrityError, ProgrammingError, OperationalError

    from caseload.store.errors import DatabaseProblem

    with pytest.raises(StoreError) as caught, engine.connect() as conn:
        conn.execute(text("SELECT no_such_column FROM claim"))
    assert isinstance(caught.value, DatabaseProblem)
    assert isinstance(caught.value, (OperationalError, ProgrammingError))  # the driver's kind, kept
    said = str(caught.value)
    assert said.startswith("The database reported a problem (") and "no_such_column" in said
    assert said.endswith("tell whoever looks after the database.")
    with engine.connect() as conn:
        conn.execute(text("INSERT INTO office (id, name) VALUES (990, 'Spare')"))
        with pytest.raises(IntegrityError) as twice:
            conn.execute(text("INSERT INTO office (id, name) VALUES (990, 'Spare')"))
        assert isinstance(twice.value, StoreError)
        conn.rollback()
