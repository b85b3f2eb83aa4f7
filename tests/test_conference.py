"""The caseload conference: the agenda's rules on and either side of each boundary day, recording and
resuming, RAG reviews into the history, actions carried until done, the team's last conferences,
the caseload's conference columns and flags, the exports, the command line and the demo."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from caseload.cli import main
from caseload.clock import FixedClock
from caseload.export import conference as export
from caseload.measures import clock as mclock
from caseload.measures.rag import Rag, red_without_plan_update, review_due
from caseload.store import conference, records, staff
from caseload.store.access import ADMIN, actor_for
from caseload.store.caseload import CaseloadQuery, caseload
from caseload.store.customer import customer_record
from caseload.store.db import open_database, write
from caseload.store.errors import AccessDenied, ConflictError, StoreError
from caseload.store.importer import import_claims
from extracts import row, write_extract
from test_app_support import demo_office  # noqa: F401  (the session's demo office, shared with the app tests)

D = dt.date(2026, 5, 11)  # a Monday: the conference date, and today on the frozen clock
CLOCK = FixedClock.on(D)
pytestmark = pytest.mark.both_backends


def ago(days: int) -> dt.date:
    return D - dt.timedelta(days=days)


def ahead(days: int) -> dt.date:
    return D + dt.timedelta(days=days)


def claim(claim_id: str, started_days_ago: int, **kw: str) -> dict[str, str]:
    return row(claim_id, claim_start=ago(started_days_ago).isoformat(), **kw)


# Claims that are on no agenda on D: A2's in team A and B1's in team B (so both advisers exist).
FILLER = [
    claim("Z1", 10, customer_id="PZ1", adviser_id="A2", adviser_name="Ben Okafor"),
    claim("Z2", 10, customer_id="PZ2", adviser_id="B1", adviser_name="Cara Lewis", team="Team B"),
]


class Office:
    """A small office on a fresh database: A1 and A2 in team A (manager M1), B1 in team B (manager M2),
    and team leader L1, with the claims given (held by A1 unless they say otherwise)."""

    def __init__(self, path: Path, rows: list[dict[str, str]], url: str):
        path.mkdir(parents=True, exist_ok=True)
        self.engine = open_database(url, CLOCK)
        import_claims(self.engine, write_extract(path / "x.csv", rows + FILLER), as_at=D, actor=ADMIN, clock=CLOCK)
        with write(self.engine) as conn:
            staff.add(conn, CLOCK, ADMIN, "M1", "Maya Ford", "team_manager", team="Team A")
            staff.add(conn, CLOCK, ADMIN, "M2", "Tom Reid", "team_manager", team="Team B")
            staff.add(conn, CLOCK, ADMIN, "L1", "Ruth Callaghan", "team_leader", office="Northgate")
        with self.engine.connect() as conn:
            self.m1, self.m2, self.l1 = (actor_for(conn, s) for s in ("M1", "M2", "L1"))
            self.a1, self.a2, self.b1 = (actor_for(conn, s) for s in ("A1", "A2", "B1"))

    def agenda(self, on: dt.date = D, actor=None, adviser: str = "A1") -> list[tuple[str, tuple[str, ...]]]:  # noqa: ANN001
        with self.engine.connect() as conn:
            return [(i.claim_id, i.reasons) for i in conference.build_agenda(conn, actor or self.m1, adviser, on)]

    def rate(self, claim_id: str, rating: str, on: dt.date) -> None:
        with write(self.engine) as conn:
            records.set_rag(conn, FixedClock.on(on), ADMIN, claim_id, rating, f"rated {rating}",
                            on + dt.timedelta(days=28))

    def discuss(self, on: dt.date, claims: dict[str, dict] | list[str], finish: bool = True,
                adviser: str = "A1") -> int:
        """Hold A1's conference on `on` as M1: record each claim given (adding it if the rules did not),
        skip the rest, finish."""
        specs = claims if isinstance(claims, dict) else {c: {} for c in claims}
        clock = FixedClock.on(on)
        with write(self.engine) as conn:
            cid = conference.start_or_resume(conn, clock, self.m1, adviser, on)
            for claim_id, kw in specs.items():
                item = item_for(conn, self.m1, cid, claim_id)
                if item is None:
                    conference.add_customer(conn, clock, self.m1, cid, claim_id)
                    item = item_for(conn, self.m1, cid, claim_id)
                args = {"done_so_far": "Applied for jobs", "plan": "Keep applying",
                        "expected_offflow": on + dt.timedelta(days=60)}
                if item.context.claim_end is None:
                    args.update({"rag_review": "confirm"} if item.context.rag else
                                {"rag_review": "change", "rag": "A", "rag_reason": "First rating"})
                args.update(kw)
                conference.record_item(conn, clock, self.m1, item.id, item.version, **args)
            if finish:
                conference.finish(conn, clock, self.m1, cid, ["Maya Ford", "Asha Patel"], skip_pending_reason="not today")
        return cid


def item_for(conn, actor, conference_id: int, claim_id: str):  # noqa: ANN001, ANN201
    return next((i for i in conference.conference_detail(conn, actor, conference_id).items if i.claim_id == claim_id),
                None)


@pytest.fixture
def make_office(tmp_path, new_db):
    offices = []

    def make(rows: list[dict[str, str]]) -> Office:
        o = Office(tmp_path / f"o{len(offices)}", rows, new_db())
        offices.append(o)
        return o

    yield make
    for o in offices:
        o.engine.dispose()


# ---------------------------------------------------------------------------------------------
# The agenda's rules, with the frozen clock, on and either side of each boundary day.


def test_approaching_is_0_to_28_days_before_each_milestone(make_office):
    o = make_office([
        claim("A13_0", 91),  # 13 weeks today
        claim("A13_28", 63),  # 13 weeks in 28 days
        claim("A13_29", 62),  # in 29 days: not yet
        claim("A26_28", 154), claim("A26_29", 153),
        claim("A52_28", 336), claim("A52_29", 335),
    ])
    # By reason, then by claim start (earliest first): never by anything about the customer's prospects.
    assert o.agenda() == [
        ("A52_28", ("approaching 52w",)), ("A26_28", ("approaching 26w",)), ("A13_0", ("approaching 13w",)),
        ("A13_28", ("approaching 13w",)),
    ]


def test_just_passed_is_1_to_14_days_after_a_milestone(make_office):
    o = make_office([
        claim("J13_1", 92), claim("J13_14", 105), claim("J13_15", 106),
        claim("J26_1", 183), claim("J26_15", 197),
        claim("J52_1", 365), claim("J52_14", 378), claim("J52_15", 379),
    ])
    assert o.agenda() == [
        ("J52_14", ("just passed 52w", "beyond 52")), ("J52_1", ("just passed 52w", "beyond 52")),
        ("J26_1", ("just passed 26w",)), ("J13_14", ("just passed 13w",)), ("J13_1", ("just passed 13w",)),
        ("J52_15", ("beyond 52",)),
    ]


def test_just_passed_needs_no_review_since_the_milestone(make_office):
    # Each claim reached 13 weeks 9 days ago (on D-9).
    o = make_office([claim(c, 100) for c in ("RATED_ON", "RATED_BEFORE", "CONF_ON", "CONF_BEFORE", "NOTHING")])
    o.rate("RATED_ON", "A", ago(9))  # a review on the milestone day counts
    o.rate("RATED_BEFORE", "A", ago(10))
    o.discuss(ago(10), ["CONF_BEFORE"])
    o.discuss(ago(9), ["CONF_ON"])
    # Same reason, same start: by claim id.
    assert o.agenda() == [("CONF_BEFORE", ("just passed 13w",)), ("NOTHING", ("just passed 13w",)),
                          ("RATED_BEFORE", ("just passed 13w",))]


def test_red_is_on_the_agenda_when_its_plan_update_is_over_62_days_old(make_office):
    # Started 150 days ago: 13 weeks passed 59 days ago, 26 weeks are 32 days away; no other rule applies.
    o = make_office([claim(c, 150) for c in ("RED_62", "RED_63", "PLAN_62", "PLAN_63", "AMBER_90", "RED_AGAIN")])
    o.rate("RED_62", "R", ago(62))
    o.rate("RED_63", "R", ago(63))
    for c in ("PLAN_62", "PLAN_63"):
        o.rate(c, "R", ago(100))
    o.discuss(ago(63), ["PLAN_63"])  # confirms Red with a plan: the plan update is D-63
    o.discuss(ago(62), ["PLAN_62"])
    o.rate("AMBER_90", "A", ago(90))
    o.rate("RED_AGAIN", "R", ago(120))
    o.rate("RED_AGAIN", "A", ago(100))
    o.rate("RED_AGAIN", "R", ago(63))  # Red since D-63, not D-120
    assert o.agenda() == [("PLAN_63", ("red no plan",)), ("RED_63", ("red no plan",)),
                          ("RED_AGAIN", ("red no plan",))]


def test_beyond_52_is_on_the_agenda_unless_discussed_in_the_last_91_days(make_office):
    o = make_office([claim("B364", 364), claim("B365", 365), claim("DISC_91", 500), claim("DISC_92", 500),
                     claim("NEVER", 600)])
    o.rate("B365", "A", ago(1))  # reviewed on its 52-week day: not "just passed", only beyond 52
    o.discuss(ago(92), ["DISC_92"])
    o.discuss(ago(91), ["DISC_91"])
    assert o.agenda() == [("B364", ("approaching 52w",)), ("NEVER", ("beyond 52",)), ("DISC_92", ("beyond 52",)),
                          ("B365", ("beyond 52",))]


def test_open_actions_from_earlier_conferences_are_on_the_agenda(make_office):
    o = make_office([claim("OPEN", 600), claim("DONE", 600), claim("OWN", 600)])
    o.discuss(ago(120), {c: {"new_actions": [(f"Action for {c}", "A1", ago(100))]} for c in ("OPEN", "DONE")})
    with write(o.engine) as conn:
        aid = conn.execute(text("SELECT id FROM action WHERE description = 'Action for DONE'")).scalar()
        records.complete_action(conn, FixedClock.on(ago(95)), o.a1, aid, 1)
        records.add_action(conn, FixedClock.on(ago(95)), o.a1, "OWN", "Not from a conference", "A1", ago(90))
    o.discuss(ago(30), ["DONE", "OWN"])  # discussed within 91 days: not beyond-52 any more
    assert o.agenda() == [("OPEN", ("beyond 52", "open action"))]
    o.discuss(ago(29), {"OPEN": {"action_updates": {}}})  # carried: still open
    assert o.agenda() == [("OPEN", ("open action",))]


def test_the_agenda_covers_the_advisers_open_claims_only(make_office):
    o = make_office([claim("MINE", 63), claim("ENDED", 63, claim_end=ago(1).isoformat(), end_reason="found_work"),
                     claim("HERS", 63, adviser_id="A2", adviser_name="Ben Okafor")])
    assert o.agenda() == [("MINE", ("approaching 13w",))]
    assert o.agenda(adviser="A2") == [("HERS", ("approaching 13w",))]


# ---------------------------------------------------------------------------------------------
# Who may run and read a conference.


def test_only_the_team_manager_or_a_team_leader_runs_a_conference_and_the_adviser_reads_theirs(make_office):
    o = make_office([claim("C1", 63)])
    for actor in (o.a1, o.a2, o.m2):
        with write(o.engine) as conn, pytest.raises(AccessDenied) as refused:
            conference.start_or_resume(conn, CLOCK, actor, "A1", D)
        assert str(refused.value) == (
            "Only Asha Patel's team manager or a team leader of their office runs their caseload conference; "
            f"you are acting as {actor.role.label} {actor.id}.")
    with write(o.engine) as conn:
        cid = conference.start_or_resume(conn, CLOCK, o.l1, "A1", D)
    with o.engine.connect() as conn:
        assert conference.conference_detail(conn, o.a1, cid).can_write is False
        assert conference.conference_detail(conn, o.m1, cid).can_write is True
        assert [i.claim_id for i in conference.build_agenda(conn, o.a1, "A1", D)] == ["C1"]
        with pytest.raises(AccessDenied, match="^An adviser sees their own caseload conferences only.$"):
            conference.conference_detail(conn, o.a2, cid)
        with pytest.raises(AccessDenied, match="for them, their team manager and their office's team leader"):
            conference.build_agenda(conn, o.m2, "A1", D)
        with pytest.raises(StoreError, match="M1 is a team manager, not an adviser"):
            conference.build_agenda(conn, o.m1, "M1", D)
    with write(o.engine) as conn, pytest.raises(AccessDenied):
        item = conference.conference_detail(conn, o.a1, cid).items[0]
        conference.record_item(conn, CLOCK, o.a1, item.id, item.version, done_so_far="x", plan="y",
                               expected_offflow=D, rag_review="change", rag="G", rag_reason="z")


# ---------------------------------------------------------------------------------------------
# Recording, resuming, finishing.


def test_recording_and_resuming_at_the_same_item(make_office):
    o = make_office([claim("C1", 63), claim("C2", 70), claim("C3", 92)])
    with write(o.engine) as conn:
        cid = conference.start_or_resume(conn, CLOCK, o.m1, "A1", D)
        first = conference.conference_detail(conn, o.m1, cid).items[0]
        v = conference.record_item(
            conn, CLOCK, o.m1, first.id, first.version, done_so_far="CV rewritten\n  two applications",
            plan="Apply for five roles a week", expected_offflow=ahead(45), rag_review="change", rag="A",
            rag_reason="CV done; needs interview practice", new_actions=[("Book mock interview", "A1", ahead(7))])
        conference.move_to(conn, o.m1, cid, 1)
    assert v == 2
    # Leave, and come back: the same conference, at the same item, with what was recorded.
    with write(o.engine) as conn:
        assert conference.start_or_resume(conn, CLOCK, o.m1, "A1", D) == cid
    with o.engine.connect() as conn:
        d = conference.conference_detail(conn, o.m1, cid)
    assert (d.status, d.position, d.current.claim_id) == ("in_progress", 1, "C1")
    assert [(i.claim_id, i.reasons, i.status) for i in d.items] == [
        ("C2", "approaching 13w", "discussed"), ("C1", "approaching 13w", "pending"),
        ("C3", "just passed 13w", "pending")]
    got = d.items[0]
    assert (got.done_so_far, got.plan, got.expected_offflow, got.expected_offflow_unknown, got.rag_review,
            got.rag_before, got.rag_after, got.version) == (
        "CV rewritten\n  two applications", "Apply for five roles a week", ahead(45), False, "change", None, "A", 2)
    assert [(a.description, a.owner, a.due, a.status, a.set_on) for a in got.new_actions] == [
        ("Book mock interview", "A1", ahead(7), "open", D)]
    with o.engine.connect() as conn:
        audit = conn.execute(text("SELECT actor, action, entity, field FROM audit WHERE entity LIKE 'conference%' "
                                  "ORDER BY id")).all()
    assert [tuple(a) for a in audit] == [
        ("M1", "start", "conference", "agenda"),
        *[("M1", "record", "conference_item", f) for f in
          ("status", "done_so_far", "plan", "expected_offflow", "rag_review", "rag")],
    ]


def test_stale_writes_and_bad_values_are_refused(make_office):
    o = make_office([claim("C1", 63), claim("C2", 600)])
    with write(o.engine) as conn:
        cid = conference.start_or_resume(conn, CLOCK, o.m1, "A1", D)
        item = item_for(conn, o.m1, cid, "C1")
        ok = {"done_so_far": "x", "plan": "y", "rag_review": "change", "rag": "G", "rag_reason": "ready"}
        conference.record_item(conn, CLOCK, o.m1, item.id, 1, expected_offflow=D, **ok)
    cases = [
        ({"expected_offflow": ago(1)}, "The expected off-flow date 2026-05-10 is before the conference (2026-05-11): "
                                       "give a later date, or \"don't know\" with a note."),
        ({}, "An expected off-flow date is required, or \"don't know\" with a note saying why."),
        ({"expected_offflow": D, "unknown_note": "n"}, "not both"),
        ({"expected_offflow": D, "plan": "  "}, "The plan is required."),
        ({"expected_offflow": D, "rag_review": None}, "A RAG review is required"),
        ({"expected_offflow": D, "rag": "A", "rag_review": "change", "rag_reason": " "},
         "A reason for the change of rating is required."),
        ({"expected_offflow": D, "new_actions": [("Call", "A1", ago(1))]}, "New action 1 is due 2026-05-10, before"),
    ]
    for change, message in cases:
        with write(o.engine) as conn, pytest.raises(StoreError) as refused:
            conference.record_item(conn, CLOCK, o.m1, item.id, 2, **{**ok, **change})
        assert message in str(refused.value)
    with write(o.engine) as conn, pytest.raises(ConflictError) as stale:
        conference.record_item(conn, CLOCK, o.l1, item.id, 1, expected_offflow=D, **ok)
    assert str(stale.value) == ("This item was changed by Maya Ford (M1) on 2026-05-11 at 09:00 after you opened it. Your text is "
                                "kept: look at the new version and apply your change again.")
    with write(o.engine) as conn, pytest.raises(StoreError) as pending:
        conference.finish(conn, CLOCK, o.m1, cid, "Maya Ford")
    assert str(pending.value) == ("1 customer is not yet discussed or skipped: discuss or skip them, or finish "
                                  "skipping them all with a reason.")
    with write(o.engine) as conn, pytest.raises(StoreError, match="^Say who attended the conference.$"):
        conference.finish(conn, CLOCK, o.m1, cid, ["  "], skip_pending_reason="out of time")
    with write(o.engine) as conn, pytest.raises(StoreError, match="is in the future"):
        conference.start_or_resume(conn, CLOCK, o.m1, "A1", ahead(1))
    with write(o.engine) as conn, pytest.raises(StoreError) as unfinished:
        conference.start_or_resume(conn, FixedClock.on(ahead(7)), o.m1, "A1", ahead(7))
    assert str(unfinished.value) == ("Asha Patel's conference of 2026-05-11 is not finished: resume it, or finish "
                                     "it, before starting another.")
    with write(o.engine) as conn:
        conference.finish(conn, CLOCK, o.m1, cid, ["Maya Ford", " Asha Patel "], skip_pending_reason="Out of time")
    with write(o.engine) as conn, pytest.raises(StoreError, match=r"was finished at 2026-05-11 09:00; it is a record"):
        conference.skip_item(conn, CLOCK, o.m1, item_for(conn, o.m1, cid, "C2").id, 2, "late")
    with o.engine.connect() as conn:
        d = conference.conference_detail(conn, o.a1, cid)
    assert (d.status, d.attendees, d.finished_at, d.can_write) == (
        "finished", "Maya Ford, Asha Patel", CLOCK.now(), False)
    assert [(i.claim_id, i.status, i.skip_reason) for i in d.items] == [("C1", "discussed", None),
                                                                       ("C2", "skipped", "Out of time")]


def test_dont_know_with_a_note_skip_and_add_a_customer(make_office):
    o = make_office([claim("C1", 63), claim("C2", 20), claim("C3", 30, adviser_id="A2", adviser_name="Ben Okafor")])
    with write(o.engine) as conn:
        cid = conference.start_or_resume(conn, CLOCK, o.m1, "A1", D)
        iid = conference.add_customer(conn, CLOCK, o.m1, cid, "C2")
        with pytest.raises(StoreError, match="^Claim C2 is already on the agenda, at item 2.$"):
            conference.add_customer(conn, CLOCK, o.m1, cid, "C2")
        with pytest.raises(StoreError, match="^Claim C3 is not on Asha Patel's caseload on 2026-05-11.$"):
            conference.add_customer(conn, CLOCK, o.m1, cid, "C3")
        c1 = item_for(conn, o.m1, cid, "C1")
        conference.record_item(conn, CLOCK, o.m1, c1.id, 1, done_so_far="Referred to housing", plan="Settle housing",
                               unknown_note="Depends on the housing referral", rag_review="change", rag="R",
                               rag_reason="Housing crisis")
        with pytest.raises(StoreError, match="^A reason for skipping is required.$"):
            conference.skip_item(conn, CLOCK, o.m1, iid, 1, "")
        conference.skip_item(conn, CLOCK, o.m1, iid, 1, "Seen yesterday")
        with pytest.raises(StoreError, match="has been discussed; correct the record"):
            conference.skip_item(conn, CLOCK, o.m1, c1.id, 2, "no")
        d = conference.conference_detail(conn, o.m1, cid)
    assert [(i.claim_id, i.reasons, i.status, i.skip_reason, i.expected_offflow, i.expected_offflow_unknown,
             i.offflow_note) for i in d.items] == [
        ("C1", "approaching 13w", "discussed", None, None, True, "Depends on the housing referral"),
        ("C2", "added", "skipped", "Seen yesterday", None, False, None)]
    with o.engine.connect() as conn:
        page = caseload(conn, o.m1, D, CaseloadQuery(adviser_id="A1"))
    assert {r.claim_id: (r.last_conference, r.expected_offflow) for r in page.rows} == {
        "C1": (D, None), "C2": (None, None)}


# ---------------------------------------------------------------------------------------------
# RAG reviews and actions.


def test_a_rag_change_through_the_conference_writes_the_history(make_office):
    o = make_office([claim("C1", 63)])
    o.rate("C1", "A", ago(20))
    with write(o.engine) as conn:
        cid = conference.start_or_resume(conn, CLOCK, o.m1, "A1", D)
        item = item_for(conn, o.m1, cid, "C1")
        assert (item.context.rag, [(r.on, r.rating, r.source) for r in item.context.rag_history]) == (
            "A", [(ago(20), "A", "adviser")])
        v = conference.record_item(conn, CLOCK, o.m1, item.id, 1, done_so_far="Lost housing", plan="Housing first",
                                   expected_offflow=ahead(120), rag_review="change", rag="r",
                                   rag_reason="Housing crisis; needs referral first")
        # Recording the item again with the same review corrects the text and adds no second rating.
        conference.record_item(conn, CLOCK, o.m1, item.id, v, done_so_far="Lost housing last week",
                               plan="Housing first", expected_offflow=ahead(120), rag_review="change", rag="R",
                               rag_reason="Housing crisis; needs referral first")
    with o.engine.connect() as conn:
        history = conn.execute(text("SELECT rating, reason, set_by, CAST(set_on AS TEXT), CAST(next_review AS TEXT), source FROM rag_rating "
                                    "ORDER BY id")).all()
        audit = conn.execute(text("SELECT actor, action, old, new FROM audit WHERE action = 'rag'")).all()
        rec = customer_record(conn, o.a1, "C1")
        state = conn.execute(text("SELECT rag, red_since_day, CAST(last_conference_on AS TEXT), CAST(expected_offflow AS TEXT), last_plan_day "
                                  "FROM claim_state WHERE claim_id = 'C1'")).one()
    assert [tuple(h) for h in history] == [
        ("A", "rated A", "admin", ago(20).isoformat(), ahead(8).isoformat(), "adviser"),
        ("R", "Housing crisis; needs referral first", "M1", D.isoformat(), ahead(28).isoformat(), "conference"),
    ]
    assert [tuple(a) for a in audit] == [("admin", "rag", None, "A"), ("M1", "rag", "A", "R")]
    assert tuple(state) == ("R", 20584, D.isoformat(), ahead(120).isoformat(), 20584)
    assert (rec.last_conference, rec.expected_offflow) == (D, ahead(120))
    texts = [(e.kind, e.text) for e in rec.timeline if e.kind in ("rag", "conference")]
    assert texts == [
        ("rag", "RAG A → R at a caseload conference: Housing crisis; needs referral first (review by 2026-06-08)"),
        ("conference", "caseload conference on 2026-05-11 (Maya Ford with Asha Patel): done so far: Lost housing "
                       "last week; plan: Housing first; expected off-flow 2026-09-08"),
        ("rag", "RAG set A: rated A (review by 2026-05-19)"),
    ]


def test_a_confirmed_rating_is_a_review_in_the_history(make_office):
    o = make_office([claim("C1", 63), claim("C2", 63)])
    o.rate("C1", "G", ago(5))
    with write(o.engine) as conn:
        cid = conference.start_or_resume(conn, CLOCK, o.m1, "A1", D)
        c1, c2 = item_for(conn, o.m1, cid, "C1"), item_for(conn, o.m1, cid, "C2")
        conference.record_item(conn, CLOCK, o.m1, c1.id, 1, done_so_far="x", plan="y", expected_offflow=D,
                               rag_review="confirm")
        with pytest.raises(StoreError, match="^Claim C2 has no rating to confirm: change it to R, A or G"):
            conference.record_item(conn, CLOCK, o.m1, c2.id, 1, done_so_far="x", plan="y", expected_offflow=D,
                                   rag_review="confirm")
        with pytest.raises(StoreError, match="^Green is the current rating: confirm it instead.$"):
            conference.record_item(conn, CLOCK, o.m1, c1.id, 2, done_so_far="x", plan="y", expected_offflow=D,
                                   rag_review="change", rag="G", rag_reason="still ready")
        with pytest.raises(StoreError, match="^The current rating is Green; to set another, change it with a reason"):
            conference.record_item(conn, CLOCK, o.m1, c1.id, 2, done_so_far="x", plan="y", expected_offflow=D,
                                   rag_review="confirm", rag="A")
        rec = customer_record(conn, o.m1, "C1")
    assert rec.timeline[0].text == ("RAG confirmed G at a caseload conference: Confirmed at the caseload conference "
                                    "on 2026-05-11 (review by 2026-06-08)")


def test_actions_are_carried_forward_until_done(make_office):
    o = make_office([claim("L1", 600)])  # beyond 52: no milestone comes near in these four months
    first = o.discuss(ago(56), {"L1": {"new_actions": [("Book skills check", "A1", ago(42)),
                                                      ("Send CV to agency", "A1", ago(40))]}})
    with o.engine.connect() as conn:
        aid, aid2 = [r[0] for r in conn.execute(text("SELECT id FROM action ORDER BY id"))]
    assert o.agenda(ago(28)) == [("L1", ("open action",))]
    second = o.discuss(ago(28), {"L1": {"action_updates": {aid2: "done"}}})  # the skills check is carried
    assert o.agenda() == [("L1", ("open action",))]
    third = o.discuss(D, [], finish=False)
    with o.engine.connect() as conn:
        item = item_for(conn, o.m1, third, "L1")
    assert [(a.description, a.status, a.set_on, a.outcome) for a in item.earlier_actions] == [
        ("Book skills check", "open", ago(56), None)]
    assert [(p.held_on, p.plan, [(a.description, a.status) for a in p.actions]) for p in item.context.earlier] == [
        (ago(28), "Keep applying", []),
        (ago(56), "Keep applying", [("Book skills check", "open"), ("Send CV to agency", "done")])]
    with write(o.engine) as conn:
        with pytest.raises(StoreError, match=f"^Action {aid2} was not set at an earlier conference for claim L1, "
                                             "or is no longer open.$"):
            conference.record_item(conn, CLOCK, o.m1, item.id, item.version, done_so_far="x", plan="y",
                                   expected_offflow=D, rag_review="confirm", action_updates={aid2: "carry"})
        conference.record_item(conn, CLOCK, o.m1, item.id, item.version, done_so_far="Skills check done",
                               plan="Apply", expected_offflow=ahead(30), rag_review="confirm",
                               action_updates={aid: "done"})
        conference.finish(conn, CLOCK, o.m1, third, "Maya Ford")
    assert o.agenda(ahead(28)) == []
    with o.engine.connect() as conn:
        done = conn.execute(text("SELECT status, CAST(done_on AS TEXT), done_by FROM action WHERE id = :i"), {"i": aid}).one()
        counts = [conference.conference_summary(conn, o.m1, c).counts for c in (first, second, third)]
    assert tuple(done) == ("done", D.isoformat(), "M1")
    assert [(c.discussed, c.new_actions, c.carried_actions, c.done_actions) for c in counts] == [
        (1, 2, 0, 0), (1, 0, 1, 1), (1, 0, 0, 1)]


# ---------------------------------------------------------------------------------------------
# The team view.


def test_last_conferences_mark_overdue_after_31_days(make_office):
    o = make_office([claim("C1", 600), claim("C2", 600, adviser_id="A2", adviser_name="Ben Okafor")])
    o.discuss(ago(31), ["C1"])
    o.discuss(ago(32), ["C2"], adviser="A2")
    o.discuss(ago(3), ["C2"], adviser="A2", finish=False)  # started, not finished: to resume
    with o.engine.connect() as conn:
        team = conference.last_conferences(conn, o.m1, D)
        office = conference.last_conferences(conn, o.l1, D)
        mine = conference.last_conferences(conn, o.a1, D)
    assert [(a.adviser_id, a.last_on, a.days_since, a.overdue, a.unfinished_on) for a in team] == [
        ("A1", ago(31), 31, False, None), ("A2", ago(32), 32, True, ago(3))]
    assert [(a.adviser_id, a.team, a.overdue) for a in office] == [
        ("A1", "Team A", False), ("A2", "Team A", True), ("B1", "Team B", True)]
    assert [(a.adviser_id, a.days_since) for a in mine] == [("A1", 31)]


def test_expected_dates_are_compared_with_what_happened_per_team(make_office):
    o = make_office([
        claim("BY_DATE", 200, claim_end=ago(40).isoformat(), end_reason="found_work"),
        claim("LATER", 200, claim_end=ago(20).isoformat(), end_reason="found_work"),
        claim("PAST", 200), claim("NOT_YET", 200), claim("UNKNOWN", 200),
    ])
    o.discuss(ago(60), {
        "BY_DATE": {"expected_offflow": ago(40)}, "LATER": {"expected_offflow": ago(30)},
        "PAST": {"expected_offflow": ago(1)}, "NOT_YET": {"expected_offflow": D},
        "UNKNOWN": {"expected_offflow": None, "unknown_note": "Health condition"},
    })
    with o.engine.connect() as conn:
        got = conference.estimate_outcomes(conn, o.m1, D)
        assert conference.estimate_outcomes(conn, o.m2, D) == []
    assert [(t.team, t.estimates, t.unknown, t.ended_by_date, t.ended_later, t.open_past_date, t.open_not_yet_due)
            for t in got] == [("Team A", 4, 1, 1, 1, 1, 1)]


# ---------------------------------------------------------------------------------------------
# The caseload's flags with conferences.


def test_the_caseload_flags_use_conferences(make_office):
    o = make_office([claim("RED", 150), claim("JUST", 100)])
    o.rate("RED", "R", ago(100))
    o.rate("JUST", "A", ago(30))

    def flags():  # noqa: ANN202
        with o.engine.connect() as conn:
            return {r.claim_id: r.flags for r in caseload(conn, o.m1, D, CaseloadQuery(adviser_id="A1")).rows}

    assert flags() == {"RED": ("review due", "red no plan"), "JUST": ("just passed", "review due")}
    o.discuss(ago(62), ["RED"])  # Red confirmed with a plan 62 days ago
    o.discuss(ago(9), ["JUST"])  # on the 13-week day
    assert flags() == {"RED": ("review due",), "JUST": ()}


def _expected_flags(start: dt.date, ratings: list, conferences: list[dt.date], as_at: dt.date) -> tuple:
    rag = rated = review = red_since = None
    for rating, on, nxt in sorted(ratings, key=lambda r: r[1]):
        red_since = (red_since or on) if rating == "R" else None
        rag, rated, review = rating, on, nxt
    last_conf = max(conferences, default=None)
    last_review = max([d for d in (rated, last_conf) if d is not None], default=None)
    flags = []
    if mclock.approaching(start, as_at) is not None:
        flags.append("approaching")
    if mclock.just_passed(start, as_at, last_review) is not None:
        flags.append("just passed")
    if review_due(review, rated, start, as_at):
        flags.append("review due")
    if rag == "R" and red_without_plan_update(Rag.RED, red_since, last_conf, as_at):
        flags.append("red no plan")
    if mclock.beyond_52(start, None, as_at):
        flags.append("beyond 52")
    return rag, tuple(flags)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    start_back=st.integers(0, 420),
    events=st.lists(st.tuples(st.sampled_from(["R", "A", "G", "conference"]), st.integers(0, 200)), max_size=5),
    as_at_ahead=st.integers(0, 120),
)
def test_caseload_flags_with_conferences_match_the_rules(tmp_path_factory, new_db, start_back, events, as_at_ahead):
    """With conferences (each confirming or setting the rating, with a plan), the SQL flags still agree
    with measures/: just passed counts a conference item as a review; red no plan uses the last plan."""
    path = tmp_path_factory.mktemp("conf-flags")
    start = dt.date(2025, 1, 1) + dt.timedelta(days=420 - start_back)
    import_clock = FixedClock.on(dt.date(2026, 3, 1))
    engine = open_database(new_db(), import_clock)
    import_claims(engine, write_extract(path / "x.csv", [row("C1", claim_start=start.isoformat())]),
                  as_at=dt.date(2026, 2, 25), actor=ADMIN, clock=import_clock)
    ratings, held, current = [], [], None
    seen_days = set()
    for kind, after in sorted(events, key=lambda e: (e[1], e[0] == "conference")):
        on = start + dt.timedelta(days=after)
        clock = FixedClock.on(on)
        with write(engine) as conn:
            if kind != "conference":
                records.set_rag(conn, clock, ADMIN, "C1", kind, "reason", on + dt.timedelta(days=14))
                ratings.append((kind, on, on + dt.timedelta(days=14)))
                current = kind
                continue
            if on in seen_days:
                continue
            seen_days.add(on)
            cid = conference.start_or_resume(conn, clock, ADMIN, "A1", on)
            item = item_for(conn, ADMIN, cid, "C1")
            if item is None:
                conference.add_customer(conn, clock, ADMIN, cid, "C1")
                item = item_for(conn, ADMIN, cid, "C1")
            review = {"rag_review": "confirm"} if current else {"rag_review": "change", "rag": "A", "rag_reason": "r"}
            conference.record_item(conn, clock, ADMIN, item.id, item.version, done_so_far="d", plan="p",
                                   expected_offflow=on, **review)
            conference.finish(conn, clock, ADMIN, cid, "admin")
            current = current or "A"
            ratings.append((current, on, on + dt.timedelta(days=28)))
            held.append(on)
    last = max([start] + [r[1] for r in ratings])
    as_at = last + dt.timedelta(days=as_at_ahead)
    with engine.connect() as conn:
        (r,) = caseload(conn, ADMIN, as_at, CaseloadQuery()).rows
    rag, flags = _expected_flags(start, ratings, held, as_at)
    assert (r.rag, tuple(f for f in r.flags if f != "churn"), r.last_conference) == (rag, flags, max(held, default=None))
    engine.dispose()


# ---------------------------------------------------------------------------------------------
# Exports.


def _export_office(make_office) -> Office:
    o = make_office([claim("C1", 63, customer_name="Dee <Smith> & Co"), claim("C2", 600), claim("C3", 92)])
    o.rate("C2", "R", ago(200))
    o.discuss(ago(35), {"C2": {"done_so_far": "Housing referral made", "plan": "Settle housing, then job search",
                               "expected_offflow": None, "unknown_note": "Depends on housing",
                               "new_actions": [("Chase housing referral", "A1", ago(21))]}})
    return o


AGENDA_MD = """\
# Caseload conference agenda: Asha Patel (A1), 2026-05-11

