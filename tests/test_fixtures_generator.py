"""The synthetic extract generator (fixtures/generator.py): format, determinism, office shape."""

from __future__ import annotations

import collections
import csv
import re
from datetime import date, timedelta

import pytest

from fixtures.generate import extract_paths, main
from fixtures.generator import (
    COLUMNS,
    DEMO_OFFICE_ROWS,
    DEMO_SHAPE,
    OfficeShape,
    district_shape,
    generate_claims,
    iter_claims,
    size_plan,
    successive_extracts,
    write_extract,
)

AS_AT = date(2011, 1, 7)
ROWS = 10_000
SEED = 1

EXPECTED_COLUMNS = [
    "claim_id", "customer_id", "customer_name", "date_of_birth", "nino", "sex",
    "disability", "ethnicity", "benefit", "claim_start", "claim_end", "end_reason",
    "adviser_id", "adviser_name", "team", "office",
]
# DOMAIN.md section 6.
SECTION_6_CODES = {
    "found_work", "increased_hours", "self_employed", "other_benefit", "education", "training",
    "programme_start", "abroad", "prison", "ceased_claiming", "defective_claim", "retired",
    "deceased", "sanction", "failed_to_sign", "not_known",
}
NINO = re.compile(r"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$")


def d(s: str) -> date:
    return date.fromisoformat(s)


