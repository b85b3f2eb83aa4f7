"""Fairness exports (issue 7): attention, equality, beyond52 and sanctions as CSV (with a `.meta.json`
sidecar), Markdown and HTML, and the tables the fairness screen shows.

Every view becomes `Table`s of plain text cells, built once here: the screen, the Markdown and the
HTML show the same cells. The CSV is one table of pure data per export. The metadata has the
off-flow export's keys (export/offflow.py `metadata`) plus each view's definitions. Customers
appear by claim id; names and customer ids only in a named export (`named=True`, which the command
line allows for team managers, team leaders and the administrator). Nothing is ranked: groups are in
name order, customers by group, claim start and claim id.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import IO, Any

from sqlalchemy import Connection

from caseload.escaping import html_head, sheet_row
from caseload.export.common import header
from caseload.export.html import CSS, e
from caseload.export.markdown import md_table
from caseload.export.markdown import md, soft
from caseload.export.offflow import COLUMNS as OFFFLOW_COLUMNS
from caseload.export.offflow import DEFINITIONS as OFFFLOW_DEFINITIONS
from caseload.export.offflow import metadata as offflow_metadata
from caseload.export.offflow import row_values
from caseload.measures.clock import RECENT_DAYS
from caseload.measures.offflow import PERSONAL
from caseload.measures.rates import suppressed, truncated_pct
from caseload.store.access import Actor
from caseload.store.fairness import (
    BEYOND_BANDS, DURATION_WORDS, REFERRAL_DAYS, AttentionResult, CustomerList, EqualityResult, FairnessQuery,
    GroupTally, QualityRow, SanctionsResult, Tally, attention, beyond_52, equality, sanctions, suppress_rate,
)
from caseload.store.offflow import OffflowResult, offflow

REPORTS = ("attention", "equality", "beyond52", "sanctions")
TITLES = {
    "attention": "Attention balance", "equality": "Equality breakdown", "beyond52": "Beyond 52 weeks",
    "sanctions": "Sanction share, referrals and destination quality",
}
RAG_WORDS = {"R": "Red", "A": "Amber", "G": "Green"}

DEFINITIONS = {
    "attention": {
        "window": "the N days ending on the as-at date (28 or 91); a contact or conference dated in them counts",
        "customers": "open claims on the caseload at the as-at date (current holder)",
        "RAG band": "the customer's current rating: Red, Amber, Green, or not rated",
        "duration band": "days on benefit at the as-at date: 0-91 (0-13 weeks), 92-182 (13-26), 183-364 (26-52), "
                         "365 and over (52 weeks and over)",
        "contacts": "contacts logged in the window (withdrawn ones left out); per customer = contacts / customers, "
                    "truncated to 2 decimals",
        "conference coverage": "the share of customers discussed at a caseload conference held in the window",
        "open actions": "actions open now, whatever their due date; per customer = open actions / customers",
        "near a milestone": "a contact made 0 to 28 days (the approaching window) before one of the customer's "
                            "13, 26 or 52-week milestones",
        "share of caseload": "the customer-days in the window spent 0 to 28 days before a milestone, over all the "
                             "caseload's customer-days in the window: what the contact share would be if contacts "
                             "were spread evenly",
    },
    "red": {
        "Red without a plan": "Red now, and the plan update (the later of the day the current run of Red began "
                              "and the last conference item with a plan) is more than 62 days before the as-at date",
        "waited": "days from the plan update to the as-at date",
    },
    "beyond52": {
        "beyond 52": "an open claim 365 days or more on benefit at the as-at date",
        "duration": "52-78 weeks (365-545 days), 78-104 weeks (546-727), 104 weeks and over (728 and more)",
        "no recent contact": f"no contact in the last {RECENT_DAYS} days; not discussed: no conference item in the "
                             f"last {RECENT_DAYS} days",
    },
    "sanctions": {
        "sanction share": "sanction off-flows (confirmed destination, else the extract's reason) over the "
                          "off-flows by that milestone, beside the off-flow rate",
        "referral flagged": f"a decision maker referral made 0 to {REFERRAL_DAYS} days before a 13, 26 or 52-week "
                            f"milestone of the claim ({REFERRAL_DAYS} days before is flagged, "
                            f"{REFERRAL_DAYS + 1} is not); referrals dated in the cohort periods, up to the as-at date",
        "destination quality": "per cohort: every claim of it ended by the as-at date; how many the extract gave as "
                               "not known (or empty) or failed to sign; how many of those an adviser later "
                               "confirmed; how many are still not known or failed to sign",
    },
    "equality": {
        "groups": "age band at claim start (16-17, 18-24, 25-49, 50+), sex, disability and ethnicity as the "
                  "extract records them; a missing value is the group 'not recorded', never guessed",
        "suppression": "every count under the threshold, zero included, shows as <5; a rate derived from it is empty",
        "into employment": "employment off-flows / cohort size",
        "RAG mix and coverage": "open customers at the as-at date (current holder) by current rating, and the share "
                                "discussed at a conference in the window",
        "pooled": "the screen and the readable formats pool each group's cohorts that are final at the milestone",
    },
}


@dataclass(frozen=True)
class Table:
    """One table of plain text cells, with the line that says what it means."""

    key: str
    heading: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    note: str
    right: tuple[int, ...] = ()  # columns of numbers, right-aligned


def _n(v: Any) -> str:
    return "" if v is None else str(v)


def _pct(v: str | None) -> str:
    return "n/a" if v is None else f"{v}%"


def _date(d: dt.date | None) -> str:
    return d.isoformat() if d else ""


def customer_cells(claim_id: str, customer_id: str, name: str, named: bool) -> tuple[str, str]:
    """(claim, customer): the customer is named only in a named list."""
    return claim_id, (f"{name or 'name not recorded'} ({customer_id})" if named else "")


# ---------------------------------------------------------------------------------------------
# Tables per view


def _tally_cells(t: Tally) -> tuple[str, ...]:
    return (str(t.customers), str(t.contacts), _n(t.contacts_per_customer), str(t.contacted),
            _pct(t.coverage_pct), str(t.open_actions), _n(t.actions_per_customer))


def attention_tables(r: AttentionResult) -> list[Table]:
    head = ("Group", "Band", "Customers", "Contacts", "Per cust.", "Contacted", "Coverage", "Open actions",
            "Per cust.")
    rows = []
    for g in r.groups:
        bands = [("all", g.total)] + list(g.rag.items()) + [(DURATION_WORDS[b], t) for b, t in g.duration.items()]
        for i, (band, t) in enumerate(bands):
            rows.append((g.group if i == 0 else "", band, *_tally_cells(t)))
    share = [(g.group, str(g.total.contacts), str(g.total.near_contacts), _pct(g.total.near_contact_share_pct),
              _pct(g.total.near_caseload_share_pct)) for g in r.groups]
    return [
        Table("attention", f"Attention over the last {r.window} days, by RAG band and duration band", head, rows,
              f"Contacts and conference coverage in the {r.window} days to {r.as_at.isoformat()}; open actions now. "
              "Coverage: the share discussed at a conference. Even effort reads as similar figures per customer.",
              right=tuple(range(2, 9))),
        Table("milestones", "Contacts near a milestone, beside those customers' share of the caseload",
              ("Group", "Contacts", f"Within {r.approaching_days} days of a milestone", "Share of contacts",
               "Share of caseload"), share,
              f"A contact counts when made 0-{r.approaching_days} days before a 13, 26 or 52-week milestone. Share of "
              "caseload: the customer-days in the window that near a milestone; a contact share far above it means "
              "attention follows milestones.", right=(1, 2, 3, 4)),
    ]


def listed(heading: str, note: str, shown: int, count: int) -> tuple[str, str]:
    """A list's heading with its count ("N of M shown" when it holds fewer than the scope counts), and its note."""
    if shown < count:
        return f"{heading}: {shown} of {count} shown", f"{note} Only the claims you may open are listed."
    return f"{heading}: {shown}", note


