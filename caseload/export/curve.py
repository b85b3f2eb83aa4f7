"""The time-to-off-flow curve as CSV (week, at_risk, ended, censored, share_on_benefit) with its
metadata in a `.meta.json` sidecar, as the off-flow summary's CSV has."""

from __future__ import annotations

import csv
import datetime as dt
from typing import IO, Any

from caseload.measures.survival import CURVE_COLUMNS, MARKS, CurveResult

DEFINITIONS = {
    "week": "claim week 0-104; a claim that ended d days after its start ended in week ceil(d / 7)",
    "at_risk": "claims neither ended nor censored before this week",
    "ended": "claims that ended in this week, on or before the as-at date",
    "censored": "claims still on benefit at the as-at date (or ending after it), last seen in this week",
    "share_on_benefit": "the Kaplan-Meier estimate S(week) = product of (1 - ended / at_risk) up to this week, as "
                        "a proportion to 4 places rounded up (so 1 - S reads truncated); where no claim is "
                        "censored before week N, 1 - S(N) is the N-week off-flow rate exactly",
}


def write_csv(result: CurveResult, out: IO[str]) -> int:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CURVE_COLUMNS)
    for p in result.points:
        w.writerow(result.row_values(p))
    return len(result.points)


def metadata(result: CurveResult, *, generated_at: dt.datetime, generated_by: str) -> dict[str, Any]:
    q = result.query
    latest = result.latest_import
    marks = {}
    for w in MARKS:
        p = result.mark(w)
        if p is not None and result.shown(p):
            marks[str(w)] = {"share_on_benefit": p.share_text, "offflow_pct": p.offflow_pct,
                             "at_risk": result.row_values(p)[1]}
    return {
        "report": "time to off-flow",
        "as_at": result.as_at.isoformat(),
        "cohort_period_kind": str(q.cohort),
        "periods": {"first": result.periods[0].start.isoformat(), "last": result.periods[-1].end.isoformat(),
                    "count": len(result.periods)},
        "curve_of": result.label,
        "claims": result.row_values(result.points[0])[1] if result.points else (
            f"<{result.suppress_below}" if result.withheld else "0"),
        "attribution": {"onflow": "on-flow: the adviser, team and office that held the claim when it started",
                        "current": "current: the adviser, team and office that hold the claim now"}[q.attribution],
        "benefit": q.benefit or "all benefits",
        "method": "Kaplan-Meier product-limit estimate; claims not ended by the as-at date are censored at their "
                  "duration, so interim cohorts are used honestly",
        "suppression": ({"applies": True, "counts_below": result.suppress_below,
                         "shown_as": f"<{result.suppress_below}",
                         "withheld": result.withheld,
                         "note": "an equality group: the curve is withheld under 5 claims, counts under 5 show as "
                                 "<5 and the share is left empty where fewer than 5 are at risk"}
                        if result.suppressed else {"applies": False}),
        "marks": marks,
        "scope": result.scope,
        "source_import": None if latest is None else {
            "batch": latest["id"], "file": latest["file_name"], "as_at": latest["as_at"].isoformat(),
            "sha256": latest["sha256"],
        },
        "rows": len(result.points),
        "columns": DEFINITIONS,
        "generated_at": generated_at.isoformat(),
        "generated_by": generated_by,
    }
