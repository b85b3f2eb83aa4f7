"""Context notes: who writes and reads them, their audit, and how they travel into every off-flow export."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from caseload.cli import main
from caseload.clock import FixedClock
from caseload.export.html import write_html
from caseload.export.markdown import write_markdown
from caseload.export.offflow import metadata
from caseload.export.xlsx import workbook_bytes
from caseload.measures.cohorts import CohortKind
from caseload.store import notes
from caseload.store.access import ADMIN, Actor, Role
from caseload.store.db import open_database, write
from caseload.store.errors import AccessDenied, ConflictError, StoreError
from caseload.store.importer import import_claims
from caseload.store.offflow import OffflowQuery, offflow
from extracts import row, write_extract

CLOCK = FixedClock.on(dt.date(2026, 3, 9))
AS_AT = dt.date(2026, 3, 6)
pytestmark = pytest.mark.both_backends


@pytest.fixture
def office(tmp_path, new_db):
    """Two offices: Northgate (Team A) and Southside (Team C)."""
    engine = open_database(new_db(), CLOCK)
    rows = [row("C1", claim_start="2025-06-02", claim_end="2025-07-01", end_reason="found_work"),
            row("C2", claim_start="2025-07-02"),
            row("C3", claim_start="2025-06-03", adviser_id="A3", adviser_name="Cara Singh", team="Team C",
                office="Southside")]
    import_claims(engine, write_extract(tmp_path / "x.csv", rows), as_at=AS_AT, actor=ADMIN, clock=CLOCK)
    with engine.connect() as conn:
        ids = dict(conn.execute(text("SELECT name, id FROM office")).all())
        teams = dict(conn.execute(text("SELECT name, id FROM team")).all())
    north, south = ids["Northgate"], ids["Southside"]
    people = {
        "manager": Actor("M1", Role.TEAM_MANAGER, "Grace Holloway", team_id=teams["Team A"], office_id=north),
        "leader": Actor("L1", Role.TEAM_LEADER, "Ruth Callaghan", office_id=north),
        "adviser": Actor("A1", Role.ADVISER, "Asha Patel", team_id=teams["Team A"], office_id=north),
        "south_leader": Actor("L2", Role.TEAM_LEADER, "Sam Hale", office_id=south),
    }
    yield engine, north, south, people
    engine.dispose()


def test_managers_and_leaders_write_their_office_everyone_there_reads(office):
    engine, north, south, p = office
    with write(engine) as conn:
        saved = notes.set_note(conn, CLOCK, p["manager"], north, "calendar-month", "2025-06",
                               "  Warehouse closed: 300 jobs lost in the town  ", None)
    assert (saved.text, saved.author, saved.version, saved.office) == (
        "Warehouse closed: 300 jobs lost in the town", "M1", 1, "Northgate")
    with engine.connect() as conn:
        assert notes.get_note(conn, p["adviser"], north, "calendar-month", "2025-06").text.startswith("Warehouse")
        assert [n.period_label for n in notes.list_notes(conn, p["adviser"])] == ["2025-06"]
        assert notes.list_notes(conn, p["south_leader"]) == []
        with pytest.raises(AccessDenied, match="own office"):
            notes.get_note(conn, p["south_leader"], north, "calendar-month", "2025-06")
    with write(engine) as conn, pytest.raises(AccessDenied, match="Only a team manager, team leader may write"):
        notes.set_note(conn, CLOCK, p["adviser"], north, "calendar-month", "2025-06", "mine", 1)
    with write(engine) as conn, pytest.raises(AccessDenied, match="of its own office"):
        notes.set_note(conn, CLOCK, p["south_leader"], north, "calendar-month", "2025-07", "theirs", None)


def test_a_stale_edit_is_refused_and_every_change_is_audited(office):
    engine, north, _, p = office
    with write(engine) as conn:
        notes.set_note(conn, CLOCK, p["manager"], north, "quarter", "2025-q2", "Two advisers on long-term sick", None)
    with write(engine) as conn:
        notes.set_note(conn, CLOCK, p["leader"], north, "quarter", "2025-Q2", "Two advisers off sick; cover from June", 1)
    with write(engine) as conn, pytest.raises(ConflictError, match=r"changed by L1 on \d{4}-\d\d-\d\d at \d\d:\d\d after you opened it"):
        notes.set_note(conn, CLOCK, p["manager"], north, "quarter", "2025-Q2", "Overwritten", 1)
    with write(engine) as conn:
        assert notes.set_note(conn, CLOCK, p["manager"], north, "quarter", "2025-Q2", "", 2) is None
    with engine.connect() as conn:
        trail = conn.execute(text("SELECT actor, action, entity_id, old, new FROM audit WHERE entity = 'context_note' "
                                  "ORDER BY id")).all()
    key = f"{north}/quarter/2025-Q2"
    assert [tuple(t) for t in trail] == [
        ("M1", "set", key, None, "Two advisers on long-term sick"),
        ("L1", "set", key, "Two advisers on long-term sick", "Two advisers off sick; cover from June"),
        ("M1", "remove", key, "Two advisers off sick; cover from June", None),
    ]


def test_a_period_is_named_as_exports_name_it(office):
    engine, north, _, p = office
    with write(engine) as conn:
        for kind, label in (("calendar-month", "June 2025"), ("quarter", "2025-06"), ("year", "2025-Q1")):
            with pytest.raises(StoreError, match="is not a"):
                notes.set_note(conn, CLOCK, p["leader"], north, kind, label, "x", None)
        with pytest.raises(StoreError, match="at most 2000 characters"):
            notes.set_note(conn, CLOCK, p["leader"], north, "year", "2025", "x" * 2001, None)


def _export_with_note(office):  # noqa: ANN001, ANN202
    engine, north, south, p = office
    with write(engine) as conn:
        notes.set_note(conn, CLOCK, p["leader"], north, "calendar-month", "2025-06",
                       "Warehouse closed: 300 jobs lost in the town", None)
        notes.set_note(conn, CLOCK, p["leader"], north, "calendar-month", "2025-01", "Outside the export", None)
        notes.set_note(conn, CLOCK, p["south_leader"], south, "calendar-month", "2025-06", "Southside's own", None)
    q = OffflowQuery(group_by="team", cohort=CohortKind.CALENDAR_MONTH, first=dt.date(2025, 6, 1),
                     last=dt.date(2025, 7, 31))
    with engine.connect() as conn:
        result = offflow(conn, p["leader"], q)
    return result, metadata(result, generated_at=CLOCK.now(), generated_by="L1")


def test_notes_for_the_periods_shown_travel_into_every_export_format(office):
    result, meta = _export_with_note(office)
    # Only the exported periods, and only the reader's own office.
    assert meta["context_notes"] == [{
        "office": "Northgate", "cohort_period_kind": "calendar-month", "cohort_period": "2025-06",
        "text": "Warehouse closed: 300 jobs lost in the town", "written_by": "L1",
        "written_at": "2026-03-09T09:00:00+00:00",
    }]
    line = "2025-06 (Northgate, by L1 on 2026-03-09): Warehouse closed: 300 jobs lost in the town"
    md = io.StringIO()
    write_markdown(result, md, meta)
    assert f"- **Context notes:** {line}" in md.getvalue()
    html = io.StringIO()
    write_html(result, html, meta)
    assert f"<dt>Context notes</dt><dd>{line}</dd>" in html.getvalue()
    wb = load_workbook(io.BytesIO(workbook_bytes(result, meta)))
    sheet = {r[0]: r[1] for r in wb["Metadata"].iter_rows(min_row=2, values_only=True)}
    assert sheet["context_notes.1.text"] == "Warehouse closed: 300 jobs lost in the town"
    assert sheet["context_notes.1.cohort_period"] == "2025-06"
    assert sheet["context_notes.1.office"] == "Northgate"


def test_an_export_without_notes_says_so(office):
    engine, _, _, p = office
    with engine.connect() as conn:
        result = offflow(conn, p["leader"], OffflowQuery(cohort=CohortKind.CALENDAR_MONTH, first=dt.date(2025, 6, 1),
                                                         last=dt.date(2025, 6, 30)))
    meta = metadata(result, generated_at=CLOCK.now(), generated_by="L1")
    assert meta["context_notes"] == []
    md = io.StringIO()
    write_markdown(result, md, meta)
    assert "- **Context notes:** none written for these cohort periods" in md.getvalue()


def test_note_set_and_list_on_the_command_line_and_into_the_csv_sidecar(tmp_path, new_db, capsys):
    db = new_db()
    extract = write_extract(tmp_path / "x.csv", [row("C1", claim_start="2025-06-02", claim_end="2025-07-01",
                                                     end_reason="found_work")])
    assert main(["import", "claims", str(extract), "--as-at", AS_AT.isoformat(), "--db", db], clock=CLOCK) == 0
    assert main(["staff", "add", "L1", "--name", "Ruth Callaghan", "--role", "team_leader", "--office", "Northgate",
                 "--db", db], clock=CLOCK) == 0
    capsys.readouterr()
    assert main(["note", "set", "2025-06", "New retail park opened", "--cohort", "calendar-month", "--as", "L1",
                 "--db", db], clock=CLOCK) == 0
    assert "Saved the note on calendar-month 2025-06 for Northgate (version 1)." in capsys.readouterr().out
    assert main(["note", "set", "2025-06", "Retail park: 120 jobs", "--cohort", "calendar-month", "--as", "L1",
                 "--db", db], clock=CLOCK) == 0
    assert main(["note", "list", "--as", "A1", "--db", db], clock=CLOCK) == 0
    out = capsys.readouterr().out
    assert "Northgate  calendar-month 2025-06  (L1, 2026-03-09 09:00, version 2)\n    Retail park: 120 jobs" in out
    assert main(["note", "set", "2025-06", "mine", "--cohort", "calendar-month", "--as", "A1", "--db", db],
                clock=CLOCK) == 1
    assert "Only a team manager, team leader may write context notes" in capsys.readouterr().err
    out_path = tmp_path / "offflow.csv"
    assert main(["export", "offflow", "--cohort", "calendar-month", "--from", "2025-06-01", "--to", "2025-06-30",
                 "--as", "L1", "--db", db, "--output", str(out_path)], clock=CLOCK) == 0
    meta = json.loads((tmp_path / "offflow.csv.meta.json").read_text())
    assert [(n["cohort_period"], n["text"]) for n in meta["context_notes"]] == [("2025-06", "Retail park: 120 jobs")]
    assert "Retail park" not in out_path.read_text()  # the CSV itself stays pure data
