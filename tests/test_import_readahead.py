"""The second process that works out a large extract's fingerprints and adviser keys while the import loads the
claims' own and checks the lines (store/readahead.py). An import that takes its figures gives the outcome, the
database and the stored fingerprints that one working them out itself gives; it carries on alone when the
process's blocks and its own part ways or the process is gone; and a small file starts no process at all."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from caseload.store import importer, readahead
from caseload.store.access import ADMIN
from caseload.store.db import open_database
from caseload.store.errors import StoreError
from caseload.store.importer import ImportRejected, import_claims
from extracts import row, write_extract
from test_import_unchanged import (  # noqa: F401  (twin: databases A and B, here imported alone and ahead)
    CLOCK, _erase, _reassign, _setup, _tables, _write, assert_same_state, extracts, twin,
)

pytestmark = pytest.mark.both_backends

DAY1, DAY2 = dt.date(2026, 4, 1), dt.date(2026, 4, 2)


@pytest.fixture
def started(monkeypatch):
    """Every second process an import starts (they record the blocks the import took from them). The import
    waits for each block's figures: these files are read faster than the process starts."""
    monkeypatch.setattr(readahead.ReadAhead, "wait", True)
    processes: list[readahead.ReadAhead] = []

    class Recorded(readahead.ReadAhead):
        def __init__(self, *args, **kw):  # noqa: ANN002, ANN003
            super().__init__(*args, **kw)
            processes.append(self)

    monkeypatch.setattr(readahead, "ReadAhead", Recorded)
    return processes


def outcome(engine, path, *, as_at: dt.date, ahead: bool, monkeypatch, partial: bool = False,  # noqa: ANN001
            rejects: bool = False) -> tuple:
    """One import, with the second process for any file (ahead) or none: what it said, rows recognised unchanged
    included, and the rejects file's bytes."""
    monkeypatch.setattr(importer, "READAHEAD_BYTES", 0 if ahead else 1 << 62)
    out = path.with_name(f"{path.stem}.rejects-{'ahead' if ahead else 'alone'}.csv") if rejects or partial else None
    try:
        r = import_claims(engine, path, as_at=as_at, actor=ADMIN, clock=CLOCK, partial=partial, rejects=out)
        said = ("imported", {**dataclasses.asdict(r), "problems": [str(p) for p in r.problems]})
    except ImportRejected as exc:
        said = ("rejected", str(exc), exc.result.rows_unchanged)
    except StoreError as exc:
        said = ("error", str(exc))
    return said, (out.read_bytes() if out is not None and out.exists() else None)


def fingerprints(engine) -> list[tuple]:  # noqa: ANN001
    with engine.connect() as conn:
        return [(i, bytes(h) if h is not None else None)
                for i, h in conn.execute(text("SELECT id, extract_hash FROM claim ORDER BY id"))]


def same_both_ways(alone, ahead, path, *, as_at: dt.date, monkeypatch, **kw) -> tuple:  # noqa: ANN001
    said = outcome(alone, path, as_at=as_at, ahead=False, monkeypatch=monkeypatch, **kw)
    assert outcome(ahead, path, as_at=as_at, ahead=True, monkeypatch=monkeypatch, **kw) == said
    assert_same_state(alone, ahead)
    assert fingerprints(alone) == fingerprints(ahead)
    return said


def blocks_of(path) -> list[int]:  # noqa: ANN001
    """The offsets of a file's blocks, read straight through."""
    with open(path, "rb") as f:
        f.readline()
        return [at for _, _, at, _ in importer._blocks(f)]


ADVISERS = [("A1", "Asha Patel", "Team A", "Northgate"), ("A2", "Ben Okafor", "Team A", "Northgate"),
            ("A3", "Cara Singh", "Team B", "Northgate"), ("A4", "Dev Roy", "Team C", "Southside")]


