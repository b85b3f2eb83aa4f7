"""Fairness and attention (DOMAIN.md sections 7 and 10; issue 7): where effort goes, shown plainly.

Off-flow targets pull attention toward customers about to leave benefit anyway. These views make
that visible to team managers and team leaders without ranking anyone:

- attention balance: contacts, conference coverage and open actions per RAG band and duration band
  over the last 28 or 91 days, and the share of contacts that went to customers within 28 days of
  a milestone beside those customers' share of the caseload;
- Red without a plan: Red customers whose plan update is more than 62 days old, and the wait;
- beyond 52: customers 365 days or more on benefit, with their last contact and conference;
- sanction share: sanction off-flows beside the off-flow rate, and decision maker referrals made
  0 to 14 days before a milestone, flagged for review;
- equality breakdown: the off-flow roll-up by age band, sex, disability and ethnicity, with the
  into-employment rate, RAG mix and conference coverage per group, counts under 5 suppressed;
- destination quality: off-flows whose reason is not known or failed to sign, and how many an
  adviser later confirmed.

Each view is a function `(conn, actor, query)` returning plain dataclasses. The caseload figures
reuse the caseload's SQL flags (store/caseload.py) and the cohort figures the off-flow roll-up
(store/offflow.py). Groups are in name order; nothing is ordered by a rate or a count.

Who sees what: a team leader (and the administrator) the office, per team and as a whole; a team
manager their team, per adviser too; an adviser their own caseload and their team's totals.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from sqlalchemy import Connection, and_, case, func, literal, or_, select

from caseload.measures.clock import BEYOND_DAYS, DURATION_BANDS, MILESTONES, RECENT_DAYS
from caseload.measures.cohorts import Period
from caseload.measures.offflow import OffflowRow, PERSONAL
from caseload.measures.people import NOT_RECORDED, age_band
from caseload.measures.rates import truncated_pct
from caseload.store import schema, settings as settings_mod
from caseload.store.access import Actor, Role
from caseload.store.caseload import claim_columns as caseload_columns
from caseload.store.caseload import as_date as _d
from caseload.store.errors import AccessDenied, StoreError
from caseload.store.logins import require_team_claims
from caseload.store.offflow import (
    OffflowQuery, OffflowResult, _confirmed, _group_column, _scope, latest_import, offflow,
)

BY = ("office", "team", "adviser")
WINDOWS = (28, 91)
REFERRAL_DAYS = 14  # a referral 0 to 14 days before a milestone is flagged for review
RAG_BANDS = ("Red", "Amber", "Green", "not rated")
DURATION_WORDS = dict(zip(DURATION_BANDS, ("0-13 weeks", "13-26 weeks", "26-52 weeks", "52 weeks and over")))
# Beyond 52, by duration in days: (label, first day, last day or None).
BEYOND_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("52-78 weeks", BEYOND_DAYS, 545), ("78-104 weeks", 546, 727), ("104 weeks and over", 728, None),
)
UNKNOWN_CODES = ("not_known", "failed_to_sign")


@dataclass(frozen=True)
class FairnessQuery:
    """What to show: the grouping, the attention window, and the cohort periods (as for off-flows)."""

    by: str = "team"
    window: int = 28
    period: OffflowQuery = field(default_factory=OffflowQuery)


# ---------------------------------------------------------------------------------------------
# Scope and grouping


@dataclass(frozen=True)
class Scope:
    """Where an actor's figures come from: aggregate conditions, the total's name, and the by rules."""

    by: str
    conds: list  # on the claim columns (current holder): what the actor may see in aggregate
    level: str  # "office", "team" or "all offices": what the total row is
    label: str  # the total row's name
    only_adviser: str | None  # an adviser's per-adviser rows are their own only

    @property
    def needs_total(self) -> bool:
        """A total row, unless the rows already are the whole scope (a team by team, an office by office)."""
        return self.by != self.level


def check_by(actor: Actor, by: str) -> None:
    """Per-adviser rows are for the adviser and their manager; office rows for a team leader."""
    if by not in BY:
        raise StoreError(f"--by must be one of {', '.join(BY)}.")
    if by == "adviser" and actor.role is Role.TEAM_LEADER:
        raise AccessDenied("Figures per adviser are for the adviser and their team manager: a team leader sees "
                           "each team and the office (use --by team or --by office).")
    if by == "office" and actor.role in (Role.TEAM_MANAGER, Role.ADVISER):
        raise AccessDenied(f"Office figures are for team leaders; you are acting as {actor.role.label} {actor.id}, "
                           "so you see your team (use --by team, or --by adviser).")


def allowed_by(actor: Actor) -> tuple[str, ...]:
    """The groupings an actor may choose, the default first, in the order a screen offers them."""
    if actor.role is Role.TEAM_LEADER:
        return ("team", "office")
    if actor.role is Role.ADMIN:
        return ("team", "office", "adviser")
    return ("adviser", "team")


def scope(conn: Connection, actor: Actor, by: str) -> Scope:
    check_by(actor, by)
    require_team_claims(conn, actor, "Fairness figures")
    c = schema.Claim.__table__.c
    conds, _ = _scope(actor, OffflowQuery(group_by="none", attribution="current"), c)
    if actor.is_admin:
        level, label = "all offices", "all offices"
    elif actor.role is Role.TEAM_LEADER:
        level = "office"
        o = schema.Office.__table__
        label = conn.execute(select(o.c.name).where(o.c.id == actor.office_id)).scalar() or "your office"
    else:
        level = "team"
        t = schema.Team.__table__
        label = conn.execute(select(t.c.name).where(t.c.id == actor.team_id)).scalar() or "your team"
    only = actor.id if by == "adviser" and actor.role is Role.ADVISER else None
    return Scope(by, conds, level, label, only)


def _grouped(by: str, frm):  # noqa: ANN001, ANN202
    """The group name of each claim's current holder at the `by` level, and the joined FROM."""
    col, joins = _group_column(OffflowQuery(group_by=by, attribution="current"), schema.Claim.__table__.c)
    for table, on in joins:
        frm = frm.outerjoin(table, on)
    return col, frm


