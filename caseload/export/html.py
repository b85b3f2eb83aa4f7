"""The off-flow summary as one self-contained HTML file: inline CSS and SVG, no scripts, no network,
printable on A4."""

from __future__ import annotations

from typing import IO, Any

from caseload.escaping import CSP as ESCAPING_CSP
from caseload.escaping import html_head, html_text
from caseload.export.common import (
    CHECK, CROSS, FUNNEL_HEAD, TITLE, Cell, Group, funnel_rows, funnels, group_heading, groups, header, rules,
)
from caseload.export.offflow import DEFINITIONS, LIMIT_DEFINITIONS
from caseload.export.svg import curve_svg, funnel_svg
from caseload.store.offflow import OffflowResult

# Nothing may load from anywhere: the policy makes a stray reference inert rather than a leak.
CSP = ESCAPING_CSP

CSS = """
:root { color-scheme: light; }
body { font: 10.5pt/1.4 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: #1a1a1a; margin: 1.5rem auto; max-width: 60rem; padding: 0 1rem; }
h1 { font-size: 1.5em; margin: 0 0 .5rem; }
h2 { font-size: 1.15em; margin: 1.6rem 0 .4rem; border-bottom: 1px solid #999; }
h3 { font-size: 1em; margin: 1rem 0 .3rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; }
p.legend { font-size: .9em; color: #333; }
table { border-collapse: collapse; margin: .3rem 0 .8rem; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #888; padding: .25rem .45rem; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; }
.frac { font-weight: 600; }
.badge { display: inline-block; border-radius: 3px; padding: 0 .3rem; margin: .1rem 0; font-size: .9em;
         border: 1px solid #555; }
.meets { background: #cfeccf; border-color: #2e7d32; }
.misses { background: #f6cccc; border-color: #b71c1c; }
.interim { background: #fff; border-style: dashed; }
.smalln { background: #fff; font-style: italic; }
.note { display: block; font-size: .85em; color: #333; }
figure { margin: .4rem 0 1rem; }
figcaption { font-size: .85em; color: #333; }
svg text { font: 10px system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; fill: #1a1a1a; }
table.matrix, figure, tr { break-inside: avoid; page-break-inside: avoid; }
@page { size: A4; margin: 12mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 9.5pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { break-after: avoid; page-break-after: avoid; }
}
"""

# Lines for the milestones are told apart by dash pattern and marker shape as well as by shade.
_STYLES = [("", "circle", "#1f4e79"), ("6 3", "square", "#7a3b00"), ("2 2", "triangle", "#3d5a1e"),
           ("8 3 2 3", "diamond", "#5b2a6e")]


e = html_text  # the one escape for every HTML export


def _cell_html(c: Cell) -> str:
    parts = [f'<span class="frac">{e(c.fraction)}</span> {e(c.rate_text)}']
    if c.meets is not None:
        cls = "meets" if c.meets else "misses"
        parts.append(f'<span class="badge {cls}">{e(c.status_marker)}</span>')
    if c.interim:
        parts.append(f'<span class="badge interim">{e(c.interim_text())}</span>')
    elif c.still_needed:
        parts.append(f'<span class="note">needs {e(c.still_needed)}</span>')
    if c.small_n:
        parts.append('<span class="badge smalln">small n</span>')
    return "<br>".join(parts)


def _matrix(g: Group) -> list[str]:
    out = ['<table class="matrix">', "<thead><tr><th scope=\"col\">Cohort</th>"
           + "".join(f'<th scope="col">{w} weeks</th>' for w in g.milestones) + "</tr></thead>", "<tbody>"]
    for p in g.periods:
        tds = []
        for w in g.milestones:
            c = g.cell(p, w)
            tds.append(f"<td>{_cell_html(c) if c else ''}</td>")
        out.append(f'<tr><th scope="row">{e(p.label)}<span class="note">{e(p.start.isoformat())} to '
                   f'{e(p.end.isoformat())}</span></th>{"".join(tds)}</tr>')
    out.append("</tbody></table>")
    return out


