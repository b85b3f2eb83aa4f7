"""Importing claims extracts: good files, every kind of bad input, re-imports, later extracts."""

from __future__ import annotations

import csv
import datetime as dt
import os
import stat

import pytest
from sqlalchemy import text

from caseload.store.access import ADMIN
from caseload.store.errors import StoreError
from caseload.store.importer import ImportRejected, import_claims
from extracts import HEADER, row, write_extract

pytestmark = pytest.mark.both_backends

AS_AT = dt.date(2026, 5, 1)
TABLES = ("office", "team", "staff", "customer", "claim", "assignment", "import_batch", "audit", "setting")


def contents(engine) -> dict[str, list[tuple]]:
    with engine.connect() as conn:
        return {t: sorted(map(tuple, conn.execute(text(f"SELECT * FROM {t}")).all()), key=repr) for t in TABLES}


def do_import(engine, clock, path, as_at=AS_AT, **kw):
    return import_claims(engine, path, as_at=as_at, actor=ADMIN, clock=clock, **kw)


GOOD = [
    row("C1", claim_start="2026-01-05", claim_end="2026-03-01", end_reason="found_work"),
    row("C2", claim_start="2026-02-05"),
    row("C3", customer_id="P2", claim_start="2025-02-05", claim_end="2025-04-01", adviser_id="A2",
        adviser_name="Ben Okafor", team="Team B"),
]


def test_good_extract_fills_every_table(engine, clock, tmp_path):
    r = do_import(engine, clock, write_extract(tmp_path / "x.csv", GOOD))
    assert (r.rows_read, r.claims_added, r.claims_updated, r.transfers, r.rows_rejected) == (3, 3, 0, 0, 0)
    with engine.connect() as conn:
        claims = conn.execute(text(
            "SELECT c.id, c.claim_end, c.end_reason, s.name, t.name FROM claim c "
            "JOIN staff s ON s.id = c.adviser_id JOIN team t ON t.id = c.team_id ORDER BY c.id")).all()
        assert [(c[0], c[1] and str(c[1]), *c[2:]) for c in claims] == [
            ("C1", "2026-03-01", "found_work", "Asha Patel", "Team A"),
            ("C2", None, None, "Asha Patel", "Team A"),
            ("C3", "2025-04-01", None, "Ben Okafor", "Team B"),
        ]
        assert conn.execute(text("SELECT COUNT(*) FROM assignment WHERE to_date IS NULL")).scalar() == 3
        batch = conn.execute(text("SELECT file_name, as_at, claims_added FROM import_batch")).one()
        assert (batch[0], str(batch[1]), batch[2]) == ("x.csv", "2026-05-01", 3)


def test_same_file_twice_changes_nothing(engine, clock, tmp_path):
    path = write_extract(tmp_path / "x.csv", GOOD)
    do_import(engine, clock, path)
    before = contents(engine)
    r = do_import(engine, clock, path)
    assert r.already_imported == 1
    assert contents(engine) == before


def test_an_older_extract_repeated_byte_for_byte_at_a_later_date_is_applied(engine, clock, tmp_path):
    """A reason changed and then changed back: the third extract has the first one's bytes."""
    def reason(end_reason: str) -> list[dict[str, str]]:
        return [row("C1", claim_end="2026-04-20", end_reason=end_reason)]

    first = write_extract(tmp_path / "a.csv", reason("programme_start"))
    do_import(engine, clock, first, as_at=dt.date(2026, 5, 1))
    do_import(engine, clock, write_extract(tmp_path / "b.csv", reason("other_benefit")), as_at=dt.date(2026, 5, 4))
    r = do_import(engine, clock, first, as_at=dt.date(2026, 5, 8))
    assert r.already_imported is None and r.claims_updated == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT end_reason FROM claim WHERE id = 'C1'")).scalar() == "programme_start"


def test_same_rows_in_a_new_file_change_no_claim(engine, clock, tmp_path):
    do_import(engine, clock, write_extract(tmp_path / "a.csv", GOOD))
    before = contents(engine)
    r = do_import(engine, clock, write_extract(tmp_path / "b.csv", GOOD), as_at=dt.date(2026, 5, 8))
    assert (r.claims_added, r.claims_updated, r.transfers) == (0, 0, 0)
    after = contents(engine)
    for t in ("claim", "customer", "staff", "assignment", "team", "office"):
        assert after[t] == before[t], t


