"""Help for the screen underneath: what it shows and the keys that work there."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static


def binding_ids(extra: Iterable[Binding] = ()) -> set[str]:
    """Every binding id in caseload's screens and widgets (and `extra`, the app's own): the names a keymap uses."""
    import caseload.screens
    import caseload.widgets

    ids = {b.id for b in extra if isinstance(b, Binding) and b.id}
    for package in (caseload.screens, caseload.widgets):
        for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            module = importlib.import_module(info.name)
            for value in vars(module).values():
                for b in getattr(value, "BINDINGS", ()) if isinstance(value, type) else ():
                    if isinstance(b, Binding) and b.id:
                        ids.add(b.id)
    return ids


def key_rows(screen: Screen) -> list[tuple[str, str, str]]:
    """(keys, what they do, keymap names) for the bindings active on screen, keys doing the same thing together."""
    app = screen.app
    merged: dict[tuple[int, str], tuple[list[str], str, list[str]]] = {}
    # The keys the footer shows first, then the rest (moving around a table, and so on).
    ordered = sorted(screen.active_bindings.values(), key=lambda a: not a.binding.show)
    for active in ordered:
        b = active.binding
        if b.system or not b.description:
            continue
        keys, description, ids = merged.setdefault((id(active.node), b.action), ([], b.description, []))
        shown = app.get_key_display(b)
        if shown not in keys:
            keys.append(shown)
        if b.id and b.id not in ids:
            ids.append(b.id)
    return [(" ".join(keys), description, " ".join(ids)) for keys, description, ids in merged.values()]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="help_close"),
        Binding("f1", "close", "Close", show=False, id="help_close_f1"),
        Binding("question_mark", "close", "Close", show=False, id="help_close_question_mark"),
    ]

    def __init__(self, title: str, text: str, keys: list[tuple[str, str, str]], keymap_file: str = "") -> None:
        super().__init__()
        self.help_title = title
        self.help_text = text
        self.keys = keys
        self.keymap_file = keymap_file

    @classmethod
    def for_screen(cls, screen: Screen) -> HelpScreen:
        title = getattr(screen, "SCREEN_NAME", "") or "caseload"
        text = getattr(screen, "HELP_TEXT", "") or ""
        return cls(title, text, key_rows(screen), str(getattr(screen.app, "config_path", "") or ""))

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold", pad_edge=False, expand=False)
        table.add_column("Key", no_wrap=True)
        table.add_column("What it does")
        table.add_column("Name in a keymap", style="dim")
        for keys, description, ids in self.keys:
            table.add_row(keys, description, ids)
        with Vertical(id="help-box"):
            yield Static(f"Help: {self.help_title}", id="help-title", markup=False)
            with VerticalScroll(id="help-body"):
                yield Static(self.help_text, id="help-text", markup=False)
                yield Static(table, id="help-keys")
                if self.keymap_file:
                    yield Static(f'Your own keys: a "keymap" of these names to keys in {self.keymap_file} '
                                 '(README, "Your own keys"); they apply when caseload starts.',
                                 id="help-keymap", markup=False)
            yield Static("escape closes this help", id="help-close", markup=False)

    def action_close(self) -> None:
        self.dismiss()