def day_one(n: int) -> list[dict[str, str]]:
    """n claims of three advisers, then from line 250 on a fourth's (the import meets them first in a later block)."""
    return [row(f"C{i:04d}", customer_id=f"P{i:04d}", claim_start="2026-01-05",
                **dict(zip(("adviser_id", "adviser_name", "team", "office"), ADVISERS[3 if i >= 250 else i % 3])))
            for i in range(n)]


def test_a_day_two_extract_read_ahead_recognises_the_lines_working_it_out_alone_does(twin, tmp_path, monkeypatch,
                                                                                    started):
    alone, ahead = twin
    monkeypatch.setattr(importer, "BLOCK_BYTES", 1_000)  # a block of about eight lines
    rows = day_one(300)
    same_both_ways(alone, ahead, write_extract(tmp_path / "d1.csv", rows), as_at=DAY1, monkeypatch=monkeypatch)
    # Day two: two ended, one moved to another adviser of the team, and one new claim.
    rows[10].update(claim_end="2026-04-02", end_reason="found_work")
    rows[260].update(claim_end="2026-04-02", end_reason="sanction")
    rows[39].update(adviser_id="A2", adviser_name="Ben Okafor")
    rows.append(row("C9999", customer_id="P9999", claim_start="2026-04-02"))
    path = write_extract(tmp_path / "d2.csv", rows)
    said, _ = same_both_ways(alone, ahead, path, as_at=DAY2, monkeypatch=monkeypatch)
    assert said[0] == "imported"
    assert (said[1]["rows_unchanged"], said[1]["claims_updated"], said[1]["claims_added"]) == (297, 3, 1)
    assert said[1]["transfers"] == 1
    # The import took every block from the process, and checked the keys by number.
    assert len(blocks_of(path)) > 30
    assert [p.taken for p in started] == [blocks_of(tmp_path / "d1.csv"), blocks_of(path)]


def data_offset(path, i: int) -> int:  # noqa: ANN001
    """Where the claim on data row i (from 0) starts in the file."""
    return path.read_bytes().index(f"C{i:04d},".encode())


LONG_NAME = "Kofi Adebayo Mensah Owusu Boateng Asante Darko Ofori Appiah Nkrumah Amoah Sarpong Tetteh"


def test_a_quoted_value_over_a_block_end_moves_the_import_s_blocks_and_the_outcome_stays(twin, tmp_path,
                                                                                        monkeypatch, started):
    alone, ahead = twin
    monkeypatch.setattr(importer, "BLOCK_BYTES", 1_000)
    rows = day_one(200)
    same_both_ways(alone, ahead, write_extract(tmp_path / "d1.csv", rows), as_at=DAY1, monkeypatch=monkeypatch)
    # A name over two lines, its line break where a block ends: the import reads the record on into the next
    # block, so the block after it starts elsewhere than the process's.
    path = tmp_path / "d2.csv"
    for i in range(20, 200):
        changed = [dict(r) for r in rows]
        changed[i]["customer_name"] = f"{LONG_NAME}\nPrice"
        write_extract(path, changed)
        with open(path, "rb") as f:
            f.readline()
            if any(lines[-1].endswith(LONG_NAME.encode()) for lines, _, _, _ in importer._blocks(f)):
                break
    else:
        pytest.fail("no line break where a block ends")
    said, _ = same_both_ways(alone, ahead, path, as_at=DAY2, monkeypatch=monkeypatch)
    assert said[0] == "imported" and said[1]["rows_unchanged"] == 199 and said[1]["claims_updated"] == 0
    assert i < 100
    straight = blocks_of(path)
    record = next(at for at in straight if at > data_offset(path, i))
    taken = started[-1].taken
    # Taken up to the record's block (whose quote sends it a line at a time), and not the block the process read
    # after it: the import's next block starts a line later.
    assert [at for at in taken if at < record] == [at for at in straight if at < record]
    assert record not in taken


