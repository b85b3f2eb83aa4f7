"""The customer record: who, their claims (with re-claim links), the claim clock and the timeline,
with every edit a keypress away; and "Find customer" in the command palette.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.command import CommandPalette, Hit, Hits, Provider
from textual.widgets import DataTable, Static

from caseload.measures.destinations import category
from caseload.measures.destinations import destination_name
from caseload.screens.base import UNDO_BINDING, BackScreen, complete, unrate
from caseload.screens.caseload import NONE, flag_words
from caseload.screens.dialogs import (
    ActionDialog,
    ContactDialog,
    DestinationDialog,
    EditDialog,
    Editable,
    NoteDialog,
    RagDialog,
    ReassignDialog,
    WithdrawDialog,
)
from caseload.store.access import Actor
from caseload.store.caseload import CaseloadRow
from caseload.store.customer import ClaimLine, CustomerHit, CustomerRecord, TimelineEntry
from caseload.widgets.rag import rag_badge, rag_word
from caseload.widgets.runway import ClaimClock
from caseload.widgets.table import KeyedTable

KIND_WORDS = {"rag": "RAG", "note": "Note", "contact": "Contact", "action": "Action", "transfer": "Transfer",
              "destination": "Destination"}
DETAIL_WIDTH = 60
SEARCH_MIN = 2
SEARCH_LIMIT = 20


@dataclass(frozen=True)
class CustomerView:
    record: CustomerRecord
    as_at: dt.date
    row: CaseloadRow | None  # the claim's caseload row, while it is open
    adviser_id: str
    owners: tuple[tuple[str, str], ...]  # (staff id, name) who may own an action
    editable: dict[str, Editable]  # keyed as the timeline's rows

    @property
    def claim(self) -> ClaimLine:
        return next(c for c in self.record.claims if c.claim_id == self.record.claim_id)


def entry_key(entry: TimelineEntry, index: int) -> str:
    return f"{entry.kind}:{entry.record_id}" if entry.record_id is not None else f"{entry.kind}#{index}"


def editable_entries(record: CustomerRecord) -> dict[str, Editable]:
    """The record's notes, contacts and actions as they stand (the amend dialogs start from these),
    keyed as the timeline's rows: from the timeline the store has already read."""
    out: dict[str, Editable] = {}
    for e in record.timeline:
        if e.fields is None or e.record_id is None or e.version is None:
            continue
        f = e.fields
        if e.kind == "note":
            summary = _short(f["body"], DETAIL_WIDTH)
        elif e.kind == "contact":
            summary = f"{f['kind'].replace('_', ' ')} on {f['contact_on']}"
        else:
            summary = f"{f['description']} (due {f['due_on']})"
        out[f"{e.kind}:{e.record_id}"] = Editable(e.kind, e.record_id, e.version, e.status, summary, dict(f))
    return out


def read_customer(engine, actor: Actor, claim_id: str, today: dt.date,  # noqa: ANN001
                  owners: tuple[tuple[str, str], ...] | None = None) -> CustomerView:
    """The record of one claim's customer; `owners` are the action owners already read (the staff in
    the actor's scope do not change from one customer to the next, and listing them counts caseloads)."""
    from caseload.store import settings
    from caseload.store.caseload import CaseloadQuery, caseload
    from caseload.store.customer import customer_record
    from caseload.store.info import latest_import
    from caseload.store.records import claim_in_scope
    from caseload.store.staff import list_staff

    with engine.connect() as conn:
        record = customer_record(conn, actor, claim_id)
        claim = claim_in_scope(conn, actor, claim_id)
        latest = latest_import(conn)
        as_at = latest.as_at if latest else today
        row = None
        if claim.claim_end is None:
            # The caseload's own row for this claim: its RAG, runway and flags exactly as the list shows them.
            page = caseload(conn, actor, as_at, CaseloadQuery(text=claim_id, limit=20),
                            settings.load(conn).approaching_days)
            row = next((r for r in page.rows if r.claim_id == claim_id), None)
        if owners is None:
            owners = tuple((s.id, s.name) for s in list_staff(conn, actor))
    return CustomerView(record, as_at, row, claim.adviser_id, owners, editable_entries(record))


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def status_text(entry: TimelineEntry) -> str:
    if entry.status == "withdrawn":
        return f"withdrawn: {entry.change}" if entry.change else "withdrawn"
    if entry.change:
        return f"amended: {entry.change}"
    if entry.kind == "action":
        return entry.status  # open or done
    return ""


