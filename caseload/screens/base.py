"""What every caseload screen shares: the frame header, a title line, the footer, and help text."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from caseload.store.errors import StoreError
from caseload.widgets.footer import KeysFooter
from caseload.widgets.header import FrameHeader

if TYPE_CHECKING:
    from caseload.app import CaseloadApp


UNDO_SECONDS = 10.0  # how long `u` takes back a one-key change (an action marked done, a rating)

# The screens that make one-key changes bind it (help lists it there, nowhere else).
UNDO_BINDING = Binding("u", "undo", "Undo", show=False, id="undo")

# What undoes a change: (conn, clock, actor) -> the sentence saying what was undone.
Undo = Callable[[Any, Any, Any], str]

# What marks an action done: (conn, clock, actor) -> (the action's id, the sentence saying so).
Done = Callable[[Any, Any, Any], tuple[int, str]]


class FrameScreen(Screen):
    """A full screen inside the frame. Subclasses give SCREEN_NAME, HELP_TEXT and compose_body()."""

    SCREEN_NAME: ClassVar[str] = ""
    HELP_TEXT: ClassVar[str] = ""

    class Undone(Message):
        def __init__(self, text: str, problem: bool = False) -> None:
            super().__init__()
            self.text = text
            self.problem = problem

    class Marked(Message):
        def __init__(self, text: str, problem: bool = False, done: int | None = None) -> None:
            super().__init__()
            self.text = text
            self.problem = problem  # the store refused (its sentence is the text)
            self.done = done  # the action just marked done, which u can reopen

    _undo: tuple[float, Undo] | None = None

    def mark_done(self, done: Done, actor=None) -> None:  # noqa: ANN001
        """Mark an action done in a thread worker (as `actor`, or whoever is acting); marked() shows what
        came of it, and u undoes it."""
        identity = self.caseload.identity
        actor = actor or (identity.actor if identity is not None else None)
        if actor is not None:
            self._mark_done(actor, done)

    @work(thread=True, exclusive=True, group="mark-done")
    def _mark_done(self, actor, done: Done) -> None:  # noqa: ANN001
        from caseload.store.db import write

        app = self.caseload
        try:
            with write(app.engine) as conn:
                action_id, text = done(conn, app.clock, actor)
        except StoreError as exc:
            self.post_message(self.Marked(str(exc), problem=True))
            return
        self.post_message(self.Marked(text, done=action_id))

    def on_frame_screen_marked(self, message: Marked) -> None:
        if message.done is not None:
            self.offer_undo(message.text, reopen(message.done))
        self.marked(message.text, message.problem, message.done)

    def marked(self, text: str, problem: bool, done: int | None) -> None:
        """Say that an action was marked done, or why not (the store's sentence), and reload."""

    def offer_undo(self, said: str, undo: Undo) -> None:
        """A change made with one key: say so, and let `u` take it back for UNDO_SECONDS."""
        self._undo = (time.monotonic() + UNDO_SECONDS, undo)
        self.notify(f"{said} Press u within {UNDO_SECONDS:.0f} seconds to undo.", timeout=UNDO_SECONDS)

    def action_undo(self) -> None:
        offered, self._undo = self._undo, None
        if offered is None or time.monotonic() > offered[0]:
            self.notify(f"Nothing to undo: u takes back an action marked done or a rating, for "
                        f"{UNDO_SECONDS:.0f} seconds after it was made.", severity="warning")
            return
        identity = self.caseload.identity
        if identity is not None:
            self._run_undo(identity.actor, offered[1])

    @work(thread=True, exclusive=True, group="undo")
    def _run_undo(self, actor, undo: Undo) -> None:  # noqa: ANN001
        from caseload.store.db import write

        app = self.caseload
        try:
            with write(app.engine) as conn:
                text = undo(conn, app.clock, actor)
        except StoreError as exc:
            self.post_message(self.Undone(str(exc), problem=True))
            return
        self.post_message(self.Undone(text))

    def on_frame_screen_undone(self, message: Undone) -> None:
        self.notify(message.text, severity="warning" if message.problem else "information")
        self.undone()

    def undone(self) -> None:
        """Show the record as it is after an undo (subclasses reload)."""

    def export(self, write: Callable[[], str]) -> None:
        """Write an export in a thread worker (`write` returns the sentence saying where it went), then say so,
        or why it could not be written."""
        self._export(write)

    @work(thread=True, exclusive=True, group="export")
    def _export(self, write: Callable[[], str]) -> None:
        try:
            said, severity = write(), "information"
        except StoreError as exc:
            said, severity = str(exc), "error"
        except OSError as exc:
            said, severity = (f"Could not write {exc.filename or 'the file'}: {exc.strerror or exc}. Choose another "
                              "folder or name."), "error"
        self.app.call_from_thread(self.notify, said, severity=severity, timeout=10)

    @property
    def caseload(self) -> CaseloadApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield FrameHeader(id="frame-header")
        yield Static(self.SCREEN_NAME, id="screen-title", markup=False)
        yield from self.compose_body()
        yield KeysFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def set_title(self, text: str) -> None:
        self.query_one("#screen-title", Static).update(text)


class BackScreen(FrameScreen):
    """A screen pushed on top of another: escape goes back to it."""

    BINDINGS = [Binding("escape", "back", "Back", id="back")]

    def action_back(self) -> None:
        self.dismiss()


def complete(action_id: int, version: int, said: str) -> Done:
    """Marking one action done, at the version on screen (a stale one is refused)."""
    def done(conn, clock, actor) -> tuple[int, str]:  # noqa: ANN001
        from caseload.store.records import complete_action

        complete_action(conn, clock, actor, action_id, version)
        return action_id, said
    return done


def reopen(action_id: int) -> Undo:
    """The undo of marking an action done."""
    def undo(conn, clock, actor) -> str:  # noqa: ANN001
        from caseload.store.records import reopen_action

        return f"Undone: {reopen_action(conn, clock, actor, action_id)} is open again."
    return undo


def unrate(rating_id: int) -> Undo:
    """The undo of a rating just set."""
    def undo(conn, clock, actor) -> str:  # noqa: ANN001
        from caseload.store.records import undo_rag
        from caseload.widgets.rag import rag_word

        before = undo_rag(conn, clock, actor, rating_id)
        return f"Undone: the rating is {rag_word(before)} again." if before else "Undone: the claim is not rated again."
    return undo