def test_a_customers_latest_row_decides_when_it_changes_nothing(engine, clock, tmp_path):
    """A later extract where the customer's latest row repeats what is held and an earlier row of the same
    customer (whose claim changed) carries other values: the latest row still decides, as it did before
    unchanged rows were dropped from staging; and a customer's change on an unchanged claim's row is applied."""
    first = [row("C1", customer_id="P1", claim_start="2026-01-05"),
             row("C2", customer_id="P1", claim_start="2026-02-05"),
             row("C3", customer_id="P3", claim_start="2026-02-05")]
    do_import(engine, clock, write_extract(tmp_path / "a.csv", first))
    later = [row("C1", customer_id="P1", claim_start="2026-01-05", claim_end="2026-05-02", end_reason="found_work",
                 customer_name="Older Name", ethnicity="Other"),
             row("C2", customer_id="P1", claim_start="2026-02-05"),
             row("C3", customer_id="P3", claim_start="2026-02-05", customer_name="New Name")]
    r = do_import(engine, clock, write_extract(tmp_path / "b.csv", later), as_at=dt.date(2026, 5, 8))
    assert (r.claims_added, r.claims_updated, r.transfers) == (0, 1, 0)
    with engine.connect() as conn:
        held = dict(conn.execute(text("SELECT id, name FROM customer")).all())
        assert held == {"P1": "Customer C2", "P3": "New Name"}
        assert conn.execute(text("SELECT ethnicity, version FROM customer WHERE id='P1'")).one() == ("White", 1)
        audited = conn.execute(text("SELECT entity_id FROM audit WHERE entity='customer'")).scalars().all()
        assert audited == ["P3"]


def test_later_extract_updates_ends_and_records_transfer(engine, clock, tmp_path):
    do_import(engine, clock, write_extract(tmp_path / "a.csv", GOOD))
    later = [
        GOOD[0],
        row("C2", claim_start="2026-02-05", claim_end="2026-05-06", end_reason="sanction",
            adviser_id="A3", adviser_name="Cara Jones"),
        row("C4", claim_start="2026-05-02"),
    ]
    r = do_import(engine, clock, write_extract(tmp_path / "b.csv", later), as_at=dt.date(2026, 5, 8))
    assert (r.claims_added, r.claims_updated, r.transfers) == (1, 1, 1)
    with engine.connect() as conn:
        c2 = conn.execute(text("SELECT claim_end, end_reason, adviser_id, onflow_adviser_id, version FROM claim WHERE id='C2'")).one()
        assert (str(c2[0]), c2[1], c2[2], c2[3], c2[4]) == ("2026-05-06", "sanction", "A3", "A1", 2)
        history = conn.execute(text(
            "SELECT adviser_id, from_date, to_date FROM assignment WHERE claim_id='C2' ORDER BY from_date")).all()
        assert [(a, str(f), str(t) if t else None) for a, f, t in history] == [
            ("A1", "2026-02-05", "2026-05-08"), ("A3", "2026-05-08", None)]
        # C3 is missing from the later extract: unchanged.
        assert conn.execute(text("SELECT version FROM claim WHERE id='C3'")).scalar() == 1
        audited = conn.execute(text(
            "SELECT field, old, new FROM audit WHERE entity='claim' AND entity_id='C2' ORDER BY field")).all()
        assert ("adviser_id", "A1", "A3") in [tuple(a) for a in audited]
        assert ("end_reason", None, "sanction") in [tuple(a) for a in audited]


def test_older_extract_is_refused(engine, clock, tmp_path):
    do_import(engine, clock, write_extract(tmp_path / "a.csv", GOOD))
    with pytest.raises(StoreError, match="before the latest import's .2026-05-01.*in date order"):
        do_import(engine, clock, write_extract(tmp_path / "b.csv", GOOD[:1]), as_at=dt.date(2026, 4, 1))


