"""`caseload import claims`: a claims extract from the central system, with progress on a terminal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from caseload.cli.common import acting, open_engine, parse_date
from caseload.clock import Clock


def add_parsers(sub, common: argparse.ArgumentParser) -> None:  # noqa: ANN001
    imp = sub.add_parser("import", parents=[common], help="import data", description="Import data.")
    imp_sub = imp.add_subparsers(dest="what", metavar="WHAT", required=True)
    claims = imp_sub.add_parser(
        "claims", parents=[common], help="import a claims extract (CSV)",
        description="Import a claims extract from the central system. One bad row rejects the whole "
                    "file and nothing changes, unless --partial is given.",
    )
    claims.add_argument("path", metavar="PATH", type=Path)
    claims.add_argument("--as-at", required=True, type=parse_date, metavar="YYYY-MM-DD",
                        help="the date the extract was taken")
    claims.add_argument("--partial", action="store_true",
                        help="import the good rows and write the bad ones to --rejects")
    claims.add_argument("--rejects", type=Path, metavar="PATH",
                        help="write the bad rows, each with its reason, to this CSV file")
    claims.add_argument("--check-all", action="store_true",
                        help="check every line in full, even one exactly as the last extract gave it "
                             "(the outcome is the same; it takes longer)")


def cmd_import_claims(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.cli.progress import import_bar, wanted
    from caseload.store.importer import import_claims

    engine = open_engine(args, clock)
    actor = acting(engine, args, clock)
    with import_bar(wanted(bool(args.quiet))) as progress:
        r = import_claims(engine, args.path, as_at=args.as_at, actor=actor, clock=clock,
                          partial=args.partial, rejects=args.rejects, progress=progress,
                          full=args.check_all)
    for w in r.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if r.already_imported is not None:
        print(f"{r.file_name} was already imported (batch {r.already_imported}); nothing changed.")
        return 0
    unchanged = f" ({r.rows_unchanged} exactly as before)" if r.rows_unchanged else ""
    print(f"Imported {r.file_name} as at {r.as_at.isoformat()} (batch {r.batch_id}): {r.rows_read} rows read"
          f"{unchanged}, {r.claims_added} claims added, {r.claims_updated} updated, {r.transfers} transfers.")
    if r.rows_rejected:
        print(f"{r.rows_rejected} rows were rejected and written, with their reasons, to {args.rejects}.")
    if r.assignment_conflicts:
        print(f"{r.assignment_conflicts} claims: the extract disagrees with a local reassignment; "
              "see `caseload reassign conflicts`.")
    return 0
