"""RAG, notes, contacts, actions, destinations and corrections; the caseload's columns and flags."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from caseload.clock import FixedClock
from caseload.measures import clock as mclock
from caseload.measures.rag import Rag, red_without_plan_update, review_due
from caseload.store import records
from caseload.store.access import ADMIN, Actor, Role
from caseload.store.caseload import CaseloadQuery, caseload
from caseload.store.db import open_database, write
from caseload.store.errors import AccessDenied, ConflictError, StoreError
from caseload.store.importer import import_claims
from extracts import row, write_extract

AS_AT = dt.date(2026, 5, 1)
TODAY = dt.date(2026, 5, 4)
ADVISER = Actor(id="A1", role=Role.ADVISER, name="Asha Patel", team_id=1, office_id=1)
OTHER = Actor(id="A2", role=Role.ADVISER, name="Ben Okafor", team_id=1, office_id=1)
MANAGER = Actor(id="M1", role=Role.TEAM_MANAGER, name="Maya Ford", team_id=1, office_id=1)
pytestmark = pytest.mark.both_backends


def _db(path: Path, url: str, clock) -> object:
    engine = open_database(url, clock)
    rows = [
        row("C1", claim_start="2026-02-02"),  # 88 days on the as-at date: 13 weeks in 3 days
        row("C2", claim_start="2025-04-01"),  # 395 days: beyond 52
        row("C3", claim_start="2026-01-05", claim_end="2026-03-01", end_reason="not_known"),
        row("C4", claim_start="2026-03-02", adviser_id="A2", adviser_name="Ben Okafor"),
        row("C5", customer_id="P3", claim_start="2026-04-20"),  # P3's C3 ended 50 days before: churn
    ]
    import_claims(engine, write_extract(path / "x.csv", rows), as_at=AS_AT, actor=ADMIN, clock=clock)
    return engine


@pytest.fixture
def db(tmp_path, new_db):
    return _db(tmp_path, new_db(), FixedClock.on(TODAY))


CLOCK = FixedClock.on(TODAY)


def page(engine, actor=ADVISER, **kw):
    with engine.connect() as conn:
        return caseload(conn, actor, AS_AT, CaseloadQuery(**kw))


def test_rag_is_written_with_history_and_shows_on_the_caseload(db):
    with write(db) as conn:
        records.set_rag(conn, CLOCK, ADVISER, "C1", "A", "Job ready with help on CV")
    with write(db) as conn:
        records.set_rag(conn, CLOCK, ADVISER, "C1", "R", "Housing crisis; needs referral", dt.date(2026, 5, 10))
    with db.connect() as conn:
        history = conn.execute(text("SELECT rating, reason, set_by, CAST(next_review AS TEXT) FROM rag_rating ORDER BY id")).all()
        audit = conn.execute(text("SELECT old, new FROM audit WHERE action='rag' ORDER BY id")).all()
    assert [tuple(h) for h in history] == [
        ("A", "Job ready with help on CV", "A1", "2026-06-01"),  # 28 days ahead by default
        ("R", "Housing crisis; needs referral", "A1", "2026-05-10"),
    ]
    # The audit keeps the ratings, not the reasons (free text about the customer).
    assert [tuple(a) for a in audit] == [(None, "A"), ("A", "R")]
    (c1,) = [r for r in page(db).rows if r.claim_id == "C1"]
    assert (c1.rag, c1.rag_set_on, c1.next_review) == ("R", TODAY, dt.date(2026, 5, 10))


@pytest.mark.parametrize("rating,reason,review,message", [
    ("A", "   ", None, "A reason for the rating is required"),
    ("X", "why", None, "A rating is R"),
    ("G", "why", dt.date(2026, 5, 1), "is in the past"),
])
def test_rag_refusals(db, rating, reason, review, message):
    with write(db) as conn, pytest.raises(StoreError, match=message):
        records.set_rag(conn, CLOCK, ADVISER, "C1", rating, reason, review)
    with db.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM rag_rating")).scalar() == 0


def test_an_adviser_cannot_touch_another_advisers_customer(db):
    with write(db) as conn, pytest.raises(AccessDenied, match="not on a caseload you can see"):
        records.set_rag(conn, CLOCK, ADVISER, "C4", "G", "fine")
    with write(db) as conn, pytest.raises(AccessDenied):
        records.add_note(conn, CLOCK, ADVISER, "C4", "hello")
    with db.connect() as conn, pytest.raises(AccessDenied, match="own caseload only"):
        caseload(conn, ADVISER, AS_AT, CaseloadQuery(adviser_id="A2"))
    assert {r.claim_id for r in page(db).rows} == {"C1", "C2", "C5"}


def test_note_amend_and_withdraw_are_audited_without_the_text(db):
    with write(db) as conn:
        nid = records.add_note(conn, CLOCK, ADVISER, "C1", "Called about CV\nwill send draft")
    with write(db) as conn:
        records.amend(conn, CLOCK, ADVISER, "note", nid, 1, "typo", body="Called about CV; will send a draft")
    with write(db) as conn, pytest.raises(ConflictError, match=r"changed by .* \(A1\) on 2026-05-04 at 09:00.*Your text is kept"):
        records.amend(conn, CLOCK, MANAGER, "note", nid, 1, "mine", body="stale edit")
    with write(db) as conn:
        records.withdraw(conn, CLOCK, ADVISER, "note", nid, 2, "wrong customer")
    with db.connect() as conn:
        note = conn.execute(text("SELECT body, status, change_reason, version FROM note")).one()
        trail = conn.execute(text("SELECT action, field, old, new FROM audit WHERE entity='note' ORDER BY id")).all()
    assert tuple(note) == ("Called about CV; will send a draft", "withdrawn", "wrong customer", 3)
    assert ("amend", "body", "[text]", "[text]") in [tuple(t) for t in trail]
    assert not any("CV" in (t.old or "") + (t.new or "") for t in trail)
    assert ("withdraw", "status", "active", "withdrawn") in [tuple(t) for t in trail]


def test_contact_and_action_fill_the_caseload_columns(db):
    with write(db) as conn:
        records.log_contact(conn, CLOCK, ADVISER, "C1", dt.date(2026, 4, 28), "phone", True)
        records.log_contact(conn, CLOCK, ADVISER, "C1", dt.date(2026, 4, 30), "appointment", False)
        a1 = records.add_action(conn, CLOCK, ADVISER, "C1", "Send CV to agency", "A1", dt.date(2026, 5, 20))
        records.add_action(conn, CLOCK, ADVISER, "C1", "Book skills check", "A1", dt.date(2026, 5, 9))
    (c1,) = [r for r in page(db).rows if r.claim_id == "C1"]
    assert (c1.last_contact, c1.next_action, c1.next_action_due) == (dt.date(2026, 4, 30), "Book skills check",
                                                                      dt.date(2026, 5, 9))
    with write(db) as conn:
        ids = conn.execute(text("SELECT id FROM action WHERE description='Book skills check'")).scalar()
        records.complete_action(conn, CLOCK, ADVISER, ids, 1)
        records.reassign_action(conn, CLOCK, ADVISER, a1, 1, "A2")
    (c1,) = [r for r in page(db).rows if r.claim_id == "C1"]
    assert (c1.next_action, c1.next_action_due) == ("Send CV to agency", dt.date(2026, 5, 20))
    with write(db) as conn, pytest.raises(StoreError, match="in the future"):
        records.log_contact(conn, CLOCK, ADVISER, "C1", dt.date(2026, 6, 1), "phone", True)
    with write(db) as conn, pytest.raises(StoreError, match="A contact is one of"):
        records.log_contact(conn, CLOCK, ADVISER, "C1", dt.date(2026, 4, 1), "carrier pigeon", True)
    with write(db) as conn, pytest.raises(StoreError, match="no staff member 'Z9'"):
        records.add_action(conn, CLOCK, ADVISER, "C1", "x", "Z9", dt.date(2026, 5, 9))


def test_confirmed_destination_is_kept_beside_the_extracts_reason(db):
    manager = Actor(id="M1", role=Role.TEAM_MANAGER, team_id=1, office_id=1)
    with write(db) as conn:
        records.record_destination(conn, CLOCK, manager, "C3", "found_work", "employer", dt.date(2026, 4, 2))
    with db.connect() as conn:
        assert conn.execute(text("SELECT end_reason FROM claim WHERE id='C3'")).scalar() == "not_known"
        assert tuple(conn.execute(text("SELECT code, source FROM destination")).one()) == ("found_work", "employer")
    with write(db) as conn, pytest.raises(StoreError, match="still open"):
        records.record_destination(conn, CLOCK, manager, "C1", "found_work", "employer", dt.date(2026, 4, 2))


def test_summary_and_quick_filters(db):
    with write(db) as conn:
        records.set_rag(conn, CLOCK, ADVISER, "C2", "R", "Long way from work")
    p = page(db)
    assert (p.summary.size, p.summary.red, p.summary.unrated, p.summary.beyond_52) == (3, 1, 2, 1)
    assert p.summary.approaching == {13: 1, 26: 0, 52: 0}
    assert [r.claim_id for r in page(db, quick="red").rows] == ["C2"]
    assert [r.claim_id for r in page(db, quick="beyond 52").rows] == ["C2"]
    assert [r.claim_id for r in page(db, quick="approaching").rows] == ["C1"]
    assert [r.claim_id for r in page(db, text="churn").rows] == ["C5"]
    assert [r.claim_id for r in page(db, text="customer c2").rows] == ["C2"]
    assert [r.runway for r in page(db).rows] == ["13w in 3d", "13w in 80d", "52w+"]  # most urgent first


def _expected(history: list[tuple], start: dt.date, as_at: dt.date) -> tuple:
    """Flags from the pure rules in measures/, given a claim's RAG history [(rating, set_on, next_review)]."""
    rag = rated = review = None
    red_since = None
    for rating, on, nxt in history:
        red_since = (red_since or on) if rating == "R" else None
        rag, rated, review = rating, on, nxt
    flags = []
    if mclock.approaching(start, as_at) is not None:
        flags.append("approaching")
    if mclock.just_passed(start, as_at, rated) is not None:
        flags.append("just passed")
    if review_due(review, rated, start, as_at):
        flags.append("review due")
    if rag == "R" and red_without_plan_update(Rag.RED, red_since, None, as_at):
        flags.append("red no plan")
    if mclock.beyond_52(start, None, as_at):
        flags.append("beyond 52")
    return rag, tuple(flags)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    start_back=st.integers(0, 420),
    ratings=st.lists(st.tuples(st.sampled_from("RAG"), st.integers(0, 200), st.integers(0, 60)), max_size=4),
    as_at_ahead=st.integers(0, 120),
)
def test_caseload_flags_match_the_rules(tmp_path_factory, new_db, start_back, ratings, as_at_ahead):
    """The SQL flags over claim_state agree with measures/ for any RAG history and as-at date."""
    path = tmp_path_factory.mktemp("flags")
    first = dt.date(2025, 1, 1)
    start = first + dt.timedelta(days=420 - start_back)
    import_clock = FixedClock.on(dt.date(2026, 3, 1))
    engine = open_database(new_db(), import_clock)
    import_claims(engine, write_extract(path / "x.csv", [row("C1", claim_start=start.isoformat())]),
                  as_at=dt.date(2026, 2, 25), actor=ADMIN, clock=import_clock)
    history = []
    for rating, after, review_in in sorted(ratings, key=lambda r: r[1]):
        on = start + dt.timedelta(days=after)
        clock = FixedClock.on(on)
        with write(engine) as conn:
            records.set_rag(conn, clock, ADMIN, "C1", rating, "reason", on + dt.timedelta(days=review_in))
        history.append((rating, on, on + dt.timedelta(days=review_in)))
    last = max([start] + [h[1] for h in history])
    as_at = last + dt.timedelta(days=as_at_ahead)
    with engine.connect() as conn:
        (r,) = caseload(conn, ADMIN, as_at, CaseloadQuery()).rows
    rag, flags = _expected(history, start, as_at)
    assert (r.rag, tuple(f for f in r.flags if f != "churn")) == (rag, flags)
    engine.dispose()


