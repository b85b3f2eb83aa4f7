"""The off-flow roll-up in SQL, and the query behind every off-flow screen and export.

Where it can (on-flow attribution, by none, office, team or adviser, at the latest import's
as-at date, summary milestones, the default rule set) the roll-up reads the cohort summaries
that store/summary.py keeps current on import and on edit: twelve months of a district are
a few thousand summary rows. Otherwise SQL does the heavy part on the claims: it groups the
claims in scope by group, cohort period, benefit, the first milestone by which each had
ended, reason and quick re-claim, so a million claims become a few thousand integer counts.
Python then builds the rows with the same rules as measures/offflow.py, which is the
reference a property test holds both paths to. `explain` lists the claims behind one cell.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, bindparam, case, exists, func, literal, select
from sqlalchemy import text as sa_text

from caseload.measures.cohorts import CohortKind, Period, check_bounds, last_complete_periods, period_of
from caseload.measures.destinations import Category, RuleSet, category, rule_set as get_rule_set
from caseload.measures.offflow import GROUP_BY, PERSONAL, ClaimFacts, OffflowRow
from caseload.measures.people import NOT_RECORDED, age_band
from caseload.measures.rates import cohort_status
from caseload.store import schema, settings as settings_mod
from caseload.store import summary as summary_mod
from caseload.store.access import Actor, Role
from caseload.store.errors import AccessDenied, StoreError
from caseload.store.logins import require_team_claims

ATTRIBUTIONS = ("onflow", "current")
MIX_CATEGORIES: tuple[Category, ...] = tuple(Category)


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
    # (group, period start, milestone) -> off-flows by destination category (confirmed, else the
    # extract's), in the order of MIX_CATEGORIES
    mix: dict[tuple[str, dt.date, int], tuple[int, ...]] = field(default_factory=dict)
    source: str = "scan"  # "summary" when the kept cohort summaries answered, "scan" when the claims were read
    context_notes: list = field(default_factory=list)  # store.notes.ContextNote for the periods and offices in scope

    @property
    def suppressed(self) -> bool:
        return self.query.group_by in PERSONAL

    def mix_of(self, row: OffflowRow) -> dict[Category, int]:
        """The off-flows of a row by destination category (every category, zeros included)."""
        got = self.mix.get((row.group, row.period.start, row.milestone_weeks)) or (0,) * len(MIX_CATEGORIES)
        return dict(zip(MIX_CATEGORIES, got))


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
    if summary_usable(conn, q, latest, as_at):
        with _no_cyclic_gc():
            rows, mix, confirmed = _from_summary(conn, actor, q, periods, as_at, conf.expected_levels)
        source = "summary"
    else:
        require_team_claims(conn, actor, "These figures")
        raw = _rollup(conn, q, conds, periods, as_at, rules)
        confirmed = sum(r.n for r in raw if r.confirmed)
        rows, mix = _build_rows(raw, q, periods, as_at, rules, conf.expected_levels)
        source = "scan"
    result = OffflowResult(
        query=q, as_at=as_at, periods=periods, rule_set=rules, expected_levels=conf.expected_levels,
        suppress_below=conf.suppress_below, rows=rows, latest_import=latest, scope=scope,
        confirmed_destinations=confirmed, mix=mix, source=source,
    )
    result.context_notes = _notes_for(conn, actor, q, periods)
    return result


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """The cyclic collector off while the summary rows are read and built: they make no reference
    cycles, and a full collection of a large heap that their allocations set off (up to 80 ms in the
    benchmark's process) costs more than the roll-up itself. Reference counting still frees them; the
    importer's row loop does the same, and the app runs full collections when idle."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _notes_for(conn: Connection, actor: Actor, q: OffflowQuery, periods: Sequence[Period]) -> list:
    from caseload.store import notes

    return notes.notes_for_result(conn, actor, q.cohort, periods)


# Group-bys the summaries can answer (with on-flow attribution, at the latest import's date).
SUMMARY_GROUP_BY = ("none", "office", "team", "adviser")


def summary_usable(conn: Connection, q: OffflowQuery, latest: dict | None, as_at: dt.date) -> bool:
    """Whether the kept cohort summaries give this roll-up exactly (see store/summary.py)."""
    if q.attribution != "onflow" or q.group_by not in SUMMARY_GROUP_BY or latest is None:
        return False
    if as_at < latest["as_at"] or q.rule_set != summary_mod.SUMMARY_RULE_SET:
        return False
    st = summary_mod.state(conn)
    return (st is not None and st.batch_id == latest["id"] and st.rule_set == q.rule_set
            and set(q.milestones) <= set(st.weeks))


def _summary_scope(actor: Actor) -> tuple[str, int] | None:
    if actor.role is Role.ADMIN:
        return None
    if actor.role is Role.TEAM_LEADER:
        return ("office", actor.office_id or 0)
    return ("team", actor.team_id or 0)


# group_by -> the summary table, and the table that names its groups joined on the summary's key.
_SUMMARY_SOURCES = {
    "none": ("cohort_summary_team", None),
    "office": ("cohort_summary_team", ("office", "s.office_key")),
    "team": ("cohort_summary_team", ("team", "s.team_key")),
    "adviser": ("cohort_summary", ("staff", "s.adviser_id")),
}
# The group as the scan names it: by name (two teams of one name are one group), "" or no name as not
# recorded. A literal, not a parameter: PostgreSQL matches the GROUP BY to the SELECT by its text.
_GROUP_NAME = "COALESCE(NULLIF(g.name, ''), '" + NOT_RECORDED.replace("'", "''") + "')"


def _summary_select(table: str, named: tuple[str, str] | None, where: list[str], sums: str) -> tuple[str, str]:
    """SELECT the group name (NULL for by none) and ``sums`` FROM ``table`` s WHERE ``where``; and the
    group name's expression, for the caller's GROUP BY."""
    grp, frm = "NULL", f"{table} s"
    if named is not None:
        grp, frm = _GROUP_NAME, f"{frm} LEFT JOIN {named[0]} g ON g.id = {named[1]}"
    return f"SELECT {grp}, {sums} FROM {frm} WHERE {' AND '.join(where)}", grp


def _summary_where(where: list[str], params: dict, scope_col: str | None, scope: int | None,
                   benefit: str | None) -> list[str]:
    if scope_col is not None:
        where.append(f"{scope_col} = :scope")
        params["scope"] = scope
    if benefit:
        where.append("s.benefit = :benefit")
        params["benefit"] = benefit
    return where


def _not_yet(conn: Connection, q: OffflowQuery, scope: tuple[str, int] | None,
             cuts: dict[int, tuple[int, int]]) -> dict[tuple[str | None, int], int]:
    """(group name, milestone) -> members started after the milestone's cut-off day and on or before
    the last day of the period the cut-off is in (``cuts``: milestone -> (cut-off, last day))."""
    if not cuts:
        return {}
    params: dict[str, object] = {"lo": min(c for c, _ in cuts.values()), "hi": max(h for _, h in cuts.values())}
    where = ["s.start_day > :lo", "s.start_day <= :hi"]
    if q.group_by == "adviser":
        # The adviser summary has no start days; a team's claims are one short run of the claim index.
        table, named, one, scope_col = "claim", ("staff", "s.onflow_adviser_id"), "1", "s.onflow_team_id"
    else:
        table, named, one = "cohort_start", _SUMMARY_SOURCES[q.group_by][1], "s.n"
        scope_col = f"s.{scope[0]}_key" if scope else None
    sums = ", ".join(f"SUM(CASE WHEN s.start_day > {c} AND s.start_day <= {h} THEN {one} ELSE 0 END)"
                     for c, h in cuts.values())
    where = _summary_where(where, params, scope_col, scope and scope[1], q.benefit)
    sql, grp = _summary_select(table, named, where, sums)
    if named is not None:
        sql += f" GROUP BY {grp}"
    return {(row[0], w): n or 0 for row in conn.execute(sa_text(sql), params) for w, n in zip(cuts, row[1:])}


def _from_summary(conn, actor, q, periods, as_at, levels):  # noqa: ANN001, ANN202
    """The roll-up from the cohort summaries: the same rows _build_rows makes from a scan. SQL adds the
    summary rows up per group name and period; Python makes each result row once from them."""
    scope = _summary_scope(actor)
    ms = sorted(set(q.milestones))
    as_at_day = schema.day_number(as_at)
    table, named = _SUMMARY_SOURCES[q.group_by]
    params: dict[str, object] = {"first": schema.day_number(periods[0].start),
                                 "last": schema.day_number(periods[-1].end)}
    where = _summary_where(["s.seg_day >= :first", "s.seg_day <= :last"], params,
                           scope and f"s.{scope[0]}_key", scope and scope[1], q.benefit)
    pcase = summary_mod._period_case(periods, "s.seg_day")
    sums = ", ".join([pcase, "SUM(s.n)", "SUM(s.confirmed)", "MIN(s.benefit)", "MAX(s.benefit)",
                      *(f"SUM(s.{m}_{w})" for w in ms for m in summary_mod.MEASURES)])
    sql, grp = _summary_select(table, named, where, sums)
    # PostgreSQL refuses a constant in GROUP BY, so "by none" groups by period only.
    sql += f" GROUP BY {pcase}" if named is None else f" GROUP BY {grp}, {pcase}"
    counts = sorted((tuple(r) for r in conn.execute(sa_text(sql), params) if r[1] < len(periods)),
                    key=lambda r: (r[0] or "", r[1]))
    # Members not yet at a milestone: none in a period that ended 7N days before the as-at date, all
    # in one that started after the cut-off, and a count by start day in the one the cut-off is in.
    after: dict[int, int] = {}  # milestone -> index of the first period wholly after its cut-off day
    cuts: dict[int, tuple[int, int]] = {}  # milestone -> (cut-off day, last day of the period it is in)
    cut_in: dict[int, int] = {}  # milestone -> index of that period
    for w in ms:
        cut = as_at_day - 7 * w
        after[w] = next((i for i, p in enumerate(periods) if schema.day_number(p.start) > cut), len(periods))
        for i, p in enumerate(periods[:after[w]]):
            if schema.day_number(p.end) > cut:
                cuts[w], cut_in[w] = (cut, schema.day_number(p.end)), i
    not_yet = _not_yet(conn, q, scope, cuts)
    width = len(summary_mod.MEASURES)
    cats = list(summary_mod.CATEGORY_COLUMNS)
    emp, san, nk = (cats.index(c) + 1 for c in (Category.EMPLOYMENT, Category.SANCTION, Category.NOT_KNOWN))
    status = {(i, w): cohort_status(p.end, w, as_at) for i, p in enumerate(periods) for w in ms}
    rows: list[OffflowRow] = []
    mix: dict = {}
    confirmed = 0
    for r in counts:
        name, pidx, size = r[0], r[1], r[2]
        grp_value, p = ("all" if name is None else name), periods[pidx]
        confirmed += r[3]
        target = levels.get(r[4], {}) if r[4] == r[5] else {}
        for k, w in enumerate(ms):
            v = r[6 + k * width:6 + (k + 1) * width]
            ny = size if pidx >= after[w] else not_yet.get((name, w), 0) if cut_in.get(w) == pidx else 0
            rows.append(OffflowRow(
                group_by=q.group_by, group=grp_value, period=p, milestone_weeks=w, cohort_size=size,
                offflows=v[0], target_pct=target.get(w), status=status[(pidx, w)], not_yet_at=ny,
                employment=v[emp], sanction=v[san], not_known=v[nk], opte=v[width - 1],
            ))
            mix[(grp_value, p.start, w)] = v[1:width - 1]
    return rows, mix, confirmed


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
    mix: dict = field(default_factory=dict)  # milestone -> {category: off-flows}


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
            a = acc[(grp, p)] = _Acc(per={w: [0, 0, 0, 0, 0, 0] for w in ms}, mix={w: {} for w in ms})
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
                a.mix[w][cat] = a.mix[w].get(cat, 0) + r.n
    out: list[OffflowRow] = []
    mix: dict = {}
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
            mix[(grp, p.start, w)] = tuple(a.mix[w].get(c, 0) for c in MIX_CATEGORIES)
    return out, mix


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



# ---------------------------------------------------------------------------------------------
# Explain this number


@dataclass(frozen=True)
class ExplainRow:
    """One claim in a cell's cohort, and what it counts for."""

    claim_id: str
    start: dt.date
    end: dt.date | None  # as known at the as-at date (None: open then)
    extract_reason: str | None  # the extract's end reason, kept as it came
    confirmed_reason: str | None  # the latest destination an adviser confirmed, if any
    counts: bool  # in the numerator: ended within N weeks of its start, on or before the as-at date
    opte: bool  # counted as an off-flow potentially to employment under the rule set
    days: int  # duration in days as at the as-at date

    @property
    def reason(self) -> str | None:
        """The reason the reason-based figures use: the confirmed one where there is one."""
        if self.end is None:
            return None
        return self.confirmed_reason or self.extract_reason or "not_known"

    @property
    def category(self) -> Category | None:
        return category(self.reason) if self.end is not None else None


@dataclass(frozen=True)
class Explanation:
    """The claims behind one cell of an off-flow roll-up: its denominator, each marked whether it is
    in the numerator, and the rule set the reason-based figures used."""

    rule_set: str
    rule_set_description: str
    as_at: dt.date
    group_by: str
    group: str
    period: Period
    milestone_weeks: int
    rows: list[ExplainRow]

    @property
    def denominator(self) -> int:
        return len(self.rows)

    @property
    def numerator(self) -> int:
        return sum(1 for r in self.rows if r.counts)

    @property
    def opte(self) -> int:
        return sum(1 for r in self.rows if r.opte)


def explain(conn: Connection, actor: Actor, q: OffflowQuery, group: str, period: Period, milestone: int) -> Explanation:
    """Exactly the claims of one cell: every member of the group's cohort in the period (the
    denominator), each saying whether it is in the off-flow count at the milestone (the numerator).
    Scoped as the roll-up is: what the actor may see in aggregate, never more."""
    from caseload.measures.clock import offflowed_by

    try:
        rules = get_rule_set(q.rule_set)
    except ValueError as exc:
        raise StoreError(str(exc)) from None
    latest = latest_import(conn)
    as_at = q.as_at or (latest["as_at"] if latest else None)
    if as_at is None:
        raise StoreError("No claims extract has been imported yet: run `caseload import claims PATH --as-at DATE` first.")
    facts = [f for f in claim_facts(conn, actor, q, as_at, [period]) if f.group == group and f.start <= as_at]
    extract: dict[str, tuple[str | None, str | None]] = {}
    ids = [f.claim_id for f in facts]
    if ids:
        c = schema.Claim.__table__.c
        for cid, reason, confirmed in conn.execute(
            select(c.id, c.end_reason, _confirmed(c).label("confirmed"))
            .where(c.id.in_(bindparam("ids", expanding=True))), {"ids": ids},
        ):
            extract[cid] = (reason, confirmed)
    rows = []
    for f in sorted(facts, key=lambda f: (f.start, f.claim_id)):
        ended = f.end is not None and f.end <= as_at
        counts = offflowed_by(f.start, f.end, milestone, as_at)
        reason, confirmed = extract.get(f.claim_id, (None, None))
        rows.append(ExplainRow(
            claim_id=f.claim_id, start=f.start, end=f.end if ended else None,
            extract_reason=reason if ended else None, confirmed_reason=confirmed if ended else None,
            counts=counts, opte=counts and rules.counts_for_opte(f.end_reason, f.next_claim_gap),
            days=((f.end if ended else as_at) - f.start).days,
        ))
    return Explanation(rule_set=rules.name, rule_set_description=rules.description, as_at=as_at,
                       group_by=q.group_by, group=group, period=period, milestone_weeks=milestone, rows=rows)
