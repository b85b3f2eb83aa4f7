"""Importing a claims extract (DOMAIN.md section 12).

The file is streamed: every row is validated (pydantic) and every problem collected with
its line number (the header is line 1; a line is one CSV record, as a spreadsheet numbers
rows) and column. Good rows go to a temporary staging table in batches of Core inserts;
the write into the real tables is then a handful of set-based statements in one
transaction. A rejected file leaves every table exactly as it was.
"""

from __future__ import annotations

import array
import csv
import datetime as dt
import gc
import hashlib
import itertools
import operator
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy import (
    Column,
    Connection,
    Date,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    func,
    bindparam,
    select,
)
from sqlalchemy import text as sa_text

from caseload.clock import Clock
from caseload.escaping import sheet_row, unguard
from caseload.measures.destinations import BENEFITS, END_REASONS
from caseload.store import readahead, schema, summary
from caseload.store.access import Actor
from caseload.store.audit import record
from caseload.store.db import analyze, locked_error
from caseload.store.erase import blank_erased_in_staging
from caseload.store.errors import StoreError
from caseload.store.reassign import hold_local_reassignments

REQUIRED = ("claim_id", "customer_id", "benefit", "claim_start", "adviser_id")
OPTIONAL = (
    "customer_name", "date_of_birth", "nino", "sex", "disability", "ethnicity",
    "claim_end", "end_reason", "adviser_name", "team", "office",
)
COLUMNS = REQUIRED + OPTIONAL
# A row that names a team but no office is put in this office.
DEFAULT_OFFICE = "Local office"
BATCH_ROWS = 20000
# Where a staging row (the staging table's column order) holds what a first load's summary tally counts:
# adviser_id, benefit, start_day, end_day, end_reason (summary.FirstLoadTally.add).
TALLIED = (9, 3, 7, 8, 6)

# Told how an import is getting on: the stage in words ("checking", "writing new claims", "counting
# summaries"...), the rows read so far, and the share of the file checked (0 to 1) while checking, None in
# the set-based stages after it (whose share is not known). Called at most once a batch of rows.
Progress = Callable[[str, int, "float | None"], None]
IMPORT_CACHE_KB = 64 * 1024
MAX_LISTED = 1000
# A line's fingerprint: this many bytes of BLAKE2b (schema.Claim.extract_hash).
FINGERPRINT_BYTES = readahead.FINGERPRINT_BYTES
# Up to this many claims, a daily import holds the fingerprints of the lines they stand as (about 75 bytes
# each); past it, every line is checked in full.
KNOWN_MAX = 1_500_000

_BENEFITS = {b.upper(): b for b in BENEFITS}
_REASONS = set(END_REASONS)
_DATE = r"^\d{4}-\d{2}-\d{2}$"
_DATE_OR_EMPTY = r"^(\d{4}-\d{2}-\d{2})?$"
# A value that str.strip() would change, in values joined by NUL: whitespace followed by NUL or the
# end, or preceded by NUL or the start (written to begin with \s, which the regex engine scans for fast).
_PADDED = re.compile(r"\s(?:(?![^\0])|(?<![^\0]\s))")
# In the same joined values: a control character, or a value guarded against formulas ('=...): both go
# the long way, which names the first and reads the second back as it was.
_NOT_QUICK = re.compile(r"[\x01-\x08\x0b-\x1f\x7f-\x9f]|(?:^|\0)'[=+\-@\t\r]")

Req = Annotated[str, StringConstraints(min_length=1)]
ReqDate = Annotated[str, StringConstraints(min_length=1, pattern=_DATE)]
OptDate = Annotated[str, StringConstraints(pattern=_DATE_OR_EMPTY)]


class ExtractRow(BaseModel):
    """The shape of one extract row. pydantic checks presence and form in its compiled core (which
    keeps a million rows quick); _facts() then reads dates and codes and checks fields against each other."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    claim_id: Req
    customer_id: Req
    benefit: Req
    claim_start: ReqDate
    adviser_id: Req
    customer_name: str = ""
    date_of_birth: OptDate = ""
    nino: str = ""
    sex: str = ""
    disability: str = ""
    ethnicity: str = ""
    claim_end: OptDate = ""
    end_reason: str = ""
    adviser_name: str = ""
    team: str = ""
    office: str = ""


@dataclass(frozen=True)
class Problem:
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass
class ImportResult:
    file_name: str
    as_at: dt.date
    batch_id: int | None = None
    rows_read: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    rows_unchanged: int = 0  # lines recognised as the very lines the claims stand as, so never checked again
    claims_added: int = 0
    claims_updated: int = 0
    transfers: int = 0
    warnings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    already_imported: int | None = None  # the earlier batch id when the same file came in again
    assignment_conflicts: int = 0  # claims whose extract holder disagrees with a local reassignment (not applied)


class ImportRejected(StoreError):
    """The file was rejected whole; nothing was written."""

    def __init__(self, result: ImportResult):
        self.result = result
        shown = "\n".join(f"  {p}" for p in result.problems[:100])
        more = result.problem_count - min(100, len(result.problems))
        tail = f"\n  ... and {more} more problems" if more > 0 else ""
        super().__init__(
            f"{result.file_name} was not imported: {result.rows_rejected} of {result.rows_read} rows "
            f"have problems, and one bad row rejects the whole file. Nothing was changed.\n"
            f"{shown}{tail}\n"
            "Fix these rows and import again, or use --partial --rejects PATH to import the good "
            "rows and write the bad ones, each with its reason, to PATH."
        )


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _staging_table() -> Table:
    md = MetaData()
    return Table(
        "import_staging",
        md,
        Column("line", Integer, primary_key=True),
        Column("claim_id", Text, nullable=False),
        Column("customer_id", Text, nullable=False),
        Column("benefit", Text, nullable=False),
        Column("claim_start", Date, nullable=False),
        Column("claim_end", Date),
        Column("end_reason", Text),
        Column("start_day", Integer, nullable=False),
        Column("end_day", Integer),
        Column("adviser_id", Text, nullable=False),
        Column("customer_name", Text),
        Column("date_of_birth", Date),
        Column("nino", Text),
        Column("sex", Text),
        Column("disability", Text),
        Column("ethnicity", Text),
        Column("adviser_name", Text),
        Column("team", Text),
        Column("office", Text),
        # The line's fingerprint (see schema.Claim.extract_hash); NULL for a line checked the long way.
        Column("row_hash", LargeBinary),
        # 1 when a later line of the same customer was recognised unchanged and never staged.
        Column("later_unchanged", Integer),
        prefixes=["TEMPORARY"],
    )


class _RejectsWriter:
    """Writes bad rows with a reason column; the file appears only when complete."""

    def __init__(self, path: Path | None, header: list[str]):
        self.path = path
        self.count = 0
        self._f = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".rejects-", suffix=".csv", dir=path.parent)
            self._tmp = Path(tmp)
            self._f = os.fdopen(fd, "w", encoding="utf-8", newline="")
            self._w = csv.writer(self._f)
            self._w.writerow([*header, "line", "reason"])

    def add(self, values: list[str], line: int, reason: str) -> None:
        self.count += 1
        if self._f is not None:
            self._w.writerow(sheet_row([*values, line, reason]))

    def finish(self) -> None:
        if self._f is not None:
            self._f.close()
            os.replace(self._tmp, self.path)
            self._f = None

    def abandon(self) -> None:
        """Drop an unfinished file; after finish() this does nothing."""
        if self._f is not None:
            self._f.close()
            self._tmp.unlink(missing_ok=True)
            self._f = None


# Personal values are never repeated in a problem's message (it reaches the terminal and logs).
PERSONAL_COLUMNS = frozenset({"customer_name", "date_of_birth", "nino", "sex", "disability", "ethnicity"})


def _quoted(column: str | None, value: Any) -> str:
    return "the value" if column in PERSONAL_COLUMNS else f"'{value}'"


def _problems_of(exc: ValidationError) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        column = str(err["loc"][0]) if err["loc"] else None
        value = err.get("input")
        if err["type"] in ("string_too_short", "missing"):
            msg = f"is empty; every row needs a {column}"
        elif err["type"] == "string_pattern_mismatch":
            msg = f"{_quoted(column, value)} is not a date in the form YYYY-MM-DD"
        else:
            msg = err["msg"]
        out.append(Problem(0, column, msg))
    return out


def _date(value: str, column: str, problems: list[Problem]) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append(Problem(0, column, f"{_quoted(column, value)} is not a real date"))
        return None


def _facts(row: ExtractRow, as_at: dt.date) -> tuple[tuple[Any, ...], list[Problem]]:
    """Dates and codes read, and every check of one field against another.

    Returns (claim_start, claim_end, date_of_birth, benefit, end_reason) and the problems.
    """
    problems: list[Problem] = []
    start = _date(row.claim_start, "claim_start", problems)
    end = _date(row.claim_end, "claim_end", problems)
    dob = _date(row.date_of_birth, "date_of_birth", problems)
    benefit = _BENEFITS.get(row.benefit.upper())
    if benefit is None:
        problems.append(Problem(0, "benefit", f"'{row.benefit}' is not a benefit this tool knows; use one of "
                                              f"{', '.join(BENEFITS)}"))
    reason = row.end_reason.lower() or None
    if reason is not None and reason not in _REASONS:
        problems.append(Problem(0, "end_reason", f"'{reason}' is not a known end_reason code; use one of "
                                                 f"{', '.join(END_REASONS)}"))
    for col, d in (("claim_start", start), ("claim_end", end), ("date_of_birth", dob)):
        if d is not None and d > as_at:
            shown = "the value" if col in PERSONAL_COLUMNS else d.isoformat()
            problems.append(Problem(0, col, f"{shown} is after the extract's as-at date {as_at.isoformat()}"))
    if start is not None and end is not None and end < start:
        problems.append(Problem(0, "claim_end", f"{end.isoformat()} is before claim_start {start.isoformat()}"))
    if reason is not None and not row.claim_end:
        problems.append(Problem(0, "end_reason",
                                f"'{reason}' is given but claim_end is empty; an open claim has no end reason"))
    if start is not None and dob is not None and dob >= start:
        problems.append(Problem(0, "date_of_birth", f"the value is not before claim_start {start.isoformat()}"))
    return (start, end, dob, benefit, reason), problems


# A field may hold tab and newline; any other control character (ESC starts the terminal's escape
# sequences) is a bad row, named, never stored (docs/decisions.md, "Hostile text").
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# A value the rejects file guarded against spreadsheet formulas ('=...), read back as it was.
_GUARDED = re.compile(r"(?:^|\n)'[=+\-@\t\r]")


def _control_problems(header: list[str], values: list[str]) -> list[Problem]:
    out = []
    for column, value in zip(header, values):
        found = _CONTROL.search(value)
        if found:
            code = ord(found.group())
            out.append(Problem(0, column, f"holds a control character (U+{code:04X}) at position {found.start() + 1}; "
                                          "remove control characters from the extract and import it again"))
    return out


def _checked_reader(header: list[str], as_at: dt.date, as_text: bool, team_of: dict):  # noqa: ANN202
    """A row's staging values and its problems, every one in words (ExtractRow, then _facts)."""
    day = schema.day_number
    validate = ExtractRow.model_validate
    control, guarded = _CONTROL, _GUARDED

    def checked(values: list[str], line: int) -> tuple[tuple[Any, ...] | None, list[Problem]]:
        joined = "\n".join(values)
        if control.search(joined):
            return None, _control_problems(header, values)
        if "'" in joined and guarded.search(joined):
            values = [unguard(v) for v in values]
        try:
            row = validate(dict(zip(header, values)))
        except ValidationError as exc:
            return None, _problems_of(exc)
        (start, end, dob, benefit, reason), problems = _facts(row, as_at)
        team_problem = _team_problem(team_of, row.adviser_id, row.team, row.office, line)
        if team_problem is not None:
            problems.append(team_problem)
        if problems:
            return None, problems
        return (
            line, row.claim_id, row.customer_id, benefit,
            start.isoformat() if as_text else start,
            (end.isoformat() if as_text else end) if end else None,
            reason, day(start), day(end) if end else None, row.adviser_id, row.customer_name or None,
            (dob.isoformat() if as_text else dob) if dob else None,
            row.nino.upper().replace(" ", "") or None, row.sex or None, row.disability or None,
            row.ethnicity or None, row.adviser_name or None, row.team or None,
            row.office or (DEFAULT_OFFICE if row.team else None), None,
        ), []

    return checked


