"""The SQL roll-up agrees with the pure reference in measures/, and the contract's worked examples hold."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caseload.clock import FixedClock
from caseload.export.offflow import COLUMNS, LIMIT_COLUMNS, row_values, write_csv
from caseload.measures.cohorts import CohortKind, periods_between
from caseload.measures.destinations import END_REASONS, rule_set
from caseload.measures.offflow import ClaimFacts, offflow_rows
from caseload.measures.people import NOT_RECORDED, age_band
from caseload.measures.rates import DEFAULT_EXPECTED_LEVELS
from caseload.store.access import ADMIN, Actor, Role
from caseload.store.db import open_database
from caseload.store.errors import AccessDenied, StoreError
from caseload.store.importer import import_claims
from caseload.store.offflow import OffflowQuery, claim_facts, offflow
from extracts import cohort_of_40, row, write_extract

AS_AT = dt.date(2026, 3, 6)
BASE = dt.date(2025, 1, 1)
CLOCK = FixedClock.on(dt.date(2026, 3, 9))
pytestmark = pytest.mark.both_backends

claim_strategy = st.fixed_dictionaries({
    "customer": st.integers(0, 12),
    "start": st.integers(0, 420),
    "duration": st.one_of(st.none(), st.integers(0, 420)),
    "reason": st.sampled_from(("",) + END_REASONS),
    "benefit": st.sampled_from(("JSA", "JSA", "ESA")),
    "team": st.sampled_from(("Team A", "Team B")),
})
# Characteristics belong to the customer, not the claim.
SEXES = ("female", "male", "")
DOBS = ("", "1960-03-01", "1990-07-15", "2008-06-01", "2007-01-10", "1966-09-30")


def _extract(claims: list[dict]) -> tuple[list[dict[str, str]], list[dict]]:
    rows, kept = [], []
    for i, c in enumerate(claims):
        c = {**c, "sex": SEXES[c["customer"] % 3], "dob": DOBS[c["customer"] % 6]}
        start = BASE + dt.timedelta(days=c["start"])
        end = None if c["duration"] is None else start + dt.timedelta(days=c["duration"])
        if start > AS_AT or (end is not None and end > AS_AT):
            continue
        dob = c["dob"]
        kept.append({**c, "id": f"C{i:04d}", "start_d": start, "end_d": end, "dob_d": dob})
        rows.append(row(
            f"C{i:04d}", customer_id=f"P{c['customer']:03d}", claim_start=start.isoformat(),
            claim_end=end.isoformat() if end else "", end_reason=c["reason"] if end else "",
            benefit=c["benefit"], team=c["team"], adviser_id="A1" if c["team"] == "Team A" else "A2",
            sex=c["sex"], date_of_birth=dob,
        ))
    return rows, kept


def _reference_facts(kept: list[dict], group_by: str, as_at: dt.date) -> list[ClaimFacts]:
    out = []
    for c in kept:
        gap = None
        if c["end_d"] is not None and c["end_d"] <= as_at:
            later = [(o["start_d"] - c["end_d"]).days for o in kept
                     if o["customer"] == c["customer"] and o["id"] != c["id"]
                     and o["start_d"] >= c["end_d"] and o["start_d"] <= as_at]
            gap = min(later) if later else None
        group = {
            "none": "all",
            "team": c["team"],
            "benefit": c["benefit"],
            "sex": c["sex"] or NOT_RECORDED,
            "age_band": age_band(dt.date.fromisoformat(c["dob_d"]) if c["dob_d"] else None, c["start_d"]),
        }[group_by]
        out.append(ClaimFacts(c["id"], c["start_d"], c["end_d"], c["reason"] or None if c["end_d"] else None,
                              c["benefit"], group, gap))
    return out


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    claims=st.lists(claim_strategy, min_size=1, max_size=40),
    group_by=st.sampled_from(("none", "team", "benefit", "sex", "age_band")),
    kind=st.sampled_from(list(CohortKind)),
    as_at_back=st.sampled_from((0, 30, 200)),
)
def test_sql_rollup_equals_the_reference(tmp_path_factory, new_db, claims, group_by, kind, as_at_back):
    rows, kept = _extract(claims)
    if not rows:
        return
    path = tmp_path_factory.mktemp("prop")
    engine = open_database(new_db(), CLOCK)
    try:
        import_claims(engine, write_extract(path / "x.csv", rows), as_at=AS_AT, actor=ADMIN, clock=CLOCK)
        as_at = AS_AT - dt.timedelta(days=as_at_back)
        periods = periods_between(kind, BASE, as_at)
        q = OffflowQuery(group_by=group_by, cohort=kind, first=periods[0].start, last=periods[-1].end,
                         as_at=as_at)
        with engine.connect() as conn:
            got = offflow(conn, ADMIN, q)
            facts = claim_facts(conn, ADMIN, q, as_at, periods)
        expected = offflow_rows(
            _reference_facts(kept, group_by, as_at), group_by=group_by, periods=periods, milestones=(13, 26, 52),
            as_at=as_at, rule_set=rule_set("opte-2010"), expected_levels=DEFAULT_EXPECTED_LEVELS,
        )
        assert got.rows == expected
        # The claim-level query behind "explain this number" gives the same rows too.
        assert offflow_rows(facts, group_by=group_by, periods=periods, milestones=(13, 26, 52), as_at=as_at,
                            rule_set=rule_set("opte-2010"), expected_levels=DEFAULT_EXPECTED_LEVELS) == expected
    finally:
        engine.dispose()


def test_worked_example_cohort_of_40(tmp_path, new_db):
    clock = FixedClock.on(dt.date(2013, 1, 1))
    engine = open_database(new_db(), clock)
    import_claims(engine, cohort_of_40(tmp_path), as_at=dt.date(2012, 12, 31), actor=ADMIN, clock=clock)
    q = OffflowQuery(cohort=CohortKind.CALENDAR_MONTH, first=dt.date(2011, 4, 1), last=dt.date(2011, 4, 30))
    with engine.connect() as conn:
        result = offflow(conn, ADMIN, q)
    out = io.StringIO()
    write_csv(result, out)
    got = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert list(got[0].keys()) == list(COLUMNS) + list(LIMIT_COLUMNS)
    assert [(g["milestone_weeks"], g["cohort_size"], g["offflows"], g["rate_pct"], g["target_pct"], g["meets_target"])
            for g in got] == [
        ("13", "40", "18", "45.00", "56", "no"),
        ("26", "40", "26", "65.00", "78", "no"),
        ("52", "40", "33", "82.50", "92", "no"),
    ]
    g13 = got[0]
    assert (g13["employment_offflows"], g13["sanction_offflows"], g13["not_known_offflows"], g13["opte_offflows"]) == (
        "10", "3", "3", "16")
    assert (g13["cohort_period"], g13["cohort_start"], g13["cohort_end"], g13["status"]) == (
        "2011-04", "2011-04-01", "2011-04-30", "final")


def test_quick_reclaim_is_not_opte_but_still_an_offflow(tmp_path, new_db):
    clock = FixedClock.on(dt.date(2026, 3, 9))
    engine = open_database(new_db(), clock)
    rows = [
        row("C1", customer_id="P1", claim_start="2025-06-02", claim_end="2025-07-01", end_reason="found_work"),
        row("C2", customer_id="P1", claim_start="2025-07-08"),  # 7 days later: a quick re-claim
        row("C3", customer_id="P2", claim_start="2025-06-03", claim_end="2025-07-01", end_reason="found_work"),
        row("C4", customer_id="P2", claim_start="2025-07-09"),  # 8 days later: a real off-flow
    ]
    import_claims(engine, write_extract(tmp_path / "x.csv", rows), as_at=AS_AT, actor=ADMIN, clock=clock)
    q = OffflowQuery(cohort=CohortKind.CALENDAR_MONTH, first=dt.date(2025, 6, 1), last=dt.date(2025, 6, 30),
                     milestones=(13,))
    with engine.connect() as conn:
        (r,) = offflow(conn, ADMIN, q).rows
    assert (r.cohort_size, r.offflows, r.employment, r.opte) == (2, 2, 2, 1)


def _sex_groups(tmp_path: Path, url: str, women: int, men: int):
    clock = FixedClock.on(dt.date(2026, 3, 9))
    engine = open_database(url, clock)
    rows = [row(f"C{i:03d}", claim_start="2025-06-02", claim_end="2025-07-01", end_reason="found_work",
                sex="female" if i < women else "male") for i in range(women + men)]
    import_claims(engine, write_extract(tmp_path / "x.csv", rows), as_at=AS_AT, actor=ADMIN, clock=clock)
    q = OffflowQuery(group_by="sex", cohort=CohortKind.CALENDAR_MONTH, first=dt.date(2025, 6, 1),
                     last=dt.date(2025, 6, 30), milestones=(13,))
    with engine.connect() as conn:
        result = offflow(conn, ADMIN, q)
    return {r.group: row_values(result, r) for r in result.rows}


def test_suppression_at_four_and_five(tmp_path, new_db):
    cells = _sex_groups(tmp_path, new_db(), women=4, men=5)
    idx = {c: i for i, c in enumerate(COLUMNS)}
    women, men = cells["female"], cells["male"]
    assert (women[idx["cohort_size"]], women[idx["offflows"]], women[idx["rate_pct"]], women[idx["meets_target"]]) == (
        "<5", "<5", "", "")
    assert (men[idx["cohort_size"]], men[idx["offflows"]], men[idx["rate_pct"]], men[idx["meets_target"]]) == (
        "5", "5", "100.00", "yes")
    # Zero is suppressed too.
    assert men[idx["sanction_offflows"]] == "<5"


def test_by_adviser_is_for_the_team_manager_only(engine, clock, tmp_path):
    import_claims(engine, write_extract(tmp_path / "x.csv", [row("C1"), row("C2", adviser_id="A9", adviser_name="Zed",
                                                                             team="Team B")]),
                  as_at=dt.date(2026, 5, 1), actor=ADMIN, clock=clock)
    manager = Actor(id="M1", role=Role.TEAM_MANAGER, team_id=1, office_id=1)
    q = OffflowQuery(group_by="adviser", cohort=CohortKind.QUARTER, last_n=2)
    with engine.connect() as conn:
        rows = offflow(conn, manager, q).rows
        assert {r.group for r in rows} == {"Asha Patel"}
        with pytest.raises(AccessDenied, match="--by adviser is for a team manager"):
            offflow(conn, ADMIN, q)
        leader = Actor(id="L1", role=Role.TEAM_LEADER, office_id=1)
        assert {r.group for r in offflow(conn, leader, OffflowQuery(group_by="team", cohort=CohortKind.QUARTER,
                                                                    last_n=2)).rows} == {"Team A", "Team B"}
        adviser = Actor(id="A1", role=Role.ADVISER, team_id=1, office_id=1)
        assert {r.group for r in offflow(conn, adviser, OffflowQuery(group_by="team", cohort=CohortKind.QUARTER,
                                                                     last_n=2)).rows} == {"Team A"}


def test_bounds_must_be_period_bounds(engine, clock, tmp_path):
    import_claims(engine, write_extract(tmp_path / "x.csv", [row("C1")]), as_at=dt.date(2026, 5, 1), actor=ADMIN,
                  clock=clock)
    q = OffflowQuery(cohort=CohortKind.REPORTING_MONTH, first=dt.date(2010, 4, 3), last=dt.date(2010, 4, 30))
    with engine.connect() as conn, pytest.raises(StoreError, match="nearest period starts are 2010-03-27 and 2010-05-01"):
        offflow(conn, ADMIN, q)


def test_no_import_yet_says_what_to_do(engine):
    with engine.connect() as conn, pytest.raises(StoreError, match="caseload import claims"):
        offflow(conn, ADMIN, OffflowQuery())


def test_confirmed_destination_replaces_the_extracts_reason_in_reason_based_figures(tmp_path, new_db):
    from caseload.store import records
    from caseload.store.db import write

    clock = FixedClock.on(dt.date(2026, 3, 9))
    engine = open_database(new_db(), clock)
    rows = [row("C1", claim_start="2025-06-02", claim_end="2025-07-01", end_reason="not_known"),
            row("C2", claim_start="2025-06-03", claim_end="2025-07-01", end_reason="failed_to_sign")]
    import_claims(engine, write_extract(tmp_path / "x.csv", rows), as_at=AS_AT, actor=ADMIN, clock=clock)
    q = OffflowQuery(cohort=CohortKind.CALENDAR_MONTH, first=dt.date(2025, 6, 1), last=dt.date(2025, 6, 30),
                     milestones=(13,))
    with engine.connect() as conn:
        before = offflow(conn, ADMIN, q)
    with write(engine) as conn:
        records.record_destination(conn, clock, ADMIN, "C1", "found_work", "customer", dt.date(2025, 8, 1))
    with engine.connect() as conn:
        after = offflow(conn, ADMIN, q)
    (b,), (a,) = before.rows, after.rows
    assert (b.offflows, b.employment, b.not_known, before.confirmed_destinations) == (2, 0, 1, 0)
    assert (a.offflows, a.employment, a.not_known, after.confirmed_destinations) == (2, 1, 0, 1)
