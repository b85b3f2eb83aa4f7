"""Reassignment, temporary cover and extracts that disagree with a local reassignment (store.reassign),
through the store and the command line, on real SQLite files."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select, text

from caseload.cli import main
from caseload.clock import FixedClock
from caseload.store import records, schema, staff
from caseload.store.access import ADMIN, actor_for
from caseload.store.caseload import CaseloadQuery, caseload
from caseload.store.customer import my_actions
from caseload.store.db import open_database, schema_version, write
from caseload.store.errors import AccessDenied, StoreError
from caseload.store.importer import import_claims
from caseload.store.reassign import (
    ClaimFilter, add_cover, covers_for, end_cover, list_conflicts, list_covers, plan, preview, reassign,
    resolve_conflict,
)
from extracts import row, write_extract
from test_store_db import _assert_same_schema_as_new
from test_summary import assert_summaries_equal_a_recount

AS_AT = dt.date(2026, 5, 1)
TODAY = dt.date(2026, 5, 11)
# A1's claims: (claim, start). As at 2026-05-01: C01, C02 beyond 52; C03 (13w in 3 days) and C05 (26w in
# 10 days) approaching; the rest neither.
A1_CLAIMS = (("C01", "2025-03-03"), ("C02", "2025-04-01"), ("C03", "2026-02-02"), ("C04", "2026-01-05"),
             ("C05", "2025-11-10"), ("C06", "2026-03-02"), ("C07", "2026-03-09"), ("C08", "2026-03-16"),
             ("C09", "2026-04-06"), ("C10", "2025-10-06"))
RATED = {"C04": "R", "C06": "R", "C07": "A", "C08": "G"}
TEAM_A = ("A2", "Ben Okafor"), ("A3", "Cara Singh")
pytestmark = pytest.mark.both_backends


def _rows() -> list[dict[str, str]]:
    rows = [row(cid, claim_start=start) for cid, start in A1_CLAIMS]
    rows += [row(f"D{i}", adviser_id=sid, adviser_name=name) for i, (sid, name) in enumerate(TEAM_A, 1)]
    rows.append(row("E1", adviser_id="B1", adviser_name="Bo Lind", team="Team B"))
    return rows


@pytest.fixture
def office(engine, clock, tmp_path):
    """Team A (A1 with ten claims, A2, A3; manager M1), team B (B1; manager MB), leader L1, in Northgate."""
    import_claims(engine, write_extract(tmp_path / "first.csv", _rows()), as_at=AS_AT, actor=ADMIN, clock=clock)
    with write(engine) as conn:
        staff.add(conn, clock, ADMIN, "M1", "Maya Ford", "team_manager", team="Team A", office="Northgate")
        staff.add(conn, clock, ADMIN, "MB", "Max Bell", "team_manager", team="Team B", office="Northgate")
        staff.add(conn, clock, ADMIN, "L1", "Lee Grant", "team_leader", office="Northgate")
        a1 = actor_for(conn, "A1")
        for cid, rating in RATED.items():
            records.set_rag(conn, clock, a1, cid, rating, "as agreed")
    return engine


def actor(engine, staff_id: str, today: dt.date = TODAY):  # noqa: ANN001, ANN201
    with engine.connect() as conn:
        return actor_for(conn, staff_id, today)


def ids(claims) -> list[str]:  # noqa: ANN001
    return [c.claim_id for c in claims]


def holders(engine) -> dict[str, str]:  # noqa: ANN001
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT id, adviser_id FROM claim")).all())


def caseload_ids(engine, staff_id: str, adviser_id: str | None = None,  # noqa: ANN001
                 today: dt.date = TODAY) -> set[str]:
    who = actor(engine, staff_id, today)
    with engine.connect() as conn:
        page = caseload(conn, who, AS_AT, CaseloadQuery(adviser_id=adviser_id or staff_id))
    return {r.claim_id for r in page.rows}


def do_reassign(engine, clock, staff_id: str, *args, **kw):  # noqa: ANN001, ANN002, ANN003, ANN201
    with write(engine) as conn:
        return reassign(conn, clock, actor(engine, staff_id), *args, **kw)


# Filters and sharing


def test_filters_pick_claims_by_rag_milestone_and_duration_in_claim_start_order(office):
    m1 = actor(office, "M1")
    with office.connect() as conn:
        everything = preview(conn, m1, "A1")
        red = preview(conn, m1, "A1", ClaimFilter(rag=("red",)))
        red_amber = preview(conn, m1, "A1", ClaimFilter(rag=("red", "amber")))
        unrated = preview(conn, m1, "A1", ClaimFilter(rag=("none",)))
        approaching = preview(conn, m1, "A1", ClaimFilter(approaching=True))
        beyond = preview(conn, m1, "A1", ClaimFilter(beyond_52=True))
        both = preview(conn, m1, "A1", ClaimFilter(rag=("none",), approaching=True))
        # The caseload screen's own quick filters agree.
        quick = {q: {r.claim_id for r in caseload(conn, m1, AS_AT, CaseloadQuery(adviser_id="A1", quick=q)).rows}
                 for q in ("approaching", "beyond 52")}
    assert ids(everything) == [cid for cid, start in sorted(A1_CLAIMS, key=lambda c: c[1])]
    assert ids(red) == ["C04", "C06"]
    assert ids(red_amber) == ["C04", "C06", "C07"]
    assert ids(unrated) == ["C01", "C02", "C10", "C05", "C03", "C09"]
    assert ids(approaching) == ["C05", "C03"] and set(ids(approaching)) == quick["approaching"]
    assert ids(beyond) == ["C01", "C02"] and set(ids(beyond)) == quick["beyond 52"]
    assert ids(both) == ["C05", "C03"]
    assert ClaimFilter(rag=("red", "none"), approaching=True).describe() == \
        "open claims: Red or unrated, approaching a milestone"
    with pytest.raises(StoreError, match="'purple' is not a RAG band"):
        ClaimFilter(rag=("purple",))


def test_claims_are_shared_out_evenly_in_claim_start_order(office, clock):
    order = [cid for cid, _ in sorted(A1_CLAIMS, key=lambda c: c[1])]
    with write(office) as conn:
        staff.add(conn, clock, ADMIN, "A4", "Dev Rao", "adviser", team="Team A", office="Northgate")
    result = do_reassign(office, clock, "M1", "A1", ["A2", "A3", "A4"], ClaimFilter(), "A1 leaves the team")
    assert result.shares == {"A2": 4, "A3": 3, "A4": 3} and result.total == 10
    held = holders(office)
    assert [held[c] for c in order] == ["A2", "A3", "A4"] * 3 + ["A2"]
    assert caseload_ids(office, "A1") == set()
    assert caseload_ids(office, "A3") == {order[1], order[4], order[7]} | {"D2"}


# Dated transfers, audit, actions, scope


def test_a_reassignment_is_a_dated_transfer_with_audit_and_the_actions_follow(office, clock):
    with write(office) as conn:
        a1 = actor_for(conn, "A1")
        own = records.add_action(conn, clock, a1, "C04", "Book a review", "A1", dt.date(2026, 5, 20))
        managers = records.add_action(conn, clock, a1, "C04", "Check the sanction", "M1", dt.date(2026, 5, 21))
    result = do_reassign(office, clock, "M1", "A1", ["A2"], ClaimFilter(rag=("red",)), "Balancing caseloads",
                         on=dt.date(2026, 5, 5))
    assert result.shares == {"A2": 2} and result.actions_moved == 1
    with office.connect() as conn:
        a = schema.Assignment.__table__
        history = conn.execute(select(a.c.adviser_id, a.c.from_date, a.c.to_date, a.c.reason, a.c.assigned_by, a.c.note)
                               .where(a.c.claim_id == "C04").order_by(a.c.id)).all()
        audit = conn.execute(text("SELECT entity, entity_id, field, old, new, actor FROM audit "
                                  "WHERE action = 'reassign' ORDER BY id")).all()
        owners = dict(conn.execute(text("SELECT id, owner FROM action")).all())
        claim = conn.execute(text("SELECT adviser_id, team_id, onflow_adviser_id FROM claim WHERE id = 'C04'")).one()
        a2_actions = [m.description for m in my_actions(conn, actor_for(conn, "A2", TODAY), TODAY)]
    assert [tuple(h) for h in history] == [
        ("A1", dt.date(2026, 1, 5), dt.date(2026, 5, 5), "extract", None, None),
        ("A2", dt.date(2026, 5, 5), None, "reassigned", "M1", "Balancing caseloads")]
    assert claim.adviser_id == "A2" and claim.onflow_adviser_id == "A1"
    assert owners == {own: "A2", managers: "M1"}
    assert a2_actions == ["Book a review"]
    assert [tuple(r) for r in audit] == [
        ("action", str(own), "owner", "A1", "A2", "M1"),
        ("claim", "C04", "adviser_id", "A1", "A2", "M1"),
        ("claim", "C06", "adviser_id", "A1", "A2", "M1"),
        ("staff", "A1", "caseload", None, "2 claims (open claims: Red) on 2026-05-05 to A2 2: Balancing caseloads",
         "M1")]
    # The customer record shows the transfer, by whom and why.
    from caseload.store.customer import customer_record

    with office.connect() as conn:
        record = customer_record(conn, actor_for(conn, "A2", TODAY), "C04")
    transfer = next(e for e in record.timeline if e.kind == "transfer")
    assert (transfer.text, transfer.who) == ("reassigned from Asha Patel to Ben Okafor: Balancing caseloads",
                                             "Maya Ford")


@pytest.mark.parametrize("who, args, message", [
    ("A1", ("A1", ["A2"]), "Only a team manager, team leader may reassign claims; you are acting as adviser A1"),
    ("MB", ("A1", ["A2"]), r"Asha Patel \(A1\) is not in your team"),
    ("M1", ("A1", ["B1"]), r"Bo Lind \(B1\) is not in your team"),
    ("M1", ("A1", ["A1"]), "A1 is the adviser the claims are moving from"),
    ("M1", ("A1", ["M1"]), r"Maya Ford \(M1\) is a team manager; claims are held by advisers"),
    ("M1", ("A1", ["Z9"]), "There is no staff member 'Z9'"),
    ("M1", ("A1", []), "Name at least one adviser"),
])
def test_who_may_reassign_what(office, clock, who, args, message):
    before = holders(office)
    with pytest.raises(StoreError, match=message):
        do_reassign(office, clock, who, *args, ClaimFilter(), "why")
    assert holders(office) == before


def test_refusals_leave_everything_as_it_was(office, clock):
    before = holders(office)
    with write(office) as conn:
        conn.execute(text("UPDATE staff SET active = false WHERE id = 'A3'"))
    for kw, message in [
        ({"to_advisers": ["A3"]}, r"Cara Singh \(A3\) is not an active member of staff"),
        ({"flt": ClaimFilter(rag=("red",), beyond_52=True)}, "A1 has no open claims: Red, beyond 52 weeks to reassign"),
        ({"reason": "  "}, "A reason for the reassignment is required"),
        ({"on": dt.date(2026, 5, 12)}, "2026-05-12 is in the future"),
        ({"on": dt.date(2026, 2, 1)}, "Claim C09's current holder has held it since 2026-04-06"),
    ]:
        args = {"to_advisers": ["A2"], "flt": ClaimFilter(), "reason": "why", **kw}
        with pytest.raises(StoreError, match=message):
            do_reassign(office, clock, "M1", "A1", **args)
    assert holders(office) == before
    with office.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM assignment WHERE reason = 'reassigned'")).scalar() == 0


def test_a_team_leader_reassigns_across_teams_in_the_office(office, clock):
    result = do_reassign(office, clock, "L1", "A1", ["B1", "A2"], ClaimFilter(beyond_52=True), "Specialist caseload")
    assert result.shares == {"B1": 1, "A2": 1}
    with office.connect() as conn:
        moved = conn.execute(text("SELECT c.id, c.adviser_id, t.name FROM claim c JOIN team t ON t.id = c.team_id "
                                  "WHERE c.id IN ('C01', 'C02') ORDER BY c.id")).all()
    assert [tuple(r) for r in moved] == [("C01", "B1", "Team B"), ("C02", "A2", "Team A")]
    assert "C01" in caseload_ids(office, "MB", "B1") and "C01" not in caseload_ids(office, "M1", "A1")


def test_summaries_and_claim_state_stay_equal_to_a_recount(office, clock, tmp_path):
    with write(office) as conn:
        records.add_action(conn, clock, actor_for(conn, "A1"), "C06", "Call", "A1", dt.date(2026, 5, 20))
    do_reassign(office, clock, "M1", "A1", ["A2", "A3"], ClaimFilter(rag=("red", "none")), "Leave")
    do_reassign(office, clock, "L1", "A3", ["B1"], ClaimFilter(approaching=True), "Specialist")
    later = [row("C03", claim_start="2026-02-02", claim_end="2026-05-08", end_reason="found_work", adviser_id="A2",
                 adviser_name="Ben Okafor"), row("C07", claim_start="2026-03-09", claim_end="2026-05-06",
                                                 end_reason="sanction")]
    import_claims(office, write_extract(tmp_path / "later.csv", later), as_at=dt.date(2026, 5, 8), actor=ADMIN,
                  clock=clock)
    assert_summaries_equal_a_recount(office)
    with office.connect() as conn:
        kept = sorted(tuple(r) for r in conn.execute(text("SELECT * FROM claim_state")))
        conn.rollback()
        with conn.begin() as tx:
            for cid in conn.execute(text("SELECT claim_id FROM claim_state")).scalars().all():
                records.refresh_state(conn, cid)
            rebuilt = sorted(tuple(r) for r in conn.execute(text("SELECT * FROM claim_state")))
            tx.rollback()
    assert len(kept) == len(RATED) and kept == rebuilt


# Cover


def test_cover_shows_a_colleagues_caseload_only_between_its_dates(office, clock):
    first, last = dt.date(2026, 5, 12), dt.date(2026, 5, 15)
    with write(office) as conn:
        cover = add_cover(conn, clock, actor(office, "M1"), "A1", "A2", first, last, "Annual leave")
    a1_claims = {cid for cid, _ in A1_CLAIMS}
    for day, sees in [(first - dt.timedelta(days=1), False), (first, True), (last, True),
                      (last + dt.timedelta(days=1), False)]:
        a2 = actor(office, "A2", day)
        with office.connect() as conn:
            assert [c.adviser_id for c in covers_for(conn, "A2", day)] == (["A1"] if sees else [])
            if sees:
                assert caseload_ids(office, "A2", "A1", day) == a1_claims
                assert records.claim_in_scope(conn, a2, "C04").adviser_id == "A1"
            else:
                with pytest.raises(AccessDenied):
                    caseload_ids(office, "A2", "A1", day)
                with pytest.raises(AccessDenied):
                    records.claim_in_scope(conn, a2, "C04")
        # Their own caseload stays their own.
        assert caseload_ids(office, "A2", today=day) == {"D1"}
    # The covering colleague records on the covered customers; the holder does not change.
    with write(office) as conn:
        records.add_note(conn, clock, actor(office, "A2", first), "C04", "Covered while Asha is away")
        records.log_contact(conn, clock, actor(office, "A2", first), "C04", dt.date(2026, 5, 11), "phone", True)
    assert holders(office)["C04"] == "A1"
    with office.connect() as conn:
        assert [r.id for r in list_covers(conn, actor(office, "A1"), TODAY)] == [cover]
        assert list_covers(conn, actor(office, "B1"), TODAY) == []
    with write(office) as conn:
        ended = end_cover(conn, clock, actor(office, "M1"), cover)
    assert ended.ended_at is not None
    with pytest.raises(AccessDenied):
        caseload_ids(office, "A2", "A1", first)


@pytest.mark.parametrize("who, args, message", [
    ("A1", ("A1", "A2"), "Only a team manager, team leader may arrange cover"),
    ("MB", ("A1", "A2"), r"Asha Patel \(A1\) is not in your team"),
    ("M1", ("A1", "A1"), "does not cover their own caseload"),
    ("M1", ("A1", "Z9"), "There is no staff member 'Z9'"),
])
def test_who_may_arrange_cover(office, clock, who, args, message):
    with pytest.raises(StoreError, match=message), write(office) as conn:
        add_cover(conn, clock, actor(office, who), *args, TODAY, TODAY)


def test_cover_dates_are_checked(office, clock):
    m1 = actor(office, "M1")
    with pytest.raises(StoreError, match="ends \\(2026-05-12\\) before it starts"), write(office) as conn:
        add_cover(conn, clock, m1, "A1", "A2", dt.date(2026, 5, 14), dt.date(2026, 5, 12))
    with pytest.raises(StoreError, match="before today"), write(office) as conn:
        add_cover(conn, clock, m1, "A1", "A2", dt.date(2026, 5, 1), dt.date(2026, 5, 10))
    with write(office) as conn:
        first = add_cover(conn, clock, m1, "A1", "A2", TODAY, dt.date(2026, 5, 20))
    with pytest.raises(StoreError, match=f"Already arranged: .* \\(cover {first}\\)"), write(office) as conn:
        add_cover(conn, clock, m1, "A1", "A2", dt.date(2026, 5, 18), dt.date(2026, 5, 25))


# Extracts that disagree


def test_a_later_extract_that_disagrees_is_reported_not_applied(office, clock, tmp_path):
    do_reassign(office, clock, "M1", "A1", ["A2"], ClaimFilter(rag=("red",)), "Balancing")
    # The central system still says A1 for C04 (and ends C06); C07 moves to A3 there, which is a plain transfer.
    later = [row("C04", claim_start="2026-01-05"),
             row("C06", claim_start="2026-03-02", claim_end="2026-05-08", end_reason="found_work"),
             row("C07", claim_start="2026-03-09", adviser_id="A3", adviser_name="Cara Singh")]
    result = import_claims(office, write_extract(tmp_path / "x2.csv", later), as_at=dt.date(2026, 5, 8),
                           actor=ADMIN, clock=clock)
    assert result.assignment_conflicts == 2 and result.transfers == 1
    held = holders(office)
    assert (held["C04"], held["C06"], held["C07"]) == ("A2", "A2", "A3")
    with office.connect() as conn:
        assert str(conn.execute(text("SELECT claim_end FROM claim WHERE id = 'C06'")).scalar()) == "2026-05-08"
        conflicts = list_conflicts(conn, actor(office, "M1"))
        assert list_conflicts(conn, actor(office, "MB")) == []
    assert [(c.claim_id, c.extract_adviser, c.local_adviser, c.as_at) for c in conflicts] == [
        ("C04", "A1", "A2", dt.date(2026, 5, 8)), ("C06", "A1", "A2", dt.date(2026, 5, 8))]
    assert_summaries_equal_a_recount(office)

    # The next extract still disagrees about C04: reported again (the older report superseded); it agrees
    # about C06, which confirms the reassignment and resolves its report.
    again = [row("C04", claim_start="2026-01-05"),
             row("C06", claim_start="2026-03-02", claim_end="2026-05-08", end_reason="found_work", adviser_id="A2",
                 adviser_name="Ben Okafor")]
    result = import_claims(office, write_extract(tmp_path / "x3.csv", again), as_at=dt.date(2026, 5, 9),
                           actor=ADMIN, clock=clock)
    assert result.assignment_conflicts == 1 and result.transfers == 0
    with office.connect() as conn:
        every = {(c.claim_id, c.as_at): c.resolution for c in list_conflicts(conn, ADMIN, open_only=False)}
        open_now = list_conflicts(conn, ADMIN)
    assert every == {("C04", dt.date(2026, 5, 8)): "reported again by a later extract",
                     ("C06", dt.date(2026, 5, 8)): "a later extract names the same holder",
                     ("C04", dt.date(2026, 5, 9)): None}
    # Resolving by taking the extract's holder is a transfer dated today; C06, confirmed, follows extracts again.
    with write(office) as conn:
        assert resolve_conflict(conn, clock, actor(office, "M1"), open_now[0].id, take_extract=True) == \
            "took the extract's holder A1"
    third = [row("C06", claim_start="2026-03-02", claim_end="2026-05-08", end_reason="found_work", adviser_id="A3",
                 adviser_name="Cara Singh")]
    result = import_claims(office, write_extract(tmp_path / "x4.csv", third), as_at=dt.date(2026, 5, 10),
                           actor=ADMIN, clock=clock)
    assert (result.assignment_conflicts, result.transfers) == (0, 1)
    assert (holders(office)["C04"], holders(office)["C06"]) == ("A1", "A3")
    with office.connect() as conn:
        assert list_conflicts(conn, ADMIN) == []


def test_an_agreeing_extract_reports_no_conflict(office, clock, tmp_path):
    do_reassign(office, clock, "M1", "A1", ["A3"], ClaimFilter(rag=("green",)), "Balancing")
    agreeing = [row("C08", claim_start="2026-03-16", adviser_id="A3", adviser_name="Cara Singh")]
    result = import_claims(office, write_extract(tmp_path / "x2.csv", agreeing), as_at=dt.date(2026, 5, 8),
                           actor=ADMIN, clock=clock)
    assert (result.assignment_conflicts, result.transfers) == (0, 0)
    with office.connect() as conn:
        assert list_conflicts(conn, ADMIN, open_only=False) == []
        batch = conn.execute(text("SELECT batch_id FROM assignment WHERE claim_id = 'C08' AND to_date IS NULL")
                             ).scalar()
    assert batch == result.batch_id


# The command line


def run(capsys, db: str, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--db", db], clock=FixedClock.on(TODAY))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_reassign_and_cover_from_the_command_line(office, store_url, tmp_path, capsys):
    code, out, _ = run(capsys, store_url, "reassign", "--from", "A1", "--to", "A2,A3", "--rag", "red,amber",
                       "--dry-run", "--as", "M1")
    assert code == 0
    assert out.splitlines() == [
        "Dry run: 3 of A1's open claims: Red or Amber would move on 2026-05-11:",
        "  A2 Ben Okafor: 2  (C04, C07)", "  A3 Cara Singh: 1  (C06)",
        "Nothing was changed. Without --dry-run (and with --reason) the claims move."]
    code, _, err = run(capsys, store_url, "reassign", "--from", "A1", "--to", "A2", "--as", "M1")
    assert code == 1 and "--reason TEXT is required" in err
    code, _, err = run(capsys, store_url, "reassign", "--from", "A1", "--to", "A2", "--reason", "x", "--as", "A1")
    assert code == 1 and err.startswith("caseload: Only a team manager, team leader may reassign claims")
    assert holders(office)["C04"] == "A1"
    code, out, _ = run(capsys, store_url, "reassign", "--from", "A1", "--to", "A2,A3", "--rag", "red", "--rag", "amber",
                       "--reason", "Leave", "--on", "2026-05-06", "--as", "M1")
    assert code == 0
    assert out.splitlines() == ["Reassigned 3 of A1's open claims: Red or Amber on 2026-05-06:",
                                "  A2 Ben Okafor: 2", "  A3 Cara Singh: 1"]
    assert holders(office)["C07"] == "A2"

    write_extract(tmp_path / "x2.csv", [row("C07", claim_start="2026-03-09")])
    code, out, _ = run(capsys, store_url, "import", "claims", str(tmp_path / "x2.csv"), "--as-at", "2026-05-08")
    assert "1 claims: the extract disagrees with a local reassignment; see `caseload reassign conflicts`." in out
    code, out, _ = run(capsys, store_url, "reassign", "conflicts", "--as", "M1")
    assert out.splitlines()[1:3] == ["1  C07  2026-05-08  A1  A2  open",
                                     "Resolve one with: caseload reassign conflicts --resolve ID --keep-local | "
                                     "--take-extract"]
    code, out, _ = run(capsys, store_url, "reassign", "conflicts", "--resolve", "1", "--keep-local", "--as", "M1")
    assert out.strip() == "Conflict 1: kept the local holder A2."
    code, out, _ = run(capsys, store_url, "reassign", "conflicts", "--as", "M1")
    assert out.startswith("No open conflicts")

    code, out, _ = run(capsys, store_url, "cover", "add", "--adviser", "A1", "--by", "A3", "--from", "2026-05-11",
                       "--to", "2026-05-15", "--reason", "Annual leave", "--as", "M1")
    assert out.strip() == "Cover 1: A3 sees A1's caseload from 2026-05-11 to 2026-05-15."
    code, out, _ = run(capsys, store_url, "cover", "list", "--as", "A3")
    assert out.strip() == ("1  Cara Singh (A3) covers Asha Patel (A1) from 2026-05-11 to 2026-05-15: Annual leave")
    code, out, _ = run(capsys, store_url, "cover", "end", "1", "--as", "M1")
    assert out.startswith("Ended cover 1: Cara Singh (A3) covers Asha Patel (A1) from 2026-05-11 to 2026-05-15 "
                          "(ended 2026-05-11)")
    code, out, _ = run(capsys, store_url, "cover", "list", "--as", "M1")
    assert out.strip() == "No cover arranged."


@pytest.mark.parametrize("cmd", [["reassign"], ["reassign", "conflicts"], ["cover"], ["cover", "add"],
                                 ["cover", "list"], ["cover", "end"]])
def test_the_commands_answer_help_and_take_db(cmd, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*cmd, "--help"])
    assert exit_.value.code == 0
    assert "--db URL" in capsys.readouterr().out


# Schema version 5


def test_upgrade_from_the_committed_version_4_database(tmp_path, clock):
    """tests/data/schema-v4.sqlite3 was written by version 4 (two extracts, a transfer, a rating, an action,
    a note); version 5 adds cover, assignment_conflict and two assignment columns, and keeps every row."""
    path = tmp_path / "v4.sqlite3"
    shutil.copyfile(Path(__file__).parent / "data" / "schema-v4.sqlite3", path)
    tables = ("staff", "claim", "assignment", "action", "note", "rag_rating", "claim_state", "cohort_summary")
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT version FROM schema_info").fetchone() == (4,)
        before = {t: raw.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall() for t in tables}
    engine = open_database(str(path), clock)
    with engine.connect() as conn:
        assert schema_version(conn) == schema.SCHEMA_VERSION
        for t, rows in before.items():
            after = [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1"))]
            assert [r[:len(rows[0])] for r in after] == rows, t
            assert all(set(r[len(rows[0]):]) <= {None} for r in after), t
        assert conn.execute(text("SELECT COUNT(*) FROM cover")).scalar() == 0
    _assert_same_schema_as_new(engine, tmp_path, clock)
    # The upgraded database reassigns, and the claims' history reads in order.
    with write(engine) as conn:
        result = reassign(conn, clock, actor_for(conn, "M1"), "A2", ["A1"], ClaimFilter(), "Cover for leave")
    assert result.shares == {"A1": 3}
    with engine.connect() as conn:
        c2 = conn.execute(text("SELECT adviser_id, from_date, to_date, reason FROM assignment WHERE claim_id = 'C2' "
                               "ORDER BY id")).all()
    assert [tuple(r) for r in c2] == [("A1", "2026-01-05", "2026-05-01", "extract"),
                                      ("A2", "2026-05-01", "2026-05-11", "extract"),
                                      ("A1", "2026-05-11", None, "reassigned")]
    engine.dispose()


def test_the_command_line_honours_cover_between_its_dates(office, store_url, capsys):
    """A covering adviser's exports list the covered caseload's customers from the cover's first day to its
    last, not the day before nor the day after: the command line builds the actor on its clock's date."""
    code, out, _ = run(capsys, store_url, "cover", "add", "--adviser", "A1", "--by", "A3", "--from", "2026-05-12",
                       "--to", "2026-05-15", "--reason", "Annual leave", "--as", "M1")
    assert code == 0

    def beyond_52(day: dt.date) -> list[str]:
        import csv
        import io

        code = main(["export", "beyond52", "--as", "A3", "--format", "csv", "--output", "-", "--db", store_url],
                    clock=FixedClock.on(day))
        assert code == 0
        return [r["claim_id"] for r in csv.DictReader(io.StringIO(capsys.readouterr().out))]

    # A1's C01 and C02 are beyond 52 weeks; A3's own claim is not.
    assert beyond_52(dt.date(2026, 5, 11)) == []
    assert beyond_52(dt.date(2026, 5, 12)) == ["C01", "C02"]
    assert beyond_52(dt.date(2026, 5, 15)) == ["C01", "C02"]
    assert beyond_52(dt.date(2026, 5, 16)) == []
