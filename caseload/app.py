"""The caseload App, built by a factory so tests can give it a temporary database and a frozen clock.

Database work runs in thread workers; widgets only ever receive plain objects.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Engine
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Footer, Header, Static

from caseload.clock import Clock
from caseload.store.access import Actor
from caseload.store.errors import StoreError


@dataclass(frozen=True)
class Overview:
    """Everything the home screen shows, read in one worker."""

    actor: Actor
    as_at: dt.date | None
    latest_file: str | None
    teams: list


def load_overview(engine: Engine, actor: Actor, clock: Clock) -> Overview:
    from caseload.store.info import db_info, office_overview

    with engine.connect() as conn:
        info = db_info(conn)
        as_at = info.latest_import.as_at if info.latest_import else None
        teams = office_overview(conn, actor, as_at or clock.today())
    return Overview(actor, as_at, info.latest_import.file_name if info.latest_import else None, teams)


class CaseloadApp(App):
    TITLE = "caseload"
    CSS = """
    #status { height: auto; padding: 0 1; }
    DataTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="quit"),
        Binding("q", "quit", "Quit", show=False, id="quit_q"),
    ]

    def __init__(self, engine: Engine, actor: Actor, clock: Clock):
        super().__init__()
        self.engine = engine
        self.actor = actor
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical():
            yield Static("Loading…", id="status")
            yield DataTable(id="teams", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#teams", DataTable)
        table.add_columns("Team / adviser", "Caseload", "Approaching")
        self.load()

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        try:
            overview = load_overview(self.engine, self.actor, self.clock)
        except StoreError as exc:
            self.call_from_thread(self.query_one("#status", Static).update, str(exc))
            return
        self.call_from_thread(self.show, overview)

    def show(self, o: Overview) -> None:
        who = self.actor.name or self.actor.id
        self.sub_title = f"{who} ({self.actor.role.label})"
        if o.as_at is None:
            status = "No claims imported yet: run caseload import claims PATH --as-at DATE."
        else:
            age = (self.clock.today() - o.as_at).days
            warn = f"  WARNING: data is {age} days old" if age > 7 else ""
            status = f"Data as at {o.as_at.isoformat()} ({o.latest_file}){warn}"
        self.query_one("#status", Static).update(status)
        table = self.query_one("#teams", DataTable)
        table.clear()
        for t in o.teams:
            table.add_row(f"{t.name} ({t.office})", t.caseload, t.approaching, key=f"team:{t.id}")
            for a in t.advisers:
                table.add_row(f"  {a.name}", a.caseload, a.approaching, key=f"adviser:{a.id}")


def create_app(db_url: str | None, as_staff: str | None, clock: Clock) -> CaseloadApp:
    from caseload.store.access import actor_for
    from caseload.store.db import open_database

    engine = open_database(db_url, clock)
    with engine.connect() as conn:
        actor = actor_for(conn, as_staff)
    return CaseloadApp(engine, actor, clock)


def run_app(db_url: str | None, as_staff: str | None, clock: Clock) -> int:
    app = create_app(db_url, as_staff, clock)
    app.run()
    return 0
