"""The `caseload` command: the parser, and which module handles each command.

`import`, `export`, `staff` and `db` never import Textual, so they start fast; only opening
the app does. The store and export code each command needs is imported when it runs.
"""

from __future__ import annotations

import argparse
import sys

from caseload.cli import db, export, imports, notes, privacy, reassign, staff
from caseload.cli.common import common_options, open_engine, parse_date
from caseload.clock import Clock, SystemClock
from caseload.store.errors import StoreError


def build_parser() -> argparse.ArgumentParser:
    common = common_options()
    parser = argparse.ArgumentParser(
        prog="caseload", parents=[common_options(default=None)],
        description="Caseloads, caseload conferences and off-flow figures for employment advisers. "
                    "With no command, opens the app.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    imports.add_parsers(sub, common)
    export.add_parsers(sub, common)
    staff.add_parsers(sub, common)
    demo = sub.add_parser(
        "demo", parents=[common], help="build a demo office and open the app",
        description="Build a demo office in the database caseload would open (refusing one that holds "
                    "real data), then open the app as the first team's manager. The same seed gives the "
                    "same office, as at the same date.",
    )
    demo.add_argument("--seed", type=int, default=1, help="which demo office (default 1)")
    demo.add_argument("--no-open", action="store_true", help="only build it")
    notes.add_parsers(sub, common)
    reassign.add_parsers(sub, common, parse_date)
    db.add_parsers(sub, common)
    privacy.add_parsers(sub, common, parse_date)
    return parser


def cmd_demo(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.demo import build_demo

    engine = open_engine(args, clock)
    from caseload.cli.progress import import_bar, wanted

    print("Building the demo office (about ten seconds the first time)...", file=sys.stderr)
    with import_bar(wanted(bool(args.quiet))) as progress:
        office = build_demo(engine, seed=args.seed, progress=progress)
    verb = "Built" if office.built else "Reusing"
    print(f"{verb} demo office {office.seed}: {office.claims} claims as at {office.as_at.isoformat()}; "
          f"today is {office.today.isoformat()} in the demo.", file=sys.stderr)
    if args.no_open:
        return 0
    from caseload.app import run_app

    # The first time as the team manager; after that as whoever was chosen last on this database.
    return run_app(db_url=args.db, as_staff=args.as_staff, clock=office.clock, default_staff=office.first_manager)


def cmd_app(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.app import run_app

    return run_app(db_url=args.db, as_staff=args.as_staff, clock=clock)


def main(argv: list[str] | None = None, clock: Clock | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    clock = clock or SystemClock()
    handlers = {
        "reassign": reassign.cmd_reassign,
        "cover": reassign.cmd_cover,
        "import": imports.cmd_import_claims,
        "export": export.cmd_export,
        "staff": staff.cmd_staff,
        "db": db.cmd_db,
        "note": notes.cmd_note,
        "demo": cmd_demo,
        "customer": privacy.cmd_customer,
        "audit": privacy.cmd_audit,
        None: cmd_app,
    }
    try:
        return handlers[args.command](args, clock)
    except StoreError as exc:
        print(f"caseload: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (| head): not an error worth a traceback.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("caseload: interrupted; nothing was half-written.", file=sys.stderr)
        return 130