def _team_problem(team_of: dict, adviser_id: str, team: str, office: str, line: int) -> Problem | None:
    """An adviser belongs to one team: the first line that names their team sets it."""
    if not team:
        return None
    place = (team, office)
    seen = team_of.get(adviser_id)
    if seen is None:
        team_of[adviser_id] = (place, line)
    elif seen[0] != place:
        return Problem(line, "team", f"adviser {adviser_id} is in team '{seen[0][0]}' on line {seen[1]} and "
                                     f"'{team}' here; an adviser belongs to one team")
    return None


def _quick_reader(header: list[str], as_at: dt.date, as_text: bool, team_of: dict):  # noqa: ANN202
    """The staging values of a row that has no problem at all, else None (the row then goes through
    ExtractRow and _facts, which say what is wrong in their words). It accepts exactly the rows those
    accept, without building a model per row: values with nothing to strip, dates of the form
    YYYY-MM-DD (each read once per import), known codes, and every check of _facts."""
    at = {c: header.index(c) for c in COLUMNS if c in header}
    missing = len(header)
    pick = [at.get(c, missing) for c in COLUMNS]
    take = operator.itemgetter(*pick)  # the 16 values in COLUMNS order, as one C call
    day = schema.day_number
    last_day = day(as_at)
    dates: dict[str, tuple[Any, int] | None] = {}
    benefits, reasons = _BENEFITS, _REASONS

    def read_date(v: str) -> tuple[Any, int] | None:
        d = dates.get(v, False)
        if d is False:
            d = None
            if len(v) == 10 and v[4] == "-" and v[7] == "-" and v.isascii() and (v[:4] + v[5:7] + v[8:]).isdigit():
                try:
                    date = dt.date.fromisoformat(v)
                    d = (v if as_text else date, day(date))
                except ValueError:
                    pass
            dates[v] = d
        return d

    def quick(values: list[str], line: int, fingerprint: bytes | None) -> tuple[Any, ...] | None:
        vals = [*values, ""]
        (claim_id, customer_id, benefit, claim_start, adviser_id, name, dob, nino, sex, disability, ethnicity,
         claim_end, end_reason, adviser_name, team, office) = fields = take(vals)
        joined = "\0".join(fields)
        if _PADDED.search(joined) or _NOT_QUICK.search(joined) or joined.count("\0") != 15:  # a NUL in a value
            return None
        if not (claim_id and customer_id and adviser_id) or (benefit := benefits.get(benefit.upper())) is None:
            return None
        start = read_date(claim_start)
        end = read_date(claim_end) if claim_end else (None, None)
        born = read_date(dob) if dob else (None, None)
        if start is None or end is None or born is None or start[1] > last_day:
            return None
        reason = end_reason.lower() or None
        if reason is not None and (reason not in reasons or not claim_end):
            return None
        if end[1] is not None and (end[1] > last_day or end[1] < start[1]):
            return None
        if born[1] is not None and born[1] >= start[1]:
            return None
        if _team_problem(team_of, adviser_id, team, office, line) is not None:
            return None
        return (line, claim_id, customer_id, benefit, start[0], end[0], reason, start[1], end[1], adviser_id,
                name or None, born[0], nino.upper().replace(" ", "") or None, sex or None, disability or None,
                ethnicity or None, adviser_name or None, team or None, office or (DEFAULT_OFFICE if team else None),
                fingerprint)

    return quick


