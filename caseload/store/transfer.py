"""Moving a database between SQLite and PostgreSQL (`caseload db copy`), and a consistent backup of
one in use (`caseload db backup`).

A copy reads the source in one consistent snapshot and writes the target in one write transaction:
every table in dependency order with its ids, PostgreSQL's id sequences moved past the copied ids,
then each table's row count checked against the source. Anything wrong rolls the target back, so it
is left as empty as it was.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, Table, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import SQLModel

from caseload.clock import Clock
from caseload.store.access import Role, actor_for
from caseload.store.db import sqlite_path, describe, make_engine, open_database, resolve_url, schema_version, write
from caseload.store.errors import AccessDenied, StoreError
from caseload.store.migrations import VERSION_TABLE

BATCH = 5000
# Rows every new database holds as soon as it is created: not data, so a target with only these is empty.
MIGRATION_ROWS = ("schema_info", "summary_info")


@dataclass(frozen=True)
class CopyResult:
    counts: dict[str, int]  # rows copied per table, in the order copied


def _tables(conn: Connection) -> list[Table]:
    """The database's tables in dependency order (parents first); refuses one this caseload does not know."""
    # alembic_version is the schema's bookkeeping, not data: each database has its own (store/migrations).
    present = set(inspect(conn).get_table_names()) - {VERSION_TABLE}
    unknown = sorted(present - set(SQLModel.metadata.tables))
    if unknown:
        raise StoreError(f"{describe(str(conn.engine.url))} has tables this caseload does not know "
                         f"({', '.join(unknown)}): upgrade caseload before copying it.")
    return [t for t in SQLModel.metadata.sorted_tables if t.name in present]


def _count(conn: Connection, table: Table) -> int:
    return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _snapshot(engine: Engine) -> Connection:
    """A connection whose reads all see one committed state, whoever writes meanwhile."""
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    conn.begin()
    return conn


def _reset_sequences(conn: Connection, tables: list[Table]) -> None:
    """PostgreSQL: each serial id's sequence continues after the highest copied id."""
    for t in tables:
        (col, *more) = t.primary_key.columns
        seq = None if more else conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                             {"t": t.name, "c": col.name}).scalar()
        if seq:
            conn.execute(text(f"SELECT setval(:s, COALESCE(MAX({col.name}), 0) + 1, false) FROM {t.name}"), {"s": seq})


def copy_database(source: str, target: str, clock: Clock) -> CopyResult:
    """Copy every row of `source` into the empty database `target` (created at the current schema if
    missing), keeping ids. Returns the rows copied per table."""
    source, target = resolve_url(source), resolve_url(target)
    if source == target:
        raise StoreError("The source and the target are the same database: name another target.")
    src = open_database(source, clock, create=False)
    new_file = sqlite_path(target)
    new_file = new_file if new_file is not None and not new_file.exists() else None
    dst = open_database(target, clock)
    try:
        with _snapshot(src) as read_conn, write(dst) as conn:
            tables = _tables(read_conn)
            target_tables = {t.name for t in _tables(conn)}
            missing = [t.name for t in tables if t.name not in target_tables]
            if missing:
                raise StoreError(f"{describe(target)} has no table {missing[0]}: it is not a caseload database.")
            held = [t.name for t in tables if t.name not in MIGRATION_ROWS and _count(conn, t)]
            if held:
                raise StoreError(
                    f"{describe(target)} is not empty (it holds {', '.join(held[:5])}"
                    f"{' and more' if len(held) > 5 else ''}): copy into a new, empty database, so that "
                    "nothing already there is mixed with the copy.")
            for t in MIGRATION_ROWS:
                if t in target_tables:
                    conn.execute(SQLModel.metadata.tables[t].delete())
            counts: dict[str, int] = {}
            for t in tables:
                for rows in read_conn.execute(select(t).execution_options(yield_per=BATCH)).partitions():
                    conn.execute(t.insert(), [r._asdict() for r in rows])
                counts[t.name] = _count(read_conn, t)
            if conn.dialect.name == "postgresql":
                _reset_sequences(conn, tables)
            wrong = [(name, n, _count(conn, SQLModel.metadata.tables[name])) for name, n in counts.items()]
            wrong = [w for w in wrong if w[1] != w[2]]
            if wrong:
                name, want, got = wrong[0]
                raise StoreError(f"The copy of table {name} has {got} rows, not {want}: nothing was copied "
                                 f"({describe(target)} is left empty).")
    except BaseException as exc:
        dst.dispose()
        _remove(new_file)
        if isinstance(exc, DBAPIError):
            raise StoreError(f"The copy failed: {exc.orig}. Nothing was changed: {describe(target)} is left "
                             "empty.") from exc
        raise
    finally:
        src.dispose()
        dst.dispose()
    return CopyResult(counts)


