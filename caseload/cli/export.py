"""`caseload export offflow|curve|attention|equality|beyond52|sanctions` (and the dispatch to the
conference exports): the figures with a definition anyone can check."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from caseload.cli import conference
from caseload.cli.common import named_allowed, open_db, period_options, write_csv_and_metadata, write_text
from caseload.export.files import export_format, write_offflow
from caseload.clock import Clock
from caseload.store.errors import StoreError


def add_parsers(sub, common: argparse.ArgumentParser) -> None:  # noqa: ANN001
    exp = sub.add_parser("export", parents=[common], help="export reports", description="Export reports.")
    exp_sub = exp.add_subparsers(dest="what", metavar="WHAT", required=True)
    off = exp_sub.add_parser(
        "offflow", parents=[common], help="the off-flow summary",
        description="The off-flow summary: one row per group, cohort period and milestone. "
                    "For CSV the metadata goes to OUTPUT.meta.json (to stderr with --output -); "
                    "XLSX, Markdown and HTML carry it inside the file.",
    )
    from caseload.measures.offflow import GROUP_BY

    off.add_argument("--by", default="none", choices=GROUP_BY, help="group rows by (default: none)")
    period_options(off)
    off.add_argument("--milestones", default="13,26,52", metavar="WEEKS",
                     help="comma-separated milestones in weeks (default: 13,26,52)")
    off.add_argument("--benefit", metavar="NAME", help="only claims of this benefit (JSA, ESA, UC, IS, IB)")
    off.add_argument("--attribution", choices=["onflow", "current"], default=None,
                     help="credit cohorts to the holder at claim start (onflow) or now (current)")
    off.add_argument("--rule-set", default=None, metavar="NAME", help="destination rule set (default: opte-2010)")
    off.add_argument("--format", default=None, choices=["csv", "xlsx", "md", "html"],
                     help="csv (metadata in OUTPUT.meta.json), or xlsx, md or html (metadata inside the file); "
                          "default: the output file's extension, else csv")
    off.add_argument("--output", required=True, metavar="PATH|-", help="file to write, or - for standard output")

    cu = exp_sub.add_parser(
        "curve", parents=[common], help="time to off-flow: the share still on benefit each week",
        description="The time-to-off-flow curve of the cohorts of the chosen periods: for each week 0-104 the "
                    "claims at risk, ended and censored and the Kaplan-Meier share still on benefit. For the "
                    "whole scope, or one --office, --team or equality --group (suppressed under 5). The "
                    "metadata goes to OUTPUT.meta.json (to stderr with --output -).",
    )
    period_options(cu)
    cu.add_argument("--benefit", metavar="NAME", help="only claims of this benefit (JSA, ESA, UC, IS, IB)")
    cu.add_argument("--attribution", choices=["onflow", "current"], default=None,
                    help="credit cohorts to the holder at claim start (onflow) or now (current)")
    cu.add_argument("--office", metavar="NAME", help="only this office's claims")
    cu.add_argument("--team", metavar="NAME", help="only this team's claims")
    cu.add_argument("--group", metavar="CHARACTERISTIC=VALUE",
                    help="only one equality group: age_band=25-49, sex=F, disability=Y, ethnicity=... "
                         "(withheld under 5 claims; counts under 5 show as <5)")
    cu.add_argument("--format", default="csv", choices=["csv"], help="csv (metadata in OUTPUT.meta.json)")
    cu.add_argument("--output", required=True, metavar="PATH|-", help="file to write, or - for standard output")
    conference.add_parsers(exp_sub, common)
    from caseload.export.fairness import HELP as FAIRNESS_HELP

    for name, (summary, description) in FAIRNESS_HELP.items():
        fx = exp_sub.add_parser(name, parents=[common], help=summary, description=description)
        fx.add_argument("--by", default="team", choices=["office", "team", "adviser"],
                        help="rows per office, team or adviser (default: team; per adviser for the adviser and "
                             "their team manager, per office for a team leader)")
        period_options(fx)
        fx.add_argument("--window", type=int, default=28, choices=[28, 91],
                        help="days ending on the as-at date for contacts and conference coverage (default 28)")
        fx.add_argument("--format", default=None, choices=["csv", "md", "html"],
                        help="csv (metadata in OUTPUT.meta.json), md or html (metadata inside the file); "
                             "default: the output file's extension")
        fx.add_argument("--output", required=True, metavar="PATH|-", help="file to write, or - for standard output")
        if name in ("beyond52", "sanctions"):
            fx.add_argument("--named", action="store_true",
                            help="name customers (team managers, team leaders and the administrator only)")


def cmd_export_offflow(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.export.offflow import metadata, write_csv, write_metadata
    from caseload.measures.cohorts import CohortKind
    from caseload.store import settings as settings_mod
    from caseload.store.offflow import OffflowQuery, offflow

    try:
        milestones = tuple(sorted({int(m) for m in args.milestones.split(",") if m.strip()}))
    except ValueError:
        raise StoreError(f"--milestones takes whole weeks separated by commas, like 13,26,52 (not {args.milestones!r}).") from None
    if not milestones or min(milestones) < 1:
        raise StoreError("--milestones needs at least one positive number of weeks.")
    engine, actor = open_db(args, clock)
    with engine.connect() as conn:
        conf = settings_mod.load(conn)
        q = OffflowQuery(
            group_by=args.by, cohort=CohortKind(args.cohort or conf.cohort_kind), milestones=milestones,
            first=args.first, last=args.last, last_n=args.last_n,
            benefit=args.benefit.upper() if args.benefit else None,
            attribution=args.attribution or conf.attribution, rule_set=args.rule_set or conf.rule_set,
            as_at=args.as_at,
        )
        result = offflow(conn, actor, q)
        survival = None
        if args.format == "html":
            from caseload.store.survival import CurveQuery, curve

            survival = curve(conn, actor, CurveQuery(
                cohort=q.cohort, first=q.first, last=q.last, last_n=q.last_n, benefit=q.benefit,
                attribution=q.attribution, as_at=result.as_at))
    meta = metadata(result, generated_at=clock.now(), generated_by=actor.id)
    if args.output != "-":
        written = write_offflow(result, meta, Path(args.output), args.format, curve=survival)
        inside = " and the metadata to " + str(written[1]) if len(written) > 1 else ", with the metadata inside the file"
        print(f"Wrote {len(result.rows)} rows to {args.output}{inside}.", file=sys.stderr)
        return 0
    if args.format != "csv":
        # XLSX, Markdown and HTML carry their metadata inside the file, so there is no sidecar.
        if args.format == "xlsx":
            from caseload.export.xlsx import workbook_bytes

            if sys.stdout.isatty():
                raise StoreError("An XLSX workbook is binary: give --output FILE.xlsx, or redirect "
                                 "standard output to a file.")
            sys.stdout.flush()
            sys.stdout.buffer.write(workbook_bytes(result, meta))
            sys.stdout.buffer.flush()
            return 0
        from caseload.export.html import write_html
        from caseload.export.markdown import write_markdown

        # The markers (✓ ✗) and the HTML's declared charset need UTF-8 whatever the console's code page.
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(encoding="utf-8")
        if args.format == "md":
            write_markdown(result, sys.stdout, meta)
        else:
            write_html(result, sys.stdout, meta, curve=survival)
        return 0
    write_csv_and_metadata(args.output, lambda f: write_csv(result, f), lambda f: write_metadata(meta, f),
                           f"{len(result.rows)} rows")
    return 0


def _curve_query(args: argparse.Namespace, conf, cohort: str | None = None):  # noqa: ANN001, ANN202
    from caseload.measures.cohorts import CohortKind
    from caseload.store.survival import CurveQuery

    group = None
    if getattr(args, "group", None):
        name, sep, value = args.group.partition("=")
        if not sep or not value:
            raise StoreError(f"--group takes CHARACTERISTIC=VALUE, like sex=F or age_band=25-49 (not {args.group!r}).")
        group = (name.strip().replace("-", "_"), value.strip())
    return CurveQuery(
        cohort=CohortKind(cohort or args.cohort or conf.cohort_kind), first=args.first, last=args.last,
        last_n=args.last_n, benefit=args.benefit.upper() if args.benefit else None,
        attribution=args.attribution or conf.attribution, as_at=args.as_at,
        office=getattr(args, "office", None), team=getattr(args, "team", None), group=group,
    )


def cmd_export_curve(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.export.curve import metadata, write_csv
    from caseload.export.offflow import write_metadata
    from caseload.store import settings as settings_mod
    from caseload.store.survival import curve

    engine, actor = open_db(args, clock)
    with engine.connect() as conn:
        conf = settings_mod.load(conn)
        result = curve(conn, actor, _curve_query(args, conf))
    meta = metadata(result, generated_at=clock.now(), generated_by=actor.id)
    if result.withheld:
        print(f"{result.label}: fewer than {result.suppress_below} claims, so the curve is withheld "
              "(the header and metadata are written).", file=sys.stderr)
    write_csv_and_metadata(args.output, lambda f: write_csv(result, f), lambda f: write_metadata(meta, f),
                           f"{len(result.points)} weeks")
    return 0


def cmd_export(args: argparse.Namespace, clock: Clock) -> int:
    choices = {"offflow": ("csv", "xlsx", "md", "html"), "agenda": ("md", "html"), "conference": ("md", "html", "csv"),
               "curve": ("csv",)}
    args.format = export_format(args.output, args.format, choices.get(args.what, ("csv", "md", "html")),
                                "csv" if args.what in ("offflow", "curve") else None)
    from caseload.cli.progress import wanted, working

    command = {"offflow": cmd_export_offflow, "agenda": conference.cmd_export_agenda, "curve": cmd_export_curve,
               "conference": conference.cmd_export_conference}.get(args.what, cmd_export_fairness)
    # An export that takes over a second (a large office's figures) shows that it is working.
    with working(wanted(bool(args.quiet)), f"exporting {args.what}"):
        return command(args, clock)


def cmd_export_fairness(args: argparse.Namespace, clock: Clock) -> int:
    """attention, equality, beyond52, sanctions: export/fairness.py builds them, in the off-flow export's shape."""
    from caseload.export.fairness import (
        build_report,
        write_csv,
        write_html,
        write_markdown,
    )
    from caseload.export.offflow import write_metadata
    from caseload.measures.cohorts import CohortKind
    from caseload.store import settings as settings_mod
    from caseload.store.fairness import FairnessQuery
    from caseload.store.offflow import OffflowQuery

    engine, actor = open_db(args, clock)
    named = getattr(args, "named", False)
    named_allowed(actor, named)
    with engine.connect() as conn:
        conf = settings_mod.load(conn)
        period = OffflowQuery(cohort=CohortKind(args.cohort or conf.cohort_kind), first=args.first, last=args.last,
                              last_n=args.last_n, attribution=conf.attribution, rule_set=conf.rule_set,
                              as_at=args.as_at)
        report = build_report(conn, actor, args.what, FairnessQuery(by=args.by, window=args.window, period=period),
                              named=named, generated_at=clock.now(), generated_by=actor.id)
    if args.format == "csv":
        write_csv_and_metadata(args.output, lambda f: write_csv(report, f), lambda f: write_metadata(report.meta, f),
                               f"{len(report.csv_rows)} rows")
        return 0
    write = write_markdown if args.format == "md" else write_html
    write_text(args.output, lambda f: write(report, f))
    if args.output != "-":
        print(f"Wrote the {args.what} export to {args.output}, with the metadata inside the file.", file=sys.stderr)
    return 0
