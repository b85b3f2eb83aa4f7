"""How every screen and dialog reads and writes the store: in a thread worker, never on the event loop, with
the outcome posted back as a message and a refusal said in the store's own words.

`Reads` is a mixin for any Screen or ModalScreen: call `read_and_post` or `write_and_post` from inside a
`@work(thread=True)` method. A read arrives as `Reads.Loaded` (handled by `on_reads_loaded`) or, when the
store refuses or fails, as `Reads.Failed` (`on_reads_failed`); a write as `Reads.Wrote`, shown by
`wrote()` (by default a notification). A screen with several kinds of reads or writes tells them apart
by their `tag` (a generation, a claim, whatever says which answer is current), or passes `loaded=` to
post a message of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from textual.message import Message
from textual.worker import get_current_worker

from caseload.store.errors import ConflictError, StoreError
from caseload.widgets.working import Working

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from caseload.app import CaseloadApp

T = TypeVar("T")
Outcome = Literal["saved", "refused", "stale"]


class Reads:
    """Store reads and writes in thread workers, for a Screen or ModalScreen (put it first in the bases)."""

    class Loaded(Message):
        def __init__(self, data: Any, tag: object = None) -> None:
            super().__init__()
            self.data = data
            self.tag = tag

    class Failed(Message):
        def __init__(self, text: str, tag: object = None) -> None:
            super().__init__()
            self.text = text  # the store's sentence: what is wrong and what to do
            self.tag = tag

    class Wrote(Message):
        def __init__(self, text: str, data: Any = None, tag: object = None, error: StoreError | None = None) -> None:
            super().__init__()
            self.text = text  # saying what was saved, or the store's sentence saying why not
            self.data = data  # what the write returned, when saved
            self.tag = tag
            self.error = error

        @property
        def outcome(self) -> Outcome:
            if self.error is None:
                return "saved"
            return "stale" if isinstance(self.error, ConflictError) else "refused"

        @property
        def saved(self) -> bool:
            return self.error is None

    @property
    def caseload(self) -> CaseloadApp:
        return self.app  # type: ignore[attr-defined,no-any-return]

    def read_and_post(self, read: Callable[[], T], loaded: Callable[[T], Message] | None = None,
                      tag: object = None) -> None:
        """In a thread worker: post `loaded(read())` (by default `Loaded`) unless the worker has been
        cancelled since, or `Failed` saying why it could not be read and what to do."""
        try:
            data = read()
        except StoreError as exc:
            self.post_message(Reads.Failed(str(exc), tag))  # type: ignore[attr-defined]
            return
        if not get_current_worker().is_cancelled:
            self.post_message(loaded(data) if loaded else Reads.Loaded(data, tag))  # type: ignore[attr-defined]

    def write_and_post(self, change: Callable[[Connection], T], said: str | Callable[[T], str] = "",
                       tag: object = None, doing: str = "Saving") -> None:
        """In a thread worker: run `change` in one write transaction and post `Wrote`: saved, with `said`
        (or `said` of what `change` returned); else refused or stale, with the store's sentence and nothing
        written. A write that takes a while says `doing` on the screen's working line meanwhile."""
        from caseload.store.db import write

        with self.working(doing):
            try:
                with write(self.caseload.engine) as conn:
                    data = change(conn)
            except StoreError as exc:
                self.post_message(Reads.Wrote(str(exc), tag=tag, error=exc))  # type: ignore[attr-defined]
                return
        self.post_message(Reads.Wrote(said(data) if callable(said) else said, data, tag))  # type: ignore[attr-defined]

    @contextmanager
    def working(self, doing: str) -> Iterator[None]:
        """From a thread worker: the screen's working line (widgets/working.py) says `doing` while the block
        runs, if it runs for long enough to be waited on; a screen without one shows nothing."""
        key = object()
        self._tell_working(lambda line: line.begin(key, doing))
        try:
            yield
        finally:
            self._tell_working(lambda line: line.end(key))

    def _tell_working(self, tell: Callable[[Working], None]) -> None:
        def run() -> None:
            for line in self.query(Working):  # type: ignore[attr-defined]
                tell(line)

        try:
            self.app.call_from_thread(run)  # type: ignore[attr-defined]
        except RuntimeError:  # the app has closed meanwhile: nothing left to tell
            pass

    def on_reads_wrote(self, message: Wrote) -> None:
        self.wrote(message)

    def wrote(self, message: Wrote) -> None:
        """Say what came of a write (override to show it elsewhere): a stale edit stays up longer, so
        there is time to read what to do."""
        if message.saved:
            self.notify(message.text)  # type: ignore[attr-defined]
        else:
            self.notify(message.text, severity="error",  # type: ignore[attr-defined]
                        timeout=10 if message.outcome == "stale" else None)