def _destinations(g: Group) -> list[str]:
    head = ["Cohort", "Weeks", "Off-flows", "Employment", "Sanction", "Not known", "OPtE"]
    out = ['<table class="destinations">', "<thead><tr>" + "".join(f'<th scope="col">{h}</th>' for h in head)
           + "</tr></thead>", "<tbody>"]
    for p in g.periods:
        for w in g.milestones:
            c = g.cell(p, w)
            if c is None:
                continue
            vals = [c.offflows, c.value("employment_offflows"), c.value("sanction_offflows"),
                    c.value("not_known_offflows"), c.value("opte_offflows")]
            out.append(f"<tr><td>{e(p.label)}</td><td class=\"num\">{w}</td>"
                       + "".join(f'<td class="num">{e(v)}</td>' for v in vals) + "</tr>")
    out.append("</tbody></table>")
    return out


def _marker(shape: str, x: float, y: float, colour: str, filled: bool, title: str) -> str:
    fill = colour if filled else "#fff"
    common = f'fill="{fill}" stroke="{colour}" stroke-width="1.5"'
    if shape == "circle":
        body = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" {common}>'
        end = "</circle>"
    elif shape == "square":
        body = f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" {common}>'
        end = "</rect>"
    elif shape == "triangle":
        body = f'<polygon points="{x:.1f},{y - 4.5:.1f} {x + 4:.1f},{y + 3:.1f} {x - 4:.1f},{y + 3:.1f}" {common}>'
        end = "</polygon>"
    else:
        points = f"{x:.1f},{y - 4.5:.1f} {x + 4.5:.1f},{y:.1f} {x:.1f},{y + 4.5:.1f} {x - 4.5:.1f},{y:.1f}"
        body = f'<polygon points="{points}" {common}>'
        end = "</polygon>"
    return f"{body}<title>{e(title)}</title>{end}"


def chart(result: OffflowResult, g: Group, heading: str) -> str:
    """Rates per cohort, one line per milestone, against the expected levels; final points filled,
    interim points hollow, suppressed rates left out."""
    periods = result.periods
    width, height = 640, 262
    left, right, top, bottom = 44, 124, 14, 52
    pw, ph = width - left - right, height - top - bottom
    pad = 16  # keeps the first and last points off the axes and the level labels
    step = (pw - 2 * pad) / (len(periods) - 1) if len(periods) > 1 else 0

    def x_of(i: int) -> float:
        return left + pad + (i * step if len(periods) > 1 else (pw - 2 * pad) / 2)

    def y_of(pct: float) -> float:
        return top + ph * (1 - pct / 100)

    label = f"Off-flow rates by cohort for {heading}, against the expected levels"
    svg = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="{e(label)}">',
           f"<title>{e(label)}</title>"]
    for pct in range(0, 101, 20):
        y = y_of(pct)
        svg.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd" stroke-width="1"/>')
        svg.append(f'<text x="{left - 6}" y="{y + 3:.1f}" text-anchor="end">{pct}%</text>')
    svg.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#555"/>')
    svg.append(f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#555"/>')
    # Label every k-th period so the labels (about 6px a character) never run into each other.
    widest = max((len(p.label) for p in periods), default=1) * 6 + 8
    every = max(1, -(-widest // int(step))) if step else 1
    for i, p in enumerate(periods):
        if (len(periods) - 1 - i) % every == 0:  # counted from the latest period, which is always labelled
            svg.append(f'<text x="{x_of(i):.1f}" y="{top + ph + 14}" text-anchor="middle">{e(p.label)}</text>')
    index = {p: i for i, p in enumerate(periods)}
    level_labels: list[tuple[float, str]] = []
    legend_y, legend_x = top + ph + 36, left
    for k, w in enumerate(g.milestones):
        dash, shape, colour = _STYLES[k % len(_STYLES)]
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        # Expected levels for this milestone: a thin line per distinct target, labelled.
        targets = sorted({c.target for c in g.by_key.values() if c.row.milestone_weeks == w and c.target is not None})
        for t in targets:
            y = y_of(t)
            svg.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="{colour}" '
                       f'stroke-width="1" stroke-dasharray="1 3"/>')
            level_labels.append((y, f"expected {w} wk {t}%"))
        runs: list[list[tuple[float, float, bool]]] = [[]]
        points = []
        for p in periods:
            c = g.cell(p, w)
            if c is None or c.hidden or not c.rate:
                if runs[-1]:
                    runs.append([])
                continue
            # Milestones sit a few pixels apart, so equal rates (an interim cohort) do not hide each other.
            x, y = x_of(index[p]) + (k - (len(g.milestones) - 1) / 2) * 9, y_of(float(c.rate))
            runs[-1].append((x, y, c.interim))
            title = f"{p.label}, {w} weeks: {c.rate}% ({c.fraction}), {c.row.status}"
            if c.status_marker:
                title += f", {c.status_marker}"
            if c.small_n:
                title += ", small n"
            points.append(_marker(shape, x, y, colour, c.row.status == "final", title))
        for run in runs:
            # A segment into an interim point is faded: that rate can still rise.
            for (x1, y1, _), (x2, y2, interim) in zip(run, run[1:]):
                fade = ' stroke-opacity="0.45"' if interim else ""
                svg.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" '
                           f'stroke-width="1.8"{dash_attr}{fade}/>')
        svg.extend(points)
        # Legend entry below the plot: line sample, marker and words.
        lx, ly = legend_x + k * 92, legend_y
        svg.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 24}" y2="{ly}" stroke="{colour}" '
                   f'stroke-width="1.8"{dash_attr}/>')
        svg.append(_marker(shape, lx + 12, ly, colour, True, f"{w} weeks"))
        svg.append(f'<text x="{lx + 30}" y="{ly + 3}">{w} weeks</text>')
    lx = legend_x + len(g.milestones) * 92
    svg.append(_marker("circle", lx + 5, legend_y, "#1a1a1a", True, "final"))
    svg.append(f'<text x="{lx + 13}" y="{legend_y + 3}">final</text>')
    svg.append(_marker("circle", lx + 52, legend_y, "#1a1a1a", False, "interim"))
    svg.append(f'<text x="{lx + 60}" y="{legend_y + 3}">interim</text>')
    # Expected-level labels in the right margin, nudged apart so close levels stay readable.
    last = -1e9
    for y, text in sorted(level_labels):
        y = max(y, last + 11)
        last = y
        svg.append(f'<text x="{left + pw + 4}" y="{y + 3:.1f}">{e(text)}</text>')
    svg.append("</svg>")
    return "\n".join(svg)


