"""Roles hold everywhere: what an adviser, a team manager and a team leader read through every path (the
caseload, a record by id, the palette's search, my actions, conferences and agendas, the team view's
figures, every export, notes and the audit log), on an office with two teams and a second office.

`RoleOffice` is shared with test_privacy.py and test_concurrency.py.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from caseload.cli import main
from caseload.clock import FixedClock
from caseload.store import conference, notes, records, staff
from caseload.store.access import ADMIN, actor_for
from caseload.store.audit import read_audit
from caseload.store.caseload import CaseloadQuery, caseload
from caseload.store.customer import customer_record, find_customers, my_actions
from caseload.store.db import open_database, write
from caseload.store.errors import AccessDenied
from caseload.store.importer import import_claims
from caseload.store.info import office_overview
from caseload.store.offflow import OffflowQuery, offflow
from extracts import row, write_extract
from test_app_support import config_dir, demo, demo_db, demo_office, make_app, settle  # noqa: F401
from test_caseload_screen import find_customer, query_db, rich_adviser

AS_AT = dt.date(2026, 5, 1)
TODAY = dt.date(2026, 5, 11)
CLOCK = FixedClock.on(TODAY)
# adviser id: (name, team, office)
ADVISERS = {"A1": ("Asha Patel", "Team A", "Northgate"), "A2": ("Ben Okafor", "Team A", "Northgate"),
            "B1": ("Cara Lewis", "Team B", "Northgate"), "S1": ("Dev Rao", "Team S", "Southgate")}
MANAGERS = {"M1": ("Maya Ford", "Team A"), "M2": ("Tom Reid", "Team B"), "M3": ("Ola Berg", "Team S")}
LEADERS = {"L1": ("Ruth Callaghan", "Northgate"), "L2": ("Ian Moss", "Southgate")}
pytestmark = pytest.mark.both_backends


def claims_of(adviser: str) -> list[str]:
    return [f"{adviser}-{i}" for i in range(1, 5)]


def person(claim_id: str) -> tuple[str, str]:
    """The customer's name and NI number (each unique, so a search or a scan finds only them)."""
    n = sum(ord(ch) * 31 ** i for i, ch in enumerate(claim_id)) % 1_000_000
    return f"Quill {claim_id.replace('-', 'x')}", f"QQ{n:06d}C"


class RoleOffice:
    """Northgate (team A: A1, A2, manager M1; team B: B1, manager M2; leader L1) and Southgate (team S:
    S1, manager M3; leader L2). Each adviser holds four claims started in 2025, two of them ended; M1
    holds a conference with A1 (a note, an action and a RAG rating on A1's claims), A2 has a note too."""

    def __init__(self, url: str, path: Path):
        """On the database at `url` (either backend); the extract and any output go in folder `path`."""
        path.mkdir(parents=True, exist_ok=True)
        self.url, self.folder = url, path
        self.engine = open_database(url, CLOCK)
        rows = []
        for k, (adviser, (name, team, office)) in enumerate(ADVISERS.items()):
            for i, claim_id in enumerate(claims_of(adviser)):
                start = dt.date(2025, 3 + 2 * i, 3 + i)
                ended = i % 2 == 1
                who, nino = person(claim_id)
                rows.append(row(claim_id, customer_id="P" + claim_id, customer_name=who, nino=nino,
                                claim_start=start.isoformat(), adviser_id=adviser, adviser_name=name, team=team,
                                office=office, date_of_birth=dt.date(1960 + 4 * k + i, 1 + i, 1 + k).isoformat(), claim_end=(start + dt.timedelta(days=60 + 40 * i)).isoformat() if ended else "",
                                end_reason="found_work" if ended else "", sex=("female", "male")[i % 2]))
        import_claims(self.engine, write_extract(path / "x.csv", rows), as_at=AS_AT, actor=ADMIN, clock=CLOCK)
        with write(self.engine) as conn:
            for sid, (name, team) in MANAGERS.items():
                staff.add(conn, CLOCK, ADMIN, sid, name, "team_manager", team=team)
            for sid, (name, office) in LEADERS.items():
                staff.add(conn, CLOCK, ADMIN, sid, name, "team_leader", office=office)
        a1 = self.actor("A1")
        with write(self.engine) as conn:
            self.note_id = records.add_note(conn, CLOCK, a1, "A1-1", "Worried about rent arrears")
            self.action_id = records.add_action(conn, CLOCK, a1, "A1-1", "Bring payslips", "A1", TODAY)
            records.set_rag(conn, CLOCK, a1, "A1-3", "R", "Housing crisis")
            records.add_note(conn, CLOCK, self.actor("A2"), "A2-1", "Starts a course in June")
            self.conference_id = conference.start_or_resume(conn, CLOCK, self.actor("M1"), "A1", TODAY)

    def actor(self, staff_id: str | None):  # noqa: ANN201
        with self.engine.connect() as conn:
            return actor_for(conn, staff_id)

    def read(self, staff_id: str | None, fn):  # noqa: ANN001, ANN201
        actor = self.actor(staff_id)
        with self.engine.connect() as conn:
            return fn(conn, actor)

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def office(store_url: str, tmp_path: Path):
    o = RoleOffice(store_url, tmp_path / "office")
    yield o
    o.close()


