"""Caseload conference exports: the agenda in advance (Markdown, HTML) and the one-page summary
(Markdown, HTML, CSV with a `.meta.json` sidecar).

Customers appear by claim id. Only a named export (`named=True`, which the command line allows for a
team manager, team leader or the administrator) adds names and customer ids. RAG ratings are
internal to the team: the header says so, and nothing here is meant for customers.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Sequence
from typing import IO, Any

from caseload.escaping import SHEET_NOTE, html_head, html_text, md_text, sheet_row
from caseload.measures.conference import (
    REASON_ORDER, ActionLine, Agenda, AgendaItem, ConferenceSummary, SummaryItem, reason_rules,
)
from caseload.measures.rag import Rag

INTERNAL = "Internal to the team: RAG ratings and plans are not for customers."
PREPARE = ("what has been done so far", "the plan", "the expected off-flow date (or why it is not known)",
           "the RAG rating: still right, or what has changed")

CSV_COLUMNS = (
    "conference_id", "held_on", "adviser_id", "manager_id", "conference_status", "position", "claim_id",
    "customer_id", "customer_name", "reasons", "item_status", "skip_reason", "done_so_far", "plan",
    "expected_offflow", "expected_offflow_unknown", "offflow_note", "rag_review", "rag_before", "rag_after",
    "new_actions", "done_actions", "carried_actions", "new_action_list", "done_action_list", "carried_action_list",
)
CSV_DEFINITIONS = {
    "conference_id": "the conference (one manager, one adviser, one date)",
    "held_on": "the conference date",
    "adviser_id": "the adviser whose caseload was discussed",
    "manager_id": "who ran the conference",
    "conference_status": "finished, or in_progress when the conference has not been finished yet",
    "position": "the customer's place on the agenda, from 1",
    "claim_id": "the claim discussed",
    "customer_id": "filled only in a named export",
    "customer_name": "filled only in a named export",
    "reasons": "why the customer was on the agenda, separated by '; '",
    "item_status": "discussed, skipped or pending",
    "skip_reason": "why the customer was skipped",
    "done_so_far": "what has been done so far",
    "plan": "the plan",
    "expected_offflow": "the expected off-flow date (ISO), empty when not known",
    "expected_offflow_unknown": "yes when the expected off-flow date was recorded as not known",
    "offflow_note": "why the expected off-flow date is not known",
    "rag_review": "confirm or change; empty when not reviewed (an ended claim)",
    "rag_before": "the rating before the review (R, A or G)",
    "rag_after": "the rating after the review",
    "new_actions": "actions set at this item",
    "done_actions": "actions from earlier conferences marked done at this item",
    "carried_actions": "actions from earlier conferences carried forward at this item",
    "new_action_list": "each new action: description (owner STAFF_ID, due DATE), separated by ' | '",
    "done_action_list": "each action marked done, as above",
    "carried_action_list": "each action carried forward, as above",
}
COUNTS = (("discussed", "Discussed"), ("rag_changes", "RAG changes"), ("new_actions", "New actions"),
          ("carried_actions", "Carried actions"))


def customer_label(claim_id: str, customer_id: str, name: str, named: bool) -> str:
    """How an export names a customer: by claim id, unless a named export was asked for."""
    if named:
        return f"{name or 'name not recorded'} ({customer_id}), claim {claim_id}"
    return f"claim {claim_id}"


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _rag_word(r: str | None) -> str:
    return "not rated" if not r else Rag(r).word


def _action_text(a: ActionLine, *, ids: bool = False) -> str:
    who = a.owner if ids else a.owner_name
    return f"{_one_line(a.description)} ({'owner ' if ids else ''}{who}, due {a.due.isoformat()})"


def _action_state(a: ActionLine) -> str:
    if a.status == "done":
        return f"done {a.done_on.isoformat()}" if a.done_on else "done"
    return a.status


def _expected(expected: dt.date | None, unknown: bool, note: str | None, none: str = "") -> str:
    if expected is not None:
        return expected.isoformat()
    if unknown:
        return f"don't know: {_one_line(note)}"
    return none


def _rag_review(item: SummaryItem) -> str:
    if item.rag_review == "confirm":
        return f"confirmed {_rag_word(item.rag_after)}"
    if item.rag_review == "change" and item.rag_before is None:
        return f"set {_rag_word(item.rag_after)} (not rated before): {_one_line(item.rag_reason)}"
    if item.rag_review == "change":
        return f"changed {_rag_word(item.rag_before)} to {_rag_word(item.rag_after)}: {_one_line(item.rag_reason)}"
    return "not reviewed (claim ended)" if item.status == "discussed" else ""


def _reason_counts(items: Sequence[AgendaItem]) -> list[tuple[str, int]]:
    counts = {k: 0 for k in REASON_ORDER}
    for it in items:
        for k in {r if r in REASON_ORDER else r.rsplit(" ", 1)[0] for r in it.reasons}:
            if k in counts:
                counts[k] += 1
    return [(k, n) for k, n in counts.items() if n]


def _stamp(generated_at: dt.datetime, generated_by: str) -> str:
    return f"{generated_at:%Y-%m-%d %H:%M} UTC by {generated_by}"


# ---------------------------------------------------------------------------------------------
# The agenda.


def _agenda_title(a: Agenda) -> str:
    return f"Caseload conference agenda: {a.adviser_name} ({a.adviser_id}), {a.on.isoformat()}"


def _agenda_facts(a: Agenda, named: bool, generated_at: dt.datetime, generated_by: str) -> list[tuple[str, str]]:
    reasons = ", ".join(f"{k} {n}" for k, n in _reason_counts(a.items)) or "none"
    facts = [("Conference date", a.on.isoformat()), ("Adviser", f"{a.adviser_name} ({a.adviser_id})"),
             ("Team", a.team or "none")]
    if a.conference_id is not None:
        facts.append(("Conference", "finished" if a.status == "finished" else "started, not finished"))
    facts += [("Customers", f"{len(a.items)} ({reasons})"),
              ("Customers shown", "by name, customer id and claim id" if named else "by claim id"),
              ("Order", "by why each customer is on the agenda, then by claim start"),
              ("Generated", _stamp(generated_at, generated_by)), ("Note", INTERNAL)]
    return facts


def _agenda_lines(it: AgendaItem) -> list[tuple[str, str]]:
    lines = [("Why", it.reason_text),
             ("Claim", f"{it.benefit}, started {it.claim_start.isoformat()}, {it.weeks} weeks on the conference date")]
    if it.next_milestone is not None and it.milestone_on is not None:
        lines.append(("Next milestone", f"{it.next_milestone} weeks on {it.milestone_on.isoformat()} "
                                        f"(in {it.days_to_milestone} days)"))
    else:
        lines.append(("Next milestone", "none: beyond 52 weeks"))
    lines.append(("RAG", _rag_word(it.rag)))
    p = it.previous
    if p is not None:
        lines.append(("Last conference", f"{p.held_on.isoformat()}: plan: {_one_line(p.plan)}; expected off-flow "
                                         f"{_expected(p.expected_offflow, p.expected_offflow_unknown, p.offflow_note)}"))
    else:
        lines.append(("Last conference", "not discussed before"))
    return lines


def write_agenda_markdown(a: Agenda, out: IO[str], *, named: bool, generated_at: dt.datetime,
                          generated_by: str) -> int:
    out.write(f"# {md_text(_agenda_title(a))}\n\n")
    for k, v in _agenda_facts(a, named, generated_at, generated_by):
        out.write(f"- **{k}:** {md_text(v)}\n")
    out.write("\nWhy a customer is on the agenda:\n\n")
    rules = reason_rules(a.approaching_days)
    for k in REASON_ORDER:
        out.write(f"- *{k}*: {rules[k]}\n")
    out.write("\nFor each customer, come ready to say: " + "; ".join(PREPARE) + ".\n")
    if not a.items:
        out.write("\nNobody is on the agenda: no customer meets a rule on this date.\n")
    for n, it in enumerate(a.items, start=1):
        out.write(f"\n## {n}. {md_text(customer_label(it.claim_id, it.customer_id, it.customer_name, named))}\n\n")
        for k, v in _agenda_lines(it):
            out.write(f"- **{k}:** {md_text(v)}\n")
        if it.open_actions:
            out.write("- **Actions from earlier conferences:**\n")
            for x in it.open_actions:
                out.write(f"  - [ ] {md_text(_action_text(x))}, set {x.set_on.isoformat() if x.set_on else '-'}: "
                          f"{md_text(_action_state(x))}\n")
    return len(a.items)


_CSS = """
@page { size: A4; margin: 12mm; }
body { font: 10pt/1.35 system-ui, sans-serif; color: #000; background: #fff; max-width: 60em; margin: 1em auto; }
h1 { font-size: 14pt; margin: 0 0 .4em; } h2 { font-size: 11pt; margin: .9em 0 .2em; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .1em .8em; margin: 0 0 .6em; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
section.item { border-top: 1px solid #888; padding: .3em 0; break-inside: avoid; }
section.conference + section.conference { break-before: page; }
table.counts { border-collapse: collapse; margin: .4em 0 .8em; }
table.counts th, table.counts td { border: 1px solid #888; padding: .15em .6em; text-align: left; }
table.counts td { text-align: right; font-variant-numeric: tabular-nums; }
.badge { border: 1px solid #000; padding: 0 .3em; font-size: 9pt; }
ul { margin: .1em 0 .1em 1.2em; padding: 0; }
""".strip()


_e = html_text


def _dl(rows: Sequence[tuple[str, str]], cls: str = "facts") -> str:
    return f'<dl class="{cls}">' + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows) + "</dl>\n"


def _page(title: str, body: str) -> str:
    return "\n".join(html_head(title, f"\n{_CSS}\n")) + f"\n{body}</body>\n</html>\n"


def write_agenda_html(a: Agenda, out: IO[str], *, named: bool, generated_at: dt.datetime, generated_by: str) -> int:
    parts = [f"<h1>{_e(_agenda_title(a))}</h1>\n", _dl(_agenda_facts(a, named, generated_at, generated_by))]
    parts.append("<p>Why a customer is on the agenda:</p>\n<ul>"
                 + "".join(f"<li><em>{_e(k)}</em>: {_e(v)}</li>" for k, v in reason_rules(a.approaching_days).items())
                 + "</ul>\n")
    parts.append(f"<p>For each customer, come ready to say: {_e('; '.join(PREPARE))}.</p>\n")
    if not a.items:
        parts.append("<p>Nobody is on the agenda: no customer meets a rule on this date.</p>\n")
    for n, it in enumerate(a.items, start=1):
        parts.append(f'<section class="item">\n<h2>{n}. '
                     f"{_e(customer_label(it.claim_id, it.customer_id, it.customer_name, named))}</h2>\n")
        parts.append(_dl(_agenda_lines(it)))
        if it.open_actions:
            parts.append("<p>Actions from earlier conferences:</p>\n<ul>" + "".join(
                f"<li>&#9744; {_e(_action_text(x))}, set {_e(x.set_on.isoformat() if x.set_on else '-')}: "
                f"{_e(_action_state(x))}</li>" for x in it.open_actions) + "</ul>\n")
        parts.append("</section>\n")
    out.write(_page(_agenda_title(a), "".join(parts)))
    return len(a.items)


# ---------------------------------------------------------------------------------------------
# The summary.


def _summary_title(s: ConferenceSummary) -> str:
    return f"Caseload conference summary: {s.adviser_name} ({s.adviser_id}), {s.held_on.isoformat()}"


def summary_status(s: ConferenceSummary) -> str:
    if s.status == "finished":
        return f"finished {s.finished_at:%Y-%m-%d %H:%M} UTC" if s.finished_at else "finished"
    return "IN PROGRESS: not finished, so this summary is partial"


def summary_facts(s: ConferenceSummary) -> list[tuple[str, str]]:
    """Who and when, as the exports and the summary screen show them."""
    return [("Conference date", s.held_on.isoformat()), ("Adviser", f"{s.adviser_name} ({s.adviser_id})"),
            ("Run by", f"{s.manager_name} ({s.manager_id})"), ("Team", s.team or "none"),
            ("Status", summary_status(s)), ("Attended", s.attendees or "not recorded yet")]


def count_line(s: ConferenceSummary) -> str:
    """The counts the table leaves out, in a sentence (without its full stop)."""
    c = s.counts
    extra = f" of {c.items} on the agenda, {c.skipped} skipped" + (f", {c.pending} not reached" if c.pending else "")
    extra += f"; {c.done_actions} earlier action{'s' if c.done_actions != 1 else ''} marked done"
    return f"{c.discussed} discussed" + extra


def _item_heading(it: SummaryItem, named: bool, esc: Any = str) -> str:
    who = customer_label(it.claim_id, it.customer_id, it.customer_name, named)
    state = {"discussed": "discussed", "skipped": f"skipped: {_one_line(it.skip_reason)}",
             "pending": "not reached"}[it.status]
    return f"{it.position + 1}. {esc(f'{who} ({state})')}"


def item_lines(it: SummaryItem, none: str = "") -> list[tuple[str, str]]:
    """What was recorded for one customer, as the exports and the summary screen show it (`none` for
    an expected off-flow date neither given nor said to be unknown)."""
    if it.status != "discussed":
        return [("Why on the agenda", it.reasons)]
    lines = [("Done so far", _one_line(it.done_so_far)), ("Plan", _one_line(it.plan)),
             ("Expected off-flow", _expected(it.expected_offflow, it.expected_offflow_unknown, it.offflow_note, none)),
             ("RAG", _rag_review(it))]
    for label, actions in (("New actions", it.new_actions), ("Earlier actions done", it.done_actions),
                           ("Earlier actions carried", it.carried_actions)):
        if actions:
            lines.append((label, "; ".join(_action_text(a) for a in actions)))
    return lines


def write_summary_markdown(summaries: Sequence[ConferenceSummary], out: IO[str], *, named: bool,
                           generated_at: dt.datetime, generated_by: str) -> int:
    for n, s in enumerate(summaries):
        if n:
            out.write("\n---\n\n")
        out.write(f"# {md_text(_summary_title(s))}\n\n")
        for k, v in summary_facts(s):
            out.write(f"- **{k}:** {md_text(v)}\n")
        out.write(f"- **Customers shown:** {'by name, customer id and claim id' if named else 'by claim id'}\n")
        out.write(f"- **Generated:** {_stamp(generated_at, generated_by)}\n- **Note:** {INTERNAL}\n\n")
        out.write("| " + " | ".join(label for _, label in COUNTS) + " |\n")
        out.write("|" + "---:|" * len(COUNTS) + "\n")
        out.write("| " + " | ".join(str(getattr(s.counts, k)) for k, _ in COUNTS) + " |\n\n")
        out.write(count_line(s) + ".\n")
        for it in s.items:
            out.write(f"\n## {_item_heading(it, named, md_text)}\n\n")
            for k, v in item_lines(it):
                out.write(f"- **{k}:** {md_text(v)}\n")
    return sum(len(s.items) for s in summaries)


def write_summary_html(summaries: Sequence[ConferenceSummary], out: IO[str], *, named: bool,
                       generated_at: dt.datetime, generated_by: str) -> int:
    parts = []
    for s in summaries:
        parts.append(f'<section class="conference">\n<h1>{_e(_summary_title(s))}</h1>\n')
        status = summary_facts(s)
        if s.status != "finished":
            parts.append('<p><span class="badge">IN PROGRESS</span> not finished: this summary is partial.</p>\n')
        parts.append(_dl(status + [
            ("Customers shown", "by name, customer id and claim id" if named else "by claim id"),
            ("Generated", _stamp(generated_at, generated_by)), ("Note", INTERNAL)]))
        parts.append('<table class="counts"><tr>' + "".join(f"<th>{_e(label)}</th>" for _, label in COUNTS)
                     + "</tr><tr>" + "".join(f"<td>{getattr(s.counts, k)}</td>" for k, _ in COUNTS) + "</tr></table>\n")
        parts.append(f"<p>{_e(count_line(s))}.</p>\n")
        for it in s.items:
            parts.append(f'<section class="item">\n<h2>{_e(_item_heading(it, named))}</h2>\n{_dl(item_lines(it))}'
                         "</section>\n")
        parts.append("</section>\n")
    title = _summary_title(summaries[0]) if len(summaries) == 1 else "Caseload conference summaries"
    out.write(_page(title, "".join(parts)))
    return sum(len(s.items) for s in summaries)


def csv_rows(summaries: Sequence[ConferenceSummary], *, named: bool) -> list[list[str]]:
    rows = []
    for s in summaries:
        for it in s.items:
            rows.append([
                str(s.id), s.held_on.isoformat(), s.adviser_id, s.manager_id, s.status, str(it.position + 1),
                it.claim_id, it.customer_id if named else "", it.customer_name if named else "", it.reasons,
                it.status, it.skip_reason or "", it.done_so_far or "", it.plan or "",
                it.expected_offflow.isoformat() if it.expected_offflow else "",
                "yes" if it.expected_offflow_unknown and it.status == "discussed" else
                ("no" if it.status == "discussed" else ""),
                it.offflow_note or "", it.rag_review or "", it.rag_before or "", it.rag_after or "",
                str(len(it.new_actions)), str(len(it.done_actions)), str(len(it.carried_actions)),
                " | ".join(_action_text(a, ids=True) for a in it.new_actions),
                " | ".join(_action_text(a, ids=True) for a in it.done_actions),
                " | ".join(_action_text(a, ids=True) for a in it.carried_actions),
            ])
    return rows


def write_summary_csv(summaries: Sequence[ConferenceSummary], out: IO[str], *, named: bool) -> int:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    rows = csv_rows(summaries, named=named)
    w.writerows(sheet_row(r) for r in rows)
    return len(rows)


def summary_metadata(summaries: Sequence[ConferenceSummary], *, named: bool, generated_at: dt.datetime,
                     generated_by: str) -> dict[str, Any]:
    return {
        "report": "caseload conference summary",
        "conferences": [{
            "id": s.id, "held_on": s.held_on.isoformat(), "adviser_id": s.adviser_id, "adviser": s.adviser_name,
            "manager_id": s.manager_id, "team": s.team, "status": s.status,
            "finished_at": s.finished_at.isoformat() if s.finished_at else None, "attended": s.attendees,
            "counts": {"discussed": s.counts.discussed, "rag_changes": s.counts.rag_changes,
                       "new_actions": s.counts.new_actions, "carried_actions": s.counts.carried_actions,
                       "done_actions": s.counts.done_actions, "skipped": s.counts.skipped,
                       "pending": s.counts.pending, "items": s.counts.items},
        } for s in summaries],
        "customers": "named (name and customer id)" if named else "by claim id only",
        "note": INTERNAL,
        "text_cells": SHEET_NOTE,
        "rows": sum(len(s.items) for s in summaries),
        "columns": CSV_DEFINITIONS,
        "generated_at": generated_at.isoformat(),
        "generated_by": generated_by,
    }


def write_metadata(meta: dict[str, Any], out: IO[str]) -> None:
    json.dump(meta, out, indent=2)
    out.write("\n")