def import_claims(
    engine: Engine,
    path: str | os.PathLike[str],
    *,
    as_at: dt.date,
    actor: Actor,
    clock: Clock,
    partial: bool = False,
    rejects: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
    full: bool = False,
) -> ImportResult:
    """Import one extract. Raises ImportRejected (nothing written) or StoreError with a message to show.
    `progress`, if given, is told each stage as it goes (for a progress bar). A line that is byte for byte the
    line a claim stands as (its fingerprint, schema.Claim.extract_hash) is known unchanged and not checked again;
    `full` checks every line, with the same outcome."""
    tell: Progress = progress or (lambda stage, rows, share: None)
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"There is no file at {path}.")
    if partial and rejects is None:
        raise StoreError("--partial needs --rejects PATH: the bad rows, with their reasons, are written there.")
    if as_at > clock.today():
        raise StoreError(f"The as-at date {as_at.isoformat()} is in the future; give the date the extract was taken.")
    result = ImportResult(file_name=path.name, as_at=as_at)
    digest = sha256_of(path)
    bt = schema.ImportBatch.__table__

    with engine.connect() as conn:
        # The same file as at the same date is the same import. The same bytes as at a later date are a
        # new extract that says the claims stood so then (a reversal back to an older state included).
        earlier = conn.execute(select(bt.c.id).where(bt.c.sha256 == digest, bt.c.as_at == as_at)
                               .order_by(bt.c.id)).scalar()
        if earlier is not None:
            result.already_imported = int(earlier)
            return result
        latest = conn.execute(select(func.max(bt.c.as_at))).scalar()
        conn.rollback()
        if latest is not None and as_at < latest:
            raise StoreError(
                f"The as-at date {as_at.isoformat()} is before the latest import's ({latest.isoformat()}). "
                "Extracts are incremental: import them in date order."
            )

        staging = _staging_table()
        conn.exec_driver_sql("DROP TABLE IF EXISTS import_staging")
        conn.exec_driver_sql("DROP TABLE IF EXISTS import_advisers")
        first_load = conn.execute(text("SELECT 1 FROM claim LIMIT 1")).first() is None
        if conn.dialect.name == "sqlite":
            # A large page cache while the claim indexes fill on a first load (the 2 MB default spills pages
            # to the WAL and reads them back); a quarter of it for a later import, which changes fewer pages
            # and whose memory holds the fingerprints. Put back to the default afterwards (pooled connection).
            conn.exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KB if first_load else IMPORT_CACHE_KB // 4}")
        conn.commit()
        staging.create(conn)
        # The advisers, teams and offices of the lines recognised unchanged (read with the staged lines').
        conn.exec_driver_sql("CREATE TEMPORARY TABLE import_advisers (adviser_id TEXT NOT NULL, adviser_name TEXT, "
                             "team TEXT, office TEXT)")
        conn.commit()
        rejects_writer: _RejectsWriter | None = None
        try:
            text_mode = False
            while True:
                try:
                    rejects_writer, tally = _stage(conn, staging, path, as_at, result, partial, rejects, tell,
                                                   full, text_mode, first_load)
                    break
                except _Again as again:
                    conn.rollback()  # the staged lines go; the file is read again, every line in full
                    result = ImportResult(file_name=path.name, as_at=as_at)
                    full, text_mode = True, text_mode or again.text_mode
            if result.rows_rejected and not partial:
                if rejects_writer:
                    rejects_writer.finish()
                raise ImportRejected(result)
            if result.rows_read == 0:
                raise StoreError(f"{path.name} has a header but no rows; nothing was imported.")
            conn.commit()
            conn.info["write"] = True
            try:
                with conn.begin():
                    _write(conn, path, digest, as_at, actor, clock, result, partial, tell, tally)
            except OperationalError as exc:
                raise locked_error(exc) from exc
            finally:
                conn.info.pop("write", None)
            if rejects_writer:
                rejects_writer.finish()
        finally:
            if rejects_writer:
                rejects_writer.abandon()
            conn.rollback()
            conn.exec_driver_sql("DROP TABLE IF EXISTS import_staging")
            conn.exec_driver_sql("DROP TABLE IF EXISTS import_advisers")
            conn.exec_driver_sql("DROP TABLE IF EXISTS import_claim")
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA cache_size=-2000")
            conn.commit()
    return result


def _stager(conn: Connection, names: list[str]):  # noqa: ANN202
    """A function that writes a batch of staging rows (tuples in `names` order): PostgreSQL's COPY
    through psycopg, else the driver's own executemany with plain tuples (the same batched insert as
    Core's, without building and type-processing a dict per row)."""
    columns = ", ".join(names)
    if conn.dialect.driver == "psycopg":
        def copy(batch: list[tuple[Any, ...]]) -> None:
            with conn.connection.driver_connection.cursor() as cur:
                with cur.copy(f"COPY import_staging ({columns}) FROM STDIN") as out:
                    for values in batch:
                        out.write_row(values)

        return copy
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO import_staging ({columns}) VALUES ({', '.join([mark] * len(names))})"
    return lambda batch: conn.exec_driver_sql(sql, batch)


# A block of the file read at once (then cut at a line's end): its lines' fingerprints and whether each is
# known are worked out for the whole block in C (map), so a line recognised unchanged costs no Python of its own.
BLOCK_BYTES = 4 << 20
# A file at least this long past its header has its fingerprints worked out by a second process (readahead.py):
# its start (about 30 ms) is a loss for a small file.
READAHEAD_BYTES = 8 << 20
# A lone carriage return ends a line for the csv module, not for a split at "\n": such a file is read as text.
_LONE_CR = re.compile(rb"\r(?!\n)")


class _Again(Exception):
    """The fast reading of a file cannot be kept to (a line ended by a lone carriage return, which the text reader
    takes as two lines; a claim that appears on a line recognised unchanged and again on another): the file is
    read again, every line checked in full, with nothing of the first reading kept."""

    def __init__(self, text_mode: bool):
        self.text_mode = text_mode


def _blocks(f) -> Iterator[tuple[list[bytes], bool, int, int]]:  # noqa: ANN001
    """The lines after the header of a file opened in binary, a block at a time, each line without its "\\n" (a
    carriage return before it stays: it is part of the line's fingerprint), whether the block holds a quote, and
    its offset in the file and the next block's. Raises _Again(text_mode=True) for a lone carriage return or a
    line longer than the csv module reads."""
    limit = csv.field_size_limit()
    while True:
        at = f.tell()
        block = readahead.read_block(f, BLOCK_BYTES)
        if not block:
            return
        if b"\r" in block and _LONE_CR.search(block):
            raise _Again(text_mode=True)
        lines = readahead.lines_of(block)
        if len(block) > limit and max(map(len, lines)) > limit:
            raise _Again(text_mode=True)
        yield lines, b'"' in block, at, f.tell()


def _known_fingerprints(conn: Connection) -> set[bytes]:
    """The fingerprints of the lines the claims stand as (empty for more than KNOWN_MAX claims: their set would
    outgrow an import's memory, so every line is checked)."""
    n = conn.execute(text("SELECT COUNT(*) FROM claim")).scalar_one()
    if not n or n > KNOWN_MAX:
        return set()
    # One value of them all, end to end, rather than a million rows through the driver (PostgreSQL 2.0 s -> 0.3 s,
    # SQLite 0.7 s -> 0.2 s): the set is made from its 8-byte pieces in C. SQLite's group_concat joins the blobs'
    # bytes as they are (the text it makes is never decoded: CAST to BLOB), half of hex()'s and without its calls.
    if conn.dialect.name == "postgresql":
        sql = (f"SELECT string_agg(extract_hash, ''::bytea) FROM claim "
               f"WHERE octet_length(extract_hash) = {FINGERPRINT_BYTES}")
    else:
        sql = f"SELECT CAST(group_concat(extract_hash, '') AS BLOB) FROM claim WHERE length(extract_hash) = {FINGERPRINT_BYTES}"
    joined = conn.execute(text(sql)).scalar()
    return readahead.fingerprint_set(bytes(joined or b""))