def timeline_rows(record: CustomerRecord) -> list[tuple[str, tuple]]:
    rows = []
    for i, e in enumerate(record.timeline):
        detail = Text(_short(e.text, DETAIL_WIDTH))
        if e.status == "withdrawn":
            detail.stylize("strike dim")
        rows.append((entry_key(e, i), (e.at.date().isoformat(), KIND_WORDS.get(e.kind, e.kind), detail, e.who,
                                       status_text(e))))
    return rows


def claim_rows(record: CustomerRecord) -> list[tuple[str, tuple]]:
    rows = []
    for c in record.claims:
        here = "▶" if c.claim_id == record.claim_id else ""
        reason = destination_name(c.end_reason) or ("" if c.end is None else "not known")
        if c.confirmed:
            reason = f"{reason} → confirmed {destination_name(c.confirmed)}"
        rows.append((c.claim_id, (here, c.claim_id, c.benefit, c.start.isoformat(),
                                  c.end.isoformat() if c.end else "open", reason or NONE, c.adviser,
                                  "; ".join(c.links) or NONE)))
    return rows


def head_text(view: CustomerView) -> Text:
    r, claim, row = view.record, view.claim, view.row
    text = Text()
    text.append(r.name or r.customer_id, style="bold")
    text.append(f" · NI {r.nino or NONE} · customer {r.customer_id} · claim {claim.claim_id} ({claim.benefit})")
    text.append("\n")
    if claim.end is not None:
        confirmed = f"; confirmed {destination_name(claim.confirmed)} ({category(claim.confirmed)})" if claim.confirmed else \
            "; no destination confirmed yet (s records one)"
        ended = destination_name(claim.end_reason) or "no reason in the extract"
        text.append(f"Ended {claim.end.isoformat()}: {ended}{confirmed}")
        return text
    if row is None:
        text.append(f"Open claim, held by {claim.adviser}")
        return text
    text.append("RAG ")
    text.append_text(rag_badge(row.rag))
    if row.rag:
        text.append(f" {rag_word(row.rag)}, set {row.rag_set_on}, review by {row.next_review}")
    else:
        text.append(" not rated yet (g sets it)")
    text.append(f" · runway {row.runway}")
    if row.flags:
        text.append(f" · flags: {flag_words(row.flags)}")
    text.append(f" · held by {claim.adviser}")
    return text


class ClaimsTable(KeyedTable):
    BINDINGS = [Binding("enter", "select_cursor", "View claim", id="view_claim")]


class TimelineTable(KeyedTable):
    pass


