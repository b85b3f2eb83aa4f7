"""One adviser's open claims, oldest first, with weeks on benefit and the next milestone."""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from textual import work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Static
from textual.worker import get_current_worker

from caseload.screens.base import BackScreen
from caseload.store.access import Actor
from caseload.store.errors import StoreError
from caseload.store.info import AdviserSummary, OpenClaimRow
from caseload.widgets.table import KeyedTable

# The built-in table stays quick well past this; a caseload this long is itself worth a word.
ROW_CAP = 500


def read_claims(engine, actor: Actor, adviser_id: str, as_at: dt.date) -> list[OpenClaimRow]:  # noqa: ANN001
    from caseload.store.info import open_claims

    with engine.connect() as conn:
        # One more than the cap, to know whether the cap cut the list short.
        return open_claims(conn, actor, adviser_id, as_at, limit=ROW_CAP + 1)


def count_text(rows: list[OpenClaimRow], adviser: AdviserSummary) -> str:
    if len(rows) > ROW_CAP:
        total = max(adviser.caseload, len(rows))
        return (f"Showing the first {ROW_CAP} of {total:,} open claims (oldest first): "
                "the list stops there to stay quick.")
    if not rows:
        return "No open claims."
    return (f"{len(rows)} open claim{'s' if len(rows) != 1 else ''}, oldest first; "
            f"{adviser.approaching} approaching a milestone.")


class AdviserScreen(BackScreen):
    SCREEN_NAME = "Open claims"
    HELP_TEXT = (
        "One adviser's open claims as at the latest import's date, oldest first: the claim, the "
        "customer, the benefit, when the claim started, whole weeks on benefit, and the next 13, 26 "
        "or 52-week milestone with the days left until it ('beyond 52' when every milestone has "
        f"passed). At most {ROW_CAP} claims are listed, and the screen says so when there are more.\n\n"
        "Escape goes back to the teams and advisers."
    )

    class Loaded(Message):
        def __init__(self, rows: list[OpenClaimRow]) -> None:
            super().__init__()
            self.rows = rows

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, adviser: AdviserSummary, as_at: dt.date) -> None:
        super().__init__()
        self.adviser = adviser
        self.as_at = as_at

    def compose_body(self) -> ComposeResult:
        yield Static("Loading…", id="claims-count", markup=False)
        yield KeyedTable(id="claims")

    def on_mount(self) -> None:
        a = self.adviser
        self.set_title(f"Open claims · {a.name} ({a.id}) · {a.team} · as at {self.as_at.isoformat()}")
        table = self.query_one(KeyedTable)
        table.add_column("Claim", key="claim")
        table.add_column("Customer", key="customer")
        table.add_column("Benefit", key="benefit")
        table.add_column("Started", key="start")
        table.add_column("Weeks", key="weeks")
        table.add_column("Next milestone", key="milestone")
        identity = self.caseload.identity
        if identity is not None:
            self.load(identity.actor)

    @work(thread=True, exclusive=True, group="claims")
    def load(self, actor: Actor) -> None:
        try:
            rows = read_claims(self.caseload.engine, actor, self.adviser.id, self.as_at)
        except StoreError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        except SQLAlchemyError as exc:
            self.post_message(self.Failed(f"The database could not be read ({exc.__class__.__name__}); "
                                          "press escape and try again."))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(self.Loaded(rows))

    def on_adviser_screen_failed(self, message: Failed) -> None:
        self.query_one("#claims-count", Static).update(f"⚠ {message.text}")

    def on_adviser_screen_loaded(self, message: Loaded) -> None:
        rows = message.rows
        self.query_one("#claims-count", Static).update(count_text(rows, self.adviser))
        self.query_one(KeyedTable).set_rows([
            (r.claim_id, (r.claim_id, r.customer, r.benefit, r.claim_start.isoformat(),
                          Text(str(r.weeks), justify="right"), r.next_milestone))
            for r in rows[:ROW_CAP]
        ])
