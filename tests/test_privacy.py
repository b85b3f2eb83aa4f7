"""Personal data: NI numbers masked on every screen, nothing personal in the audit log or any message,
`caseload customer erase` (nothing personal left in any table or in the file, the figures unchanged, a
later extract does not bring it back) and `caseload audit` (read only, by role)."""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from caseload.cli import main
from caseload.screens.conference import ConferenceScreen
from caseload.screens.customer import CustomerScreen
from caseload.screens.dialogs import RagDialog
from caseload.store import conference, records
from caseload.store.db import write
from caseload.store.errors import AccessDenied, StoreError
from caseload.store.erase import erase_customer
from extracts import row, write_extract
from test_app_support import config_dir, demo, demo_db, demo_office, make_app, settle  # noqa: F401
from test_caseload_screen import find_customer, query_db
from test_roles import ADVISERS, AS_AT, CLOCK, TODAY, RoleOffice, claims_of, person

pytestmark = pytest.mark.both_backends

# ---------------------------------------------------------------------------------------------
# Screens


def screen_text(app) -> str:  # noqa: ANN001
    """Everything the terminal shows, as one string without spaces (from the screenshot's text)."""
    svg = app.export_screenshot()
    plain = html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<style.*?</style>|<defs.*?</defs>", "", svg, flags=re.S)))
    return re.sub(r"\s+", "", plain)


async def test_the_full_ni_number_is_on_no_screen(make_app, demo, demo_db) -> None:
    # A customer on the demo's unfinished conference: reachable from every screen that shows a customer.
    (cid, adviser, manager, claim_id, nino), = query_db(
        demo_db, "SELECT cf.id, cf.adviser_id, cf.manager_id, ci.claim_id, cu.nino FROM conference cf "
                 "JOIN conference_item ci ON ci.conference_id = cf.id AND ci.position = cf.position "
                 "JOIN claim c ON c.id = ci.claim_id JOIN customer cu ON cu.id = c.customer_id "
                 "WHERE cf.status = 'in_progress' ORDER BY cf.id LIMIT 1")
    assert nino and len(nino) == 9
    masked = "*" * 6 + nino[-3:]
    app = make_app(as_staff=adviser)
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        seen = [screen_text(app)]  # the caseload
        app.push_screen(CustomerScreen(claim_id))
        await settle(pilot)
        seen.append(screen_text(app))
        assert masked in seen[-1]
        await pilot.press("g")  # the RAG dialog names the customer
        await settle(pilot)
        assert isinstance(app.screen, RagDialog)
        seen.append(screen_text(app))
        await pilot.press("escape")
        await settle(pilot)
        hits = await find_customer(pilot, nino, via_palette=True)  # searching by the full number finds them...
        assert any(claim_id in h for h in hits)
        seen.append(screen_text(app))
        await pilot.press("escape")
        await settle(pilot)
    manager_app = make_app(as_staff=manager)
    async with manager_app.run_test(size=(160, 50)) as pilot:
        await settle(pilot)
        seen.append(screen_text(manager_app))  # the team view
        manager_app.push_screen(ConferenceScreen(cid))
        await settle(pilot)
        seen.append(screen_text(manager_app))
        assert masked in seen[-1]
    # ...but no screen shows it, not even the one where it was typed into the search box.
    typed_at = 3
    for i, shown in enumerate(seen):
        if i != typed_at:
            assert nino not in shown, i
    assert seen[typed_at].count(nino) == 1 and masked in seen[typed_at]  # only the box itself


# ---------------------------------------------------------------------------------------------
# The audit log and messages


# Written about A1-1's customer (the one erased below), then about others on the same conference.
ABOUT_A1_1 = ("Worried about rent arrears", "Bring payslips", "Lost job at the mill", "Sister is unwell",
              "Call the landlord", "Apply to the bakery")
TEXTS = (*ABOUT_A1_1, "Housing crisis", "Out of time for Quill")


@pytest.fixture
def office(store_url: str, tmp_path: Path):
    o = RoleOffice(store_url, tmp_path / "office")
    yield o
    o.close()