def _open_at(D: int) -> list:
    c = schema.Claim.__table__.c
    return [c.start_day <= D, or_(c.end_day.is_(None), c.end_day > D)]


def _as_at(conn: Connection, q: FairnessQuery) -> dt.date:
    latest = latest_import(conn)
    as_at = q.period.as_at or (latest["as_at"] if latest else None)
    if as_at is None:
        raise StoreError("No claims extract has been imported yet: run `caseload import claims PATH --as-at DATE` first.")
    return as_at


def ratio(num: int, den: int) -> str | None:
    """num / den truncated to 2 decimals (contacts per customer); None when den is 0."""
    return truncated_pct(num, 100 * den)


# ---------------------------------------------------------------------------------------------
# Caseload figures: one pass over the open claims, grouped by holder, RAG band and duration band


@dataclass(frozen=True)
class Tally:
    """Counts over a set of customers (open claims at the as-at date)."""

    customers: int = 0
    contacts: int = 0  # active contacts dated in the window
    contacted: int = 0  # customers with at least one
    discussed: int = 0  # customers discussed at a conference held in the window
    open_actions: int = 0
    near_contacts: int = 0  # contacts made 0..28 days before one of the customer's milestones
    days: int = 0  # customer-days on benefit in the window
    near_days: int = 0  # of which 0..28 days before a milestone
    red: int = 0
    red_no_plan: int = 0
    beyond: tuple[int, ...] = (0, 0, 0)  # per BEYOND_BANDS
    beyond_no_contact: int = 0  # beyond 52 with no contact in the last 91 days
    beyond_not_discussed: int = 0  # beyond 52 not discussed at a conference in the last 91 days

    def __add__(self, o: Tally) -> Tally:
        vals = {f: getattr(self, f) + getattr(o, f) for f in self.__dataclass_fields__ if f != "beyond"}
        return Tally(**vals, beyond=tuple(a + b for a, b in zip(self.beyond, o.beyond)))

    @property
    def beyond_52(self) -> int:
        return sum(self.beyond)

    @property
    def contacts_per_customer(self) -> str | None:
        return ratio(self.contacts, self.customers)

    @property
    def actions_per_customer(self) -> str | None:
        return ratio(self.open_actions, self.customers)

    @property
    def coverage_pct(self) -> str | None:
        """Conference coverage: the share of customers discussed at a conference in the window."""
        return truncated_pct(self.discussed, self.customers)

    @property
    def contacted_pct(self) -> str | None:
        return truncated_pct(self.contacted, self.customers)

    @property
    def near_contact_share_pct(self) -> str | None:
        """The share of contacts that went to customers within 28 days of a milestone."""
        return truncated_pct(self.near_contacts, self.contacts)

    @property
    def near_caseload_share_pct(self) -> str | None:
        """Those customers' share of the caseload: customer-days within 28 days of a milestone."""
        return truncated_pct(self.near_days, self.days)