def _remove(new_file: Path | None) -> None:
    """A SQLite file made for a copy that failed goes with it."""
    for leftover in (new_file, *(Path(f"{new_file}{x}") for x in ("-wal", "-shm"))) if new_file else ():
        leftover.unlink(missing_ok=True)


def require_owner(url: str, staff_id: str | None, clock: Clock) -> None:
    """A copy or backup holds every office's records: the database owner's (no --as) or a team leader's. On
    PostgreSQL only the owner's: a person's login sees only their own scope (row-level security)."""
    from caseload.store.logins import current_login, is_owner

    if not staff_id and make_url(url).get_backend_name() != "postgresql":
        return
    engine = _existing(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql" and not is_owner(conn):
                raise AccessDenied(f"Only the database owner may copy or back up the whole database (you are "
                                   f"connected as {current_login(conn)}).")
            if staff_id:
                actor_for(conn, staff_id).require(Role.TEAM_LEADER, doing="copy or back up the whole database")
    finally:
        engine.dispose()


def _existing(url: str) -> Engine:
    """An engine on an existing caseload database, checked without writing (a backup must not wait for
    someone else's write, nor upgrade what it backs up)."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise StoreError(f"There is no database at {path}: point --db at an existing one.")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not schema_version(conn):
                raise StoreError(f"{describe(url)} is not a caseload database.")
    except BaseException:
        engine.dispose()
        raise
    return engine


def _private_new_file(path: Path) -> None:
    """Create PATH, readable and writable by its owner only; refuse to overwrite an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        raise StoreError(f"{path} already exists: give the backup a new name (nothing was overwritten).") from None
    os.close(fd)
    os.chmod(path, 0o600)


def backup_database(url: str, path: Path, clock: Clock) -> str:
    """A consistent copy of the database into PATH (mode 0600) while others use it; returns the method used.

    SQLite: the online backup API, into a SQLite file. PostgreSQL: pg_dump's custom format
    (restore with pg_restore)."""
    resolved = resolve_url(url)
    _existing(resolved).dispose()
    _private_new_file(path)
    try:
        if (db_file := sqlite_path(resolved)) is not None:
            _sqlite_backup(db_file, path)
            return "SQLite online backup"
        if make_url(resolved).get_backend_name() == "postgresql":
            _pg_dump(resolved, path)
            return "pg_dump --format=custom"
        raise StoreError(f"caseload cannot back up {describe(resolved)}: only SQLite files and PostgreSQL.")
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _sqlite_backup(db_file: Path, path: Path) -> None:
    src = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    dst = sqlite3.connect(path)
    try:
        with dst:
            src.backup(dst)
        # One self-contained file: no write-ahead log beside it.
        dst.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as exc:
        raise StoreError(f"The backup failed: {exc}. Nothing was written to {path}.") from exc
    finally:
        dst.close()
        src.close()


def pg_tool(name: str) -> str | None:
    """A PostgreSQL client program on PATH, else in Debian's /usr/lib/postgresql/*/bin (newest first)."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                      key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0, reverse=True)
    return str(versions[0]) if versions else None


def _pg_dump(url: str, path: Path) -> None:
    exe = pg_tool("pg_dump")
    if exe is None:
        raise StoreError("pg_dump was not found: install PostgreSQL's client programs (on Debian or Ubuntu: "
                         "apt-get install postgresql-client), or put pg_dump on your PATH.")
    u = make_url(url)
    host = u.query.get("host") or u.host
    conninfo = {"host": host, "port": u.port, "user": u.username, "dbname": u.database}
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    args = [exe, "--format=custom", f"--file={path}", "--no-password"]
    args += [f"--{k}={v}" for k, v in conninfo.items() if v]
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise StoreError(f"pg_dump failed: {done.stderr.strip() or done.returncode}. Nothing was written to {path}.")
