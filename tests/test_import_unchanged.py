"""An import that recognises a row unchanged since the last extract (and so never checks or stages it)
leaves the database exactly as the full import (``full=True``: every row checked and staged) leaves it,
for any sequence of extracts: the same import results, the same rejects file, the same rows in every
table (ids and clock times aside), the same audit.

Until ``import_claims`` takes ``full``, ``_import`` calls it without, and the property compares the full
path with itself: the harness is checked now and says something once the fast path lands.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import inspect
import io
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import DateTime, Integer, MetaData, select, text

from caseload.clock import FixedClock
from caseload.measures.destinations import END_REASONS
from caseload.store import staff
from caseload.store.access import ADMIN, actor_for
from caseload.store.db import open_database, write
from caseload.store.erase import erase_customer
from caseload.store.errors import StoreError
from caseload.store.importer import ImportRejected, import_claims
from caseload.store.reassign import ClaimFilter, reassign
from extracts import HEADER, row, write_extract
from test_summary import assert_summaries_equal_a_recount

pytestmark = pytest.mark.both_backends

TODAY = dt.date(2026, 5, 11)
CLOCK = FixedClock.on(TODAY)
FIRST_AS_AT = dt.date(2026, 4, 1)

_HAS_FULL = "full" in inspect.signature(import_claims).parameters


def _import(engine, path, *, full: bool, **kw):  # noqa: ANN001, ANN201
    """import_claims with full=full once it takes the keyword; until then the one (full) path."""
    if _HAS_FULL:
        return import_claims(engine, path, full=full, **kw)
    return import_claims(engine, path, **kw)


# ---------------------------------------------------------------------------------------------
# The database's state, less what only says when or in what order rows were written


# Columns the fast path alone keeps (a stored hash of the claim's raw line): not compared.
IGNORED_COLUMNS = frozenset({"extract_hash"})
_tables: dict[int, list] = {}


def _reflected(engine) -> list:  # noqa: ANN001
    key = id(engine)
    if key not in _tables:
        md = MetaData()
        with engine.connect() as conn:
            md.reflect(conn)
        _tables[key] = list(md.sorted_tables)
    return _tables[key]


def _surrogate(table) -> bool:  # noqa: ANN001
    """An integer id the database hands out (audit, assignment, team...): which number a row got is noise."""
    c = table.columns.get("id")
    return c is not None and c.primary_key and isinstance(c.type, Integer)


def dump(engine) -> dict[str, Counter]:  # noqa: ANN001
    """Every table's rows as a multiset: surrogate ids dropped, a reference to such a row replaced by what
    that row holds (a claim's team is the team's office and name), a time by whether there is one."""
    out: dict[str, Counter] = {}
    natural: dict[str, dict] = {}
    with engine.connect() as conn:
        for table in _reflected(engine):  # referenced tables first
            refs = {}
            for c in table.columns:
                for fk in c.foreign_keys:
                    if fk.column.table.name in natural:
                        refs[c.name] = fk.column.table.name
            cols = [c for c in table.columns if c.name not in IGNORED_COLUMNS]
            surrogate = _surrogate(table)
            rows: Counter = Counter()
            ids = {}
            for r in conn.execute(select(*cols)):
                m = r._mapping
                values = []
                for c in cols:
                    v = m[c.name]
                    if surrogate and c.name == "id":
                        continue
                    if isinstance(c.type, DateTime):
                        v = v is not None
                    elif c.name in refs and v is not None:
                        v = natural[refs[c.name]].get(v, ("missing", v))
                    values.append((c.name, v))
                t = tuple(values)
                rows[t] += 1
                if surrogate:
                    ids[m["id"]] = t
            if surrogate:
                natural[table.name] = ids
            out[table.name] = rows
        conn.rollback()
    return out


def assert_same_state(a, b) -> None:  # noqa: ANN001
    da, db = dump(a), dump(b)
    assert set(da) == set(db), f"tables differ: {sorted(set(da) ^ set(db))}"
    diffs = []
    for name in sorted(da):
        if da[name] != db[name]:
            only_a = sorted(map(repr, (da[name] - db[name]).elements()))[:6]
            only_b = sorted(map(repr, (db[name] - da[name]).elements()))[:6]
            diffs.append(f"{name}:\n  full only: {only_a}\n  fast only: {only_b}")
    assert not diffs, "the fast import left another database than the full one:\n" + "\n".join(diffs)


# ---------------------------------------------------------------------------------------------
# Running one import, and what a user sees of it


def _outcome(engine, path: Path, *, full: bool, as_at: dt.date, partial: bool,  # noqa: ANN001
             rejects: Path | None) -> tuple:
    """What the import said (its result, or the rejection or error in words) and the rejects file's bytes."""
    try:
        result = _import(engine, path, full=full, as_at=as_at, actor=ADMIN, clock=CLOCK, partial=partial,
                         rejects=rejects)
        said = ("imported", _fields(result))
    except ImportRejected as exc:
        said = ("rejected", _fields(exc.result), str(exc))
    except StoreError as exc:
        said = ("error", str(exc))
    written = rejects.read_bytes() if rejects is not None and rejects.exists() else None
    return said, written


