"""What the figure screens (team view, fairness) share: whose figures they show, and reading them in a
thread worker with a refusal or a database failure said in plain words."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from textual.message import Message
from textual.worker import get_current_worker

from caseload.screens.base import BackScreen
from caseload.store.access import Actor
from caseload.store.errors import StoreError

T = TypeVar("T")


class FiguresScreen(BackScreen):
    """A screen of figures for the actor given, else whoever has said who they are in the app. Its reads
    arrive as `Loaded` or `Failed` (handled by `on_figures_screen_loaded` and `on_figures_screen_failed`)."""

    class Loaded(Message):
        def __init__(self, data: object) -> None:
            super().__init__()
            self.data = data

    class Failed(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, actor: Actor | None = None) -> None:
        super().__init__()
        self._actor = actor

    @property
    def actor(self) -> Actor | None:
        if self._actor is not None:
            return self._actor
        identity = self.caseload.identity
        return identity.actor if identity else None

    def read_and_post(self, read: Callable[[], T], loaded: Callable[[T], Message] | None = None) -> None:
        """In a thread worker: post `loaded(read())` (by default `Loaded`) unless the worker has been
        cancelled since, or `Failed` saying why it could not be read and what to do."""
        try:
            data = read()
        except StoreError as exc:
            self.post_message(self.Failed(str(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message((loaded or self.Loaded)(data))
