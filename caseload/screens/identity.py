"""Who are you? The staff list grouped by team; enter picks, and the app remembers the choice."""

from __future__ import annotations

import datetime as dt

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from caseload.screens.base import FrameScreen
from caseload.session import Identity, load_identity
from caseload.store.access import ADMIN, Role
from caseload.store.staff import StaffRow
from caseload.widgets.find import PickerTable


def read_staff(engine) -> list[StaffRow]:  # noqa: ANN001
    from caseload.store.staff import list_staff

    with engine.connect() as conn:
        # Everyone on this database may say who they are, so the list is not scoped.
        return list_staff(conn, ADMIN)


def resolve_identity(engine, staff_id: str, today: dt.date) -> Identity:  # noqa: ANN001
    with engine.connect() as conn:
        return load_identity(conn, staff_id, today)


STAFF, RESOLVED = "staff", "resolved"  # the screen's two reads


def staff_rows(staff: list[StaffRow]) -> list[tuple[str, tuple[str, str, str, str]]]:
    """(key, (group, name, role, id)) rows; the group is named on its first row only."""
    rows = []
    previous = None
    for s in staff:
        group = s.team or (f"{s.office} (office)" if s.office else "No team")
        label = group if group != previous else ""
        previous = group
        rows.append((f"staff:{s.id}", (label, s.name or s.id, Role(s.role).label, s.id)))
    rows.append((f"staff:{ADMIN.id}", ("Whole database", "Database owner", ADMIN.role.label, ADMIN.id)))
    return rows


class StaffTable(PickerTable):
    BINDINGS = [Binding("enter", "select_cursor", "Choose", id="choose")]


class IdentityScreen(FrameScreen):
    SCREEN_NAME = "Who are you?"
    HELP_TEXT = (
        "The staff on this database, grouped by team, with each one's role. Move to yourself and press "
        "enter: what you see next depends on your role (an adviser sees their own caseload, a team "
        "manager their team, a team leader their office). The choice is remembered for this database, "
        "so next time the app opens as you; switch later from the command palette (ctrl+p). Each switch "
        "is written to the audit. A SQLite file is one person's store: anyone who can open the file reads all "
        "of it (a shared database is PostgreSQL, where your login is who you are)."
    )
    BINDINGS = [Binding("escape", "back", "Back", id="back")]

    def __init__(self, current: str | None = None, required: bool = False) -> None:
        super().__init__()
        self.current = current
        self.required = required

    def compose_body(self) -> ComposeResult:
        yield Static("Loading the staff list…", id="identity-note", markup=False)
        yield StaffTable(id="staff")

    def on_mount(self) -> None:
        table = self.query_one(StaffTable)
        table.add_column("Team", key="team")
        table.add_column("Name", key="name")
        table.add_column("Role", key="role")
        table.add_column("Staff ID", key="id")
        self.load()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # On first start there is nothing to go back to: someone has to be chosen (or ctrl+q).
        if action == "back" and self.required:
            return False
        return True

    def action_back(self) -> None:
        self.dismiss(None)

    @work(thread=True, exclusive=True, group="staff")
    def load(self) -> None:
        self.read_and_post(lambda: read_staff(self.caseload.engine), tag=STAFF)

    def on_reads_loaded(self, message: FrameScreen.Loaded) -> None:
        if message.tag == RESOLVED:
            self.dismiss(message.data)
            return
        staff: list[StaffRow] = message.data
        table = self.query_one(StaffTable)
        rows = staff_rows(staff)
        table.set_rows(rows)
        keys = [k for k, _ in rows]
        if self.current and f"staff:{self.current}" in keys:
            table.move_cursor(row=keys.index(f"staff:{self.current}"), animate=False)
        note = "Choose yourself and press enter; the choice is remembered for this database."
        if not staff:
            note = "No staff yet (advisers arrive with claims extracts): continue as the database owner."
        self.query_one("#identity-note", Static).update(note)

    @on(DataTable.RowSelected, "#staff")
    def choose(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value or ""
        if key.startswith("staff:"):
            self.resolve(key.split(":", 1)[1])

    @work(thread=True, exclusive=True, group="resolve")
    def resolve(self, staff_id: str) -> None:
        self.read_and_post(lambda: resolve_identity(self.caseload.engine, staff_id, self.caseload.clock.today()),
                           tag=RESOLVED)

    def on_reads_failed(self, message: FrameScreen.Failed) -> None:
        what = "The staff list could not be read: " if message.tag == STAFF else ""
        self.query_one("#identity-note", Static).update(f"⚠ {what}{message.text}")