def test_told_where_the_import_s_next_block_starts_the_process_goes_on_from_there(tmp_path, monkeypatch):
    """The import worked blocks out itself (the process was behind, or a quoted record moved its blocks): told
    where its next block starts, the process goes on from there, in the import's blocks."""
    path = write_extract(tmp_path / "x.csv", day_one(300))
    header_raw = path.read_bytes().split(b"\n", 1)[0]
    header = header_raw.decode().split(",")
    salt = readahead.salt_of(header_raw)
    monkeypatch.setattr(importer, "BLOCK_BYTES", 1_000)
    straight = blocks_of(path)
    start = straight[10] + 40
    with open(path, "rb") as f:
        start = f.seek(start) + len(f.readline())  # a line's start, off the blocks read straight through
        ours = []
        while block := readahead.read_block(f, 1_000):
            ours.append((f.tell() - len(block), readahead.lines_of(block), f.tell()))
    ahead = readahead.ReadAhead(str(path), len(header_raw) + 1, 1_000, header, salt, with_keys=True)
    ahead.wait = True
    try:
        ahead._tell(start)  # before it reads its first block
        for at, lines, end in ours:
            got = ahead.take(at, len(lines), end)
            assert got is not None, at
            assert list(got[0]) == readahead.fingerprinter(salt)(lines)
            keys = readahead.keys_of(header)(lines)
            assert [ahead.keys[k] for k in got[1]] == keys
        assert ahead.taken == [at for at, _, _ in ours] and start not in straight
    finally:
        ahead.close()


def test_an_import_whose_second_process_is_gone_works_every_figure_out_itself(twin, tmp_path, monkeypatch,
                                                                             started):
    alone, ahead = twin
    monkeypatch.setattr(importer, "BLOCK_BYTES", 1_000)
    rows = day_one(200)
    same_both_ways(alone, ahead, write_extract(tmp_path / "d1.csv", rows), as_at=DAY1, monkeypatch=monkeypatch)
    rows[5].update(claim_end="2026-04-02", end_reason="found_work")
    path = write_extract(tmp_path / "d2.csv", rows)
    real_init = readahead.ReadAhead.__init__

    def killed(self, *args, **kw):  # noqa: ANN001, ANN002, ANN003
        real_init(self, *args, **kw)
        self._proc.kill()

    monkeypatch.setattr(readahead.ReadAhead, "__init__", killed)
    said, _ = same_both_ways(alone, ahead, path, as_at=DAY2, monkeypatch=monkeypatch)
    assert said[0] == "imported" and said[1]["rows_unchanged"] == 199 and said[1]["claims_updated"] == 1
    assert started[-1].taken == []


def test_a_small_extract_starts_no_second_process(engine, tmp_path, started):
    r = import_claims(engine, write_extract(tmp_path / "d1.csv", day_one(50)), as_at=DAY1, actor=ADMIN, clock=CLOCK)
    assert r.claims_added == 50
    assert started == []


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(sequence=extracts(), block=st.sampled_from((64, 300, 2_000)))
def test_extracts_read_ahead_leave_the_database_and_fingerprints_working_alone_leaves(
        tmp_path_factory, new_db, monkeypatch, sequence, block):
    """The import tests' sequences of extracts (quoted values, line breaks in a value, a byte order mark, lone
    carriage returns, blank lines, repeated and moved lines, reassignments), in small blocks."""
    path = tmp_path_factory.mktemp("days")
    alone, ahead = open_database(new_db(), CLOCK), open_database(new_db(), CLOCK)
    monkeypatch.setattr(importer, "BLOCK_BYTES", block)
    try:
        _setup(alone)
        _setup(ahead)
        for k, ex in enumerate(sequence):
            for action in ex.before:
                done = _reassign if action[0] == "reassign" else _erase
                assert done(alone, *action[1:]) == done(ahead, *action[1:])
            said, _ = same_both_ways(alone, ahead, _write(path / f"day{k}.csv", ex), as_at=ex.as_at,
                                     monkeypatch=monkeypatch, partial=ex.partial, rejects=ex.rejects)
            event(f"import: {said[0]}")
    finally:
        for e in (alone, ahead):
            e.dispose()
            _tables.pop(id(e), None)
