"""The fairness views (issue 7) on a hand-built office with known answers, their role limits, and each
export read back.

The office, as at Fri 2026-05-01 (the 28-day window is 2026-04-04 to 2026-05-01):
- Team A (advisers A1, A2): C1 on benefit 364 days, C2 365 days (beyond 52); C3 and C4 Red, set 62 and 63
  days before the as-at date; C7 81 days on, Green, 10 days before its 13-week milestone; C8-C12 five men
  on A2's caseload. C1-C4 are women (4: suppressed), C7's sex is not recorded.
- Team B (adviser B1): C5 and C6 with decision maker referrals 14 and 15 days before their 13-week
  milestone; C20-C23 ended: not known (later confirmed by an adviser), failed to sign, found work, sanction.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from caseload.cli import main
from caseload.clock import FixedClock
from caseload.export import fairness as fx
from caseload.export.offflow import metadata as offflow_metadata
from caseload.store import fairness, records, staff
from caseload.store.access import ADMIN, actor_for
from caseload.store.db import write
from caseload.store.errors import AccessDenied
from caseload.store.importer import import_claims
from caseload.store.offflow import OffflowQuery, offflow
from extracts import row, write_extract

AS_AT = dt.date(2026, 5, 1)
TODAY = dt.date(2026, 5, 11)
D = AS_AT
pytestmark = pytest.mark.both_backends


def days_before(n: int) -> str:
    return (AS_AT - dt.timedelta(days=n)).isoformat()


@pytest.fixture
def office(tmp_path: Path, engine):
    a1 = {"adviser_id": "A1", "adviser_name": "Asha Patel", "team": "Team A"}
    a2 = {"adviser_id": "A2", "adviser_name": "Ben Okafor", "team": "Team A"}
    b1 = {"adviser_id": "B1", "adviser_name": "Cara Lewis", "team": "Team B"}
    rows = [
        row("C1", claim_start=days_before(364), **a1),
        row("C2", claim_start=days_before(365), **a1),
        row("C3", claim_start="2026-01-05", **a1),
        row("C4", claim_start="2026-01-05", **a1),
        row("C7", claim_start="2026-02-09", sex="", **a1),
        *[row(f"C{i}", claim_start="2026-03-02", sex="male", **a2) for i in range(8, 13)],
        row("C5", claim_start="2026-01-05", sex="male", **b1),
        row("C6", claim_start="2026-01-05", sex="male", **b1),
        row("C20", claim_start="2026-02-09", claim_end="2026-03-01", end_reason="", **b1),
        row("C21", claim_start="2026-02-09", claim_end="2026-03-02", end_reason="failed_to_sign", **b1),
        row("C22", claim_start="2026-02-09", claim_end="2026-03-03", end_reason="found_work", **b1),
        row("C23", claim_start="2026-02-09", claim_end="2026-03-04", end_reason="sanction", **b1),
    ]
    path = write_extract(tmp_path / "office.csv", rows)
    import_claims(engine, path, as_at=AS_AT, actor=ADMIN, clock=FixedClock.on(AS_AT))
    today = FixedClock.on(TODAY)
    with write(engine) as conn:
        staff.add(conn, today, ADMIN, "M1", "Grace Holloway", "team_manager", team="Team A")
        staff.add(conn, today, ADMIN, "L1", "Ruth Callaghan", "team_leader", office="Northgate")
        records.set_rag(conn, FixedClock.on(AS_AT - dt.timedelta(days=62)), ADMIN, "C3", "R", "Long way from work")
        records.set_rag(conn, FixedClock.on(AS_AT - dt.timedelta(days=63)), ADMIN, "C4", "R", "Long way from work")
        records.set_rag(conn, FixedClock.on(AS_AT - dt.timedelta(days=1)), ADMIN, "C7", "G", "Job ready")
        records.log_contact(conn, today, ADMIN, "C7", AS_AT - dt.timedelta(days=5), "appointment", True)  # near 13w
        records.log_contact(conn, today, ADMIN, "C3", AS_AT - dt.timedelta(days=3), "phone", True)  # 26w far off
        records.log_contact(conn, today, ADMIN, "C3", AS_AT - dt.timedelta(days=40), "phone", True)  # 91 days only
        records.add_action(conn, today, ADMIN, "C3", "Refer to housing support", "A1", TODAY)
        # 13 weeks after 2026-01-05 is 2026-04-06: 14 days before is flagged, 15 is not.
        records.log_contact(conn, today, ADMIN, "C5", dt.date(2026, 3, 23), "decision_maker_referral", True)
        records.log_contact(conn, today, ADMIN, "C6", dt.date(2026, 3, 22), "decision_maker_referral", True)
        records.record_destination(conn, today, ADMIN, "C20", "found_work", "customer", dt.date(2026, 3, 20))
    return engine


def as_(engine, staff_id: str):  # noqa: ANN001, ANN201
    with engine.connect() as conn:
        return actor_for(conn, staff_id)


def run(engine, fn, staff_id: str, **q):  # noqa: ANN001, ANN003, ANN201
    with engine.connect() as conn:
        return fn(conn, actor_for(conn, staff_id), fairness.FairnessQuery(**q))


def group(result, name: str):  # noqa: ANN001, ANN201
    return next(g for g in result.groups if g.group == name)


# ---------------------------------------------------------------------------------------------
# Attention balance


def test_attention_counts_per_rag_and_duration_band_over_28_days(office):
    r = run(office, fairness.attention, "M1", by="team")
    assert [g.group for g in r.groups] == ["Team A"]  # a team by team is the whole scope: no second total
    t = group(r, "Team A")
    assert (t.total.customers, t.total.contacts, t.total.contacted, t.total.open_actions) == (10, 2, 2, 1)
    assert {b: x.customers for b, x in t.rag.items()} == {"Red": 2, "Amber": 0, "Green": 1, "not rated": 7}
    assert {b: x.contacts for b, x in t.rag.items()} == {"Red": 1, "Amber": 0, "Green": 1, "not rated": 0}
    assert t.rag["Red"].open_actions == 1
    assert t.rag["Red"].contacts_per_customer == "0.50"
    assert {b: x.customers for b, x in t.duration.items()} == {"0-91": 6, "92-182": 2, "183-364": 1, "365+": 1}
    assert t.total.contacts_per_customer == "0.20"


def test_the_milestone_share_beside_the_caseload_share(office):
    r = run(office, fairness.attention, "A1", by="adviser")
    a1 = group(r, "Asha Patel")
    # Of 2 contacts, C7's came 15 days before its 13-week milestone: 50%.
    assert (a1.total.near_contacts, a1.total.near_contact_share_pct) == (1, "50.00")
    # Customer-days near a milestone in the window: C7 19, C3 and C4 3 each, C1 28, C2 27 = 80 of 5 x 28.
    assert (a1.total.near_days, a1.total.days, a1.total.near_caseload_share_pct) == (80, 140, "57.14")
    wide = group(run(office, fairness.attention, "A1", by="adviser", window=91), "Asha Patel")
    assert (wide.total.contacts, wide.total.near_contacts) == (3, 2)  # the one 40 days back was near 13 weeks


# ---------------------------------------------------------------------------------------------
# Customer lists


def test_red_without_a_plan_at_62_and_63_days(office):
    r = run(office, fairness.red_without_plan, "M1", by="adviser")
    assert [ln.claim_id for ln in r.lines] == ["C4"]
    assert r.waited(r.lines[0]) == 63
    assert group(r, "Asha Patel").total.red == 2 and group(r, "Asha Patel").total.red_no_plan == 1


def test_beyond_52_at_364_and_365_days(office):
    r = run(office, fairness.beyond_52, "M1", by="team")
    assert [(ln.claim_id, ln.days, ln.beyond_band) for ln in r.lines] == [("C2", 365, "52-78 weeks")]
    t = group(r, "Team A").total
    assert (t.beyond_52, t.beyond_no_contact, t.beyond_not_discussed) == (1, 1, 1)


def test_a_list_counts_the_whole_scope_and_says_when_it_holds_fewer(office):
    mgr = run(office, fairness.beyond_52, "M1", by="adviser")
    assert ([ln.claim_id for ln in mgr.lines], mgr.count) == (["C2"], 1)
    assert fx.beyond_tables(mgr, named=False)[1].heading == "Beyond 52 weeks: each customer: 1"
    ben = run(office, fairness.beyond_52, "A2", by="adviser")
    assert (ben.lines, ben.count) == ([], 1)  # C2 is Asha's: counted in the team, not listed for Ben
    listed = fx.beyond_tables(ben, named=False)[1]
    assert listed.heading == "Beyond 52 weeks: each customer: 0 of 1 shown"
    assert listed.note.endswith("Only the claims you may open are listed.")
    red = run(office, fairness.red_without_plan, "A2", by="team")  # the team's row only: the count is its sum
    assert (red.lines, red.count) == ([], 1)
    assert fx.red_tables(red, named=False)[1].heading == "Red without a plan update for more than 62 days: 0 of 1 shown"


# ---------------------------------------------------------------------------------------------
# Sanctions, referrals, destination quality


def test_referrals_14_days_before_a_milestone_are_flagged_and_15_are_not(office):
    r = run(office, fairness.sanctions, "L1", by="team")
    assert [(f.claim_id, f.days_before, f.milestone_weeks) for f in r.referrals] == [("C5", 14, 13)]
    counts = {(c.group, c.is_total): (c.referrals, c.flagged) for c in r.referral_counts}
    assert counts == {("Team B", False): (2, 1), ("Northgate", True): (2, 1)}
    assert r.flagged_count == 1 and fx.sanction_tables(r, named=False)[2].heading == "Referrals flagged for review: 1"
    team = run(office, fairness.sanctions, "B1", by="team")  # one row, the whole scope: no total row
    assert ([c.is_total for c in team.referral_counts], team.flagged_count, len(team.referrals)) == ([False], 1, 1)


def test_sanction_share_beside_the_offflow_rate(office):
    r = run(office, fairness.sanctions, "L1", by="team")
    feb = [x for x in r.rows() if x.group == "Team B" and x.period.label == "2026-02" and x.milestone_weeks == 13]
    assert [(x.cohort_size, x.offflows, x.rate_pct, x.sanction) for x in feb] == [(4, 4, "100.00", 1)]
    table = fx.sanction_tables(r, named=False)[0]
    assert ("Team B", "2026-02", "4", "100.00% · 1 sanct. 25.00%") == table.rows[[x[0:2] for x in table.rows]
                                                                               .index(("Team B", "2026-02"))][:4]


def test_destination_quality_counts_unknowns_and_later_confirmations(office):
    r = run(office, fairness.destination_quality, "L1", by="team")
    q = next(x for x in r.rows if x.group == "Team B" and x.period.label == "2026-02")
    assert (q.offflows, q.not_known, q.failed_to_sign, q.confirmed, q.still_unknown) == (4, 1, 1, 1, 1)
    assert (q.unknown_share_pct, q.still_unknown_share_pct) == ("50.00", "25.00")
    totals = [x for x in r.rows if x.group_by == "total"]
    assert {x.group for x in totals} == {"Northgate"}


# ---------------------------------------------------------------------------------------------
# Equality


def test_equality_suppresses_under_5_and_names_a_missing_characteristic_not_recorded(office):
    r = run(office, fairness.equality, "M1", by="team")
    sex = {g.group: g for g in r.of("sex")}
    assert set(sex) == {"female", "male", "not recorded"}  # C7's missing sex is not guessed
    assert (sex["female"].open_customers, sex["male"].open_customers, sex["not recorded"].open_customers) == (4, 5, 1)
    table = next(t for t in fx.equality_tables(r) if t.key == "equality-sex")
    cells = {row[0]: row for row in table.rows}
    assert cells["female"][1] == "<5" and cells["male"][1] == "5" and cells["not recorded"][1] == "<5"
    assert cells["male"][5] == "5"  # not rated: 5 shows
    assert cells["male"][6] == ""  # coverage: 0 discussed is under 5, so the rate is empty


# ---------------------------------------------------------------------------------------------
# Roles


def test_an_adviser_sees_their_own_row_and_their_teams_totals_only(office):
    r = run(office, fairness.attention, "A1", by="adviser")
    assert [(g.group, g.is_total) for g in r.groups] == [("Asha Patel", False), ("Team A", True)]
    assert group(r, "Team A").total.customers == 10  # the team's total includes Ben's five
    lines = run(office, fairness.beyond_52, "A2", by="adviser").lines
    assert lines == []  # C2 is Asha's: not on Ben's list


def test_a_team_manager_sees_each_adviser_of_their_team(office):
    r = run(office, fairness.attention, "M1", by="adviser")
    assert [(g.group, g.total.customers) for g in r.groups] == [("Asha Patel", 5), ("Ben Okafor", 5), ("Team A", 10)]


def test_a_team_leader_sees_teams_and_the_office_never_advisers(office):
    r = run(office, fairness.attention, "L1", by="team")
    assert [(g.group, g.total.customers) for g in r.groups] == [("Team A", 10), ("Team B", 2), ("Northgate", 12)]
    with pytest.raises(AccessDenied, match="adviser and their team manager"):
        run(office, fairness.attention, "L1", by="adviser")
    with pytest.raises(AccessDenied, match="Office figures are for team leaders"):
        run(office, fairness.attention, "M1", by="office")


def test_named_is_refused_for_an_adviser(office, store_url, capsys):
    code = main(["export", "beyond52", "--db", store_url, "--as", "A1", "--named", "--format", "csv",
                 "--output", "-"], clock=FixedClock.on(TODAY))
    assert code == 1
    assert "--named lists customers by name: only a team manager" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# Exports read back


def export(db: str, tmp_path: Path, *args: str) -> Path:
    out = tmp_path / "out"
    assert main(["export", *args, "--db", db, "--output", str(out)], clock=FixedClock.on(TODAY)) == 0
    return out


@pytest.mark.parametrize("report", fx.REPORTS)
def test_csv_and_its_meta_json_carry_the_offflow_keys_and_definitions(office, store_url, tmp_path, report):
    out = export(store_url, tmp_path, report, "--as", "L1", "--format", "csv")
    rows = list(csv.reader(out.open(encoding="utf-8")))
    meta = json.loads(out.with_name("out.meta.json").read_text())
    with office.connect() as conn:
        keys = offflow_metadata(offflow(conn, ADMIN, OffflowQuery()), generated_at=dt.datetime(2026, 5, 11),
                                generated_by="x").keys()
    assert set(keys) <= set(meta)
    assert meta["definitions"] == fx.DEFINITIONS[report] and meta["rows"] == len(rows) - 1
    assert tuple(rows[0]) == tuple(meta["columns"])
    assert meta["suppression"]["applies"] is (report == "equality")


def test_beyond52_csv_names_customers_only_when_asked(office, store_url, tmp_path):
    out = export(store_url, tmp_path, "beyond52", "--as", "M1", "--format", "csv")
    plain = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["claim_id"], r["customer_name"], r["days"]) for r in plain] == [("C2", "", "365")]
    named = list(csv.DictReader(export(store_url, tmp_path, "beyond52", "--as", "M1", "--named", "--format", "csv")
                                .open(encoding="utf-8")))
    assert named[0]["customer_name"] == "Customer C2"


def test_sanctions_csv_has_the_referral_and_quality_sections(office, store_url, tmp_path):
    out = export(store_url, tmp_path, "sanctions", "--as", "L1", "--format", "csv")
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    referral = [r for r in rows if r["section"] == "referral"]
    assert [(r["claim_id"], r["days_before_milestone"]) for r in referral] == [("C5", "14")]
    quality = {r["cohort_period"]: (r["offflows"], r["confirmed_later"], r["still_unknown"]) for r in rows
               if r["section"] == "destination_quality" and r["group"] == "Team B"}
    assert quality == {"2026-01": ("0", "0", "0"), "2026-02": ("4", "1", "1")}


def test_equality_csv_suppresses_at_4_and_not_at_5(office, store_url, tmp_path):
    out = export(store_url, tmp_path, "equality", "--as", "M1", "--format", "csv")
    rows = [r for r in csv.DictReader(out.open(encoding="utf-8")) if r["group_by"] == "sex"]
    male = next(r for r in rows if r["group"] == "male" and r["cohort_period"] == "2026-03")
    assert (male["cohort_size"], male["offflows"], male["rate_pct"], male["open_customers"]) == ("5", "<5", "", "5")
    female = next(r for r in rows if r["group"] == "female")
    assert female["open_customers"] == "<5"
    assert any(r["group"] == "not recorded" for r in rows)


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self._in = False

    def handle_starttag(self, tag, attrs):  # noqa: ANN001
        self._in = tag in ("td", "th")

    def handle_endtag(self, tag):  # noqa: ANN001
        self._in = False

    def handle_data(self, data):  # noqa: ANN001
        if self._in:
            self.cells.append(data)


def test_markdown_and_html_carry_the_header_and_the_tables(office, store_url, tmp_path):
    text = export(store_url, tmp_path, "attention", "--as", "M1", "--by", "adviser", "--format", "md").read_text()
    assert text.startswith("# Attention balance\n")
    assert "- **Window:** the 28 days ending on the as-at date" in text
    assert "| Asha Patel | all | 5 | 2 | 0.40 | 2 |" in text
    html = export(store_url, tmp_path, "beyond52", "--as", "M1", "--format", "html").read_text()
    parser = _Tables()
    parser.feed(html)
    assert "C2" in parser.cells and "52-78 weeks" in parser.cells
    assert "Customer C2" not in html  # not named
    assert "<script" not in html


def test_the_window_changes_the_attention_export(office, store_url, tmp_path):
    rows = list(csv.DictReader(export(store_url, tmp_path, "attention", "--as", "M1", "--format", "csv")
                               .open(encoding="utf-8")))
    got = {(r["window_days"], r["band"]): r["contacts"] for r in rows if r["band_kind"] == "all"}
    assert got == {("28", "all"): "2", ("91", "all"): "3"}


def test_markdown_writer_counts_rows(office):
    with office.connect() as conn:
        report = fx.build_report(conn, ADMIN, "beyond52", fairness.FairnessQuery(), named=False,
                                 generated_at=dt.datetime(2026, 5, 11), generated_by="admin")
    buf = io.StringIO()
    assert fx.write_markdown(report, buf) == len(report.csv_rows) == 1


# ---------------------------------------------------------------------------------------------
# Conference coverage, by hand


def hold_conference(engine, adviser: str, on: dt.date, claims: list[str]) -> None:  # noqa: ANN001
    """M1 holds the adviser's conference on `on` and discusses `claims`: a rated customer's rating is
    confirmed, an unrated one gets a first rating, Amber."""
    from caseload.store import conference

    clock = FixedClock.on(on)
    with write(engine) as conn:
        m1 = actor_for(conn, "M1")
        cid = conference.start_or_resume(conn, clock, m1, adviser, on)
        for claim_id in claims:
            conference.add_customer(conn, clock, m1, cid, claim_id)
        for item in conference.conference_detail(conn, m1, cid).items:
            review = ({"rag_review": "confirm"} if item.context.rag else
                      {"rag_review": "change", "rag": "A", "rag_reason": "First rating"})
            conference.record_item(conn, clock, m1, item.id, item.version, done_so_far="Applied for jobs",
                                   plan="Keep applying", expected_offflow=on + dt.timedelta(days=60), **review)
        conference.finish(conn, clock, m1, cid, ["Grace Holloway", "Ben Okafor"])


def test_conference_coverage_per_band_and_group_in_each_window(office):
    # Team A's Red customers: C3 and C4 (Asha's) and now C8-C10 (Ben's): 5.
    with write(office) as conn:
        for claim_id in ("C8", "C9", "C10"):
            records.set_rag(conn, FixedClock.on(AS_AT - dt.timedelta(days=40)), ADMIN, claim_id, "R", "Far from work")
    # 30 days before the as-at date (outside the 28-day window, inside the 91-day one): all five of Ben's
    # customers (C11 and C12 get a first rating, Amber); 10 days before: C8 and C9 only.
    hold_conference(office, "A2", AS_AT - dt.timedelta(days=30), ["C8", "C9", "C10", "C11", "C12"])
    hold_conference(office, "A2", AS_AT - dt.timedelta(days=10), ["C8", "C9"])

    t28 = group(run(office, fairness.attention, "M1", by="team"), "Team A")
    t91 = group(run(office, fairness.attention, "M1", by="team", window=91), "Team A")
    # Red: 2 of 5 discussed in the 28 days (C8, C9), 3 of 5 in the 91 (C10 too).
    assert (t28.rag["Red"].customers, t28.rag["Red"].discussed, t28.rag["Red"].coverage_pct) == (5, 2, "40.00")
    assert (t91.rag["Red"].discussed, t91.rag["Red"].coverage_pct) == (3, "60.00")
    # Amber: C11 and C12, discussed 30 days back only.
    assert (t28.rag["Amber"].customers, t28.rag["Amber"].coverage_pct, t91.rag["Amber"].coverage_pct) == \
        (2, "0.00", "100.00")
    assert (t28.rag["Green"].coverage_pct, t28.rag["not rated"].coverage_pct) == ("0.00", "0.00")
    # Duration 0-91 days: C7 and Ben's five (60 days on benefit): 2 of 6, then 5 of 6 (33.33 truncated,
    # 83.33 truncated, never rounded up); 92-182 (C3, C4): nobody discussed.
    assert (t28.duration["0-91"].customers, t28.duration["0-91"].coverage_pct) == (6, "33.33")
    assert t91.duration["0-91"].coverage_pct == "83.33"
    assert (t28.duration["92-182"].coverage_pct, t91.duration["92-182"].coverage_pct) == ("0.00", "0.00")
    assert (t28.total.coverage_pct, t91.total.coverage_pct) == ("20.00", "50.00")  # of the team's 10

    # Equality, by sex: the five men are Ben's; the women (C1-C4) and C7 (not recorded) were not discussed.
    sex28 = {g.group: g for g in run(office, fairness.equality, "M1", by="team").of("sex")}
    r91 = run(office, fairness.equality, "M1", by="team", window=91)
    sex91 = {g.group: g for g in r91.of("sex")}
    assert {k: (g.open_customers, g.discussed) for k, g in sex28.items()} == \
        {"female": (4, 0), "male": (5, 2), "not recorded": (1, 0)}
    assert {k: g.discussed for k, g in sex91.items()} == {"female": 0, "male": 5, "not recorded": 0}
    # Shown: 2 discussed is under 5, so its rate is empty; 5 of 5 shows.
    table = next(t for t in fx.equality_tables(r91) if t.key == "equality-sex")
    coverage = table.columns.index("Coverage %")
    assert {row[0]: row[coverage] for row in table.rows} == {"female": "", "male": "100.00", "not recorded": ""}
    table28 = next(t for t in fx.equality_tables(run(office, fairness.equality, "M1", by="team"))
                   if t.key == "equality-sex")
    assert {row[0]: row[coverage] for row in table28.rows}["male"] == ""