- **Conference date:** 2026-05-11
- **Adviser:** Asha Patel (A1)
- **Team:** Team A
- **Customers:** 3 (approaching 1, just passed 1, open action 1)
- **Customers shown:** by claim id
- **Order:** by why each customer is on the agenda, then by claim start
- **Generated:** 2026-05-11 09:00 UTC by M1
- **Note:** Internal to the team: RAG ratings and plans are not for customers.

Why a customer is on the agenda:

- *approaching*: a 13, 26 or 52-week milestone falls 0 to 28 days after the conference
- *just passed*: a milestone passed 1 to 14 days before the conference, with no RAG review or conference item since
- *red no plan*: Red, and the plan update (the later of the day Red was set and the last conference item with a plan) is more than 62 days before the conference
- *beyond 52*: on benefit 365 days or more, and not discussed at a conference in the last 91 days
- *open action*: an action set at an earlier conference is still open
- *added*: added to the agenda by the manager

For each customer, come ready to say: what has been done so far; the plan; the expected off-flow date (or why it is not known); the RAG rating: still right, or what has changed.

## 1. claim C1

- **Why:** approaching 13w
- **Claim:** JSA, started 2026-03-09, 9 weeks on the conference date
- **Next milestone:** 13 weeks on 2026-06-08 (in 28 days)
- **RAG:** not rated
- **Last conference:** not discussed before