class CustomerScreen(BackScreen):
    SCREEN_NAME = "Customer record"
    HELP_TEXT = (
        "One customer: their name, the last 3 characters of their NI number, and every claim they have "
        "made (current and past, with re-claim and churn links). The claim clock gives the claim's 13, "
        "26 and 52-week dates and which have passed, as at the latest import's date. The timeline, newest "
        "first, holds RAG changes (old → new, with the reason and who set it), notes, contacts, actions, "
        "transfers between advisers and confirmed destinations; a corrected entry says \"amended: reason\" "
        "and a withdrawn one \"withdrawn: reason\" (it stays on the record). The line under the timeline "
        "shows the highlighted entry in full.\n\n"
        "Keys: g sets the RAG rating (a reason is required); n adds a note; c logs a contact; t adds an "
        "action. On the highlighted timeline entry: d marks an open action done, o reassigns it, e corrects "
        "a note, contact or action (with a reason), w withdraws it (with a reason). s records where the "
        "customer went (only for an ended claim: shift+tab to the claims list, choose it and press enter). [ and ] go "
        "to the previous and next customer in the caseload's order. Every edit is saved at once; if someone "
        "changed the entry since you opened it, the dialog says so and keeps what you typed. Escape goes "
        "back to the caseload, which shows your edits."
    )
    BINDINGS = [
        Binding("g", "rag", "RAG", id="customer_rag"),
        Binding("n", "note", "Note", id="customer_note"),
        Binding("c", "contact", "Contact", id="customer_contact"),
        Binding("t", "action", "Action", id="customer_action"),
        Binding("d", "done", "Done", id="customer_done"),
        UNDO_BINDING,
        Binding("o", "reassign", "Reassign", id="customer_reassign"),
        Binding("e", "amend", "Amend", id="customer_amend"),
        Binding("w", "withdraw", "Withdraw", id="customer_withdraw"),
        Binding("s", "destination", "Destination", id="customer_destination"),
        Binding("left_square_bracket", "step(-1)", "Previous", key_display="[", id="customer_previous"),
        Binding("right_square_bracket", "step(1)", "Next", key_display="]", id="customer_next"),
    ]

    def __init__(self, claim_id: str, order: Sequence[str] = ()) -> None:
        super().__init__()
        self.claim_id = claim_id
        self.order = list(order)
        self.view: CustomerView | None = None
        self._cursor_to: str | None = None  # the timeline row to highlight once the record is read again

    def compose_body(self) -> ComposeResult:
        yield Static("Loading…", id="customer-head", markup=False)
        yield ClaimsTable(id="customer-claims", zebra_stripes=False)
        yield ClaimClock("", id="customer-clock")
        yield TimelineTable(id="timeline")
        yield Static("", id="timeline-detail", markup=False)
        yield Static("", id="customer-message", markup=False)

    def on_mount(self) -> None:
        claims = self.query_one(ClaimsTable)
        for key, label in (("here", ""), ("claim", "Claim"), ("benefit", "Ben"), ("start", "Started"),
                           ("end", "Ended"), ("reason", "End reason"), ("adviser", "Adviser"),
                           ("links", "Re-claims")):
            claims.add_column(label, key=key)
        timeline = self.query_one(TimelineTable)
        for key, label in (("when", "When"), ("what", "What"), ("detail", "Detail"), ("who", "By"),
                           ("status", "Status")):
            timeline.add_column(label, key=key)
        timeline.focus()
        self.reload()

    # Reading

    def reload(self) -> None:
        identity = self.caseload.identity
        if identity is None:
            return
        self.load(identity.actor, self.claim_id, self.view.owners if self.view is not None else None)

    @work(thread=True, exclusive=True, group="customer")
    def load(self, actor: Actor, claim_id: str, owners: tuple[tuple[str, str], ...] | None = None) -> None:
        self.read_and_post(lambda: read_customer(self.caseload.engine, actor, claim_id, self.caseload.clock.today(),
                                                 owners), tag=claim_id)

    def on_reads_failed(self, message: BackScreen.Failed) -> None:
        if message.tag != self.claim_id:
            return
        self.view = None
        self.set_title(f"Customer record · claim {message.tag}")
        self.query_one("#customer-head", Static).update(f"⚠ {message.text}")
        self.query_one(ClaimsTable).set_rows([])
        self.query_one(ClaimClock).update("")
        self.query_one(TimelineTable).set_rows([])
        self.query_one("#timeline-detail", Static).update("")

    def on_reads_loaded(self, message: BackScreen.Loaded) -> None:
        if message.tag != self.claim_id:
            return  # the user has moved on to another customer
        view: CustomerView = message.data
        self.view = view
        r = view.record
        position = ""
        if self.claim_id in self.order:
            position = f" · {self.order.index(self.claim_id) + 1} of {len(self.order)}"
        self.set_title(f"Customer record · {r.name or r.customer_id} · claim {r.claim_id}{position}")
        self.query_one("#customer-head", Static).update(head_text(view))
        claims = self.query_one(ClaimsTable)
        claims.set_rows(claim_rows(r))
        claims.move_cursor(row=claims.row_keys.index(r.claim_id), animate=False)
        claim = view.claim
        self.query_one(ClaimClock).show(claim.milestones, claim.start, view.as_at, claim.end)
        timeline = self.query_one(TimelineTable)
        timeline.set_rows(timeline_rows(r))
        if self._cursor_to is not None and self._cursor_to in timeline.row_keys:
            timeline.move_cursor(row=timeline.row_keys.index(self._cursor_to), animate=False)
        self._cursor_to = None
        self._show_detail()

    @on(DataTable.RowHighlighted, "#timeline")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        entry = self.selected_entry()
        detail = self.query_one("#timeline-detail", Static)
        if entry is None:
            empty = self.view is not None and not self.view.record.timeline
            detail.update("Nothing recorded yet: g rates, n notes, c logs a contact, t adds an action."
                          if empty else "")
            return
        extra = f" ({status_text(entry)})" if status_text(entry) else ""
        # Contacts and transfers carry a day, not a time of day.
        when = f"{entry.at:%Y-%m-%d}" if entry.kind in ("contact", "transfer") else f"{entry.at:%Y-%m-%d %H:%M}"
        detail.update(f"{when} {KIND_WORDS.get(entry.kind, entry.kind)} by {entry.who}: {entry.text}{extra}")

    def selected_entry(self) -> TimelineEntry | None:
        if self.view is None:
            return None
        key = self.query_one(TimelineTable).cursor_key
        for i, e in enumerate(self.view.record.timeline):
            if entry_key(e, i) == key:
                return e
        return None

    @on(DataTable.RowSelected, "#customer-claims")
    def _view_claim(self, event: DataTable.RowSelected) -> None:
        claim_id = event.row_key.value
        if claim_id and claim_id != self.claim_id:
            self.show(claim_id)

    def show(self, claim_id: str) -> None:
        self.claim_id = claim_id
        self.query_one("#customer-message", Static).update("")
        self.reload()

    # Moving between customers

    def action_step(self, step: int) -> None:
        if not self.order:
            self.say("This record was not opened from a caseload list, so there is no next or previous customer.")
            return
        if self.claim_id in self.order:
            index = self.order.index(self.claim_id) + step
        else:
            index = 0 if step > 0 else len(self.order) - 1
        if not 0 <= index < len(self.order):
            self.say("This is the " + ("last" if step > 0 else "first") + " customer in the list.")
            return
        self.show(self.order[index])

    # Edits

    def say(self, text: str, problem: bool = False) -> None:
        message = self.query_one("#customer-message", Static)
        message.update(f"⚠ {text}" if problem else text)
        message.set_class(problem, "-problem")

    def _about(self) -> str:
        assert self.view is not None
        r = self.view.record
        return f"{r.name or r.customer_id} · NI {r.nino or NONE} · claim {r.claim_id}"

    def _open(self, dialog: EditDialog, done: str) -> None:
        def after(saved: bool | None) -> None:
            if saved:
                self.say(done)
                created = getattr(dialog, "created", None)
                if isinstance(dialog, RagDialog) and created is not None:
                    self.offer_undo(done, unrate(created))
                elif isinstance(dialog, ActionDialog) and created is not None:
                    # The new action is highlighted, so d marks it done and e corrects it.
                    self._cursor_to = f"action:{created}"
                self.reload()

        self.app.push_screen(dialog, after)

    def _ready(self) -> bool:
        if self.view is None:
            self.say("There is no record on screen to change.", problem=True)
            return False
        return True

    def _open_claim(self, doing: str) -> bool:
        if not self._ready():
            return False
        assert self.view is not None
        if self.view.claim.end is not None:
            self.say(f"Claim {self.claim_id} has ended; {doing} is for an open claim.", problem=True)
            return False
        return True

    def action_rag(self) -> None:
        if not self._open_claim("a RAG rating"):
            return
        assert self.view is not None
        current = self.view.row.rag if self.view.row else None
        seen = max((e.record_id or 0 for e in self.view.record.timeline if e.kind == "rag"), default=0)
        self._open(RagDialog(self.claim_id, self._about(), current=current, seen=seen), "RAG rating saved.")

    def action_note(self) -> None:
        if self._ready():
            self._open(NoteDialog(self.claim_id, self._about()), "Note saved.")

    def action_contact(self) -> None:
        if self._ready():
            self._open(ContactDialog(self.claim_id, self._about()), "Contact saved.")

    def action_action(self) -> None:
        if not self._ready():
            return
        assert self.view is not None
        me = self.caseload.identity.actor.id if self.caseload.identity else None
        ids = {sid for sid, _ in self.view.owners}
        owner = me if me in ids else self.view.adviser_id
        self._open(ActionDialog(self.claim_id, self._about(), self.view.owners, owner), "Action added.")

    def _editable(self, kinds: tuple[str, ...], press: str, doing: str) -> Editable | None:
        if not self._ready():
            return None
        assert self.view is not None
        entry = self.selected_entry()
        key = None
        if entry is not None and entry.record_id is not None:
            key = f"{entry.kind}:{entry.record_id}"
        item = self.view.editable.get(key) if key else None
        if item is None or item.kind not in kinds:
            what = ", ".join(kinds[:-1]) + " or " + kinds[-1] if len(kinds) > 1 else kinds[0]
            article = "an" if what[0] in "aeiou" else "a"
            self.say(f"Highlight {article} {what} in the timeline first, then press {press} to {doing}.", problem=True)
            return None
        if item.status == "withdrawn":
            self.say(f"That {item.kind} was withdrawn; it cannot be changed.", problem=True)
            return None
        return item

    def _open_action(self, press: str, doing: str, done: str) -> Editable | None:
        item = self._editable(("action",), press, doing)
        if item is not None and item.status != "open":
            self.say(f"That action is {item.status}; only an open action can be {done}.", problem=True)
            return None
        return item

    def action_done(self) -> None:
        item = self._open_action("d", "mark it done", "marked done")
        if item is not None:
            self.mark_done(complete(item.id, item.version, f"Done: {item.summary}"))

    def marked(self, text: str, problem: bool, done: int | None) -> None:
        self.say(text, problem=problem)
        if done is not None:
            self._cursor_to = f"action:{done}"
        self.reload()

    def undone(self) -> None:
        self._cursor_to = self.query_one(TimelineTable).cursor_key
        self.reload()

    def action_reassign(self) -> None:
        item = self._open_action("o", "reassign it", "reassigned")
        if item is not None and self.view is not None:
            self._open(ReassignDialog(self.claim_id, self._about(), item, self.view.owners), "Action reassigned.")

    def action_amend(self) -> None:
        item = self._editable(("note", "contact", "action"), "e", "correct it")
        if item is None or self.view is None:
            return
        about = self._about()
        if item.kind == "note":
            dialog: EditDialog = NoteDialog(self.claim_id, about, amend=item)
        elif item.kind == "contact":
            dialog = ContactDialog(self.claim_id, about, amend=item)
        else:
            dialog = ActionDialog(self.claim_id, about, self.view.owners, amend=item)
        self._open(dialog, f"The {item.kind} is corrected; the timeline shows your reason.")

    def action_withdraw(self) -> None:
        item = self._editable(("note", "contact", "action"), "w", "withdraw it")
        if item is not None:
            self._open(WithdrawDialog(self.claim_id, self._about(), item),
                       f"The {item.kind} is withdrawn; it stays on the record with your reason.")

    def action_destination(self) -> None:
        if not self._ready():
            return
        assert self.view is not None
        claim = self.view.claim
        if claim.end is None:
            self.say(f"Claim {claim.claim_id} is still open: a destination is recorded for an ended claim. "
                     "Shift+tab to the claims list, choose an ended claim and press enter, then s.", problem=True)
            return
        self._open(DestinationDialog(self.claim_id, self._about(), claim.end_reason), "Destination recorded.")


