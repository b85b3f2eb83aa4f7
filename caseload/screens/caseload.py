"""The caseload: one row per open claim, most urgent first, with quick filters, sorts and a filter box.

An adviser's home screen is their own caseload; team managers and team leaders open any adviser's
caseload in their scope (from the home screen or "Switch adviser" in the palette). Filtering, sorting
and paging run in SQL (store.caseload); the table is keyed by claim id and changed in place.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from functools import partial

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Input, Static
from textual.worker import get_current_worker

from caseload.screens.base import UNDO_BINDING, FrameScreen
from caseload.screens.reading import Reads
from caseload.session import DataDate, Identity
from caseload.store.access import Actor, Role
from caseload.store.caseload import FLAG_WORDS, CaseloadPage, CaseloadQuery, CaseloadRow, CaseloadSummary
from caseload.store.info import ImportRow
from caseload.widgets.merge_table import MergeTable
from caseload.widgets.rag import rag_badge
from caseload.widgets.table import is_narrow

PAGE = 200
FILTER_DELAY = 0.05  # seconds of quiet typing before the filter runs, while an earlier one is still reading
LOAD_MORE_WITHIN = 5  # rows from the bottom at which the next page is fetched


# (column key, label, sort it orders by or None); the sort digit is shown in the header.
COLUMNS: tuple[tuple[str, str, str | None], ...] = (
    ("customer", "Customer", "customer"),
    ("rag", "RAG", "rag"),
    ("runway", "Runway", "milestone"),
    ("weeks", "Wks", "weeks"),
    ("action", "Next action (due)", "action"),
    ("flags", "Flags", None),
    ("contact", "Contact", "contact"),
    ("benefit", "Ben", "benefit"),
    ("start", "Started", "start"),
    ("conference", "Conf · off-flow", "conference"),
)
SORT_DIGITS = {"0": "urgency", "1": "customer", "2": "rag", "3": "milestone", "4": "weeks", "5": "action",
               "6": "contact", "7": "benefit", "8": "start", "9": "conference"}
SORT_LABELS = {"urgency": "urgency", "customer": "customer", "rag": "RAG", "milestone": "runway",
               "weeks": "weeks", "action": "next action", "contact": "last contact", "benefit": "benefit",
               "start": "claim start", "conference": "conference"}
QUICK_KEYS = {"a": "approaching", "r": "red", "v": "review due", "b": "beyond 52", "x": "all", "asterisk": "all"}
ACTION_WIDTH = 26
# Below NARROW_BELOW columns the customer and next-action cells take their narrow form (the name to 16 characters
# and the NI number's visible end; the due date with "!" for overdue and the text to 13), so at 80 columns the
# next action is whole beside the customer, RAG, runway and weeks, whichever of them is sorted on. Flags,
# derived from those four, come after it and go off the edge first.
NARROW_NAME_WIDTH = 16
NARROW_ACTION_WIDTH = 13
NONE = "—"


@dataclass(frozen=True)
class Target:
    """Whose caseload: one adviser's, or (adviser_id None) every open claim the user may see."""

    adviser_id: str | None
    name: str = ""
    covering: bool = False  # a colleague's caseload the user covers (store.reassign)

    def describe(self, actor: Actor | None) -> str:
        if self.adviser_id is None:
            return "Every open claim you can see"
        if self.covering:
            return f"Covering · {self.name or self.adviser_id} ({self.adviser_id})"
        if actor is not None and actor.id == self.adviser_id:
            return f"Your caseload · {actor.name or actor.id}"
        return f"Caseload · {self.name or self.adviser_id} ({self.adviser_id})"


@dataclass(frozen=True)
class PageResult:
    latest: ImportRow | None
    as_at: dt.date
    page: CaseloadPage


def read_page(engine, actor: Actor, query: CaseloadQuery, today: dt.date) -> PageResult:  # noqa: ANN001
    from caseload.store import settings
    from caseload.store.caseload import caseload
    from caseload.store.info import latest_import

    with engine.connect() as conn:
        latest = latest_import(conn)
        as_at = latest.as_at if latest else today
        window = settings.load(conn).approaching_days
        return PageResult(latest, as_at, caseload(conn, actor, as_at, query, window))


def read_covers(engine, actor: Actor, today: dt.date) -> list:  # noqa: ANN001
    """The colleagues' caseloads the actor covers today."""
    from caseload.store.reassign import covers_for

    with engine.connect() as conn:
        return covers_for(conn, actor.id, today)