def _count_rows(groups: Sequence[GroupTally], cells: Callable[[Tally], tuple[str, ...]]) -> list[tuple[str, ...]]:
    return [(g.group, *cells(g.total)) for g in groups]


def red_tables(r: CustomerList, named: bool) -> list[Table]:
    counts = _count_rows(r.groups, lambda t: (str(t.red), str(t.red_no_plan)))
    lines = [(ln.group, *customer_cells(ln.claim_id, ln.customer_id, ln.customer_name, named), ln.adviser_id,
              _date(ln.red_since), _date(ln.last_plan), _date(ln.plan_update), _n(r.waited(ln)))
             for ln in r.lines]
    head, note = listed("Red without a plan update for more than 62 days", "Plan update: the later of the day Red "
                        "was set and the last conference item with a plan. Listed by group, then claim start.",
                        len(lines), r.count)
    return [
        Table("red-counts", "Red customers, and those without a plan update", ("Group", "Red", "Without a plan"),
              counts, "Red must never mean parked: a Red customer whose plan was last updated more than 62 days "
                      "ago is counted here.", right=(1, 2)),
        Table("red-list", head,
              ("Group", "Claim", "Customer", "Adviser", "Red since", "Last plan", "Plan update", "Waited (days)"),
              lines, note, right=(7,)),
    ]


