"""The XLSX, Markdown and HTML off-flow exports show what the CSV shows, with their markers.

Each format is read back the way its reader would (openpyxl, a Markdown table, an HTML parser)
and compared with the contract's CSV values for the same result.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest

from caseload.cli import main
from caseload.escaping import unguard
from caseload.clock import FixedClock
from caseload.export.common import EXTRA_COLUMNS
from caseload.export.html import write_html
from caseload.export.markdown import write_markdown
from caseload.export.offflow import COLUMNS, DEFINITIONS, LIMIT_COLUMNS, metadata, row_values, write_csv
from caseload.export.xlsx import header as xlsx_header
from caseload.export.xlsx import write_xlsx
from caseload.measures.cohorts import CohortKind
from caseload.store.access import ADMIN
from caseload.store.db import open_database
from caseload.store.importer import import_claims
from caseload.store.offflow import OffflowQuery, offflow
from extracts import cohort_of_40, row, write_extract

IDX = {c: i for i, c in enumerate(COLUMNS)}
# A name that must stay text everywhere (escaped in Markdown and HTML, never a formula in XLSX), and
# that sorts before "Team A" though it performs worse: groups keep the contract's code-point order,
# never a league-table order.
TEAM_B = "=Mill <b> & Co"
CLOCK = FixedClock.on(dt.date(2026, 3, 9))
AS_AT = dt.date(2026, 3, 6)


# --- data ------------------------------------------------------------------------------------


def _result(tmp_path: Path, rows: list[dict], as_at: dt.date, q: OffflowQuery, clock: FixedClock):
    engine = open_database(str(tmp_path / "db.sqlite3"), clock)
    try:
        import_claims(engine, write_extract(tmp_path / "x.csv", rows), as_at=as_at, actor=ADMIN, clock=clock)
        with engine.connect() as conn:
            result = offflow(conn, ADMIN, q)
    finally:
        engine.dispose()
    return result, metadata(result, generated_at=clock.now(), generated_by=ADMIN.id)


def teams(tmp_path: Path):
    """Team A: 9 claims in June 2025, 6 off within 13 weeks (66.66%, small n, final at 13 and 26 weeks).
    TEAM_B: 50 claims in January 2026, 27 off so far (54.00%, interim, 1 short of 56%)."""
    rows = [row(f"C{i:03d}", claim_start="2025-06-02", claim_end="2025-07-01" if i < 6 else "",
                end_reason="found_work" if i < 6 else "") for i in range(9)]
    rows += [row(f"C{100 + i:03d}", claim_start="2026-01-05", claim_end="2026-02-02" if i < 27 else "",
                 end_reason="sanction" if i < 3 else ("found_work" if i < 27 else ""), adviser_id="A2",
                 adviser_name="Ben Ode", team=TEAM_B) for i in range(50)]
    q = OffflowQuery(group_by="team", cohort=CohortKind.CALENDAR_MONTH, first=dt.date(2025, 6, 1),
                     last=dt.date(2026, 1, 31))
    return _result(tmp_path, rows, AS_AT, q, CLOCK)


def sexes(tmp_path: Path):
    """4 women and 5 men, all off within 13 weeks: the women's counts are suppressed, the men's shown."""
    rows = [row(f"C{i:03d}", claim_start="2025-06-02", claim_end="2025-07-01", end_reason="found_work",
                sex="female" if i < 4 else "male") for i in range(9)]
    q = OffflowQuery(group_by="sex", cohort=CohortKind.CALENDAR_MONTH, first=dt.date(2025, 6, 1),
                     last=dt.date(2025, 6, 30), milestones=(13,))
    return _result(tmp_path, rows, AS_AT, q, CLOCK)


FORTY_CLOCK = FixedClock.on(dt.date(2013, 1, 1))


def forty(tmp_path: Path):
    engine = open_database(str(tmp_path / "db.sqlite3"), FORTY_CLOCK)
    try:
        import_claims(engine, cohort_of_40(tmp_path), as_at=dt.date(2012, 12, 31), actor=ADMIN, clock=FORTY_CLOCK)
        with engine.connect() as conn:
            result = offflow(conn, ADMIN, OffflowQuery(cohort=CohortKind.CALENDAR_MONTH, first=dt.date(2011, 4, 1),
                                                       last=dt.date(2011, 4, 30)))
    finally:
        engine.dispose()
    return result, metadata(result, generated_at=FORTY_CLOCK.now(), generated_by=ADMIN.id)


def csv_rows(result) -> list[dict[str, str]]:
    out = io.StringIO()
    write_csv(result, out)
    return list(csv.DictReader(io.StringIO(out.getvalue())))


# --- readers ---------------------------------------------------------------------------------


def read_xlsx(source) -> tuple[openpyxl.Workbook, list[dict[str, object]]]:  # noqa: ANN001
    """The Summary's rows keyed by the contract's column names (the sheet shows headings for people)."""
    wb = openpyxl.load_workbook(source)
    ws = wb["Summary"]
    name = {xlsx_header(c): c for c in (*COLUMNS, *LIMIT_COLUMNS, *EXTRA_COLUMNS)}
    head = [name[c.value] for c in ws[1]]
    return wb, [dict(zip(head, (c.value for c in r))) for r in ws.iter_rows(min_row=2)]


def as_csv_text(column: str, cell) -> str:  # noqa: ANN001
    """An XLSX cell as the CSV writes the same value."""
    v = cell.value
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if column == "rate_pct":
        assert cell.number_format == "0.00" and cell.data_type == "n"
        return f"{v:.2f}"
    if column == "meets_target":
        return {"✓ meets": "yes", "✗ misses": "no"}[v]
    return str(v)


def md_sections(text: str) -> dict[str, list[list[list[str]]]]:
    """Markdown tables under each "## " heading: tables -> rows -> cells (header row first)."""
    sections: dict[str, list[list[list[str]]]] = {}
    heading, table = None, None
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:]
            sections[heading] = []
            table = None
        elif line.startswith("| ") and heading is not None:
            if table is None:
                table = []
                sections[heading].append(table)
            table.append([c.strip() for c in line.strip().strip("|").split(" | ")])
        elif line.startswith("|---"):
            continue
        else:
            table = None
    return sections


class Node:
    def __init__(self, tag: str, attrs: dict[str, str | None]):
        self.tag, self.attrs, self.children = tag, attrs, []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else ("\n" if c.tag == "br" else c.text()) for c in self.children)

    def find_all(self, tag: str) -> list[Node]:
        out = []
        for c in self.children:
            if isinstance(c, Node):
                if c.tag == tag:
                    out.append(c)
                out += c.find_all(tag)
        return out


class Tree(HTMLParser):
    VOID = {"br", "meta", "link", "img", "hr", "input"}

    def __init__(self, html: str):
        super().__init__()
        self.root = Node("#root", {})
        self.stack = [self.root]
        self.feed(html)

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):  # noqa: ANN001
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag):  # noqa: ANN001
        while len(self.stack) > 1:
            if self.stack.pop().tag == tag:
                break

    def handle_data(self, data):  # noqa: ANN001
        self.stack[-1].children.append(data)


def html_header(root: Node) -> dict[str, str]:
    dl = root.find_all("dl")[0]
    dts, dds = dl.find_all("dt"), dl.find_all("dd")
    return {a.text(): b.text() for a, b in zip(dts, dds)}


def html_sections(root: Node) -> dict[str, Node]:
    return {s.find_all("h2")[0].text(): s for s in root.find_all("section") if s.attrs.get("class") == "group"}


def html_matrix(section: Node) -> dict[tuple[str, str], list[str]]:
    """(cohort label, "13 weeks") -> the cell's lines of text."""
    table = [t for t in section.find_all("table") if t.attrs.get("class") == "matrix"][0]
    head = [th.text() for th in table.find_all("thead")[0].find_all("th")]
    out = {}
    for tr in table.find_all("tbody")[0].find_all("tr"):
        label = tr.find_all("th")[0].children[0]
        for h, td in zip(head[1:], tr.find_all("td")):
            out[(label, h)] = td.text().split("\n")
    return out


