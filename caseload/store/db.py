"""Opening a database: the engine from a URL, SQLite's pragmas and file mode, schema versions."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

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


def schema_version(conn: Connection) -> int:
    if not inspect(conn).has_table("schema_info"):
        return 0
    v = conn.execute(select(schema.SchemaInfo.version)).scalar()
    return int(v or 0)


def migrate(engine: Engine, clock: Clock, target: int = schema.SCHEMA_VERSION) -> int:
    """Bring the database to `target` through the frozen revisions (store/migrations), from none on an empty
    database (every database, new or old, is made by the same revisions). Returns the version.

    `schema_info.version` is the version of record; a database from before the revisions (schema_info at N and
    no alembic_version) is stamped with revision N and upgraded from there."""
    return upgrade(engine, clock, target)[1]


def upgrade(engine: Engine, clock: Clock, target: int = schema.SCHEMA_VERSION) -> tuple[int, int]:
    """migrate, saying from which version to which (read in the same write transaction)."""
    from caseload.store import migrations

    with write(engine) as conn:
        current = schema_version(conn)
        if current > target:
            raise _newer(current, target)
        if current == target:
            # Nothing to write: a login that may not change the schema opens it too. The owner's open of a
            # database from before the revisions records its revision, so Alembic's tools see it.
            if current and not migrations.has_stamp(conn) and _may_change_schema(conn):
                migrations.stamp(conn, current)
            return current, current
        if current and not _may_change_schema(conn):
            from caseload.store.logins import current_login

            raise StoreError(
                f"This database is at schema version {current}, and this caseload needs version {target}: only the "
                f"database owner may upgrade it (you are connected as {current_login(conn)}). Ask them to run "
                "`caseload db migrate`.")
        migrations.upgrade(conn, current, target)
        conn.execute(
            schema.SchemaInfo.__table__.update().values(version=target, upgraded_at=clock.now())
        )
    return current, target


def _newer(current: int, target: int) -> StoreError:
    return StoreError(f"This database is at schema version {current}, newer than this caseload (version {target}). "
                      "Upgrade caseload to open it.")


def _may_change_schema(conn: Connection) -> bool:
    """SQLite: whoever opens the file. PostgreSQL: the role that owns the tables (store/logins.py)."""
    from caseload.store.logins import is_owner

    return is_owner(conn)


def pending_sql(url: str) -> tuple[int, str]:
    """The database's schema version and the SQL that would bring it to the current one (Alembic's offline
    mode), read without writing: a missing SQLite file is not created, and counts as no schema yet."""
    from caseload.store import migrations

    resolved = resolve_url(url)
    path = sqlite_path(resolved)
    if path is not None and not path.exists():
        current, stamped, schema_name = 0, False, "main"
        dialect = "sqlite"
    else:
        # A SQLite file is opened read-only and without caseload's pragmas (WAL would rewrite its header).
        engine = (create_engine("sqlite://", creator=lambda: sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True))
                  if path is not None else make_engine(resolved))
        try:
            with engine.connect() as conn:
                current = schema_version(conn)
                stamped = migrations.has_stamp(conn)
                dialect = conn.dialect.name
                schema_name = (conn.exec_driver_sql("SELECT current_schema()").scalar()
                               if dialect == "postgresql" else "main")
        finally:
            engine.dispose()
    target = schema.SCHEMA_VERSION
    if current > target:
        raise _newer(current, target)
    if current == target:
        return current, ""
    return current, migrations.offline_sql(dialect, current, target, stamped=stamped, schema=schema_name)


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


def analyze(conn: Connection, *tables: str) -> None:
    """On PostgreSQL, the planner's statistics of tables just filled: temporary ones (autovacuum never reads them)
    and a first load's (it reads them a while later). Without them the planner takes a table of a few thousand rows
    for one of any size, and joins it to the claims by reading every claim. SQLite's planner needs none here."""
    if conn.dialect.name == "postgresql":
        for table in tables:
            conn.exec_driver_sql(f"ANALYZE {table}")


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
