"""The importer's quick path for clean rows stages exactly what the checked path (pydantic, then every
check in words) stages, and leaves every row with a problem to the checked path, so the problems an
adviser reads are the checked path's."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caseload.store.importer import COLUMNS, _checked_reader, _quick_reader

AS_AT = dt.date(2026, 10, 30)

DATES = ["2025-01-06", "2026-10-30", "2026-10-31", "1970-02-28", "2025-02-30", "2025-1-06", "20250106",
         "2025-01-06 ", " 2025-01-06", "２０２５-01-06", "2025/01/06", "", "   "]
VALUES = {
    "claim_id": ["C0000001", "C0000002", " C0000003", "", "  "],
    "customer_id": ["P000001", "P000002", "P000003 ", ""],
    "benefit": ["JSA", "jsa", "Uc", "ESA", "XYZ", "", " JSA"],
    "claim_start": DATES,
    "claim_end": DATES,
    "date_of_birth": DATES,
    "end_reason": ["", "found_work", "FOUND_WORK", "failed_to_sign", "nope", " sanction"],
    "adviser_id": ["A0001", "A0002", "", "A0001\t"],
    "adviser_name": ["", "Ann Lee", "Bo Ray "],
    "team": ["", "Team A", "Team B", " Team A"],
    "office": ["", "Northgate", "Local office", "Riverside\u00a0"],
    "customer_name": ["", "Mia Khan", " Mia Khan", "O'Brien\x1c"],
    "nino": ["", "ab 12 34 56 c", "AB123456C", " AB123456C"],
    "sex": ["", "female", "male "],
    "disability": ["", "yes", "no"],
    "ethnicity": ["", "White", "Asian"],
}


def rows(header: list[str]) -> st.SearchStrategy[list[list[str]]]:
    row = st.tuples(*(st.sampled_from(VALUES.get(c, ["", "x", " x"])) for c in header)).map(list)
    return st.lists(row, min_size=1, max_size=12)


@st.composite
def extracts(draw) -> tuple[list[str], list[list[str]]]:  # noqa: ANN001
    header = [*COLUMNS[:5], *draw(st.lists(st.sampled_from(COLUMNS[5:]), unique=True)),
              *draw(st.lists(st.sampled_from(["unknown", "notes"]), unique=True))]
    header = draw(st.permutations(header))
    return header, draw(rows(header))


@settings(max_examples=300, deadline=None)
@given(extracts(), st.booleans())
def test_quick_path_stages_what_the_checked_path_stages(extract, as_text):
    header, values = extract
    checked_teams: dict = {}
    checked = _checked_reader(header, AS_AT, as_text, checked_teams)
    quick_teams: dict = {}
    quick = _quick_reader(header, AS_AT, as_text, quick_teams)
    for line, row in enumerate(values, start=2):
        staged, problems = checked(row, line)
        fast = quick(row, line, None)
        if fast is None:
            # Not quick: the checked path alone decides (and names each problem). Keep the team map
            # of the quick reader where the checked path would have put it.
            quick_teams.update(checked_teams)
            continue
        assert problems == [] and fast == staged
        assert all(v == v.strip() for c, v in zip(header, row) if c in COLUMNS)


def test_quick_path_takes_every_clean_good_row():
    header = list(COLUMNS)
    row = dict(zip(COLUMNS, ["C1", "P1", "jsa", "2025-01-06", "A1", "Mia Khan", "1990-05-01", "ab 12 34 56 c",
                             "female", "no", "White", "2025-03-01", "FOUND_WORK", "Ann Lee", "Team A", ""]))
    values = [row[c] for c in header]
    staged = _quick_reader(header, AS_AT, True, {})(values, 2, None)
    assert staged == _checked_reader(header, AS_AT, True, {})(values, 2)[0]
    assert staged[3] == "JSA" and staged[6] == "found_work" and staged[12] == "AB123456C"
    assert staged[18] == "Local office"  # a team without an office is put in the default office
    later = dict(row, claim_start="2026-11-02")  # after the as-at date: the checked path says so
    assert _quick_reader(header, AS_AT, True, {})([later[c] for c in header], 3, None) is None


@pytest.mark.both_backends
def test_first_load_builds_every_index_again(engine, clock, tmp_path):
    """A first load into an empty database inserts without the claim and assignment indexes and builds
    them after; the database then has every index of the schema, and a later extract is quick again."""
    from sqlalchemy import text

    from caseload.store import schema
    from caseload.store.access import ADMIN
    from caseload.store.importer import import_claims
    from extracts import row, write_extract

    first = [row(f"C{i}", customer_id=f"P{i % 7}", claim_start=f"2026-01-{i:02d}") for i in range(1, 20)]
    r = import_claims(engine, write_extract(tmp_path / "a.csv", first), as_at=dt.date(2026, 5, 1),
                      actor=ADMIN, clock=clock)
    later = [*first, row("C20", claim_start="2026-05-04", adviser_id="A2", team="Team B")]
    r2 = import_claims(engine, write_extract(tmp_path / "b.csv", later), as_at=dt.date(2026, 5, 8),
                       actor=ADMIN, clock=clock)
    assert (r.claims_added, r2.claims_added, r2.claims_updated) == (19, 1, 0)
    wanted = {i.name for t in (schema.Claim.__table__, schema.Assignment.__table__) for i in t.indexes}
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            have = {n for (n,) in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
        else:
            have = {n for (n,) in conn.execute(text("SELECT indexname FROM pg_indexes"))}
        assert wanted <= have
        assert conn.execute(text("SELECT COUNT(*) FROM assignment")).scalar() == 20