def beyond_tables(r: CustomerList, named: bool) -> list[Table]:
    counts = _count_rows(r.groups, lambda t: (str(t.beyond_52), *(str(n) for n in t.beyond),
                                              str(t.beyond_no_contact), str(t.beyond_not_discussed)))
    lines = [(ln.group, *customer_cells(ln.claim_id, ln.customer_id, ln.customer_name, named), ln.benefit,
              str(ln.weeks), ln.beyond_band, RAG_WORDS.get(ln.rag or "", "not rated"),
              _date(ln.last_contact) or "never", _date(ln.last_conference) or "never") for ln in r.lines]
    head, note = listed("Beyond 52 weeks: each customer", "Listed by group, then claim start (the longest claims "
                        "first).", len(lines), r.count)
    return [
        Table("beyond-counts", "Customers beyond 52 weeks, by duration",
              ("Group", "Beyond 52", *(b for b, _, _ in BEYOND_BANDS), f"No contact in {RECENT_DAYS} days",
               f"Not discussed in {RECENT_DAYS} days"), counts,
              "Long-term customers stay in sight: counted by how long they have claimed, with how many have had "
              "no recent contact or conference.", right=(1, 2, 3, 4, 5, 6)),
        Table("beyond-list", head,
              ("Group", "Claim", "Customer", "Benefit", "Weeks", "Duration", "RAG", "Last contact",
               "Last conference"), lines, note, right=(4,)),
    ]


def _sanction_cell(row) -> str:  # noqa: ANN001
    share = truncated_pct(row.sanction, row.offflows)
    return f"{row.rate_pct or 'n/a'}% · {row.sanction} sanct." + (f" {share}%" if share else "")


