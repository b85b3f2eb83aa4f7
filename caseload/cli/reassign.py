"""`caseload reassign` and `caseload cover`: the command-line side of store.reassign (no Textual)."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from caseload.cli.common import command, open_db
from caseload.clock import Clock
from caseload.store.errors import StoreError

RAG_CHOICES = ("red", "amber", "green", "none")


def add_parsers(sub, common: argparse.ArgumentParser, date: Callable) -> None:  # noqa: ANN001
    ra = command(sub, common, "reassign", "move an adviser's claims to other advisers",
                  "Move an adviser's open claims (all, or those matching every filter given) to one or more "
                  "advisers, shared out evenly in claim-start order, as dated transfers. --dry-run shows who "
                  "would get how many and changes nothing; without it the claims move (--reason required). "
                  "Team managers reassign within their team, team leaders within their office.")
    ra.add_argument("--from", dest="from_adviser", metavar="ADVISER", help="the adviser the claims move from")
    ra.add_argument("--to", metavar="ADVISER[,ADVISER...]", help="the adviser(s) they move to")
    ra.add_argument("--rag", action="append", metavar="BAND",
                    help="only these RAG bands: red, amber, green, none (unrated); repeat or comma-separate")
    ra.add_argument("--approaching", action="store_true", help="only claims approaching a 13, 26 or 52-week milestone")
    ra.add_argument("--beyond-52", action="store_true", help="only claims of 52 weeks or more")
    ra.add_argument("--reason", metavar="TEXT", help="why (required unless --dry-run); kept on each claim's record")
    ra.add_argument("--on", type=date, metavar="DATE", help="the transfer date (default: today; not in the future)")
    ra.add_argument("--dry-run", action="store_true", help="show the share-out; change nothing")
    ra_sub = ra.add_subparsers(dest="what", metavar="conflicts")
    cf = command(ra_sub, common, "conflicts", "extracts that disagree with a local reassignment",
                  "Claims a later extract gave to another holder while a local reassignment was in force: "
                  "the extract's holder was not applied. List them, or resolve one by keeping the local "
                  "holder or taking the extract's (a transfer dated today).")
    cf.add_argument("--all", action="store_true", help="resolved ones too")
    cf.add_argument("--resolve", type=int, metavar="ID",
                    help="resolve this conflict (with --keep-local or --take-extract)")
    how = cf.add_mutually_exclusive_group()
    how.add_argument("--keep-local", action="store_true", help="keep the local reassignment")
    how.add_argument("--take-extract", action="store_true", help="move the claim to the extract's holder")

    cover = command(sub, common, "cover", "temporary cover of an adviser's caseload",
                     "An adviser's caseload visible to a colleague between two dates (both included), "
                     "without changing who holds the claims. Arranged by team managers and team leaders.")
    cv_sub = cover.add_subparsers(dest="what", metavar="ACTION", required=True)
    add = command(cv_sub, common, "add", "arrange cover")
    add.add_argument("--adviser", required=True, metavar="STAFF_ID", help="whose caseload is covered")
    add.add_argument("--by", required=True, metavar="STAFF_ID", help="the colleague who covers it")
    add.add_argument("--from", dest="start", required=True, type=date, metavar="DATE", help="first day")
    add.add_argument("--to", dest="end", required=True, type=date, metavar="DATE", help="last day")
    add.add_argument("--reason", default="", metavar="TEXT", help="why (annual leave, say)")
    ls = command(cv_sub, common, "list", "current and coming cover")
    ls.add_argument("--all", action="store_true", help="past and ended cover too")
    end = command(cv_sub, common, "end", "end a cover now")
    end.add_argument("cover_id", type=int, metavar="ID")


def _filter(args: argparse.Namespace):  # noqa: ANN202
    from caseload.store.reassign import ClaimFilter

    bands = tuple(b.strip().lower() for value in (args.rag or []) for b in value.split(",") if b.strip())
    return ClaimFilter(rag=bands, approaching=args.approaching, beyond_52=args.beyond_52)


def cmd_reassign(args: argparse.Namespace, clock: Clock) -> int:
    if args.what == "conflicts":
        return _conflicts(args, clock)
    from caseload.store import reassign
    from caseload.store.db import write
    from caseload.store.info import staff_names

    if not args.from_adviser or not args.to:
        raise StoreError("Say whose claims and to whom: caseload reassign --from ADVISER --to ADVISER[,ADVISER...].")
    if not args.dry_run and not (args.reason or "").strip():
        raise StoreError("--reason TEXT is required to reassign (it stays on each claim's record); "
                         "--dry-run shows the share-out without changing anything.")
    flt = _filter(args)
    targets = [t.strip() for t in args.to.split(",") if t.strip()]
    engine, actor = open_db(args, clock)
    if args.dry_run:
        with engine.connect() as conn:
            p = reassign.plan(conn, clock, actor, args.from_adviser, targets, flt, args.on)
        print(f"Dry run: {p.total} of {args.from_adviser}'s {flt.describe()} would move on {p.on.isoformat()}:")
        for t in p.targets:
            cs = p.shares[t.id]
            print(f"  {t.id} {t.name}: {len(cs)}" + (f"  ({', '.join(c.claim_id for c in cs)})" if cs else ""))
        print("Nothing was changed. Without --dry-run (and with --reason) the claims move.")
        return 0
    with write(engine) as conn:
        result = reassign.reassign(conn, clock, actor, args.from_adviser, targets, flt, args.reason, args.on)
        names = staff_names(conn, targets)
    print(f"Reassigned {result.total} of {args.from_adviser}'s {flt.describe()} on {result.on.isoformat()}:")
    for t, n in result.shares.items():
        print(f"  {t} {names.get(t) or ''}: {n}")
    if result.actions_moved:
        print(f"{result.actions_moved} open actions {args.from_adviser} owned on them moved with the claims.")
    return 0


def _conflicts(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.store import reassign
    from caseload.store.db import write

    engine, actor = open_db(args, clock)
    if args.resolve is not None:
        if not (args.keep_local or args.take_extract):
            raise StoreError("Say how: --keep-local keeps the local reassignment, --take-extract moves the claim "
                             "to the extract's holder.")
        with write(engine) as conn:
            done = reassign.resolve_conflict(conn, clock, actor, args.resolve, args.take_extract)
        print(f"Conflict {args.resolve}: {done}.")
        return 0
    with engine.connect() as conn:
        rows = reassign.list_conflicts(conn, actor, open_only=not args.all)
    if not rows:
        print("No open conflicts: every extract agrees with the local reassignments." if not args.all
              else "No conflicts.")
        return 0
    print("ID  CLAIM  EXTRACT AS AT  EXTRACT SAYS  HELD HERE BY  STATUS")
    for r in rows:
        print(f"{r.id}  {r.claim_id}  {r.as_at.isoformat()}  {r.extract_adviser}  {r.local_adviser}  "
              f"{r.resolution or 'open'}")
    print("Resolve one with: caseload reassign conflicts --resolve ID --keep-local | --take-extract")
    return 0


def cmd_cover(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.store import reassign
    from caseload.store.db import write

    engine, actor = open_db(args, clock)
    if args.what == "list":
        with engine.connect() as conn:
            rows = reassign.list_covers(conn, actor, clock.today(), include_past=args.all)
        if not rows:
            print("No cover arranged.")
        for r in rows:
            print(f"{r.id}  {r.describe()}")
        return 0
    with write(engine) as conn:
        if args.what == "add":
            new = reassign.add_cover(conn, clock, actor, args.adviser, args.by, args.start, args.end, args.reason)
            print(f"Cover {new}: {args.by} sees {args.adviser}'s caseload from {args.start.isoformat()} to "
                  f"{args.end.isoformat()}.")
        else:
            row = reassign.end_cover(conn, clock, actor, args.cover_id)
            print(f"Ended cover {row.id}: {row.describe()}")
    return 0