@dataclass(frozen=True)
class GroupTally:
    group_by: str  # office | team | adviser, or the total's level
    group: str
    total: Tally
    rag: dict[str, Tally]  # by RAG_BANDS
    duration: dict[str, Tally]  # by DURATION_BANDS
    is_total: bool = False


def _min(a, b):  # noqa: ANN001, ANN202
    return case((a < b, a), else_=b)


def _max(a, b):  # noqa: ANN001, ANN202
    return case((a > b, a), else_=b)


def _tallies(conn: Connection, sc: Scope, as_at: dt.date, window: int, approaching: int) -> list[GroupTally]:
    """Per group (name order) and for the whole scope: the caseload's tallies by band."""
    c, st = schema.Claim.__table__, schema.ClaimState.__table__
    ct, ac = schema.Contact.__table__, schema.Action.__table__
    cf, ci = schema.Conference.__table__, schema.ConferenceItem.__table__
    D = schema.day_number(as_at)
    lo = D - window + 1  # the window: the `window` days ending on the as-at date
    s = c.c.start_day
    _, flags = caseload_columns(as_at, approaching)
    near = or_(*[and_(c.c.start_day + 7 * w - ct.c.contact_day >= 0,
                      c.c.start_day + 7 * w - ct.c.contact_day <= approaching) for w in MILESTONES])
    contacts = (select(ct.c.claim_id, func.count().label("n"), func.sum(case((near, 1), else_=0)).label("near"))
                .select_from(ct.join(c, c.c.id == ct.c.claim_id))
                .where(ct.c.status == "active", ct.c.contact_day >= lo, ct.c.contact_day <= D)
                .group_by(ct.c.claim_id).subquery("contacts"))
    discussed = (select(ci.c.claim_id).select_from(ci.join(cf, cf.c.id == ci.c.conference_id))
                 .where(ci.c.status == "discussed", cf.c.held_day >= lo, cf.c.held_day <= D)
                 .group_by(ci.c.claim_id).subquery("discussed"))
    actions = (select(ac.c.claim_id, func.count().label("n")).where(ac.c.status == "open")
               .group_by(ac.c.claim_id).subquery("actions"))
    days = D - _max(s, literal(lo)) + 1
    near_days = literal(0)
    for w in MILESTONES:
        m = s + 7 * w
        first, last = _max(m - approaching, _max(s, literal(lo))), _min(m, literal(D))
        near_days = near_days + case((last >= first, last - first + 1), else_=0)
    rag = case((st.c.rag == "R", "Red"), (st.c.rag == "A", "Amber"), (st.c.rag == "G", "Green"), else_="not rated")
    dur = case(*[(D - s <= hi, band) for band, hi in zip(DURATION_BANDS, (91, 182, 364))], else_=DURATION_BANDS[-1])
    recent = D - RECENT_DAYS

    def n(cond):  # noqa: ANN001, ANN202
        return func.sum(case((cond, 1), else_=0))

    beyond = [n(and_(D - s >= first, D - s <= last) if last else D - s >= first) for _, first, last in BEYOND_BANDS]
    frm = (c.outerjoin(st, st.c.claim_id == c.c.id).outerjoin(contacts, contacts.c.claim_id == c.c.id)
           .outerjoin(discussed, discussed.c.claim_id == c.c.id).outerjoin(actions, actions.c.claim_id == c.c.id))
    group, frm = _grouped(sc.by, frm)
    ident = c.c.adviser_id if sc.by == "adviser" else literal("")
    stmt = (select(group.label("grp"), ident.label("ident"), rag.label("rag"), dur.label("dur"), func.count(),
                   func.sum(func.coalesce(contacts.c.n, 0)), n(contacts.c.n > 0), n(discussed.c.claim_id.is_not(None)),
                   func.sum(func.coalesce(actions.c.n, 0)), func.sum(func.coalesce(contacts.c.near, 0)),
                   func.sum(days), func.sum(near_days), n(st.c.rag == "R"), n(flags["red no plan"]),
                   *beyond,
                   n(and_(flags["beyond 52"], or_(st.c.last_contact_day.is_(None), st.c.last_contact_day < recent))),
                   n(and_(flags["beyond 52"], or_(st.c.last_conference_day.is_(None),
                                                   st.c.last_conference_day < recent))))
            .select_from(frm).where(*_open_at(D), *sc.conds)
            # PostgreSQL refuses a constant in GROUP BY, so the adviser's id is a key only by adviser.
            .group_by(group, *([ident] if sc.by == "adviser" else []), rag, dur))
    per: dict[tuple[str, str], dict] = {}
    total: dict = {"rag": defaultdict(Tally), "duration": defaultdict(Tally)}
    nb = len(BEYOND_BANDS)
    for r in conn.execute(stmt):
        v = [int(x or 0) for x in r[4:]]
        t = Tally(*v[:10], beyond=tuple(v[10:10 + nb]), beyond_no_contact=v[10 + nb], beyond_not_discussed=v[11 + nb])
        accs = [total]
        if sc.only_adviser in (None, r.ident):  # an adviser's per-adviser rows are their own only
            accs.append(per.setdefault((r.grp or NOT_RECORDED, r.ident),
                                       {"rag": defaultdict(Tally), "duration": defaultdict(Tally)}))
        for acc in accs:
            acc["rag"][r.rag] += t
            acc["duration"][r.dur] += t

    def build(key: str, label: str, acc: dict, is_total: bool) -> GroupTally:
        rag_t = {b: acc["rag"].get(b, Tally()) for b in RAG_BANDS}
        return GroupTally(key, label, sum(rag_t.values(), Tally()), rag_t,
                          {b: acc["duration"].get(b, Tally()) for b in DURATION_BANDS}, is_total)

    ordered = sorted(per.items(), key=lambda kv: (kv[0][0].casefold(), kv[0]))
    rows = [build(sc.by, name, acc, False) for (name, _), acc in ordered]
    return rows + ([build(sc.level, sc.label, total, True)] if sc.needs_total or not rows else [])


