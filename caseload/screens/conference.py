"""The caseload conference (DOMAIN.md section 8): one manager, one adviser, one date, one customer at a time.

Left, the agenda (why each customer is on it, who, and whether they are discussed, skipped or
pending, in words). Right, the current customer's context (summary, claim clock, RAG and its history,
last contacts, what earlier conferences recorded and their actions), what this conference has
recorded, and the form to record it. Progress is saved as it goes: moving to another item saves the
one being left (when anything was typed) and the position, so leaving and coming back resumes at the
same item. Text typed on an item that could not be saved yet is kept while the screen is open.

The agenda's order is the store's (why each customer is on it, then claim start): never anyone's
likelihood of leaving benefit, and nothing here suggests a sanction. Every read and write runs in a
thread worker through store.conference; the adviser (and anyone reading a finished conference) sees
the same screen without the form.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import DataTable, Input, Label, Select, Static, TextArea
from textual.widgets.selection_list import Selection

from caseload.screens.base import BackScreen
from caseload.screens.dialogs import ACTION_DUE_DAYS, Invalid, parse_date, required
from caseload.store.access import Actor, Role
from caseload.store.conference import ConferenceDetail, ItemDetail
from caseload.widgets.conference_item import action_text, context_text, record_text, short_reasons
from caseload.widgets.literal import literal
from caseload.widgets.rag import rag_word
from caseload.widgets.table import KeyedTable
from caseload.widgets.ticks import Tick, TickList

NAME_WIDTH = 18
CONFIRM = "confirm"


@dataclass(frozen=True)
class ConferenceView:
    detail: ConferenceDetail
    owners: tuple[tuple[str, str], ...]  # (staff id, name) who may own a new action

    @property
    def items(self) -> tuple[ItemDetail, ...]:
        return self.detail.items


LAST = -1  # Asked.index for the last item on the agenda (a customer just added)


@dataclass(frozen=True)
class Asked:
    """What a read or write of the conference is for (its tag): which answer it is (only the latest
    generation is shown), the item to show then (None: where the store left off, on opening), a note
    to say, what to do next ("leave", "summary") and the item just saved, whose draft goes."""

    generation: int
    index: int | None
    note: str = ""
    then: str | None = None
    saved_item: int | None = None


POSITION = "position"  # the tag of saving where the user is on the agenda


def read_conference(engine, actor: Actor, conference_id: int) -> ConferenceView:  # noqa: ANN001
    with engine.connect() as conn:
        return conference_view(conn, actor, conference_id)


def conference_view(conn, actor: Actor, conference_id: int) -> ConferenceView:  # noqa: ANN001
    from caseload.store.conference import conference_detail
    from caseload.store.staff import list_staff

    detail = conference_detail(conn, actor, conference_id)
    owners: list[tuple[str, str]] = []
    if detail.can_write:
        owners = [(s.id, s.name) for s in list_staff(conn, actor, team=detail.team)]
        for sid, name in ((detail.adviser_id, detail.adviser_name), (actor.id, actor.name)):
            if not actor.is_admin or sid != actor.id:
                if sid not in {o for o, _ in owners}:
                    owners.append((sid, name))
    return ConferenceView(detail, tuple(owners))


def status_word(item: ItemDetail, draft: bool = False) -> str:
    return item.status + (" *" if draft else "")


def agenda_rows(view: ConferenceView, current: int, drafts: set[int]) -> list[tuple[str, tuple]]:
    rows = []
    for i, it in enumerate(view.items):
        name = it.context.name or it.context.customer_id
        if len(name) > NAME_WIDTH:
            name = name[: NAME_WIDTH - 1] + "…"
        mark = Text(f"{'▶' if i == current else ' '}{i + 1}", style="bold" if i == current else "")
        rows.append((str(it.id), (mark, status_word(it, it.id in drafts), name, short_reasons(it.reasons))))
    return rows


def progress_text(detail: ConferenceDetail) -> str:
    discussed = sum(1 for i in detail.items if i.status == "discussed")
    skipped = sum(1 for i in detail.items if i.status == "skipped")
    pending = len(detail.items) - discussed - skipped
    return f"{discussed} discussed, {skipped} skipped, {pending} pending"


def title_text(detail: ConferenceDetail, index: int) -> str:
    where = f"item {index + 1} of {len(detail.items)}" if detail.items else "no customers on the agenda"
    state = "finished" if detail.status == "finished" else "in progress"
    read = "" if detail.can_write else " · read only"
    return (f"Caseload conference · {detail.adviser_name} ({detail.adviser_id}) · {detail.held_on.isoformat()} · "
            f"{where} · {state}{read}")


def rag_options(item: ItemDetail) -> tuple[str | None, list[tuple[str, str]]]:
    """The rating the review is of, and the choices: confirm it, or change to another."""
    before = item.rag_before if item.rag_review else item.context.rag
    options = []
    if before:
        options.append((f"Confirm: {rag_word(before)} is still right", CONFIRM))
    options += [(f"Change to {rag_word(r)}", r) for r in "RAG" if r != before]
    return before, options


def refusal(detail: ConferenceDetail, actor: Actor | None) -> str:
    if detail.status == "finished":
        when = f" at {detail.finished_at:%Y-%m-%d %H:%M}" if detail.finished_at else ""
        return f"This conference was finished{when}; it is a record now and is not changed."
    if actor is not None and actor.role is Role.ADVISER:
        return ("You can read your conferences; only your team manager or a team leader of your office "
                "runs them and records what is said.")
    return (f"You can read this conference; only {detail.adviser_name}'s team manager or a team leader "
            "of their office records it.")


def again_text(leaving: tuple[str, int] | None) -> str:
    if leaving is None:
        return ""
    if leaving[0] == "leave":
        return " Press escape again to leave without saving it."
    return (" Press the same key again to move on without saving (what you typed stays here until you leave "
            "the conference).")


FormState = tuple[Any, ...]


class AgendaTable(KeyedTable):
    BINDINGS = [Binding("enter", "select_cursor", "Go to item", id="conference_go")]


class FormLabel(Label):
    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        kwargs.setdefault("markup", False)
        super().__init__(*args, **kwargs)


class ConferenceScreen(BackScreen):
    SCREEN_NAME = "Caseload conference"
    HELP_TEXT = (
        "One caseload conference: the manager and the adviser go through the agenda one customer at a "
        "time. The list on the left is the agenda, in the order the rules built it (why each customer is "
        "on it, then claim start; never by anyone's likelihood of leaving benefit). Each row: the item "
        "number (▶ the current one), its status in words (discussed, skipped or pending; * means text "
        "typed here and not saved yet), the customer, and why they are on it: appr 13w = approaching the "
        "13-week milestone, passed 26w = just past one without a review, red! = Red with no plan update "
        "for over 62 days, 52+ = a year or more on benefit and not discussed in the last 91 days, "
        "action = an action from an earlier conference is still open, added = added by the manager.\n\n"
        "On the right: the customer (NI masked), the claim clock on the conference date, the RAG rating "
        "and its history (newest first), the last contacts, what earlier conferences recorded for them "
        "(done so far, plan, expected off-flow date, RAG review, and each action with ☑ done or ☐ open), "
        "then what this conference has recorded, then the form.\n\n"
        "The form: what has been done so far and the plan (both required); the expected off-flow date "
        "(YYYY-MM-DD, not before the conference) or tick \"don't know\" and say why; the RAG review: "
        "confirm the current rating, or change it with a reason (written to the customer's RAG history); "
        "earlier actions still open, each ticked done or left to be carried forward to the next "
        "conference; and a new action with its owner (the adviser unless you choose another) and due "
        "date. Save again to add another action or to correct the record; the audit keeps what it said "
        "before.\n\n"
        "Keys: n or ] next customer, p or [ previous (from the list, or anywhere outside a text field: "
        "escape leaves a field for the list); enter on a list row goes to that customer. Moving on saves "
        "the item you leave when anything was typed, and where you are, so escape and coming back later "
        "resumes here. If the item cannot be saved yet the reason is shown and you stay; the same key "
        "again moves on and keeps the text until you leave the conference. ctrl+s saves and stays; "
        "s skips the customer with a reason; a adds a customer from the adviser's caseload; f finishes "
        "(who attended; customers still pending are skipped with a reason you give); v shows the "
        "one-page summary.\n\n"
        "Only the adviser's team manager or a team leader of their office runs a conference; the "
        "adviser reads theirs, and a finished conference is a record that is not changed."
    )
    BINDINGS = [
        Binding("n", "step(1)", "Next", id="conference_next"),
        Binding("right_square_bracket", "step(1)", "Next", show=False, key_display="]", id="conference_next_bracket"),
        Binding("p", "step(-1)", "Previous", id="conference_previous"),
        Binding("left_square_bracket", "step(-1)", "Previous", show=False, key_display="[",
                id="conference_previous_bracket"),
        Binding("ctrl+s", "save", "Save", id="conference_save"),
        Binding("s", "skip", "Skip", id="conference_skip"),
        Binding("a", "add", "Add customer", id="conference_add"),
        Binding("f", "finish", "Finish", id="conference_finish"),
        Binding("v", "summary", "Summary", id="conference_summary"),
    ]
    # Single keys are for when nothing is being typed: in a text field they are letters.
    LETTER_ACTIONS = frozenset({"step", "skip", "add", "finish", "summary"})

    def __init__(self, conference_id: int) -> None:
        super().__init__()
        self.conference_id = conference_id
        self.view: ConferenceView | None = None
        self.index = 0
        self.drafts: dict[int, FormState] = {}  # item id -> typed, not saved
        self._generation = 0
        self._busy = False
        self._leave_ok: tuple[str, int] | None = None  # a second press of the same move leaves unsaved
        self._attempt: tuple[str, int] | None = None  # the move a save in flight is for
        self._baseline: FormState | None = None
        self._shown_item: int | None = None

    # Layout

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="conference-body"):
            yield AgendaTable(id="agenda")
            with VerticalScroll(id="item-pane"):
                yield Static("Loading the agenda…", id="item-context", markup=False)
                yield Static("", id="item-record", markup=False)
                with Vertical(id="item-form"):
                    yield Static("Record this customer", id="form-title", markup=False)
                    yield FormLabel("What has been done so far (required)")
                    yield TextArea(id="f-done", soft_wrap=True, show_line_numbers=False, compact=True)
                    yield FormLabel("The plan (required)")
                    yield TextArea(id="f-plan", soft_wrap=True, show_line_numbers=False, compact=True)
                    yield FormLabel("Expected off-flow date (YYYY-MM-DD, not before the conference)")
                    with Horizontal(classes="form-row"):
                        yield Input(id="f-expected", placeholder="YYYY-MM-DD", compact=True)
                        yield Tick("don't know", id="f-unknown", compact=True)
                    yield Input(id="f-note", placeholder="if you don't know: why not?", compact=True)
                    yield FormLabel("RAG review")
                    yield Select([], id="f-rag", prompt="Choose: confirm the rating, or change it", compact=True)
                    yield Input(id="f-rag-reason", placeholder="reason (required for a change)", compact=True)
                    yield FormLabel("Earlier actions: tick those done; the rest are carried forward", id="earlier-label")
                    yield TickList(id="f-earlier", compact=True)
                    yield FormLabel("New action (optional): what, who, due")
                    yield Input(id="f-action", placeholder="what is to be done", compact=True)
                    with Horizontal(classes="form-row"):
                        yield Select([], id="f-owner", prompt="owner", compact=True)
                        yield Input(id="f-due", placeholder="due YYYY-MM-DD", compact=True)
        yield Static("", id="conference-message", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(AgendaTable)
        for key, label in (("n", "#"), ("status", "Status"), ("customer", "Customer"), ("why", "Why")):
            table.add_column(label, key=key)
        table.focus()
        self.query_one("#item-form").display = False
        self.reload(None)  # None: the position the store saved, so a conference resumes where it was left

    # Reading

    @property
    def actor(self) -> Actor | None:
        identity = self.caseload.identity
        return identity.actor if identity else None

    def reload(self, index: int | None, note: str = "", then: str | None = None) -> None:
        if self.actor is None:
            return
        self._generation += 1
        self._read(self._generation, self.actor, index, note, then)

    @work(thread=True, exclusive=True, group="conference-read")
    def _read(self, generation: int, actor: Actor, index: int | None, note: str, then: str | None) -> None:
        self.read_and_post(lambda: read_conference(self.caseload.engine, actor, self.conference_id),
                           tag=Asked(generation, index, note, then))

    def on_reads_failed(self, message: BackScreen.Failed) -> None:
        self._failed(message.tag.generation, message.text)  # type: ignore[attr-defined]

    def on_reads_loaded(self, message: BackScreen.Loaded) -> None:
        self._loaded(message.tag, message.data)  # type: ignore[arg-type]

    def wrote(self, message: BackScreen.Wrote) -> None:
        asked = message.tag
        if asked == POSITION:
            if not message.saved:
                self._failed(self._generation, f"Where you are could not be saved: {message.text}")
        elif message.saved:
            self._loaded(replace(asked, note=message.text), message.data)  # type: ignore[type-var]
        else:
            self._failed(asked.generation, message.text, reload=message.outcome == "stale")  # type: ignore[attr-defined]

    def _failed(self, generation: int, text: str, reload: bool = False) -> None:
        if generation != self._generation:
            return
        self._busy = False
        # The same move again leaves the item unsaved: a refusal never traps anyone on an item.
        self._leave_ok, self._attempt = self._attempt, None
        self.say(text + again_text(self._leave_ok), problem=True)
        if self.view is None:
            self.query_one("#item-context", Static).update(f"⚠ {text}")
        elif reload:
            # A stale item: read the new version; what was typed is kept as a draft.
            self._stash()
            self._generation += 1
            assert self.actor is not None
            self._read(self._generation, self.actor, self.index, f"⚠ {text}", None)

    def _loaded(self, asked: Asked, view: ConferenceView) -> None:
        if asked.generation != self._generation:
            return
        self._busy = False
        self._leave_ok = self._attempt = None
        current = self.item
        if current is not None and current.id != asked.saved_item:
            self._stash()  # the form is refilled below; what was typed on it comes back as a draft
        first = self.view is None
        self.view = view
        if asked.saved_item is not None:
            self.drafts.pop(asked.saved_item, None)
        items = self.view.items
        index = asked.index
        if index is None:
            index = self.view.detail.position if first else self.index
        elif index == LAST:
            index = len(items) - 1
        self.index = max(0, min(index, len(items) - 1)) if items else 0
        self._shown_item = None  # always refill: the item's version or record may have changed
        self.show_item()
        if asked.note:
            self.say(asked.note.lstrip("⚠ "), problem=asked.note.startswith("⚠"))
        if asked.then == "leave":
            self.dismiss()
        elif asked.then == "summary":
            self.action_summary()

    # Showing an item

    @property
    def item(self) -> ItemDetail | None:
        if self.view is None or not self.view.items:
            return None
        return self.view.items[self.index]

    @property
    def writable(self) -> bool:
        return self.view is not None and self.view.detail.can_write

    def show_item(self) -> None:
        view = self.view
        if view is None:
            return
        detail = view.detail
        self.set_title(title_text(detail, self.index))
        table = self.query_one(AgendaTable)
        table.set_rows(agenda_rows(view, self.index, set(self.drafts)))
        item = self.item
        form = self.query_one("#item-form")
        if item is None:
            self.query_one("#item-context", Static).update(
                "Nobody is on the agenda: no customer meets a rule on this date. Press a to add a customer "
                "from the adviser's caseload." if detail.can_write else "Nobody was on this conference's agenda.")
            self.query_one("#item-record", Static).update("")
            form.display = False
            return
        if table.cursor_row != self.index:
            table.move_cursor(row=self.index, animate=False)
        self.query_one("#item-context", Static).update(
            context_text(item.context, item.claim_id, item.reasons, detail.held_on))
        record = record_text(item)
        self.query_one("#item-record", Static).update(record)
        self.query_one("#item-record", Static).display = bool(record)
        form.display = detail.can_write
        # With a form to fill, tab from the list goes to its first field (the pane scrolls to each field);
        # a record to read only takes the focus itself, so the keys scroll it.
        self.query_one("#item-pane").can_focus = not detail.can_write
        if detail.can_write and self._shown_item != item.id:
            self._fill_form(item)
            self._shown_item = item.id

    def _fill_form(self, item: ItemDetail) -> None:
        assert self.view is not None
        detail = self.view.detail
        self.query_one("#form-title", Static).update(
            "Correct the record (saving again replaces it; the audit keeps the old)" if item.status == "discussed"
            else "Record this customer")
        self.query_one("#f-done", TextArea).load_text(item.done_so_far or "")
        self.query_one("#f-plan", TextArea).load_text(item.plan or "")
        self.query_one("#f-expected", Input).value = item.expected_offflow.isoformat() if item.expected_offflow else ""
        self.query_one("#f-unknown", Tick).value = item.expected_offflow_unknown and item.status == "discussed"
        self.query_one("#f-note", Input).value = item.offflow_note or ""
        rag = self.query_one("#f-rag", Select)
        reason = self.query_one("#f-rag-reason", Input)
        if item.context.claim_end is not None:
            rag.set_options([])
            rag.prompt = f"No review: the claim ended {item.context.claim_end.isoformat()}"
            rag.disabled = True
            reason.disabled = True
            reason.value = ""
        else:
            _, options = rag_options(item)
            rag.disabled = reason.disabled = False
            rag.prompt = "Choose: confirm the rating, or change it"
            rag.set_options(options)
            if item.rag_review == "confirm":
                rag.value = CONFIRM
            elif item.rag_review == "change" and item.rag_after:
                rag.value = item.rag_after
            reason.value = item.rag_reason or "" if item.rag_review == "change" else ""
        earlier = self.query_one("#f-earlier", TickList)
        earlier.clear_options()
        open_actions = [a for a in item.earlier_actions if a.status == "open"]
        earlier.add_options([Selection(literal(f"{action_text(a)}, set {a.set_on.isoformat() if a.set_on else '—'}"),
                                       a.id, False) for a in open_actions])
        earlier.display = bool(open_actions)
        if open_actions:
            earlier.highlighted = 0  # space ticks the first at once
        self.query_one("#earlier-label", FormLabel).update(
            "Earlier actions: tick those done; the rest are carried forward" if open_actions else
            "Earlier actions: none open")
        self.query_one("#f-action", Input).value = ""
        owner = self.query_one("#f-owner", Select)
        owner.set_options([(f"{name or sid} ({sid})", sid) for sid, name in self.view.owners])
        if detail.adviser_id in {sid for sid, _ in self.view.owners}:
            owner.value = detail.adviser_id
        self.query_one("#f-due", Input).value = (detail.held_on + dt.timedelta(days=ACTION_DUE_DAYS)).isoformat()
        self._baseline = self._state()
        draft = self.drafts.get(item.id)
        if draft is not None:
            self._apply(draft)

    # The form's state, for "has anything been typed" and for drafts

    def _state(self) -> FormState:
        return (
            self.query_one("#f-done", TextArea).text,
            self.query_one("#f-plan", TextArea).text,
            self.query_one("#f-expected", Input).value,
            self.query_one("#f-unknown", Tick).value,
            self.query_one("#f-note", Input).value,
            self.query_one("#f-rag", Select).value,
            self.query_one("#f-rag-reason", Input).value,
            tuple(sorted(self.query_one("#f-earlier", TickList).selected)),
            self.query_one("#f-action", Input).value,
            self.query_one("#f-owner", Select).value,
            self.query_one("#f-due", Input).value,
        )

    def _apply(self, state: FormState) -> None:
        (done, plan, expected, unknown, note, rag, reason, earlier, action, owner, due) = state
        self.query_one("#f-done", TextArea).load_text(done)
        self.query_one("#f-plan", TextArea).load_text(plan)
        self.query_one("#f-expected", Input).value = expected
        self.query_one("#f-unknown", Tick).value = unknown
        self.query_one("#f-note", Input).value = note
        select = self.query_one("#f-rag", Select)
        if rag == Select.NULL:
            select.clear()
        elif not select.disabled:
            select.value = rag
        self.query_one("#f-rag-reason", Input).value = reason
        chooser = self.query_one("#f-earlier", TickList)
        chooser.deselect_all()
        for aid in earlier:
            chooser.select(aid)
        self.query_one("#f-action", Input).value = action
        self.query_one("#f-owner", Select).value = owner
        self.query_one("#f-due", Input).value = due

    def dirty(self) -> bool:
        return self.writable and self.item is not None and self._baseline is not None \
            and self._state() != self._baseline

    def _stash(self) -> None:
        """Keep what was typed on the current item while the screen is open."""
        item = self.item
        if item is None or not self.writable:
            return
        if self.dirty():
            self.drafts[item.id] = self._state()
        else:
            self.drafts.pop(item.id, None)

    def form_values(self, item: ItemDetail) -> dict[str, Any]:
        """The record_item arguments from the form, checked here as far as they can be."""
        done = required(self.query_one("#f-done", TextArea).text, "What has been done so far")
        plan = required(self.query_one("#f-plan", TextArea).text, "The plan")
        typed = self.query_one("#f-expected", Input).value.strip()
        note = self.query_one("#f-note", Input).value.strip()
        expected = None
        if self.query_one("#f-unknown", Tick).value:
            if typed:
                raise Invalid("Give either an expected off-flow date or tick \"don't know\" with a note, not both.")
            note = required(note, "A note saying why the expected off-flow date is not known")
        else:
            if not typed:
                raise Invalid("An expected off-flow date (YYYY-MM-DD) is required, or tick \"don't know\" and "
                              "say why.")
            expected = parse_date(typed, "The expected off-flow date")
            if note:
                raise Invalid("The note is for \"don't know\": tick it, or clear the note.")
            note = ""
        values: dict[str, Any] = {"done_so_far": done, "plan": plan, "expected_offflow": expected,
                                  "unknown_note": note or None}
        if item.context.claim_end is None:
            choice = self.query_one("#f-rag", Select).value
            reason = self.query_one("#f-rag-reason", Input).value.strip()
            if choice == Select.NULL:
                raise Invalid("Choose the RAG review: confirm the current rating, or change it with a reason.")
            if choice == CONFIRM:
                values.update(rag_review="confirm", rag_reason=reason or None)
            else:
                values.update(rag_review="change", rag=choice,
                              rag_reason=required(reason, "A reason for the change of rating"))
        description = self.query_one("#f-action", Input).value.strip()
        if description:
            owner = self.query_one("#f-owner", Select).value
            if owner == Select.NULL:
                raise Invalid("Choose who owns the new action.")
            due = parse_date(self.query_one("#f-due", Input).value, "The new action's due date")
            values["new_actions"] = [(description, owner, due)]
        selected = set(self.query_one("#f-earlier", TickList).selected)
        values["action_updates"] = {a.id: ("done" if a.id in selected else "carry")
                                    for a in item.earlier_actions if a.status == "open"}
        return values

    # Keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.LETTER_ACTIONS and isinstance(self.focused, (Input, TextArea)):
            return False
        return True

    def say(self, text: str, problem: bool = False) -> None:
        message = self.query_one("#conference-message", Static)
        message.update(f"⚠ {text}" if problem else text)
        message.set_class(problem, "-problem")

    def _can_write(self) -> bool:
        if self.view is None or self._busy:
            return False
        if not self.writable:
            self.say(refusal(self.view.detail, self.actor), problem=True)
            return False
        return True

    def action_step(self, step: int) -> None:
        self.go(self.index + step, f"step{step}")

    @on(DataTable.RowSelected, "#agenda")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        if self.view is None:
            return
        keys = [str(i.id) for i in self.view.items]
        key = event.row_key.value or ""
        if key in keys:
            target = keys.index(key)
            if target != self.index:
                self.go(target, f"row{target}")

    def go(self, target: int, how: str) -> None:
        """Move to item `target`, saving the one being left when anything was typed on it."""
        if self.view is None or self._busy:
            return
        n = len(self.view.items)
        if not 0 <= target < n:
            self.say("This is the " + ("last" if target >= n else "first") + " customer on the agenda."
                     + (" Press f to finish the conference." if target >= n and self.writable else ""))
            return
        if self.dirty() and self._leave_ok != (how, self.index):
            self._save(then=target, leaving=(how, self.index))
            return
        self._leave_ok = None
        self._stash()
        self.index = target
        self.show_item()
        if self.writable and self.actor is not None:
            self._save_position(self.actor, target)
        self.say("")

    @work(thread=True, exclusive=True, group="conference-position")
    def _save_position(self, actor: Actor, position: int) -> None:
        from caseload.store.conference import move_to

        self.write_and_post(lambda conn: move_to(conn, actor, self.conference_id, position), tag=POSITION)

    def action_save(self) -> None:
        if self.item is None:
            return
        if self._can_write():
            self._save(then=None)

    def _save(self, then: int | None, leaving: tuple[str, int] | None = None, after: str | None = None) -> None:
        item = self.item
        actor = self.actor
        if item is None or actor is None or not self.writable:
            return
        try:
            values = self.form_values(item)
        except Invalid as exc:
            self._leave_ok = leaving
            self.say(f"{exc}{again_text(leaving)}", problem=True)
            return
        self._busy = True
        self._attempt = leaving
        self.say("Saving…")
        self._generation += 1
        self._record(self._generation, actor, item.id, item.version, values, then, after)

    @work(thread=True, exclusive=True, group="conference-write")
    def _record(self, generation: int, actor: Actor, item_id: int, version: int, values: dict[str, Any],
                then: int | None, after: str | None) -> None:
        from caseload.store.conference import move_to, record_item

        def change(conn) -> ConferenceView:  # noqa: ANN001
            record_item(conn, self.caseload.clock, actor, item_id, version, **values)
            if then is not None:
                move_to(conn, actor, self.conference_id, then)
            return conference_view(conn, actor, self.conference_id)

        def said(view: ConferenceView) -> str:
            return f"Saved: {next((i.context.name for i in view.items if i.id == item_id), '')}."

        # A stale item (outcome "stale") is read again, with what was typed kept as a draft.
        self.write_and_post(change, said, Asked(generation, then, then=after, saved_item=item_id))

    def action_back(self) -> None:
        if self.view is None or self._busy:
            if self.view is None:
                self.dismiss()
            return
        if self.focused is not None and self.focused is not self.query_one(AgendaTable) \
                and self.query_one("#item-form") in self.focused.ancestors:
            # Out of the form first: the single keys work again from the list.
            self.query_one(AgendaTable).focus()
            return
        if self.dirty() and self._leave_ok != ("leave", self.index):
            self._save(then=None, leaving=("leave", self.index), after="leave")
            return
        self._stash()
        others = sorted(i + 1 for i, it in enumerate(self.view.items) if it.id in self.drafts)
        if others and self._leave_ok != ("leave-drafts", 0):
            self._leave_ok = ("leave-drafts", 0)
            self.say(f"Item{'s' if len(others) > 1 else ''} {', '.join(map(str, others))} "
                     f"{'have' if len(others) > 1 else 'has'} text that is not saved: go back to "
                     f"{'them' if len(others) > 1 else 'it'} (enter on the list) and save, or press escape "
                     "again to leave without it.", problem=True)
            return
        self.dismiss()

    def action_skip(self) -> None:
        from caseload.screens.conference_dialogs import SkipDialog

        item = self.item
        if item is None or not self._can_write():
            return
        if item.status == "discussed":
            self.say("This customer has been discussed; correct the record instead of skipping it.", problem=True)
            return
        name = item.context.name or item.context.customer_id

        def after(saved: bool | None) -> None:
            if saved:
                self.drafts.pop(item.id, None)
                self._shown_item = None
                assert self.view is not None
                target = min(self.index + 1, len(self.view.items) - 1)
                if target != self.index and self.actor is not None:
                    self._save_position(self.actor, target)
                self.reload(target, f"Skipped: {name}.")

        about = f"{name} · claim {item.claim_id} · item {self.index + 1} of {len(self.view.items)}"  # type: ignore[union-attr]
        self.app.push_screen(SkipDialog(item.id, item.version, about), after)

    def action_add(self) -> None:
        from caseload.screens.conference_dialogs import AddCustomerChooser

        if not self._can_write():
            return
        assert self.view is not None
        d = self.view.detail
        self._stash()

        def chosen(claim_id: str | None) -> None:
            if claim_id and self.actor is not None:
                self._busy = True
                self.say("Adding…")
                self._generation += 1
                self._add(self._generation, self.actor, claim_id)

        self.app.push_screen(AddCustomerChooser(d.adviser_id, d.adviser_name, d.held_on,
                                                [i.claim_id for i in d.items]), chosen)

    @work(thread=True, exclusive=True, group="conference-write")
    def _add(self, generation: int, actor: Actor, claim_id: str) -> None:
        from caseload.store.conference import add_customer, conference_detail, move_to

        def change(conn) -> ConferenceView:  # noqa: ANN001
            add_customer(conn, self.caseload.clock, actor, self.conference_id, claim_id)
            # Straight to the new customer, who is last on the agenda.
            last = len(conference_detail(conn, actor, self.conference_id).items) - 1
            move_to(conn, actor, self.conference_id, last)
            return conference_view(conn, actor, self.conference_id)

        def said(view: ConferenceView) -> str:
            item = view.items[-1]
            return f"Added: {item.context.name} (claim {item.claim_id}), item {len(view.items)}."

        self.write_and_post(change, said, Asked(generation, LAST))

    def action_finish(self) -> None:
        from caseload.screens.conference_dialogs import FinishDialog

        if not self._can_write():
            return
        assert self.view is not None
        if self.dirty():
            self.say("This item has text that is not saved: save it (ctrl+s), or clear it, before finishing.",
                     problem=True)
            return
        d = self.view.detail
        pending = sum(1 for i in d.items if i.status == "pending")
        attendees = ", ".join(dict.fromkeys(x for x in (d.manager_name, d.adviser_name) if x))
        about = f"{d.adviser_name} ({d.adviser_id}) · {d.held_on.isoformat()} · {progress_text(d)}"

        def after(saved: bool | None) -> None:
            if saved:
                self.drafts.clear()
                self._shown_item = None
                self.reload(self.index, "Finished: who attended and when are recorded. The summary follows.",
                            then="summary")

        self.app.push_screen(FinishDialog(d.id, about, attendees, pending), after)

    def action_summary(self) -> None:
        from caseload.screens.conference_summary import SummaryScreen

        if self.view is None:
            return
        self._stash()
        self.app.push_screen(SummaryScreen(self.conference_id))

    def on_screen_resume(self) -> None:
        # Back from the summary: nothing to re-read; the drafts are where they were.
        if self.view is not None and self.item is not None and self.writable:
            self.show_item()
