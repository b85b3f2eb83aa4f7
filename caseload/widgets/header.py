"""The frame's top line: who you are, your office, and how old the data is."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

if TYPE_CHECKING:
    from caseload.session import DataDate, Identity

STALE_AFTER_DAYS = 7


def identity_text(identity: Identity | None) -> str:
    if identity is None:
        return "No one chosen yet"
    a = identity.actor
    who = a.name if a.is_admin else f"{a.name or a.id} ({a.id})"
    return " · ".join(part for part in (who, a.role.label, identity.office) if part)


def data_age_text(data: DataDate | None, today: dt.date) -> tuple[str, bool]:
    """The as-at text and whether it is stale; a stale date says so in words, not colour alone."""
    if data is None:
        return "reading the data date…", False
    if data.as_at is None:
        return "no data imported yet", False
    days = (today - data.as_at).days
    as_at = f"as at {data.as_at.isoformat()}"
    if days > STALE_AFTER_DAYS:
        return f"{as_at} ⚠ data {days} days old", True
    if days < 0:
        return as_at, False
    if days == 0:
        return f"{as_at} (today)", False
    return f"{as_at} ({days} day{'s' if days != 1 else ''} old)", False


class FrameHeader(Horizontal):
    """Follows the app's identity and data date, so every screen shows the same frame."""

    def compose(self) -> ComposeResult:
        yield Static(id="frame-who", markup=False)
        yield Static(id="frame-data", markup=False)

    def on_mount(self) -> None:
        self.watch(self.app, "identity", self._show_identity)
        self.watch(self.app, "data_date", self._show_data_date)

    def _show_identity(self, identity: Identity | None) -> None:
        self.query_one("#frame-who", Static).update(identity_text(identity))

    def _show_data_date(self, data: DataDate | None) -> None:
        text, stale = data_age_text(data, self.app.clock.today())
        label = self.query_one("#frame-data", Static)
        label.update(text)
        label.set_class(stale, "-stale")