@dataclass(frozen=True)
class AttentionResult:
    as_at: dt.date
    window: int
    approaching_days: int
    by: str
    groups: list[GroupTally]  # the rows at the `by` level in name order, then the whole scope


def attention(conn: Connection, actor: Actor, q: FairnessQuery) -> AttentionResult:
    if q.window < 1:
        raise StoreError("The window is a number of days, at least 1 (28 or 91 on the screen).")
    sc = scope(conn, actor, q.by)
    as_at = _as_at(conn, q)
    days = settings_mod.load(conn).approaching_days
    return AttentionResult(as_at, q.window, days, q.by, _tallies(conn, sc, as_at, q.window, days))


# ---------------------------------------------------------------------------------------------
# Customer lists: Red without a plan, beyond 52 (individual scope: the claims the actor may see)


@dataclass(frozen=True)
class CustomerLine:
    claim_id: str
    customer_id: str
    customer_name: str
    benefit: str
    claim_start: dt.date
    days: int  # on benefit at the as-at date
    group: str  # the holder at the `by` level
    adviser_id: str
    rag: str | None
    last_contact: dt.date | None
    last_conference: dt.date | None
    red_since: dt.date | None = None
    last_plan: dt.date | None = None

    @property
    def weeks(self) -> int:
        return self.days // 7

    @property
    def plan_update(self) -> dt.date | None:
        """The later of the day Red was set and the last conference item with a plan (DOMAIN 7)."""
        known = [d for d in (self.red_since, self.last_plan) if d is not None]
        return max(known) if known else None

    @property
    def beyond_band(self) -> str:
        return next(b for b, first, last in BEYOND_BANDS if self.days >= first and (last is None or self.days <= last))


@dataclass(frozen=True)
class CustomerList:
    as_at: dt.date
    by: str
    lines: list[CustomerLine]  # by group name, then claim start, then claim id
    groups: list[GroupTally]  # the counts per group and for the scope (aggregate scope)
    count: int = 0  # how many the whole scope holds; `lines` only those the actor may open (an adviser's own)

    def waited(self, line: CustomerLine) -> int | None:
        """Days since the plan update (Red without a plan)."""
        p = line.plan_update
        return None if p is None else (self.as_at - p).days

    def since(self, d: dt.date | None) -> int | None:
        return None if d is None else (self.as_at - d).days