# --- XLSX ------------------------------------------------------------------------------------


def test_xlsx_summary_has_the_csv_values_a_frozen_header_fills_and_markers(tmp_path):
    result, meta = teams(tmp_path)
    path = tmp_path / "out.xlsx"
    assert write_xlsx(result, path, meta) == len(result.rows)
    wb, rows = read_xlsx(path)
    ws = wb["Summary"]
    assert wb.sheetnames == ["Summary", "Definitions", "Metadata"]
    assert ws.freeze_panes == "A2"
    # The control limits and the verdict sit beside the Red/Green (meets_target), before the status.
    at = COLUMNS.index("meets_target") + 1
    head = list(COLUMNS[:at]) + list(LIMIT_COLUMNS) + list(COLUMNS[at:]) + list(EXTRA_COLUMNS)
    # Every CSV value equals the workbook's, typed: counts are integers, the rate a truncated number.
    # Headings for people, in the contract's order; a filter on every column; widths that fit.
    assert [c.value for c in ws[1]][:12] == [
        "Grouped by", "Group", "Cohort period", "Cohort start", "Cohort end", "Milestone (weeks)", "Cohort size",
        "Off-flows", "Off-flow rate %", "Expected level %", "Meets expected level", "95% lower limit (off-flows)"]
    assert [c.value for c in ws[1]] == [xlsx_header(c) for c in head]
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(ws.max_column)}{ws.max_row}"
    for column in ws.iter_cols(min_row=1):
        letter = column[0].column_letter
        longest = max(10 if isinstance(c.value, dt.datetime) else len(str(c.value or "")) for c in column)
        assert ws.column_dimensions[letter].width >= min(longest, 60), (column[0].value, longest)
    expected = csv_rows(result)
    assert len(rows) == len(expected) == 6
    xl_idx = {c: i for i, c in enumerate(head)}
    for got_row, want, xl in zip(rows, expected, ws.iter_rows(min_row=2)):
        # The CSV guards "=Mill..." with an apostrophe; the XLSX cell is that text as a quote-prefixed string.
        assert {c: as_csv_text(c, xl[xl_idx[c]]) for c in (*COLUMNS, *LIMIT_COLUMNS)} == {
            c: unguard(v) for c, v in want.items()}
        assert isinstance(got_row["cohort_size"], int) and isinstance(got_row["offflows"], int)
        group = xl[xl_idx["group"]]
        assert group.data_type == "s" and group.quotePrefix == (group.value == TEAM_B)
    # Team A, 6 of 9 at 13 weeks: 66.66 (never 66.67), met: green fill and the word "yes"; small n noted.
    a13 = rows[3]
    assert (a13["group"], a13["milestone_weeks"], a13["rate_pct"], a13["meets_target"]) == (
        "Team A", 13, 66.66, "✓ meets")
    assert ws["K5"].fill.fgColor.rgb.endswith("C6EFCE")
    assert "small n" in a13["note"]
    # Team A at 26 weeks misses 78%: red fill, "no", and how many more it needs (ceil(7.02) - 6 = 2).
    a26 = rows[4]
    assert (a26["meets_target"], a26["still_needed"]) == ("✗ misses", 2)
    assert ws["K6"].fill.fgColor.rgb.endswith("FFC7CE")
    # TEAM_B, interim at 13 weeks: 27 of 50 is 54.00%, one short of 56%, all 50 not yet at 13 weeks.
    b13 = rows[0]
    assert (b13["group"], b13["offflows"], b13["cohort_size"], b13["rate_pct"], b13["status"]) == (
        TEAM_B, 27, 50, 54.0, "interim")
    assert (b13["still_needed"], b13["not_yet_at"]) == (1, 50)
    assert b13["note"] == "interim: 50 not yet at 13 weeks, needs 1"
    assert ws["I2"].number_format == "0.00" and ws["I2"].data_type == "n"
    assert [r["group"] for r in rows] == [TEAM_B] * 3 + ["Team A"] * 3
    assert ws["B2"].data_type == "s"  # text, not a formula

    terms = {r[0].value: r[1].value for r in wb["Definitions"].iter_rows(min_row=2) if r[0].value}
    csv_names = {r[2].value: r[0].value for r in wb["Definitions"].iter_rows(min_row=2) if r[2].value}
    for column in (*COLUMNS, *LIMIT_COLUMNS, *EXTRA_COLUMNS):
        assert terms[xlsx_header(column)] and csv_names[column] == xlsx_header(column)
    assert "truncated" in terms["Off-flow rate %"]
    for rule in ("Truncated rates", "Exact target comparison", "Final and interim", "Small n", "Suppression",
                 "Off-flows potentially to employment (OPtE)"):
        assert rule in terms
    assert "opte-2010" in terms["Off-flows potentially to employment (OPtE)"]

    md = {r[0].value: r[1].value for r in wb["Metadata"].iter_rows(min_row=2)}
    assert md["as_at"] == "2026-03-06"
    assert md["cohort_period_kind"] == "calendar-month"
    assert md["attribution"].startswith("on-flow")
    assert md["benefit"] == "all benefits"
    assert md["rule_set.name"] == "opte-2010"
    assert md["expected_levels_pct.JSA.13"] == 56
    assert md["destinations_confirmed_by_advisers"] == 0
    assert (md["suppression.applies"], md["suppression.counts_below"]) == (False, 5)


