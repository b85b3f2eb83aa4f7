"""One line saying that something is under way, for work a person waits on (a large export, a reassignment of
hundreds of claims, a save queued behind another office's write).

Nothing shows for work that ends within SHOW_AFTER seconds, so a quick save leaves the screen as it was; after
that the line reads "⠹ Moving the claims… 0:02" until the work ends. The work runs in a thread worker, so the
screen stays usable meanwhile."""

from __future__ import annotations

import time

from textual.timer import Timer
from textual.widgets import Static

SHOW_AFTER = 0.3  # seconds of waiting before the line shows
FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


def working_text(doing: str, seconds: float) -> str:
    whole = int(seconds)
    return f"{FRAMES[int(seconds * 10) % len(FRAMES)]} {doing}… {whole // 60}:{whole % 60:02d}"


class Working(Static):
    DEFAULT_CSS = """
    /* Docked with the footer, on the line above it (docked widgets share their edge). */
    Working {
        dock: bottom;
        margin-bottom: 1;
        height: 1;
        padding: 0 1;
        display: none;
        color: $text;
        background: $boost;
    }
    """

    def __init__(self, **kwargs) -> None:  # noqa: ANN003
        super().__init__("", markup=False, **kwargs)
        self._jobs: dict[object, tuple[str, float]] = {}
        self._timer: Timer | None = None

    def begin(self, key: object, doing: str) -> None:
        """Work `key` has started: shown as `doing` once it has taken SHOW_AFTER seconds."""
        self._jobs[key] = (doing, time.monotonic())
        if self._timer is None:
            self._timer = self.set_interval(0.1, self._tick)

    def end(self, key: object) -> None:
        self._jobs.pop(key, None)
        if not self._jobs:
            if self._timer is not None:
                self._timer.stop()
                self._timer = None
            self.display = False

    @property
    def doing(self) -> str | None:
        """What the line says is under way, or None while it is not shown."""
        return self._latest()[0] if self.display and self._jobs else None

    def _latest(self) -> tuple[str, float]:
        """The latest work started: what it is doing and when it began."""
        return self._jobs[next(reversed(self._jobs))]

    def _tick(self) -> None:
        if not self._jobs:
            return
        doing, started = self._latest()
        waited = time.monotonic() - started
        if waited >= SHOW_AFTER:
            self.update(working_text(doing, waited))
            self.display = True