def edit_everything(o: RoleOffice) -> None:
    """Notes, ratings, actions, corrections and a conference discussion on A1-1, each with free text."""
    a1, m1 = o.actor("A1"), o.actor("M1")
    with write(o.engine) as conn:
        records.amend(conn, CLOCK, a1, "note", o.note_id, 1, "Sister is unwell", body="Lost job at the mill")
        records.amend(conn, CLOCK, a1, "action", o.action_id, 1, "typo", description="Call the landlord")
        records.set_rag(conn, CLOCK, a1, "A1-1", "A", "Apply to the bakery")
        cid = o.conference_id
        on_agenda = {i.claim_id for i in conference.conference_detail(conn, m1, cid).items}
        for claim_id in {"A1-1", "A1-3"} - on_agenda:
            conference.add_customer(conn, CLOCK, m1, cid, claim_id)
        item = next(i for i in conference.conference_detail(conn, m1, cid).items if i.claim_id == "A1-1")
        conference.record_item(conn, CLOCK, m1, item.id, item.version,
                               done_so_far="Lost job at the mill", plan="Apply to the bakery",
                               unknown_note="Sister is unwell", rag_review="confirm",
                               new_actions=[("Call the landlord", "A1", TODAY)])
        for other in conference.conference_detail(conn, m1, cid).items:
            if other.status == "pending":
                conference.skip_item(conn, CLOCK, m1, other.id, other.version, "Out of time for Quill")


def personal_values(claim_ids) -> set[str]:  # noqa: ANN001
    return {v for c in claim_ids for v in person(c)}


def every_value(engine) -> list[tuple[str, str, str]]:  # noqa: ANN001
    """(table, column, value) for every value in every table of the database (either backend), as text."""
    out = []
    with engine.connect() as conn:
        for t in inspect(conn).get_table_names():
            result = conn.execute(text(f'SELECT * FROM "{t}"'))
            cols = list(result.keys())
            for values in result:
                out += [(t, c, str(v)) for c, v in zip(cols, values) if v is not None]
    return out


def test_the_audit_log_and_the_logs_hold_ids_never_content(office, caplog, capsys) -> None:
    caplog.set_level(logging.DEBUG)
    edit_everything(office)
    assert main(["audit", "--db", office.url], clock=CLOCK) == 0
    printed = capsys.readouterr().out
    with office.engine.connect() as conn:
        trail = conn.execute(text("SELECT action, entity, field, old, new FROM audit")).all()
    secrets = set(TEXTS) | personal_values(c for a in ADVISERS for c in claims_of(a))
    found = [(t, s) for t in trail for s in secrets if s in f"{t.old} {t.new}"]
    assert found == []
    assert not any(s in printed or s in caplog.text for s in secrets)
    # The facts are there: which record, which field, and codes such as ratings.
    kinds = {(t.action, t.entity, t.field) for t in trail}
    assert {("amend", "note", "body"), ("amend", "note", "change_reason"), ("amend", "action", "description"),
            ("rag", "claim", "rag"), ("record", "conference_item", "plan"),
            ("skip", "conference_item", "skip_reason"), ("add", "action", None)} <= kinds
    assert ("rag", "claim", "rag", None, "A") in [tuple(t) for t in trail]
    assert "[text]" in printed and "note" in printed


def test_import_problems_never_repeat_a_personal_value(tmp_path: Path, new_db, capsys) -> None:
    bad = write_extract(tmp_path / "bad.csv", [
        row("C1", customer_name="Zed Quorn", date_of_birth="1970-02-31", nino="QQ999999Q"),
        row("C2", customer_name="Yan Quorn", date_of_birth="2026-03-01", claim_start="2026-01-05"),
    ])
    code = main(["import", "claims", str(bad), "--as-at", AS_AT.isoformat(), "--db", new_db(),
                 "--rejects", str(tmp_path / "rejects.csv")], clock=CLOCK)
    err = capsys.readouterr().err
    assert code == 1
    assert "line 2" in err and "line 3" in err and "date_of_birth" in err
    assert not any(s in err for s in ("1970-02-31", "2026-03-01", "Quorn", "QQ999999Q"))