def age_on(dob: date, on: date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return generate_claims(ROWS, seed=SEED, as_at=AS_AT)


@pytest.fixture(scope="module")
def ended(rows):
    return [r for r in rows if r["claim_end"]]


@pytest.fixture(scope="module")
def open_rows(rows):
    return [r for r in rows if not r["claim_end"]]


@pytest.fixture(scope="module")
def customers(rows) -> dict[str, list[dict[str, str]]]:
    out = collections.defaultdict(list)
    for r in rows:
        out[r["customer_id"]].append(r)
    return out


DATES = [AS_AT - timedelta(days=28 * k) for k in (3, 2, 1, 0)]


@pytest.fixture(scope="module")
def extracts() -> list[list[dict[str, str]]]:
    return successive_extracts(ROWS, seed=SEED, as_at_dates=DATES)


# -- format and determinism ---------------------------------------------------

def test_columns_in_order_and_header_written(tmp_path, rows):
    assert list(COLUMNS) == EXPECTED_COLUMNS
    assert all(list(r) == EXPECTED_COLUMNS for r in rows[:100])
    path = tmp_path / "claims.csv"
    assert write_extract(path, rows) == ROWS
    with open(path, encoding="utf-8", newline="") as f:
        read = list(csv.reader(f))
    assert read[0] == EXPECTED_COLUMNS
    assert len(read) == ROWS + 1
    assert read[1] == [rows[0][c] for c in EXPECTED_COLUMNS]


def test_row_count_is_exact():
    for n in (10_000, 12_345):
        assert len(generate_claims(n, seed=3, as_at=AS_AT)) == n


def test_same_seed_same_bytes_other_seed_differs(tmp_path, rows):
    again = generate_claims(ROWS, seed=SEED, as_at=AS_AT)
    assert again == rows
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_extract(a, rows)
    write_extract(b, iter_claims(ROWS, seed=SEED, as_at=AS_AT))
    assert a.read_bytes() == b.read_bytes()
    other = generate_claims(ROWS, seed=SEED + 1, as_at=AS_AT)
    assert other != rows
    assert sum(x != y for x, y in zip(rows, other)) > ROWS // 2


def test_write_extract_accepts_sequences(tmp_path, rows):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    write_extract(a, rows[:50])
    assert write_extract(b, ([r[c] for c in COLUMNS] for r in rows[:50])) == 50
    assert a.read_bytes() == b.read_bytes()


def test_identifiers_unique_and_well_formed(rows, customers):
    ids = [r["claim_id"] for r in rows]
    assert len(set(ids)) == ROWS
    assert all(re.fullmatch(r"C\d{7}", i) for i in ids)
    assert ids == sorted(ids)
    assert all(re.fullmatch(r"P\d{6}", c) for c in customers)
    assert all(re.fullmatch(r"A\d{4}", r["adviser_id"]) for r in rows)
    ninos = [claims[0]["nino"] for claims in customers.values()]
    assert all(NINO.match(n) for n in ninos)
    assert len(set(ninos)) == len(ninos)
    # claim ids follow claim start dates
    starts = [r["claim_start"] for r in rows]
    assert starts == sorted(starts)


def test_dates_iso_and_in_order(rows):
    iso = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    for r in rows:
        assert iso.match(r["claim_start"]) and iso.match(r["date_of_birth"])
        start = d(r["claim_start"])
        assert start <= AS_AT
        if r["claim_end"]:
            end = d(r["claim_end"])
            assert start <= end <= AS_AT
        assert 16 <= age_on(d(r["date_of_birth"]), start) <= 66


def test_end_reasons_valid_and_shares(ended, open_rows):
    assert {r["end_reason"] for r in open_rows} == {""}
    reasons = collections.Counter(r["end_reason"] for r in ended)
    assert set(reasons) - {""} <= SECTION_6_CODES
    n = len(ended)
    pct = {k: 100 * v / n for k, v in reasons.items()}
    assert abs(pct["found_work"] - 41) <= 4
    assert abs(pct["failed_to_sign"] - 31) <= 4
    assert abs(pct["not_known"] + pct[""] - 14) <= 4
    assert 0.5 <= pct[""] <= 4           # an empty end_reason on an ended claim
    assert 2 <= pct["sanction"] <= 5
    assert 1.5 <= pct["other_benefit"] <= 4.5
    assert len(set(reasons) - {""}) >= 14  # the long tail of section 6 codes is there


def test_benefit_mix(rows):
    share = collections.Counter(r["benefit"] for r in rows)
    assert set(share) == {"JSA", "ESA", "UC", "IS", "IB"}
    assert 0.65 <= share["JSA"] / ROWS <= 0.75
    assert share["JSA"] > share["ESA"] > share["IS"] > share["IB"]
    assert share["UC"] > share["IS"]


# -- office shape ---------------------------------------------------------------

def test_small_extract_is_one_office_of_three_teams(rows):
    plan = size_plan(ROWS)
    assert (plan.offices, plan.teams, plan.advisers) == (1, 3, 24)
    assert {r["office"] for r in rows} == {"Northgate"}
    teams = collections.defaultdict(set)
    for r in rows:
        teams[r["team"]].add(r["adviser_id"])
    assert sorted(teams) == ["Northgate Team A", "Northgate Team B", "Northgate Team C"]
    assert all(8 <= len(a) <= 12 for a in teams.values())


def test_each_adviser_in_exactly_one_team(rows):
    where = collections.defaultdict(set)
    names = collections.defaultdict(set)
    for r in rows:
        where[r["adviser_id"]].add((r["team"], r["office"]))
        names[r["adviser_id"]].add(r["adviser_name"])
        assert r["team"].startswith(r["office"] + " Team ")
    assert all(len(v) == 1 for v in where.values())
    assert all(len(v) == 1 for v in names.values())
    assert len({n for v in names.values() for n in v}) == len(names)  # no two advisers share a name
    assert all(re.fullmatch(r"[A-Z][a-z]+( [A-Z][a-z]+)? [A-Z][A-Za-z']+", next(iter(v))) for v in names.values())


def test_open_caseload_per_adviser(open_rows):
    """Every adviser holds an open caseload within the plan's range, inside 100-200."""
    lo, hi = size_plan(ROWS).open_per_adviser
    assert 100 <= lo <= hi <= 200
    per = collections.Counter(r["adviser_id"] for r in open_rows)
    assert len(per) == 24
    assert all(lo <= n <= hi for n in per.values())


def test_sizing_rule_for_big_extracts():
    for n in (50_000, 250_000, 1_000_000):
        plan = size_plan(n)
        assert plan.open_per_adviser == (100, 200)
        assert abs(plan.advisers - n * plan.open_share / 150) <= 1
        assert plan.offices * 3 <= plan.teams <= plan.offices * 5
        assert plan.teams * 8 <= plan.advisers <= plan.teams * 12
    big = size_plan(1_000_000)
    assert big.offices > 1
    assert 0.12 <= big.open_share <= 0.22
    assert size_plan(10_000, OfficeShape(offices=2)).offices == 2
    assert size_plan(1_000_000, OfficeShape(open_share=0.28)).advisers == round(1_000_000 * 0.28 / 150)


def test_offices_added_for_big_extracts():
    rows = generate_claims(10_000, seed=2, as_at=AS_AT, shape=OfficeShape(open_per_adviser=(10, 20)))
    offices = sorted({r["office"] for r in rows})
    assert len(offices) > 1 and offices[0] == "Eastfield" and "Northgate" in offices
    per_office = collections.defaultdict(set)
    for r in rows:
        per_office[r["office"]].add(r["team"])
    assert all(3 <= len(t) <= 5 for t in per_office.values())


def test_district_is_the_demo_office_repeated():
    """bench/ scales the demo office by adding offices: each of them 3 teams of 8 advisers, each
    adviser holding 100-120 open claims, one office per 20,000 claims."""
    for n, offices in ((10_000, 1), (20_000, 1), (100_000, 5), (1_000_000, 50)):
        plan = size_plan(n, district_shape(n))
        assert (plan.offices, plan.teams, plan.advisers, plan.open_per_adviser) == (offices, 3 * offices, 24 * offices, (100, 120))
    assert size_plan(DEMO_OFFICE_ROWS, DEMO_SHAPE) == size_plan(DEMO_OFFICE_ROWS, district_shape(DEMO_OFFICE_ROWS))
    rows = generate_claims(40_000, seed=SEED, as_at=AS_AT, shape=district_shape(40_000))
    teams = collections.defaultdict(set)
    for r in rows:
        teams[r["office"]].add(r["team"])
    assert sorted(teams) == ["Northgate", "Riverside"]
    assert all(len(t) == 3 for t in teams.values())
    per = collections.Counter(r["adviser_id"] for r in rows if not r["claim_end"])
    assert len(per) == 48 and all(100 <= n <= 120 for n in per.values())


# -- durations ------------------------------------------------------------------

def test_ended_durations_like_jsa_leavers(ended):
    days = [(d(r["claim_end"]) - d(r["claim_start"])).days for r in ended]
    for weeks, expected in ((13, 55), (26, 78), (52, 91)):
        share = 100 * sum(x <= 7 * weeks for x in days) / len(days)
        assert abs(share - expected) <= 4, (weeks, share)
    assert max(days) > 365
    history = (AS_AT - min(d(r["claim_start"]) for r in ended)).days
    assert 880 <= history <= 2.5 * 366


def test_open_durations_spread(open_rows):
    days = [(AS_AT - d(r["claim_start"])).days for r in open_rows]
    n = len(days)
    beyond_52 = sum(x >= 365 for x in days) / n
    assert 0.05 <= beyond_52 <= 0.11
    approaching = {m: sum(0 <= m - x <= 28 for x in days) for m in (91, 182, 364)}
    assert sum(approaching.values()) >= 0.12 * n, approaching
    assert all(v >= 0.01 * n for v in approaching.values()), approaching
    assert sum(x <= 91 for x in days) / n >= 0.3


def test_team_pace_speeds_off_flow():
    def share_by_13_weeks(rows):
        days = [(d(r["claim_end"]) - d(r["claim_start"])).days for r in rows if r["claim_end"]]
        return sum(x <= 91 for x in days) / len(days)

    fast = generate_claims(ROWS, seed=SEED, as_at=AS_AT, shape=OfficeShape(team_pace=(0.7, 0.8)))
    slow = generate_claims(ROWS, seed=SEED, as_at=AS_AT, shape=OfficeShape(team_pace=(1.2, 1.3)))
    assert share_by_13_weeks(fast) > share_by_13_weeks(slow) + 0.05


# -- customers ------------------------------------------------------------------

def test_reclaims(customers):
    multi = [sorted(c, key=lambda r: r["claim_start"]) for c in customers.values() if len(c) > 1]
    assert 0.06 <= len(multi) / len(customers) <= 0.10
    gaps = []
    for first, second, *more in multi:
        assert not more
        assert first["claim_end"], "a re-claim follows an ended claim"
        gap = (d(second["claim_start"]) - d(first["claim_end"])).days
        assert 1 <= gap <= 120                     # never overlapping
        gaps.append(gap)
        for c in ("customer_name", "date_of_birth", "nino", "sex", "disability", "ethnicity"):
            assert first[c] == second[c]
        assert first["office"] == second["office"]
    assert sum(g <= 7 for g in gaps) >= 50
    assert sum(7 < g <= 91 for g in gaps) >= 200
    assert sum(g > 91 for g in gaps) >= 50


def test_characteristics(rows, customers):
    people = [c[0] for c in customers.values()]
    n = len(people)
    assert {p["sex"] for p in people} == {"female", "male", ""}
    assert {p["disability"] for p in people} == {"yes", "no", ""}
    assert {p["ethnicity"] for p in people} == {"White", "Asian", "Black", "Mixed", "Other", ""}
    for col, lo, hi in (("sex", 0.002, 0.04), ("disability", 0.07, 0.13), ("ethnicity", 0.07, 0.13)):
        assert lo <= sum(not p[col] for p in people) / n <= hi, col
    complete = sum(all(p[c] for c in ("sex", "disability", "ethnicity")) for p in people) / n
    assert 0.86 <= complete <= 0.93
    assert all(p["customer_name"].count(" ") >= 1 for p in people)
    ages = collections.Counter(age_on(d(r["date_of_birth"]), d(r["claim_start"])) for r in rows)
    assert ages[16] + ages[17] >= 0.01 * ROWS
    assert sum(v for a, v in ages.items() if a >= 50) >= 0.1 * ROWS


# -- successive extracts ----------------------------------------------------------

def test_last_extract_is_the_single_extract(extracts, rows):
    assert [len(e) for e in extracts] == sorted(len(e) for e in extracts)
    assert len(extracts[-1]) == ROWS
    assert extracts[-1] == rows


def test_successive_extracts_grow_and_stay_consistent(extracts):
    static = ("customer_id", "customer_name", "date_of_birth", "nino", "sex", "disability",
              "ethnicity", "benefit", "claim_start")
    for as_at, rows in zip(DATES, extracts):
        for r in rows:
            assert d(r["claim_start"]) <= as_at
            assert not r["claim_end"] or d(r["claim_end"]) <= as_at
    for k in range(len(extracts) - 1):
        now = {r["claim_id"]: r for r in extracts[k]}
        later = {r["claim_id"]: r for r in extracts[k + 1]}
        assert set(now) <= set(later)
        assert all(now[c][f] == later[c][f] for c in now for f in static)
        # ended claims never change again
        assert all(later[c] == r for c, r in now.items() if r["claim_end"])
        new = set(later) - set(now)
        assert new and all(d(later[c]["claim_start"]) > DATES[k] for c in new)


def test_late_end_dates_and_transfers(extracts):
    for k in range(len(extracts) - 1):
        now = {r["claim_id"]: r for r in extracts[k]}
        later = {r["claim_id"]: r for r in extracts[k + 1]}
        open_now = [c for c, r in now.items() if not r["claim_end"]]
        ended_since = [c for c in open_now if later[c]["claim_end"]]
        assert len(ended_since) >= 100
        # some ends reach the extract late: dated on or before the earlier as-at date
        assert any(d(later[c]["claim_end"]) <= DATES[k] for c in ended_since)
        moved = [c for c in open_now if now[c]["adviser_id"] != later[c]["adviser_id"]]
        assert 0.015 <= len(moved) / len(open_now) <= 0.045
        same_team = sum(now[c]["team"] == later[c]["team"] for c in moved)
        assert same_team > len(moved) / 2
        assert same_team < len(moved)


def test_adviser_team_stable_across_extracts(extracts):
    team: dict[str, str] = {}
    for rows in extracts:
        for r in rows:
            assert team.setdefault(r["adviser_id"], r["team"]) == r["team"]


def test_as_at_dates_must_increase():
    with pytest.raises(ValueError):
        successive_extracts(ROWS, seed=SEED, as_at_dates=[AS_AT, AS_AT])
    with pytest.raises(ValueError):
        successive_extracts(ROWS, seed=SEED, as_at_dates=[])


# -- command line ----------------------------------------------------------------

def test_cli_writes_successive_files(tmp_path, capsys, rows):
    out = tmp_path / "claims.csv"
    code = main(["--rows", str(ROWS), "--seed", str(SEED), "--as-at", AS_AT.isoformat(),
                 "--output", str(out), "--extracts", "3", "--interval-days", "14"])
    assert code == 0
    paths = extract_paths(out, 3)
    assert [p.name for p in paths] == ["claims-1.csv", "claims-2.csv", "claims-3.csv"]
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 3
    for line, k in zip(printed, (2, 1, 0)):
        assert (AS_AT - timedelta(days=14 * k)).isoformat() in line
    assert printed[-1].endswith(f"{ROWS} rows")
    single = tmp_path / "single.csv"
    write_extract(single, rows)
    assert paths[-1].read_bytes() == single.read_bytes()
    assert main(["--rows", str(ROWS), "--seed", str(SEED), "--as-at", AS_AT.isoformat(),
                 "--output", str(tmp_path / "one.csv")]) == 0
    assert (tmp_path / "one.csv").read_bytes() == single.read_bytes()
