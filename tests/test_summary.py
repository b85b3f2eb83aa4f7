"""Cohort summaries: kept equal to a full recount through imports and edits, and giving the same
roll-up as a scan of the claims and as the reference in measures/; team rows pool to the office's;
explain-this-number lists exactly the claims counted."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from caseload.clock import FixedClock
from caseload.measures.cohorts import CohortKind, periods_between
from caseload.measures.destinations import END_REASONS, category, rule_set
from caseload.measures.offflow import ClaimFacts, offflow_rows
from caseload.measures.people import NOT_RECORDED
from caseload.measures.rates import DEFAULT_EXPECTED_LEVELS, truncated_pct
from caseload.store import offflow as offflow_mod
from caseload.store import records
from caseload.store import summary as summary_mod
from caseload.store.access import ADMIN, Actor, Role
from caseload.store.db import open_database, write
from caseload.store.importer import import_claims
from caseload.store.offflow import MIX_CATEGORIES, OffflowQuery, explain, offflow
from caseload.store.summary import SUMMARY_WEEKS, rebuild_summaries
from extracts import row, write_extract

BASE = dt.date(2025, 1, 4)
# Three extracts four weeks apart; the last is the latest import the summaries answer at.
AS_ATS = (dt.date(2026, 2, 6), dt.date(2026, 3, 6), dt.date(2026, 4, 3))
TODAY = dt.date(2026, 4, 6)
CLOCK = FixedClock.on(TODAY)
pytestmark = pytest.mark.both_backends

# Advisers and where they sit: two teams in one office (one with two advisers), one in another, and
# one adviser with no team at all.
ADVISERS = {
    "A1": ("Asha Patel", "Team A", "Northgate"),
    "A2": ("Ben Okafor", "Team B", "Northgate"),
    "A3": ("Cara Singh", "Team C", "Southside"),
    "A4": ("Dev Roy", "", ""),
    "A5": ("Eve Shaw", "Team A", "Northgate"),
}
TEAM_OF = {a: t or NOT_RECORDED for a, (_, t, _) in ADVISERS.items()}
OFFICE_OF = {a: o or NOT_RECORDED for a, (_, _, o) in ADVISERS.items()}

claim_strategy = st.fixed_dictionaries({
    "customer": st.integers(0, 9),
    "other_customer": st.integers(0, 9),
    "moves": st.sampled_from((None, None, None, 1, 2)),  # from this extract on the claim has other_customer
    "start": st.integers(0, 455),
    "shift": st.sampled_from((0, 0, 0, 0, 3, 30)),  # a corrected start date in the second extract on
    "duration": st.one_of(st.none(), st.integers(0, 420)),
    "reasons": st.lists(st.sampled_from(("",) + END_REASONS), min_size=3, max_size=3),
    "benefit": st.sampled_from(("JSA", "JSA", "ESA")),
    "adviser": st.sampled_from(tuple(ADVISERS)),
    "transfer": st.sampled_from((None, None, "A1", "A3", "A5")),  # holder in the later extracts
    "missing": st.sampled_from((None, None, None, 1, 2)),  # left out of this later extract (unchanged)
})


def _state(c: dict, k: int) -> dict | None:
    """The claim as extract k carries it (None when it is not in that extract)."""
    as_at = AS_ATS[k]
    start = BASE + dt.timedelta(days=c["start"] + (c["shift"] if k >= 1 else 0))
    if start > as_at:
        return None
    first_seen = next(j for j in range(3) if BASE + dt.timedelta(days=c["start"] + (c["shift"] if j >= 1 else 0))
                      <= AS_ATS[j])
    if c["missing"] == k and k > first_seen:
        return None
    end = None if c["duration"] is None else start + dt.timedelta(days=c["duration"])
    if end is not None and end > as_at:
        end = None
    customer = c["other_customer"] if c["moves"] is not None and k >= c["moves"] else c["customer"]
    adviser = c["transfer"] if c["transfer"] and k > first_seen else c["adviser"]
    return {"start": start, "end": end, "reason": c["reasons"][k] if end else "", "customer": customer,
            "adviser": adviser, "benefit": c["benefit"], "first_adviser": c["adviser"]}


def _extract_rows(claims: list[dict], k: int) -> list[dict[str, str]]:
    out = []
    for i, c in enumerate(claims):
        s = _state(c, k)
        if s is None:
            continue
        name, team, office = ADVISERS[s["adviser"]]
        out.append(row(
            f"C{i:03d}", customer_id=f"P{s['customer']:02d}", claim_start=s["start"].isoformat(),
            claim_end=s["end"].isoformat() if s["end"] else "", end_reason=s["reason"], benefit=s["benefit"],
            adviser_id=s["adviser"], adviser_name=name, team=team, office=office,
        ))
    return out


def _summary_tables(conn) -> dict:  # noqa: ANN001
    return {t: sorted(tuple(r) for r in conn.execute(text(f"SELECT * FROM {t}")))
            for t in ("cohort_summary", "cohort_summary_team", "cohort_start", "summary_info")}


def assert_summaries_equal_a_recount(engine) -> None:  # noqa: ANN001
    with engine.connect() as conn:
        kept = _summary_tables(conn)
        conn.rollback()
        with conn.begin() as tx:
            rebuild_summaries(conn)
            recounted = _summary_tables(conn)
            tx.rollback()
    assert kept == recounted


@contextmanager
def scanning():
    """Roll-ups read the claims, as they did before the summaries."""
    with mock.patch.object(offflow_mod, "summary_usable", lambda *a, **k: False):
        yield


MANAGER_A = Actor(id="MA", role=Role.TEAM_MANAGER, team_id=None, office_id=None)


def _manager(conn) -> Actor:  # noqa: ANN001
    team_id, office_id = conn.execute(text("SELECT id, office_id FROM team WHERE name = 'Team A'")).one()
    return Actor(id="MA", role=Role.TEAM_MANAGER, team_id=team_id, office_id=office_id)


def _reference(claims: list[dict], final: dict[str, dict], confirmed: dict[str, str], group_by: str,
               as_at: dt.date) -> list[ClaimFacts]:
    out = []
    for cid, s in final.items():
        gap = None
        if s["end"] is not None:
            later = [(o["start"] - s["end"]).days for oid, o in final.items()
                     if o["customer"] == s["customer"] and oid != cid and o["start"] >= s["end"]]
            gap = min(later) if later else None
        a = s["first_adviser"]
        group = {"none": "all", "office": OFFICE_OF[a], "team": TEAM_OF[a], "adviser": ADVISERS[a][0]}[group_by]
        reason = (confirmed.get(cid) or s["reason"] or None) if s["end"] else None
        out.append(ClaimFacts(cid, s["start"], s["end"], reason, s["benefit"], group, gap))
    return out


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    claims=st.lists(claim_strategy, min_size=1, max_size=30),
    confirm=st.lists(st.tuples(st.integers(0, 29), st.sampled_from(END_REASONS), st.integers(0, 2)), max_size=4),
    kind=st.sampled_from(list(CohortKind)),
)
# A reason changed and changed back: the third extract has the first one's bytes and must still apply.
@example(claims=[{"customer": 0, "other_customer": 0, "moves": None, "start": 0, "shift": 0, "duration": 0,
                  "reasons": ["programme_start", "other_benefit", "programme_start"], "benefit": "JSA",
                  "adviser": "A1", "transfer": None, "missing": None}],
         confirm=[], kind=CohortKind.CALENDAR_MONTH)
def test_summaries_stay_equal_to_a_recount_and_answer_like_the_scan_and_the_reference(
        tmp_path_factory, new_db, claims, confirm, kind):
    path = tmp_path_factory.mktemp("summary")
    engine = open_database(new_db(), CLOCK)
    confirmed: dict[str, str] = {}
    final: dict[str, dict] = {}
    # Every later import is counted block by block (a small extract would otherwise touch so many of
    # its few customers that it counts everything again).
    incremental = mock.patch.object(summary_mod, "FULL_REBUILD_SHARE", 10.0)
    incremental.start()
    try:
        for k, as_at in enumerate(AS_ATS):
            rows = _extract_rows(claims, k)
            if not rows:
                continue
            import_claims(engine, write_extract(path / f"x{k}.csv", rows), as_at=as_at, actor=ADMIN,
                          clock=FixedClock.on(as_at + dt.timedelta(days=1)))
            for i, c in enumerate(claims):
                s = _state(c, k)
                if s is not None:
                    final[f"C{i:03d}"] = s
            assert_summaries_equal_a_recount(engine)
            # Destinations confirmed after this import, on claims that have ended.
            with write(engine) as conn:
                for idx, code, when in confirm:
                    cid = f"C{idx:03d}"
                    if when != k or cid not in final or final[cid]["end"] is None:
                        continue
                    records.record_destination(conn, CLOCK, ADMIN, cid, code, "customer", final[cid]["end"])
                    confirmed[cid] = code
            assert_summaries_equal_a_recount(engine)
        if not final:
            return
        with engine.connect() as conn:  # an extract the same as the one before is not imported again
            as_at = offflow_mod.latest_import(conn)["as_at"]
        periods = periods_between(kind, BASE, as_at)
        for group_by in ("none", "office", "team", "adviser"):
            q = OffflowQuery(group_by=group_by, cohort=kind, first=periods[0].start, last=periods[-1].end)
            with engine.connect() as conn:
                actor = _manager(conn) if group_by == "adviser" and conn.execute(
                    text("SELECT 1 FROM team WHERE name = 'Team A'")).first() else ADMIN
                if group_by == "adviser" and actor is ADMIN:
                    continue
                got = offflow(conn, actor, q)
                with scanning():
                    scanned = offflow(conn, actor, q)
            assert got.source == "summary" and scanned.source == "scan"
            facts = _reference(claims, final, confirmed, group_by, as_at)
            if group_by == "adviser":
                facts = [f for f in facts if final[f.claim_id]["first_adviser"] in ("A1", "A5")]
            expected = offflow_rows(facts, group_by=group_by, periods=periods, milestones=(13, 26, 52), as_at=as_at,
                                    rule_set=rule_set("opte-2010"), expected_levels=DEFAULT_EXPECTED_LEVELS)
            assert got.rows == scanned.rows == expected
            assert got.mix == scanned.mix
            assert got.confirmed_destinations == scanned.confirmed_destinations
            for r in got.rows:
                mix = got.mix_of(r)
                assert sum(mix.values()) == r.offflows
                ended = [f for f in facts if f.group == r.group and f.start in r.period and f.end is not None
                         and (f.end - f.start).days <= 7 * r.milestone_weeks]
                assert mix == {c: sum(1 for f in ended if category(f.end_reason) is c) for c in MIX_CATEGORIES}
            _assert_invariants(got)
        with engine.connect() as conn:
            by_team = offflow(conn, ADMIN, OffflowQuery(group_by="team", cohort=kind, first=periods[0].start,
                                                         last=periods[-1].end))
            by_office = offflow(conn, ADMIN, OffflowQuery(group_by="office", cohort=kind, first=periods[0].start,
                                                           last=periods[-1].end))
            by_none = offflow(conn, ADMIN, OffflowQuery(group_by="none", cohort=kind, first=periods[0].start,
                                                         last=periods[-1].end))
        _assert_pooled(by_team, by_office, {t: OFFICE_OF[a] for a, t in TEAM_OF.items()})
        _assert_pooled(by_office, by_none, None)
        # Explain this number: exactly the cell's claims, and its numerator.
        with engine.connect() as conn:
            for r in by_team.rows:
                e = explain(conn, ADMIN, by_team.query, r.group, r.period, r.milestone_weeks)
                assert (e.denominator, e.numerator, e.opte) == (r.cohort_size, r.offflows, r.opte)
                members = {f.claim_id for f in _reference(claims, final, confirmed, "team", as_at)
                           if f.group == r.group and f.start in r.period}
                assert {x.claim_id for x in e.rows} == members
    finally:
        incremental.stop()
        engine.dispose()


first_load_claim = st.fixed_dictionaries({
    "customer": st.integers(0, 5),
    "start": st.integers(0, 600),
    "duration": st.one_of(st.none(), st.integers(0, 7), st.integers(0, 470)),  # 455 days: the last milestone
    "reason": st.sampled_from(("",) + END_REASONS),
    "benefit": st.sampled_from(("JSA", "ESA", "UC")),
    "adviser": st.sampled_from((*ADVISERS, "A6")),  # A6: an office but no team
    "again": st.sampled_from((None, None, None, None, 0, 1)),  # the claim id of an earlier line: both rejected
    "after": st.sampled_from((None, None, 0, 2, 7, 8)),  # the same customer's re-claim, days after the last end
})


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(claims=st.lists(first_load_claim, min_size=1, max_size=40))
# A re-claim two days after the end: the first claim is an off-flow but not OPtE.
@example(claims=[{"customer": 0, "start": 10, "duration": 5, "reason": "found_work", "benefit": "JSA", "adviser": "A1",
                  "again": None, "after": None},
                 {"customer": 1, "start": 0, "duration": None, "reason": "", "benefit": "JSA", "adviser": "A2",
                  "again": None, "after": 2}])
def test_a_first_load_counted_as_its_rows_are_read_equals_a_recount(tmp_path_factory, new_db, claims):
    """Into an empty database the summaries are counted from the rows as they are read (re-claims within
    the rule set's days, claims ended after the last milestone, duplicate lines rejected by --partial,
    advisers with no team): the same as counting the written claims from scratch."""
    path = tmp_path_factory.mktemp("first")
    engine = open_database(new_db(), CLOCK)
    as_at = AS_ATS[-1]
    first = as_at - dt.timedelta(days=600)
    places = {**ADVISERS, "A6": ("Fay Moss", "", "Southside")}
    rows = []
    ended: tuple[int, dt.date] | None = None  # the last claim that ended: its customer and end
    for i, c in enumerate(claims):
        customer, start = c["customer"], first + dt.timedelta(days=c["start"])
        if c["after"] is not None and ended is not None and ended[1] + dt.timedelta(days=c["after"]) <= as_at:
            customer, start = ended[0], ended[1] + dt.timedelta(days=c["after"])
        end = None if c["duration"] is None else start + dt.timedelta(days=c["duration"])
        if end is not None and end > as_at:
            end = None
        if end is not None:
            ended = (customer, end)
        name, team, office = places[c["adviser"]]
        cid = f"C{c['again']:03d}" if c["again"] is not None and c["again"] < i else f"C{i:03d}"
        rows.append(row(cid, customer_id=f"P{customer:02d}", claim_start=start.isoformat(),
                        claim_end=end.isoformat() if end else "", end_reason=c["reason"] if end else "",
                        benefit=c["benefit"], adviser_id=c["adviser"], adviser_name=name, team=team, office=office))
    try:
        # Counted from the rows, not from scratch after the write (which would make this test say nothing).
        with mock.patch.object(summary_mod, "rebuild_summaries", side_effect=AssertionError("counted from scratch")):
            result = import_claims(engine, write_extract(path / "x.csv", rows), as_at=as_at, actor=ADMIN,
                                   clock=CLOCK, partial=True, rejects=path / "rejects.csv")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM claim")).scalar_one() == result.claims_added
        assert result.claims_added + result.rows_rejected == len(rows)
        assert_summaries_equal_a_recount(engine)
    finally:
        engine.dispose()


def test_a_first_load_with_more_claims_in_one_block_than_the_tally_counts_is_counted_from_scratch(tmp_path, new_db):
    """65,536 claims of one adviser, started on one day: more than a block's 16-bit counter holds, so the
    summaries come from the written claims instead, and are still right."""
    engine = open_database(new_db(), CLOCK)
    rows = [row(f"C{i:05d}", customer_id=f"P{i:05d}", claim_start="2025-06-02",
                claim_end="2025-07-01" if i % 3 else "", end_reason="found_work" if i % 3 else "")
            for i in range(65536)]
    import_claims(engine, write_extract(tmp_path / "big.csv", rows), as_at=dt.date(2026, 3, 6), actor=ADMIN,
                  clock=CLOCK)
    with engine.connect() as conn:
        n, off = conn.execute(text("SELECT SUM(n), SUM(off_13) FROM cohort_summary")).one()
    assert (n, off) == (65536, sum(1 for i in range(65536) if i % 3))
    assert_summaries_equal_a_recount(engine)


def _assert_invariants(result) -> None:  # noqa: ANN001
    cells = {(r.group, r.period, r.milestone_weeks): r for r in result.rows}
    for (g, p, w), r in cells.items():
        # Cumulative: 13 <= 26 <= 52 for every cohort.
        for shorter in (13, 26):
            if shorter < w and (g, p, shorter) in cells:
                assert cells[(g, p, shorter)].offflows <= r.offflows
        assert 0 <= r.offflows <= r.cohort_size and 0 <= r.not_yet_at <= r.cohort_size


def _assert_pooled(parts, whole, parent_of) -> None:  # noqa: ANN001
    """Every row of `whole` is the pooled sum of the rows of `parts` under it (counts, never rates)."""
    sums: dict = {}
    for r in parts.rows:
        key = ("all" if parent_of is None else parent_of[r.group], r.period, r.milestone_weeks)
        acc = sums.setdefault(key, [0] * 7)
        for i, v in enumerate((r.cohort_size, r.offflows, r.employment, r.sanction, r.not_known, r.opte,
                               r.not_yet_at)):
            acc[i] += v
    assert {(r.group, r.period, r.milestone_weeks) for r in whole.rows} == set(sums)
    for r in whole.rows:
        size, off, emp, san, nk, opte, not_yet = sums[(r.group, r.period, r.milestone_weeks)]
        assert (r.cohort_size, r.offflows, r.employment, r.sanction, r.not_known, r.opte, r.not_yet_at) == (
            size, off, emp, san, nk, opte, not_yet)
        assert r.rate_pct == truncated_pct(off, size)


def test_a_reclaim_within_7_days_changes_the_other_claims_opte_on_import(tmp_path, new_db):
    """The later claim arrives in the second extract; the first claim, unchanged, stops being OPtE."""
    engine = open_database(new_db(), CLOCK)
    first = [row("C1", customer_id="P1", claim_start="2025-06-02", claim_end="2025-07-01", end_reason="found_work")]
    import_claims(engine, write_extract(tmp_path / "a.csv", first), as_at=dt.date(2025, 7, 4), actor=ADMIN,
                  clock=CLOCK)
    q = OffflowQuery(cohort=CohortKind.CALENDAR_MONTH, first=dt.date(2025, 6, 1), last=dt.date(2025, 6, 30),
                     milestones=(13,))
    with engine.connect() as conn:
        (before,) = offflow(conn, ADMIN, q).rows
    later = [row("C2", customer_id="P1", claim_start="2025-07-05")]
    import_claims(engine, write_extract(tmp_path / "b.csv", later), as_at=dt.date(2025, 7, 11), actor=ADMIN,
                  clock=CLOCK)
    with engine.connect() as conn:
        result = offflow(conn, ADMIN, q)
        e = explain(conn, ADMIN, q, "all", result.periods[0], 13)
    (after,) = result.rows
    assert result.source == "summary"
    assert (before.offflows, before.opte) == (1, 1)
    assert (after.offflows, after.employment, after.opte) == (1, 1, 0)
    assert [(x.claim_id, x.counts, x.opte) for x in e.rows] == [("C1", True, False)]
    assert_summaries_equal_a_recount(engine)


def test_roll_ups_the_summaries_cannot_answer_scan_and_agree(tmp_path, new_db):
    """An earlier as-at date, current-holder attribution, other milestones: the claims are read."""
    engine = open_database(new_db(), CLOCK)
    rows = [row(f"C{i}", claim_start="2025-06-02", claim_end="2025-07-01" if i % 2 else "",
                end_reason="found_work" if i % 2 else "") for i in range(6)]
    import_claims(engine, write_extract(tmp_path / "a.csv", rows), as_at=dt.date(2026, 3, 6), actor=ADMIN,
                  clock=CLOCK)
    base = dict(cohort=CohortKind.CALENDAR_MONTH, first=dt.date(2025, 6, 1), last=dt.date(2025, 6, 30))
    with engine.connect() as conn:
        assert offflow(conn, ADMIN, OffflowQuery(**base)).source == "summary"
        assert offflow(conn, ADMIN, OffflowQuery(**base, milestones=(13, 65))).source == "summary"
        for q in (OffflowQuery(**base, as_at=dt.date(2026, 1, 1)), OffflowQuery(**base, attribution="current"),
                  OffflowQuery(**base, milestones=(13, 39)), OffflowQuery(**base, milestones=(13, 104)), OffflowQuery(**base, group_by="benefit")):
            got = offflow(conn, ADMIN, q)
            assert got.source == "scan"
            assert sum(r.offflows for r in got.rows if r.milestone_weeks == 13) == 3


def test_summary_milestones_include_the_published_ones():
    assert {13, 26, 52, 65} <= set(SUMMARY_WEEKS)


def test_explain_names_the_rule_set_and_both_reasons(tmp_path, new_db):
    engine = open_database(new_db(), CLOCK)
    rows = [row("C1", claim_start="2025-06-02", claim_end="2025-07-01", end_reason="not_known"),
            row("C2", claim_start="2025-06-03", claim_end="2025-10-01", end_reason="failed_to_sign"),
            row("C3", claim_start="2025-06-04"),
            row("C4", claim_start="2025-06-05", claim_end="2025-06-20", end_reason="other_benefit")]
    import_claims(engine, write_extract(tmp_path / "a.csv", rows), as_at=dt.date(2026, 3, 6), actor=ADMIN,
                  clock=CLOCK)
    with write(engine) as conn:
        records.record_destination(conn, CLOCK, ADMIN, "C1", "found_work", "employer", dt.date(2025, 8, 1))
    q = OffflowQuery(group_by="team", cohort=CohortKind.CALENDAR_MONTH, first=dt.date(2025, 6, 1),
                     last=dt.date(2025, 6, 30))
    with engine.connect() as conn:
        result = offflow(conn, ADMIN, q)
        e = explain(conn, ADMIN, q, "Team A", result.periods[0], 13)
    assert (e.rule_set, e.numerator, e.denominator) == ("opte-2010", 2, 4)
    assert "re-claim within 7 days" in e.rule_set_description
    assert [(x.claim_id, x.start.isoformat(), x.end and x.end.isoformat(), x.extract_reason, x.confirmed_reason,
             x.counts, x.opte) for x in e.rows] == [
        ("C1", "2025-06-02", "2025-07-01", "not_known", "found_work", True, True),
        ("C2", "2025-06-03", "2025-10-01", "failed_to_sign", None, False, False),
        ("C3", "2025-06-04", None, None, None, False, False),
        ("C4", "2025-06-05", "2025-06-20", "other_benefit", None, True, False),
    ]
    (r13,) = [r for r in result.rows if r.milestone_weeks == 13]
    assert (r13.offflows, r13.cohort_size, r13.employment, r13.opte) == (2, 4, 1, 1)


def test_explain_keeps_to_the_actors_scope(tmp_path, new_db):
    from caseload.store.errors import AccessDenied

    engine = open_database(new_db(), CLOCK)
    rows = [row("C1", claim_start="2025-06-02"),
            row("C2", claim_start="2025-06-03", adviser_id="A2", adviser_name="Ben Okafor", team="Team B")]
    import_claims(engine, write_extract(tmp_path / "a.csv", rows), as_at=dt.date(2026, 3, 6), actor=ADMIN,
                  clock=CLOCK)
    with engine.connect() as conn:
        manager = _manager(conn)
        q = OffflowQuery(group_by="team", cohort=CohortKind.CALENDAR_MONTH, first=dt.date(2025, 6, 1),
                         last=dt.date(2025, 6, 30))
        period = offflow(conn, manager, q).periods[0]
        assert [x.claim_id for x in explain(conn, manager, q, "Team A", period, 13).rows] == ["C1"]
        assert explain(conn, manager, q, "Team B", period, 13).rows == []
        adviser = Actor(id="A1", role=Role.ADVISER, team_id=manager.team_id, office_id=manager.office_id)
        with pytest.raises(AccessDenied):
            explain(conn, adviser, OffflowQuery(group_by="adviser", cohort=CohortKind.CALENDAR_MONTH), "Asha Patel",
                    period, 13)