# Find customer (command palette)


def read_hits(engine, actor: Actor, text: str) -> list[CustomerHit]:  # noqa: ANN001
    from caseload.store.customer import find_customers

    with engine.connect() as conn:
        return find_customers(conn, actor, text, limit=SEARCH_LIMIT)


def open_customer(app: App, claim_id: str) -> None:
    app.push_screen(CustomerScreen(claim_id))


def open_find_customer(app: App) -> None:
    app.push_screen(CommandPalette(providers=[FindCustomer],
                                   placeholder="Find a customer: name, customer id, claim id or last 3 of the NI…"))


class FindCustomer(Provider):
    """Customers by name, customer id, claim id or the last characters of the NI number, within the
    user's scope. The database is searched in a thread worker; choosing a hit opens the record."""

    async def search(self, query: str) -> Hits:
        text = query.strip()
        identity = getattr(self.app, "identity", None)
        if identity is None or len(text) < SEARCH_MIN:
            return
        engine = self.app.engine  # type: ignore[attr-defined]
        worker = self.app.run_worker(partial(read_hits, engine, identity.actor, text), thread=True,
                                     group="find-customer", exit_on_error=False)
        try:
            hits = await worker.wait()
        except Exception:  # noqa: BLE001 - a failed search shows no hits; the palette keeps working
            return
        lowered = text.lower()
        for h in hits or []:
            exact = lowered in (h.claim_id.lower(), h.customer_id.lower())
            prompt = Text.assemble((h.name or h.customer_id, "bold"), f"  {h.nino}  ", h.claim_id,
                                   (" open" if h.open else " ended", "" if h.open else "dim"),
                                   (f" · {h.adviser}" if h.adviser else "", "dim"))
            yield Hit(1.0 if exact else 0.9, prompt, partial(open_customer, self.app, h.claim_id),
                      text=f"{h.name} {h.claim_id}", help=f"Open the customer record (customer {h.customer_id})")
