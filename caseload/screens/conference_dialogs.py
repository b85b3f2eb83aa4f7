"""The caseload conference's small dialogs: the date to start (or resume) on, a reason to skip a customer,
who attended (to finish), and the chooser that adds a customer from the adviser's caseload.

They follow the edit dialogs' pattern (screens/dialogs.py): check what can be checked here, then write
at once in a thread worker through store.conference; a refusal is shown in the dialog with everything
typed kept. Dates come from the app's clock only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any

from rich.text import Text
from sqlalchemy import Connection
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Static

from caseload.screens.dialogs import EditDialog, parse_date, required
from caseload.screens.reading import Reads
from caseload.store.access import Actor
from caseload.store.caseload import CaseloadRow
from caseload.widgets.rag import rag_badge
from caseload.widgets.find import PickerTable

CHOOSER_LIMIT = 200
FILTER_DELAY = 0.15


def _label(text: str) -> Label:
    return Label(text, classes="dialog-label", markup=False)


class StartConferenceDialog(EditDialog):
    """The conference date; saving starts the conference (or finds the one already started that day)."""

    DIALOG_TITLE = "Start or resume a caseload conference"

    def __init__(self, adviser_id: str, adviser_name: str, on: dt.date, note: str = "") -> None:
        super().__init__(adviser_id, f"With {adviser_name} ({adviser_id})")
        self.adviser_id = adviser_id
        self.on = on
        self.note = note
        self.conference_id: int | None = None

    def compose_fields(self) -> ComposeResult:
        yield _label("Conference date (YYYY-MM-DD)")
        yield Input(self.on.isoformat(), id="conference-date", compact=True)
        if self.note:
            yield _label(self.note)

    def values(self) -> dict[str, Any]:
        return {"on": parse_date(self.query_one("#conference-date", Input).value, "The conference date")}

    def write(self, conn: Connection, clock, actor: Actor, values: dict[str, Any]) -> None:  # noqa: ANN001
        from caseload.store import settings
        from caseload.store.conference import start_or_resume

        window = settings.load(conn).approaching_days
        self.conference_id = start_or_resume(conn, clock, actor, self.adviser_id, values["on"], window)

    def saved(self) -> None:
        self.dismiss(self.conference_id)  # type: ignore[arg-type]  (the conference, not True)

    def action_cancel(self) -> None:
        self.dismiss(None)  # type: ignore[arg-type]  (no conference: not False, which is not an id)


class SkipDialog(EditDialog):
    DIALOG_TITLE = "Skip this customer"

    def __init__(self, item_id: int, version: int, about: str) -> None:
        super().__init__(str(item_id), about)
        self.item_id = item_id
        self.version = version

    def compose_fields(self) -> ComposeResult:
        yield _label("The reason is kept on the conference's record and in its summary.")
        yield _label("Reason for skipping (required)")
        yield Input(id="skip-reason", placeholder="Why not today?", compact=True)

    def values(self) -> dict[str, Any]:
        return {"reason": required(self.query_one("#skip-reason", Input).value, "A reason for skipping")}

    def write(self, conn: Connection, clock, actor: Actor, values: dict[str, Any]) -> None:  # noqa: ANN001
        from caseload.store.conference import skip_item

        skip_item(conn, clock, actor, self.item_id, self.version, values["reason"])


class FinishDialog(EditDialog):
    """Who attended; when customers are still pending, a reason skips them all (the store asks for one)."""

    DIALOG_TITLE = "Finish the conference"

    def __init__(self, conference_id: int, about: str, attendees: str, pending: int) -> None:
        super().__init__(str(conference_id), about)
        self.conference_id = conference_id
        self.attendees = attendees
        self.pending = pending

    def compose_fields(self) -> ComposeResult:
        yield _label("Who attended (names, separated by commas)")
        yield Input(self.attendees, id="finish-attendees", compact=True)
        if self.pending:
            who = f"{self.pending} customer{'s are' if self.pending != 1 else ' is'}"
            yield _label(f"{who} not yet discussed or skipped. To finish now they are all skipped with this "
                         "reason (required); or press escape and deal with them first.")
            yield Input(id="finish-skip-reason", placeholder="e.g. out of time", compact=True)
        yield _label("Finishing records who attended and when; the conference is then a record and is not changed.")

    def values(self) -> dict[str, Any]:
        typed = required(self.query_one("#finish-attendees", Input).value, "Who attended")
        names = [n.strip() for n in typed.split(",") if n.strip()]
        reason = None
        if self.pending:
            reason = required(self.query_one("#finish-skip-reason", Input).value,
                              "A reason for skipping the customers not yet discussed")
        return {"attendees": names, "reason": reason}

    def write(self, conn: Connection, clock, actor: Actor, values: dict[str, Any]) -> None:  # noqa: ANN001
        from caseload.store.conference import finish

        finish(conn, clock, actor, self.conference_id, values["attendees"], values["reason"])


# Adding a customer from the adviser's caseload


class ChooserTable(PickerTable):
    BINDINGS = [Binding("enter", "select_cursor", "Add to the agenda", id="add_customer_choose")]


def read_candidates(engine, actor: Actor, adviser_id: str, on: dt.date, text: str) -> tuple[list[CaseloadRow], int]:  # noqa: ANN001
    """The adviser's open claims on the conference date (as the caseload lists them), filtered by text."""
    from caseload.store import settings
    from caseload.store.caseload import CaseloadQuery, caseload

    with engine.connect() as conn:
        window = settings.load(conn).approaching_days
        page = caseload(conn, actor, on, CaseloadQuery(adviser_id=adviser_id, text=text, sort="customer",
                                                        limit=CHOOSER_LIMIT), window)
    return page.rows, page.total


