"""`caseload export agenda` and `caseload export conference`: a conference's agenda in advance, and
the summaries of conferences held."""

from __future__ import annotations

import argparse
import sys

from caseload.cli.common import named_allowed, open_db, parse_date, write_csv_and_metadata, write_text
from caseload.clock import Clock
from caseload.store.errors import StoreError


def add_parsers(exp_sub, common: argparse.ArgumentParser) -> None:  # noqa: ANN001
    ag = exp_sub.add_parser(
        "agenda", parents=[common], help="a caseload conference agenda, in advance",
        description="The agenda of an adviser's caseload conference on a date, printable, for the adviser "
                    "to prepare: built by the rules, or the conference's own when it has been started. "
                    "Customers appear by claim id unless --named is given.",
    )
    ag.add_argument("--adviser", required=True, metavar="STAFF_ID", help="the adviser")
    ag.add_argument("--date", type=parse_date, metavar="DATE", help="the conference date (default: today)")
    ag.add_argument("--format", default=None, choices=["md", "html"],
                    help="Markdown or HTML (default: the output file's extension)")
    ag.add_argument("--output", required=True, metavar="PATH|-", help="file to write, or - for standard output")
    ag.add_argument("--named", action="store_true",
                    help="name customers (team managers, team leaders and the administrator only)")
    cs = exp_sub.add_parser(
        "conference", parents=[common], help="caseload conference summaries",
        description="The one-page summary of caseload conferences: counts, then each customer with what "
                    "was done, the plan, the expected off-flow date and the actions. Each adviser's latest "
                    "conference unless --date is given; every adviser you may see unless --adviser is. "
                    "CSV metadata goes to OUTPUT.meta.json (to stderr with --output -).",
    )
    cs.add_argument("--adviser", metavar="STAFF_ID", help="only this adviser")
    cs.add_argument("--date", type=parse_date, metavar="DATE", help="conferences held on this date (default: the latest)")
    cs.add_argument("--format", default=None, choices=["md", "html", "csv"],
                    help="md or html (one page per conference), or csv (one row per customer)")
    cs.add_argument("--output", required=True, metavar="PATH|-", help="file to write, or - for standard output")
    cs.add_argument("--named", action="store_true",
                    help="name customers (team managers, team leaders and the administrator only)")


def cmd_export_agenda(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.export.conference import write_agenda_html, write_agenda_markdown
    from caseload.store import settings as settings_mod
    from caseload.store.conference import agenda

    engine, actor = open_db(args, clock)
    named_allowed(actor, args.named)
    on = args.date or clock.today()
    with engine.connect() as conn:
        result = agenda(conn, actor, args.adviser, on, settings_mod.load(conn).approaching_days)
    write = write_agenda_markdown if args.format == "md" else write_agenda_html
    write_text(args.output, lambda f: write(result, f, named=args.named, generated_at=clock.now(),
                                             generated_by=actor.id))
    if args.output != "-":
        print(f"Wrote the agenda for {args.adviser} on {on.isoformat()} ({len(result.items)} customers) to "
              f"{args.output}.", file=sys.stderr)
    return 0


def cmd_export_conference(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.export.conference import (
        summary_metadata,
        write_metadata,
        write_summary_csv,
        write_summary_html,
        write_summary_markdown,
    )
    from caseload.store.conference import conference_summary, find_conferences

    engine, actor = open_db(args, clock)
    named_allowed(actor, args.named)
    with engine.connect() as conn:
        ids = find_conferences(conn, actor, args.adviser, args.date)
        summaries = [conference_summary(conn, actor, i) for i in ids]
    if not summaries:
        who = f"adviser {args.adviser}" if args.adviser else "any adviser you may see"
        when = f" on {args.date.isoformat()}" if args.date else ""
        raise StoreError(f"There is no caseload conference for {who}{when}.")
    kw = {"named": args.named, "generated_at": clock.now(), "generated_by": actor.id}
    if args.format == "csv":
        meta = summary_metadata(summaries, **kw)
        write_csv_and_metadata(args.output, lambda f: write_summary_csv(summaries, f, named=args.named),
                               lambda f: write_metadata(meta, f),
                               f"{len(summaries)} conference{'s' if len(summaries) != 1 else ''}")
        return 0
    write = write_summary_markdown if args.format == "md" else write_summary_html
    write_text(args.output, lambda f: write(summaries, f, **kw))
    if args.output != "-":
        print(f"Wrote {len(summaries)} conference summar{'ies' if len(summaries) != 1 else 'y'} to {args.output}.",
              file=sys.stderr)
    return 0
