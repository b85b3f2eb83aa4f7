"""The off-flow summary as Markdown: tables that read well in an e-mail or a pull request."""

from __future__ import annotations

import re
from typing import IO, Any

from caseload.escaping import md_text
from caseload.export.common import (
    CHECK, CROSS, FUNNEL_HEAD, TITLE, funnel_rows, funnels, group_heading, groups, header, rules,
)
from caseload.export.offflow import DEFINITIONS, LIMIT_DEFINITIONS
from caseload.store.offflow import OffflowResult

_SOFT = re.compile(r"([\\`*\[\]|]|<(?=[A-Za-z/!?]))")


md = md_text  # a name from the data (a team, an office): it cannot break a table or turn into markup


def soft(text: str) -> str:
    """Escape header values without cluttering them: keeps underscores (GitHub does not emphasise
    them inside words) and "<5" as they are, so the e-mail reads cleanly."""
    return _SOFT.sub(r"\\\1", str(text)).replace("\r", " ").replace("\n", " ")


def _cell(text: str) -> str:
    """Our own cell text: only the table separator needs escaping ("<5" reads as it is)."""
    return text.replace("|", "\\|")


def md_table(head: list[str], body: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in body]
    return lines


def write_markdown(result: OffflowResult, out: IO[str], meta: dict[str, Any]) -> int:
    """Write the summary; returns the number of contract rows shown."""
    lines = [f"# {TITLE}", ""]
    lines += [f"- **{label}:** {soft(value)}" for label, value in header(meta)]
    lines += [
        "",
        f"Each cell: off-flows/cohort size, the truncated rate, {CHECK} meets or {CROSS} misses the expected level "
        "(when there is one), an interim marker with the members not yet at the milestone and the off-flows "
        "still needed, and \"small n\" for a rate over fewer than 10 claims.",
    ]
    n = 0
    for g in groups(result):
        lines += ["", f"## {md(group_heading(result, g.name))}", ""]
        body = []
        for p in g.periods:
            row = [f"{p.label} ({p.start.isoformat()} to {p.end.isoformat()})"]
            for w in g.milestones:
                c = g.cell(p, w)
                row.append(_cell(c.summary()) if c else "")
                n += 1 if c else 0
            body.append(row)
        lines += md_table(["Cohort"] + [f"{w} weeks" for w in g.milestones], body)
        lines += ["", "Destinations of the off-flows:", ""]
        dest = []
        for p in g.periods:
            for w in g.milestones:
                c = g.cell(p, w)
                if c is None:
                    continue
                dest.append([p.label, str(w), c.offflows, c.value("employment_offflows"), c.value("sanction_offflows"),
                             c.value("not_known_offflows"), c.value("opte_offflows")])
        lines += md_table(["Cohort", "Weeks", "Off-flows", "Employment", "Sanction", "Not known", "OPtE"], dest)
        limits = []
        for p in g.periods:
            for w in g.milestones:
                c = g.cell(p, w)
                if c is None or not c.value("verdict"):
                    continue
                limits.append([p.label, str(w), c.fraction, _cell(c.status_marker),
                               f"{c.value('lower95_offflows')}\u2013{c.value('upper95_offflows')}",
                               f"{c.value('lower998_offflows')}\u2013{c.value('upper998_offflows')}",
                               _cell(c.verdict_text), c.row.status])
        if limits:
            lines += ["", "Against the expected level (limits of the off-flow count):", ""]
            lines += md_table(["Cohort", "Weeks", "Off-flows/size", "Red/Green", "95% limits", "99.8% limits",
                             "Verdict", "Status"], limits)
    if not result.rows:
        lines += ["", "No claims started in these cohort periods."]
    if result.rows:
        lines += ["", "## Against the expected level: control limits", "",
                  "Each unit's off-flows and cohort sizes summed over these cohort periods, in name order (never "
                  "ranked), with the 95% and 99.8% limits of the off-flow count under the expected level and the "
                  "verdict: \u21ca below beyond chance, \u2193 possibly below, \u2248 consistent, \u2191 possibly "
                  "above, \u21c8 above beyond chance. The HTML export draws this as a funnel plot."]
        for f in funnels(result):
            lines += ["", f"### {f.milestone} weeks", ""]
            lines += md_table(FUNNEL_HEAD, [[md(r[0])] + [_cell(x) for x in r[1:]] for r in funnel_rows(f)])
            if f.hidden:
                lines += ["", f"{f.hidden} group(s) left out: a pooled count is under {result.suppress_below}."]
    lines += ["", "## Definitions", ""]
    lines += [f"- **{name}:** {soft(text)}" for name, text in rules(meta)]
    lines += ["", "Columns of the CSV export:", ""]
    lines += [f"- `{name}`: {text}" for name, text in {**DEFINITIONS, **LIMIT_DEFINITIONS}.items()]
    out.write("\n".join(lines) + "\n")
    return n
