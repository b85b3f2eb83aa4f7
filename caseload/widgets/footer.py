"""The footer, fitted to the terminal's width.

When every key a screen shows fits on the line, the footer is Textual's own. When they do not (an 80-column
terminal), it keeps the first keys in the screen's order (each screen lists its most used first), drops the
rest, and ends with "F1/? all keys" and the command palette, so nothing is cut to a character and the way to
every key is always on screen.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

HELP_ACTION = "help"
ALL_KEYS = "all keys"


def key_width(key: FooterKey, compact: bool) -> int:
    """The cells a key takes in the footer, as FooterKey renders it."""
    if not key.description:
        return len(key.key_display)
    return len(key.key_display) + len(key.description) + (1 if compact else 3)


class KeysFooter(Footer):
    def compose(self):  # noqa: ANN201
        keys = list(super().compose())
        width = self.size.width or self.app.size.width
        # Grouped keys (a FooterLabel among them) keep Textual's own layout; so does a line that fits (the last
        # key's closing space may go under the palette's border).
        if not all(isinstance(k, FooterKey) for k in keys) or \
                sum(key_width(k, self.compact) for k in keys) - 1 <= width:
            yield from keys
            return
        palette = [k for k in keys if k.has_class("-command-palette")]
        plain = [k for k in keys if k not in palette]
        help_key = next((k for k in plain if k.action == HELP_ACTION), None)
        if help_key is not None:
            help_key.description = ALL_KEYS
        fixed = ([help_key] if help_key is not None else []) + palette
        room = width - sum(key_width(k, self.compact) for k in fixed)
        kept = []
        for k in plain:
            if k is help_key:
                continue
            room -= key_width(k, self.compact)
            if room < 0:
                break  # the screen's order is its order of use: keep a run from the start
            kept.append(k)
        self.styles.grid_size_columns = len(kept) + (help_key is not None)
        yield from kept
        yield from fixed

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != getattr(self, "_fitted_width", None):
            self._fitted_width = event.size.width
            self.refresh(recompose=True)