def next_action_done(claim_id: str, customer: str, conn, clock, actor: Actor) -> tuple[int, str]:  # noqa: ANN001
    """Mark done the claim's next action (the one the Next action column shows); its id and what to say."""
    from caseload.store.records import complete_next_action_id

    action_id, done = complete_next_action_id(conn, clock, actor, claim_id)
    return action_id, f"Done: {done} ({customer})."


def flag_words(flags: tuple[str, ...]) -> str:
    return " ".join(FLAG_WORDS[f] for f in flags if f in FLAG_WORDS)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def action_text(row: CaseloadRow, today: dt.date, narrow: bool = False) -> str:
    """The due date first (and "overdue" in words, or "!" in the narrow form), so a narrow column still shows
    what matters.

    Actions are the team's own records, so overdue is against today (as in My actions), not the
    extract's date."""
    if not row.next_action:
        return NONE
    due = row.next_action_due
    overdue = due is not None and due < today
    if narrow:
        when = f"{due.isoformat()}{'!' if overdue else ''} " if due else ""
        return f"{when}{_short(row.next_action, NARROW_ACTION_WIDTH)}"
    when = f"{due.isoformat()}{' overdue' if overdue else ''} · " if due else ""
    return f"{when}{_short(row.next_action, ACTION_WIDTH)}"


def row_cells(row: CaseloadRow, today: dt.date, narrow: bool = False) -> tuple:
    """The cells of one claim's row, in COLUMNS' order; the first is a fresh Text (the table keeps rows' places
    by it). Narrow, the customer shows the NI number's visible end only and the next action its short form."""
    name = row.customer_name or row.customer_id
    customer = Text(_short(name, NARROW_NAME_WIDTH) if narrow else name)
    if row.nino:
        customer.append(f" {row.nino.lstrip('*') if narrow else row.nino}", style="dim")
    conference = f"{row.last_conference.isoformat() if row.last_conference else NONE} · " \
                 f"{row.expected_offflow.isoformat() if row.expected_offflow else NONE}"
    return (
        customer,
        rag_badge(row.rag),
        row.runway,
        Text(str(row.weeks), justify="right"),
        action_text(row, today, narrow),
        flag_words(row.flags),
        row.last_contact.isoformat() if row.last_contact else NONE,
        row.benefit,
        row.claim_start.isoformat(),
        conference,
    )


def summary_text(s: CaseloadSummary) -> str:
    a = s.approaching
    return (f"{s.size:,} open · R {s.red} A {s.amber} G {s.green} unrated {s.unrated} · "
            f"approaching 13w {a.get(13, 0)} 26w {a.get(26, 0)} 52w {a.get(52, 0)} · beyond 52: {s.beyond_52}")


def showing_text(quick: str, shown: int, total: int, size: int) -> str:
    if total == 0:
        return f"showing: {quick} · none of {size:,}"
    more = f" · {shown:,} loaded, more as you move down" if shown < total else ""
    return f"showing: {quick} · {total:,} of {size:,}{more}"


def column_label(label: str, sort: str | None, current: str, descending: bool) -> Text:
    digit = next((d for d, s in SORT_DIGITS.items() if s == sort), None)
    text = Text()
    if digit is not None:
        text.append(digit, style="dim")
        text.append(" ")
    text.append(label)
    if sort is not None and sort == current:
        text.append(" ▼" if descending else " ▲")
    return text


class CaseloadTable(MergeTable):
    BINDINGS = [Binding("enter", "select_cursor", "Open record", id="open_record")]


def _sort_binding(digit: str, sort: str) -> Binding:
    return Binding(digit, f"sort('{sort}')", f"Sort by {SORT_LABELS[sort]} (again: reverse)", show=False,
                   id=f"sort_{sort}")