def _fields(result) -> dict:  # noqa: ANN001
    d = dataclasses.asdict(result)
    d.pop("rows_unchanged", None)  # how many lines were recognised unchanged: the fast path's own figure
    d["problems"] = [str(p) for p in result.problems]
    return d


def _both(a, b, path: Path, *, as_at: dt.date, partial: bool = False, rejects: bool = False) -> tuple:  # noqa: ANN001
    """The same extract into A by the full path and into B by the fast one: the same outcome, the same state."""
    out_a = _outcome(a, path, full=True, as_at=as_at, partial=partial,
                     rejects=path.with_name(path.stem + ".rejects-full.csv") if rejects or partial else None)
    out_b = _outcome(b, path, full=False, as_at=as_at, partial=partial,
                     rejects=path.with_name(path.stem + ".rejects-fast.csv") if rejects or partial else None)
    assert out_a == out_b
    assert_same_state(a, b)
    return out_b


def _setup(engine) -> None:  # noqa: ANN001
    """A team manager of Team A and a team leader of Northgate, who reassign claims between imports."""
    with write(engine) as conn:
        staff.add(conn, CLOCK, ADMIN, "M1", "Maya Ford", "team_manager", team="Team A", office="Northgate")
        staff.add(conn, CLOCK, ADMIN, "L1", "Lee Grant", "team_leader", office="Northgate")


def _reassign(engine, who: str, from_adviser: str, to_adviser: str, on: dt.date) -> tuple:  # noqa: ANN001
    try:
        with write(engine) as conn:
            done = reassign(conn, CLOCK, actor_for(conn, who, TODAY), from_adviser, [to_adviser], ClaimFilter(),
                            "Balancing caseloads", on=on)
        return ("reassigned", done.shares)
    except StoreError as exc:
        return ("refused", type(exc).__name__, str(exc))


def _erase(engine, customer_id: str) -> tuple:  # noqa: ANN001
    try:
        with write(engine) as conn:
            done = erase_customer(conn, CLOCK, ADMIN, customer_id, "request")
        return ("erased", done.claims)
    except StoreError as exc:
        return ("refused", str(exc))


# ---------------------------------------------------------------------------------------------
# Sequences of extracts, written as a district's daily extract is: mostly yesterday's lines again


