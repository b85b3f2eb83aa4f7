"""The off-flow summary as a formatted workbook: Summary, Definitions and Metadata sheets.

Values are the contract's (export/offflow.py `row_values`) turned into typed cells: counts are
integers, the rate is the truncated value itself (never a formula that could round), and a
suppressed count is the text "<5". The file is byte-for-byte the same for the same result and
metadata: workbook times come from the metadata's generated_at and the zip entries carry a fixed
timestamp.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from decimal import Decimal
from os import PathLike
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.writer.excel import ExcelWriter

from caseload.escaping import SHEET_NOTE, xlsx_append, xlsx_cell
from caseload.export.common import EXTRA_COLUMNS, EXTRA_DEFINITIONS, TITLE, Cell, cells, rules
from caseload.export.offflow import COLUMNS, DEFINITIONS, LIMIT_COLUMNS, LIMIT_DEFINITIONS
from caseload.store.offflow import OffflowResult

GREEN = PatternFill("solid", fgColor="C6EFCE")
RED = PatternFill("solid", fgColor="FFC7CE")
HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
BOLD = Font(bold=True)
INTEGER_COLUMNS = {"milestone_weeks", "cohort_size", "offflows", "target_pct", "employment_offflows",
                   "sanction_offflows", "not_known_offflows", "opte_offflows", "still_needed", "not_yet_at",
                   "lower95_offflows", "upper95_offflows", "lower998_offflows", "upper998_offflows"}
DATE_COLUMNS = {"cohort_start", "cohort_end"}
# The Summary's column headings, for people; the CSV keeps the contract's names (the Definitions sheet
# gives both). A column without a heading here is shown by its name in words.
HEADERS = {
    "group_by": "Grouped by", "group": "Group", "cohort_period": "Cohort period", "cohort_start": "Cohort start",
    "cohort_end": "Cohort end", "milestone_weeks": "Milestone (weeks)", "cohort_size": "Cohort size",
    "offflows": "Off-flows", "rate_pct": "Off-flow rate %", "target_pct": "Expected level %",
    "meets_target": "Meets expected level", "status": "Status", "employment_offflows": "Into employment",
    "sanction_offflows": "Sanction or disallowance", "not_known_offflows": "Destination not known",
    "opte_offflows": "OPtE off-flows", "still_needed": "Off-flows still needed",
    "not_yet_at": "Not yet at milestone", "note": "Note",
    "lower95_offflows": "95% lower limit (off-flows)", "upper95_offflows": "95% upper limit (off-flows)",
    "lower998_offflows": "99.8% lower limit (off-flows)", "upper998_offflows": "99.8% upper limit (off-flows)",
    "verdict": "Against the expected level", "verdict_symbol": "Verdict symbol",
}
# The meets/misses text the fill repeats (the Markdown and HTML exports' markers), by the contract's value.
MARKERS = {"yes": "✓ meets", "no": "✗ misses"}
MAX_WIDTH = 60  # wider text wraps (the note)


def header(column: str) -> str:
    return HEADERS.get(column) or column.replace("_", " ").capitalize()


# The limits and the verdict sit beside the Red/Green (meets_target), before the status.
_AT = COLUMNS.index("meets_target") + 1
HEAD = list(COLUMNS[:_AT]) + list(LIMIT_COLUMNS) + list(COLUMNS[_AT:]) + list(EXTRA_COLUMNS)
# The zip's own timestamp field starts in 1980; a fixed one keeps two runs identical.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _typed(column: str, text: str) -> Any:
    """A contract value as a spreadsheet cell value: numbers as numbers, "<5" and blanks as text."""
    if text == "":
        return None
    if column == "rate_pct":
        return Decimal(text)  # already truncated; stored as the exact decimal string
    if column in DATE_COLUMNS:
        return dt.date.fromisoformat(text)
    if column in INTEGER_COLUMNS and text.isdigit():
        return int(text)
    return text


def _extra(c: Cell) -> list[str]:
    return [c.still_needed, c.not_yet_at, "; ".join(c.notes())]


def _summary(ws, result: OffflowResult) -> None:  # noqa: ANN001
    head = HEAD
    xlsx_append(ws, [header(name) for name in head])
    for cell in ws[1]:
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    col = {name: i + 1 for i, name in enumerate(head)}
    for r, c in enumerate(cells(result), start=2):
        values = dict(zip(COLUMNS, c.values)) | dict(zip(LIMIT_COLUMNS, c.limits)) | dict(zip(EXTRA_COLUMNS, _extra(c)))
        for name in head:
            text = values[name]
            cell = xlsx_cell(ws.cell(row=r, column=col[name]), _typed(name, text))
            if name == "rate_pct" and cell.value is not None:
                cell.number_format = "0.00"
            elif name in DATE_COLUMNS and cell.value is not None:
                cell.number_format = "yyyy-mm-dd"
            elif name in INTEGER_COLUMNS and isinstance(cell.value, int):
                cell.number_format = "0"
            elif isinstance(cell.value, str) and name in INTEGER_COLUMNS:
                cell.alignment = Alignment(horizontal="right")  # "<5" sits where the numbers do
        meets = ws.cell(row=r, column=col["meets_target"])
        if meets.value == "yes":
            meets.fill = GREEN
        elif meets.value == "no":
            meets.fill = RED
        meets.value = MARKERS.get(meets.value, meets.value)
        if c.interim:
            ws.cell(row=r, column=col["status"]).font = Font(italic=True)
    ws.freeze_panes = "A2"
    last = get_column_letter(len(head))
    ws.auto_filter.ref = f"A1:{last}{max(ws.max_row, 2)}"
    for name, i in col.items():
        widest = max([len(header(name)) + 3,  # room for the filter's button
                      *(len(_shown(c.value)) for c in ws[get_column_letter(i)][1:])])
        ws.column_dimensions[get_column_letter(i)].width = min(widest + 1, MAX_WIDTH)
        if widest > MAX_WIDTH:
            for c in ws[get_column_letter(i)][1:]:
                c.alignment = Alignment(wrap_text=True, vertical="top")


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _definitions(ws, meta: dict[str, Any]) -> None:  # noqa: ANN001
    xlsx_append(ws, ["term", "definition", "CSV column"])
    for cell in ws[1]:
        cell.font = BOLD
        cell.fill = HEADER_FILL
    for name, text in list(DEFINITIONS.items()) + list(LIMIT_DEFINITIONS.items()) + list(EXTRA_DEFINITIONS.items()):
        xlsx_append(ws, [header(name), text, name])
    ws.append([])
    xlsx_append(ws, ["rule", "how it is applied"])
    for cell in ws[ws.max_row]:
        cell.font = BOLD
        cell.fill = HEADER_FILL
    xlsx_append(ws, [f"{header('meets_target')} fill", "green fill with the text ✓ meets when the expected level is "
                     "met (yes in the CSV), red fill with ✗ misses when it is missed (no); the text always says it, "
                     "the fill only repeats it"])
    for name, text in rules(meta):
        xlsx_append(ws, [name, text])
    xlsx_append(ws, ["text cells", SHEET_NOTE.replace("a leading apostrophe (')", "a quote prefix (the apostrophe "
                                                      "of a typed-in text cell)")])
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 110
    ws.column_dimensions["C"].width = 22
    for row in ws.iter_rows(min_row=2, max_col=2):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")


def flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested metadata as dotted key/value rows; lists of values as JSON text, lists of records numbered."""
    if isinstance(value, dict):
        out: list[tuple[str, Any]] = []
        for k, v in value.items():
            out += flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, dict) for v in value):
            # A list of records (the context notes): one row per field, numbered from 1.
            return [row for i, v in enumerate(value, start=1) for row in flatten(v, f"{prefix}.{i}")]
        return [(prefix, json.dumps(list(value)))]
    if value is None:
        return [(prefix, "")]
    return [(prefix, value)]


