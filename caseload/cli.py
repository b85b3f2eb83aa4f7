"""The `caseload` command.

`import`, `export`, `staff` and `db` never import Textual, so they start fast; only opening
the app does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from collections.abc import Sequence
from typing import Callable

from caseload.clock import Clock, SystemClock
from caseload.store.errors import StoreError

DB_HELP = "database URL or SQLite path (default: $CASELOAD_DB, else caseload.sqlite3 in your data directory)"


def _date(value: str) -> dt.date:
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a date in the form YYYY-MM-DD") from None


def _common(default: object = argparse.SUPPRESS) -> argparse.ArgumentParser:
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


def _period_options(p: argparse.ArgumentParser) -> None:
    """The cohort period options every export of cohort figures shares (off-flow and fairness)."""
    p.add_argument("--cohort", default=None, choices=["calendar-month", "reporting-month", "quarter", "year"],
                   help="cohort period kind (default: the database's setting, reporting-month)")
    p.add_argument("--from", dest="first", type=_date, metavar="DATE", help="first day of the first cohort period")
    p.add_argument("--to", dest="last", type=_date, metavar="DATE", help="last day of the last cohort period")
    p.add_argument("--last", dest="last_n", type=int, default=12, metavar="N",
                   help="the last N complete periods before the as-at date (default 12)")
    p.add_argument("--as-at", type=_date, metavar="DATE", help="compute as at this date (default: the latest import's)")


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="caseload", parents=[_common(default=None)],
        description="Caseloads, caseload conferences and off-flow figures for employment advisers. "
                    "With no command, opens the app.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    imp = sub.add_parser("import", parents=[common], help="import data", description="Import data.")
    imp_sub = imp.add_subparsers(dest="what", metavar="WHAT", required=True)
    claims = imp_sub.add_parser(
        "claims", parents=[common], help="import a claims extract (CSV)",
        description="Import a claims extract from the central system. One bad row rejects the whole "
                    "file and nothing changes, unless --partial is given.",
    )
    claims.add_argument("path", metavar="PATH", type=Path)
    claims.add_argument("--as-at", required=True, type=_date, metavar="YYYY-MM-DD",
                        help="the date the extract was taken")
    claims.add_argument("--partial", action="store_true",
                        help="import the good rows and write the bad ones to --rejects")
    claims.add_argument("--rejects", type=Path, metavar="PATH",
                        help="write the bad rows, each with its reason, to this CSV file")

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
    _period_options(off)
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
    _period_options(cu)
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

    ag = exp_sub.add_parser(
        "agenda", parents=[common], help="a caseload conference agenda, in advance",
        description="The agenda of an adviser's caseload conference on a date, printable, for the adviser "
                    "to prepare: built by the rules, or the conference's own when it has been started. "
                    "Customers appear by claim id unless --named is given.",
    )
    ag.add_argument("--adviser", required=True, metavar="STAFF_ID", help="the adviser")
    ag.add_argument("--date", type=_date, metavar="DATE", help="the conference date (default: today)")
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
    cs.add_argument("--date", type=_date, metavar="DATE", help="conferences held on this date (default: the latest)")
    cs.add_argument("--format", default=None, choices=["md", "html", "csv"],
                    help="md or html (one page per conference), or csv (one row per customer)")
    cs.add_argument("--output", required=True, metavar="PATH|-", help="file to write, or - for standard output")
    cs.add_argument("--named", action="store_true",
                    help="name customers (team managers, team leaders and the administrator only)")
    from caseload.export.fairness import HELP as FAIRNESS_HELP

    for name, (summary, description) in FAIRNESS_HELP.items():
        fx = exp_sub.add_parser(name, parents=[common], help=summary, description=description)
        fx.add_argument("--by", default="team", choices=["office", "team", "adviser"],
                        help="rows per office, team or adviser (default: team; per adviser for the adviser and "
                             "their team manager, per office for a team leader)")
        _period_options(fx)
        fx.add_argument("--window", type=int, default=28, choices=[28, 91],
                        help="days ending on the as-at date for contacts and conference coverage (default 28)")
        fx.add_argument("--format", default=None, choices=["csv", "md", "html"],
                        help="csv (metadata in OUTPUT.meta.json), md or html (metadata inside the file); "
                             "default: the output file's extension")
        fx.add_argument("--output", required=True, metavar="PATH|-", help="file to write, or - for standard output")
        if name in ("beyond52", "sanctions"):
            fx.add_argument("--named", action="store_true",
                            help="name customers (team managers, team leaders and the administrator only)")

    staff = sub.add_parser("staff", parents=[common], help="staff, teams and roles",
                           description="Staff, their team and role. Advisers arrive with extracts.")
    st_sub = staff.add_subparsers(dest="what", metavar="ACTION", required=True)
    add = st_sub.add_parser("add", parents=[common], help="add a staff member")
    add.add_argument("staff_id", metavar="STAFF_ID")
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=["adviser", "team_manager", "team_leader"])
    add.add_argument("--team", help="team name (advisers and team managers)")
    add.add_argument("--office", help="office name (team leaders; or to tell teams of one name apart)")
    sr = st_sub.add_parser("set-role", parents=[common], help="change a staff member's role")
    sr.add_argument("staff_id", metavar="STAFF_ID")
    sr.add_argument("role", choices=["adviser", "team_manager", "team_leader"])
    mv = st_sub.add_parser("move", parents=[common], help="move a staff member to another team")
    mv.add_argument("staff_id", metavar="STAFF_ID")
    mv.add_argument("--team", required=True)
    mv.add_argument("--office")
    gr = st_sub.add_parser(
        "grant", parents=[common], help="PostgreSQL: give a staff member their own login",
        description="PostgreSQL only, as the database owner: create the login role NAME if missing (no password "
                    "is set or stored: see docs/deploy.md), link it to STAFF_ID and make it a member of the "
                    "group role of their staff role (caseload_adviser, caseload_team_manager, caseload_team_leader).")
    gr.add_argument("staff_id", metavar="STAFF_ID")
    gr.add_argument("--login", required=True, metavar="NAME", help="the PostgreSQL login role")
    rv = st_sub.add_parser(
        "revoke", parents=[common], help="PostgreSQL: take a staff member's login access away",
        description="PostgreSQL only, as the database owner: the login leaves the group roles and is unlinked "
                    "from STAFF_ID; the staff record and the audit keep the history.")
    rv.add_argument("staff_id", metavar="STAFF_ID")
    ls = st_sub.add_parser("list", parents=[common], help="list staff with team, role and open claims")
    ls.add_argument("--team", help="only this team")

    demo = sub.add_parser(
        "demo", parents=[common], help="build a demo office and open the app",
        description="Build a demo office in the database caseload would open (refusing one that holds "
                    "real data), then open the app as the first team's manager. The same seed gives the "
                    "same office, as at the same date.",
    )
    demo.add_argument("--seed", type=int, default=1, help="which demo office (default 1)")
    demo.add_argument("--no-open", action="store_true", help="only build it")

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

    from caseload.cli_reassign import add_parsers as add_reassign_parsers

    add_reassign_parsers(sub, common, _date)

    db = sub.add_parser("db", parents=[common], help="the database", description="The database.")
    db_sub = db.add_subparsers(dest="what", metavar="ACTION", required=True)
    db_sub.add_parser("info", parents=[common], help="schema version, counts and the latest import")
    db_sub.add_parser("imports", parents=[common], help="import history")
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
    from caseload.cli_privacy import add_parsers as add_privacy_parsers

    add_privacy_parsers(sub, common, _date)
    return parser


def _engine(args: argparse.Namespace, clock: Clock, *, create: bool = True):  # noqa: ANN202
    from caseload.store.db import open_database

    return open_database(args.db, clock, create=create)


def _actor(engine, args: argparse.Namespace, clock: Clock):  # noqa: ANN001, ANN202
    """Who is acting, on the clock's today (a temporary cover current that day lets the covered adviser's
    caseload in). SQLite: --as, else the database owner. PostgreSQL: the login's own staff record; only the
    owner may use --as, and it is audited (store/logins.py)."""
    from caseload.store.logins import connected_actor

    return connected_actor(engine, clock, args.as_staff, clock.today())


def _open(args: argparse.Namespace, clock: Clock):  # noqa: ANN202
    """An existing database and who is acting on it today, for a command's handler."""
    engine = _engine(args, clock, create=False)
    return engine, _actor(engine, args, clock)


