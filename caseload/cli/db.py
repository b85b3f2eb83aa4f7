"""`caseload db`: what is in the database, its imports, a copy and a backup."""

from __future__ import annotations

import argparse
from pathlib import Path

from caseload.cli.common import open_engine
from caseload.clock import Clock


def add_parsers(sub, common: argparse.ArgumentParser) -> None:  # noqa: ANN001
    db = sub.add_parser("db", parents=[common], help="the database", description="The database.")
    db_sub = db.add_subparsers(dest="what", metavar="ACTION", required=True)
    db_sub.add_parser("info", parents=[common], help="schema version, counts and the latest import")
    db_sub.add_parser("imports", parents=[common], help="import history")
    mg = db_sub.add_parser(
        "migrate", parents=[common], help="upgrade the database's schema to this caseload's version",
        description="Upgrade the database to this caseload's schema version through the numbered revisions "
                    "(a new database gets every one), and say from which version to which. On PostgreSQL only "
                    "the database owner may. With --sql, print the SQL instead, changing nothing.")
    mg.add_argument("--sql", action="store_true",
                    help="print the SQL that would upgrade the database (Alembic's offline mode) for review, "
                         "without changing it")
    cp = db_sub.add_parser(
        "copy", parents=[common], help="copy a whole database into an empty one (SQLite <-> PostgreSQL)",
        description="Copy every table, ids kept, into an empty database (created if it is a new SQLite file), in "
                    "one transaction, then check each table's row count. Anything wrong leaves the target empty.")
    cp.add_argument("--from", dest="source", metavar="URL", help="the database to copy (default: --db)")
    cp.add_argument("--to", dest="target", metavar="URL", required=True, help="an empty database")
    bk = db_sub.add_parser(
        "backup", parents=[common], help="a consistent backup while the database is in use",
        description="SQLite: the online backup API, into a new SQLite file. PostgreSQL: pg_dump --format=custom "
                    "(restore with pg_restore). The file is readable by its owner only.")
    bk.add_argument("path", type=Path, metavar="PATH", help="a new file")


def cmd_db(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.store.db import describe, resolve_url
    from caseload.store.info import db_info, imports

    if args.what in ("copy", "backup"):
        return _db_transfer(args, clock)
    if args.what == "migrate":
        return _db_migrate(args, clock)
    engine = open_engine(args, clock, create=False)
    with engine.connect() as conn:
        if args.what == "info":
            info = db_info(conn)
            print(f"database:       {describe(resolve_url(args.db))}")
            from caseload.store.logins import SQLITE_ONE_PERSON, current_login, is_owner

            if conn.dialect.name == "sqlite":
                print(f"access:         {SQLITE_ONE_PERSON}")
            else:
                print(f"connected as:   {current_login(conn)}" + (" (the database owner)" if is_owner(conn) else ""))
            print(f"schema version: {info.schema_version}")
            for name, n in info.counts.items():
                print(f"{name + ':':<15} {n}")
            print(f"{'open claims:':<15} {info.open_claims}")
            b = info.latest_import
            if b is None:
                print("latest import:  none yet")
            else:
                age = (clock.today() - b.as_at).days
                print(f"latest import:  batch {b.id}, {b.file_name}, as at {b.as_at.isoformat()} "
                      f"({age} days ago), imported {b.imported_at:%Y-%m-%d %H:%M} by {b.imported_by}")
            return 0
        rows = imports(conn)
    if not rows:
        print("No imports yet.")
        return 0
    print("BATCH  AS AT       IMPORTED          BY          ROWS  REJECTED  ADDED  UPDATED  TRANSFERS  FILE")
    for b in rows:
        print(f"{b.id:>5}  {b.as_at.isoformat()}  {b.imported_at:%Y-%m-%d %H:%M}  {b.imported_by:<10}  "
              f"{b.rows_read:>5}  {b.rows_rejected:>8}  {b.claims_added:>5}  {b.claims_updated:>7}  "
              f"{b.transfers:>9}  {b.file_name}{' (partial)' if b.partial else ''}")
    return 0


def _db_transfer(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.store import transfer
    from caseload.store.db import describe, resolve_url

    source = resolve_url(args.source if args.what == "copy" and args.source else args.db)
    transfer.require_owner(source, args.as_staff, clock)
    if args.what == "backup":
        method = transfer.backup_database(source, args.path, clock)
        print(f"Backed up {describe(source)} to {args.path} ({method}).")
        return 0
    result = transfer.copy_database(source, args.target, clock)
    print(f"Copied {describe(source)} to {describe(resolve_url(args.target))}; rows per table (each checked):")
    for name, n in result.counts.items():
        print(f"  {name + ':':<26} {n}")
    return 0


def _db_migrate(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.store.db import describe, make_engine, pending_sql, resolve_url, upgrade
    from caseload.store.schema import SCHEMA_VERSION

    url = resolve_url(args.db)
    if args.sql:
        current, sql = pending_sql(url)
        if not sql:
            print(f"-- {describe(url)} is at schema version {current}, this caseload's: there is nothing to apply.")
            return 0
        print(f"-- The SQL that creates schema version {SCHEMA_VERSION} in {describe(url)}." if not current else
              f"-- The SQL that upgrades {describe(url)} from schema version {current} to {SCHEMA_VERSION}.")
        print("-- Nothing has been changed. `caseload db migrate` applies it, with the data steps named below.")
        print(sql, end="" if sql.endswith("\n") else "\n")
        return 0
    engine = make_engine(url)
    try:
        before, after = upgrade(engine, clock)
    finally:
        engine.dispose()
    if before == after:
        print(f"{describe(url)} is at schema version {after}, this caseload's: nothing to upgrade.")
    elif before == 0:
        print(f"Created schema version {after} in {describe(url)}.")
    else:
        print(f"Upgraded {describe(url)} from schema version {before} to {after}.")
    return 0