def test_xlsx_is_the_same_bytes_every_run(tmp_path, monkeypatch):
    result, meta = teams(tmp_path)
    first = io.BytesIO()
    write_xlsx(result, first, meta)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 86_400)  # a day later, as far as zip stamps go
    second = io.BytesIO()
    write_xlsx(result, second, meta)
    assert first.getvalue() == second.getvalue()
    wb = openpyxl.load_workbook(first)
    assert wb.properties.created == wb.properties.modified == dt.datetime(2026, 3, 9, 9, 0)


# --- Markdown --------------------------------------------------------------------------------


def test_markdown_header_matrix_and_destinations_match_the_csv(tmp_path):
    result, meta = teams(tmp_path)
    out = io.StringIO()
    write_markdown(result, out, meta)
    text = out.getvalue()
    for line in ("- **As at:** 2026-03-06", "- **Cohort period kind:** calendar-month",
                 "- **Attribution:** on-flow: the adviser, team and office that held the claim when it started",
                 "- **Benefit:** all benefits", "- **Expected levels:** JSA: 13 weeks 56%, 26 weeks 78%, 52 weeks 92%",
                 "- **Destinations confirmed by advisers:** 0"):
        assert line in text.splitlines()
    assert "- **Rule set:** opte-2010: Off-flows potentially to employment" in text
    assert "- **Suppression:** not applied" in text

    sections = md_sections(text)
    # Groups in code-point order, the name escaped so it stays text.
    assert list(sections)[:2] == ["team: =Mill \\<b> & Co", "team: Team A"]
    matrix, dest, *_ = sections["team: Team A"]
    assert matrix[0] == ["Cohort", "13 weeks", "26 weeks", "52 weeks"]
    assert matrix[1] == ["2025-06 (2025-06-01 to 2025-06-30)", "6/9 66.66% ✓ meets 56% · small n",
                         "6/9 66.66% ✗ misses 78% · needs 2 · small n",
                         "6/9 66.66% ✗ misses 92% · interim: 9 not yet at 52 weeks, needs 3 · small n"]
    b_matrix, b_dest, *_ = sections["team: =Mill \\<b> & Co"]
    assert b_matrix[1][1] == "27/50 54.00% ✗ misses 56% · interim: 50 not yet at 13 weeks, needs 1"

    # Every CSV row's numbers are in the matrix cell and the destinations table.
    for want in csv_rows(result):
        table_m, table_d = (matrix, dest) if want["group"] == "Team A" else (b_matrix, b_dest)
        col = table_m[0].index(f"{want['milestone_weeks']} weeks")
        cell = [r for r in table_m[1:] if r[0].startswith(want["cohort_period"] + " ")][0][col]
        assert cell.startswith(f"{want['offflows']}/{want['cohort_size']} {want['rate_pct']}% ")
        assert ("✓ meets" in cell) == (want["meets_target"] == "yes")
        assert ("✗ misses" in cell) == (want["meets_target"] == "no")
        assert ("interim" in cell) == (want["status"] == "interim")
        assert [want["cohort_period"], want["milestone_weeks"], want["offflows"], want["employment_offflows"],
                want["sanction_offflows"], want["not_known_offflows"], want["opte_offflows"]] in table_d
    assert b_dest[0] == ["Cohort", "Weeks", "Off-flows", "Employment", "Sanction", "Not known", "OPtE"]
    assert ["2026-01", "13", "27", "24", "3", "0", "27"] in b_dest

    definitions = text.split("## Definitions", 1)[1]
    assert "truncated" in definitions and "100 × off-flows ≥ target × cohort size" in definitions
    for column in DEFINITIONS:
        assert f"- `{column}`: " in definitions


