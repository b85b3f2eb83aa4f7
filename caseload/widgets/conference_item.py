"""One conference item in words: the customer's context (summary, claim clock, RAG and its history,
last contacts, earlier conferences with their actions) and what this conference has recorded.

Plain functions from the store's result objects to Rich Text, so the conference screen, the summary
and the tests read the same wording. Status is always a word, never a colour alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rich.text import Text

from caseload.measures.conference import ActionLine, CustomerContext, ItemDetail, PreviousItem
from caseload.widgets.rag import rag_badge, rag_word
from caseload.widgets.runway import clock_text

RAG_HISTORY_SHOWN = 4
EARLIER_SHOWN = 3
NONE = "—"

# The agenda list is narrow: the same short words the caseload's flags use.
SHORT_REASONS = (("approaching ", "appr "), ("just passed ", "passed "), ("red no plan", "red!"),
                 ("beyond 52", "52+"), ("open action", "action"))


def one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def short_reasons(reasons: str) -> str:
    """`approaching 13w; open action` as `appr 13w+action`, for the agenda list."""
    parts = []
    for r in (x for x in reasons.split("; ") if x):
        for long, short in SHORT_REASONS:
            if r.startswith(long):
                r = short + r[len(long):]
                break
        parts.append(r)
    return "+".join(parts)


def expected_text(expected: dt.date | None, unknown: bool, note: str | None) -> str:
    if expected is not None:
        return expected.isoformat()
    if unknown:
        return f"don't know: {one_line(note)}"
    return NONE


def action_text(a: ActionLine) -> str:
    return f"{one_line(a.description)} ({a.owner_name}, due {a.due.isoformat()})"


def action_state(a: ActionLine) -> str:
    if a.status == "done":
        return f"done {a.done_on.isoformat()}" if a.done_on else "done"
    return a.status


def rag_review_text(review: str | None, before: str | None, after: str | None, reason: str | None,
                    status: str = "discussed") -> str:
    if review == "confirm":
        return f"confirmed {rag_word(after)}"
    if review == "change" and before is None:
        return f"set {rag_word(after)} (not rated before): {one_line(reason)}"
    if review == "change":
        return f"changed {rag_word(before)} to {rag_word(after)}: {one_line(reason)}"
    return "not reviewed (claim ended)" if status == "discussed" else ""


def _label(text: Text, label: str) -> None:
    text.append(f"{label}: ", style="bold")


def _earlier(text: Text, p: PreviousItem) -> None:
    text.append(f"\n• {p.held_on.isoformat()} ({p.manager}): ", style="bold")
    if p.status == "skipped":
        text.append(f"skipped: {one_line(p.skip_reason)}")
    elif p.status == "pending":
        text.append("not reached")
    else:
        text.append(f"done so far: {one_line(p.done_so_far)}; plan: {one_line(p.plan)}; expected off-flow "
                    f"{expected_text(p.expected_offflow, p.expected_offflow_unknown, p.offflow_note)}")
        if p.rag_review == "confirm":
            text.append(f"; RAG confirmed {rag_word(p.rag_after)}")
        elif p.rag_review == "change":
            text.append(f"; RAG changed to {rag_word(p.rag_after)}")
    for a in p.actions:
        mark = "☑" if a.status == "done" else "☐"
        text.append(f"\n    {mark} {action_text(a)}: {action_state(a)}")


def context_text(ctx: CustomerContext, claim_id: str, reasons: str, held_on: dt.date) -> Text:
    """Everything the conference knows about the customer before discussing them."""
    text = Text()
    text.append(ctx.name or ctx.customer_id, style="bold")
    text.append(f" · NI {ctx.nino or NONE} · customer {ctx.customer_id} · claim {claim_id} ({ctx.benefit})\n")
    _label(text, "On the agenda")
    text.append(f"{reasons}\n")
    text.append_text(clock_text(ctx.milestones, ctx.claim_start, held_on, ctx.claim_end))
    text.append("\n")
    _label(text, "RAG")
    text.append_text(rag_badge(ctx.rag))
    text.append(f" {rag_word(ctx.rag)}" if ctx.rag else " not rated yet")
    history = list(reversed(ctx.rag_history))  # newest first
    if history:
        for r in history[:RAG_HISTORY_SHOWN]:
            text.append(f"\n  {r.on.isoformat()} {r.rating} ({r.source}, {r.by}): {one_line(r.reason)}")
        if len(history) > RAG_HISTORY_SHOWN:
            text.append(f"\n  and {len(history) - RAG_HISTORY_SHOWN} earlier")
    text.append("\n")
    _label(text, "Last contacts")
    if ctx.contacts:
        text.append(" · ".join(f"{c.on.isoformat()} {c.kind.replace('_', ' ')} "
                               f"{'attended' if c.attended else 'failed to attend'}" for c in ctx.contacts))
    else:
        text.append("none recorded")
    text.append("\n")
    _label(text, "Earlier conferences")
    if not ctx.earlier:
        text.append("not discussed before")
    for p in ctx.earlier[:EARLIER_SHOWN]:
        _earlier(text, p)
    if len(ctx.earlier) > EARLIER_SHOWN:
        text.append(f"\n  and {len(ctx.earlier) - EARLIER_SHOWN} earlier")
    return text


def actions_lines(label: str, actions: Sequence[ActionLine], text: Text) -> None:
    if actions:
        text.append("\n")
        _label(text, label)
        text.append("; ".join(action_text(a) for a in actions))


def record_text(item: ItemDetail) -> Text:
    """What this conference has recorded for the item (empty while it is pending)."""
    text = Text()
    if item.status == "pending":
        return text
    if item.status == "skipped":
        text.append("Skipped: ", style="bold")
        text.append(one_line(item.skip_reason))
        return text
    text.append("Recorded at this conference", style="bold underline")
    text.append("\n")
    _label(text, "Done so far")
    text.append(one_line(item.done_so_far))
    text.append("\n")
    _label(text, "Plan")
    text.append(one_line(item.plan))
    text.append("\n")
    _label(text, "Expected off-flow")
    text.append(expected_text(item.expected_offflow, item.expected_offflow_unknown, item.offflow_note))
    text.append("\n")
    _label(text, "RAG")
    text.append(rag_review_text(item.rag_review, item.rag_before, item.rag_after, item.rag_reason, item.status))
    actions_lines("New actions", item.new_actions, text)
    actions_lines("Earlier actions done", [a for a in item.earlier_actions if a.outcome == "done"], text)
    actions_lines("Earlier actions carried", [a for a in item.earlier_actions if a.outcome == "carried"], text)
    return text