## 2. claim C3

- **Why:** just passed 13w
- **Claim:** JSA, started 2026-02-08, 13 weeks on the conference date
- **Next milestone:** 26 weeks on 2026-08-09 (in 90 days)
- **RAG:** not rated
- **Last conference:** not discussed before

## 3. claim C2

- **Why:** open action
- **Claim:** JSA, started 2024-09-18, 85 weeks on the conference date
- **Next milestone:** none: beyond 52 weeks
- **RAG:** Red
- **Last conference:** 2026-04-06: plan: Settle housing, then job search; expected off-flow don't know: Depends on housing
- **Actions from earlier conferences:**
  - [ ] Chase housing referral (Asha Patel, due 2026-04-20), set 2026-04-06: open
"""


def test_the_agenda_export_in_advance(make_office):
    o = _export_office(make_office)
    with o.engine.connect() as conn:
        a = conference.agenda(conn, o.m1, "A1", D)
    out = io.StringIO()
    assert export.write_agenda_markdown(a, out, named=False, generated_at=CLOCK.now(), generated_by="M1") == 3
    assert out.getvalue() == AGENDA_MD
    named = io.StringIO()
    export.write_agenda_markdown(a, named, named=True, generated_at=CLOCK.now(), generated_by="M1")
    assert "## 1. Dee \\<Smith> & Co (P1), claim C1\n" in named.getvalue()  # the name cannot open an HTML tag
    assert "## 3. Customer C2 (P2), claim C2\n" in named.getvalue()
    page = io.StringIO()
    export.write_agenda_html(a, page, named=True, generated_at=CLOCK.now(), generated_by="M1")
    h = page.getvalue()
    assert h.startswith("<!DOCTYPE html>\n<html lang=\"en\">")
    assert "<h2>1. Dee &lt;Smith&gt; &amp; Co (P1), claim C1</h2>" in h
    assert "<dt>Why</dt><dd>open action</dd>" in h
    assert "break-inside: avoid" in h and "<li>&#9744; Chase housing referral (Asha Patel, due 2026-04-20)" in h
    plain = io.StringIO()
    export.write_agenda_html(a, plain, named=False, generated_at=CLOCK.now(), generated_by="M1")
    assert "Smith" not in plain.getvalue() and "P1" not in plain.getvalue() and "Customer C" not in plain.getvalue()


SUMMARY_MD = """\
# Caseload conference summary: Asha Patel (A1), 2026-05-11

