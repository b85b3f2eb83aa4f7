"""`caseload staff`: staff, their team and role."""

from __future__ import annotations

import argparse

from caseload.cli.common import acting, open_engine
from caseload.clock import Clock


def add_parsers(sub, common: argparse.ArgumentParser) -> None:  # noqa: ANN001
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


def cmd_staff(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.store import staff
    from caseload.store.db import write

    engine = open_engine(args, clock)
    actor = acting(engine, args, clock)
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