# Who sees which claims, as individual records.
SCOPE = {
    "A1": {"A1"}, "A2": {"A2"}, "M1": {"A1", "A2"}, "M2": {"B1"}, "L1": {"A1", "A2", "B1"}, "L2": {"S1"},
    None: set(ADVISERS),  # the database owner
}


def open_claims(advisers: set[str]) -> set[str]:
    return {c for a in advisers for c in claims_of(a)[0::2]}


@pytest.mark.parametrize("who", list(SCOPE))
def test_the_caseload_records_and_search_stay_in_scope(office, who) -> None:
    seen = office.read(who, lambda conn, a: caseload(conn, a, AS_AT, CaseloadQuery(limit=500)))
    assert {r.claim_id for r in seen.rows} == open_claims(SCOPE[who])
    for adviser in ADVISERS:
        for claim_id in claims_of(adviser):
            name, nino = person(claim_id)
            hits = office.read(who, lambda conn, a: find_customers(conn, a, name))
            by_ni = office.read(who, lambda conn, a: find_customers(conn, a, nino))
            if adviser in SCOPE[who]:
                assert [h.claim_id for h in hits] == [claim_id] and [h.claim_id for h in by_ni] == [claim_id]
                record = office.read(who, lambda conn, a: customer_record(conn, a, claim_id))
                assert record.name == name and record.nino == "******" + nino[-3:]
            else:
                assert hits == [] and by_ni == []
                with pytest.raises(AccessDenied, match="not on a caseload you can see"):
                    office.read(who, lambda conn, a: customer_record(conn, a, claim_id))
                with pytest.raises(AccessDenied):
                    with write(office.engine) as conn:
                        records.add_note(conn, CLOCK, office.actor(who), claim_id, "should not be written")


def test_an_adviser_cannot_open_a_colleagues_caseload_or_actions(office) -> None:
    with pytest.raises(AccessDenied, match="own caseload only"):
        office.read("A1", lambda conn, a: caseload(conn, a, AS_AT, CaseloadQuery(adviser_id="A2")))
    with write(office.engine) as conn:
        records.add_action(conn, CLOCK, ADMIN, "A2-1", "Call the college", "A1", TODAY)  # owned by A1, A2's claim
    mine = office.read("A1", lambda conn, a: my_actions(conn, a, AS_AT))
    assert [m.claim_id for m in mine] == ["A1-1"]  # the action on a claim A1 cannot see is not listed


def test_team_view_figures_and_overview_by_role(office) -> None:
    def teams(who: str) -> list[str]:
        q = OffflowQuery(group_by="team", last_n=12)
        return sorted({r.group for r in office.read(who, lambda conn, a: offflow(conn, a, q)).rows})

    assert teams("A1") == teams("M1") == ["Team A"]
    assert teams("M2") == ["Team B"]
    assert teams("L1") == ["Team A", "Team B"]
    assert teams("L2") == ["Team S"]
    overview = {who: office.read(who, lambda conn, a: office_overview(conn, a, AS_AT)) for who in ("A1", "M1", "L1")}
    assert [(t.name, [x.id for x in t.advisers]) for t in overview["A1"]] == [("Team A", ["A1"])]
    assert [(t.name, [x.id for x in t.advisers]) for t in overview["M1"]] == [("Team A", ["A1", "A2"])]
    assert [t.name for t in overview["L1"]] == ["Team A", "Team B"]
    # Per-adviser figures only for a team manager, about their own team.
    by_adviser = OffflowQuery(group_by="adviser", last_n=12)
    assert {r.group for r in office.read("M1", lambda conn, a: offflow(conn, a, by_adviser)).rows} == {"Asha Patel", "Ben Okafor"}
    for who in ("A1", "L1"):
        with pytest.raises(AccessDenied, match="--by adviser is for a team manager"):
            office.read(who, lambda conn, a: offflow(conn, a, by_adviser))


def test_conferences_and_agendas_by_role(office) -> None:
    for who in ("A1", "M1", "L1"):
        assert office.read(who, lambda conn, a: conference.find_conferences(conn, a)) == [office.conference_id]
        assert office.read(who, lambda conn, a: conference.agenda(conn, a, "A1", TODAY)).adviser_id == "A1"
    for who in ("A2", "M2", "L2"):
        assert office.read(who, lambda conn, a: conference.find_conferences(conn, a)) == []
        with pytest.raises(AccessDenied):
            office.read(who, lambda conn, a: conference.agenda(conn, a, "A1", TODAY))
        with pytest.raises(AccessDenied):
            office.read(who, lambda conn, a: conference.list_conferences(conn, a, "A1"))