def test_customer_record_timeline_search_and_my_actions(db):
    from caseload.store.customer import customer_record, find_customers, my_actions

    with write(db) as conn:
        records.set_rag(conn, CLOCK, ADVISER, "C5", "A", "CV needs work")
        nid = records.add_note(conn, CLOCK, ADVISER, "C5", "First interview")
        records.amend(conn, CLOCK, ADVISER, "note", nid, 1, "added detail", body="First interview: wants retail")
        records.add_action(conn, CLOCK, ADVISER, "C5", "Book CV workshop", "A1", dt.date(2026, 4, 30))
        records.add_action(conn, CLOCK, ADVISER, "C1", "Call back", "A1", dt.date(2026, 5, 6))
    with db.connect() as conn:
        rec = customer_record(conn, ADVISER, "C5")
        assert (rec.customer_id, rec.nino) == ("P3", "******56C")
        assert [c.claim_id for c in rec.claims] == ["C3", "C5"]
        assert rec.claims[1].links == ("re-claim 50 days after C3 ended (churn)",)
        assert rec.claims[0].links == ("followed by C5 within 91 days (churn)",)
        assert rec.claims[1].milestones == ((13, dt.date(2026, 7, 20)), (26, dt.date(2026, 10, 19)),
                                            (52, dt.date(2027, 4, 19)))
        kinds = {e.kind: e for e in rec.timeline}
        assert kinds["rag"].text == "RAG set A: CV needs work (review by 2026-06-01)"
        assert (kinds["note"].text, kinds["note"].change, kinds["note"].version) == (
            "First interview: wants retail", "added detail", 2)
        assert [a.text for a in rec.open_actions] == ["Book CV workshop — Asha Patel, due 2026-04-30"]
        with pytest.raises(AccessDenied):
            customer_record(conn, ADVISER, "C4")
        # One customer, two claims: the open one first.
        assert [h.claim_id for h in find_customers(conn, ADVISER, "customer c5")] == ["C5", "C3"]
        assert [h.claim_id for h in find_customers(conn, ADVISER, "c1")] == ["C1"]
        assert {h.claim_id for h in find_customers(conn, ADVISER, "56c")} == {"C1", "C2", "C3", "C5"}
        assert find_customers(conn, ADVISER, "c4") == []  # another adviser's customer
        mine = my_actions(conn, ADVISER, AS_AT)
        assert [(m.claim_id, m.overdue) for m in mine] == [("C5", True), ("C1", False)]