def sanction_tables(r: SanctionsResult, named: bool) -> list[Table]:
    milestones = sorted({row.milestone_weeks for row in r.rows()})
    by_key = {(row.group, row.period, row.milestone_weeks): row for row in r.rows()}
    keys = sorted({(row.group_by == "total", row.group.casefold(), row.group, row.period) for row in r.rows()},
                  key=lambda k: (k[0], k[1], k[2], k[3].start))
    rows = []
    for _, _, group, period in keys:
        first = by_key.get((group, period, milestones[0]))
        rows.append((group, period.label, str(first.cohort_size if first else 0),
                     *(_sanction_cell(by_key[(group, period, w)]) if (group, period, w) in by_key else ""
                       for w in milestones)))
    counts = [(c.group, str(c.referrals), str(c.flagged)) for c in r.referral_counts]
    flagged = [(f.group, *customer_cells(f.claim_id, f.customer_id, f.customer_name, named), f.adviser_id,
                f.referred_on.isoformat(), f"{f.milestone_weeks} weeks on {f.milestone_on.isoformat()}",
                str(f.days_before)) for f in r.referrals]
    head, note = listed("Referrals flagged for review", "Listed by group, then referral date. Flagged for a "
                        "conversation, not a finding.", len(flagged), r.flagged_count)
    return [
        Table("sanctions", "Sanction off-flows beside the off-flow rate",
              ("Group", "Cohort", "Claims", *(f"{w} weeks: rate · sanctions" for w in milestones)), rows,
              "Each cell: the off-flow rate by the milestone, then the off-flows that were sanctions and their share "
              "of the off-flows. A sanction is an off-flow, but not a job.", right=(2,)),
        Table("referral-counts", "Decision maker referrals in these cohort periods",
              ("Group", "Referrals", f"0-{REFERRAL_DAYS} days before a milestone"), counts,
              f"A referral made 0 to {REFERRAL_DAYS} days before a milestone is flagged for review: a sanction then "
              "would count as an off-flow at that milestone.", right=(1, 2)),
        Table("referrals", head,
              ("Group", "Claim", "Customer", "Adviser", "Referred", "Milestone", "Days before"), flagged, note,
              right=(6,)),
    ]


def quality_tables(rows: Sequence[QualityRow]) -> list[Table]:
    body = [(q.group, q.period.label, str(q.offflows), str(q.not_known), str(q.failed_to_sign),
             _pct(q.unknown_share_pct), str(q.confirmed), str(q.still_unknown), _pct(q.still_unknown_share_pct))
            for q in rows]
    return [Table("quality", "Destination quality: off-flows whose reason is not known",
                  ("Group", "Cohort", "Off-flows", "Not known", "Failed to sign", "Unknown share",
                   "Confirmed later", "Still unknown", "Still unknown share"), body,
                  "Off-flows of each cohort so far, by the extract's reason; confirmed later: an adviser recorded "
                  "where the customer went.", right=tuple(range(2, 9)))]


def equality_tables(r: EqualityResult) -> list[Table]:
    t = r.threshold
    out = []
    milestones = sorted({w for g in r.groups for w in g.pooled})
    for ch in PERSONAL:
        rows = []
        for g in r.of(ch):
            rates = []
            for w in milestones:
                off, size, emp = g.pooled.get(w, (0, 0, 0))
                rates += [suppress_rate(off, size, t), suppress_rate(emp, size, t)]
            rows.append((g.group, suppressed(g.open_customers, t), *(suppressed(n, t) for n in g.rag),
                         suppress_rate(g.discussed, g.open_customers, t), *rates))
        out.append(Table(
            f"equality-{ch}", f"By {ch.replace('_', ' ')}",
            ("Group", "Customers", "Red", "Amber", "Green", "Not rated", "Coverage %",
             *(h for w in milestones for h in (f"Off {w}w %", f"Emp {w}w %"))), rows,
            f"Counts under {t} show as <{t} and their rates are empty. Off/Emp: off-flow and into-employment rates "
            "pooled over the cohorts final at the milestone.", right=tuple(range(1, 7 + 2 * len(milestones)))))
    return out


# ---------------------------------------------------------------------------------------------
# Reports: what each export holds


@dataclass
class Report:
    name: str
    meta: dict[str, Any]
    csv_columns: tuple[str, ...]
    csv_rows: list[list[str]]
    tables: list[Table] = field(default_factory=list)


def _meta(period: OffflowResult, name: str, by: str, q: FairnessQuery, named: bool, rows: int,
          columns: dict[str, str], generated_at: dt.datetime, generated_by: str, personal: bool = False) -> dict:
    meta = offflow_metadata(period, generated_at=generated_at, generated_by=generated_by)
    threshold = period.suppress_below
    meta.update(
        report=f"fairness: {TITLES[name].lower()}",
        group_by=", ".join(PERSONAL) if personal else by,
        suppression=({"applies": True, "counts_below": threshold, "shown_as": f"<{threshold}"} if personal else
                     {"applies": False, "counts_below": threshold,
                      "why": "no figure here is grouped by a personal characteristic; per-adviser rows are seen "
                             "only by that adviser and their team manager, who see the customers themselves"}),
        rows=rows, columns=columns, definitions=DEFINITIONS[name], window_days=q.window,
        customers="named (names and customer ids)" if named else "by claim id only",
    )
    return meta


