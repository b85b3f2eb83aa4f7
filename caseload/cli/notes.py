"""`caseload note`: the context notes beside the off-flow figures."""

from __future__ import annotations

import argparse

from caseload.cli.common import open_db
from caseload.clock import Clock
from caseload.store.errors import StoreError


def add_parsers(sub, common: argparse.ArgumentParser) -> None:  # noqa: ANN001
    note = sub.add_parser(
        "note", parents=[common], help="context notes beside the off-flow figures",
        description="A free-text note per office and cohort period (the local labour market, staffing), "
                    "shown beside the off-flow figures and carried into every off-flow export. Team managers "
                    "and team leaders write their own office's notes; everyone in the office reads them.",
    )
    note_sub = note.add_subparsers(dest="what", metavar="ACTION", required=True)
    kinds = ["calendar-month", "reporting-month", "quarter", "year"]
    ns = note_sub.add_parser("set", parents=[common], help="write an office's note on a cohort period",
                             description="Write the note on one cohort period (an empty TEXT removes it). "
                                         "The old text stays in the audit log.")
    ns.add_argument("period", metavar="PERIOD", help="the cohort period as exports name it: 2026-04, 2026-Q2, 2026")
    ns.add_argument("text", metavar="TEXT", help="the note; '' removes it")
    ns.add_argument("--cohort", choices=kinds, default=None,
                    help="cohort period kind (default: the database's setting, reporting-month)")
    ns.add_argument("--office", metavar="NAME", help="the office (default: your own)")
    nl = note_sub.add_parser("list", parents=[common], help="list the notes you may read")
    nl.add_argument("--cohort", choices=kinds, default=None, help="only this cohort period kind")
    nl.add_argument("--office", metavar="NAME", help="only this office")


def cmd_note(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.store import notes
    from caseload.store import settings as settings_mod
    from caseload.store.db import write

    engine, actor = open_db(args, clock)
    if args.what == "list":
        with engine.connect() as conn:
            office_id = notes.office_id_for(conn, args.office) if args.office else None
            found = notes.list_notes(conn, actor, office_id, args.cohort)
        if not found:
            print("No context notes.")
        for n in found:
            print(f"{n.office}  {n.cohort_kind} {n.period_label}  ({n.author}, {n.at:%Y-%m-%d %H:%M}, "
                  f"version {n.version})\n    {n.text}")
        return 0
    with write(engine) as conn:
        kind = args.cohort or settings_mod.load(conn).cohort_kind
        if args.office:
            office_id = notes.office_id_for(conn, args.office)
        elif actor.office_id is not None:
            office_id = actor.office_id
        else:
            raise StoreError("Name the office with --office NAME (the administrator belongs to none).")
        # The command line writes over the current note knowingly: it reads the version in the same transaction.
        label = notes.check_label(kind, args.period)
        current = notes.get_note(conn, actor, office_id, kind, label)
        saved = notes.set_note(conn, clock, actor, office_id, kind, label, args.text,
                               current.version if current else None)
    if saved is None:
        print(f"Removed the note on {kind} {label}." if current else f"There was no note on {kind} {label}.")
    else:
        print(f"Saved the note on {kind} {label} for {saved.office} (version {saved.version}).")
    return 0
