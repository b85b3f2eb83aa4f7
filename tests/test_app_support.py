"""What the app tests share: one demo office per session, copied per test, and a way to wait for workers.

Imported by test_app.py and test_app_snapshots.py (pytest also collects it: it has no tests).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from caseload.app import CaseloadApp, create_app
from caseload.demo import DemoOffice

DEMO_ROWS = 10_000  # the smallest office the generator builds
_built: dict[str, tuple[Path, DemoOffice]] = {}


def _build(root: Path) -> tuple[Path, DemoOffice]:
    from sqlalchemy import text

    from caseload.demo import build_demo, demo_dates
    from caseload.clock import FixedClock
    from caseload.store.db import open_database

    path = root / "demo.sqlite3"
    engine = open_database(str(path), FixedClock.on(demo_dates(1)[1]))
    office = build_demo(engine, seed=1, rows=DEMO_ROWS)
    with engine.connect() as conn:
        # Everything into the main file, so that copying it alone copies the whole office.
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        assert conn.execute(text("SELECT count(*) FROM claim")).scalar_one() == DEMO_ROWS
    engine.dispose()
    return path, office


@pytest.fixture(scope="session")
def demo_office(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoOffice]:
    # Cached at module level: both app test modules import this fixture, and it is built once.
    if "demo" not in _built:
        _built["demo"] = _build(tmp_path_factory.mktemp("demo-office"))
    return _built["demo"]


@pytest.fixture
def demo(demo_office: tuple[Path, DemoOffice]) -> DemoOffice:
    return demo_office[1]


@pytest.fixture
def demo_db(demo_office: tuple[Path, DemoOffice], tmp_path: Path) -> Path:
    """This test's own copy of the demo office (tests write to it and to their config)."""
    target = tmp_path / "caseload.sqlite3"
    shutil.copyfile(demo_office[0], target)
    return target


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return tmp_path / "config"


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The machine's settings must not reach the app under test.
    for name in ("NO_COLOR", "FORCE_COLOR", "CASELOAD_CONFIG_DIR", "CASELOAD_DB"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def make_app(demo_db: Path, config_dir: Path, demo: DemoOffice) -> Iterator[Callable[..., CaseloadApp]]:
    """Build apps on this test's database and config, with the demo's frozen clock and a fixed theme."""
    apps: list[CaseloadApp] = []

    def make(as_staff: str | None = None, clock=None, theme: str | None = "textual-dark",  # noqa: ANN001
             default_staff: str | None = None) -> CaseloadApp:
        app = create_app(str(demo_db), as_staff, clock or demo.clock, config_dir=config_dir, theme=theme,
                         default_staff=default_staff)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.engine.dispose()


async def settle(pilot) -> None:  # noqa: ANN001
    """Wait until no worker is running and every message they sent has been handled.

    A worker's result can start another worker (a choice in the picker loads the home screen),
    so this waits again until nothing is left, never by sleeping.
    """
    app = pilot.app
    for _ in range(50):
        await pilot.pause()
        if all(w.is_finished for w in app.workers):
            await pilot.pause()
            return
        await app.workers.wait_for_complete()
    raise AssertionError("the app's workers never finished")


async def open_screen(pilot, screen_type):  # noqa: ANN001, ANN201
    """Push a new screen of this type once the app has settled; return it once it has loaded."""
    await settle(pilot)
    pilot.app.push_screen(screen_type())
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, screen_type)
    return screen
