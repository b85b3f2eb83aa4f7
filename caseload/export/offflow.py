"""The off-flow summary contract (DOMAIN.md section 12): columns, labels, suppression, metadata."""

from __future__ import annotations

import csv
import datetime as dt
import json
from typing import IO, Any

from caseload.escaping import SHEET_NOTE, sheet_row
from caseload.measures.offflow import OffflowRow
from caseload.measures.rates import suppressed, truncated_pct
from caseload.store.offflow import OffflowResult

COLUMNS = (
    "group_by", "group", "cohort_period", "cohort_start", "cohort_end", "milestone_weeks",
    "cohort_size", "offflows", "rate_pct", "target_pct", "meets_target", "status",
    "employment_offflows", "sanction_offflows", "not_known_offflows", "opte_offflows",
)

DEFINITIONS = {
    "group_by": "what the rows are grouped by",
    "group": "the group; 'not recorded' when a personal characteristic is missing",
    "cohort_period": "the cohort period: 2010-04 for a calendar or reporting month, 2010-Q2, 2010",
    "cohort_start": "first day of the cohort period",
    "cohort_end": "last day of the cohort period",
    "milestone_weeks": "the milestone N in weeks (7 days each)",
    "cohort_size": "claims that started in the period",
    "offflows": "claims that ended within 7*N days of their start, on or before the as-at date",
    "rate_pct": "offflows / cohort_size in per cent, truncated (never rounded up) to 2 decimals",
    "target_pct": "the expected level, when every claim in the row has one benefit that has one",
    "meets_target": "yes when 100 * offflows >= target_pct * cohort_size, exactly",
    "status": "final when every member has reached N weeks by the as-at date; otherwise interim",
    "employment_offflows": "offflows to employment (found work, increased hours, self-employed)",
    "sanction_offflows": "offflows by sanction or disallowance",
    "not_known_offflows": "offflows whose destination is not known (or empty)",
    "opte_offflows": "off-flows potentially to employment under the named rule set",
}

# After the contract's columns: the control limits of the off-flow count under the expected level and
# the verdict beside Red/Green (docs/decisions.md, "Control limits"). Empty without an expected level,
# and where the rate is suppressed (the limits would give the hidden counts away).
LIMIT_COLUMNS = ("lower95_offflows", "upper95_offflows", "lower998_offflows", "upper998_offflows",
                 "verdict", "verdict_symbol")

LIMIT_DEFINITIONS = {
    "lower95_offflows": "95% lower limit: the smallest count L with P(X <= L) >= 2.5% for X ~ Binomial(cohort_size, "
                        "target_pct); fewer off-flows than L is possibly below the expected level",
    "upper95_offflows": "95% upper limit: the largest count U with P(X >= U) >= 2.5%; more than U is possibly above",
    "lower998_offflows": "99.8% lower limit (0.1% tail); fewer off-flows is below the expected level beyond chance",
    "upper998_offflows": "99.8% upper limit (0.1% tail); more off-flows is above the expected level beyond chance",
    "verdict": "below / possibly below / consistent with / possibly above / above the expected level, in words; "
               "an interim row is never beyond chance; beside meets_target, which is unchanged",
    "verdict_symbol": "the verdict as a symbol: \u21ca below, \u2193 possibly below, \u2248 consistent, "
                      "\u2191 possibly above, \u21c8 above",
}


def _yes_no(v: bool | None) -> str:
    return "" if v is None else ("yes" if v else "no")


def row_values(result: OffflowResult, row: OffflowRow) -> list[str]:
    """One row as the contract prints it, with suppression applied for personal characteristics."""
    counts = [row.cohort_size, row.offflows, row.employment, row.sanction, row.not_known, row.opte]
    if result.suppressed:
        t = result.suppress_below
        size, off, emp, san, nk, opte = (suppressed(n, t) for n in counts)
        hidden = row.cohort_size < t or row.offflows < t
        rate = "" if hidden else (truncated_pct(row.offflows, row.cohort_size) or "")
        meets = "" if hidden else _yes_no(row.meets_target)
    else:
        size, off, emp, san, nk, opte = (str(n) for n in counts)
        rate = truncated_pct(row.offflows, row.cohort_size) or ""
        meets = _yes_no(row.meets_target)
    return [
        row.group_by, row.group, row.period.label, row.period.start.isoformat(), row.period.end.isoformat(),
        str(row.milestone_weeks), size, off, rate,
        "" if row.target_pct is None else str(row.target_pct), meets, row.status,
        emp, san, nk, opte,
    ]