class AddCustomerChooser(Reads, ModalScreen["str | None"]):
    """The adviser's caseload on the conference date; enter adds the highlighted customer."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="add_customer_cancel")]

    def __init__(self, adviser_id: str, adviser_name: str, on: dt.date, on_agenda: Collection[str]) -> None:
        super().__init__()
        self.adviser_id = adviser_id
        self.adviser_name = adviser_name
        self.on = on
        self.on_agenda = set(on_agenda)
        self._generation = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog-box", classes="chooser"):
            yield Static(f"Add a customer from {self.adviser_name}'s caseload", id="dialog-title", markup=False)
            yield Input(placeholder="filter: name, claim or customer id, NI end", id="add-customer-filter",
                        compact=True)
            yield Static("Loading the caseload…", id="dialog-message", markup=False)
            yield ChooserTable(id="add-customer-table")
            yield Static("type to filter · tab/↓ to the list · enter adds · escape cancels", id="dialog-keys",
                         markup=False)

    def on_mount(self) -> None:
        table = self.query_one(ChooserTable)
        for key, label in (("customer", "Customer"), ("claim", "Claim"), ("rag", "RAG"), ("runway", "Runway"),
                           ("agenda", "Agenda")):
            table.add_column(label, key=key)
        self.query_one("#add-customer-filter", Input).focus()
        self._request("", 0.0)

    @on(Input.Changed, "#add-customer-filter")
    def _typed(self, event: Input.Changed) -> None:
        self._request(event.value.strip(), FILTER_DELAY)

    @on(Input.Submitted, "#add-customer-filter")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one(ChooserTable).focus()

    def _request(self, text: str, delay: float) -> None:
        identity = self.caseload.identity
        if identity is None:
            return
        self._generation += 1
        self._load(self._generation, identity.actor, text, delay)

    @work(thread=True, exclusive=True, group="add-customer")
    def _load(self, generation: int, actor: Actor, text: str, delay: float) -> None:
        import time

        from textual.worker import get_current_worker

        worker = get_current_worker()
        if delay:
            time.sleep(delay)  # the debounce: a newer keystroke cancels this worker while it waits
        if worker.is_cancelled:
            return
        self.read_and_post(lambda: read_candidates(self.caseload.engine, actor, self.adviser_id, self.on, text),
                           tag=generation)

    def on_reads_loaded(self, message: Reads.Loaded) -> None:
        if message.tag != self._generation:
            return
        found, total = message.data
        rows = []
        for r in found:
            here = "on the agenda" if r.claim_id in self.on_agenda else ""
            rows.append((r.claim_id, (Text(r.customer_name or r.customer_id), r.claim_id, rag_badge(r.rag),
                                      r.runway, here)))
        self.query_one(ChooserTable).set_rows(rows)
        more = f" (the first {len(rows)}: filter to find others)" if total > len(rows) else ""
        self.query_one("#dialog-message", Static).update(
            f"{total} open claim{'s' if total != 1 else ''} on {self.on.isoformat()}{more}. "
            "Choose one and press enter.")

    def on_reads_failed(self, message: Reads.Failed) -> None:
        self.query_one("#dialog-message", Static).update(f"⚠ The caseload could not be read: {message.text}")

    @on(DataTable.RowSelected, "#add-customer-table")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        claim_id = event.row_key.value or ""
        if claim_id in self.on_agenda:
            self.query_one("#dialog-message", Static).update(
                f"⚠ Claim {claim_id} is already on the agenda: choose another customer, or escape.")
            return
        self.dismiss(claim_id)

    def action_cancel(self) -> None:
        self.dismiss(None)