# --- HTML ------------------------------------------------------------------------------------


def test_html_is_self_contained_with_header_matrix_and_chart(tmp_path):
    result, meta = teams(tmp_path)
    out = io.StringIO()
    write_html(result, out, meta)
    html = out.getvalue()
    for banned in ("<script", "<link", "src=", "url(", "@import", "http://", "https://"):
        assert banned not in html
    assert "@page { size: A4; margin: 12mm; }" in html and "@media print" in html
    assert "<b>" not in html and "=Mill &lt;b&gt; &amp; Co" in html

    root = Tree(html).root
    head = html_header(root)
    assert head["As at"] == "2026-03-06"
    assert head["Cohort period kind"] == "calendar-month"
    assert head["Attribution"].startswith("on-flow")
    assert head["Benefit"] == "all benefits"
    assert head["Rule set"].startswith("opte-2010: ")
    assert head["Expected levels"] == "JSA: 13 weeks 56%, 26 weeks 78%, 52 weeks 92%"
    assert head["Destinations confirmed by advisers"] == "0"
    assert head["Suppression"].startswith("not applied")

    sections = html_sections(root)
    assert list(sections) == [f"team: {TEAM_B}", "team: Team A"]
    a = html_matrix(sections["team: Team A"])
    assert a[("2025-06", "13 weeks")] == ["6/9 66.66%", "✓ meets 56%", "small n"]
    assert a[("2025-06", "26 weeks")] == ["6/9 66.66%", "✗ misses 78%", "needs 2", "small n"]
    b = html_matrix(sections[f"team: {TEAM_B}"])
    assert b[("2026-01", "13 weeks")] == ["27/50 54.00%", "✗ misses 56%", "interim: 50 not yet at 13 weeks, needs 1"]
    for want in csv_rows(result):
        matrix = html_matrix(sections[f"team: {unguard(want['group'])}"])  # the CSV guards "=Mill"
        lines = matrix[(want["cohort_period"], f"{want['milestone_weeks']} weeks")]
        assert lines[0] == f"{want['offflows']}/{want['cohort_size']} {want['rate_pct']}%"

    # One chart per group; final points are filled, interim ones hollow (not colour alone).
    for name, section in sections.items():
        (svg,) = section.find_all("svg")
        points = {m.find_all("title")[0].text(): m for m in svg.find_all("circle") + svg.find_all("rect")
                  + svg.find_all("polygon") if m.find_all("title") and "weeks:" in m.find_all("title")[0].text()}
        want = [r for r in csv_rows(result) if f"team: {unguard(r['group'])}" == name]
        assert len(points) == len(want)
        for r in want:
            title = next(t for t in points if t.startswith(f"{r['cohort_period']}, {r['milestone_weeks']} weeks: "))
            assert f"{r['rate_pct']}% ({r['offflows']}/{r['cohort_size']}), {r['status']}" in title
            assert (points[title].attrs["fill"] == "#fff") == (r["status"] == "interim")
        labels = [t.text() for t in svg.find_all("text")]
        assert "expected 13 wk 56%" in labels and "final" in labels and "interim" in labels


