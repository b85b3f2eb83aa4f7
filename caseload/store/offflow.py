"""The off-flow roll-up in SQL, and the query behind every off-flow screen and export.

SQL does the heavy part: it groups the claims in scope by group, start day, benefit,
the first milestone by which each had ended, reason and quick re-claim, so a million
claims become a few thousand integer counts. Python then places start days in cohort
periods and builds the rows with the same rules as measures/offflow.py, which is the
reference a property test holds this to.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, bindparam, case, exists, func, literal, select

from caseload.measures.cohorts import CohortKind, Period, check_bounds, last_complete_periods, period_of
from caseload.measures.destinations import Category, RuleSet, category, rule_set as get_rule_set
from caseload.measures.offflow import GROUP_BY, PERSONAL, ClaimFacts, OffflowRow
from caseload.measures.people import NOT_RECORDED, age_band
from caseload.measures.rates import cohort_status
from caseload.store import schema, settings as settings_mod
from caseload.store.access import Actor, Role
from caseload.store.errors import AccessDenied, StoreError

ATTRIBUTIONS = ("onflow", "current")


@dataclass(frozen=True)
class OffflowQuery:
    group_by: str = "none"
    cohort: CohortKind = CohortKind.REPORTING_MONTH
    milestones: tuple[int, ...] = (13, 26, 52)
    first: dt.date | None = None
    last: dt.date | None = None
    last_n: int = 12
    benefit: str | None = None
    attribution: str = "onflow"
    rule_set: str = "opte-2010"
    as_at: dt.date | None = None


@dataclass
class OffflowResult:
    query: OffflowQuery
    as_at: dt.date
    periods: list[Period]
    rule_set: RuleSet
    expected_levels: dict[str, dict[int, int]]
    suppress_below: int
    rows: list[OffflowRow]
    confirmed_destinations: int = 0
    latest_import: dict | None = None
    scope: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def suppressed(self) -> bool:
        return self.query.group_by in PERSONAL


def latest_import(conn: Connection) -> dict | None:
    bt = schema.ImportBatch.__table__
    row = conn.execute(select(bt).order_by(bt.c.as_at.desc(), bt.c.id.desc()).limit(1)).first()
    return dict(row._mapping) if row else None


def resolve_periods(q: OffflowQuery, as_at: dt.date) -> list[Period]:
    if (q.first is None) != (q.last is None):
        raise StoreError("Give both --from and --to, or neither (then --last N periods are taken).")
    if q.first is not None and q.last is not None:
        try:
            return check_bounds(q.cohort, q.first, q.last)
        except ValueError as exc:
            raise StoreError(str(exc)) from None
    if q.last_n < 1:
        raise StoreError("--last must be at least 1.")
    return last_complete_periods(q.cohort, as_at, q.last_n)


def _scope(actor: Actor, q: OffflowQuery, c) -> tuple[list, str]:  # noqa: ANN001
    """Aggregates an actor may see: an adviser sees their team's; a manager their team's; a leader the office."""
    team_col = c.onflow_team_id if q.attribution == "onflow" else c.team_id
    office_col = c.onflow_office_id if q.attribution == "onflow" else c.office_id
    if q.group_by == "adviser" and actor.role is not Role.TEAM_MANAGER:
        raise AccessDenied(
            "--by adviser is for a team manager, about their own team: run it with --as the team "
            "manager's staff id. Team and office figures are not broken down by adviser."
        )
    if actor.role is Role.ADMIN:
        return [], "all offices"
    if actor.role is Role.TEAM_LEADER:
        return [office_col == actor.office_id], f"office {actor.office_id}"
    if actor.team_id is None:
        raise AccessDenied(f"{actor.id} belongs to no team, so there are no team figures to show.")
    return [team_col == actor.team_id], f"team {actor.team_id}"


def offflow(conn: Connection, actor: Actor, q: OffflowQuery) -> OffflowResult:
    if q.group_by not in GROUP_BY:
        raise StoreError(f"--by must be one of {', '.join(GROUP_BY)}.")
    if q.attribution not in ATTRIBUTIONS:
        raise StoreError("--attribution must be onflow or current.")
    try:
        rules = get_rule_set(q.rule_set)
    except ValueError as exc:
        raise StoreError(str(exc)) from None
    conf = settings_mod.load(conn)
    latest = latest_import(conn)
    as_at = q.as_at or (latest["as_at"] if latest else None)
    if as_at is None:
        raise StoreError("No claims extract has been imported yet: run `caseload import claims PATH --as-at DATE` first.")
    periods = resolve_periods(q, as_at)
    conds, scope = _scope(actor, q, schema.Claim.__table__.c)
    rows = _rollup(conn, q, conds, periods, as_at, rules)
    confirmed = sum(r.n for r in rows if r.confirmed)
    rows = _build_rows(rows, q, periods, as_at, rules, conf.expected_levels)
    return OffflowResult(
        query=q, as_at=as_at, periods=periods, rule_set=rules, expected_levels=conf.expected_levels,
        suppress_below=conf.suppress_below, rows=rows, latest_import=latest, scope=scope,
        confirmed_destinations=confirmed,
    )


def _confirmed(c):  # noqa: ANN001, ANN202
    """The latest adviser-confirmed destination of the claim, if any: it takes the place of the
    extract's reason in the reason-based figures (the extract's own reason is kept untouched)."""
    d = schema.Destination.__table__
    return (select(d.c.code).where(d.c.claim_id == c.id).order_by(d.c.id.desc()).limit(1)
            .correlate(schema.Claim.__table__).scalar_subquery())


def _group_column(q: OffflowQuery, c):  # noqa: ANN001, ANN202
    """The SQL expression for the group value, and the joins it needs."""
    cu = schema.Customer.__table__
    onflow = q.attribution == "onflow"
    if q.group_by == "none":
        return None, []
    if q.group_by == "office":
        o = schema.Office.__table__
        return o.c.name, [(o, o.c.id == (c.onflow_office_id if onflow else c.office_id))]
    if q.group_by == "team":
        t = schema.Team.__table__
        return t.c.name, [(t, t.c.id == (c.onflow_team_id if onflow else c.team_id))]
    if q.group_by == "adviser":
        s = schema.Staff.__table__
        return s.c.name, [(s, s.c.id == (c.onflow_adviser_id if onflow else c.adviser_id))]
    if q.group_by == "benefit":
        return c.benefit, []
    if q.group_by == "age_band":
        return cu.c.date_of_birth, [(cu, cu.c.id == c.customer_id)]
    return getattr(cu.c, q.group_by), [(cu, cu.c.id == c.customer_id)]


def _rollup(conn, q, conds, periods, as_at, rules):  # noqa: ANN001, ANN202
    t = schema.Claim.__table__
    c = t.c
    first_day = schema.day_number(periods[0].start)
    last_day = schema.day_number(min(periods[-1].end, as_at))
    as_at_day = schema.day_number(as_at)
    ms = sorted(set(q.milestones))
    ended = (c.end_day.is_not(None)) & (c.end_day <= as_at_day)
    # The first milestone by which the claim had ended (0 when it had not ended by the last one).
    reached = case(
        *[(ended & (c.end_day - c.start_day <= 7 * w), literal(w)) for w in ms],
        else_=literal(0),
    )
    n = t.alias("n")
    quick = case(
        (
            ended & exists().where(
                (n.c.customer_id == c.customer_id)
                & (n.c.id != c.id)
                & (n.c.start_day >= c.end_day)
                & (n.c.start_day <= c.end_day + rules.reclaim_days)
                & (n.c.start_day <= as_at_day)
            ),
            literal(1),
        ),
        else_=literal(0),
    )
    confirmed = _confirmed(c)
    reason = case((ended, func.coalesce(confirmed, c.end_reason)), else_=None)
    is_confirmed = case((ended & confirmed.is_not(None), literal(1)), else_=literal(0))
    group_col, joins = _group_column(q, c)
    frm = t
    for table, on in joins:
        frm = frm.outerjoin(table, on)
    where = [c.start_day >= first_day, c.start_day <= last_day, *conds]
    if q.benefit:
        where.append(c.benefit == q.benefit)
    # PostgreSQL refuses a constant in GROUP BY, so "by none" selects no group column at all.
    g = [group_col.label("grp")] if group_col is not None else [literal(None).label("grp")]
    keys = [group_col] if group_col is not None else []
    # Rows come back per cohort period (a CASE over the period bounds), so a million claims make a
    # few hundred groups. Age band depends on each start day, so that grouping keeps start days.
    if q.group_by == "age_band":
        pkey = c.start_day
    else:
        pkey = case(*[(c.start_day <= schema.day_number(p.end), literal(i)) for i, p in enumerate(periods)],
                    else_=literal(len(periods)))
    not_yet = [func.sum(case((c.start_day + 7 * w > as_at_day, 1), else_=0)).label(f"ny{w}") for w in ms]
    stmt = (
        select(*g, pkey.label("pkey"), c.benefit, reached.label("reached"), reason.label("reason"),
               quick.label("quick"), is_confirmed.label("confirmed"), func.count().label("n"), *not_yet)
        .select_from(frm)
        .where(*where)
        .group_by(*keys, pkey, c.benefit, reached, reason, quick, is_confirmed)
    )
    return conn.execute(stmt).all()


def _group_value(q: OffflowQuery, raw, start: dt.date) -> str:  # noqa: ANN001
    if q.group_by == "none":
        return "all"
    if q.group_by == "age_band":
        return age_band(raw, start)
    if raw is None or raw == "":
        return NOT_RECORDED
    return str(raw)


@dataclass
class _Acc:
    size: int = 0
    benefits: set = field(default_factory=set)
    # milestone -> [offflows, employment, sanction, not_known, opte, not yet at the milestone]
    per: dict = field(default_factory=dict)


def _build_rows(raw_rows, q, periods: Sequence[Period], as_at, rules: RuleSet, levels) -> list[OffflowRow]:  # noqa: ANN001
    ms = sorted(set(q.milestones))
    by_day = q.group_by == "age_band"
    day_period: dict[int, Period | None] = {}
    wanted = set(periods)
    acc: dict[tuple[str, Period], _Acc] = {}
    for r in raw_rows:
        if by_day:
            start = schema.from_day_number(r.pkey)
            if r.pkey not in day_period:
                p = period_of(q.cohort, start)
                day_period[r.pkey] = p if p in wanted else None
            p = day_period[r.pkey]
            grp = _group_value(q, r.grp, start)
        else:
            p = periods[r.pkey] if r.pkey < len(periods) else None
            grp = _group_value(q, r.grp, periods[0].start)
        if p is None:
            continue
        a = acc.get((grp, p))
        if a is None:
            a = acc[(grp, p)] = _Acc(per={w: [0, 0, 0, 0, 0, 0] for w in ms})
        a.size += r.n
        a.benefits.add(r.benefit)
        mapping = r._mapping
        cat = category(r.reason) if r.reached else None
        opte = rules.counts_for_opte(r.reason, 0 if r.quick else None) if r.reached else False
        for w in ms:
            v = a.per[w]
            v[5] += int(mapping[f"ny{w}"] or 0)
            if r.reached and w >= r.reached:
                v[0] += r.n
                v[1] += r.n if cat is Category.EMPLOYMENT else 0
                v[2] += r.n if cat is Category.SANCTION else 0
                v[3] += r.n if cat is Category.NOT_KNOWN else 0
                v[4] += r.n if opte else 0
    out: list[OffflowRow] = []
    for (grp, p), a in sorted(acc.items(), key=lambda kv: (kv[0][0], kv[0][1].start)):
        target_benefit = next(iter(a.benefits)) if len(a.benefits) == 1 else None
        for w in ms:
            off, emp, san, nk, opte, not_yet = a.per[w]
            out.append(OffflowRow(
                group_by=q.group_by, group=grp, period=p, milestone_weeks=w,
                cohort_size=a.size, offflows=off,
                target_pct=levels.get(target_benefit, {}).get(w) if target_benefit else None,
                status=cohort_status(p.end, w, as_at),
                not_yet_at=not_yet,
                employment=emp, sanction=san, not_known=nk, opte=opte,
            ))
    return out


def claim_facts(conn: Connection, actor: Actor, q: OffflowQuery, as_at: dt.date, periods: Sequence[Period]) -> list[ClaimFacts]:
    """The claims behind a roll-up, one by one: for explaining a number, and for checking the SQL."""
    t = schema.Claim.__table__
    c = t.c
    conds, _ = _scope(actor, q, c)
    group_col, joins = _group_column(q, c)
    frm = t
    for table, on in joins:
        frm = frm.outerjoin(table, on)
    first_day = schema.day_number(periods[0].start)
    last_day = schema.day_number(min(periods[-1].end, as_at))
    where = [c.start_day >= first_day, c.start_day <= last_day, *conds]
    if q.benefit:
        where.append(c.benefit == q.benefit)
    grp = group_col.label("grp") if group_col is not None else literal(None).label("grp")
    rows = conn.execute(
        select(c.id, c.customer_id, c.claim_start, c.claim_end,
               func.coalesce(_confirmed(c), c.end_reason).label("end_reason"), c.benefit, grp)
        .select_from(frm).where(*where).order_by(c.id)
    ).all()
    customers = {r.customer_id for r in rows}
    starts: dict[str, list[tuple[str, dt.date]]] = defaultdict(list)
    if customers:
        for claim_id, cid, s in conn.execute(
            select(c.id, c.customer_id, c.claim_start).where(c.customer_id.in_(bindparam("ids", expanding=True))),
            {"ids": sorted(customers)},
        ):
            if s <= as_at:
                starts[cid].append((claim_id, s))
    out = []
    for r in rows:
        gap = None
        end = r.claim_end if r.claim_end is not None and r.claim_end <= as_at else None
        if end is not None:
            later = [(s - end).days for other, s in starts[r.customer_id] if s >= end and other != r.id]
            gap = min(later) if later else None
        out.append(ClaimFacts(
            claim_id=r.id, start=r.claim_start, end=r.claim_end, end_reason=r.end_reason, benefit=r.benefit,
            group=_group_value(q, r.grp, r.claim_start), next_claim_gap=gap,
        ))
    return out

