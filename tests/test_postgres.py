"""PostgreSQL as a store: the same extracts give byte-identical exports on SQLite and PostgreSQL, a version-1
database upgrades the same on both, writers queue, and times stay UTC on a server in another time zone."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import make_url

from caseload.cli import main
from caseload.clock import FixedClock
from caseload.store import db as dbmod
from caseload.store.access import ADMIN
from caseload.store.db import open_database, write
from caseload.store.errors import DatabaseBusy
from caseload.store.importer import import_claims
from extracts import row, write_extract
from fixtures.generator import OfficeShape, successive_extracts
from fixtures.generator import write_extract as write_rows

AS_ATS = (dt.date(2026, 3, 6), dt.date(2026, 4, 3))
CLOCK = FixedClock.on(dt.date(2026, 4, 6))
SHAPE = OfficeShape(offices=2, teams_per_office=(2, 2), advisers_per_team=(3, 3), open_per_adviser=(40, 60))
# (--by, --cohort, extra arguments): summary-backed roll-ups and scans (current holder, an earlier as-at
# date, other milestones, one benefit), personal characteristics with suppression.
EXPORTS = [
    ("none", "reporting-month", []),
    ("team", "calendar-month", []),
    ("office", "quarter", ["--milestones", "13,26,52,65"]),
    ("benefit", "year", ["--last", "3"]),
    ("team", "quarter", ["--attribution", "current"]),
    ("age_band", "calendar-month", ["--as-at", "2026-03-06"]),
    ("sex", "reporting-month", ["--benefit", "JSA"]),
    ("ethnicity", "quarter", ["--milestones", "8,39"]),
]


def _cli(*args: str) -> int:
    return main(list(args), clock=CLOCK)


def _exports(db: str, out: Path) -> list[tuple[bytes, dict]]:
    got = []
    for i, (by, cohort, extra) in enumerate(EXPORTS):
        path = out / f"{i}.csv"
        assert _cli("export", "offflow", "--by", by, "--cohort", cohort, *extra, "--db", db, "--output", str(path)) == 0
        meta = json.loads(Path(f"{path}.meta.json").read_text())
        meta.pop("generated_at")
        got.append((path.read_bytes(), meta))
    return got


def test_the_same_extracts_give_byte_identical_offflow_csvs(tmp_path, pg_db):
    extracts = successive_extracts(1500, seed=8, as_at_dates=AS_ATS, shape=SHAPE)
    sqlite_db, pg = str(tmp_path / "office.sqlite3"), pg_db()
    for db in (sqlite_db, pg):
        for as_at, rows in zip(AS_ATS, extracts):
            path = tmp_path / f"extract-{as_at}.csv"
            write_rows(path, rows)
            assert _cli("import", "claims", str(path), "--as-at", as_at.isoformat(), "--db", db) == 0
    (tmp_path / "sqlite").mkdir()
    (tmp_path / "pg").mkdir()
    on_sqlite, on_pg = _exports(sqlite_db, tmp_path / "sqlite"), _exports(pg, tmp_path / "pg")
    for (by, cohort, extra), (csv_a, meta_a), (csv_b, meta_b) in zip(EXPORTS, on_sqlite, on_pg):
        assert csv_a.count(b"\n") > 2, (by, cohort, extra)
        assert csv_a == csv_b, (by, cohort, extra)
        assert meta_a == meta_b, (by, cohort, extra)


def _rows(engine, tables) -> dict[str, list[tuple]]:  # noqa: ANN001
    meta = MetaData()
    meta.reflect(engine, only=tables)
    with engine.connect() as conn:
        return {t: sorted((tuple(r) for r in conn.execute(select(meta.tables[t]))), key=repr) for t in tables}


def test_a_version_1_database_upgrades_the_same_on_postgresql(tmp_path, pg_db, clock):
    """The committed version-1 file's rows, loaded into a version-1 PostgreSQL database, upgrade through every
    migration (ALTER TABLE, summaries counted from the claims) to the same rows as the SQLite file's upgrade."""
    v1 = tmp_path / "v1.sqlite3"
    shutil.copyfile(Path(__file__).parent / "data" / "schema-v1.sqlite3", v1)
    tables = ["office", "team", "staff", "customer", "import_batch", "claim", "assignment", "setting", "audit"]
    old = create_engine(f"sqlite:///{v1}")
    before = _rows(old, tables)
    old.dispose()
    pg = pg_db(empty=True)
    engine = dbmod.make_engine(pg)
    assert dbmod.migrate(engine, clock, target=1) == 1
    meta = MetaData()
    meta.reflect(engine, only=tables)
    with write(engine) as conn:
        for t in tables:
            if before[t]:
                conn.execute(meta.tables[t].insert(), [dict(zip(meta.tables[t].c.keys(), r)) for r in before[t]])
    engine.dispose()
    on_pg, on_sqlite = open_database(pg, clock), open_database(str(v1), clock)
    compared = tables + ["cohort_summary", "cohort_summary_team", "cohort_start", "summary_info", "schema_info"]
    assert sum(len(before[t]) for t in tables) > 0
    assert _rows(on_pg, compared) == _rows(on_sqlite, compared)
    on_pg.dispose()
    on_sqlite.dispose()


def test_writers_queue_and_a_long_wait_is_reported_in_plain_words(pg_db, clock, tmp_path, monkeypatch):
    engine = open_database(pg_db(), clock)
    extract = write_extract(tmp_path / "x.csv", [row("C1")])
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 300)
    with write(engine) as holder:
        holder.execute(text("INSERT INTO office (name) VALUES ('Held')"))
        with pytest.raises(DatabaseBusy, match="The database is busy: someone else is writing to it"):
            import_claims(engine, extract, as_at=dt.date(2026, 5, 1), actor=ADMIN, clock=clock)
        with engine.connect() as reader:  # readers never wait, and see only what is committed
            assert reader.execute(text("SELECT COUNT(*) FROM office")).scalar() == 0
    # A writer that arrives while another writes waits for it, then goes ahead.
    monkeypatch.setattr(dbmod, "BUSY_TIMEOUT_MS", 5000)
    order: list[str] = []
    started = threading.Event()

    def second() -> None:
        started.wait()
        with write(engine) as conn:
            order.append("second sees " + ", ".join(conn.execute(text("SELECT name FROM office ORDER BY id")).scalars()))

    t = threading.Thread(target=second)
    t.start()
    with write(engine) as conn:
        conn.execute(text("INSERT INTO office (name) VALUES ('First')"))
        started.set()
        t.join(0.3)
        order.append("first")
    t.join()
    assert order == ["first", "second sees Held, First"]
    engine.dispose()


def test_times_are_kept_in_utc_on_a_server_in_another_time_zone(pg_db, tmp_path, capsys):
    pg = pg_db()
    with open_database(pg, CLOCK).connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{make_url(pg).database}" SET timezone = \'Europe/London\''))
        conn.commit()
    summer = FixedClock.on(dt.date(2026, 7, 1))  # 09:00 UTC is 10:00 in London
    extract = write_extract(tmp_path / "x.csv", [row("C1")])
    for db in (pg, str(tmp_path / "db.sqlite3")):
        assert main(["import", "claims", str(extract), "--as-at", "2026-06-30", "--db", db], clock=summer) == 0
        assert main(["db", "imports", "--db", db], clock=summer) == 0
    out = capsys.readouterr().out
    assert out.count("2026-07-01 09:00  admin") == 2