@dataclass
class _Unchanged:
    """The lines recognised unchanged and never staged: the fingerprints still to be met (each once), those met
    with their lines, and what the lines say of their advisers (which _sync_advisers reads with the staged ones)."""

    known: set[bytes]
    met: list[bytes] = field(default_factory=list)
    lines: array.array = field(default_factory=lambda: array.array("l"))
    advisers: dict[tuple[bytes, ...], tuple[str, ...]] = field(default_factory=dict)  # as read -> as text

    def consumed(self, fingerprint: bytes) -> bool:
        """Whether a stored fingerprint was met on a line of this file (it was known, and is not any more)."""
        return fingerprint not in self.known

    def lines_of(self, fingerprints: set[bytes]) -> dict[bytes, int]:
        return dict(itertools.compress(zip(self.met, self.lines), map(fingerprints.__contains__, self.met)))


def _open_extract(path: Path, text_mode: bool):  # noqa: ANN202
    try:
        if text_mode:
            return open(path, encoding="utf-8-sig", newline="")
        return open(path, "rb")
    except OSError as exc:
        raise StoreError(f"{path} cannot be read: {exc.strerror}.") from exc


def _header(f, path: Path, text_mode: bool) -> tuple[list[str], bytes]:  # noqa: ANN001
    """The header row's names, and its bytes (what keys the lines' fingerprints)."""
    try:
        if text_mode:
            header = next(csv.reader(f))
            return header, ",".join(header).encode()
        raw = f.readline()
        if not raw:
            raise StopIteration
        if raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if _LONE_CR.search(raw):
            raise _Again(text_mode=True)
        try:
            return next(csv.reader([raw.decode()])), raw
        except csv.Error:
            raise _Again(text_mode=True) from None
    except StopIteration:
        raise StoreError(f"{path.name} is empty: an extract starts with a header row.") from None
    except UnicodeDecodeError:
        raise StoreError(f"{path.name} is not UTF-8 text. Save it as 'CSV UTF-8' and import again.") from None
    except csv.Error as exc:
        raise StoreError(f"{path.name} line 1: {exc}.") from None


def _stage(
    conn: Connection,
    staging: Table,
    path: Path,
    as_at: dt.date,
    result: ImportResult,
    partial: bool,
    rejects: str | os.PathLike[str] | None,
    tell: Progress,
    full: bool,
    text_mode: bool,
    first_load: bool,
) -> tuple[_RejectsWriter | None, summary.FirstLoadTally | None]:
    """Validate every row, put the good ones in the staging table, collect the problems. Also returns a
    first load's summary counts, taken as the rows went by (None when claims stand already). Unless `full`, a
    line whose fingerprint a claim stands as is recognised unchanged and never checked or staged."""
    f = _open_extract(path, text_mode)
    with f:
        header, header_raw = _header(f, path, text_mode)
        header = [h.strip() for h in header]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise StoreError(
                f"{path.name} line 1: the header has no {', '.join(missing)} column"
                f"{'s' if len(missing) > 1 else ''}. Required columns: {', '.join(REQUIRED)}."
            )
        dupes = sorted({h for h in header if header.count(h) > 1 and h})
        if dupes:
            raise StoreError(f"{path.name} line 1: the column {', '.join(dupes)} appears more than once.")
        unknown = [h for h in header if h not in COLUMNS]
        if unknown:
            result.warnings.append(f"ignored unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}")
        writer = _RejectsWriter(Path(rejects), header) if rejects is not None else None
        # The row loop makes no reference cycles, so the cyclic collector only costs time here
        # (about a tenth of a million-row import); reference counting still frees every row.
        gc_was_on = gc.isenabled()
        gc.disable()
        # Into an empty claim table the summaries are counted here, row by row, rather than from the
        # written claims afterwards (the write checks that the table was still empty).
        tally = summary.FirstLoadTally() if first_load else None
        recognising = not (full or tally is not None or text_mode)
        # A large file's fingerprints and adviser keys are worked out by a second process, reading ahead while this
        # one loads the fingerprints the claims stand as, then checks and stages the lines (readahead.py).
        salt = readahead.salt_of(header_raw)
        ahead = None
        if not text_mode and os.fstat(f.fileno()).st_size - f.tell() >= READAHEAD_BYTES:
            ahead = readahead.start(str(path), f.tell(), BLOCK_BYTES, header, salt, with_keys=recognising)
        try:
            unchanged = _Unchanged(_known_fingerprints(conn) if recognising else set())
            _stage_rows(conn, staging, f, text_mode, header, salt, as_at, result, writer, tell, tally, unchanged, ahead)
        except BaseException:
            if writer:
                writer.abandon()
            raise
        finally:
            if ahead is not None:
                ahead.close()
            if gc_was_on:
                gc.enable()
    return writer, tally