def _period_result(conn: Connection, actor: Actor, q: FairnessQuery) -> OffflowResult:
    return offflow(conn, actor, replace(q.period, group_by="none"))


ATTENTION_COLUMNS = {
    "window_days": "the window: the N days ending on the as-at date",
    "group_by": "office, team or adviser for a group; the scope's level for the total row",
    "group": "the group (the whole scope on the total row)",
    "band_kind": "all, rag or duration",
    "band": "the RAG band (Red, Amber, Green, not rated) or the duration band; all for every customer",
    "customers": "open claims at the as-at date",
    "contacts": "contacts logged in the window",
    "contacts_per_customer": "contacts / customers, truncated to 2 decimals",
    "customers_contacted": "customers with at least one contact in the window",
    "discussed_at_conference": "customers discussed at a conference held in the window",
    "conference_coverage_pct": "discussed / customers, per cent, truncated",
    "open_actions": "actions open now",
    "open_actions_per_customer": "open actions / customers, truncated to 2 decimals",
    "contacts_near_milestone": "contacts made 0-28 days before one of the customer's milestones",
    "near_milestone_contact_share_pct": "contacts_near_milestone / contacts, per cent",
    "near_milestone_caseload_share_pct": "customer-days in the window 0-28 days before a milestone / all "
                                         "customer-days in the window, per cent",
}


def attention_report(conn: Connection, actor: Actor, q: FairnessQuery, named: bool, **stamp: Any) -> Report:
    rows, tables = [], []
    for window in (28, 91):
        r = attention(conn, actor, replace(q, window=window))
        tables += attention_tables(r) if window == q.window else []
        for g in r.groups:
            bands = [("all", "all", g.total)] + [("rag", b, t) for b, t in g.rag.items()] + \
                [("duration", DURATION_WORDS[b], t) for b, t in g.duration.items()]
            for kind, band, t in bands:
                rows.append([str(window), g.group_by, g.group, kind, band, str(t.customers), str(t.contacts),
                             _n(t.contacts_per_customer), str(t.contacted), str(t.discussed), _n(t.coverage_pct),
                             str(t.open_actions), _n(t.actions_per_customer), str(t.near_contacts),
                             _n(t.near_contact_share_pct), _n(t.near_caseload_share_pct)])
    meta = _meta(_period_result(conn, actor, q), "attention", q.by, q, named, len(rows), ATTENTION_COLUMNS, **stamp)
    meta["periods_apply"] = "no: the attention figures are the caseload as at the as-at date, over both windows"
    return Report("attention", meta, tuple(ATTENTION_COLUMNS), rows, tables)


BEYOND_COLUMNS = {
    "group_by": "office, team or adviser", "group": "the current holder at that level",
    "claim_id": "the claim", "customer_id": "filled only in a named export", "customer_name": "filled only in a "
    "named export", "benefit": "the benefit", "claim_start": "claim start (ISO)", "days": "days on benefit at the "
    "as-at date", "weeks": "whole weeks on benefit", "duration_band": "52-78 weeks, 78-104 weeks, 104 weeks and over",
    "rag": "the current rating (R, A, G; empty when not rated)", "last_contact": "the last contact (ISO), empty when "
    "none", "last_conference": "the last conference that discussed the customer (ISO), empty when none",
    "contacted_last_91_days": "yes or no", "discussed_last_91_days": "yes or no",
}


def _recent(r: CustomerList, d: dt.date | None) -> str:
    since = r.since(d)
    return "yes" if since is not None and since <= RECENT_DAYS else "no"