def _metadata(ws, meta: dict[str, Any]) -> None:  # noqa: ANN001
    xlsx_append(ws, ["key", "value"])
    for cell in ws[1]:
        cell.font = BOLD
        cell.fill = HEADER_FILL
    for k, v in flatten(meta):
        xlsx_append(ws, [k, v if isinstance(v, (int, str)) else str(v)])
    ws.freeze_panes = "A2"
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 100


def _generated(meta: dict[str, Any]) -> dt.datetime:
    t = dt.datetime.fromisoformat(meta["generated_at"])
    if t.tzinfo is not None:
        t = t.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return t


def workbook_bytes(result: OffflowResult, meta: dict[str, Any]) -> bytes:
    wb = Workbook()
    summary = wb.active
    summary.title = "Summary"
    _summary(summary, result)
    _definitions(wb.create_sheet("Definitions"), meta)
    _metadata(wb.create_sheet("Metadata"), meta)
    for ws in wb.worksheets:
        # We never write formulas: text from the data that starts with "=" (a team named "=SUM(...)")
        # stays text, so opening the file cannot run it.
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
    when = _generated(meta)
    props = wb.properties
    props.title = f"{TITLE} as at {meta['as_at']}"
    props.creator = "caseload"
    props.lastModifiedBy = str(meta.get("generated_by", ""))
    props.created = when
    props.modified = when
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        # ExcelWriter, not save_workbook: that stamps "modified" with the wall clock.
        ExcelWriter(wb, archive).save()
    fixed = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, src.read(info.filename))
    return fixed.getvalue()


def write_xlsx(result: OffflowResult, target: str | PathLike | IO[bytes], meta: dict[str, Any]) -> int:
    """Write the workbook to a path or a binary file; returns the number of contract rows."""
    data = workbook_bytes(result, meta)
    if isinstance(target, (str, PathLike)):
        with open(target, "wb") as f:
            f.write(data)
    else:
        target.write(data)
    return len(result.rows)