def _stage_rows(conn, staging, f, text_mode, header, salt, as_at, result, writer, tell, tally,  # noqa: ANN001
                unchanged, ahead=None) -> None:  # noqa: ANN001
    """Validate every row, put the good ones in the staging table, collect the problems. A line whose
    fingerprint is one of `unchanged.known` (each once) is recognised unchanged instead: it is counted as read,
    its adviser checked as any line's, and it is neither checked nor staged."""
    ncols = len(header)
    size = os.fstat(f.fileno()).st_size or 1
    where = f.buffer if text_mode else f
    tell("checking", 0, 0.0)
    team_of: dict[str, tuple[tuple[str, str | None], int]] = {}
    batch: list[tuple[Any, ...]] = []
    stage = _stager(conn, [col.name for col in staging.columns if col.name != "later_unchanged"])
    as_text = conn.dialect.name == "sqlite"  # SQLite keeps dates as ISO text; other drivers take date objects
    quick = _quick_reader(header, as_at, as_text, team_of)
    checked = _checked_reader(header, as_at, as_text, team_of)
    fingerprints_of = readahead.fingerprinter(salt)  # a line's fingerprint (schema.Claim.extract_hash)
    unended = operator.methodcaller("rstrip", b"\r")  # a line's own end, as the csv module drops it
    known, met, met_lines, advisers = unchanged.known, unchanged.met, unchanged.lines, unchanged.advisers
    named_keys: set[int] = set()  # the second process's numbers of the keys in `advisers`
    adviser_parts, adviser_picks, adviser_key, adviser_named = readahead.adviser_key(header)

    def reject(values: list[str], line: int, problems: list[Problem]) -> None:
        result.rows_rejected += 1
        for p in problems:
            result.problem_count += 1
            if len(result.problems) < MAX_LISTED:
                result.problems.append(Problem(line, p.column, p.message))
        if writer is not None:
            writer.add(values, line, "; ".join(f"{p.column}: {p.message}" if p.column else p.message for p in problems))

    def values_of(raw: bytes) -> list[str]:
        """A plain line's values (no quote in it), as the csv module reads them."""
        return raw.decode().rstrip("\r").split(",")

    def check(line: int, values: list[str], fingerprint: bytes | None) -> None:
        """One line checked, then staged or rejected."""
        if not values or (len(values) == 1 and not values[0].strip()):
            return
        result.rows_read += 1
        if len(values) != ncols:
            reject(values, line, [Problem(line, None, f"has {len(values)} values; the header has {ncols} columns")])
            return
        staged = quick(values, line, fingerprint)
        if staged is None:
            staged, problems = checked(values, line)
            if problems:
                reject(values, line, problems)
                return
        batch.append(staged)
        if len(batch) >= BATCH_ROWS:
            if tally is not None:
                tally.add(batch, TALLIED)
            stage(batch)
            batch.clear()

    def unchanged_line(line: int, fingerprint: bytes, key: tuple[bytes, ...]) -> bool:
        """A line with a known fingerprint is recognised unchanged, unless its adviser's team disagrees with an
        earlier line's (it is then checked, and rejected in words)."""
        if key not in advisers:
            named = adviser_named(key)
            if _team_problem(team_of, named[0], named[2], named[3], line) is not None:
                return False
            advisers[key] = named
        known.discard(fingerprint)
        met.append(fingerprint)
        met_lines.append(line)
        result.rows_read += 1
        return True

    def line_by_line(lines: list[bytes], first: int) -> int:
        """A block's lines one at a time (some line has a quote, or a known line needs its adviser checked).
        A quoted record may go on over the next lines, and past the block into the file. Returns the last
        line's number."""
        line, i, n = first - 1, 0, len(lines)

        def more() -> Iterator[str]:
            nonlocal i
            yield lines[i - 1].decode() + "\n"
            while i < n:
                i += 1
                yield lines[i - 1].decode() + "\n"
            for nxt in f:
                if _LONE_CR.search(nxt):
                    raise _Again(text_mode=True)
                yield nxt.decode()

        while i < n:
            raw = lines[i]
            i += 1
            line += 1
            at = i
            if b'"' in raw:
                try:
                    values = next(csv.reader(more()))
                except csv.Error:
                    raise _Again(text_mode=True) from None
                if i > at:  # a record over several lines: never recognised unchanged
                    check(line, values, None)
                    continue
            else:
                values = None
            fingerprint = fingerprints_of([raw])[0]
            if fingerprint in known:
                key = (adviser_picks(adviser_parts(unended(raw))) if values is None
                       else adviser_key([v.encode() for v in values]))
                if unchanged_line(line, fingerprint, key):
                    continue
            check(line, values_of(raw) if values is None else values, fingerprint)
        return line

    def all_unchanged(lines: list[bytes], first: int, fingerprints: list[bytes], hits: list[bool],
                      numbers: array.array | None) -> bool:
        """A block without quotes, each of whose known lines is there once and names an adviser as an earlier
        recognised line did: those lines are recognised unchanged together, in C (else False: line_by_line).
        `numbers`: the lines' adviser keys by number, as the second process worked them out (else None)."""
        met_here = list(itertools.compress(fingerprints, hits))
        if len(set(met_here)) != len(met_here):
            return False
        if numbers is None:
            if not all(map(advisers.__contains__, map(adviser_picks, map(adviser_parts, map(unended, itertools.compress(lines, hits)))))):
                return False
        else:
            for k in set(itertools.compress(numbers, hits)).difference(named_keys):
                if ahead.keys[k] not in advisers:
                    return False
                named_keys.add(k)
        known.difference_update(met_here)
        met.extend(met_here)
        met_lines.extend(itertools.compress(range(first, first + len(lines)), hits))
        result.rows_read += len(met_here)
        return True

    line = 1  # the header
    try:
        if text_mode:
            for line, values in enumerate(csv.reader(f), start=2):
                check(line, values, None)
                if not line % BATCH_ROWS:
                    tell("checking", result.rows_read, min(where.tell() / size, 1.0))
        else:
            for lines, quoted, at, end in _blocks(f):
                worked_out = ahead.take(at, len(lines), end) if ahead is not None else None
                if quoted:
                    line = line_by_line(lines, line + 1)
                else:
                    fingerprints, numbers = worked_out or (fingerprints_of(lines), None)
                    hits = list(map(known.__contains__, fingerprints)) if known else None
                    if hits is None or not any(hits):
                        for j, raw in enumerate(lines):
                            check(line + 1 + j, values_of(raw), fingerprints[j])
                        line += len(lines)
                    elif all_unchanged(lines, line + 1, fingerprints, hits, numbers):
                        for j in itertools.compress(range(len(lines)), map(operator.not_, hits)):
                            check(line + 1 + j, values_of(lines[j]), fingerprints[j])
                        line += len(lines)
                    else:
                        line = line_by_line(lines, line + 1)
                tell("checking", result.rows_read, min(where.tell() / size, 1.0))
    except UnicodeDecodeError:
        raise StoreError(
            f"this file is not UTF-8 text (after line {result.rows_read + 1}). "
            "Save it as 'CSV UTF-8' and import again; nothing was imported."
        ) from None
    except csv.Error as exc:
        raise StoreError(f"this file is not a well-formed CSV file: {exc}. Nothing was imported.") from None
    if batch:
        if tally is not None:
            tally.add(batch, TALLIED)
        stage(batch)
    result.rows_unchanged = len(met)
    tell("checking", result.rows_read, 1.0)
    Index("ix_staging_claim", staging.c.claim_id).create(conn)
    Index("ix_staging_customer", staging.c.customer_id, staging.c.line).create(conn)
    analyze(conn, _STAGING_JOINED)
    _read_claims_before(conn, first_load=tally is not None)
    if met:
        _meet_unchanged(conn, unchanged)
    _reject_duplicates(conn, staging, header, result, reject, tally)


# The staged lines' claims as they stood before this import, read from claim once (import_claim: the staged
# line, and the facts of the claim it names; no row for a new claim). Every later step that compares a line with
# its claim joins it by line: on PostgreSQL each of those steps was a pass over claim of its own (0.13-0.48 s
# each at 1,000,000 claims). Never updated: all of those steps run before the claims are written, and none of
# them reads extract_hash after _meet_unchanged (_drop_unchanged then sets some).
_CLAIM_BEFORE = ("id", "customer_id", "benefit", "claim_start", "claim_end", "end_reason", "adviser_id", "extract_hash")


# Staging's statistics only for the columns it is joined by: its other dozen and a half are only compared, which the
# planner does not estimate from them (ANALYZE of all of them took 0.15-0.22 s for a day's 25,000 staged lines).
_STAGING_JOINED = "import_staging (line, claim_id, customer_id, adviser_id)"


def _read_claims_before(conn: Connection, first_load: bool) -> None:
    conn.exec_driver_sql("DROP TABLE IF EXISTS import_claim")
    columns = ", ".join(f"c.{col} AS {col}" for col in _CLAIM_BEFORE)
    # Into an empty claim table (a first load) no line names a claim: the table's columns, without the look-ups.
    none = " WHERE 1 = 0" if first_load else ""
    conn.execute(text(
        f"CREATE TEMPORARY TABLE import_claim AS SELECT s.line AS line, {columns} "
        f"FROM import_staging s JOIN claim c ON c.id = s.claim_id{none}"
    ))
    conn.exec_driver_sql("CREATE UNIQUE INDEX ix_import_claim_line ON import_claim (line)")
    analyze(conn, "import_claim")


def _meet_unchanged(conn: Connection, unchanged: _Unchanged) -> None:
    """What the staged lines must know of the lines recognised unchanged. A staged line of a claim that one of them
    carried too is a claim on two lines: the file is read again in full (_Again), which names both. A staged line
    with a later unchanged line of the same customer is not the customer's latest line (_drop_unchanged). The
    unchanged lines' advisers go to import_advisers, beside the staged ones."""
    twice = conn.execute(text(
        "SELECT c.extract_hash FROM import_staging s JOIN import_claim c ON c.line = s.line WHERE c.extract_hash IS NOT NULL"
    )).scalars()
    if any(unchanged.consumed(bytes(h)) for h in twice):
        raise _Again(text_mode=False)
    others = [(line, bytes(h)) for line, h in conn.execute(text(
        # CROSS JOIN: SQLite's planner, without statistics of staging, would read every claim and look each up in
        # staging (0.26 s at 1,000,000 claims) rather than look up the staged customers' few (PostgreSQL plans it).
        "SELECT s.line, c.extract_hash FROM import_staging s CROSS JOIN claim c "
        "WHERE c.customer_id = s.customer_id AND c.id <> s.claim_id AND c.extract_hash IS NOT NULL"
    ))]
    met = {h for _, h in others if unchanged.consumed(h)}
    if met:
        line_of = unchanged.lines_of(met)
        later = sorted({line for line, h in others if h in met and line_of[h] > line})
        if later:
            conn.execute(text("UPDATE import_staging SET later_unchanged = 1 WHERE line = :line"),
                         [{"line": n} for n in later])
    rows = []
    for adviser_id, name, team, office in unchanged.advisers.values():
        rows.append({"adviser_id": adviser_id, "adviser_name": name or None, "team": team or None,
                     "office": office or (DEFAULT_OFFICE if team else None)})
    conn.execute(text("INSERT INTO import_advisers (adviser_id, adviser_name, team, office) "
                      "VALUES (:adviser_id, :adviser_name, :team, :office)"), rows)