def _limits_table(g: Group) -> list[str]:
    rows = []
    for p in g.periods:
        for w in g.milestones:
            c = g.cell(p, w)
            if c is None or not c.value("verdict"):
                continue
            vals = [p.label, str(w), c.fraction, c.status_marker,
                    f"{c.value('lower95_offflows')}\u2013{c.value('upper95_offflows')}",
                    f"{c.value('lower998_offflows')}\u2013{c.value('upper998_offflows')}", c.verdict_text,
                    c.row.status]
            rows.append("<tr>" + "".join(f"<td>{e(v)}</td>" for v in vals) + "</tr>")
    if not rows:
        return []
    head = ["Cohort", "Weeks", "Off-flows/size", "Red/Green", "95% limits", "99.8% limits", "Verdict", "Status"]
    return (["<h3>Against the expected level (limits of the off-flow count)</h3>", '<table class="limits">',
             "<thead><tr>" + "".join(f'<th scope="col">{h}</th>' for h in head) + "</tr></thead>", "<tbody>"]
            + rows + ["</tbody></table>"])


def _funnels(result: OffflowResult) -> list[str]:
    scope = result.scope or "the scope"
    out = ['<section class="funnels"><h2>Against the expected level: funnel plots</h2>',
           '<p class="legend">Each unit (numbered in name order, never ranked) at its cohort size and off-flow rate, '
           'its off-flows and claims summed over these cohort periods; the expected level, and its 95% (dashed) '
           'and 99.8% (dotted) limits: a point outside the dotted curves is beyond chance, between the curves '
           'possibly so. Filled points are final, hollow ones interim (never called beyond chance).</p>']
    for f in funnels(result):
        out.append(f"<h3>{f.milestone} weeks</h3>")
        if not f.points:
            out.append("<p>No unit to plot.</p>")
            continue
        note = ("" if f.points and f.points[0].target_pct is not None and len({p.target_pct for p in f.points}) == 1
                else " No single expected level applies, so no limits are drawn.")
        out.append(f"<figure>{funnel_svg(f.points, f.milestone, scope)}<figcaption>{f.milestone}-week off-flow "
                   f"rate against cohort size.{e(note)}</figcaption></figure>")
        out.append('<table class="funnel">')
        out.append("<thead><tr>" + "".join(f'<th scope="col">{h}</th>' for h in ["#", *FUNNEL_HEAD]) + "</tr></thead>")
        out.append("<tbody>")
        for i, r in enumerate(funnel_rows(f), start=1):
            out.append(f"<tr><td>{i}</td>" + "".join(f"<td>{e(v)}</td>" for v in r) + "</tr>")
        out.append("</tbody></table>")
        if f.hidden:
            out.append(f"<p>{f.hidden} group(s) left out: a pooled count is under {result.suppress_below}.</p>")
    out.append("</section>")
    return out


