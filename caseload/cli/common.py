"""What every command shares: the --db/--as/--quiet options, dates, opening the database as the acting
person, and writing a file so that a reader never sees half of it."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path

from caseload.clock import Clock
from caseload.export.files import write_atomic
from caseload.store.errors import StoreError

DB_HELP = "database URL or SQLite path (default: $CASELOAD_DB, else caseload.sqlite3 in your data directory)"


def parse_date(value: str) -> dt.date:
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date in the form YYYY-MM-DD") from None


def common_options(default: object = argparse.SUPPRESS) -> argparse.ArgumentParser:
    # Subcommands suppress the defaults and only the top-level parser has them, so `caseload --db X
    # import ...` and `caseload import ... --db X` both work: a subcommand's default would overwrite the first.
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--db", metavar="URL", help=DB_HELP, default=default)
    p.add_argument("--as", dest="as_staff", metavar="STAFF_ID", default=default,
                   help="act as this staff member (on the command line the default is the database owner, "
                        "as administrator; the app remembers who you chose last time, else asks). On PostgreSQL "
                        "you are your login's staff record, and only the database owner may use --as (audited)")
    p.add_argument("--quiet", "-q", action="store_true", default=default,
                   help="no progress line on a long command: only its summary and errors")
    return p


def period_options(p: argparse.ArgumentParser) -> None:
    """The cohort period options every export of cohort figures shares (off-flow and fairness)."""
    p.add_argument("--cohort", default=None, choices=["calendar-month", "reporting-month", "quarter", "year"],
                   help="cohort period kind (default: the database's setting, reporting-month)")
    p.add_argument("--from", dest="first", type=parse_date, metavar="DATE", help="first day of the first cohort period")
    p.add_argument("--to", dest="last", type=parse_date, metavar="DATE", help="last day of the last cohort period")
    p.add_argument("--last", dest="last_n", type=int, default=12, metavar="N",
                   help="the last N complete periods before the as-at date (default 12)")
    p.add_argument("--as-at", type=parse_date, metavar="DATE", help="compute as at this date (default: the latest import's)")


def open_engine(args: argparse.Namespace, clock: Clock, *, create: bool = True):  # noqa: ANN202
    from caseload.store.db import open_database

    return open_database(args.db, clock, create=create)


def acting(engine, args: argparse.Namespace, clock: Clock):  # noqa: ANN001, ANN202
    """Who is acting, on the clock's today (a temporary cover current that day lets the covered adviser's
    caseload in). SQLite: --as, else the database owner. PostgreSQL: the login's own staff record; only the
    owner may use --as, and it is audited (store/logins.py)."""
    from caseload.store.logins import connected_actor

    return connected_actor(engine, clock, args.as_staff, clock.today())


def open_db(args: argparse.Namespace, clock: Clock):  # noqa: ANN202
    """An existing database and who is acting on it today, for a command's handler."""
    engine = open_engine(args, clock, create=False)
    return engine, acting(engine, args, clock)


def command(sub, common: argparse.ArgumentParser, name: str, summary: str,  # noqa: ANN001, ANN202
             description: str | None = None):
    """A command, or one of a command's actions, that takes --db and --as (`common`) wherever they are
    written: `summary` in the list of commands, `description` (if any) in its own --help."""
    return sub.add_parser(name, parents=[common], help=summary, description=description)


def named_allowed(actor, named: bool) -> None:  # noqa: ANN001
    from caseload.store.conference import may_name_customers

    if named and not may_name_customers(actor):
        raise StoreError(f"--named lists customers by name: only a team manager, a team leader or the database "
                         f"owner may ask for it (you are acting as {actor.role.label} {actor.id}). Leave out "
                         "--named to list them by claim id.")


def write_text(output: str, write: Callable) -> None:
    if output == "-":
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(encoding="utf-8")
        write(sys.stdout)
        return
    write_atomic(Path(output), write)


def write_csv_and_metadata(output: str, write_csv: Callable, write_metadata: Callable, what: str) -> None:
    """A CSV export with its metadata: to standard output and standard error with `-`, else to OUTPUT and
    OUTPUT.meta.json, each written whole, and a line saying where `what` ("12 rows") went."""
    if output == "-":
        write_csv(sys.stdout)
        write_metadata(sys.stderr)
        return
    out = Path(output)
    meta_path = out.with_name(out.name + ".meta.json")
    write_atomic(out, write_csv)
    write_atomic(meta_path, write_metadata)
    print(f"Wrote {what} to {out} and the metadata to {meta_path}.", file=sys.stderr)