def _reject_duplicates(conn, staging, header, result, reject, tally) -> None:  # noqa: ANN001
    """A claim_id that appears on more than one line: every such line is bad (which one is right is unknown)."""
    s = staging.c
    dup_ids = select(s.claim_id).group_by(s.claim_id).having(func.count() > 1).scalar_subquery()
    rows = conn.execute(select(staging).where(s.claim_id.in_(dup_ids)).order_by(s.claim_id, s.line)).all()
    if not rows:
        return
    lines_of: dict[str, list[int]] = {}
    for r in rows:
        lines_of.setdefault(r.claim_id, []).append(r.line)
    for r in sorted(rows, key=lambda r: r.line):
        others = [str(n) for n in lines_of[r.claim_id] if n != r.line]
        values = []
        m = r._mapping
        for h in header:
            v = m.get(h) if h in m else ""
            values.append(v.isoformat() if isinstance(v, dt.date) else ("" if v is None else str(v)))
        reject(values, r.line, [Problem(r.line, "claim_id", f"{r.claim_id} also appears on line {', '.join(others)}; a claim appears once in an extract")])
    conn.execute(staging.delete().where(s.claim_id.in_(list(lines_of))))
    if tally is not None:
        tally.add(rows, TALLIED, sign=-1)


_TYPED = {"at": schema.AuditEntry.__table__.c.at.type, "as_at": Date()}


def text(sql: str):  # noqa: ANN201
    """A textual statement whose date parameters are bound with the column types, on every backend."""
    t = sa_text(sql)
    return t.bindparams(*(bindparam(k, type_=v) for k, v in _TYPED.items() if f":{k}" in sql))


def _write(
    conn: Connection,
    path: Path,
    digest: str,
    as_at: dt.date,
    actor: Actor,
    clock: Clock,
    result: ImportResult,
    partial: bool,
    tell: Progress,
    tally: summary.FirstLoadTally | None = None,
) -> None:
    rows = result.rows_read
    tell("writing teams, advisers", rows, None)
    now = clock.now()
    bt = schema.ImportBatch.__table__
    batch_id = conn.execute(
        bt.insert().values(
            file_name=path.name, sha256=digest, as_at=as_at, imported_at=now, imported_by=actor.id,
            rows_read=result.rows_read, rows_rejected=result.rows_rejected, partial=partial,
        )
    ).inserted_primary_key[0]
    result.batch_id = int(batch_id)
    p = {"batch": batch_id, "as_at": as_at, "at": now, "actor": actor.id}

    # Offices and teams named in the extract (its unchanged lines' included).
    conn.execute(text(
        f"INSERT INTO office (name) SELECT DISTINCT s.office FROM {_NAMED} s "
        "WHERE s.office IS NOT NULL AND NOT EXISTS (SELECT 1 FROM office o WHERE o.name = s.office)"
    ))
    conn.execute(text(
        f"INSERT INTO team (office_id, name) SELECT DISTINCT o.id, s.team FROM {_NAMED} s "
        "JOIN office o ON o.name = s.office WHERE s.team IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM team t WHERE t.office_id = o.id AND t.name = s.team)"
    ))
    _sync_advisers(conn, clock, actor)
    result.assignment_conflicts = hold_local_reassignments(conn, int(batch_id), now, actor.id)
    # An erased customer's personal details in the extract are dropped first (store/erase.py).
    blank_erased_in_staging(conn)
    # A next-day extract repeats most claims as they stand: those rows change nothing below, so they
    # leave staging here and every later step works on the rows that do change something.
    _drop_unchanged(conn)
    analyze(conn, _STAGING_JOINED, "import_advisers")
    # The cohort summaries are counted again for every block the extract can change (see
    # store/summary.py), marked here while the claims still stand as they were.
    marks = summary.before_import(conn)

    # Existing claims whose holder changed: a transfer dated at this extract's as-at date. Found once, into a
    # temporary table that the audit and the assignments then read.
    conn.exec_driver_sql("DROP TABLE IF EXISTS import_transfer")
    conn.execute(text(
        "CREATE TEMPORARY TABLE import_transfer AS "
        "SELECT c.id AS claim_id, c.adviser_id AS old_adviser, s.adviser_id AS new_adviser, st.team_id AS team_id "
        "FROM import_staging s JOIN import_claim c ON c.line = s.line JOIN staff st ON st.id = s.adviser_id "
        "WHERE c.adviser_id <> s.adviser_id"
    ))
    analyze(conn, "import_transfer")
    result.transfers = conn.execute(text("SELECT COUNT(*) FROM import_transfer")).scalar_one()
    if result.transfers:
        conn.execute(text(
            "INSERT INTO audit (at, actor, action, entity, entity_id, field, old, new) "
            "SELECT :at, :actor, 'transfer', 'claim', x.claim_id, 'adviser_id', x.old_adviser, x.new_adviser "
            "FROM import_transfer x"
        ), p)
        conn.execute(text(
            "UPDATE assignment SET to_date = :as_at FROM import_transfer x "
            "WHERE assignment.claim_id = x.claim_id AND assignment.to_date IS NULL"
        ), p)
        conn.execute(text(
            "INSERT INTO assignment (claim_id, adviser_id, team_id, from_date, to_date, batch_id, reason) "
            "SELECT x.claim_id, x.new_adviser, x.team_id, :as_at, NULL, :batch, 'extract' FROM import_transfer x"
        ), p)
    conn.exec_driver_sql("DROP TABLE import_transfer")

    # Existing claims whose facts changed (an end date arriving later, a new customer id): audited field by field,
    # from one pass over the extract's claims (MATERIALIZED: else the join is made again for each field).
    pairs = ", ".join(f"CAST(c.{col} AS TEXT) AS old_{i}, CAST(s.{col} AS TEXT) AS new_{i}"
                      for i, col in enumerate(CLAIM_AUDITED))
    fields = " UNION ALL ".join(f"SELECT {i} AS n, '{col}' AS field" for i, col in enumerate(CLAIM_AUDITED))
    old = "CASE f.n " + " ".join(f"WHEN {i} THEN d.old_{i}" for i in range(len(CLAIM_AUDITED))) + " END"
    new = "CASE f.n " + " ".join(f"WHEN {i} THEN d.new_{i}" for i in range(len(CLAIM_AUDITED))) + " END"
    conn.execute(text(
        f"WITH d AS MATERIALIZED (SELECT c.id AS claim_id, {pairs} FROM import_staging s JOIN import_claim c ON c.line = s.line "
        f"WHERE {' OR '.join(f'c.{col} IS DISTINCT FROM s.{col}' for col in CLAIM_AUDITED)}) "
        "INSERT INTO audit (at, actor, action, entity, entity_id, field, old, new) "
        f"SELECT :at, :actor, 'update', 'claim', d.claim_id, f.field, {old}, {new} FROM d CROSS JOIN ({fields}) f "
        f"WHERE ({old}) IS DISTINCT FROM ({new}) ORDER BY f.n, d.claim_id"
    ), p)
    # Compared as the claims stood (import_claim), which they still do here: only the claims that change are
    # looked up in claim, not every staged line's.
    differs = " OR ".join(f"c.{col} IS DISTINCT FROM s.{col}" for col in _CLAIM_FACTS)
    # Customers first: a changed customer_id must point at a customer that exists.
    tell("writing customers", rows, None)
    _sync_customers(conn, p)
    # Each staged line's claim then stands as the line gives it: the line's fingerprint is kept where its customer
    # holds every value it gives, and any earlier line's is forgotten (a line checked the long way, or blanked, has
    # none: it is checked again next time, and an older line met again is not taken as how the claim stands). Set
    # with the facts, in one write of each changed claim; then on the staged claims whose facts did not change.
    fingerprint = ("CASE WHEN s.row_hash IS NOT NULL AND EXISTS (SELECT 1 FROM customer cu "
                   f"WHERE cu.id = s.customer_id AND {_AGREES}) THEN s.row_hash END")
    # A claim that only ended, or only moved to another holder, is written by an UPDATE that sets just those
    # columns: SQLite rewrites the entries of every index a SET column is in, changed or not, and the whole-claim
    # SET is in all four of claim's (an ended claim touches one of them, a moved one two). Each changed claim
    # is in exactly one of the three, and ends as the whole-claim SET would leave it.
    result.claims_updated = 0
    for columns, where in _CLAIM_UPDATES:
        result.claims_updated += conn.execute(text(
            f"UPDATE claim SET {columns}, last_batch_id = :batch, version = claim.version + 1, "
            f"extract_hash = {fingerprint} "
            "FROM import_staging s JOIN import_claim c ON c.line = s.line JOIN staff st ON st.id = s.adviser_id "
            f"WHERE claim.id = c.id AND ({differs}) AND {where}"
        ), p).rowcount
    conn.execute(text(
        f"UPDATE claim SET extract_hash = {fingerprint} FROM import_staging s JOIN import_claim c ON c.line = s.line "
        f"WHERE claim.id = c.id AND NOT ({differs}) AND claim.extract_hash IS DISTINCT FROM {fingerprint}"
    ))

    # New claims: the first extract that carries a claim gives its on-flow holder.
    tell("writing new claims", rows, None)
    deferred = _defer_indexes(conn, (schema.Claim.__table__, schema.Assignment.__table__))
    deferred_keys = _defer_foreign_keys(conn, ("claim", "assignment"))
    # The staged lines of new claims (their adviser's and customer's rows written above).
    new_lines = ("FROM import_staging s JOIN staff st ON st.id = s.adviser_id JOIN customer cu ON cu.id = s.customer_id "
                 "WHERE NOT EXISTS (SELECT 1 FROM import_claim c WHERE c.line = s.line)")
    result.claims_added = conn.execute(text(
        "INSERT INTO claim (id, customer_id, benefit, claim_start, claim_end, end_reason, start_day, end_day, "
        "onflow_adviser_id, onflow_team_id, onflow_office_id, adviser_id, team_id, office_id, "
        "first_batch_id, last_batch_id, version, extract_hash) "
        "SELECT s.claim_id, s.customer_id, s.benefit, s.claim_start, s.claim_end, s.end_reason, s.start_day, s.end_day, "
        "s.adviser_id, st.team_id, st.office_id, s.adviser_id, st.team_id, st.office_id, :batch, :batch, 1, "
        f"CASE WHEN {_AGREES} THEN s.row_hash END {new_lines}"
    ), p).rowcount
    # Their first assignments. On a first load every claim is new: one pass over them (read back from staging
    # with its look-ups it took 2.4 s at 1,000,000 claims). Else from the same staged lines, not a pass over every
    # claim for the day's few new ones (0.13 s at 1,000,000 claims).
    first = ("SELECT c.id, c.adviser_id, c.team_id, c.claim_start, NULL, :batch, 'extract' FROM claim c "
             "WHERE c.first_batch_id = :batch")
    conn.execute(text(
        "INSERT INTO assignment (claim_id, adviser_id, team_id, from_date, to_date, batch_id, reason) " +
        (first if tally is not None else
         f"SELECT s.claim_id, s.adviser_id, st.team_id, s.claim_start, NULL, :batch, 'extract' {new_lines}")
    ), p)
    if tally is not None:
        summary.write_first_load(conn, marks, tally)
    tell("indexing", rows, None)
    for index in deferred:
        index.create(conn)
    for table, name, definition in deferred_keys:
        conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
    tell("counting summaries", rows, None)
    summary.after_import(conn, marks, int(batch_id))
    if tally is not None:
        # A first load: the planner's statistics of the tables it filled now, not whenever autovacuum comes by (the
        # next day's import, planned without them, reads every claim for each of its joins).
        analyze(conn, "claim", "customer", "assignment", "staff", "cohort_summary", "cohort_summary_team", "cohort_start")
    result.rows_imported = result.rows_read - result.rows_rejected
    conn.execute(bt.update().where(bt.c.id == batch_id).values(
        claims_added=result.claims_added, claims_updated=result.claims_updated, transfers=result.transfers,
    ))
    record(
        conn, clock, actor, "import", "import_batch", str(batch_id), None, None,
        f"{path.name} as at {as_at.isoformat()}: {result.claims_added} added, "
        f"{result.claims_updated} updated, {result.transfers} transfers, {result.rows_rejected} rejected",
    )


