"""What the readable off-flow exports (XLSX, Markdown, HTML) share: the header block, the rules
they explain, and one view of each row with its markers.

Every number comes from the contract's `row_values` (export/offflow.py), so suppression and
truncation are decided in one place and each format shows what the CSV shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from caseload.export.offflow import COLUMNS, LIMIT_COLUMNS, limit_values
from caseload.export.offflow import row_values as contract_values
from caseload.measures.offflow import OffflowRow
from caseload.measures.rates import SMALL_N, suppressed
from caseload.store.offflow import PERSONAL, OffflowResult

TITLE = "Off-flow summary"
CHECK, CROSS = "\u2713", "\u2717"  # ✓ ✗: status is never colour alone

# Columns the readable formats add after the contract's, and what they mean.
EXTRA_COLUMNS = ("still_needed", "not_yet_at", "note")
EXTRA_DEFINITIONS = {
    "still_needed": "further off-flows needed to meet the target: ceil(target_pct * cohort_size / 100) - offflows; "
                    "empty when there is no target or it is met",
    "not_yet_at": "members of the cohort who had not reached N weeks by the as-at date (interim rows only)",
    "note": "interim, small-n and suppression markers for the row, in words",
}

_IDX = {c: i for i, c in enumerate(COLUMNS)}
_LIMIT_IDX = {c: i for i, c in enumerate(LIMIT_COLUMNS)}


@dataclass(frozen=True)
class Cell:
    """One row of the summary as the readable formats present it."""

    row: OffflowRow
    values: list[str]  # the contract's row, exactly as the CSV prints it
    hidden: bool  # the rate (and its target result) is suppressed
    suppressing: bool  # the result is a personal-characteristic breakdown
    threshold: int
    limits: list[str] = field(default_factory=lambda: [""] * len(LIMIT_COLUMNS))  # LIMIT_COLUMNS, as the CSV

    def value(self, column: str) -> str:
        if column in _LIMIT_IDX:
            return self.limits[_LIMIT_IDX[column]]
        return self.values[_IDX[column]]

    @property
    def verdict_text(self) -> str:
        """"≈ consistent with the expected level", or "" without a verdict."""
        words = self.value("verdict")
        return f"{self.value('verdict_symbol')} {words}" if words else ""

    @property
    def limits_text(self) -> str:
        """"95% 18-38 · 99.8% 15-41" (off-flow counts), or "" without an expected level."""
        if not self.value("lower95_offflows"):
            return ""
        return (f"95% {self.value('lower95_offflows')}\u2013{self.value('upper95_offflows')} \u00b7 "
                f"99.8% {self.value('lower998_offflows')}\u2013{self.value('upper998_offflows')}")

    @property
    def size(self) -> str:
        return self.value("cohort_size")

    @property
    def offflows(self) -> str:
        return self.value("offflows")

    @property
    def rate(self) -> str:
        """The truncated rate as the CSV prints it ("" when suppressed)."""
        return self.value("rate_pct")

    @property
    def target(self) -> int | None:
        return self.row.target_pct

    @property
    def meets(self) -> bool | None:
        """True/False against the target; None with no target or a suppressed rate."""
        v = self.value("meets_target")
        return None if v == "" else v == "yes"

    @property
    def interim(self) -> bool:
        return self.row.status == "interim"

    @property
    def small_n(self) -> bool:
        """A shown rate over fewer than SMALL_N claims."""
        return not self.hidden and self.row.cohort_size < SMALL_N

    def _count(self, n: int) -> str:
        return suppressed(n, self.threshold) if self.suppressing else str(n)

    @property
    def not_yet_at(self) -> str:
        return self._count(self.row.not_yet_at) if self.interim else ""

    @property
    def still_needed(self) -> str:
        """Off-flows still needed, "" with no target, when met, or when the rate is suppressed."""
        if self.meets is not False:
            return ""
        return self._count(self.row.still_needed or 0)

    @property
    def status_marker(self) -> str:
        """"✓ meets 56%", "✗ misses 56%", or "" without a target (or when suppressed)."""
        if self.meets is None:
            return ""
        return f"{CHECK} meets {self.target}%" if self.meets else f"{CROSS} misses {self.target}%"

    @property
    def fraction(self) -> str:
        return f"{self.offflows}/{self.size}"

    @property
    def rate_text(self) -> str:
        return "rate suppressed" if self.hidden else f"{self.rate}%"

    def interim_text(self) -> str:
        """"interim: 3 not yet at 13 weeks, needs 1" (the needs part only when the target is missed)."""
        if not self.interim:
            return ""
        text = f"interim: {self.not_yet_at} not yet at {self.row.milestone_weeks} weeks"
        if self.still_needed:
            text += f", needs {self.still_needed}"
        return text

    def notes(self) -> list[str]:
        """The row's markers in words, for a note column or a cell."""
        out = []
        if self.interim:
            out.append(self.interim_text())
        elif self.still_needed:
            out.append(f"needs {self.still_needed} more to meet {self.target}%")
        if self.small_n:
            out.append(f"small n: rate over fewer than {SMALL_N} claims")
        if self.hidden:
            out.append(f"suppressed: counts under {self.threshold} shown as <{self.threshold}")
        return out

    def summary(self) -> str:
        """One line for a matrix cell: "18/40 45.00% ✗ misses 56% · interim: 3 not yet at 13 weeks, needs 1"."""
        parts = [f"{self.fraction} {self.rate_text}"]
        if self.status_marker:
            parts[0] += f" {self.status_marker}"
        if self.interim:
            parts.append(self.interim_text())
        elif self.still_needed:
            parts.append(f"needs {self.still_needed}")
        if self.small_n:
            parts.append("small n")
        return " \u00b7 ".join(parts)


