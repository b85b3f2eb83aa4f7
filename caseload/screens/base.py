"""What every caseload screen shares: the frame header, a title line, the footer, and help text."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

from caseload.screens.reading import Reads
from caseload.store.access import Actor
from caseload.store.errors import StoreError
from caseload.widgets.footer import KeysFooter
from caseload.widgets.header import FrameHeader
from caseload.widgets.working import Working

UNDO_SECONDS = 10.0  # how long `u` takes back a one-key change (an action marked done, a rating)

# The screens that make one-key changes bind it (help lists it there, nowhere else).
UNDO_BINDING = Binding("u", "undo", "Undo", show=False, id="undo")

# What undoes a change: (conn, clock, actor) -> the sentence saying what was undone.
Undo = Callable[[Any, Any, Any], str]

# What marks an action done: (conn, clock, actor) -> (the action's id, the sentence saying so).
Done = Callable[[Any, Any, Any], tuple[int, str]]

# The tags of the two one-key writes every screen can make (their outcome arrives as Reads.Wrote).
MARKED, UNDONE = "marked", "undone"


class FrameScreen(Reads, Screen):
    """A full screen inside the frame. Subclasses give SCREEN_NAME, HELP_TEXT and compose_body()."""

    SCREEN_NAME: ClassVar[str] = ""
    HELP_TEXT: ClassVar[str] = ""

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
        self.write_and_post(lambda conn: done(conn, self.caseload.clock, actor), lambda marked: marked[1], MARKED)

    def wrote(self, message: Reads.Wrote) -> None:
        if message.tag == MARKED:
            done = message.data[0] if message.saved else None
            if done is not None:
                self.offer_undo(message.text, reopen(done))
            self.marked(message.text, not message.saved, done)
        elif message.tag == UNDONE:
            self.notify(message.text, severity="information" if message.saved else "warning")
            self.undone()
        else:
            super().wrote(message)

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
        self.write_and_post(lambda conn: undo(conn, self.caseload.clock, actor), str, UNDONE)

    def undone(self) -> None:
        """Show the record as it is after an undo (subclasses reload)."""

    def export(self, write: Callable[[], str], doing: str = "Writing the export") -> None:
        """Write an export in a thread worker (`write` returns the sentence saying where it went), saying `doing`
        on the working line while it takes, then say where it went, or why it could not be written."""
        self._export(write, doing)

    @work(thread=True, exclusive=True, group="export")
    def _export(self, write: Callable[[], str], doing: str) -> None:
        try:
            with self.working(doing):
                said, severity = write(), "information"
        except StoreError as exc:
            said, severity = str(exc), "error"
        except OSError as exc:
            said, severity = (f"Could not write {exc.filename or 'the file'}: {exc.strerror or exc}. Choose another "
                              "folder or name."), "error"
        self.app.call_from_thread(self.notify, said, severity=severity, timeout=10)

    def compose(self) -> ComposeResult:
        yield FrameHeader(id="frame-header")
        yield Static(self.SCREEN_NAME, id="screen-title", markup=False)
        yield from self.compose_body()
        yield KeysFooter()
        yield Working()

    def compose_body(self) -> ComposeResult:
        yield from ()

    def set_title(self, text: str) -> None:
        self.query_one("#screen-title", Static).update(text)


class BackScreen(FrameScreen):
    """A screen pushed on top of another: escape goes back to it."""

    BINDINGS = [Binding("escape", "back", "Back", id="back")]

    def action_back(self) -> None:
        self.dismiss()


class FiguresScreen(BackScreen):
    """A screen of figures (team view, fairness) for the actor given, else whoever has said who they are
    in the app."""

    def __init__(self, actor: Actor | None = None) -> None:
        super().__init__()
        self._actor = actor

    @property
    def actor(self) -> Actor | None:
        if self._actor is not None:
            return self._actor
        identity = self.caseload.identity
        return identity.actor if identity else None


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