# The claim's facts an import audits when they change, in the audit's order.
CLAIM_AUDITED = ("claim_end", "end_reason", "benefit", "claim_start", "customer_id")
# The facts and holder a staged line gives its claim: equal in all of them, the line changes no claim.
_CLAIM_FACTS = ("claim_end", "end_reason", "benefit", "claim_start", "customer_id", "adviser_id")
_CLAIM_SAME = " AND ".join(f"c.{col} IS NOT DISTINCT FROM import_staging.{col}" for col in _CLAIM_FACTS)


def _same(*pairs: str) -> str:
    """Each "a b" pair's two columns not distinct, ANDed."""
    return "(" + " AND ".join(f"{a} IS NOT DISTINCT FROM {b}" for a, b in map(str.split, pairs)) + ")"


# The three UPDATEs of a day's changed claims (_write), as (SET, WHERE): the claims that only ended (their start,
# customer, holder and its team and office as they stand), those that only moved to another holder (their start
# and end as they stand), and every other.
_ONLY_ENDED = _same("c.benefit s.benefit", "c.claim_start s.claim_start", "c.customer_id s.customer_id",
                    "c.adviser_id s.adviser_id", "claim.start_day s.start_day", "claim.team_id st.team_id",
                    "claim.office_id st.office_id")
_ONLY_MOVED = _same("c.claim_end s.claim_end", "c.end_reason s.end_reason", "c.benefit s.benefit",
                    "c.claim_start s.claim_start", "c.customer_id s.customer_id", "claim.start_day s.start_day",
                    "claim.end_day s.end_day")
_CLAIM_UPDATES = (
    ("claim_end = s.claim_end, end_reason = s.end_reason, end_day = s.end_day", _ONLY_ENDED),
    ("adviser_id = s.adviser_id, team_id = st.team_id, office_id = st.office_id", _ONLY_MOVED),
    ("claim_end = s.claim_end, end_reason = s.end_reason, benefit = s.benefit, claim_start = s.claim_start, "
     "start_day = s.start_day, end_day = s.end_day, customer_id = s.customer_id, adviser_id = s.adviser_id, "
     "team_id = st.team_id, office_id = st.office_id", f"NOT {_ONLY_ENDED} AND NOT {_ONLY_MOVED}"),
)
_CUSTOMER_PAIRS = (("name", "customer_name"), ("date_of_birth", "date_of_birth"), ("nino", "nino"),
                   ("sex", "sex"), ("disability", "disability"), ("ethnicity", "ethnicity"))
# A staged line `s` whose customer `cu` holds every value it gives.
_AGREES = " AND ".join(f"(s.{src} IS NULL OR s.{src} = cu.{dst})" for dst, src in _CUSTOMER_PAIRS)
# Every line's adviser, team and office: the staged lines' and the unchanged ones'.
_NAMED = ("(SELECT adviser_id, adviser_name, team, office FROM import_staging "
          "UNION ALL SELECT adviser_id, adviser_name, team, office FROM import_advisers)")


