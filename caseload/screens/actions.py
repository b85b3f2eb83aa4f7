"""My actions: the user's open actions across every customer they may see, by due date, overdue first."""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from caseload.screens.base import UNDO_BINDING, BackScreen, complete
from caseload.store.access import Actor
from caseload.store.customer import MyAction
from caseload.widgets.merge_table import MergeTable


def read_actions(engine, actor: Actor, today: dt.date) -> list[MyAction]:  # noqa: ANN001
    from caseload.store.customer import my_actions

    with engine.connect() as conn:
        return my_actions(conn, actor, today)


def action_rows(actions: list[MyAction], today: dt.date) -> list[tuple[str, tuple]]:
    rows = []
    for a in actions:
        days = (a.due - today).days
        if a.overdue:
            state = Text(f"overdue {-days}d", style="bold")
        elif days == 0:
            state = Text("due today")
        else:
            state = Text(f"in {days}d")
        rows.append((f"action:{a.action_id}", (Text(a.due.isoformat()), state, a.customer, a.claim_id,
                                                a.description)))
    return rows


class ActionsTable(MergeTable):
    BINDINGS = [Binding("enter", "select_cursor", "Open record", id="actions_open")]


class MyActionsScreen(BackScreen):
    SCREEN_NAME = "My actions"
    HELP_TEXT = (
        "The open actions you own, across every customer you may see, by due date: overdue ones first, "
        "marked \"overdue\" with how many days late, then those due today and later (as at today's date). "
        "Enter opens the customer's record (escape comes back here); d marks the highlighted action done, "
        "which is saved at once and audited. Escape goes back."
    )
    BINDINGS = [Binding("d", "done", "Done", id="actions_done"), UNDO_BINDING]

    def __init__(self) -> None:
        super().__init__()
        self.actions: dict[str, MyAction] = {}
        self.loaded = False
        self._said = ""

    def compose_body(self) -> ComposeResult:
        yield Static("Loading…", id="actions-note", markup=False)
        yield ActionsTable(id="my-actions")

    def on_mount(self) -> None:
        table = self.query_one(ActionsTable)
        for key, label in (("due", "Due"), ("state", "When"), ("customer", "Customer"), ("claim", "Claim"),
                           ("description", "Action")):
            table.add_column(label, key=key)
        identity = self.caseload.identity
        if identity is not None:
            a = identity.actor
            today = self.caseload.clock.today().isoformat()
            self.set_title(f"My actions · {a.name or a.id} ({a.id}) · today {today}")
        self.reload()

    def on_screen_resume(self) -> None:
        if self.loaded:
            self.reload()

    def reload(self) -> None:
        identity = self.caseload.identity
        if identity is not None:
            self.load(identity.actor)

    @work(thread=True, exclusive=True, group="my-actions")
    def load(self, actor: Actor) -> None:
        self.read_and_post(lambda: read_actions(self.caseload.engine, actor, self.caseload.clock.today()))

    def on_reads_loaded(self, message: BackScreen.Loaded) -> None:
        actions: list[MyAction] = message.data
        self.loaded = True
        today = self.caseload.clock.today()
        self.actions = {f"action:{a.action_id}": a for a in actions}
        self.query_one(ActionsTable).merge(action_rows(actions, today))
        overdue = sum(a.overdue for a in actions)
        n = len(actions)
        if n == 0:
            note = "You have no open actions."
        else:
            note = f"{n} open action{'s' if n != 1 else ''}, {overdue} overdue. Enter opens the record; d marks done."
        if self._said:
            note, self._said = f"{self._said} {note}", ""
        self.query_one("#actions-note", Static).update(note)

    def on_reads_failed(self, message: BackScreen.Failed) -> None:
        self.query_one("#actions-note", Static).update(f"⚠ Your actions could not be read: {message.text}")

    @on(DataTable.RowSelected, "#my-actions")
    def _open(self, event: DataTable.RowSelected) -> None:
        from caseload.screens.customer import CustomerScreen

        action = self.actions.get(event.row_key.value or "")
        if action is not None:
            order = list(dict.fromkeys(a.claim_id for a in self.actions.values()))
            self.app.push_screen(CustomerScreen(action.claim_id, order=order))

    def action_done(self) -> None:
        action = self.actions.get(self.query_one(ActionsTable).cursor_key or "")
        if action is None or self.caseload.identity is None:
            self.query_one("#actions-note", Static).update("⚠ Highlight an action first, then press d.")
            return
        self.mark_done(complete(action.action_id, action.version, f"Done: {action.description} ({action.customer})."))

    def marked(self, text: str, problem: bool, done: int | None) -> None:
        self._said = f"⚠ {text}" if problem else text
        self.query_one("#actions-note", Static).update(self._said)
        self.reload()

    def undone(self) -> None:
        self.reload()