def beyond52_report(conn: Connection, actor: Actor, q: FairnessQuery, named: bool, **stamp: Any) -> Report:
    r = beyond_52(conn, actor, q)
    rows = [[r.by, ln.group, ln.claim_id, ln.customer_id if named else "", ln.customer_name if named else "",
             ln.benefit, ln.claim_start.isoformat(), str(ln.days), str(ln.weeks), ln.beyond_band, ln.rag or "",
             _date(ln.last_contact), _date(ln.last_conference), _recent(r, ln.last_contact),
             _recent(r, ln.last_conference)] for ln in r.lines]
    meta = _meta(_period_result(conn, actor, q), "beyond52", q.by, q, named, len(rows), BEYOND_COLUMNS, **stamp)
    meta["periods_apply"] = "no: the customers open at the as-at date"
    meta["counts"] = [{"group_by": g.group_by, "group": g.group, "beyond_52": g.total.beyond_52,
                       **{b: n for (b, _, _), n in zip(BEYOND_BANDS, g.total.beyond)},
                       "no_contact_last_91_days": g.total.beyond_no_contact,
                       "not_discussed_last_91_days": g.total.beyond_not_discussed} for g in r.groups]
    return Report("beyond52", meta, tuple(BEYOND_COLUMNS), rows, beyond_tables(r, named))


SANCTION_COLUMNS = {
    "section": "sanction_share, destination_quality, referral_count or referral: which of the four tables the row "
               "belongs to (the columns it does not use are empty)",
    "group_by": "office, team or adviser; total for the whole scope", "group": "the group",
    "cohort_period": "the cohort period", "cohort_start": "its first day", "cohort_end": "its last day",
    "milestone_weeks": "the milestone (sanction_share)", "status": "final or interim (sanction_share)",
    "cohort_size": "claims that started in the period", "offflows": "off-flows by the milestone (sanction_share) or "
    "by the as-at date (destination_quality)", "rate_pct": "the off-flow rate, truncated",
    "sanction_offflows": "off-flows by sanction or disallowance", "sanction_share_pct": "sanction_offflows / "
    "offflows, per cent", "not_known_offflows": "off-flows the extract gave as not known or empty",
    "failed_to_sign_offflows": "off-flows the extract gave as failed to sign", "unknown_share_pct": "(not known + "
    "failed to sign) / offflows", "confirmed_later": "of those, how many an adviser later confirmed",
    "still_unknown": "off-flows still not known or failed to sign after confirmations", "still_unknown_share_pct":
    "still_unknown / offflows", "referrals": "decision maker referrals dated in the periods (referral_count)",
    "referrals_flagged": "of which 0-14 days before a milestone", "claim_id": "the claim (referral)",
    "customer_id": "filled only in a named export", "customer_name": "filled only in a named export",
    "referral_on": "the referral date", "milestone_weeks_referral": "the milestone it preceded",
    "milestone_on": "that milestone's date", "days_before_milestone": "milestone date minus referral date",
}


def _row(**values: Any) -> list[str]:
    return [_n(values.get(k)) for k in SANCTION_COLUMNS]


