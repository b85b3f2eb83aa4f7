"""Control limits, the funnel plot and the time-to-off-flow curve in every export, read back.

Data: three teams of JSA claims in calendar months May and June 2025, as at 2026-03-06 (every cohort
final at 13 and 26 weeks, interim at 52):
- "Team A": 40 claims (20 in May, 20 in June), 10 off within 13 weeks (5 a month, day 30).
- "Team B": 50 claims in June, 27 off within 13 weeks (day 60).
- "Team C": 9 claims in June, 6 off within 13 weeks (day 20).
Known answers (tests/test_measures_limits.py derives them from exact binomial sums):
- n = 50 at 56%: 95% limits 21-35, 99.8% limits 17-39; 27 is inside: consistent (≈).
- n = 40 at 56%: P(X <= 12) < 0.1% <= P(X <= 13), so the 99.8% lower limit is 13, the 95% one 16
  (P(X <= 15) < 2.5% <= P(X <= 16)); 10 < 13: below the expected level beyond chance (⇊).
  Each month alone (n = 20, 5 off) has 95% limits 7-15 and 99.8% limits 4-18 (the known answers for
  n = 20 at 56%): 5 is under 7 but not under 4, so each month reads possibly below (↓).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import openpyxl
import pytest

from caseload.cli import main
from caseload.clock import FixedClock
from caseload.export.html import write_html
from caseload.export.markdown import write_markdown
from caseload.export.offflow import COLUMNS, LIMIT_COLUMNS, metadata, write_csv
from caseload.export.xlsx import EXTRA_COLUMNS, write_xlsx
from caseload.export.xlsx import header as xlsx_header
from caseload.measures.cohorts import CohortKind
from caseload.measures.limits import control_limits
from caseload.store.access import ADMIN
from caseload.store.db import open_database
from caseload.store.importer import import_claims
from caseload.store.offflow import OffflowQuery, offflow
from caseload.store.survival import CurveQuery, curve
from extracts import row, write_extract
from test_export_formats import Tree, md_sections

CLOCK = FixedClock.on(dt.date(2026, 3, 9))
AS_AT = dt.date(2026, 3, 6)
Q = OffflowQuery(group_by="team", cohort=CohortKind.CALENDAR_MONTH, first=dt.date(2025, 5, 1),
                 last=dt.date(2025, 6, 30), benefit="JSA")


def _claims() -> list[dict]:
    rows = []
    for m, start in (("M", "2025-05-05"), ("J", "2025-06-02")):
        for i in range(20):
            end = dt.date.fromisoformat(start) + dt.timedelta(days=30)
            rows.append(row(f"CA{m}{i:02d}", claim_start=start, claim_end=end.isoformat() if i < 5 else "",
                            end_reason="found_work" if i < 5 else "", team="Team A"))
    for i in range(50):
        rows.append(row(f"CB{i:02d}", claim_start="2025-06-02", claim_end="2025-08-01" if i < 27 else "",
                        end_reason="found_work" if i < 27 else "", team="Team B", adviser_id="A2",
                        adviser_name="Ben Ode"))
    for i in range(9):
        rows.append(row(f"CC{i:02d}", claim_start="2025-06-02", claim_end="2025-06-22" if i < 6 else "",
                        end_reason="found_work" if i < 6 else "", team="Team C", adviser_id="A3",
                        adviser_name="Cy Dee", sex="male" if i < 4 else "female"))
    return rows


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "db.sqlite3")
    engine = open_database(path, CLOCK)
    import_claims(engine, write_extract(tmp_path / "x.csv", _claims()), as_at=AS_AT, actor=ADMIN, clock=CLOCK)
    engine.dispose()
    return path


def _result(db: str, q: OffflowQuery = Q):
    engine = open_database(db, CLOCK)
    try:
        with engine.connect() as conn:
            result = offflow(conn, ADMIN, q)
            km = curve(conn, ADMIN, CurveQuery(cohort=q.cohort, first=q.first, last=q.last, benefit=q.benefit))
    finally:
        engine.dispose()
    return result, metadata(result, generated_at=CLOCK.now(), generated_by=ADMIN.id), km


def _pooled(result, milestone: int) -> dict[str, tuple[int, int]]:
    """The roll-up's rows at a milestone, each team's off-flows and claims summed over the periods."""
    out: dict[str, list[int]] = {}
    for r in result.rows:
        if r.milestone_weeks == milestone:
            acc = out.setdefault(r.group, [0, 0])
            acc[0] += r.offflows
            acc[1] += r.cohort_size
    return {k: (a, b) for k, a, b in ((k, *v) for k, v in out.items())}


def test_csv_has_the_limits_and_verdict_beside_the_contract(db):
    result, _, _ = _result(db)
    out = io.StringIO()
    write_csv(result, out)
    got = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(got[0]) == list(COLUMNS) + list(LIMIT_COLUMNS)
    by = {(g["group"], g["cohort_period"], g["milestone_weeks"]): g for g in got}
    b13 = by[("Team B", "2025-06", "13")]
    assert (b13["offflows"], b13["cohort_size"], b13["meets_target"]) == ("27", "50", "no")
    assert [b13[c] for c in LIMIT_COLUMNS] == ["21", "35", "17", "39", "consistent with the expected level", "≈"]
    a_may = by[("Team A", "2025-05", "13")]
    assert [a_may[c] for c in LIMIT_COLUMNS] == ["7", "15", "4", "18", "possibly below the expected level", "↓"]
    # Interim at 52 weeks (members not yet there): never beyond chance, whatever the count.
    a52 = by[("Team A", "2025-06", "52")]
    assert a52["status"] == "interim" and a52["verdict"].startswith("possibly below")
    for g in got:
        lim = control_limits(int(g["cohort_size"]), int(g["target_pct"]))
        assert [int(g[c]) for c in LIMIT_COLUMNS[:4]] == [lim.lower95, lim.upper95, lim.lower998, lim.upper998]


def test_no_expected_level_no_limits(db):
    result, _, _ = _result(db, OffflowQuery(group_by="team", cohort=CohortKind.CALENDAR_MONTH,
                                            first=dt.date(2025, 6, 1), last=dt.date(2025, 6, 30), milestones=(65,)))
    out = io.StringIO()
    write_csv(result, out)
    got = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert got and all(g[c] == "" for g in got for c in LIMIT_COLUMNS)


def test_suppressed_rows_carry_no_limits(db):
    q = OffflowQuery(group_by="sex", cohort=CohortKind.CALENDAR_MONTH, first=dt.date(2025, 6, 1),
                     last=dt.date(2025, 6, 30), benefit="JSA", milestones=(13,))
    result, meta, _ = _result(db, q)
    out = io.StringIO()
    write_csv(result, out)
    got = {g["group"]: g for g in csv.DictReader(io.StringIO(out.getvalue()))}
    # 4 men (Team C's first four), all off at 13 weeks: the counts print <5 and there are no limits.
    assert got["male"]["cohort_size"] == "<5"
    assert all(got["male"][c] == "" for c in LIMIT_COLUMNS)
    assert got["female"]["verdict"]
    html = io.StringIO()
    write_html(result, html, meta)
    units = [n for n in Tree(html.getvalue()).root.find_all("circle") if n.attrs.get("class") == "unit"]
    assert [u.attrs["data-name"] for u in units] == ["female"]


def test_xlsx_reads_back_the_limits_typed(db, tmp_path):
    result, meta, _ = _result(db)
    path = tmp_path / "out.xlsx"
    write_xlsx(result, path, meta)
    ws = openpyxl.load_workbook(path)["Summary"]
    # The workbook's headings are for people; read them back as the CSV's column names.
    name = {xlsx_header(c): c for c in (*COLUMNS, *LIMIT_COLUMNS, *EXTRA_COLUMNS)}
    head = [name[c.value] for c in ws[1]]
    i = head.index("meets_target")
    assert head[i + 1:i + 7] == list(LIMIT_COLUMNS)
    rows = [dict(zip(head, (c.value for c in r))) for r in ws.iter_rows(min_row=2)]
    b13 = [r for r in rows if r["group"] == "Team B" and r["milestone_weeks"] == 13][0]
    assert (b13["lower95_offflows"], b13["upper95_offflows"], b13["lower998_offflows"], b13["upper998_offflows"]) \
        == (21, 35, 17, 39)
    assert (b13["verdict"], b13["verdict_symbol"]) == ("consistent with the expected level", "≈")
    assert b13["meets_target"] == "✗ misses"  # the Red/Green is unchanged beside it


def test_markdown_funnel_table_pools_the_roll_up(db):
    result, meta, _ = _result(db)
    out = io.StringIO()
    write_markdown(result, out, meta)
    text = out.getvalue()
    sections = md_sections(text)
    funnel = sections["Against the expected level: control limits"]
    assert len(funnel) == 3  # one table per milestone: 13, 26, 52
    t13 = funnel[0]
    assert t13[0] == ["Unit", "Off-flows/size", "Rate", "Expected", "95% limits", "99.8% limits", "Verdict", "Status"]
    # Name order, never ranked; Team A pooled over May and June: 10 of 40, below beyond chance.
    assert [r[0] for r in t13[1:]] == ["Team A", "Team B", "Team C"]
    assert t13[1] == ["Team A", "10/40", "25.00%", "56%", "16–28", "13–32",
                      "⇊ below the expected level beyond chance", "final"]
    pooled = _pooled(result, 13)
    assert {r[0]: tuple(int(x) for x in r[1].split("/")) for r in t13[1:]} == pooled
    # Each team's section has its per-cohort limits table beside the Red/Green.
    a = sections["team: Team A"][2]
    assert a[0] == ["Cohort", "Weeks", "Off-flows/size", "Red/Green", "95% limits", "99.8% limits", "Verdict", "Status"]
    assert ["2025-05", "13", "5/20", "✗ misses 56%", "7–15", "4–18", "↓ possibly below the expected level",
            "final"] in a


def test_html_funnel_points_are_the_pooled_counts_and_the_curve_is_drawn(db):
    result, meta, km = _result(db)
    out = io.StringIO()
    write_html(result, out, meta, curve=km)
    html = out.getvalue()
    assert "<script" not in html.lower() and "http://" not in html and "https://" not in html
    root = Tree(html).root
    funnels = [s for s in root.find_all("svg") if s.attrs.get("class") == "funnel"]
    assert len(funnels) == 3
    for svg, w in zip(funnels, (13, 26, 52)):
        units = [n for n in svg.find_all("circle") if n.attrs.get("class") == "unit"]
        got = {u.attrs["data-name"]: (int(u.attrs["data-offflows"]), int(u.attrs["data-size"])) for u in units}
        assert got == _pooled(result, w)
        assert [u.attrs["data-name"] for u in units] == sorted(got)  # name order
        labels = [t.text() for t in svg.find_all("text") if t.attrs.get("class") == "point-label"]
        assert labels == ["1", "2", "3"]
        legend = [t.text() for t in svg.find_all("text") if t.attrs.get("class") == "legend"]
        assert [x.split(" ")[1] + " " + x.split(" ")[2] for x in legend] == ["Team A", "Team B", "Team C"]
        assert len([p for p in svg.find_all("polyline") if "limit" in p.attrs.get("class", "")]) == 4
        assert [x for x in svg.find_all("line") if x.attrs.get("class") == "expected"]
    legend13 = [t.text() for t in funnels[0].find_all("text") if t.attrs.get("class") == "legend"]
    assert legend13[0] == "1. Team A 10/40 25.00% ⇊ below"
    # The Team A point at 13 weeks lies below the drawn 99.8% lower curve, as its verdict says.
    svg = funnels[0]
    a = [n for n in svg.find_all("circle") if n.attrs.get("data-name") == "Team A"][0]
    assert a.attrs["fill"] == "#1a1a1a"  # final: filled
    # The curve: week marks and the counts at risk equal the curve's.
    curves = [s for s in root.find_all("svg") if s.attrs.get("class") == "curve"]
    assert len(curves) == 1
    at_risk = {t.attrs["data-week"]: t.text() for t in curves[0].find_all("text") if t.attrs.get("class") == "at-risk"}
    assert at_risk == {str(w): str(km.points[w].at_risk) for w in (0, 13, 26, 52, 78, 104)}
    assert at_risk["0"] == "99"
    marks = [t.text() for t in curves[0].find_all("text") if t.attrs.get("class") == "mark-label"]
    # 43 of the 99 ended within 13 weeks and none is censored before week 13: 1 - S(13) = 43.43%.
    assert marks[0] == "13 wk: 43.43% off"
    assert marks[1:] == ["26 wk: 43.43% off", "52 wk: 43.43% off"]


def test_cli_html_export_carries_the_funnel_and_curve(db, tmp_path, capsys):
    out = tmp_path / "offflow.html"
    assert main(["--db", db, "export", "offflow", "--by", "team", "--cohort", "calendar-month", "--from",
                 "2025-05-01", "--to", "2025-06-30", "--benefit", "JSA", "--format", "html", "--output", str(out)],
                clock=CLOCK) == 0
    root = Tree(out.read_text(encoding="utf-8")).root
    assert [s.attrs.get("class") for s in root.find_all("svg") if s.attrs.get("class") in ("funnel", "curve")] \
        == ["funnel", "funnel", "funnel", "curve"]


def _read_curve(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_cli_exports_the_curve(db, tmp_path, capsys):
    out = tmp_path / "curve.csv"
    assert main(["--db", db, "export", "curve", "--cohort", "calendar-month", "--from", "2025-05-01", "--to",
                 "2025-06-30", "--benefit", "JSA", "--team", "Team A", "--output", str(out)], clock=CLOCK) == 0
    rows = _read_curve(out)
    assert list(rows[0]) == ["week", "at_risk", "ended", "censored", "share_on_benefit"]
    assert [r["week"] for r in rows] == [str(w) for w in range(105)]
    # Team A: 40 claims, 10 ended on day 30 (week 5); the other 30 open, censored at 39 or 43 weeks.
    assert rows[0] == {"week": "0", "at_risk": "40", "ended": "0", "censored": "0", "share_on_benefit": "1.0000"}
    assert rows[5] == {"week": "5", "at_risk": "40", "ended": "10", "censored": "0", "share_on_benefit": "0.7500"}
    assert rows[13]["share_on_benefit"] == "0.7500"  # 1 - 0.75 = 10/40, the 13-week rate, as no one is censored
    as_at_weeks = {(AS_AT - dt.date(2025, 5, 5)).days // 7: 15, (AS_AT - dt.date(2025, 6, 2)).days // 7: 15}
    assert {int(r["week"]): int(r["censored"]) for r in rows if r["censored"] != "0"} == as_at_weeks
    assert rows[104]["at_risk"] == "0"
    meta = json.loads((tmp_path / "curve.csv.meta.json").read_text(encoding="utf-8"))
    assert meta["curve_of"] == "team Team A" and meta["claims"] == "40"
    assert meta["marks"]["13"] == {"share_on_benefit": "0.7500", "offflow_pct": "25.00", "at_risk": "30"}


def test_cli_curve_office_and_standard_output(db, capsys):
    assert main(["--db", db, "export", "curve", "--cohort", "calendar-month", "--from", "2025-05-01", "--to",
                 "2025-06-30", "--office", "Northgate", "--output", "-"], clock=CLOCK) == 0
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert rows[0]["at_risk"] == "99"
    assert json.loads(captured.err)["curve_of"] == "office Northgate"


def test_cli_curve_of_an_equality_group_is_suppressed(db, tmp_path, capsys):
    out = tmp_path / "men.csv"
    assert main(["--db", db, "export", "curve", "--cohort", "calendar-month", "--from", "2025-05-01", "--to",
                 "2025-06-30", "--group", "sex=male", "--output", str(out)], clock=CLOCK) == 0
    assert _read_curve(out) == []  # 4 men: fewer than 5, withheld
    assert "withheld" in capsys.readouterr().err
    out = tmp_path / "women.csv"
    assert main(["--db", db, "export", "curve", "--cohort", "calendar-month", "--from", "2025-05-01", "--to",
                 "2025-06-30", "--group", "sex=female", "--output", str(out)], clock=CLOCK) == 0
    rows = _read_curve(out)
    assert rows[0]["at_risk"] == "95"
    # Team C's 2 women off on day 20 (week 3): a count under 5 prints <5; zeros too.
    assert rows[3]["ended"] == "<5" and rows[1]["ended"] == "<5"
    assert all(r["share_on_benefit"] == "" for r in rows if r["at_risk"] == "<5")
    meta = json.loads((tmp_path / "women.csv.meta.json").read_text(encoding="utf-8"))
    assert meta["suppression"]["applies"] is True


def test_cli_curve_refuses_a_bad_group(db, capsys):
    assert main(["--db", db, "export", "curve", "--group", "team=Team A", "--output", "-"], clock=CLOCK) != 0
    assert "--group takes" in capsys.readouterr().err