def _curve(curve) -> list[str]:  # noqa: ANN001
    out = ['<section class="survival"><h2>Time to off-flow</h2>']
    if curve.withheld or not curve.points:
        out.append("<p>No curve: " + ("fewer than 5 claims." if curve.withheld else "no claims in these cohorts.")
                   + "</p></section>")
        return out
    marks = "; ".join(f"{w} weeks {p.offflow_pct}% off benefit ({curve.row_values(p)[1]} at risk)"
                      for w in (13, 26, 52) if (p := curve.mark(w)) is not None and curve.shown(p))
    out.append(f"<figure>{curve_svg(curve)}<figcaption>The share of the {e(curve.size)} claims of these cohorts "
               f"({e(curve.label)}) still on benefit at each week; {e(marks)}.</figcaption></figure></section>")
    return out


def write_html(result: OffflowResult, out: IO[str], meta: dict[str, Any], curve=None) -> int:  # noqa: ANN001
    """Write the summary; returns the number of contract rows shown."""
    h = [
        *html_head(f"{TITLE} as at {meta['as_at']}", CSS),
        f"<h1>{e(TITLE)}</h1>",
        '<dl class="meta">',
    ]
    for label, value in header(meta):
        h.append(f"<dt>{e(label)}</dt><dd>{e(value)}</dd>")
    h += [
        "</dl>",
        f'<p class="legend">Each cell: off-flows/cohort size, the truncated rate, <span class="badge meets">{CHECK} '
        f'meets</span> or <span class="badge misses">{CROSS} misses</span> the expected level (when there is one), '
        '<span class="badge interim">interim</span> with the members not yet at the milestone and the off-flows '
        'still needed, and <span class="badge smalln">small n</span> for a rate over fewer than 10 claims. In the '
        'charts final rates are filled points and interim rates hollow ones.</p>',
    ]
    if result.rows:
        h += _funnels(result)
    if curve is not None:
        h += _curve(curve)
    n = 0
    for g in groups(result):
        heading = group_heading(result, g.name)
        h.append(f'<section class="group"><h2>{e(heading)}</h2>')
        h += _matrix(g)
        levels = ("dotted lines are the expected levels" if any(c.target is not None for c in g.by_key.values())
                  else "no expected level applies (the cohorts mix benefits, or their benefit has none set)")
        h.append(f"<figure>{chart(result, g, heading)}<figcaption>Off-flow rate by cohort period for "
                 f"{e(heading)}; {levels}. Final rates are filled points, interim ones hollow, with a faded line "
                 f"leading to them. Suppressed rates are not plotted.</figcaption></figure>")
        h.append("<h3>Destinations of the off-flows</h3>")
        h += _destinations(g)
        h += _limits_table(g)
        h.append("</section>")
        n += len(g.by_key)
    if not result.rows:
        h.append("<p>No claims started in these cohort periods.</p>")
    h.append('<section class="definitions"><h2>Definitions</h2><dl class="meta">')
    for name, text in rules(meta):
        h.append(f"<dt>{e(name)}</dt><dd>{e(text)}</dd>")
    for name, text in {**DEFINITIONS, **LIMIT_DEFINITIONS}.items():
        h.append(f"<dt><code>{e(name)}</code></dt><dd>{e(text)}</dd>")
    h += ["</dl></section>", "</body>", "</html>"]
    out.write("\n".join(h) + "\n")
    return n