- **Conference date:** 2026-05-11
- **Adviser:** Asha Patel (A1)
- **Run by:** Maya Ford (M1)
- **Team:** Team A
- **Status:** finished 2026-05-11 09:00 UTC
- **Attended:** Maya Ford, Asha Patel
- **Customers shown:** by claim id
- **Generated:** 2026-05-11 09:00 UTC by M1
- **Note:** Internal to the team: RAG ratings and plans are not for customers.

| Discussed | RAG changes | New actions | Carried actions |
|---:|---:|---:|---:|
| 2 | 1 | 1 | 1 |

2 discussed of 3 on the agenda, 1 skipped; 0 earlier actions marked done.

## 1. claim C1 (discussed)

- **Done so far:** CV rewritten; two applications
- **Plan:** Interview practice, then five applications a week
- **Expected off-flow:** 2026-07-01
- **RAG:** set Amber (not rated before): CV done; needs interview practice
- **New actions:** Book mock interview (Asha Patel, due 2026-05-18)

## 2. claim C3 (skipped: Customer on holiday)

- **Why on the agenda:** just passed 13w

## 3. claim C2 (discussed)

- **Done so far:** Housing settled
- **Plan:** Start job search
- **Expected off-flow:** don't know: Too early to say
- **RAG:** confirmed Red
- **Earlier actions carried:** Chase housing referral (Asha Patel, due 2026-04-20)
"""


def _summary_conference(o: Office) -> int:
    with write(o.engine) as conn:
        cid = conference.start_or_resume(conn, CLOCK, o.m1, "A1", D)
        c1, c2, c3 = (item_for(conn, o.m1, cid, c) for c in ("C1", "C2", "C3"))
        conference.record_item(conn, CLOCK, o.m1, c1.id, 1, done_so_far="CV rewritten;\ntwo applications",
                               plan="Interview practice, then five applications a week", expected_offflow=ahead(51),
                               rag_review="change", rag="A", rag_reason="CV done; needs interview practice",
                               new_actions=[("Book mock interview", "A1", ahead(7))])
        conference.skip_item(conn, CLOCK, o.m1, c3.id, 1, "Customer on holiday")
        conference.record_item(conn, CLOCK, o.m1, c2.id, 1, done_so_far="Housing settled", plan="Start job search",
                               unknown_note="Too early to say", rag_review="confirm")
        conference.finish(conn, CLOCK, o.m1, cid, ["Maya Ford", "Asha Patel"])
    return cid


def test_the_one_page_summary_export(make_office):
    o = _export_office(make_office)
    cid = _summary_conference(o)
    with o.engine.connect() as conn:
        s = conference.conference_summary(conn, o.a1, cid)
    assert (s.counts.discussed, s.counts.rag_changes, s.counts.new_actions, s.counts.carried_actions,
            s.counts.skipped) == (2, 1, 1, 1, 1)
    out = io.StringIO()
    export.write_summary_markdown([s], out, named=False, generated_at=CLOCK.now(), generated_by="M1")
    assert out.getvalue() == SUMMARY_MD
    rows = list(csv.reader(io.StringIO(_csv([s], named=False))))
    assert rows[0] == list(export.CSV_COLUMNS)
    assert rows[1:] == [
        [str(cid), "2026-05-11", "A1", "M1", "finished", "1", "C1", "", "", "approaching 13w", "discussed", "",
         "CV rewritten;\ntwo applications", "Interview practice, then five applications a week", "2026-07-01", "no",
         "", "change", "", "A", "1", "0", "0", "Book mock interview (owner A1, due 2026-05-18)", "", ""],
        [str(cid), "2026-05-11", "A1", "M1", "finished", "2", "C3", "", "", "just passed 13w", "skipped",
         "Customer on holiday", "", "", "", "", "", "", "", "", "0", "0", "0", "", "", ""],
        [str(cid), "2026-05-11", "A1", "M1", "finished", "3", "C2", "", "", "open action", "discussed", "",
         "Housing settled", "Start job search", "", "yes", "Too early to say", "confirm", "R", "R", "0", "0", "1", "",
         "", "Chase housing referral (owner A1, due 2026-04-20)"],
    ]
    named = list(csv.reader(io.StringIO(_csv([s], named=True))))
    assert [(r[7], r[8]) for r in named[1:]] == [("P1", "Dee <Smith> & Co"), ("P3", "Customer C3"),
                                                 ("P2", "Customer C2")]
    page = io.StringIO()
    export.write_summary_html([s], page, named=False, generated_at=CLOCK.now(), generated_by="M1")
    h = page.getvalue()
    assert "<tr><th>Discussed</th><th>RAG changes</th><th>New actions</th><th>Carried actions</th></tr>" \
           "<tr><td>2</td><td>1</td><td>1</td><td>1</td></tr>" in h
    assert "<h2>2. claim C3 (skipped: Customer on holiday)</h2>" in h and "Smith" not in h and "IN PROGRESS" not in h


def _csv(summaries, named: bool) -> str:  # noqa: ANN001
    out = io.StringIO()
    export.write_summary_csv(summaries, out, named=named)
    return out.getvalue()


def test_the_command_line_exports(make_office, tmp_path, capsys):
    o = _export_office(make_office)
    db = o.engine.url.render_as_string(hide_password=False)

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, "--db", db], clock=CLOCK)
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = run("export", "agenda", "--adviser", "A1", "--format", "md", "--output", "-", "--as", "M1")
    assert (code, out) == (0, AGENDA_MD)
    code, out, err = run("export", "agenda", "--adviser", "A1", "--format", "md", "--output", "-", "--as", "A1",
                         "--named")
    assert (code, out) == (1, "")
    assert err == ("caseload: --named lists customers by name: only a team manager, a team leader or the database "
                   "owner may ask for it (you are acting as adviser A1). Leave out --named to list them by claim "
                   "id.\n")
    code, _, err = run("export", "agenda", "--adviser", "A1", "--format", "html", "--output", "-", "--as", "A2")
    assert (code, err) == (1, "caseload: An adviser sees their own caseload conferences only.\n")
    page = tmp_path / "agenda.html"
    code, _, err = run("export", "agenda", "--adviser", "A1", "--date", "2026-05-11", "--format", "html",
                       "--output", str(page), "--as", "L1", "--named")
    assert code == 0 and err == f"Wrote the agenda for A1 on 2026-05-11 (3 customers) to {page}.\n"
    assert "Dee &lt;Smith&gt; &amp; Co (P1), claim C1" in page.read_text(encoding="utf-8")

    code, _, err = run("export", "conference", "--format", "md", "--output", "-", "--as", "M2")
    assert (code, err) == (1, "caseload: There is no caseload conference for any adviser you may see.\n")
    _summary_conference(o)
    target = tmp_path / "out" / "conference.csv"
    code, _, err = run("export", "conference", "--adviser", "A1", "--format", "csv", "--output", str(target),
                       "--as", "A1")
    assert code == 0
    assert err == f"Wrote 1 conference to {target} and the metadata to {target}.meta.json.\n"
    with o.engine.connect() as conn:
        s = conference.conference_summary(conn, o.a1, conference.find_conferences(conn, o.a1)[0])
    assert target.read_text(encoding="utf-8") == _csv([s], named=False)
    meta = json.loads((tmp_path / "out" / "conference.csv.meta.json").read_text(encoding="utf-8"))
    assert meta["conferences"] == [{
        "id": s.id, "held_on": "2026-05-11", "adviser_id": "A1", "adviser": "Asha Patel", "manager_id": "M1",
        "team": "Team A", "status": "finished", "finished_at": "2026-05-11T09:00:00+00:00", "attended": "Maya Ford, Asha Patel",
        "counts": {"discussed": 2, "rag_changes": 1, "new_actions": 1, "carried_actions": 1, "done_actions": 0,
                   "skipped": 1, "pending": 0, "items": 3}}]
    assert (meta["customers"], meta["rows"], meta["generated_by"]) == ("by claim id only", 3, "A1")
    # Every adviser the team leader may see, each with their latest conference: only A1 has had any.
    code, out, _ = run("export", "conference", "--format", "md", "--output", "-", "--as", "L1")
    assert code == 0 and out.count("# Caseload conference summary: ") == 1 and "2026-05-11" in out
    code, out, _ = run("export", "conference", "--date", "2026-04-06", "--format", "md", "--output", "-")
    assert code == 0 and "# Caseload conference summary: Asha Patel (A1), 2026-04-06\n" in out


# ---------------------------------------------------------------------------------------------
# The demo office.


def test_the_demo_office_has_two_months_and_more_of_conferences(demo_office):  # noqa: F811
    path, demo = demo_office
    engine = open_database(str(path), demo.clock)
    try:
        with engine.connect() as conn:
            manager = actor_for(conn, demo.first_manager)
            lines = conference.last_conferences(conn, manager, demo.today)
            held = conn.execute(text("SELECT DISTINCT held_on FROM conference ORDER BY held_on")).scalars().all()
            outcomes = dict(conn.execute(text("SELECT outcome, COUNT(*) FROM conference_action_review GROUP BY 1")).all())
            sources = dict(conn.execute(text("SELECT source, COUNT(*) FROM rag_rating GROUP BY 1")).all())
            items = conn.execute(text("SELECT COUNT(*), SUM(expected_offflow IS NOT NULL), "
                                      "SUM(expected_offflow_unknown) FROM conference_item WHERE status = 'discussed'")).one()
            ids = conference.find_conferences(conn, manager)
            first = conference.conference_summary(conn, manager, conference.find_conferences(
                conn, manager, "A0001", dt.date(2026, 9, 1))[0])
    finally:
        engine.dispose()
    assert [d for d in held] == ["2026-09-01", "2026-10-06", "2026-11-03"]  # first Tuesdays
    by_id = {a.adviser_id: (a.last_on, a.days_since, a.overdue, a.unfinished_on) for a in lines}
    assert by_id.pop("A0007") == (dt.date(2026, 10, 6), 34, True, dt.date(2026, 11, 3))  # to resume
    assert by_id.pop("A0008") == (dt.date(2026, 10, 6), 34, True, None)  # not held this month
    assert set(by_id.values()) == {(dt.date(2026, 11, 3), 6, False, None)}
    assert len(by_id) == 6
    assert outcomes["done"] > 0 and outcomes["carried"] > 0
    assert sources["conference"] > 0
    assert items[0] > 200 and 0 < items[2] < items[1]
    assert len(ids) == 8
    assert first.status == "finished" and first.counts.discussed > 10 and first.counts.new_actions > 0


@pytest.mark.parametrize("cmd", [["export", "agenda"], ["export", "conference"]], ids=" ".join)
def test_the_export_commands_answer_help(cmd, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*cmd, "--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0
    assert f"usage: caseload {' '.join(cmd)}" in out and "--named" in out and "--output PATH|-" in out
