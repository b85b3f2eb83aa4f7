"""Opening a database: the engine from a URL, SQLite's pragmas and file mode, schema versions."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlmodel import SQLModel

from caseload.clock import Clock
from caseload.store import schema
from caseload.store.errors import DatabaseBusy, DatabaseProblem, StoreError

ENV_VAR = "CASELOAD_DB"
BUSY_TIMEOUT_MS = 5000


def default_db_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("caseload")) / "caseload.sqlite3"


def resolve_url(url: str | None) -> str:
    """The database URL: the one given, else $CASELOAD_DB, else a file in the user's data directory.

    A bare path is taken as a SQLite file.
    """
    url = url or os.environ.get(ENV_VAR) or ""
    if not url:
        return f"sqlite:///{default_db_path()}"
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser().absolute()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        # psycopg 3, from the caseload[postgres] extra.
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def describe(url: str) -> str:
    """The URL with any password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _prepare_sqlite_file(path: Path) -> None:
    """Create the file readable and writable by its owner only, before SQLite opens it.

    SQLite gives its -wal and -shm files the mode of the database file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
        os.chmod(path, 0o600)


def make_engine(url: str) -> Engine:
    url = resolve_url(url)
    path = sqlite_path(url)
    if path is not None:
        _prepare_sqlite_file(path)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
            # The driver's own transaction handling is switched off so that BEGIN is ours;
            # see the "begin" listener below.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):  # noqa: ANN001
            # BEGIN IMMEDIATE takes the write lock up front, so two writers queue on the
            # busy timeout instead of one failing half-way through its transaction.
            conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")

        _say_driver_errors(engine)
        return engine
    if url.startswith("sqlite"):
        return _say_driver_errors(create_engine(url))
    try:
        # The session's time zone is UTC whatever the server's (see _postgres_session).
        pg = {"connect_args": {"options": "-c TimeZone=UTC"}} if make_url(url).get_backend_name() == "postgresql" else {}
        engine = create_engine(url, pool_pre_ping=True, **pg)
    except ModuleNotFoundError as exc:
        raise StoreError(
            f"{describe(url)} needs the PostgreSQL driver: install caseload[postgres] "
            "(pip install 'caseload[postgres]')."
        ) from exc
    if engine.dialect.name == "postgresql":
        _postgres_session(engine)
    return _say_driver_errors(engine)


_PROBLEM_CLASSES: dict[type, type] = {}


def _problem(exc: DBAPIError) -> DatabaseProblem:
    """The same error as a DatabaseProblem: an instance of both, so the store's own `except
    IntegrityError` (and so on) still applies, and everyone above the store catches StoreError."""
    kind = type(exc)
    cls = _PROBLEM_CLASSES.get(kind)
    if cls is None:
        cls = _PROBLEM_CLASSES[kind] = type(f"Database{kind.__name__}", (DatabaseProblem, kind), {})
    problem = cls.__new__(cls)
    problem.__dict__.update(exc.__dict__)
    problem.args = exc.args
    orig = exc.orig if exc.orig is not None else exc
    detail = (str(orig).strip().splitlines() or [orig.__class__.__name__])[0]
    problem.message = (f"The database reported a problem ({orig.__class__.__name__}: {detail}). Nothing was "
                       "changed; try again, and if it keeps happening tell whoever looks after the database.")
    return problem


def _say_driver_errors(engine: Engine) -> Engine:
    """The one place driver errors become the store's: busy in plain words, the rest as DatabaseProblem."""

    @event.listens_for(engine, "handle_error")
    def _said(context):  # noqa: ANN001
        if getattr(context, "is_pre_ping", False):
            return  # the pool's liveness check reconnects by itself
        exc = context.sqlalchemy_exception
        if _is_busy(context.original_exception) and engine.dialect.name == "sqlite":
            # Still locked after the busy timeout, on any read or write.
            raise busy_error() from context.original_exception
        if isinstance(exc, DBAPIError) and not isinstance(exc, DatabaseProblem):
            raise _problem(exc) from context.original_exception

    return engine


# The advisory lock every caseload write transaction takes on PostgreSQL: "caseload" in ASCII.
PG_WRITE_LOCK = 0x636173656C6F6164


def _postgres_session(engine: Engine) -> None:
    """PostgreSQL behaving as caseload's SQLite does.

    Times: the session is in UTC and times come back as naive UTC, as SQLite keeps them (the clock's UTC
    wall time), so records, exports and copies between the two are the same whatever the server's zone.

    Writers: PostgreSQL's BEGIN IMMEDIATE. A write transaction first takes one transaction-level advisory
    lock, so writers queue (for up to the busy timeout) instead of interleaving, and the lock goes at
    commit or rollback. Readers take no lock and see the last committed state, as with SQLite's WAL."""
    from psycopg.types.datetime import TimestamptzBinaryLoader, TimestamptzLoader

    def naive_utc(base):  # noqa: ANN001, ANN202
        class Loader(base):
            def load(self, data):  # noqa: ANN001, ANN202
                return super().load(data).astimezone(dt.timezone.utc).replace(tzinfo=None)
        return Loader

    @event.listens_for(engine, "connect")
    def _naive_utc(dbapi_conn, _record):  # noqa: ANN001
        dbapi_conn.adapters.register_loader("timestamptz", naive_utc(TimestamptzLoader))
        dbapi_conn.adapters.register_loader("timestamptz", naive_utc(TimestamptzBinaryLoader))

    @event.listens_for(engine, "begin")
    def _begin(conn):  # noqa: ANN001
        if conn.info.get("write"):
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(BUSY_TIMEOUT_MS)}")
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})")

    @event.listens_for(engine, "handle_error")
    def _busy(context):  # noqa: ANN001
        if getattr(context.original_exception, "sqlstate", None) == "55P03":  # lock_not_available
            raise busy_error() from context.original_exception


def _create_tables(conn: Connection, names, leave_out=()) -> None:  # noqa: ANN001
    """Create tables from the models, without the (table, column) pairs in `leave_out`.

    A migration creates its tables as they stood at its version: the columns a later version
    adds to them arrive through that version's ALTER TABLE, so every path to the current
    schema (new, from version 1, from version 2) runs the same statements, on PostgreSQL too
    (where a column cannot refer to a table that does not exist yet).
    """
    wanted = set(names)
    for t in SQLModel.metadata.sorted_tables:
        if t.name not in wanted or inspect(conn).has_table(t.name):
            continue
        skip = {c for name, c in leave_out if name == t.name}
        ddl = CreateTable(t, include_foreign_key_constraints=[
            fk for fk in t.foreign_key_constraints if not set(fk.column_keys) & skip])
        ddl.columns = [col for col in ddl.columns if col.element.name not in skip]
        conn.execute(ddl)
        for index in sorted(t.indexes, key=lambda i: i.name or ""):
            if not {col.name for col in index.columns} & skip:
                conn.execute(CreateIndex(index))


def _add_column(conn: Connection, table: str, column: str) -> None:
    """ALTER TABLE ... ADD COLUMN for a nullable model column, in SQL that SQLite and PostgreSQL share."""
    col = SQLModel.metadata.tables[table].c[column]
    q = conn.dialect.identifier_preparer
    ddl = f"ALTER TABLE {q.quote(table)} ADD COLUMN {q.quote(column)} {col.type.compile(dialect=conn.dialect)}"
    for fk in col.foreign_keys:
        ddl += f" REFERENCES {q.quote(fk.column.table.name)} ({q.quote(fk.column.name)})"
    conn.exec_driver_sql(ddl)


def _to_version_2(conn: Connection) -> None:
    """Version 2: RAG ratings, notes, contacts, actions and confirmed destinations."""
    _create_tables(conn, schema.V2_TABLES, leave_out=schema.V3_COLUMNS)


def _to_version_3(conn: Connection) -> None:
    """Version 3: caseload conferences, their items and action reviews; conference columns on
    actions (which conference set them) and on claim_state (last conference, estimate, plan)."""
    _create_tables(conn, schema.V3_TABLES)
    for table, column in schema.V3_COLUMNS:
        _add_column(conn, table, column)


def _to_version_4(conn: Connection) -> None:
    """Version 4: cohort summaries (counted from the claims already there) and context notes."""
    from caseload.store.summary import rebuild_summaries

    _create_tables(conn, schema.V4_TABLES)
    rebuild_summaries(conn)


def _to_version_5(conn: Connection) -> None:
    """Version 5: temporary cover, reported extract conflicts, who reassigned a claim locally and why, and
    when a customer's personal details were erased."""
    _create_tables(conn, schema.V5_TABLES)
    for table, column in schema.V5_COLUMNS:
        _add_column(conn, table, column)
    # Local reassignments no extract has confirmed yet: few, and looked up by every import (a partial
    # index, so the extract's own assignment rows cost it nothing).
    conn.exec_driver_sql(f"CREATE INDEX ix_assignment_unconfirmed ON assignment (claim_id) WHERE {schema.UNCONFIRMED}")
    # Erased customers: few, and every import blanks their personal columns in its staging table.
    conn.exec_driver_sql("CREATE INDEX ix_customer_erased ON customer (id) WHERE erased_at IS NOT NULL")


def _to_version_6(conn: Connection) -> None:
    """Version 6: each staff member's PostgreSQL login (unique where set); on PostgreSQL the group roles
    and what they may do (store/policies.py)."""
    for table, column in schema.V6_COLUMNS:
        _add_column(conn, table, column)
    conn.exec_driver_sql("CREATE UNIQUE INDEX ix_staff_login ON staff (login)")
    if conn.dialect.name == "postgresql":
        from caseload.store.policies import install

        install(conn)


def _to_version_7(conn: Connection) -> None:
    """Version 7: on PostgreSQL, row-level security on conferences, their action reviews, cover, context notes
    and the staff list, and each group role granted only what its rules let it write (store/policies.py).
    Nothing changes on SQLite."""
    if conn.dialect.name == "postgresql":
        from caseload.store.policies import install

        install(conn)


# Version N's entry upgrades a version N-1 database to N. Version 1 is created from the models
# as they stood then (V1_TABLES); every later table arrives through its migration, and every
# later column through an ALTER TABLE (see _create_tables).
MIGRATIONS: dict[int, Callable[[Connection], None]] = {2: _to_version_2, 3: _to_version_3, 4: _to_version_4,
                                                   5: _to_version_5, 6: _to_version_6, 7: _to_version_7}


def schema_version(conn: Connection) -> int:
    if not inspect(conn).has_table("schema_info"):
        return 0
    v = conn.execute(select(schema.SchemaInfo.version)).scalar()
    return int(v or 0)


def migrate(engine: Engine, clock: Clock, target: int = schema.SCHEMA_VERSION) -> int:
    """Bring the database to `target`, creating version 1 on an empty database. Returns the version."""
    with write(engine) as conn:
        current = schema_version(conn)
        if current > target:
            raise StoreError(
                f"This database is at schema version {current}, newer than this caseload "
                f"(version {target}). Upgrade caseload to open it."
            )
        if current == target:
            return current  # nothing to write: a login that may not change the schema opens it too
        if current == 0:
            _create_version_1(conn)
            current = 1
        while current < target:
            MIGRATIONS[current + 1](conn)
            current += 1
        conn.execute(
            schema.SchemaInfo.__table__.update().values(version=current, upgraded_at=clock.now())
        )
    return current


def _create_version_1(conn: Connection) -> None:
    _create_tables(conn, V1_TABLES, leave_out=schema.V5_COLUMNS + schema.V6_COLUMNS)
    conn.execute(
        schema.SchemaInfo.__table__.insert().values(id=1, version=1, upgraded_at=dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc))
    )


V1_TABLES = {
    "schema_info", "office", "team", "staff", "customer", "import_batch", "claim",
    "assignment", "setting", "audit",
}


class write:
    """A write transaction: on SQLite it takes the write lock at BEGIN (see make_engine)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.conn: Connection | None = None
        self.tx = None

    def __enter__(self) -> Connection:
        self.conn = self.engine.connect()
        self.conn.info["write"] = True
        try:
            self.tx = self.conn.begin()
        except (OperationalError, DatabaseBusy) as exc:
            self.conn.info.pop("write", None)
            self.conn.close()
            if isinstance(exc, DatabaseBusy):
                raise
            raise locked_error(exc) from exc
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:  # noqa: ANN001
        assert self.conn is not None and self.tx is not None
        try:
            if exc_type is None:
                try:
                    self.tx.commit()
                except OperationalError as err:
                    raise locked_error(err) from err
            else:
                self.tx.rollback()
        finally:
            self.conn.info.pop("write", None)
            self.conn.close()


def read(engine: Engine) -> Connection:
    return engine.connect()


def _is_busy(exc: BaseException) -> bool:
    return "locked" in str(exc).lower() or "busy" in str(exc).lower()


def busy_error() -> DatabaseBusy:
    return DatabaseBusy(
        "The database is busy: someone else is writing to it (an import may be running, or another "
        f"caseload). It was retried for {BUSY_TIMEOUT_MS // 1000} seconds and nothing was changed; "
        "try again in a minute."
    )


def locked_error(exc: OperationalError) -> StoreError:
    if _is_busy(exc):
        return busy_error()
    return StoreError(f"The database refused the change: {exc.orig}. Nothing was changed.")


def open_database(url: str | None, clock: Clock, *, create: bool = True) -> Engine:
    """An engine on an up-to-date database. With create=False a missing SQLite file is an error."""
    resolved = resolve_url(url)
    path = sqlite_path(resolved)
    if path is not None and not create and not path.exists():
        raise StoreError(
            f"There is no database at {path}. Import a claims extract first "
            "(caseload import claims PATH --as-at DATE), or point --db at an existing one."
        )
    engine = make_engine(resolved)
    try:
        migrate(engine, clock)
    except OperationalError as exc:
        raise locked_error(exc) from exc
    return engine
