"""Shared test fixtures: a frozen clock, real SQLite files in a temporary folder, extract writers."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from hypothesis import settings

from caseload.clock import FixedClock

# HYPOTHESIS_PROFILE=ci (set by scripts/test under CI): derandomised, no deadline, bounded examples.
settings.register_profile("ci", deadline=None, max_examples=200, derandomize=True)
settings.register_profile("dev", deadline=None, max_examples=100)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

AS_AT = dt.date(2026, 5, 1)
TODAY = dt.date(2026, 5, 11)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock.on(TODAY)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "caseload.sqlite3"


@pytest.fixture
def engine(db_path: Path, clock: FixedClock):
    from caseload.store.db import open_database

    e = open_database(str(db_path), clock)
    yield e
    e.dispose()
