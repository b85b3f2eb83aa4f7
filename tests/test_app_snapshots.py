"""Snapshots of the frame and the home screen on the demo office: frozen clock, fixed theme, fixed sizes.

Layout only; behaviour is asserted in test_app.py. Update with --snapshot-update and read the SVGs.
"""

from __future__ import annotations

import pytest

from test_app_support import config_dir, demo, demo_db, demo_office, make_app, settle  # noqa: F401


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_home_as_team_manager(snap_compare, make_app, demo, size) -> None:
    assert snap_compare(make_app(as_staff=demo.first_manager), terminal_size=size, run_before=settle)


def test_home_as_team_leader(snap_compare, make_app, demo) -> None:
    assert snap_compare(make_app(as_staff=demo.leader), terminal_size=(120, 40), run_before=settle)


def test_home_as_adviser(snap_compare, make_app) -> None:
    assert snap_compare(make_app(as_staff="A0001"), terminal_size=(80, 24), run_before=settle)


def test_home_high_contrast(snap_compare, make_app, demo) -> None:
    app = make_app(as_staff=demo.first_manager, theme="caseload-high-contrast")
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


def test_identity_picker(snap_compare, make_app) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=settle)


def test_adviser_claims(snap_compare, make_app, demo) -> None:
    async def open_first_adviser(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("enter")  # the cursor starts on the first adviser
        await settle(pilot)

    app = make_app(as_staff=demo.first_manager)
    assert snap_compare(app, terminal_size=(80, 24), run_before=open_first_adviser)


def test_help(snap_compare, make_app, demo) -> None:
    async def open_help(pilot) -> None:  # noqa: ANN001
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(make_app(as_staff=demo.first_manager), terminal_size=(80, 24), run_before=open_help)
