"""A conference's one-page summary (counts, then each customer), and the list of an adviser's conferences.

Both read only. The summary is the store's conference_summary, in the same words as the exported one.
"""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from caseload.export.conference import COUNTS, INTERNAL, count_line, item_lines, summary_facts
from caseload.screens.base import BackScreen
from caseload.store.access import Actor, Role
from caseload.store.conference import ConferenceLine, ConferenceSummary, SummaryItem
from caseload.widgets.conference_item import NONE, one_line
from caseload.widgets.table import KeyedTable

# Where the summary's facts stand in its head (any other fact follows them).
HEAD = (("Adviser", "Adviser {}"), ("Team", " · team {}"), ("Run by", " · run by {}"),
        ("Conference date", "\nConference {}"), ("Status", " · {}"), ("Attended", " · attended: {}"))


def read_summary(engine, actor: Actor, conference_id: int) -> ConferenceSummary:  # noqa: ANN001
    from caseload.store.conference import conference_summary

    with engine.connect() as conn:
        return conference_summary(conn, actor, conference_id)


def counts_text(s: ConferenceSummary) -> str:
    return " · ".join(f"{label} {getattr(s.counts, k)}" for k, label in COUNTS)


def counts_detail(s: ConferenceSummary) -> str:
    return count_line(s) + "."


def head_text(s: ConferenceSummary) -> str:
    facts = dict(summary_facts(s))
    head = "".join(form.format(facts.pop(k)) for k, form in HEAD)
    return head + "".join(f" · {k.lower()}: {v}" for k, v in facts.items()) + f"\n{INTERNAL}"


def item_heading(it: SummaryItem) -> str:
    state = {"discussed": "discussed", "skipped": f"skipped: {one_line(it.skip_reason)}",
             "pending": "not reached"}[it.status]
    return f"{it.position + 1}. {it.customer_name or it.customer_id} · claim {it.claim_id} ({state})"


def items_text(s: ConferenceSummary) -> Text:
    text = Text()
    if not s.items:
        text.append("Nobody was on the agenda.")
    for n, it in enumerate(s.items):
        if n:
            text.append("\n\n")
        text.append(item_heading(it), style="bold")
        for label, value in item_lines(it, NONE):
            text.append(f"\n  {label}: ", style="bold")
            text.append(value)
    return text


class SummaryScreen(BackScreen):
    SCREEN_NAME = "Conference summary"
    HELP_TEXT = (
        "The one-page summary of one caseload conference, read only: who it was with, who ran it, when "
        "it finished and who attended (a conference not yet finished says so: its summary is partial). "
        "Then the counts: customers discussed, RAG ratings changed, new actions set, and earlier actions "
        "carried forward (with how many were skipped, not reached, and earlier actions marked done). Then "
        "each customer in agenda order: what has been done, the plan, the expected off-flow date (or why "
        "it is not known), the RAG review, and the actions set, done and carried; a skipped customer "
        "shows the reason. It is the same summary `caseload export conference` writes. Arrows and page "
        "keys scroll; escape goes back."
    )

    def __init__(self, conference_id: int) -> None:
        super().__init__()
        self.conference_id = conference_id
        self.summary: ConferenceSummary | None = None

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="summary-body"):
            yield Static("Loading…", id="summary-head", markup=False)
            yield Static("", id="summary-counts", markup=False)
            yield Static("", id="summary-detail", markup=False)
            yield Static("", id="summary-items", markup=False)

    def on_mount(self) -> None:
        self.query_one("#summary-body").focus()
        identity = self.caseload.identity
        if identity is not None:
            self.load(identity.actor)

    @work(thread=True, exclusive=True, group="conference-summary")
    def load(self, actor: Actor) -> None:
        self.read_and_post(lambda: read_summary(self.caseload.engine, actor, self.conference_id))

    def on_reads_failed(self, message: BackScreen.Failed) -> None:
        self.query_one("#summary-head", Static).update(f"⚠ {message.text}")

    def on_reads_loaded(self, message: BackScreen.Loaded) -> None:
        s = self.summary = message.data
        self.set_title(f"Conference summary · {s.adviser_name} ({s.adviser_id}) · {s.held_on.isoformat()}")
        self.query_one("#summary-head", Static).update(head_text(s))
        self.query_one("#summary-counts", Static).update(counts_text(s))
        self.query_one("#summary-detail", Static).update(counts_detail(s))
        self.query_one("#summary-items", Static).update(items_text(s))


# An adviser's conferences


def read_conferences(engine, actor: Actor, adviser_id: str) -> list[ConferenceLine]:  # noqa: ANN001
    from caseload.store.conference import list_conferences

    with engine.connect() as conn:
        return list_conferences(conn, actor, adviser_id)


def conference_rows(lines: list[ConferenceLine]) -> list[tuple[str, tuple]]:
    rows = []
    for c in lines:
        if c.status == "finished":
            state = f"finished {c.finished_at:%Y-%m-%d %H:%M}" if c.finished_at else "finished"
        else:
            state = "in progress"
        rows.append((str(c.id), (Text(c.held_on.isoformat()), state, f"{c.manager_name} ({c.manager_id})",
                                 f"{c.discussed} discussed, {c.skipped} skipped of {c.items}")))
    return rows