ADVISERS = {
    "A1": ("Asha Patel", "Team A", "Northgate"),
    "A2": ("Ben Okafor", "Team A", "Northgate"),
    "A3": ("Cara Singh", "Team B", "Northgate"),
    "A4": ("Dev Roy", "Team C", "Southside"),
}
PLACES = (("Team A", "Northgate"), ("Team B", "Northgate"), ("Team C", "Southside"), ("", ""))
N_CUSTOMERS = 6
# Values a customer's rows may carry: different on two rows of one customer, empty (the stored value
# stands), a comma (a quoted field), a line break inside the field, padding (the long validation path).
NAMES = ("{c} Adams", "{c} Baker", "Price, Kofi", "  Padded {c} ", "Kofi\nPrice", "")
NINOS = ("AB12345{c}C", "ab 12 34 5{c} c", "")
DOBS = ("1990-06-15", "1985-01-02", "")
SEXES = ("female", "male", "")
DISABILITIES = ("no", "yes", "")
ETHNICITIES = ("White", "Asian", "")
BENEFITS = ("JSA", "JSA", "ESA", "UC", "jsa", " ESA ")  # lower case and padding: the long path
STARTS = ("2025-01-06", "2025-06-02", "2025-11-10", "2026-01-05", "2026-03-02", "2026-03-30")
CUSTOMER_FIELDS = {"customer_name": NAMES, "nino": NINOS, "date_of_birth": DOBS, "sex": SEXES,
                   "disability": DISABILITIES, "ethnicity": ETHNICITIES}
MUTATIONS = (
    "end", "end", "reopen", "new", "new", "move", "move", "customer_value", "customer_value", "customer_id",
    "drop", "drop_latest", "to_front", "to_back", "rename_adviser", "team_adviser", "dup_same", "dup_diff",
    "bad", "revert", "benefit", "start", "split_team", "split_team",
)


@dataclasses.dataclass
class Extract:
    as_at: dt.date
    rows: list[dict[str, str]]
    before: list[tuple]  # applied to both databases before this import: reassignments, erasures
    swap_header: bool  # the header names customer_name and ethnicity the other way round (the lines as before)
    eol: str
    bom: bool
    blank_at: int | None  # an empty line before this row (the lines after it are numbered one more)
    partial: bool
    rejects: bool


def _customer_values(draw, c: int) -> dict[str, str]:  # noqa: ANN001
    return {f: draw(st.sampled_from(vs)).format(c=c) for f, vs in CUSTOMER_FIELDS.items()}


