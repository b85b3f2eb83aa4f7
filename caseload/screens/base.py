"""What every caseload screen shares: the frame header, a title line, the footer, and help text."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from caseload.widgets.header import FrameHeader

if TYPE_CHECKING:
    from caseload.app import CaseloadApp


class FrameScreen(Screen):
    """A full screen inside the frame. Subclasses give SCREEN_NAME, HELP_TEXT and compose_body()."""

    SCREEN_NAME: ClassVar[str] = ""
    HELP_TEXT: ClassVar[str] = ""

    @property
    def caseload(self) -> CaseloadApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield FrameHeader(id="frame-header")
        yield Static(self.SCREEN_NAME, id="screen-title", markup=False)
        yield from self.compose_body()
        yield Footer()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def set_title(self, text: str) -> None:
        self.query_one("#screen-title", Static).update(text)


class BackScreen(FrameScreen):
    """A screen pushed on top of another: escape goes back to it."""

    BINDINGS = [Binding("escape", "back", "Back", id="back")]

    def action_back(self) -> None:
        self.dismiss()