def _drop_unchanged(conn: Connection) -> None:
    """Remove from staging every row that the steps after it would not act on: its claim exists with
    the same facts and holder (no transfer, no audit, no update, no summary mark), and either it is not
    its customer's latest row (whose values _sync_customers uses) or the customer already holds every
    value it gives. Called after advisers and local reassignments have read the whole extract. A kept
    row that is not its customer's latest (a later line names the customer, staged or recognised unchanged)
    has its customer values blanked first, so that dropping the latest row (which changes nothing) cannot
    make an older row the one whose values are taken. A dropped row's claim keeps the row's fingerprint
    where its customer holds every value the row gives (a blanked row's is forgotten)."""
    if conn.execute(text("SELECT 1 FROM claim LIMIT 1")).first() is None:
        return  # a first load: every row is new
    # One pass over staging: whether each row's claim stands as it gives it, and whether the row is
    # older than its customer's latest; then the blanking and the drop read those flags by line.
    same = f"CASE WHEN c.id IS NOT NULL AND {_CLAIM_SAME} THEN 1 ELSE 0 END"
    older = ("CASE WHEN import_staging.later_unchanged = 1 OR import_staging.line < (SELECT MAX(s2.line) "
             "FROM import_staging s2 WHERE s2.customer_id = import_staging.customer_id) THEN 1 ELSE 0 END")
    customer_same = "EXISTS (SELECT 1 FROM customer cu WHERE cu.id = import_staging.customer_id AND " + " AND ".join(
        f"(import_staging.{src} IS NULL OR import_staging.{src} = cu.{dst})" for dst, src in _CUSTOMER_PAIRS) + ")"
    blank = ", ".join(f"{src} = NULL" for _, src in _CUSTOMER_PAIRS) + ", row_hash = NULL"
    conn.exec_driver_sql("DROP TABLE IF EXISTS import_unchanged")
    conn.execute(text(
        f"CREATE TEMPORARY TABLE import_unchanged AS SELECT import_staging.line AS line, {same} AS same, "
        f"{older} AS older FROM import_staging LEFT JOIN import_claim c ON c.line = import_staging.line"
    ))
    conn.execute(text(f"UPDATE import_staging SET {blank} WHERE line IN "
                      "(SELECT u.line FROM import_unchanged u WHERE u.same = 0 AND u.older = 1)"))
    conn.execute(text(
        "UPDATE claim SET extract_hash = s.row_hash FROM import_staging s JOIN import_unchanged u ON u.line = s.line "
        "WHERE s.claim_id = claim.id AND u.same = 1 AND s.row_hash IS NOT NULL "
        "AND claim.extract_hash IS DISTINCT FROM s.row_hash "
        f"AND EXISTS (SELECT 1 FROM customer cu WHERE cu.id = s.customer_id AND {_AGREES})"
    ))
    conn.execute(text(
        "DELETE FROM import_staging WHERE line IN (SELECT u.line FROM import_unchanged u WHERE u.same = 1 AND u.older = 1) "
        f"OR (line IN (SELECT u.line FROM import_unchanged u WHERE u.same = 1 AND u.older = 0) AND {customer_same})"
    ))
    conn.exec_driver_sql("DROP TABLE import_unchanged")


def _defer_foreign_keys(conn: Connection, tables: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """On PostgreSQL, when those tables are still empty (a first load), their foreign keys, dropped:
    the caller adds them back after its bulk insert, one set-based check per key instead of a trigger
    call per row and key (claim has nine). Inside the write transaction, so a failed import keeps them.
    Returns (table, constraint name, definition) to add back, as the catalogue gives them."""
    if conn.dialect.name != "postgresql":
        return []
    dropped: list[tuple[str, str, str]] = []
    for table in tables:
        if conn.exec_driver_sql(f'SELECT 1 FROM "{table}" LIMIT 1').first() is not None:
            continue
        keys = conn.exec_driver_sql(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %(t)s::regclass AND contype = 'f' ORDER BY conname", {"t": table}
        ).all()
        for name, definition in keys:
            conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            dropped.append((table, name, definition))
    return dropped


def _defer_indexes(conn: Connection, tables: tuple[Table, ...]) -> list[Index]:
    """The indexes of those tables that are still empty (a first load), dropped: the caller builds them
    again after its bulk insert, a sort instead of a million inserts in random key order. Inside the
    write transaction (DDL is transactional on SQLite and PostgreSQL), so a failed import leaves them."""
    dropped: list[Index] = []
    for table in tables:
        if conn.execute(select(1).select_from(table).limit(1)).first() is None:
            for index in sorted(table.indexes, key=lambda i: i.name or ""):
                conn.exec_driver_sql(f'DROP INDEX IF EXISTS "{index.name}"')
                dropped.append(index)
    return dropped


def _sync_customers(conn: Connection, p: dict[str, Any]) -> None:
    """New customers are added; known ones take the extract's values where it gives one."""
    # The customer's latest row: no later line names the same customer. An anti-join, which PostgreSQL
    # answers with one hash join rather than a subquery per staged row (as SQLite does either way).
    latest_row = ("NOT EXISTS (SELECT 1 FROM import_staging s2 WHERE s2.customer_id = s.customer_id "
                  "AND s2.line > s.line)")
    # Into an empty table (a first load) every customer comes from its latest row, so none differs.
    first_load = conn.execute(text("SELECT 1 FROM customer LIMIT 1")).first() is None
    conn.execute(text(
        "INSERT INTO customer (id, name, date_of_birth, nino, sex, disability, ethnicity, version) "
        "SELECT s.customer_id, s.customer_name, s.date_of_birth, s.nino, s.sex, s.disability, s.ethnicity, 1 "
        f"FROM import_staging s WHERE {latest_row} "
        "AND NOT EXISTS (SELECT 1 FROM customer c WHERE c.id = s.customer_id)"
    ))
    if first_load:
        return
    pairs = [("name", "customer_name"), ("date_of_birth", "date_of_birth"), ("nino", "nino"),
             ("sex", "sex"), ("disability", "disability"), ("ethnicity", "ethnicity")]
    differs = " OR ".join(f"(s.{src} IS NOT NULL AND s.{src} IS DISTINCT FROM customer.{dst})" for dst, src in pairs)
    conn.execute(text(
        "INSERT INTO audit (at, actor, action, entity, entity_id, field, old, new) "
        "SELECT :at, :actor, 'update', 'customer', customer.id, NULL, NULL, 'from extract batch ' || CAST(:batch AS VARCHAR(20)) "
        f"FROM customer JOIN import_staging s ON s.customer_id = customer.id WHERE {latest_row} AND ({differs})"
    ), p)
    # A customer whose values change: the fingerprints of their claims' lines no longer say how they stand.
    conn.execute(text(
        "UPDATE claim SET extract_hash = NULL WHERE extract_hash IS NOT NULL AND customer_id IN (SELECT customer.id "
        f"FROM customer JOIN import_staging s ON s.customer_id = customer.id WHERE {latest_row} AND ({differs}))"
    ))
    sets = ", ".join(f"{dst} = COALESCE(s.{src}, customer.{dst})" for dst, src in pairs)
    conn.execute(text(
        f"UPDATE customer SET {sets}, version = customer.version + 1 FROM import_staging s "
        f"WHERE s.customer_id = customer.id AND {latest_row} AND ({differs})"
    ))


def _sync_advisers(conn: Connection, clock: Clock, actor: Actor) -> None:
    """Advisers arrive with extracts: add new ones, follow a name or team change. Few rows, so in Python."""
    rows = conn.execute(text(
        "SELECT s.adviser_id, MAX(s.adviser_name) AS name, MAX(s.team) AS team, MAX(s.office) AS office "
        f"FROM {_NAMED} s GROUP BY s.adviser_id"
    )).all()
    teams = {
        (r.office, r.team): (r.team_id, r.office_id)
        for r in conn.execute(text(
            "SELECT o.name AS office, t.name AS team, t.id AS team_id, o.id AS office_id "
            "FROM team t JOIN office o ON o.id = t.office_id"
        ))
    }
    offices = {r.name: r.id for r in conn.execute(text("SELECT id, name FROM office"))}
    st = schema.Staff.__table__
    known = {r.id: r for r in conn.execute(select(st.c.id, st.c.name, st.c.team_id, st.c.office_id, st.c.version))}
    new_rows = []
    for r in rows:
        team_id, office_id = teams.get((r.office, r.team), (None, offices.get(r.office)))
        old = known.get(r.adviser_id)
        if old is None:
            new_rows.append({"id": r.adviser_id, "name": r.name or r.adviser_id, "role": "adviser",
                             "team_id": team_id, "office_id": office_id, "active": True, "version": 1})
            continue
        changes: dict[str, Any] = {}
        if r.name and r.name != old.name:
            changes["name"] = r.name
        if r.team is not None and team_id != old.team_id:
            changes["team_id"] = team_id
            changes["office_id"] = office_id
        if changes:
            for k, v in changes.items():
                record(conn, clock, actor, "update", "staff", r.adviser_id, k, getattr(old, k), v)
            conn.execute(st.update().where(st.c.id == r.adviser_id).values(**changes, version=old.version + 1))
    if new_rows:
        conn.execute(st.insert(), new_rows)
        for n in new_rows:
            record(conn, clock, actor, "add", "staff", n["id"], None, None, f"adviser from extract, team {n['team_id']}")