def _lines(conn: Connection, actor: Actor, by: str, as_at: dt.date, flag: str) -> list[CustomerLine]:
    c, st, cu = schema.Claim.__table__, schema.ClaimState.__table__, schema.Customer.__table__
    D = schema.day_number(as_at)
    _, flags = caseload_columns(as_at)
    frm = c.join(cu, cu.c.id == c.c.customer_id).outerjoin(st, st.c.claim_id == c.c.id)
    group, frm = _grouped(by, frm)
    rows = conn.execute(
        select(c.c.id, c.c.customer_id, cu.c.name, c.c.benefit, c.c.claim_start, c.c.start_day, group.label("grp"),
               c.c.adviser_id, st.c.rag, st.c.last_contact_on, st.c.last_conference_on, st.c.red_since_day,
               st.c.last_plan_day)
        .select_from(frm).where(*_open_at(D), actor.claim_filter(c), flags[flag])
    ).all()
    def day(v: int | None) -> dt.date | None:
        return None if v is None else schema.from_day_number(v)

    out = [CustomerLine(r.id, r.customer_id, r.name or "", r.benefit, r.claim_start, D - r.start_day,
                        r.grp or NOT_RECORDED, r.adviser_id, r.rag, _d(r.last_contact_on), _d(r.last_conference_on),
                        day(r.red_since_day), day(r.last_plan_day)) for r in rows]
    return sorted(out, key=lambda x: (x.group.casefold(), x.claim_start, x.claim_id))


def scope_tally(groups: Sequence[GroupTally]) -> Tally:
    """The whole scope's tally: its total row, else (the rows are the scope) their sum."""
    return groups[-1].total if groups and groups[-1].is_total else sum((g.total for g in groups), Tally())


LIST_COUNTS = {"red no plan": lambda t: t.red_no_plan, "beyond 52": lambda t: t.beyond_52}


def _customer_list(conn: Connection, actor: Actor, q: FairnessQuery, flag: str) -> CustomerList:
    sc = scope(conn, actor, q.by)
    as_at = _as_at(conn, q)
    days = settings_mod.load(conn).approaching_days
    groups = _tallies(conn, sc, as_at, q.window, days)
    return CustomerList(as_at, q.by, _lines(conn, actor, q.by, as_at, flag), groups,
                        LIST_COUNTS[flag](scope_tally(groups)))


def red_without_plan(conn: Connection, actor: Actor, q: FairnessQuery) -> CustomerList:
    """Red customers whose plan update is more than 62 days before the as-at date, and how long each waited."""
    return _customer_list(conn, actor, q, "red no plan")


def beyond_52(conn: Connection, actor: Actor, q: FairnessQuery) -> CustomerList:
    """Customers 365 days or more on benefit, by duration, with their last contact and last conference."""
    return _customer_list(conn, actor, q, "beyond 52")


# ---------------------------------------------------------------------------------------------
# Cohort figures: sanction share, referrals, destination quality, equality


@dataclass(frozen=True)
class Referral:
    claim_id: str
    customer_id: str
    customer_name: str
    group: str
    adviser_id: str
    referred_on: dt.date
    milestone_weeks: int
    milestone_on: dt.date

    @property
    def days_before(self) -> int:
        return (self.milestone_on - self.referred_on).days


@dataclass(frozen=True)
class ReferralCount:
    group_by: str
    group: str
    referrals: int
    flagged: int
    is_total: bool = False


def _referral_window(result: OffflowResult) -> tuple[int, int]:
    return (schema.day_number(result.periods[0].start),
            schema.day_number(min(result.periods[-1].end, result.as_at)))