def test_nothing_in_the_app_updates_or_deletes_the_audit() -> None:
    """The audit is written by inserts only: no statement anywhere in caseload changes or removes a row."""
    root = Path(__file__).parents[1] / "caseload"
    pattern = re.compile(r"AuditEntry\.__table__\.(update|delete)|UPDATE\s+audit\b|DELETE\s+FROM\s+audit\b"
                         r"|audit\w*\.(update|delete)\(", re.I)
    offenders = [f"{p.relative_to(root)}: {m.group(0)}" for p in root.rglob("*.py")
                 for m in pattern.finditer(p.read_text(encoding="utf-8"))]
    assert offenders == []
    from caseload.cli import build_parser

    audit = build_parser()._subparsers._group_actions[0].choices["audit"]  # noqa: SLF001
    assert {a.dest for a in audit._actions} == {"help", "db", "as_staff", "quiet", "customer", "staff", "since", "limit"}  # noqa: SLF001


def test_caseload_audit_reads_newest_first_within_the_role(office, capsys) -> None:
    db = ("--db", office.url)
    assert main(["audit", "--as", "A1", *db], clock=CLOCK) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("WHEN") and len(lines) == 4  # A1's note, action and rating
    assert [line.split()[3] for line in lines[1:]] == ["rag", "add", "add"]
    assert all(line.split()[2] == "A1" for line in lines[1:])
    assert main(["audit", "--customer", "PA1-1", "--limit", "1", *db], clock=CLOCK) == 0
    (head, newest) = capsys.readouterr().out.splitlines()
    assert "action" in newest and "owner A1" in newest
    assert main(["audit", "--since", "2026-05-12", *db], clock=CLOCK) == 0
    assert capsys.readouterr().out == "No audit entries match.\n"
    assert main(["audit", "--customer", "PA1-1", "--as", "M2", *db], clock=CLOCK) == 1
    assert "not on a caseload you can see" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# Erasing a customer

ERASED = "PA1-1"  # customer of claim A1-1: notes, actions, a rating, a conference discussion


def export(o: RoleOffice, by: str) -> str:
    out = o.folder / f"offflow-{by}.csv"
    assert main(["export", "offflow", "--by", by, "--cohort", "calendar-month", "--from", "2025-01-01",
                 "--to", "2026-04-30", "--output", str(out),
                 "--db", o.url], clock=CLOCK) == 0
    return out.read_text()


def erased_secrets(o: RoleOffice) -> set[str]:
    """The erased customer's name, NI number and date of birth, and the text written about them."""
    with o.engine.connect() as conn:
        dob = conn.execute(text("SELECT date_of_birth FROM customer WHERE id = :c"), {"c": ERASED}).scalar()
    return {*person("A1-1"), str(dob), *ABOUT_A1_1}


def erase(o: RoleOffice) -> None:
    assert main(["customer", "erase", ERASED, "--reason", "request", "--as", "L1", "--db", o.url], clock=CLOCK) == 0


def test_erase_leaves_no_personal_data_and_every_figure_as_it_was(office, capsys) -> None:
    edit_everything(office)
    secrets = erased_secrets(office)
    before = {by: export(office, by) for by in ("none", "team", "benefit", "sex")}
    assert any(person("A1-1")[0] in v for _, _, v in every_value(office.engine))
    erase(office)
    said = capsys.readouterr().out
    assert said.startswith(f"Erased customer {ERASED}: personal details removed;") and "Someone" not in said
    after = {by: export(office, by) for by in ("none", "team", "benefit", "sex")}
    assert {k: after[k] for k in ("none", "team", "benefit")} == {k: before[k] for k in ("none", "team", "benefit")}
    # By sex, the erased customer's claim moves to "not recorded" (the documented choice).
    assert "not recorded" in after["sex"] and "not recorded" not in before["sex"]
    # Nothing personal anywhere: not the name, NI number, date of birth, nor any text written about them.
    leaks = [(t, c, v) for t, c, v in every_value(office.engine) for s in secrets if s in v]
    assert leaks == []
    with office.engine.connect() as conn:
        person_row = conn.execute(text("SELECT * FROM customer WHERE id = :c"), {"c": ERASED}).one()
        audit = conn.execute(text("SELECT actor, field, old, new FROM audit WHERE action = 'erase'")).all()
        kept = conn.execute(text("SELECT count(*) FROM note n JOIN claim c ON c.id = n.claim_id "
                                 "WHERE c.customer_id = :c AND n.body = '(erased)'"), {"c": ERASED}).scalar()
    assert tuple(person_row)[1:7] == (None,) * 6 and kept == 1
    assert [tuple(a) for a in audit] == [("L1", "reason_category", None, "request")]
    # The other customers keep theirs.
    assert person("A1-3")[0] in {v for _, _, v in every_value(office.engine)}


