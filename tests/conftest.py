"""Shared test fixtures: a frozen clock, real SQLite files in a temporary folder, extract writers."""

from __future__ import annotations

import datetime as dt
import itertools
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
def engine(store_url: str, clock: FixedClock):
    from caseload.store.db import open_database

    e = open_database(store_url, clock)
    yield e
    e.dispose()


# Two backends. A module marked `pytestmark = pytest.mark.both_backends` runs each test that uses a
# database (the `engine`, `store_url` or `new_db` fixtures) on SQLite and on PostgreSQL, except tests
# that name `db_path` (they are about the SQLite file). PostgreSQL is the cluster CASELOAD_TEST_PG
# names (scripts/test starts a throwaway one); without it its cases skip, or fail when
# CASELOAD_REQUIRE_PG=1 (CI). Each test gets fresh databases, dropped afterwards.

PG_ENV = "CASELOAD_TEST_PG"
BACKENDS = ("sqlite", "postgresql")
# Property tests run at most this many examples on PostgreSQL (each example is a fresh database).
PG_MAX_EXAMPLES = 5


def pytest_configure(config) -> None:  # noqa: ANN001
    config.addinivalue_line("markers", "both_backends: run the module's database tests on SQLite and PostgreSQL")


def pytest_generate_tests(metafunc) -> None:  # noqa: ANN001
    names = metafunc.fixturenames
    if metafunc.definition.get_closest_marker("both_backends") and "backend" in names and "db_path" not in names:
        metafunc.parametrize("backend", BACKENDS)


@pytest.fixture
def backend() -> str:
    return "sqlite"


class PgServer:
    """The test cluster: creates fresh databases (from a migrated template, or empty) and drops them."""

    def __init__(self, url: str):
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import NullPool

        from caseload.store.db import resolve_url

        self.url = make_url(resolve_url(url))
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self.prefix = f"caseload_t{os.getpid()}_"
        self.count = 0
        self.template: str | None = None

    def url_of(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, template: str = "template0") -> str:
        self.count += 1
        name = f"{self.prefix}{self.count}"
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        return name

    def fresh(self, clock: FixedClock, *, empty: bool = False) -> str:
        """A new database: empty, or at the current schema (copied from a template migrated once)."""
        if empty:
            return self.create()
        if self.template is None:
            from caseload.store.db import open_database

            name = self.create()
            open_database(self.url_of(name), clock).dispose()
            self.template = name
        return self.create(self.template)

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_server():
    url = os.environ.get(PG_ENV)
    if not url:
        msg = f"PostgreSQL unavailable: {PG_ENV} is not set (scripts/test starts a throwaway cluster)"
        if os.environ.get("CASELOAD_REQUIRE_PG") == "1":
            pytest.fail(f"{msg}, and CASELOAD_REQUIRE_PG=1 requires it")
        pytest.skip(msg)
    server = PgServer(url)
    yield server
    if server.template:
        server.drop(server.template)
    server.admin.dispose()


@pytest.fixture
def new_db(request, backend: str, tmp_path: Path, clock: FixedClock):
    """A factory of fresh databases on the test's backend: each call returns a new URL (a SQLite file
    in tmp_path, or a new PostgreSQL database at the current schema; `empty=True` for no schema)."""
    if backend == "sqlite":
        paths = (str(tmp_path / f"db{i}.sqlite3") for i in itertools.count())
        return lambda empty=False: next(paths)
    _fewer_examples(request)
    return request.getfixturevalue("pg_db")


@pytest.fixture
def pg_db(pg_server: PgServer, clock: FixedClock):
    """A factory of fresh PostgreSQL databases (whatever the test's backend), dropped afterwards."""
    names: list[str] = []

    def fresh(empty: bool = False) -> str:
        names.append(pg_server.fresh(clock, empty=empty))
        return pg_server.url_of(names[-1])

    yield fresh
    for name in names:
        pg_server.drop(name)


@pytest.fixture
def store_url(request, backend: str, new_db) -> str:
    """The test's database: the SQLite file at db_path, or a fresh PostgreSQL database."""
    return str(request.getfixturevalue("db_path")) if backend == "sqlite" else new_db()


def _fewer_examples(request) -> None:  # noqa: ANN001
    """A property test runs at most PG_MAX_EXAMPLES examples on PostgreSQL (restored afterwards)."""
    test = request.function
    current = getattr(test, "_hypothesis_internal_use_settings", None)
    if current is None or current.max_examples <= PG_MAX_EXAMPLES:
        return
    test._hypothesis_internal_use_settings = settings(current, max_examples=PG_MAX_EXAMPLES)
    request.addfinalizer(lambda: setattr(test, "_hypothesis_internal_use_settings", current))