def _referrals(conn: Connection, actor: Actor, sc: Scope, first: int, last: int) -> tuple[list, list[ReferralCount]]:
    """Decision maker referrals dated in the periods: counts per group (aggregate scope), and those made
    0 to 14 days before a milestone of the claim (individual scope), flagged for review."""
    c, ct, cu = schema.Claim.__table__, schema.Contact.__table__, schema.Customer.__table__
    gap = case(*[(c.c.start_day + 7 * w - ct.c.contact_day >= 0, c.c.start_day + 7 * w - ct.c.contact_day)
                 for w in MILESTONES], else_=None)
    weeks = case(*[(c.c.start_day + 7 * w - ct.c.contact_day >= 0, literal(w)) for w in MILESTONES], else_=None)
    frm = ct.join(c, c.c.id == ct.c.claim_id).join(cu, cu.c.id == c.c.customer_id)
    group, frm = _grouped(sc.by, frm)
    where = [ct.c.kind == "decision_maker_referral", ct.c.status == "active", ct.c.contact_day >= first,
             ct.c.contact_day <= last, *sc.conds]
    rows = conn.execute(select(c.c.id, c.c.customer_id, cu.c.name, group.label("grp"), c.c.adviser_id,
                               ct.c.contact_on, ct.c.contact_day, c.c.start_day, gap.label("gap"),
                               weeks.label("weeks"), actor.claim_filter(c).label("visible"))
                        .select_from(frm).where(*where)).all()
    counts: dict[str, list[int]] = {}
    total = [0, 0]
    flagged = []
    for r in rows:
        hit = r.gap is not None and 0 <= r.gap <= REFERRAL_DAYS
        name = r.grp or NOT_RECORDED
        for acc in ([total] if sc.only_adviser not in (None, r.adviser_id) else
                    [total, counts.setdefault(name, [0, 0])]):
            acc[0] += 1
            acc[1] += int(hit)
        if hit and r.visible:
            flagged.append(Referral(r.id, r.customer_id, r.name or "", name, r.adviser_id, _d(r.contact_on),
                                    int(r.weeks), schema.from_day_number(r.start_day + 7 * int(r.weeks))))
    out = [ReferralCount(sc.by, g, *counts[g]) for g in sorted(counts, key=lambda g: (g.casefold(), g))]
    if sc.needs_total or not out:
        out.append(ReferralCount(sc.level, sc.label, *total, is_total=True))
    flagged.sort(key=lambda x: (x.group.casefold(), x.referred_on, x.claim_id))
    return flagged, out


@dataclass(frozen=True)
class QualityRow:
    """Destination quality of one group's cohort: off-flows, the unknown ones, and confirmations since."""

    group_by: str
    group: str
    period: Period
    cohort_size: int
    offflows: int  # every claim of the cohort ended by the as-at date
    not_known: int  # by the extract's reason (empty counts as not known)
    failed_to_sign: int
    confirmed: int  # of those unknown ones, how many an adviser later confirmed
    still_unknown: int  # off-flows whose reason, confirmed or not, is still not known or failed to sign

    @property
    def unknown(self) -> int:
        return self.not_known + self.failed_to_sign

    @property
    def unknown_share_pct(self) -> str | None:
        return truncated_pct(self.unknown, self.offflows)

    @property
    def still_unknown_share_pct(self) -> str | None:
        return truncated_pct(self.still_unknown, self.offflows)


def _quality(conn: Connection, actor: Actor, oq: OffflowQuery, result: OffflowResult) -> list[QualityRow]:
    c = schema.Claim.__table__
    conds, _ = _scope(actor, oq, c.c)
    D = schema.day_number(result.as_at)
    periods = result.periods
    first, last = _referral_window(result)
    group, joins = _group_column(oq, c.c)
    frm = c
    for table, on in joins:
        frm = frm.outerjoin(table, on)
    pkey = case(*[(c.c.start_day <= schema.day_number(p.end), literal(i)) for i, p in enumerate(periods)],
                else_=literal(len(periods)))
    ended = and_(c.c.end_day.is_not(None), c.c.end_day <= D)
    extract = func.coalesce(c.c.end_reason, "")
    confirmed = _confirmed(c.c)

    def n(cond):  # noqa: ANN001, ANN202
        return func.sum(case((and_(ended, cond), 1), else_=0))

    not_known = or_(extract == "", extract == "not_known")
    effective = func.coalesce(confirmed, func.nullif(extract, ""), "not_known")
    # PostgreSQL refuses a constant in GROUP BY, so "by none" groups by the period alone.
    keys = [group] if group is not None else []
    rows = conn.execute(
        select((group if group is not None else literal("all")).label("grp"), pkey.label("pkey"), func.count(),
               n(literal(True)), n(not_known), n(extract == "failed_to_sign"),
               n(and_(or_(not_known, extract == "failed_to_sign"), confirmed.is_not(None))),
               n(effective.in_(UNKNOWN_CODES)))
        .select_from(frm)
        .where(c.c.start_day >= first, c.c.start_day <= last, *conds, *([c.c.benefit == oq.benefit] if oq.benefit else []))
        .group_by(*keys, pkey)
    ).all()
    out = [QualityRow(oq.group_by, r.grp or NOT_RECORDED, periods[r.pkey], *(int(v or 0) for v in r[2:]))
           for r in rows if r.pkey < len(periods)]
    return sorted(out, key=lambda x: (x.group.casefold(), x.group, x.period.start))


