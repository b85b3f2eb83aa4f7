"""Time to off-flow for the claims in scope: the Kaplan-Meier curve (measures/survival.py) of the
cohorts of the chosen periods, for the whole scope, one office, one team, or one equality group.

The scope is the off-flow roll-up's (a team manager or adviser their team, a team leader the office,
the administrator everything). An equality group (age band, sex, disability, ethnicity) is
suppressed under 5 as the fairness rules are: a group of fewer than 5 claims gives no curve, counts
under 5 print as "<5", and the share on benefit stops where fewer than 5 claims are at risk.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection, select

from caseload.measures.offflow import PERSONAL
from caseload.measures.rates import SUPPRESS_BELOW
from caseload.measures.survival import (  # noqa: F401  (the curve's values, re-exported for its readers)
    CURVE_COLUMNS, MARKS, CurveQuery, CurveResult, kaplan_meier,
)
from caseload.store import schema
from caseload.store.access import Actor
from caseload.store.errors import StoreError
from caseload.store.logins import require_team_claims
from caseload.store.offflow import (
    OffflowQuery, _group_column, _group_value, _scope, latest_import, resolve_periods,
)

def curve(conn: Connection, actor: Actor, q: CurveQuery) -> CurveResult:
    if q.group is not None and q.group[0] not in PERSONAL:
        raise StoreError(f"--group takes a characteristic among {', '.join(PERSONAL)} and a value, "
                         f"like sex=F or age_band=25-49 (not {q.group[0]}).")
    latest = latest_import(conn)
    as_at = q.as_at or (latest["as_at"] if latest else None)
    if as_at is None:
        raise StoreError("No claims extract has been imported yet: run `caseload import claims PATH --as-at DATE` first.")
    oq = OffflowQuery(cohort=q.cohort, first=q.first, last=q.last, last_n=q.last_n, benefit=q.benefit,
                      attribution=q.attribution, as_at=as_at)
    periods = resolve_periods(oq, as_at)
    t = schema.Claim.__table__
    c = t.c
    conds, scope = _scope(actor, oq, c)
    require_team_claims(conn, actor, "Time-to-off-flow curves")
    frm = t
    cols = [c.claim_start, c.claim_end]
    filters: list[tuple[int, OffflowQuery, str]] = []
    for i, (by, value) in enumerate((("office", q.office), ("team", q.team),
                                     (q.group[0] if q.group else "", q.group[1] if q.group else None))):
        if value is None:
            continue
        gq = replace(oq, group_by=by)
        col, joins = _group_column(gq, c)
        for table, on in joins:
            if table not in [j for j, _ in _joined(frm)]:
                frm = frm.outerjoin(table, on)
        cols.append(col.label(f"g{i}"))
        filters.append((i, gq, value))
    where = [c.start_day >= schema.day_number(periods[0].start),
             c.start_day <= schema.day_number(min(periods[-1].end, as_at)), *conds]
    if q.benefit:
        where.append(c.benefit == q.benefit)
    claims = []
    for r in conn.execute(select(*cols).select_from(frm).where(*where)):
        if all(_group_value(gq, r._mapping[f"g{i}"], r.claim_start) == value for i, gq, value in filters):
            claims.append((r.claim_start, r.claim_end))
    parts = []
    if q.office:
        parts.append(f"office {q.office}")
    if q.team:
        parts.append(f"team {q.team}")
    if q.group:
        parts.append(f"{q.group[0].replace('_', ' ')} {q.group[1]}")
    label = ", ".join(parts) or "all claims in scope"
    personal = q.group is not None
    result = CurveResult(q, as_at, periods, label, scope, len(claims), suppressed=personal, latest_import=latest)
    if personal and len(claims) < SUPPRESS_BELOW:
        result.withheld = True
        return result
    result.points = kaplan_meier(claims, as_at)
    return result


def _joined(frm):  # noqa: ANN001, ANN202
    """The (table, on) pairs already joined into a FROM clause built from outer joins."""
    out = []
    while hasattr(frm, "right"):
        out.append((frm.right, frm.onclause))
        frm = frm.left
    return out