def sanctions_report(conn: Connection, actor: Actor, q: FairnessQuery, named: bool, **stamp: Any) -> Report:
    r = sanctions(conn, actor, q)
    rows = []
    for o in r.rows():
        rows.append(_row(section="sanction_share", group_by=o.group_by, group=o.group, cohort_period=o.period.label,
                         cohort_start=o.period.start, cohort_end=o.period.end, milestone_weeks=o.milestone_weeks,
                         status=o.status, cohort_size=o.cohort_size, offflows=o.offflows, rate_pct=o.rate_pct,
                         sanction_offflows=o.sanction, sanction_share_pct=truncated_pct(o.sanction, o.offflows)))
    for d in r.quality:
        rows.append(_row(section="destination_quality", group_by=d.group_by, group=d.group,
                         cohort_period=d.period.label, cohort_start=d.period.start, cohort_end=d.period.end,
                         cohort_size=d.cohort_size, offflows=d.offflows, not_known_offflows=d.not_known,
                         failed_to_sign_offflows=d.failed_to_sign, unknown_share_pct=d.unknown_share_pct,
                         confirmed_later=d.confirmed, still_unknown=d.still_unknown,
                         still_unknown_share_pct=d.still_unknown_share_pct))
    for c in r.referral_counts:
        rows.append(_row(section="referral_count", group_by="total" if c.is_total else c.group_by, group=c.group,
                         referrals=c.referrals, referrals_flagged=c.flagged))
    for f in r.referrals:
        rows.append(_row(section="referral", group_by=r.by, group=f.group, claim_id=f.claim_id,
                         customer_id=f.customer_id if named else "", customer_name=f.customer_name if named else "",
                         referral_on=f.referred_on, milestone_weeks_referral=f.milestone_weeks,
                         milestone_on=f.milestone_on, days_before_milestone=f.days_before))
    rows = [[v.isoformat() if isinstance(v, dt.date) else v for v in row] for row in rows]
    meta = _meta(r.offflow, "sanctions", r.by, q, named, len(rows), SANCTION_COLUMNS, **stamp)
    return Report("sanctions", meta, tuple(SANCTION_COLUMNS), rows,
                  sanction_tables(r, named) + quality_tables(r.quality))


EQUALITY_EXTRA = {
    "employment_rate_pct": "employment_offflows / cohort_size, per cent, truncated; empty when either is under 5",
    "open_customers": "open claims at the as-at date in the group (the same on every row of the group)",
    "red": "of them Red now", "amber": "Amber now", "green": "Green now", "not_rated": "never rated",
    "discussed_in_window": "open customers discussed at a conference in the window",
    "conference_coverage_pct": "discussed_in_window / open_customers, per cent; empty when either is under 5",
}


def equality_report(conn: Connection, actor: Actor, q: FairnessQuery, named: bool, **stamp: Any) -> Report:
    r = equality(conn, actor, q)
    t = r.threshold
    rows = []
    for ch in PERSONAL:
        result = r.results[ch]
        by_group = {}
        for row in result.rows:
            by_group.setdefault(row.group, []).append(row)
        for g in r.of(ch):
            extra = [suppressed(g.open_customers, t), *(suppressed(n, t) for n in g.rag), suppressed(g.discussed, t),
                     suppress_rate(g.discussed, g.open_customers, t)]
            cohort_rows = by_group.get(g.group) or [None]
            for row in cohort_rows:
                if row is None:  # open customers, but no claim started in these periods
                    base = [ch, g.group] + [""] * (len(OFFFLOW_COLUMNS) - 2)
                    rows.append(base + [""] + extra)
                    continue
                rows.append(row_values(result, row) + [suppress_rate(row.employment, row.cohort_size, t)] + extra)
    columns = {**OFFFLOW_DEFINITIONS, **EQUALITY_EXTRA}
    meta = _meta(r.results[PERSONAL[0]], "equality", "", q, False, len(rows), columns, personal=True, **stamp)
    return Report("equality", meta, (*OFFFLOW_COLUMNS, *EQUALITY_EXTRA), rows, equality_tables(r))


BUILDERS = {"attention": attention_report, "equality": equality_report, "beyond52": beyond52_report,
            "sanctions": sanctions_report}


def build_report(conn: Connection, actor: Actor, name: str, q: FairnessQuery, *, named: bool,
                 generated_at: dt.datetime, generated_by: str) -> Report:
    return BUILDERS[name](conn, actor, q, named, generated_at=generated_at, generated_by=generated_by)


# ---------------------------------------------------------------------------------------------
# Writing


def write_csv(report: Report, out: IO[str]) -> int:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(report.csv_columns)
    w.writerows(sheet_row(r) for r in report.csv_rows)
    return len(report.csv_rows)


def _header_rows(report: Report) -> list[tuple[str, str]]:
    meta = report.meta
    rows = header(meta)
    rows.insert(1, ("Window", f"the {meta['window_days']} days ending on the as-at date"))
    rows.insert(2, ("Customers", meta["customers"]))
    if meta.get("periods_apply"):
        rows.insert(4, ("Cohort periods apply", meta["periods_apply"]))
    return rows