def test_future_as_at_is_refused(engine, clock, tmp_path):
    with pytest.raises(StoreError, match="in the future"):
        do_import(engine, clock, write_extract(tmp_path / "a.csv", GOOD), as_at=dt.date(2027, 1, 1))


BAD_CASES = [
    ("unknown end reason", row("C9", claim_end="2026-02-01", end_reason="won_lottery"), "end_reason",
     "'won_lottery' is not a known end_reason code"),
    ("end before start", row("C9", claim_start="2026-02-01", claim_end="2026-01-31", end_reason="found_work"),
     "claim_end", "2026-01-31 is before claim_start 2026-02-01"),
    ("date after as-at", row("C9", claim_start="2026-05-02"), "claim_start",
     "2026-05-02 is after the extract's as-at date 2026-05-01"),
    ("end after as-at", row("C9", claim_end="2026-06-01", end_reason="found_work"), "claim_end",
     "2026-06-01 is after the extract's as-at date"),
    ("malformed date", row("C9", claim_start="05/01/2026"), "claim_start",
     "'05/01/2026' is not a date in the form YYYY-MM-DD"),
    ("impossible date", row("C9", claim_start="2026-02-30"), "claim_start", "'2026-02-30' is not a real date"),
    ("empty required value", row("C9", customer_id=""), "customer_id", "is empty; every row needs a customer_id"),
    ("unknown benefit", row("C9", benefit="XYZ"), "benefit", "'XYZ' is not a benefit this tool knows"),
    ("reason on an open claim", row("C9", end_reason="found_work"), "end_reason", "claim_end is empty"),
]