def cells(result: OffflowResult) -> list[Cell]:
    """Every row of the result, in the contract's order (group, cohort start, milestone)."""
    t = result.suppress_below
    out = []
    for r in result.rows:
        hidden = result.suppressed and (r.cohort_size < t or r.offflows < t)
        out.append(Cell(r, contract_values(result, r), hidden, result.suppressed, t, limit_values(result, r)))
    return out


@dataclass(frozen=True)
class Group:
    name: str
    periods: list  # the cohort periods with claims in this group, in order
    milestones: list[int]
    by_key: dict  # (period, milestone) -> Cell

    def cell(self, period, weeks: int) -> Cell | None:  # noqa: ANN001
        return self.by_key.get((period, weeks))


def groups(result: OffflowResult) -> Iterator[Group]:
    """The result's groups in the contract's order; never re-ordered by performance."""
    current: list[Cell] = []
    for c in cells(result) + [None]:  # type: ignore[list-item]
        if current and (c is None or c.row.group != current[0].row.group):
            periods: list = []
            for x in current:
                if x.row.period not in periods:
                    periods.append(x.row.period)
            yield Group(
                name=current[0].row.group,
                periods=periods,
                milestones=sorted({x.row.milestone_weeks for x in current}),
                by_key={(x.row.period, x.row.milestone_weeks): x for x in current},
            )
            current = []
        if c is not None:
            current.append(c)


def group_heading(result: OffflowResult, name: str) -> str:
    if result.query.group_by == "none":
        return "All claims in scope"
    return f"{result.query.group_by.replace('_', ' ')}: {name}"


def expected_levels_text(meta: dict[str, Any]) -> str:
    levels = meta.get("expected_levels_pct") or {}
    if not levels:
        return "none set"
    return "; ".join(
        f"{benefit}: " + ", ".join(f"{w} weeks {p}%" for w, p in by_week.items())
        for benefit, by_week in levels.items()
    )


def suppression_text(meta: dict[str, Any]) -> str:
    s = meta["suppression"]
    if s["applies"]:
        return (f"applies: grouped by a personal characteristic ({meta['group_by'].replace('_', ' ')}), so every "
                f"count under {s['counts_below']} (zero included) shows as {s['shown_as']} and a rate derived "
                f"from it is left empty")
    by = meta["group_by"].replace("_", " ")
    how = "the rows are not grouped" if by == "none" else f"grouped by {by}"
    return (f"not applied ({how}, which is not a personal characteristic); counts under {s['counts_below']} "
            f"are suppressed only when grouping by age band, sex, disability or ethnicity")


def context_notes_text(meta: dict[str, Any]) -> str:
    """The office's notes on these cohort periods, one after another, each with who wrote it and when."""
    notes = meta.get("context_notes") or []
    if not notes:
        return "none written for these cohort periods"
    return "; ".join(f"{n['cohort_period']} ({n['office']}, by {n['written_by']} on {n['written_at'][:10]}): "
                     f"{n['text']}" for n in notes)


