"""Hostile text in, nothing dangerous out: names and notes that look like formulas, markup or HTML go
through the importer and every export format, and are read back with the real readers.

- CSV (csv module): no cell starts a formula; the text itself is there, behind one apostrophe.
- XLSX (openpyxl): no cell is a formula.
- HTML (html.parser): no element or attribute that a page with plain names does not have.
- Markdown: every table row has the header's number of cells; no HTML tag or code span opens.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from caseload.cli import main
from caseload.clock import FixedClock
from caseload.escaping import FORMULA_START, md_text, sheet_text, unguard
from caseload.export import conference as cx
from caseload.measures.conference import ActionLine, Agenda, AgendaItem, ConferenceSummary, SummaryCounts, SummaryItem
from caseload.store import records
from caseload.store.access import ADMIN
from caseload.store.db import open_database, write
from caseload.store.importer import import_claims
from extracts import HEADER, row, write_extract

AS_AT = dt.date(2026, 5, 1)
TODAY = dt.date(2026, 5, 11)

EXAMPLES = [
    '=HYPERLINK("http://x.example")', "+1", "-2+3", "@SUM(A1)", "\t=1", "[bold red]x[/]", "[/]",
    "<script>alert(1)</script>", '<img src=x onerror="alert(1)">', "| a | b", "`code`", "# heading", "> quote",
    "- item", "1. first", "**bold** _em_", "[link](javascript:alert(1))", "O'Brien & <Co>", "x" * 300,
    "مرحبا بالعالم", "שלום", "'=already guarded",
]
# Text a person could type or an extract could carry: no control characters (the importer refuses those,
# tested below), no surrogates, and something left after the importer's trim of spaces.
typed = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
    lambda s: s.strip() == s and s != "")
hostile = st.sampled_from(EXAMPLES) | typed.map(lambda s: "=" + s) | typed


def _office(root: Path, name: str):  # noqa: ANN202
    """A small office whose customer, adviser and team names, RAG reason and action are `name`."""
    engine = open_database(str(root / "office.sqlite3"), FixedClock.on(AS_AT))
    clean = name.strip() or "x"
    who = {"adviser_id": "A1", "adviser_name": clean, "team": clean}
    long_ago = (AS_AT - dt.timedelta(days=400)).isoformat()
    rows = [row("C1", customer_name=clean, claim_start=long_ago, **who),
            row("C2", customer_name=clean, claim_start="2026-01-05", **who),
            row("C3", customer_name=clean, claim_start="2026-01-05", claim_end="2026-03-02",
                end_reason="sanction", **who)]
    import_claims(engine, write_extract(root / "x.csv", rows), as_at=AS_AT, actor=ADMIN, clock=FixedClock.on(AS_AT))
    today = FixedClock.on(TODAY)
    with write(engine) as conn:
        records.set_rag(conn, today, ADMIN, "C1", "R", clean)
        records.add_action(conn, today, ADMIN, "C1", clean, "A1", TODAY)
        records.log_contact(conn, today, ADMIN, "C2", dt.date(2026, 3, 30), "decision_maker_referral", True)
    engine.dispose()
    return root / "office.sqlite3"


def _export(db: Path, out: Path, *args: str) -> Path:
    assert main(["export", *args, "--db", str(db), "--output", str(out), "--quiet"], clock=FixedClock.on(TODAY)) == 0
    return out


EXPORTS = [("offflow", "--by", "team"), ("beyond52", "--named"),
           ("sanctions", "--named"), ("attention",)]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[str, str]] = set()
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:  # noqa: ANN001
        self.seen.add((tag, ""))
        self.seen.update((tag, a) for a, _ in attrs)

    def handle_data(self, data) -> None:  # noqa: ANN001
        self.text.append(data)


def _html_tags(path: Path) -> tuple[set[tuple[str, str]], str]:
    p = _Tags()
    p.feed(path.read_text(encoding="utf-8"))
    return p.seen, "".join(p.text)


def _csv_is_safe(path: Path) -> list[list[str]]:
    rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
    for r in rows:
        for cell in r:
            assert not (cell.startswith(FORMULA_START) and not re.fullmatch(r"-?\d+(\.\d+)?", cell)), cell
    return rows


def _markdown_is_safe(text: str) -> None:
    lines = [re.sub(r"\\\\", "", line) for line in text.splitlines()]  # an escaped backslash escapes nothing
    for i, line in enumerate(lines):
        if line.startswith("|") and i + 1 < len(lines) and re.fullmatch(r"\|(-+:?\|)+", lines[i + 1]):
            width = len(re.split(r"(?<!\\)\|", line))
            j = i + 2
            while j < len(lines) and lines[j].startswith("|"):
                assert len(re.split(r"(?<!\\)\|", lines[j])) == width, lines[j]
                j += 1
        assert not re.search(r"(?<!\\)<[A-Za-z/!?]", line), line
        if not line.startswith("- `"):  # the definitions' own column names are code spans
            assert not re.search(r"(?<!\\)`", line), line


@pytest.fixture(scope="module")
def plain_tags(tmp_path_factory) -> dict[str, set]:  # noqa: ANN001
    """The elements and attributes each HTML export has with plain names."""
    root = tmp_path_factory.mktemp("plain")
    db = _office(root, "Plain Name")
    return {" ".join(args): _html_tags(_export(db, root / f"{i}.html", *args, "--format", "html"))[0]
            for i, args in enumerate(EXPORTS)}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=hostile)
def test_hostile_names_through_the_importer_and_every_export_format(name: str, plain_tags) -> None:  # noqa: ANN001
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db = _office(root, name)
        # As the office holds it: the importer trims spaces and tabs, and reads a guarded cell back as its text.
        name = unguard(name.strip()) or "x"
        for i, args in enumerate(EXPORTS):
            rows = _csv_is_safe(_export(db, root / f"{i}.csv", *args, "--format", "csv"))
            if args[0] in ("beyond52", "offflow"):
                assert any(unguard(c) == name for r in rows for c in r), (args, name)
            tags, text = _html_tags(_export(db, root / f"{i}.html", *args, "--format", "html"))
            assert tags <= plain_tags[" ".join(args)], tags - plain_tags[" ".join(args)]
            if args[0] in ("beyond52", "offflow"):
                assert name in text
            _markdown_is_safe(_export(db, root / f"{i}.md", *args, "--format", "md").read_text(encoding="utf-8"))
        for i, args in enumerate(EXPORTS[:1]):
            wb = load_workbook(_export(db, root / f"{i}.xlsx", *args, "--format", "xlsx"))
            values = []
            for ws in wb.worksheets:
                for xl_row in ws.iter_rows():
                    for cell in xl_row:
                        assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                        values.append(cell.value)
            assert name in values


def _summary(name: str) -> ConferenceSummary:
    action = ActionLine(1, 1, name, "A1", name, TODAY, "open", None, TODAY)
    item = SummaryItem(0, "C1", "P1", name, name, "discussed", None, name, name, None, True, name, "change", "A", "R",
                       name, (action,), (), ())
    return ConferenceSummary(1, "A1", name, "M1", name, name, TODAY, "finished", dt.datetime(2026, 5, 11, 12),
                             name, SummaryCounts(1, 1, 0, 0, 1, 1, 0, 0), (item,))


@settings(max_examples=25, deadline=None)
@given(name=hostile)
def test_hostile_text_in_the_conference_and_agenda_exports(name: str) -> None:
    s = _summary(name)
    out = io.StringIO()
    cx.write_summary_csv([s], out, named=True)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    for r in rows:
        for cell in r:
            assert not (cell.startswith(FORMULA_START) and not re.fullmatch(r"-?\d+(\.\d+)?", cell))
    assert name in [unguard(c) for c in rows[1]]
    page = io.StringIO()
    cx.write_summary_html([s], page, named=True, generated_at=dt.datetime(2026, 5, 11), generated_by="M1")
    tags, text = _html_tags_of(page.getvalue())
    plain, _ = _html_tags_of(_html_of(_summary("Plain Name")))
    assert tags <= plain and name in text
    assert 'http-equiv="Content-Security-Policy"' in page.getvalue()
    md = io.StringIO()
    cx.write_summary_markdown([s], md, named=True, generated_at=dt.datetime(2026, 5, 11), generated_by="M1")
    _markdown_is_safe(md.getvalue())
    assert md_text(name) in md.getvalue()
    agenda = Agenda("A1", name, name, TODAY, None, None, (AgendaItem(
        "C1", "P1", name, "JSA", dt.date(2026, 1, 5), 18, 26, dt.date(2026, 7, 6), 56, "R", (name,),
        (ActionLine(1, 1, name, "A1", name, TODAY, "open", None, TODAY),)),))
    a_md, a_html = io.StringIO(), io.StringIO()
    cx.write_agenda_markdown(agenda, a_md, named=True, generated_at=dt.datetime(2026, 5, 11), generated_by="M1")
    cx.write_agenda_html(agenda, a_html, named=True, generated_at=dt.datetime(2026, 5, 11), generated_by="M1")
    _markdown_is_safe(a_md.getvalue())
    tags, _ = _html_tags_of(a_html.getvalue())
    assert not {t for t, _ in tags} - {"html", "head", "meta", "title", "style", "body", "h1", "h2", "dl", "dt", "dd",
                                        "p", "ul", "li", "em", "section", "span"}
    assert 'http-equiv="Content-Security-Policy"' in a_html.getvalue()


def _html_of(s: ConferenceSummary) -> str:
    page = io.StringIO()
    cx.write_summary_html([s], page, named=True, generated_at=dt.datetime(2026, 5, 11), generated_by="M1")
    return page.getvalue()


def _html_tags_of(html: str) -> tuple[set[tuple[str, str]], str]:
    p = _Tags()
    p.feed(html)
    return p.seen, "".join(p.text)


def test_numbers_stay_numbers_and_only_text_is_guarded() -> None:
    assert sheet_text("-5") == "-5" and sheet_text("12.50") == "12.50" and sheet_text(7) == 7
    assert sheet_text("-2+3") == "'-2+3" and sheet_text("=1") == "'=1" and sheet_text("\t=1") == "'\t=1"
    assert sheet_text("Team A") == "Team A" and unguard("'=1") == "=1" and unguard("O'Brien") == "O'Brien"


# --- the importer -----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["\x1b[2J", "\x1b]52;c;aGVsbG8=\x07", "a\x00b", "bell\x07", "\x7f", "c1\x9b31m"])
def test_control_characters_are_a_named_bad_row_and_nothing_is_written(tmp_path, bad) -> None:
    engine = open_database(str(tmp_path / "db.sqlite3"), FixedClock.on(AS_AT))
    path = tmp_path / "x.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerow([row("C1").get(h, "") for h in HEADER])
        w.writerow([row("C2", customer_name=f"Ann {bad}").get(h, "") for h in HEADER])
    from caseload.store.errors import StoreError

    with pytest.raises(StoreError) as caught:
        import_claims(engine, path, as_at=AS_AT, actor=ADMIN, clock=FixedClock.on(AS_AT))
    said = str(caught.value)
    assert "line 3" in said and "customer_name" in said and "control character" in said
    first = next(ch for ch in bad if ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F)
    assert f"U+{ord(first):04X}" in said
    with engine.connect() as conn:
        from sqlalchemy import text

        assert conn.execute(text("SELECT COUNT(*) FROM claim")).scalar() == 0


def test_a_guarded_rejects_file_fixed_and_imported_gives_the_names_back(tmp_path) -> None:
    """The rejects file guards a formula-like name with an apostrophe; fixed and imported, the name is as it was."""
    engine = open_database(str(tmp_path / "db.sqlite3"), FixedClock.on(AS_AT))
    name = '=HYPERLINK("http://x.example")'
    src = write_extract(tmp_path / "x.csv", [row("C1"), row("C2", customer_name=name, claim_start="2026-13-01")])
    rejects = tmp_path / "rejects.csv"
    assert main(["import", "claims", str(src), "--as-at", AS_AT.isoformat(), "--db", str(tmp_path / "db.sqlite3"),
                 "--partial", "--rejects", str(rejects), "--quiet"], clock=FixedClock.on(AS_AT)) == 0
    lines = list(csv.DictReader(rejects.open(encoding="utf-8", newline="")))
    assert lines[0]["customer_name"] == "'" + name  # a spreadsheet shows it as text
    fixed = tmp_path / "fixed.csv"
    with open(fixed, "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=HEADER, extrasaction="ignore")
        w.writeheader()
        w.writerows([{**lines[0], "claim_start": "2026-01-13"}])
    import_claims(engine, fixed, as_at=AS_AT, actor=ADMIN, clock=FixedClock.on(AS_AT))
    with engine.connect() as conn:
        from sqlalchemy import text

        got = conn.execute(text("SELECT c.name FROM claim k JOIN customer c ON c.id = k.customer_id "
                                "WHERE k.id = 'C2'")).scalar()
    assert got == name