def hidden(result: OffflowResult, row: OffflowRow) -> bool:
    """The row's rate is suppressed (a personal-characteristic group with a count under the threshold)."""
    t = result.suppress_below
    return result.suppressed and (row.cohort_size < t or row.offflows < t)


def limit_values(result: OffflowResult, row: OffflowRow) -> list[str]:
    """The LIMIT_COLUMNS of one row: the four limits as counts, the verdict in words and as a symbol."""
    from caseload.measures.funnel import limits
    from caseload.measures.limits import verdict

    if row.target_pct is None or row.cohort_size == 0 or hidden(result, row):
        return [""] * len(LIMIT_COLUMNS)
    lim = limits(row.cohort_size, row.target_pct)
    v = verdict(row.offflows, row.cohort_size, row.target_pct, row.status)
    assert v is not None
    return [str(lim.lower95), str(lim.upper95), str(lim.lower998), str(lim.upper998), v.words, v.symbol]


def write_csv(result: OffflowResult, out: IO[str]) -> int:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS + LIMIT_COLUMNS)
    for row in result.rows:
        w.writerow(sheet_row(row_values(result, row) + limit_values(result, row)))
    return len(result.rows)


def metadata(result: OffflowResult, *, generated_at: dt.datetime, generated_by: str) -> dict[str, Any]:
    q = result.query
    latest = result.latest_import
    return {
        "report": "off-flow summary",
        "as_at": result.as_at.isoformat(),
        "cohort_period_kind": str(q.cohort),
        "periods": {"first": result.periods[0].start.isoformat(), "last": result.periods[-1].end.isoformat(),
                    "count": len(result.periods)},
        "milestones_weeks": sorted(set(q.milestones)),
        "group_by": q.group_by,
        "attribution": {"onflow": "on-flow: the adviser, team and office that held the claim when it started",
                        "current": "current: the adviser, team and office that hold the claim now"}[q.attribution],
        "benefit": q.benefit or "all benefits",
        "rule_set": {"name": result.rule_set.name, "description": result.rule_set.description,
                     "excluded_codes": sorted(result.rule_set.excluded),
                     "reclaim_days": result.rule_set.reclaim_days},
        "expected_levels_pct": {b: {str(w): p for w, p in sorted(m.items())} for b, m in sorted(result.expected_levels.items())},
        "suppression": ({"applies": True, "counts_below": result.suppress_below, "shown_as": f"<{result.suppress_below}"}
                        if result.suppressed else {"applies": False, "counts_below": result.suppress_below}),
        "rates": "truncated to 2 decimals, never rounded up; computed from integer counts",
        "text_cells": SHEET_NOTE,
        "destinations_confirmed_by_advisers": result.confirmed_destinations,
        "scope": result.scope,
        "source_import": None if latest is None else {
            "batch": latest["id"], "file": latest["file_name"], "as_at": latest["as_at"].isoformat(),
            "sha256": latest["sha256"],
        },
        # Free-text notes on the office and period (local labour market, staffing): context that
        # travels with the figures. A list, empty when none has been written.
        "context_notes": [n.as_dict() for n in result.context_notes],
        "rows": len(result.rows),
        "columns": {**DEFINITIONS, **LIMIT_DEFINITIONS},
        "generated_at": generated_at.isoformat(),
        "generated_by": generated_by,
    }


def write_metadata(meta: dict[str, Any], out: IO[str]) -> None:
    json.dump(meta, out, indent=2, sort_keys=False)
    out.write("\n")
