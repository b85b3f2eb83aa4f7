"""Text from the data written safely into every file format: one function per format, used by every export.

Names come from extracts and notes from people typing, so each is treated as hostile wherever it is
written:

- Spreadsheets (CSV, XLSX): a text cell starting with = + - @, a tab or a carriage return would be read
  as a formula (the CSV-injection class OWASP describes). CSV writes it with a leading apostrophe, which
  every spreadsheet shows as text; XLSX writes an explicit string cell marked quote-prefixed, never a
  formula. Numbers (a plain integer or decimal) are written as they are.
- HTML: one escape for text and attributes, and one page head with the Content-Security-Policy that
  forbids scripts.
- Markdown: a cell cannot close the table (|), open code (`), start a heading, quote or list (# > - + *),
  link ([ ]) or carry HTML (< >).
"""

from __future__ import annotations

import html
import re
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
GUARD = "'"
SHEET_NOTE = ("Text that a spreadsheet would take for a formula (starting with =, +, -, @, a tab or a carriage "
              "return) is written with a leading apostrophe (') and read as text.")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def sheet_text(value: Any) -> Any:
    """A CSV cell: text that would start a formula gets a leading apostrophe; numbers and other text as given."""
    if isinstance(value, str) and not _NUMBER.fullmatch(value) and (
            value.startswith(FORMULA_START) or (value.startswith(GUARD) and value[1:].startswith(FORMULA_START))):
        # Text that already looks guarded gets a second apostrophe, so unguard gives back exactly what was typed.
        return GUARD + value
    return value


def sheet_row(values: Any) -> list[Any]:
    return [sheet_text(v) for v in values]


def unguard(value: str) -> str:
    """The text as it was before sheet_text (a rejects file read back after it was fixed)."""
    if value.startswith(GUARD) and sheet_text(value[1:]) == value:
        return value[1:]
    return value


def xlsx_cell(cell: Any, value: Any) -> Any:
    """Put value into an openpyxl cell: text is always a string cell (never a formula), quote-prefixed when
    it would start one; numbers and dates keep their types."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True
    return cell


def xlsx_append(ws: Any, values: Any) -> None:
    """ws.append for rows that may carry text from the data: every text cell as xlsx_cell writes it."""
    values = list(values)
    ws.append(values)
    if values:
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                xlsx_cell(cell, cell.value)


def html_text(value: Any) -> str:
    """Text or an attribute value in HTML."""
    return html.escape("" if value is None else str(value), quote=True)


CSP = "default-src 'none'; style-src 'unsafe-inline'"  # no scripts, no fetches; inline styles and SVG only


def html_head(title: str, style: str = "") -> list[str]:
    """The start of every exported HTML page, through <body>: charset, the Content-Security-Policy, title."""
    return ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html_text(title)}</title>", *([f"<style>{style}</style>"] if style else []), "</head>", "<body>"]


# Markdown's inline markup, and "<" where it would open an HTML tag ("<5" stays as it reads).
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#]|<(?=[A-Za-z/!?]))")
_MD_LINE_START = re.compile(r"^(\s*)([-+=>~])")
_MD_ORDERED = re.compile(r"^(\s*\d+)([.)])(?=\s|$)")


def md_text(value: Any) -> str:
    """Text from the data in a Markdown line or table cell: shown as written, never as markup."""
    text = _MD_SPECIAL.sub(r"\\\1", "" if value is None else str(value)).replace("\r", " ").replace("\n", " ")
    text = _MD_LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text, count=1)
    return _MD_ORDERED.sub(lambda m: m.group(1) + "\\" + m.group(2), text, count=1)