# --- every format ----------------------------------------------------------------------------


def _all_formats(tmp_path: Path, result, meta):  # noqa: ANN001, ANN202
    path = tmp_path / "out.xlsx"
    write_xlsx(result, path, meta)
    md, html = io.StringIO(), io.StringIO()
    write_markdown(result, md, meta)
    write_html(result, html, meta)
    return read_xlsx(path), md.getvalue(), Tree(html.getvalue()).root


def test_suppression_at_four_and_five_in_every_format(tmp_path):
    result, meta = sexes(tmp_path)
    women, men = (row_values(result, r) for r in result.rows)
    assert (women[IDX["group"]], women[IDX["cohort_size"]], women[IDX["rate_pct"]]) == ("female", "<5", "")
    (wb, rows), md, root = _all_formats(tmp_path, result, meta)

    ws = wb["Summary"]
    f, m = rows
    assert (f["cohort_size"], f["offflows"], f["rate_pct"], f["meets_target"], f["sanction_offflows"]) == (
        "<5", "<5", None, None, "<5")
    assert ws["K2"].fill.fill_type is None
    assert "suppressed" in f["note"]
    assert (m["cohort_size"], m["offflows"], m["rate_pct"], m["meets_target"], m["sanction_offflows"]) == (
        5, 5, 100.0, "✓ meets", "<5")
    assert ws["K3"].fill.fgColor.rgb.endswith("C6EFCE")
    meta_sheet = {r[0].value: r[1].value for r in wb["Metadata"].iter_rows(min_row=2)}
    assert (meta_sheet["suppression.applies"], meta_sheet["suppression.shown_as"]) == (True, "<5")

    sections = md_sections(md)
    assert sections["sex: female"][0][1] == ["2025-06 (2025-06-01 to 2025-06-30)", "<5/<5 rate suppressed"]
    assert sections["sex: male"][0][1] == ["2025-06 (2025-06-01 to 2025-06-30)", "5/5 100.00% ✓ meets 56% · small n"]
    assert sections["sex: female"][1][1] == ["2025-06", "13", "<5", "<5", "<5", "<5", "<5"]
    assert sections["sex: male"][1][1] == ["2025-06", "13", "5", "5", "<5", "<5", "5"]
    assert "- **Suppression:** applies: grouped by a personal characteristic (sex), so every count under 5" in md

    groups = html_sections(root)
    assert html_matrix(groups["sex: female"])[("2025-06", "13 weeks")] == ["<5/<5 rate suppressed"]
    assert html_matrix(groups["sex: male"])[("2025-06", "13 weeks")] == ["5/5 100.00%", "✓ meets 56%", "small n"]
    assert html_header(root)["Suppression"].startswith("applies")
    # A suppressed rate is not plotted: the women's chart has no data points.
    titles = [t.text() for t in groups["sex: female"].find_all("svg")[0].find_all("title")]
    assert not [t for t in titles if "weeks:" in t]
    destinations = [t for t in groups["sex: female"].find_all("table") if t.attrs.get("class") == "destinations"][0]
    assert [td.text() for td in destinations.find_all("td")] == ["2025-06", "13", "<5", "<5", "<5", "<5", "<5"]