@st.composite
def extracts(draw) -> list[Extract]:  # noqa: ANN001
    advisers = {a: list(v) for a, v in ADVISERS.items()}
    counter = iter(range(1000))

    def adviser_fields(a: str) -> dict[str, str]:
        name, team, office = advisers[a]
        return {"adviser_id": a, "adviser_name": name, "team": team, "office": office}

    def new_row(as_at: dt.date) -> dict[str, str]:
        c = draw(st.integers(0, N_CUSTOMERS - 1))
        start = draw(st.sampled_from(STARTS))
        r = row(f"C{next(counter):02d}", customer_id=f"P{c}", **_customer_values(draw, c),
                benefit=draw(st.sampled_from(BENEFITS)), claim_start=start,
                **adviser_fields(draw(st.sampled_from(sorted(advisers)))))
        if draw(st.integers(0, 3)) == 0:
            _end(r, as_at)
        return r

    def _end(r: dict[str, str], as_at: dt.date) -> None:
        start = dt.date.fromisoformat(r["claim_start"]) if r["claim_start"] in STARTS else FIRST_AS_AT
        r["claim_end"] = (start + (as_at - start) * draw(st.sampled_from((0, 1, 2, 4))) // 4).isoformat()
        r["end_reason"] = draw(st.sampled_from(END_REASONS + ("FOUND_WORK",)))

    def pick(rows: list, where=lambda r: True) -> int | None:  # noqa: ANN001
        idx = [i for i, r in enumerate(rows) if where(r)]
        return draw(st.sampled_from(idx)) if idx else None

    out: list[Extract] = []
    history: list[list[dict[str, str]]] = []
    as_at = FIRST_AS_AT
    rows: list[dict[str, str]] = []
    for k in range(draw(st.integers(2, 4))):
        before: list[tuple] = []
        if k == 0:
            rows = [new_row(as_at) for _ in range(draw(st.integers(3, 14)))]
        else:
            on = as_at  # the day of the last extract: no holder has held a claim since later
            as_at = as_at + dt.timedelta(days=draw(st.integers(1, 3)))
            rows = [dict(r) for r in rows]
            for _ in range(draw(st.integers(0, 2))):
                named = sorted({r["adviser_id"] for r in rows})
                holding = sorted({r["adviser_id"] for r in rows if not r["claim_end"]})
                if draw(st.booleans()) and holding and len(named) > 1:
                    # A team manager's within Team A, else the office's team leader's (refused outside it).
                    src = draw(st.sampled_from(holding))
                    dst = draw(st.sampled_from([x for x in named if x != src]))
                    who = "M1" if advisers[src][1] == advisers[dst][1] == "Team A" else "L1"
                    before.append(("reassign", who, src, dst, on))
                    if draw(st.booleans()):  # this extract names the local holder too: it confirms it
                        for r in rows:
                            if r["adviser_id"] == src and not r["claim_end"]:
                                r.update(adviser_fields(dst))
                elif rows:
                    before.append(("erase", draw(st.sampled_from(sorted({r["customer_id"] for r in rows})))))
            for _ in range(draw(st.integers(0, 6))):
                kind = draw(st.sampled_from(MUTATIONS))
                if kind == "end" and (i := pick(rows, lambda r: not r["claim_end"])) is not None:
                    _end(rows[i], as_at)
                elif kind == "reopen" and (i := pick(rows, lambda r: r["claim_end"])) is not None:
                    rows[i].update(claim_end="", end_reason="")
                elif kind == "new" and len(rows) < 30:
                    rows.insert(draw(st.integers(0, len(rows))), new_row(as_at))
                elif kind == "move" and (i := pick(rows)) is not None:
                    rows[i].update(adviser_fields(draw(st.sampled_from(sorted(advisers)))))
                elif kind == "customer_value" and (i := pick(rows)) is not None:
                    f = draw(st.sampled_from(sorted(CUSTOMER_FIELDS)))
                    rows[i][f] = draw(st.sampled_from(CUSTOMER_FIELDS[f])).format(c=rows[i]["customer_id"][1:])
                elif kind == "customer_id" and (i := pick(rows)) is not None:
                    rows[i]["customer_id"] = f"P{draw(st.integers(0, N_CUSTOMERS - 1))}"
                elif kind == "drop" and (i := pick(rows)) is not None:
                    del rows[i]
                elif kind == "drop_latest" and (i := pick(rows)) is not None:
                    # The customer's latest line (their values come from it) leaves the extract.
                    del rows[max(j for j, r in enumerate(rows) if r["customer_id"] == rows[i]["customer_id"])]
                elif kind == "to_front" and (i := pick(rows)) is not None:
                    rows.insert(0, rows.pop(i))
                elif kind == "to_back" and (i := pick(rows)) is not None:
                    rows.append(rows.pop(i))
                elif kind in ("rename_adviser", "team_adviser"):
                    a = draw(st.sampled_from(sorted(advisers)))
                    if kind == "rename_adviser":
                        advisers[a][0] = draw(st.sampled_from(("Asha Jones", "Zed Moore", "Amy Lu", " Dev Roy ")))
                    else:
                        advisers[a][1:] = draw(st.sampled_from(PLACES))
                    every = draw(st.booleans())  # else only some of their lines say so: the others as yesterday
                    for r in rows:
                        if r["adviser_id"] == a and (every or draw(st.booleans())):
                            r.update(adviser_fields(a))
                elif kind == "split_team" and (i := pick(rows)) is not None:
                    # One line gives its adviser another team than their other lines: the later lines are bad.
                    rows[i].update(zip(("team", "office"), draw(st.sampled_from(
                        [p for p in PLACES if p != (rows[i]["team"], rows[i]["office"])]))))
                elif kind == "dup_same" and (i := pick(rows)) is not None and len(rows) < 30:
                    rows.insert(draw(st.integers(0, len(rows))), dict(rows[i]))  # the same line twice
                elif kind == "dup_diff" and (i := pick(rows)) is not None and len(rows) < 30:
                    other = dict(rows[i], benefit="UC", claim_end="", end_reason="")
                    other.update(adviser_fields(draw(st.sampled_from(sorted(advisers)))))
                    rows.insert(draw(st.integers(0, len(rows))), other)  # another line with the same claim_id
                elif kind == "bad" and (i := pick(rows)) is not None:
                    rows[i]["claim_start"] = draw(st.sampled_from(("2026-02-30", "", "2027-01-01")))
                elif kind == "revert" and len(history) >= 2:
                    # A row back to how the extract before yesterday's gave it (a correction reversed).
                    older = {r["claim_id"]: r for r in history[-2]}
                    if (i := pick(rows, lambda r: r["claim_id"] in older)) is not None:
                        rows[i] = dict(older[rows[i]["claim_id"]])
                elif kind == "benefit" and (i := pick(rows)) is not None:
                    rows[i]["benefit"] = draw(st.sampled_from(BENEFITS))
                elif kind == "start" and (i := pick(rows)) is not None:
                    rows[i]["claim_start"] = draw(st.sampled_from(STARTS))
            order = draw(st.sampled_from(("as before", "as before", "shuffled", "reversed")))
            if order == "shuffled":
                rows = draw(st.permutations(rows))
            elif order == "reversed":
                rows = rows[::-1]
        history.append(rows)
        out.append(Extract(
            as_at=as_at, rows=[dict(r) for r in rows], before=before,
            swap_header=draw(st.sampled_from((False,) * 7 + (True,))),
            eol=draw(st.sampled_from(("\r\n", "\r\n", "\n"))), bom=draw(st.sampled_from((False, False, True))),
            blank_at=draw(st.sampled_from((None, None, None, 0, len(rows) // 2))),
            partial=draw(st.sampled_from((True, True, False))), rejects=draw(st.booleans()),
        ))
    return out


def _write(path: Path, ex: Extract) -> Path:
    header = list(HEADER)
    if ex.swap_header:
        i, j = header.index("customer_name"), header.index("ethnicity")
        header[i], header[j] = header[j], header[i]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=ex.eol)
    w.writerow(header)
    for i, r in enumerate(ex.rows):
        if i == ex.blank_at:
            buf.write(ex.eol)
        w.writerow([r[h] for h in HEADER])
    path.write_bytes((("\ufeff" if ex.bom else "") + buf.getvalue()).encode("utf-8"))
    return path


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sequence=extracts())
def test_an_import_that_skips_unchanged_rows_leaves_the_database_the_full_import_leaves(
        tmp_path_factory, new_db, sequence):
    """Extracts imported one after another, into A by the full path and into B by the fast one, with the
    same reassignments and erasures between them: after every import the same result, the same rejects
    file and the same rows in every table."""
    path = tmp_path_factory.mktemp("days")
    a, b = open_database(new_db(), CLOCK), open_database(new_db(), CLOCK)
    try:
        _setup(a)
        _setup(b)
        history: list[set[str]] = []
        for k, ex in enumerate(sequence):
            for action in ex.before:
                done = (_reassign if action[0] == "reassign" else _erase)
                outcome = done(a, *action[1:])
                assert outcome == done(b, *action[1:])
                event(f"{action[0]}: {outcome[0]}")
                assert_same_state(a, b)
            file = _write(path / f"day{k}.csv", ex)
            said, _ = _both(a, b, file, as_at=ex.as_at, partial=ex.partial, rejects=ex.rejects)
            _events(k, ex, said, history)
            history.append(set(file.read_bytes().decode("utf-8-sig").splitlines()[1:]))
        assert_summaries_equal_a_recount(b)
    finally:
        a.dispose()
        b.dispose()
        _tables.pop(id(a), None)
        _tables.pop(id(b), None)


def _events(k: int, ex: Extract, said: tuple, history: list[set[str]]) -> None:
    """What the examples exercised (pytest --hypothesis-show-statistics)."""
    event(f"import: {said[0]}")

    if said[0] == "error":
        return
    result = said[1]
    if k and history:
        lines = [f"{','.join(csv_line(r))}" for r in ex.rows]
        event(f"later extract: {'some' if any(line in history[-1] for line in lines) else 'no'} lines as yesterday")
    for what, found in (("conflicts", result["assignment_conflicts"]), ("transfers", result["transfers"]),
                        ("claims updated", result["claims_updated"])):
        if found:
            event(what)
    for p in result["problems"]:
        for what in ("also appears on line", "belongs to one team", "not a real date"):
            if what in p:
                event(f"rejected: {what}")


def csv_line(r: dict[str, str]) -> list[str]:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow([r[h] for h in HEADER])
    return [buf.getvalue()]


# ---------------------------------------------------------------------------------------------
# The cases by name, as a user sees them


@pytest.fixture
def twin(new_db):
    """Database A (imported by the full path) and B (by the fast one)."""
    a, b = open_database(new_db(), CLOCK), open_database(new_db(), CLOCK)
    _setup(a)
    _setup(b)
    yield a, b
    for e in (a, b):
        e.dispose()
        _tables.pop(id(e), None)


DAY1, DAY2, DAY3 = FIRST_AS_AT, FIRST_AS_AT + dt.timedelta(days=1), FIRST_AS_AT + dt.timedelta(days=2)


def _customer(engine, customer_id: str):  # noqa: ANN001, ANN201
    with engine.connect() as conn:
        return conn.execute(text("SELECT name, nino FROM customer WHERE id = :c"), {"c": customer_id}).one()


def test_a_line_repeated_twice_as_yesterday_gave_it_is_still_rejected_naming_both_lines(twin, tmp_path):
    a, b = twin
    c1, c2 = row("C1", customer_name="Price, Kofi"), row("C2", benefit=" jsa ")
    _both(a, b, write_extract(tmp_path / "d1.csv", [c1, c2]), as_at=DAY1)
    # The same line twice, byte for byte yesterday's: both lines are bad, whether or not --partial.
    (said, *_), _ = _both(a, b, write_extract(tmp_path / "d2.csv", [c1, c2, c1]), as_at=DAY2)
    assert said == "rejected"
    (said, result), rejects = _both(a, b, write_extract(tmp_path / "d3.csv", [c1, c2, c1]), as_at=DAY2, partial=True)
    assert result["problems"] == ["line 2, claim_id: C1 also appears on line 4; a claim appears once in an extract",
                                  "line 4, claim_id: C1 also appears on line 2; a claim appears once in an extract"]
    assert (result["rows_rejected"], result["claims_updated"]) == (2, 0)
    assert rejects.count(b"also appears on line") == 2
    # Two different lines for one claim, one of them yesterday's: both rejected, the claim as it stood.
    ended = dict(c1, claim_end="2026-03-31", end_reason="found_work")
    (said, result), _ = _both(a, b, write_extract(tmp_path / "d4.csv", [ended, c2, c1]), as_at=DAY3, partial=True)
    assert result["rows_rejected"] == 2
    with b.connect() as conn:
        assert conn.execute(text("SELECT claim_end FROM claim WHERE id = 'C1'")).scalar_one() is None


@pytest.mark.parametrize("day2", ["latest moves earlier", "latest leaves", "earlier row changes"])
def test_the_customers_latest_line_decides_their_values_when_their_other_row_is_unchanged(twin, tmp_path, day2):
    a, b = twin
    old = row("C1", customer_id="P1", customer_name="Ann Old", nino="AB111111A")
    new = row("C2", customer_id="P1", customer_name="Ann New", nino="AB222222B")
    _both(a, b, write_extract(tmp_path / "d1.csv", [old, new]), as_at=DAY1)
    assert tuple(_customer(b, "P1")) == ("Ann New", "AB222222B")
    if day2 == "latest moves earlier":  # both lines as yesterday, in the other order: C1's is now the latest
        rows, expected = [new, old], ("Ann Old", "AB111111A")
    elif day2 == "latest leaves":  # C1's line as yesterday, C2's gone: C1's is the latest
        rows, expected = [old], ("Ann Old", "AB111111A")
    else:  # C1's line changes (the claim ends), C2's is yesterday's and still the latest
        rows, expected = [dict(old, claim_end="2026-03-31", end_reason="found_work"), new], ("Ann New", "AB222222B")
    _both(a, b, write_extract(tmp_path / "d2.csv", rows), as_at=DAY2)
    assert tuple(_customer(b, "P1")) == expected


def test_a_line_as_yesterday_after_its_adviser_moved_team_on_an_earlier_line_is_rejected(twin, tmp_path):
    a, b = twin
    c1, c2, c3 = row("C1"), row("C2"), row("C3", adviser_name="Asha Patel")
    _both(a, b, write_extract(tmp_path / "d1.csv", [c1, c2, c3]), as_at=DAY1)
    moved = dict(c1, team="Team B")
    (said, result), rejects = _both(a, b, write_extract(tmp_path / "d2.csv", [moved, c2, c3]), as_at=DAY2,
                                    partial=True)
    assert result["problems"] == [
        f"line {n}, team: adviser A1 is in team 'Team B' on line 2 and 'Team A' here; an adviser belongs to one team"
        for n in (3, 4)]
    assert rejects.count(b"an adviser belongs to one team") == 2
    # An adviser's new name on one line only: the name the staff list takes is read over every line.
    renamed = dict(c1, adviser_name="Asha Jones")
    _both(a, b, write_extract(tmp_path / "d3.csv", [c2, renamed, c3]), as_at=DAY3)
    with b.connect() as conn:
        assert conn.execute(text("SELECT name FROM staff WHERE id = 'A1'")).scalar_one() == "Asha Patel"


def test_lines_as_yesterday_after_a_local_reassignment_are_a_conflict_and_naming_the_holder_confirms(twin, tmp_path):
    a, b = twin
    rows = [row("C1", customer_name="Price, Kofi"), row("C2", benefit=" jsa "), row("C3", adviser_id="A2",
                                                                                   adviser_name="Ben Okafor")]
    _both(a, b, write_extract(tmp_path / "d1.csv", rows), as_at=DAY1)
    assert _reassign(a, "M1", "A1", "A2", DAY1) == _reassign(b, "M1", "A1", "A2", DAY1) == ("reassigned", {"A2": 2})
    # The next extract is yesterday's again: it still names A1, so two conflicts, and A2 keeps the claims.
    (said, result), _ = _both(a, b, write_extract(tmp_path / "d2.csv", rows), as_at=DAY2)
    assert (result["assignment_conflicts"], result["claims_updated"], result["transfers"]) == (2, 0, 0)
    with b.connect() as conn:
        assert dict(conn.execute(text("SELECT id, adviser_id FROM claim")).all()) == {"C1": "A2", "C2": "A2",
                                                                                      "C3": "A2"}
    # One that names A2 for C1 confirms that one; C2's line as before is reported again.
    rows[0] = dict(rows[0], adviser_id="A2", adviser_name="Ben Okafor")
    (said, result), _ = _both(a, b, write_extract(tmp_path / "d3.csv", rows), as_at=DAY3)
    assert result["assignment_conflicts"] == 1
    with b.connect() as conn:
        open_ = conn.execute(text("SELECT claim_id FROM assignment_conflict WHERE resolved_at IS NULL")).scalars()
        assert list(open_) == ["C2"]


def test_an_erased_customer_stays_erased_when_their_line_comes_again_as_before(twin, tmp_path):
    a, b = twin
    rows = [row("C1", customer_id="P1", customer_name="Price, Kofi"), row("C2", customer_id="P2")]
    _both(a, b, write_extract(tmp_path / "d1.csv", rows), as_at=DAY1)
    assert _erase(a, "P1") == _erase(b, "P1")
    assert_same_state(a, b)
    _both(a, b, write_extract(tmp_path / "d2.csv", rows), as_at=DAY2)
    assert tuple(_customer(b, "P1")) == (None, None)
    assert tuple(_customer(b, "P2")) == ("Customer C2", "AB123456C")