def _command(sub, common: argparse.ArgumentParser, name: str, summary: str,  # noqa: ANN001, ANN202
             description: str | None = None):
    """A command, or one of a command's actions, that takes --db and --as (`common`) wherever they are
    written: `summary` in the list of commands, `description` (if any) in its own --help."""
    return sub.add_parser(name, parents=[common], help=summary, description=description)


def cmd_import_claims(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.cli_progress import import_bar, wanted
    from caseload.store.importer import import_claims

    engine = _engine(args, clock)
    actor = _actor(engine, args, clock)
    with import_bar(wanted(bool(args.quiet))) as progress:
        r = import_claims(engine, args.path, as_at=args.as_at, actor=actor, clock=clock,
                          partial=args.partial, rejects=args.rejects, progress=progress)
    for w in r.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if r.already_imported is not None:
        print(f"{r.file_name} was already imported (batch {r.already_imported}); nothing changed.")
        return 0
    print(f"Imported {r.file_name} as at {r.as_at.isoformat()} (batch {r.batch_id}): {r.rows_read} rows read, "
          f"{r.claims_added} claims added, {r.claims_updated} updated, {r.transfers} transfers.")
    if r.rows_rejected:
        print(f"{r.rows_rejected} rows were rejected and written, with their reasons, to {args.rejects}.")
    if r.assignment_conflicts:
        print(f"{r.assignment_conflicts} claims: the extract disagrees with a local reassignment; "
              "see `caseload reassign conflicts`.")
    return 0


FORMAT_BY_SUFFIX = {".csv": "csv", ".xlsx": "xlsx", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html"}


def export_format(output: str, given: str | None, choices: Sequence[str], default: str | None = None) -> str:
    """The format an export is written in: --format, else the output file's extension, else `default`.
    A --format that contradicts the extension (CSV text in a file named .xlsx) is refused."""
    path = Path(output)
    from_name = FORMAT_BY_SUFFIX.get(path.suffix.lower()) if output != "-" else None
    if given and from_name and given != from_name:
        raise StoreError(f"--format {given} does not match the file name {output} ({path.suffix} is "
                         f"{FORMAT_NAMES[from_name]}): leave out --format, or name the file "
                         f"{path.with_suffix(_suffix(given)).name}.")
    fmt = given or from_name or default
    if fmt is None:
        raise StoreError(f"Which format? Give --format {'|'.join(choices)}, or an --output file name ending in "
                         f"{', '.join(_suffix(c) for c in choices)}.")
    if fmt not in choices:
        raise StoreError(f"This export is written as {_or([FORMAT_NAMES[c] for c in choices])}, not "
                         f"{FORMAT_NAMES[fmt]}: name the file {path.with_suffix(_suffix(choices[0])).name} "
                         f"(or {', '.join(_suffix(c) for c in choices[1:])}).")
    return fmt


FORMAT_NAMES = {"csv": "CSV", "xlsx": "XLSX", "md": "Markdown", "html": "HTML"}


def _or(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _suffix(fmt: str) -> str:
    return next(k for k, v in FORMAT_BY_SUFFIX.items() if v == fmt)


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
    engine, actor = _open(args, clock)
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
    if args.format != "csv":
        # XLSX, Markdown and HTML carry their metadata inside the file, so there is no sidecar.
        if args.format == "xlsx":
            from caseload.export.xlsx import workbook_bytes

            data = workbook_bytes(result, meta)
            if args.output == "-":
                if sys.stdout.isatty():
                    raise StoreError("An XLSX workbook is binary: give --output FILE.xlsx, or redirect "
                                     "standard output to a file.")
                sys.stdout.flush()
                sys.stdout.buffer.write(data)
                sys.stdout.buffer.flush()
                return 0
            # The temporary file is opened as text; the workbook goes to the byte stream beneath it.
            _write_atomic(Path(args.output), lambda f: f.buffer.write(data))
        else:
            from caseload.export.html import write_html
            from caseload.export.markdown import write_markdown

            if args.format == "md":
                write = write_markdown
            else:
                def write(result, out, meta):  # noqa: ANN001, ANN202
                    return write_html(result, out, meta, curve=survival)
            if args.output == "-":
                # The markers (✓ ✗) and the HTML's declared charset need UTF-8 whatever the console's code page.
                if hasattr(sys.stdout, "reconfigure"):
                    sys.stdout.reconfigure(encoding="utf-8")
                write(result, sys.stdout, meta)
                return 0
            _write_atomic(Path(args.output), lambda f: write(result, f, meta))
        print(f"Wrote {len(result.rows)} rows to {args.output}, with the metadata inside the file.", file=sys.stderr)
        return 0
    if args.output == "-":
        write_csv(result, sys.stdout)
        write_metadata(meta, sys.stderr)
        return 0
    out = Path(args.output)
    meta_path = out.with_name(out.name + ".meta.json")
    _write_atomic(out, lambda f: write_csv(result, f))
    _write_atomic(meta_path, lambda f: write_metadata(meta, f))
    print(f"Wrote {len(result.rows)} rows to {out} and the metadata to {meta_path}.", file=sys.stderr)
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

    engine, actor = _open(args, clock)
    with engine.connect() as conn:
        conf = settings_mod.load(conn)
        result = curve(conn, actor, _curve_query(args, conf))
    meta = metadata(result, generated_at=clock.now(), generated_by=actor.id)
    if result.withheld:
        print(f"{result.label}: fewer than {result.suppress_below} claims, so the curve is withheld "
              "(the header and metadata are written).", file=sys.stderr)
    if args.output == "-":
        write_csv(result, sys.stdout)
        write_metadata(meta, sys.stderr)
        return 0
    out = Path(args.output)
    meta_path = out.with_name(out.name + ".meta.json")
    _write_atomic(out, lambda f: write_csv(result, f))
    _write_atomic(meta_path, lambda f: write_metadata(meta, f))
    print(f"Wrote {len(result.points)} weeks to {out} and the metadata to {meta_path}.", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace, clock: Clock) -> int:
    choices = {"offflow": ("csv", "xlsx", "md", "html"), "agenda": ("md", "html"), "conference": ("md", "html", "csv"),
               "curve": ("csv",)}
    args.format = export_format(args.output, args.format, choices.get(args.what, ("csv", "md", "html")),
                                "csv" if args.what in ("offflow", "curve") else None)
    return {"offflow": cmd_export_offflow, "agenda": cmd_export_agenda, "curve": cmd_export_curve,
            "conference": cmd_export_conference}.get(args.what, cmd_export_fairness)(args, clock)


def _named_allowed(actor, named: bool) -> None:  # noqa: ANN001
    from caseload.store.conference import may_name_customers

    if named and not may_name_customers(actor):
        raise StoreError(f"--named lists customers by name: only a team manager, a team leader or the database "
                         f"owner may ask for it (you are acting as {actor.role.label} {actor.id}). Leave out "
                         "--named to list them by claim id.")


def _write_text(output: str, write: Callable) -> None:
    if output == "-":
        if hasattr(sys.stdout, "reconfigure"):
            sys.stdout.reconfigure(encoding="utf-8")
        write(sys.stdout)
        return
    _write_atomic(Path(output), write)


def cmd_export_agenda(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.export.conference import write_agenda_html, write_agenda_markdown
    from caseload.store import settings as settings_mod
    from caseload.store.conference import agenda

    engine, actor = _open(args, clock)
    _named_allowed(actor, args.named)
    on = args.date or clock.today()
    with engine.connect() as conn:
        result = agenda(conn, actor, args.adviser, on, settings_mod.load(conn).approaching_days)
    write = write_agenda_markdown if args.format == "md" else write_agenda_html
    _write_text(args.output, lambda f: write(result, f, named=args.named, generated_at=clock.now(),
                                             generated_by=actor.id))
    if args.output != "-":
        print(f"Wrote the agenda for {args.adviser} on {on.isoformat()} ({len(result.items)} customers) to "
              f"{args.output}.", file=sys.stderr)
    return 0


def cmd_export_conference(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.export.conference import (
        summary_metadata, write_metadata, write_summary_csv, write_summary_html, write_summary_markdown,
    )
    from caseload.store.conference import conference_summary, find_conferences

    engine, actor = _open(args, clock)
    _named_allowed(actor, args.named)
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
        if args.output == "-":
            write_summary_csv(summaries, sys.stdout, named=args.named)
            write_metadata(meta, sys.stderr)
            return 0
        out = Path(args.output)
        meta_path = out.with_name(out.name + ".meta.json")
        _write_atomic(out, lambda f: write_summary_csv(summaries, f, named=args.named))
        _write_atomic(meta_path, lambda f: write_metadata(meta, f))
        print(f"Wrote {len(summaries)} conference{'s' if len(summaries) != 1 else ''} to {out} and the metadata "
              f"to {meta_path}.", file=sys.stderr)
        return 0
    write = write_summary_markdown if args.format == "md" else write_summary_html
    _write_text(args.output, lambda f: write(summaries, f, **kw))
    if args.output != "-":
        print(f"Wrote {len(summaries)} conference summar{'ies' if len(summaries) != 1 else 'y'} to {args.output}.",
              file=sys.stderr)
    return 0


def cmd_export_fairness(args: argparse.Namespace, clock: Clock) -> int:
    """attention, equality, beyond52, sanctions: export/fairness.py builds them, in the off-flow export's shape."""
    from caseload.export.fairness import build_report, write_csv, write_html, write_markdown
    from caseload.export.offflow import write_metadata
    from caseload.measures.cohorts import CohortKind
    from caseload.store import settings as settings_mod
    from caseload.store.fairness import FairnessQuery
    from caseload.store.offflow import OffflowQuery

    engine, actor = _open(args, clock)
    named = getattr(args, "named", False)
    _named_allowed(actor, named)
    with engine.connect() as conn:
        conf = settings_mod.load(conn)
        period = OffflowQuery(cohort=CohortKind(args.cohort or conf.cohort_kind), first=args.first, last=args.last,
                              last_n=args.last_n, attribution=conf.attribution, rule_set=conf.rule_set,
                              as_at=args.as_at)
        report = build_report(conn, actor, args.what, FairnessQuery(by=args.by, window=args.window, period=period),
                              named=named, generated_at=clock.now(), generated_by=actor.id)
    if args.format == "csv":
        if args.output == "-":
            write_csv(report, sys.stdout)
            write_metadata(report.meta, sys.stderr)
            return 0
        out = Path(args.output)
        meta_path = out.with_name(out.name + ".meta.json")
        _write_atomic(out, lambda f: write_csv(report, f))
        _write_atomic(meta_path, lambda f: write_metadata(report.meta, f))
        print(f"Wrote {len(report.csv_rows)} rows to {out} and the metadata to {meta_path}.", file=sys.stderr)
        return 0
    write = write_markdown if args.format == "md" else write_html
    _write_text(args.output, lambda f: write(report, f))
    if args.output != "-":
        print(f"Wrote the {args.what} export to {args.output}, with the metadata inside the file.", file=sys.stderr)
    return 0


def _write_atomic(path: Path, write: Callable) -> None:
    """Write beside the target and rename, so a reader never sees half a file."""
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cmd_staff(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.store import staff
    from caseload.store.db import write

    engine = _engine(args, clock)
    actor = _actor(engine, args, clock)
    if args.what == "list":
        with engine.connect() as conn:
            rows = staff.list_staff(conn, actor, args.team)
        if not rows:
            print("No staff yet: advisers arrive with claims extracts; add managers with `caseload staff add`.")
            return 0
        widths = [max(len(str(getattr(r, f) or "")) for r in rows) for f in ("id", "name", "role", "team", "office")]
        heads = ("ID", "NAME", "ROLE", "TEAM", "OFFICE")
        widths = [max(w, len(h)) for w, h in zip(widths, heads)]
        print("  ".join(h.ljust(w) for h, w in zip(heads, widths)) + "  OPEN CLAIMS")
        for r in rows:
            cells = (r.id, r.name, r.role, r.team or "-", r.office or "-")
            print("  ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + f"  {r.open_claims:>11}")
        return 0
    with write(engine) as conn:
        if args.what == "add":
            staff.add(conn, clock, actor, args.staff_id, args.name, args.role, args.team, args.office)
            print(f"Added {args.staff_id} ({args.name}) as {args.role.replace('_', ' ')}.")
        elif args.what == "set-role":
            staff.set_role(conn, clock, actor, args.staff_id, args.role)
            print(f"{args.staff_id} is now {args.role.replace('_', ' ')}.")
        elif args.what == "move":
            staff.move(conn, clock, actor, args.staff_id, args.team, args.office)
            print(f"{args.staff_id} is now in team {args.team}.")
        elif args.what == "grant":
            from caseload.store import logins

            created = logins.grant(conn, clock, actor, args.staff_id, args.login)
            print(f"{args.staff_id} connects as {args.login}" + (
                " (a new login: set its password with \\password in psql, or see docs/deploy.md)." if created else "."))
        elif args.what == "revoke":
            from caseload.store import logins

            login = logins.revoke(conn, clock, actor, args.staff_id)
            print(f"{args.staff_id} no longer has access as {login}." if login
                  else f"{args.staff_id} had no login; nothing changed.")
    return 0


def cmd_db(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.store.db import describe, resolve_url
    from caseload.store.info import db_info, imports

    if args.what in ("copy", "backup"):
        return _db_transfer(args, clock)
    engine = _engine(args, clock, create=False)
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


def cmd_note(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.store import notes
    from caseload.store import settings as settings_mod
    from caseload.store.db import write

    engine, actor = _open(args, clock)
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


def cmd_demo(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.demo import build_demo

    engine = _engine(args, clock)
    from caseload.cli_progress import import_bar, wanted

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
    from caseload.cli_privacy import cmd_audit, cmd_customer

    parser = build_parser()
    args = parser.parse_args(argv)
    clock = clock or SystemClock()
    from caseload.cli_reassign import cmd_cover, cmd_reassign

    handlers = {
        "reassign": cmd_reassign,
        "cover": cmd_cover,
        "import": cmd_import_claims,
        "export": cmd_export,
        "staff": cmd_staff,
        "db": cmd_db,
        "note": cmd_note,
        "demo": cmd_demo,
        "customer": cmd_customer,
        "audit": cmd_audit,
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


if __name__ == "__main__":
    sys.exit(main())