def write_markdown(report: Report, out: IO[str]) -> int:
    lines = [f"# {TITLES[report.name]}", ""]
    lines += [f"- **{label}:** {soft(value)}" for label, value in _header_rows(report)]
    lines += ["", "Internal to the team: nothing here ranks advisers or customers; groups are in name order."]
    for t in report.tables:
        lines += ["", f"## {md(t.heading)}", "", soft(t.note), ""]
        if t.rows:
            lines += md_table([md(c) for c in t.columns], [[md(c) for c in row] for row in t.rows])
        else:
            lines.append("None.")
    lines += ["", "## Definitions", ""]
    lines += [f"- **{name}:** {soft(text)}" for name, text in report.meta["definitions"].items()]
    lines += ["", "Columns of the CSV export:", ""]
    lines += [f"- `{name}`: {soft(text)}" for name, text in report.meta["columns"].items()]
    out.write("\n".join(lines) + "\n")
    return len(report.csv_rows)


NUM = ' class="num"'


def write_html(report: Report, out: IO[str]) -> int:
    title = TITLES[report.name]
    h = [*html_head(f"{title} as at {report.meta['as_at']}", CSS), f"<h1>{e(title)}</h1>", '<dl class="meta">']
    h += [f"<dt>{e(label)}</dt><dd>{e(value)}</dd>" for label, value in _header_rows(report)]
    h += ["</dl>", '<p class="legend">Internal to the team: nothing here ranks advisers or customers; groups are in '
                   "name order.</p>"]
    for t in report.tables:
        h += [f'<section id="{e(t.key)}"><h2>{e(t.heading)}</h2>', f'<p class="legend">{e(t.note)}</p>']
        if t.rows:
            h.append("<table><thead><tr>" + "".join(f'<th scope="col">{e(c)}</th>' for c in t.columns)
                     + "</tr></thead><tbody>")
            for row in t.rows:
                h.append("<tr>" + "".join(f"<td{NUM if i in t.right else ''}>{e(c)}</td>"
                                          for i, c in enumerate(row)) + "</tr>")
            h.append("</tbody></table>")
        else:
            h.append("<p>None.</p>")
        h.append("</section>")
    h.append('<section class="definitions"><h2>Definitions</h2><dl class="meta">')
    h += [f"<dt>{e(name)}</dt><dd>{e(text)}</dd>" for name, text in report.meta["definitions"].items()]
    h += [f"<dt><code>{e(name)}</code></dt><dd>{e(text)}</dd>" for name, text in report.meta["columns"].items()]
    h += ["</dl></section>", "</body>", "</html>"]
    out.write("\n".join(h) + "\n")
    return len(report.csv_rows)


# The command line's words for each export: (summary, description).
HELP = {
    "attention": ("fairness: where contacts and conferences go",
                  "Attention balance over the last 28 and 91 days: contacts, conference coverage and open actions per "
                  "RAG band and duration band, and the share of contacts near a milestone beside those customers' "
                  "share of the caseload. CSV metadata goes to OUTPUT.meta.json (to stderr with --output -)."),
    "equality": ("fairness: off-flows, RAG mix and coverage by personal characteristic",
                 "The off-flow summary grouped by age band, sex, disability and ethnicity, with the into-employment "
                 "rate, RAG mix and conference coverage per group. Counts under 5 show as <5; a missing value is "
                 "'not recorded'. --by does not apply (the groups are the characteristics)."),
    "beyond52": ("fairness: customers beyond 52 weeks",
                 "Customers 365 days or more on benefit, by duration, with their last contact and last conference. "
                 "Customers appear by claim id unless --named is given."),
    "sanctions": ("fairness: sanction share, referrals near milestones, destination quality",
                  "Sanction off-flows beside the off-flow rate per group and cohort; decision maker referrals made "
                  "0 to 14 days before a milestone, flagged for review; off-flows whose reason is not known or failed "
                  "to sign and how many advisers later confirmed. Customers by claim id unless --named is given."),
}