@pytest.mark.parametrize("case,bad,column,message", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_one_bad_row_rejects_the_file_and_nothing_changes(engine, clock, tmp_path, case, bad, column, message):
    do_import(engine, clock, write_extract(tmp_path / "first.csv", GOOD))
    before = contents(engine)
    path = write_extract(tmp_path / "bad.csv", [row("C5"), bad, row("C6")])
    with pytest.raises(ImportRejected) as info:
        do_import(engine, clock, path, as_at=dt.date(2026, 5, 1))
    problems = info.value.result.problems
    assert [(p.line, p.column) for p in problems] == [(3, column)]
    assert message in problems[0].message
    assert "line 3, " + column in str(info.value)
    assert "Nothing was changed" in str(info.value)
    assert contents(engine) == before


def test_duplicate_claim_id_names_both_lines(engine, clock, tmp_path):
    path = write_extract(tmp_path / "dup.csv", [row("C1"), row("C2"), row("C1", claim_start="2026-01-06")])
    with pytest.raises(ImportRejected) as info:
        do_import(engine, clock, path)
    msgs = [(p.line, p.column, p.message) for p in info.value.result.problems]
    assert msgs == [
        (2, "claim_id", "C1 also appears on line 4; a claim appears once in an extract"),
        (4, "claim_id", "C1 also appears on line 2; a claim appears once in an extract"),
    ]
    assert contents(engine)["claim"] == []


def test_adviser_in_two_teams(engine, clock, tmp_path):
    path = write_extract(tmp_path / "teams.csv", [row("C1"), row("C2", team="Team B")])
    with pytest.raises(ImportRejected) as info:
        do_import(engine, clock, path)
    (p,) = info.value.result.problems
    assert (p.line, p.column) == (3, "team")
    assert "adviser A1 is in team 'Team A' on line 2 and 'Team B' here" in p.message


def test_missing_required_column(engine, clock, tmp_path):
    header = [h for h in HEADER if h != "adviser_id"]
    path = write_extract(tmp_path / "nocol.csv", [row("C1")], header=header)
    with pytest.raises(StoreError, match="line 1: the header has no adviser_id column"):
        do_import(engine, clock, path)
    assert contents(engine)["claim"] == []


def test_unknown_column_is_a_warning(engine, clock, tmp_path):
    path = write_extract(tmp_path / "extra.csv", [row("C1")], header=HEADER + ["favourite_colour"])
    r = do_import(engine, clock, path)
    assert r.claims_added == 1
    assert r.warnings == ["ignored unknown column: favourite_colour"]


def test_wrong_number_of_values(engine, clock, tmp_path):
    path = tmp_path / "short.csv"
    path.write_text(",".join(HEADER) + "\nC1,P1,Ann\n", encoding="utf-8")
    with pytest.raises(ImportRejected) as info:
        do_import(engine, clock, path)
    assert str(info.value.result.problems[0]) == "line 2: has 3 values; the header has 16 columns"


def test_not_utf8(engine, clock, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes((",".join(HEADER) + "\n").encode() + "C1,P1,Jos\xe9".encode("latin-1") + b"\n")
    with pytest.raises(StoreError, match="not UTF-8"):
        do_import(engine, clock, path)
    assert contents(engine)["claim"] == []


def test_empty_file_and_header_only(engine, clock, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(StoreError, match="is empty"):
        do_import(engine, clock, empty)
    with pytest.raises(StoreError, match="no rows"):
        do_import(engine, clock, write_extract(tmp_path / "h.csv", []))


def test_partial_imports_good_rows_and_writes_rejects(engine, clock, tmp_path):
    rows = [row("C1"), row("C2", claim_start="2026-13-01"), row("C3"), row("C3", claim_start="2026-01-07"),
            row("C4", end_reason="nonsense", claim_end="2026-02-01")]
    rejects = tmp_path / "out" / "rejects.csv"
    r = do_import(engine, clock, write_extract(tmp_path / "p.csv", rows), partial=True, rejects=rejects)
    assert (r.rows_read, r.rows_imported, r.rows_rejected, r.claims_added) == (5, 1, 4, 1)
    with open(rejects, encoding="utf-8") as f:
        got = list(csv.DictReader(f))
    assert [(g["claim_id"], g["line"]) for g in got] == [("C2", "3"), ("C4", "6"), ("C3", "4"), ("C3", "5")]
    assert got[0]["reason"] == "claim_start: '2026-13-01' is not a real date"
    assert got[0]["claim_start"] == "2026-13-01"
    assert "also appears on line 5" in got[2]["reason"]
    # The rejects file, once fixed, imports as it is: its extra columns are only warnings.
    assert list(got[0].keys())[: len(HEADER)] == HEADER
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM claim")).scalars().all() == ["C1"]
        assert conn.execute(text("SELECT rows_rejected, partial FROM import_batch")).one() == (4, True)


def test_partial_needs_a_rejects_file(engine, clock, tmp_path):
    with pytest.raises(StoreError, match="--partial needs --rejects PATH"):
        do_import(engine, clock, write_extract(tmp_path / "p.csv", GOOD), partial=True)


def test_rejects_file_is_written_even_when_the_file_is_rejected(engine, clock, tmp_path):
    rejects = tmp_path / "rejects.csv"
    with pytest.raises(ImportRejected):
        do_import(engine, clock, write_extract(tmp_path / "p.csv", [row("C1", benefit="")]), rejects=rejects)
    got = list(csv.DictReader(open(rejects, encoding="utf-8")))
    assert [(g["claim_id"], g["reason"]) for g in got] == [("C1", "benefit: is empty; every row needs a benefit")]


def test_empty_end_reason_on_ended_claim_is_accepted(engine, clock, tmp_path):
    do_import(engine, clock, write_extract(tmp_path / "x.csv", [row("C1", claim_end="2026-02-01")]))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT end_reason, end_day - start_day FROM claim")).one() == (None, 27)


def test_new_database_file_is_private(db_path, engine, clock, tmp_path):
    do_import(engine, clock, write_extract(tmp_path / "x.csv", GOOD))
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        files = [p for p in db_path.parent.iterdir() if p.name.startswith(db_path.name)]
        assert {p.name for p in files} >= {db_path.name, db_path.name + "-wal"}
        for p in files:
            assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, p.name


def test_the_next_days_lines_as_they_were_are_recognised_and_said(engine, clock, tmp_path, capsys):
    """The next extract repeats two lines byte for byte and changes one: the two are recognised unchanged
    (never checked again), the change is applied and audited, and the command line says how many were as before."""
    from caseload.cli import main

    do_import(engine, clock, write_extract(tmp_path / "a.csv", GOOD))
    later = [GOOD[0], dict(GOOD[1], claim_end="2026-05-07", end_reason="found_work"), GOOD[2]]
    r = do_import(engine, clock, write_extract(tmp_path / "b.csv", later), as_at=dt.date(2026, 5, 8))
    assert (r.rows_read, r.rows_unchanged, r.claims_updated) == (3, 2, 1)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT claim_end FROM claim WHERE id = 'C2'")).scalar() in ("2026-05-07",
                                                                                              dt.date(2026, 5, 7))
        assert conn.execute(text("SELECT COUNT(*) FROM audit WHERE entity_id = 'C2' AND field = 'claim_end'")
                            ).scalar_one() == 1
        # C2's line names its customer "Customer C2", but P2 is "Customer C3" (C3's is P2's latest line): C2's
        # line is not how P2 stands, so it keeps no fingerprint and is checked each time.
        assert conn.execute(text("SELECT id FROM claim WHERE extract_hash IS NOT NULL ORDER BY id")
                            ).scalars().all() == ["C1", "C3"]
    if engine.dialect.name == "sqlite":
        third = [*later[:2], dict(GOOD[2], claim_end="2025-04-02")]
        code = main(["import", "claims", str(write_extract(tmp_path / "c.csv", third)), "--as-at", "2026-05-09",
                     "--db", engine.url.database], clock=clock)
        out = capsys.readouterr().out
        assert code == 0 and "3 rows read (1 exactly as before), 0 claims added, 1 updated" in out
        code = main(["import", "claims", str(write_extract(tmp_path / "d.csv", list(reversed(third)))),
                     "--as-at", "2026-05-10", "--check-all", "--db", engine.url.database], clock=clock)
        assert code == 0 and "3 rows read, 0 claims added, 0 updated" in capsys.readouterr().out


def test_lines_ended_by_a_lone_carriage_return_or_spread_over_lines_import_as_the_csv_module_reads_them(
        engine, clock, tmp_path):
    """An old spreadsheet's file (lines ended by a carriage return alone) is read as text, line by line; a
    quoted value over two lines is one record. Both give what the same rows written plainly give."""
    plain = write_extract(tmp_path / "plain.csv", GOOD)
    old_mac = tmp_path / "old-mac.csv"
    old_mac.write_bytes(plain.read_bytes().replace(b"\r\n", b"\r"))
    r = do_import(engine, clock, old_mac)
    assert (r.rows_read, r.claims_added, r.rows_rejected) == (3, 3, 0)
    two_lines = [dict(GOOD[0], customer_name="Kofi\nPrice"), GOOD[1], dict(GOOD[2], customer_name="Price, Kofi")]
    r = do_import(engine, clock, write_extract(tmp_path / "quoted.csv", two_lines), as_at=dt.date(2026, 5, 8))
    assert (r.rows_read, r.claims_updated, r.rows_rejected) == (3, 0, 0)
    with engine.connect() as conn:
        names = dict(conn.execute(text("SELECT id, name FROM customer")).all())
    assert names == {"P1": "Kofi\nPrice", "P2": "Price, Kofi"}


def test_a_line_met_again_after_a_change_checked_the_long_way_is_applied(engine, clock, tmp_path):
    """Day 1's line, then a change whose line is checked the long way (a padded value), then day 1's line
    again: the claim goes back to how day 1 gave it (the older line's fingerprint is not how it stands)."""
    do_import(engine, clock, write_extract(tmp_path / "a.csv", GOOD))
    changed = [dict(GOOD[0], claim_end="2026-03-02 "), GOOD[1], GOOD[2]]
    r = do_import(engine, clock, write_extract(tmp_path / "b.csv", changed), as_at=dt.date(2026, 5, 8))
    assert r.claims_updated == 1
    r = do_import(engine, clock, write_extract(tmp_path / "c.csv", GOOD), as_at=dt.date(2026, 5, 9))
    assert (r.claims_updated, r.rows_unchanged) == (1, 1)  # C3 as before; C2 keeps no fingerprint (see above)
    with engine.connect() as conn:
        assert str(conn.execute(text("SELECT claim_end FROM claim WHERE id = 'C1'")).scalar()) == "2026-03-01"