@dataclass(frozen=True)
class SanctionsResult:
    """Sanction off-flows beside the off-flow rate, referrals near milestones, and destination quality."""

    offflow: OffflowResult  # by the `by` level, then (group "all") the whole scope
    total: OffflowResult
    referrals: list[Referral]  # flagged: 0 to 14 days before a milestone, of the claims the actor may open
    referral_counts: list[ReferralCount]
    quality: list[QualityRow]  # by the `by` level, then the whole scope
    by: str
    scope_label: str
    with_total: bool = True

    @property
    def as_at(self) -> dt.date:
        return self.offflow.as_at

    @property
    def periods(self) -> list[Period]:
        return self.offflow.periods

    @property
    def flagged_count(self) -> int:
        """Referrals flagged in the whole scope (`referrals` lists only those the actor may open)."""
        c = self.referral_counts
        return next((r.flagged for r in c if r.is_total), sum(r.flagged for r in c))

    def rows(self) -> list[OffflowRow]:
        """The off-flow rows of each group, then the scope's (named by the scope)."""
        return list(self.offflow.rows) + [replace(r, group_by="total", group=self.scope_label)
                                          for r in self.total.rows if self.with_total]


def _cohort_by(actor: Actor, by: str) -> str:
    """The off-flow roll-up's grouping for a fairness `by`: per adviser only for a team manager (the
    off-flow rule); an adviser's cohort figures are their team's."""
    if by == "adviser" and actor.role is Role.ADVISER:
        return "team"
    return by


def _cohorts(conn: Connection, actor: Actor, q: FairnessQuery) -> tuple[Scope, str, OffflowResult, OffflowResult]:
    sc = scope(conn, actor, q.by)
    by = _cohort_by(actor, q.by)
    sc = replace(sc, by=by, only_adviser=sc.only_adviser if by == "adviser" else None)
    return sc, by, offflow(conn, actor, replace(q.period, group_by=by)), offflow(conn, actor, replace(q.period, group_by="none"))


def _quality_rows(conn: Connection, actor: Actor, q: FairnessQuery, sc: Scope, by_group: OffflowResult,
                  total: OffflowResult) -> list[QualityRow]:
    totals = _quality(conn, actor, replace(q.period, group_by="none"), total) if sc.needs_total else []
    return (_quality(conn, actor, replace(q.period, group_by=sc.by), by_group)
            + [replace(r, group_by="total", group=sc.label) for r in totals])


def sanctions(conn: Connection, actor: Actor, q: FairnessQuery) -> SanctionsResult:
    sc, by, by_group, total = _cohorts(conn, actor, q)
    flagged, counts = _referrals(conn, actor, sc, *_referral_window(by_group))
    return SanctionsResult(by_group, total, flagged, counts, _quality_rows(conn, actor, q, sc, by_group, total), by,
                           sc.label, sc.needs_total)


@dataclass(frozen=True)
class QualityResult:
    as_at: dt.date
    periods: list[Period]
    by: str
    rows: list[QualityRow]  # by the `by` level, then the whole scope (group_by "total")
    confirmed_destinations: int


def destination_quality(conn: Connection, actor: Actor, q: FairnessQuery) -> QualityResult:
    """Per group and cohort: off-flows whose reason is not known or failed to sign, and how many an
    adviser later confirmed."""
    sc, by, by_group, total = _cohorts(conn, actor, q)
    return QualityResult(by_group.as_at, by_group.periods, by, _quality_rows(conn, actor, q, sc, by_group, total),
                         total.confirmed_destinations)


# Equality