class ConferencesTable(KeyedTable):
    BINDINGS = [Binding("enter", "select_cursor", "Open", id="conferences_open")]


class ConferenceListScreen(BackScreen):
    SCREEN_NAME = "Conferences"
    HELP_TEXT = (
        "Every caseload conference held with one adviser, newest first: the date, whether it is finished "
        "(and when) or still in progress, who ran it, and how many customers were discussed and skipped "
        "of those on its agenda. Enter opens the conference (read only when it is finished, or for the "
        "adviser); v shows its one-page summary; c starts today's conference or resumes the unfinished "
        "one (the adviser's team manager or a team leader of their office only). Escape goes back."
    )
    BINDINGS = [
        Binding("v", "summary", "Summary", id="conferences_summary"),
        Binding("c", "conference", "Start or resume", id="conferences_start"),
    ]

    def __init__(self, adviser_id: str, adviser_name: str = "") -> None:
        super().__init__()
        self.adviser_id = adviser_id
        self.adviser_name = adviser_name
        self.lines: list[ConferenceLine] = []
        self.loaded = False

    def compose_body(self) -> ComposeResult:
        yield Static("Loading…", id="conferences-note", markup=False)
        yield ConferencesTable(id="conferences")

    def on_mount(self) -> None:
        table = self.query_one(ConferencesTable)
        for key, label in (("on", "Date"), ("status", "Status"), ("by", "Run by"), ("items", "Customers")):
            table.add_column(label, key=key)
        table.focus()
        self.set_title(self._title())
        self.reload()

    def _title(self) -> str:
        identity = self.caseload.identity
        if identity is not None and identity.actor.id == self.adviser_id:
            return "Your caseload conferences"
        return f"Caseload conferences · {self.adviser_name or self.adviser_id} ({self.adviser_id})"

    def on_screen_resume(self) -> None:
        if self.loaded:
            self.reload()

    def reload(self) -> None:
        identity = self.caseload.identity
        if identity is not None:
            self.load(identity.actor)

    @work(thread=True, exclusive=True, group="conference-list")
    def load(self, actor: Actor) -> None:
        self.read_and_post(lambda: read_conferences(self.caseload.engine, actor, self.adviser_id))

    def on_reads_failed(self, message: BackScreen.Failed) -> None:
        self.query_one("#conferences-note", Static).update(f"⚠ The conferences could not be read: {message.text}")

    def on_reads_loaded(self, message: BackScreen.Loaded) -> None:
        self.lines = message.data
        self.loaded = True
        if self.lines:
            self.adviser_name = self.lines[0].adviser_name
            self.set_title(self._title())
        self.query_one(ConferencesTable).set_rows(conference_rows(self.lines))
        self.note("No conferences yet." if not self.lines else
                  f"{len(self.lines)} conference{'s' if len(self.lines) != 1 else ''}. Enter opens one; "
                  "v shows its summary.")

    def note(self, text: str, problem: bool = False) -> None:
        self.query_one("#conferences-note", Static).update(f"⚠ {text}" if problem else text)

    def _selected(self) -> ConferenceLine | None:
        key = self.query_one(ConferencesTable).cursor_key
        return next((c for c in self.lines if str(c.id) == key), None)

    @on(DataTable.RowSelected, "#conferences")
    def _open(self, event: DataTable.RowSelected) -> None:
        from caseload.screens.conference import ConferenceScreen

        if event.row_key.value:
            self.app.push_screen(ConferenceScreen(int(event.row_key.value)))

    def action_summary(self) -> None:
        line = self._selected()
        if line is None:
            self.note("There is no conference to summarise yet.", problem=True)
            return
        self.app.push_screen(SummaryScreen(line.id))

    def action_conference(self) -> None:
        identity = self.caseload.identity
        if identity is None:
            return
        if identity.actor.role is Role.ADVISER:
            self.note("Only your team manager or a team leader of your office starts or records your caseload "
                      "conference; you can read yours here.", problem=True)
            return
        unfinished = next((c for c in self.lines if c.status != "finished"), None)
        start_conference(self.app, self.adviser_id, self.adviser_name,
                         unfinished.held_on if unfinished else None)


def start_conference(app, adviser_id: str, adviser_name: str, unfinished_on: dt.date | None) -> None:  # noqa: ANN001
    """Ask the date (today by the app's clock, or the unfinished conference's), then open the conference."""
    from caseload.screens.conference import ConferenceScreen
    from caseload.screens.conference_dialogs import StartConferenceDialog

    if unfinished_on is not None:
        on = unfinished_on
        note = (f"{adviser_name}'s conference of {on.isoformat()} is not finished: saving resumes it where it "
                "was left.")
    else:
        on = app.clock.today()
        note = "Today, by the app's clock. A conference is recorded on the day it is held (or later), not before."

    def opened(conference_id: int | None) -> None:
        if conference_id is not None:
            app.push_screen(ConferenceScreen(conference_id))

    app.push_screen(StartConferenceDialog(adviser_id, adviser_name, on, note), opened)