class CaseloadScreen(FrameScreen):
    SCREEN_NAME = "Caseload"
    HELP_TEXT = (
        "One row per open claim, as at the latest import's date, most urgent first (the nearest "
        "milestone, then those whose RAG review is due). Columns: the customer and the last 3 "
        "characters of their NI number; the RAG rating (R Red, A Amber, G Green; – not rated yet); "
        "the runway to the next milestone (13w in 9d: 13 weeks in 9 days; 52w+: past every milestone); "
        "whole weeks on benefit; flags; the next open action and its due date; the last contact; the "
        "benefit; the claim's start; the last conference and expected off-flow date (— until there is one).\n\n"
        "Flags: appr = approaching a milestone (within the approaching window, 28 days by default); "
        "passed = just passed a milestone with no review since; review = RAG review due (never rated, "
        "the review date has come, or a milestone has passed since the rating); red! = Red with no plan "
        "update for over 62 days; 52+ = a year or more on benefit; churn = a re-claim within 91 days "
        "of an earlier claim ending.\n\n"
        "The line above the table counts the whole caseload: open claims, RAG mix, how many approach "
        "each milestone, and how many are beyond 52 weeks. The filter shows which rows are listed.\n\n"
        "Keys: enter opens the customer record (escape comes back, and the row shows your edits). "
        "/ filters as you type by name, claim id, customer id, the end of an NI number or a flag word; "
        "escape clears the filter. Quick filters: a approaching, r red, v review due, b beyond 52, "
        "x or * all. d marks the highlighted customer's next action done. Sort: 0 most urgent, 1-9 "
        "the column with that digit in its heading; the same key again reverses. m lists your open "
        "actions; f finds a customer by name, id or NI ending (also in the palette, ctrl+p). "
        "Long lists load 200 rows at a time as you move down.\n\n"
        "While you cover a colleague (arranged by your team manager, between two dates), w switches between "
        "your caseload and theirs; their customers' records open and take notes and contacts as yours do."
    )
    BINDINGS = [
        Binding("escape", "escape", "Back", id="caseload_back"),
        Binding("slash", "focus_filter", "Filter", id="caseload_filter"),
        Binding("a", "quick('approaching')", "Approaching", id="quick_approaching"),
        Binding("r", "quick('red')", "Red", id="quick_red"),
        Binding("v", "quick('review due')", "Review due", id="quick_review"),
        Binding("b", "quick('beyond 52')", "Beyond 52", id="quick_beyond"),
        Binding("x", "quick('all')", "All", id="quick_all"),
        Binding("asterisk", "quick('all')", "All", show=False, id="quick_all_asterisk"),
        Binding("d", "next_action_done", "Action done", id="caseload_action_done"),
        UNDO_BINDING,
        Binding("m", "my_actions", "My actions", id="my_actions"),
        Binding("f", "find_customer", "Find", id="find_customer"),
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="caseload_refresh"),
        Binding("w", "switch_cover", "Mine/covering", id="caseload_cover"),
        *[_sort_binding(d, s) for d, s in SORT_DIGITS.items()],
    ]

    class Loaded(Message):
        """A page of rows, with the query it answers (read_and_post's `loaded=`)."""

        def __init__(self, generation: int, mode: str, query: CaseloadQuery, result: PageResult) -> None:
            super().__init__()
            self.generation = generation
            self.mode = mode  # "replace" (a new query or a refresh) or "append" (the next page)
            self.query = query
            self.result = result

    def __init__(self, target: Target | None = None, *, home: bool = False) -> None:
        super().__init__()
        self.home = home
        self.target = target or Target(None)
        self.text = ""
        self.quick = "all"
        self.sort = "urgency"
        self.descending = False
        self.rows: list[CaseloadRow] = []
        self.total = 0
        self.as_at: dt.date | None = None
        self.loaded = False
        self._generation = 0
        self._answered = 0  # the generation whose rows (or failure) were last shown
        self._loading_more = False
        self._actor: Actor | None = None
        self.covers: list = []  # the colleagues' caseloads the user covers today (w switches)
        self._narrow_shown: bool | None = None  # the cells' form the table shows (row_cells' narrow)

    # Layout

    def compose_body(self) -> ComposeResult:
        yield Static("Loading…", id="caseload-summary", markup=False)
        with Horizontal(id="caseload-filterbar"):
            yield Input(placeholder="/ filter: name, claim or customer id, NI end, flag", id="caseload-filter",
                        compact=True)
            yield Static("", id="caseload-showing", markup=False)
        yield CaseloadTable(id="caseload")

    def on_mount(self) -> None:
        table = self.query_one(CaseloadTable)
        for key, label, sort in COLUMNS:
            table.add_column(column_label(label, sort, self.sort, self.descending), key=key)
        table.focus()
        if self.home:
            # An adviser's home follows whoever is using the app.
            self.watch(self.app, "identity", self._identity_changed)
        else:
            self._identity_changed(self.caseload.identity)

    def _identity_changed(self, identity: Identity | None) -> None:
        if identity is None or (self.home and not adviser_home(identity)):
            return  # the app replaces an adviser's home when someone else takes over
        self._actor = identity.actor
        if self.home:
            self.target = Target(identity.actor.id, identity.actor.name)
            self.covers = []
            self._read_covers(identity.actor)
        self._show_title()
        self.request()

    @work(thread=True, exclusive=True, group="caseload-covers")
    def _read_covers(self, actor: Actor) -> None:
        # Tagged with the actor: if it fails no switch is offered (on_reads_failed answers generations only),
        # and the caseload itself says what is wrong.
        self.read_and_post(lambda: read_covers(self.caseload.engine, actor, self.caseload.clock.today()), tag=actor)

    def on_reads_loaded(self, message: Reads.Loaded) -> None:
        if message.tag == self._actor:
            self.covers = message.data
            self.refresh_bindings()

    def action_switch_cover(self) -> None:
        """Mine, then each caseload covered, then mine again."""
        if self._actor is None or not self.covers:
            return
        targets = [Target(self._actor.id, self._actor.name)] + [
            Target(c.adviser_id, c.adviser_name, covering=True) for c in self.covers]
        now = next((i for i, t in enumerate(targets) if t.adviser_id == self.target.adviser_id), 0)
        self.target = targets[(now + 1) % len(targets)]
        self._show_title()
        self.request()

    def on_screen_resume(self) -> None:
        # Back from a customer record (or a dialog): show what changed without clearing the table.
        if self.loaded:
            self.request(refresh=True)

    # Keys

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "escape" and self.home and self.focused is not self._filter:
            return False
        if action == "switch_cover":
            return bool(self.covers)
        return True

    @property
    def _filter(self) -> Input:
        return self.query_one("#caseload-filter", Input)

    @property
    def table(self) -> CaseloadTable:
        return self.query_one(CaseloadTable)

    def action_escape(self) -> None:
        if self.focused is self._filter:
            self._filter.value = ""
            self.table.focus()
            if self.text:
                self.text = ""
                self.request()
            return
        if not self.home:
            self.dismiss()

    def action_focus_filter(self) -> None:
        self._filter.focus()

    def action_quick(self, quick: str) -> None:
        if quick != self.quick:
            self.quick = quick
            self.request()

    def action_sort(self, sort: str) -> None:
        if sort == self.sort:
            self.descending = not self.descending
        else:
            self.sort, self.descending = sort, False
        table = self.table
        for key, label, s in COLUMNS:
            table.columns[key].label = column_label(label, s, self.sort, self.descending)
        table.refresh()
        self._show_title()
        self.request()

    def action_refresh(self) -> None:
        self.request(refresh=True)
        self.caseload.load_data_date()

    def action_next_action_done(self) -> None:
        claim_id = self.table.cursor_key
        row = next((r for r in self.rows if r.claim_id == claim_id), None)
        if row is None or self._actor is None:
            return
        if not row.next_action:
            self.notify(f"{row.customer_name} has no open action: open the record (enter) and press t to add one.")
            return
        self.mark_done(partial(next_action_done, row.claim_id, row.customer_name), self._actor)

    def marked(self, text: str, problem: bool, done: int | None) -> None:
        if done is None:
            self.notify(text, severity="warning" if problem else "information")
        self.request(refresh=True)

    def undone(self) -> None:
        self.request(refresh=True)

    def action_my_actions(self) -> None:
        from caseload.screens.actions import MyActionsScreen

        self.app.push_screen(MyActionsScreen())

    def action_find_customer(self) -> None:
        from caseload.screens.customer import open_find_customer

        open_find_customer(self.app)

    @on(Input.Changed, "#caseload-filter")
    def _typed(self, event: Input.Changed) -> None:
        if event.value.strip() != self.text:
            self.text = event.value.strip()
            # The first keystroke reads at once; while a read is under way, typing waits for a pause.
            self.request(delay=FILTER_DELAY if self._answered != self._generation else 0.0)

    @on(Input.Submitted, "#caseload-filter")
    def _submitted(self, event: Input.Submitted) -> None:
        self.text = event.value.strip()
        self.request()
        self.table.focus()

    @on(DataTable.RowSelected, "#caseload")
    def _open(self, event: DataTable.RowSelected) -> None:
        from caseload.screens.customer import CustomerScreen

        claim_id = event.row_key.value
        if claim_id:
            self.app.push_screen(CustomerScreen(claim_id, order=self.table.row_keys))

    @on(DataTable.RowHighlighted, "#caseload")
    def _near_end(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= self.table.row_count - LOAD_MORE_WITHIN:
            self.load_more()

    @on(DataTable.HeaderSelected, "#caseload")
    def _header(self, event: DataTable.HeaderSelected) -> None:
        sort = next((s for key, _, s in COLUMNS if key == event.column_key.value), None)
        if sort is not None:
            self.action_sort(sort)

    # Reading

    def _query(self, offset: int = 0, limit: int = PAGE) -> CaseloadQuery:
        return CaseloadQuery(adviser_id=self.target.adviser_id, text=self.text, quick=self.quick, sort=self.sort,
                             descending=self.descending, offset=offset, limit=limit)

    def request(self, *, refresh: bool = False, delay: float = 0.0) -> None:
        """Ask for the first rows of the current query; a refresh asks for as many as are shown."""
        if self._actor is None:
            return
        self._generation += 1
        self._loading_more = False
        limit = max(PAGE, -(-len(self.rows) // PAGE) * PAGE) if refresh else PAGE
        self._read(self._generation, "replace", self._actor, self._query(0, limit), delay)

    def load_more(self) -> None:
        if self._actor is None or self._loading_more or not self.loaded or len(self.rows) >= self.total:
            return
        self._loading_more = True
        self._read_more(self._generation, self._actor, self._query(len(self.rows)))

    def _fetch(self, generation: int, mode: str, actor: Actor, query: CaseloadQuery, delay: float) -> None:
        worker = get_current_worker()
        if delay:
            # The debounce: a newer keystroke cancels this worker while it waits.
            time.sleep(delay)
        if worker.is_cancelled:
            return
        self.read_and_post(lambda: read_page(self.caseload.engine, actor, query, self.caseload.clock.today()),
                           lambda result: self.Loaded(generation, mode, query, result), tag=generation)

    @work(thread=True, exclusive=True, group="caseload-read")
    def _read(self, generation: int, mode: str, actor: Actor, query: CaseloadQuery, delay: float) -> None:
        self._fetch(generation, mode, actor, query, delay)

    @work(thread=True, exclusive=True, group="caseload-more")
    def _read_more(self, generation: int, actor: Actor, query: CaseloadQuery) -> None:
        self._fetch(generation, "append", actor, query, 0.0)

    def on_reads_failed(self, message: Reads.Failed) -> None:
        if message.tag != self._generation:
            return
        self._loading_more = False
        self._answered = self._generation
        self.query_one("#caseload-summary", Static).update(f"⚠ {message.text}")

    def on_caseload_screen_loaded(self, message: Loaded) -> None:
        # An older query's answer (the user has typed on, or changed the sort) is never shown.
        if message.generation != self._generation:
            return
        result = message.result
        self.as_at = result.as_at
        if result.latest is not None:
            self.caseload.data_date = DataDate(result.latest)
        rows = result.page.rows
        table = self.table
        if message.mode == "append":
            self._loading_more = False
            if message.query.offset != len(self.rows):
                return
            self.rows.extend(rows)
            table.append(self._keyed_cells(rows))
        else:
            self._answered = message.generation
            self.rows = list(rows)
            table.merge(self._keyed_cells(rows))
        self._narrow_shown = self.narrow
        self.total = result.page.total
        self.loaded = True
        self.query_one("#caseload-summary", Static).update(summary_text(result.page.summary))
        self.query_one("#caseload-showing", Static).update(
            showing_text(self.quick, len(self.rows), self.total, result.page.summary.size))
        self._show_title()

    @property
    def narrow(self) -> bool:
        return is_narrow(self)

    def _keyed_cells(self, rows) -> list[tuple[str, tuple]]:  # noqa: ANN001
        """The table's rows for these claims, in the form the terminal's width wants."""
        today, narrow = self.caseload.clock.today(), self.narrow
        return [(r.claim_id, row_cells(r, today, narrow)) for r in rows]

    def on_resize(self) -> None:
        # Across NARROW_BELOW the cells take the other form; the rows already read are shown again in it.
        if self.rows and self.narrow != self._narrow_shown:
            self.table.merge(self._keyed_cells(self.rows))
        self._narrow_shown = self.narrow

    def _show_title(self) -> None:
        arrow = "↓" if self.descending else "↑"
        as_at = f" · as at {self.as_at.isoformat()}" if self.as_at else ""
        self.set_title(f"{self.target.describe(self._actor)}{as_at} · sorted by {SORT_LABELS[self.sort]} {arrow}")


def adviser_home(identity: Identity | None) -> bool:
    return identity is not None and identity.actor.role is Role.ADVISER
