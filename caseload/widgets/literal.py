"""Text from the data (names, notes, reasons) shown as it is: never markup, never a terminal control.

Names come from extracts and notes from people typing, so a name may hold Rich markup (`[bold]x[/]`)
or an escape sequence (`\\x1b]52;...` writes the clipboard, `\\x1b[2J` clears the screen). Two rules:

- Anything from the data is given to a widget as `literal(text)` (a Rich Text, which no widget parses
  for markup), or to a widget made with `markup=False`; `CaseloadApp.notify` never parses markup.
- Control characters are shown as their visible pictures (ESC as ␛, a bell as ␇), wherever the text
  goes: `show_controls()` widens the translate tables with which Rich's Text and Textual's Content
  already remove some controls (bell, backspace, carriage return), to every C0 control but tab and
  newline, DEL and the C1 controls. Both packages are pinned exactly; tests/test_hostile_screens.py
  fails if a release changes where those tables are.
"""

from __future__ import annotations

from rich.text import Text

# Tab and newline lay text out; every other C0 control, DEL and C1 is drawn as a picture.
_PICTURES = {c: chr(0x2400 + c) for c in range(0x20) if c not in (0x09, 0x0A)}
_PICTURES[0x7F] = "\u2421"  # ␡
_PICTURES.update({c: "\ufffd" for c in range(0x80, 0xA0)})  # C1 controls (CSI 0x9b among them): �


def visible(text: str) -> str:
    """The text with its control characters as visible pictures."""
    return text.translate(_PICTURES)


def literal(text: object) -> Text:
    """A value from the data as Rich Text: shown exactly, never read as markup."""
    return Text(visible("" if text is None else str(text)))


def show_controls() -> None:
    """Make Rich's Text and Textual's Content draw control characters as pictures, not pass them on."""
    import rich.control
    import textual.content

    for table in (rich.control._CONTROL_STRIP_TRANSLATE, textual.content._CONTROL_STRIP_TRANSLATE):  # noqa: SLF001
        table.update(_PICTURES)