def test_complete_next_action_marks_the_earliest_due_and_says_which(db):
    with write(db) as conn:
        records.add_action(conn, CLOCK, ADVISER, "C1", "Later one", "A1", dt.date(2026, 5, 20))
        records.add_action(conn, CLOCK, ADVISER, "C1", "Sooner one", "A1", dt.date(2026, 5, 9))
    with write(db) as conn:
        assert records.complete_next_action(conn, CLOCK, ADVISER, "C1") == "Sooner one"
    (c1,) = [r for r in page(db).rows if r.claim_id == "C1"]
    assert c1.next_action == "Later one"
    with write(db) as conn:
        records.complete_next_action(conn, CLOCK, ADVISER, "C1")
    with write(db) as conn, pytest.raises(StoreError, match="no open action to mark done"):
        records.complete_next_action(conn, CLOCK, ADVISER, "C1")
    with write(db) as conn, pytest.raises(AccessDenied):
        records.complete_next_action(conn, CLOCK, ADVISER, "C4")


def test_same_day_timeline_entries_are_newest_first(db):
    """Entries of one day come in the order they were written, the last first (a contact shows its own
    day but sorts by when it was recorded; one clock tick: the later record first)."""
    from caseload.store.customer import customer_record

    def at(h, m):
        return FixedClock(dt.datetime(TODAY.year, TODAY.month, TODAY.day, h, m, tzinfo=dt.timezone.utc))

    with write(db) as conn:
        records.add_note(conn, at(9, 0), ADVISER, "C1", "first note")
        records.log_contact(conn, at(10, 0), ADVISER, "C1", TODAY, "phone", True)
        records.add_action(conn, at(11, 0), ADVISER, "C1", "Book CV workshop", "A1", dt.date(2026, 5, 30))
        records.add_note(conn, at(15, 0), ADVISER, "C1", "second note")
        records.add_note(conn, at(15, 0), ADVISER, "C1", "third note, same minute")
    with db.connect() as conn:
        rec = customer_record(conn, ADVISER, "C1")
    today = [e for e in rec.timeline if e.at.date() == TODAY]
    assert [e.kind if e.kind != "note" else e.text for e in today] == [
        "third note, same minute", "second note", "action", "contact", "first note"]