def test_the_worked_cohort_of_40_in_every_format(tmp_path):
    result, meta = forty(tmp_path)
    (wb, rows), md, root = _all_formats(tmp_path, result, meta)
    assert [(r["milestone_weeks"], r["cohort_size"], r["offflows"], r["rate_pct"], r["target_pct"], r["meets_target"])
            for r in rows] == [(13, 40, 18, 45.0, 56, "✗ misses"), (26, 40, 26, 65.0, 78, "✗ misses"),
                               (52, 40, 33, 82.5, 92, "✗ misses")]
    assert [wb["Summary"][f"I{i}"].number_format for i in (2, 3, 4)] == ["0.00"] * 3
    assert (rows[0]["employment_offflows"], rows[0]["sanction_offflows"], rows[0]["not_known_offflows"],
            rows[0]["opte_offflows"]) == (10, 3, 3, 16)

    matrix = md_sections(md)["All claims in scope"][0]
    assert matrix[1] == ["2011-04 (2011-04-01 to 2011-04-30)", "18/40 45.00% ✗ misses 56% · needs 5",
                         "26/40 65.00% ✗ misses 78% · needs 6", "33/40 82.50% ✗ misses 92% · needs 4"]
    cells = html_matrix(html_sections(root)["All claims in scope"])
    assert [cells[("2011-04", f"{w} weeks")][:2] for w in (13, 26, 52)] == [
        ["18/40 45.00%", "✗ misses 56%"], ["26/40 65.00%", "✗ misses 78%"], ["33/40 82.50%", "✗ misses 92%"]]
    assert html_header(root)["As at"] == "2012-12-31"


# --- the command -----------------------------------------------------------------------------


@pytest.fixture
def forty_db(tmp_path) -> str:
    db = str(tmp_path / "db.sqlite3")
    engine = open_database(db, FORTY_CLOCK)
    import_claims(engine, cohort_of_40(tmp_path), as_at=dt.date(2012, 12, 31), actor=ADMIN, clock=FORTY_CLOCK)
    engine.dispose()
    return db


