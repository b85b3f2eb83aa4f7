"""`caseload customer erase` and `caseload audit`: erasing a customer's personal details, reading the audit log."""

from __future__ import annotations

import argparse

from caseload.cli.common import command, open_db
from caseload.clock import Clock


def add_parsers(sub, common: argparse.ArgumentParser, date_type) -> None:  # noqa: ANN001
    customer = command(sub, common, "customer", "a customer's personal data", "A customer's personal data.")
    c_sub = customer.add_subparsers(dest="what", metavar="ACTION", required=True)
    erase = command(
        c_sub, common, "erase", "erase a customer's personal details (team leaders)",
        "Remove a customer's name, NI number, date of birth, sex, disability and ethnicity, and every free text "
        "about their claims (notes, RAG reasons, actions, conference discussions), in one transaction. Claims, "
        "dates, end reasons, RAG bands and counts stay, so every off-flow figure is unchanged; equality "
        "breakdowns count the customer as 'not recorded'. Later extracts do not bring the details back. The "
        "audit log records that the customer was erased, by whom, when and the reason category. Team leaders "
        "(their office's customers) and the database owner only.")
    erase.add_argument("customer_id", metavar="ID", help="the customer id (as in the extract)")
    erase.add_argument("--reason", required=True, metavar="CATEGORY",
                       help="request: the customer asked; retention: the retention period ended; error: recorded "
                            "in error; other: another reason recorded outside caseload")
    audit = command(sub, common, "audit", "read the audit log",
                     "The audit log, newest first: who changed what and when. Free text is never kept in it "
                     "(shown as [text]). Team leaders and the database owner read all of it, a team manager "
                     "their team's staff and customers, an adviser what they did. Nothing can edit it.")
    audit.add_argument("--customer", metavar="ID", help="only changes to this customer and their claims")
    audit.add_argument("--staff", metavar="STAFF_ID", help="only changes made by (or to) this staff member")
    audit.add_argument("--since", type=date_type, metavar="DATE", help="only changes on or after this date")
    audit.add_argument("--limit", type=int, default=100, metavar="N", help="at most N entries (default 100; 0: all)")


def cmd_customer(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.store.db import write
    from caseload.store.erase import checkpoint, erase_customer

    engine, actor = open_db(args, clock)
    with write(engine) as conn:
        erased = erase_customer(conn, clock, actor, args.customer_id, args.reason)
    with engine.connect() as conn:
        clean = checkpoint(conn)
    print(f"Erased customer {erased.customer_id}: personal details removed; {erased.texts} free-text "
          f"entr{'y' if erased.texts == 1 else 'ies'} on {erased.claims} claim{'' if erased.claims == 1 else 's'} "
          "replaced by (erased). Claims, dates and counts are kept.")
    if not clean:
        print("Someone has the database open: the erased text leaves its write-ahead log when they close it.")
    return 0


def cmd_audit(args: argparse.Namespace, clock: Clock) -> int:
    from caseload.store.audit import read_audit

    engine, actor = open_db(args, clock)
    with engine.connect() as conn:
        rows = read_audit(conn, actor, customer=args.customer, staff=args.staff, since=args.since, limit=args.limit)
    if not rows:
        print("No audit entries match.")
        return 0
    print("WHEN              BY          ACTION     RECORD                FIELD             FROM → TO")
    for r in rows:
        change = "" if r.old is None and r.new is None else f"{r.old if r.old is not None else '-'} → {r.new}"
        print(f"{r.at:%Y-%m-%d %H:%M}  {r.actor:<10}  {r.action:<9}  {r.entity + ' ' + r.entity_id:<20}  "
              f"{r.field or '':<16}  {change}".rstrip())
    return 0