def header(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """The header block every readable format opens with: what the figures are and how they were made."""
    p = meta["periods"]
    rs = meta["rule_set"]
    src = meta.get("source_import")
    rows = [
        ("As at", meta["as_at"]),
        ("Cohort period kind", meta["cohort_period_kind"]),
        ("Cohort periods", f"{p['first']} to {p['last']} ({p['count']} period{'s' if p['count'] != 1 else ''})"),
        ("Milestones", ", ".join(str(w) for w in meta["milestones_weeks"]) + " weeks"),
        ("Grouped by", meta["group_by"].replace("_", " ")),
        ("Attribution", meta["attribution"]),
        ("Benefit", meta["benefit"]),
        ("Rule set", f"{rs['name']}: {rs['description']}"),
        ("Expected levels", expected_levels_text(meta)),
        ("Destinations confirmed by advisers", str(meta["destinations_confirmed_by_advisers"])),
        ("Suppression", suppression_text(meta)),
        ("Rates", meta["rates"]),
        ("Scope", meta["scope"]),
        ("Context notes", context_notes_text(meta)),
    ]
    if src:
        rows.append(("Source extract", f"{src['file']} (import batch {src['batch']}, as at {src['as_at']}, "
                                       f"sha256 {src['sha256'][:12]}\u2026)"))
    rows.append(("Generated", f"{meta['generated_at']} by {meta['generated_by']}"))
    return rows


def rules(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """The rules behind the figures, in words; the definitions section of every readable format."""
    rs = meta["rule_set"]
    excluded = ", ".join(rs["excluded_codes"]) or "none"
    threshold = meta["suppression"]["counts_below"]
    personal = ", ".join(p.replace("_", " ") for p in PERSONAL)
    return [
        ("Truncated rates", "A rate is the exact off-flows / cohort size cut to 2 decimals, never rounded up, "
                            "so it never reads as meeting a level it misses: 11,199 of 20,000 is 55.99%, not 56.00%."),
        ("Exact target comparison", f"{CHECK} meets when 100 \u00d7 off-flows \u2265 target \u00d7 cohort size, in "
                                    f"whole numbers: 14 of 25 is exactly 56% and meets 56%; 5 of 9 (55.55%) "
                                    f"{CROSS} misses it. Met is shown as {CHECK}/yes and missed as {CROSS}/no, never "
                                    f"by colour alone."),
        ("Still needed", "ceil(target \u00d7 cohort size / 100) \u2212 off-flows, in whole numbers: a cohort of 50 at "
                         "56% needs 28 off-flows."),
        ("Final and interim", "final when the as-at date is on or after the cohort period's last day plus N weeks, "
                              "so every member has reached N weeks; otherwise interim: the figure can still rise, "
                              "and the row says how many members have not yet reached N weeks."),
        ("Small n", f"a rate over fewer than {SMALL_N} claims is marked small n: one claim moves it by more than "
                    f"10 points."),
        ("Suppression", f"when grouping by a personal characteristic ({personal}) "
                        f"every count under {threshold}, zero included, shows as <{threshold}, and a rate or target "
                        f"result derived from it is left empty."),
        ("Off-flows potentially to employment (OPtE)", f"counted under rule set {rs['name']}. {rs['description']}. "
                                                      f"Excluded end reasons: {excluded}; an off-flow followed by a "
                                                      f"re-claim within {rs['reclaim_days']} days is not counted."),
        ("Destination counts", "employment, sanction and not-known counts are among the off-flows at that "
                               "milestone; an adviser-confirmed destination takes the place of the extract's reason."),
        ("Control limits", "the 95% and 99.8% limits of the off-flow count under the expected level are exact "
                           "binomial quantiles (Spiegelhalter's funnel-plot convention): fewer off-flows than the "
                           "99.8% lower limit is \u21ca below the expected level beyond chance, fewer than the 95% "
                           "lower limit \u2193 possibly below, and the same above (\u2191, \u21c8); otherwise "
                           "\u2248 consistent with the expected level. An interim figure is never called beyond "
                           "chance. The verdict stands beside the Red/Green, which is unchanged."),
        ("Funnel plot", "each unit's off-flows and cohort sizes at one milestone summed over the exported cohort "
                        "periods (never rates averaged), plotted against the cohort size with the expected level "
                        "and its limits; units are numbered in name order, never ranked."),
        ("Order", "groups in code-point order of their names, then cohort start, then milestone; never ranked by "
                  "performance."),
        ("Attribution", meta["attribution"]),
    ]


@dataclass(frozen=True)
class Funnel:
    """One milestone's funnel: each group's rows pooled over the exported periods, in name order."""

    milestone: int
    points: list  # measures.funnel.FunnelPoint
    hidden: int  # groups left out because a pooled count is under the suppression threshold


def funnels(result: OffflowResult) -> list[Funnel]:
    from caseload.measures.funnel import funnel_points

    out = []
    for w in sorted(set(result.query.milestones)):
        points = funnel_points(result.rows, w)
        t = result.suppress_below
        shown = [p for p in points if not result.suppressed or (p.size >= t and p.offflows >= t)]
        out.append(Funnel(w, shown, len(points) - len(shown)))
    return out


def funnel_rows(f: Funnel) -> list[list[str]]:
    """The funnel as table rows (name order): unit, off-flows/size, rate, expected, limits, verdict."""
    rows = []
    for p in f.points:
        lim = p.limits
        v = p.verdict
        rows.append([p.name, f"{p.offflows}/{p.size}", f"{p.rate_pct}%",
                     "" if p.target_pct is None else f"{p.target_pct}%",
                     "" if lim is None else f"{lim.lower95}\u2013{lim.upper95}",
                     "" if lim is None else f"{lim.lower998}\u2013{lim.upper998}",
                     "" if v is None else f"{v.symbol} {v.words}", p.status])
    return rows


FUNNEL_HEAD = ["Unit", "Off-flows/size", "Rate", "Expected", "95% limits", "99.8% limits", "Verdict", "Status"]