def test_erase_leaves_no_personal_data_in_the_sqlite_file(office, db_path) -> None:
    """SQLite only: the erased values are overwritten in the file and its write-ahead log, not only unlinked."""
    def raw() -> bytes:
        return b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))

    edit_everything(office)
    secrets = erased_secrets(office)
    assert person("A1-1")[0].encode() in raw()
    erase(office)
    assert not any(s.encode() in raw() for s in secrets)


def test_a_later_extract_does_not_bring_erased_details_back(office) -> None:
    with write(office.engine) as conn:
        erase_customer(conn, CLOCK, office.actor(None), ERASED, "retention")
    later = [row("A1-1", customer_id=ERASED, customer_name="Quill Returns", nino="QQ111111Q", sex="female",
                 claim_start="2025-03-03", adviser_id="A1", adviser_name="Asha Patel", team="Team A",
                 office="Northgate", date_of_birth="1971-02-03"),
             row("A1-3", customer_id="PA1-3", customer_name="Quill Renamed", claim_start="2025-07-05",
                 adviser_id="A1", adviser_name="Asha Patel", team="Team A", office="Northgate")]
    path = write_extract(office.folder / "later.csv", later)
    assert main(["import", "claims", str(path), "--as-at", "2026-05-08", "--db", office.url], clock=CLOCK) == 0
    with office.engine.connect() as conn:
        names = dict(conn.execute(text("SELECT id, name FROM customer WHERE id IN ('PA1-1', 'PA1-3')")).all())
        erased = conn.execute(text("SELECT * FROM customer WHERE id = 'PA1-1'")).one()
    assert names == {"PA1-1": None, "PA1-3": "Quill Renamed"}
    assert tuple(erased)[1:7] == (None,) * 6


@pytest.mark.parametrize("who,reason,error,message", [
    ("A1", "request", AccessDenied, "Only a team leader may erase"),
    ("M1", "request", AccessDenied, "Only a team leader may erase"),
    ("L2", "request", AccessDenied, "has no claim in your office"),
    ("L1", "because I said so", StoreError, "The reason is one of: request, retention, error, other"),
])
def test_erase_is_for_a_team_leader_of_the_customers_office(office, who, reason, error, message) -> None:
    with pytest.raises(error, match=message), write(office.engine) as conn:
        erase_customer(conn, CLOCK, office.actor(who), ERASED, reason)
    with office.engine.connect() as conn:
        assert conn.execute(text("SELECT name FROM customer WHERE id = :c"), {"c": ERASED}).scalar() == person("A1-1")[0]


def test_erasing_twice_or_an_unknown_customer_says_so(office, capsys) -> None:
    db = ("--db", office.url)
    assert main(["customer", "erase", "NOBODY", "--reason", "error", *db], clock=CLOCK) == 1
    assert capsys.readouterr().err == "caseload: There is no customer 'NOBODY'.\n"
    assert main(["customer", "erase", ERASED, "--reason", "error", *db], clock=CLOCK) == 0
    capsys.readouterr()
    assert main(["customer", "erase", ERASED, "--reason", "error", *db], clock=CLOCK) == 1
    assert capsys.readouterr().err == (f"caseload: Customer {ERASED} was erased on 2026-05-11 by admin; there is "
                                       "nothing more to erase.\n")