def test_context_notes_stay_in_their_office(office) -> None:
    with office.engine.connect() as conn:
        north = notes.office_id_for(conn, "Northgate")
    with write(office.engine) as conn:
        notes.set_note(conn, CLOCK, office.actor("M1"), north, "calendar-month", "2026-03", "New factory opened", None)
    assert [n.text for n in office.read("A2", lambda conn, a: notes.list_notes(conn, a))] == ["New factory opened"]
    assert office.read("L2", lambda conn, a: notes.list_notes(conn, a)) == []
    with pytest.raises(AccessDenied):
        office.read("L2", lambda conn, a: notes.list_notes(conn, a, north))


def test_the_audit_log_by_role(office) -> None:
    def about(who: str, **kw) -> set[tuple[str, str]]:  # noqa: ANN003
        return {(r.entity, r.entity_id) for r in office.read(who, lambda conn, a: read_audit(conn, a, limit=0, **kw))}

    a1_note, a2_note = ("note", str(office.note_id)), ("note", str(office.note_id + 1))
    assert a1_note in about("A1") and a2_note not in about("A1")  # an adviser: what they did
    assert {a1_note, a2_note} <= about("M1") and a1_note not in about("M2")
    assert {a1_note, a2_note} <= about("L1") and ("import_batch", "1") in about("L1")
    assert ("import_batch", "1") not in about("M1")
    assert about("M1", customer="PA1-1") == {a1_note, ("action", str(office.action_id))}
    assert ("claim", "A1-3") in about("M1", staff="A1")
    with pytest.raises(AccessDenied, match="not on a caseload you can see"):
        office.read("M2", lambda conn, a: read_audit(conn, a, customer="PA1-1"))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv), clock=CLOCK)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_every_export_by_role(office, capsys) -> None:
    db = ("--db", office.url)
    code, out, err = run(capsys, "export", "offflow", "--by", "adviser", "--as", "A1", "--output", "-", *db)
    assert code == 1 and "--by adviser is for a team manager" in err and out == ""
    code, out, _ = run(capsys, "export", "offflow", "--by", "adviser", "--as", "M1", "--output", "-", *db)
    assert code == 0 and {line.split(",")[1] for line in out.splitlines()[1:]} == {"Asha Patel", "Ben Okafor"}
    code, out, _ = run(capsys, "export", "offflow", "--by", "team", "--as", "L2", "--output", "-", *db)
    assert code == 0 and {line.split(",")[1] for line in out.splitlines()[1:]} == {"Team S"}
    # Agendas: the adviser's own, their manager's team, their leader's office; nobody else's.
    for who, code_wanted in (("A1", 0), ("M1", 0), ("L1", 0), ("A2", 1), ("M2", 1), ("L2", 1)):
        code, out, err = run(capsys, "export", "agenda", "--adviser", "A1", "--format", "md", "--output", "-",
                             "--as", who, *db)
        assert code == code_wanted, (who, err)
    # Named conference summaries: refused to an adviser; a manager's names only their own team's customers.
    code, out, err = run(capsys, "export", "conference", "--named", "--format", "csv", "--output", "-", "--as", "A1", *db)
    assert code == 1 and "--named lists customers by name" in err and out == ""
    code, out, err = run(capsys, "export", "conference", "--named", "--format", "csv", "--output", "-", "--as", "M2", *db)
    assert code == 1 and "There is no caseload conference" in err
    code, out, err = run(capsys, "export", "conference", "--named", "--format", "md", "--output", "-", "--as", "M1", *db)
    assert code == 0
    everyone = {person(c)[0] for a in ADVISERS for c in claims_of(a)}
    named = {n for n in everyone if n in out}
    assert named and named <= {person(c)[0] for c in claims_of("A1")}
    assert not any(person(c)[1] in out for a in ADVISERS for c in claims_of(a))  # no NI number in any export
    # The metadata of a named export says it is named.
    code, out, err = run(capsys, "export", "conference", "--named", "--format", "csv", "--output", "-", "--as", "M1", *db)
    assert code == 0 and '"customers": "named (name and customer id)"' in err and '"generated_by": "M1"' in err


async def test_the_palette_finds_no_customer_of_another_adviser(make_app, demo, demo_db) -> None:
    adviser = rich_adviser(demo_db)
    (other_claim, name, nino), = query_db(
        demo_db, "SELECT c.id, cu.name, cu.nino FROM claim c JOIN customer cu ON cu.id = c.customer_id "
                 "WHERE c.adviser_id != :me AND c.end_day IS NULL AND cu.name IS NOT NULL "
                 "AND NOT EXISTS (SELECT 1 FROM claim x JOIN customer y ON y.id = x.customer_id "
                 "WHERE x.adviser_id = :me AND y.name = cu.name) ORDER BY c.id LIMIT 1", me=adviser)
    app = make_app(as_staff=adviser)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        for query in (name, nino):
            hits = await find_customer(pilot, query, via_palette=True)
            assert not any(other_claim in h for h in hits), query
            await pilot.press("escape")
            await settle(pilot)