EXPORT = ["export", "offflow", "--cohort", "calendar-month", "--from", "2011-04-01", "--to", "2011-04-30"]


def test_cli_writes_xlsx_without_a_sidecar(tmp_path, forty_db, capsys):
    out = tmp_path / "reports" / "offflow.xlsx"
    assert main([*EXPORT, "--db", forty_db, "--format", "xlsx", "--output", str(out)], clock=FORTY_CLOCK) == 0
    assert "Wrote 3 rows" in capsys.readouterr().err
    assert not Path(str(out) + ".meta.json").exists()
    assert [p.name for p in out.parent.iterdir()] == ["offflow.xlsx"]  # no temporary file left behind
    wb, rows = read_xlsx(out)
    assert [(r["offflows"], r["rate_pct"]) for r in rows] == [(18, 45.0), (26, 65.0), (33, 82.5)]
    meta = {r[0].value: r[1].value for r in wb["Metadata"].iter_rows(min_row=2)}
    assert (meta["as_at"], meta["generated_at"]) == ("2012-12-31", "2013-01-01T09:00:00+00:00")


def test_cli_writes_xlsx_to_standard_output(forty_db, capsysbinary):
    assert main([*EXPORT, "--db", forty_db, "--format", "xlsx", "--output", "-"], clock=FORTY_CLOCK) == 0
    _, rows = read_xlsx(io.BytesIO(capsysbinary.readouterr().out))
    assert [r["rate_pct"] for r in rows] == [45.0, 65.0, 82.5]


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_cli_writes_markdown_and_html_to_a_file_and_to_standard_output(tmp_path, forty_db, capsys, fmt):
    out = tmp_path / f"offflow.{fmt}"
    assert main([*EXPORT, "--db", forty_db, "--format", fmt, "--output", str(out)], clock=FORTY_CLOCK) == 0
    assert not Path(str(out) + ".meta.json").exists()
    written = out.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main([*EXPORT, "--db", forty_db, "--format", fmt, "--output", "-"], clock=FORTY_CLOCK) == 0
    captured = capsys.readouterr()
    assert captured.out == written and captured.err == ""
    if fmt == "md":
        assert "- **As at:** 2012-12-31" in written
        assert "| 2011-04 (2011-04-01 to 2011-04-30) | 18/40 45.00% ✗ misses 56% · needs 5 |" in written
    else:
        root = Tree(written).root
        assert html_header(root)["Rule set"].startswith("opte-2010")
        assert html_matrix(html_sections(root)["All claims in scope"])[("2011-04", "52 weeks")][:2] == [
            "33/40 82.50%", "✗ misses 92%"]


def test_cli_format_follows_the_file_name_and_a_mismatch_is_refused(tmp_path, forty_db, capsys):
    out = tmp_path / "offflow.xlsx"
    assert main([*EXPORT, "--db", forty_db, "--output", str(out)], clock=FORTY_CLOCK) == 0
    assert out.read_bytes()[:2] == b"PK"  # a workbook, not CSV text under an .xlsx name
    _, rows = read_xlsx(out)
    assert [r["rate_pct"] for r in rows] == [45.0, 65.0, 82.5]
    md = tmp_path / "offflow.md"
    assert main([*EXPORT, "--db", forty_db, "--output", str(md)], clock=FORTY_CLOCK) == 0
    assert md.read_text(encoding="utf-8").startswith("# Off-flow summary")
    capsys.readouterr()
    wrong = tmp_path / "wrong.xlsx"
    assert main([*EXPORT, "--db", forty_db, "--format", "csv", "--output", str(wrong)], clock=FORTY_CLOCK) == 1
    err = capsys.readouterr().err
    assert "--format csv does not match the file name" in err and "name the file wrong.csv" in err
    assert not wrong.exists()
    # An export that has no XLSX says what it can write; standard output without --format asks which.
    assert main(["export", "attention", "--db", forty_db, "--output", str(tmp_path / "a.xlsx")],
                clock=FORTY_CLOCK) == 1
    assert "written as CSV, Markdown or HTML, not XLSX" in capsys.readouterr().err
    assert main(["export", "attention", "--db", forty_db, "--output", "-"], clock=FORTY_CLOCK) == 1
    assert "Which format?" in capsys.readouterr().err