@dataclass(frozen=True)
class EqualityGroup:
    """One group of a personal characteristic: its open caseload and its cohorts pooled."""

    characteristic: str
    group: str
    open_customers: int = 0
    rag: tuple[int, int, int, int] = (0, 0, 0, 0)  # Red, Amber, Green, not rated
    discussed: int = 0  # open customers discussed at a conference in the window
    # milestone -> (off-flows, cohort size, employment) pooled over the cohorts final at that milestone
    pooled: dict = field(default_factory=dict)


@dataclass(frozen=True)
class EqualityResult:
    as_at: dt.date
    window: int
    threshold: int
    results: dict[str, OffflowResult]  # characteristic -> the off-flow roll-up grouped by it
    groups: list[EqualityGroup]  # by characteristic (PERSONAL order), then group name

    def of(self, characteristic: str) -> list[EqualityGroup]:
        return [g for g in self.groups if g.characteristic == characteristic]


def equality(conn: Connection, actor: Actor, q: FairnessQuery) -> EqualityResult:
    """The off-flow roll-up by each personal characteristic, with the open caseload's RAG mix and
    conference coverage per group. A missing value is the group `not recorded`; nothing is guessed.
    Suppression (counts under the threshold) is for whoever shows the figures: see `suppress`."""
    results = {ch: offflow(conn, actor, replace(q.period, group_by=ch)) for ch in PERSONAL}
    as_at = next(iter(results.values())).as_at
    threshold = next(iter(results.values())).suppress_below
    c, st, cu = schema.Claim.__table__, schema.ClaimState.__table__, schema.Customer.__table__
    cf, ci = schema.Conference.__table__, schema.ConferenceItem.__table__
    D = schema.day_number(as_at)
    lo = D - q.window + 1
    discussed = (select(ci.c.claim_id).select_from(ci.join(cf, cf.c.id == ci.c.conference_id))
                 .where(ci.c.status == "discussed", cf.c.held_day >= lo, cf.c.held_day <= D)
                 .group_by(ci.c.claim_id).subquery("discussed"))
    conds, _ = _scope(actor, OffflowQuery(group_by="none", attribution="current"), c.c)
    rows = conn.execute(
        select(cu.c.date_of_birth, cu.c.sex, cu.c.disability, cu.c.ethnicity, c.c.claim_start, st.c.rag,
               discussed.c.claim_id.is_not(None).label("discussed"))
        .select_from(c.join(cu, cu.c.id == c.c.customer_id).outerjoin(st, st.c.claim_id == c.c.id)
                     .outerjoin(discussed, discussed.c.claim_id == c.c.id))
        .where(*_open_at(D), *conds)
    ).all()
    acc: dict[tuple[str, str], list[int]] = {}
    for r in rows:
        values = {"age_band": age_band(_d(r.date_of_birth), _d(r.claim_start)), "sex": r.sex,
                  "disability": r.disability, "ethnicity": r.ethnicity}
        band = {"R": 0, "A": 1, "G": 2}.get(r.rag, 3)
        for ch in PERSONAL:
            v = values[ch] or NOT_RECORDED
            a = acc.setdefault((ch, v), [0, 0, 0, 0, 0, 0])
            a[0] += 1
            a[1 + band] += 1
            a[5] += int(bool(r.discussed))
    pooled: dict[tuple[str, str], dict[int, list[int]]] = defaultdict(dict)
    for ch, res in results.items():
        for row in res.rows:
            p = pooled[(ch, row.group)].setdefault(row.milestone_weeks, [0, 0, 0])
            if row.status == "final":
                p[0] += row.offflows
                p[1] += row.cohort_size
                p[2] += row.employment
    keys = set(acc) | set(pooled)
    order = {ch: i for i, ch in enumerate(PERSONAL)}
    groups = []
    for ch, g in sorted(keys, key=lambda k: (order[k[0]], k[1])):
        a = acc.get((ch, g), [0] * 6)
        groups.append(EqualityGroup(ch, g, a[0], tuple(a[1:5]), a[5],
                                    {w: tuple(v) for w, v in pooled.get((ch, g), {}).items()}))
    return EqualityResult(as_at, q.window, threshold, results, groups)


def suppress_rate(num: int, den: int, threshold: int) -> str:
    """A rate from two counts, empty when either is under the threshold (it would reveal the count)."""
    if num < threshold or den < threshold:
        return ""
    return truncated_pct(num, den) or ""
