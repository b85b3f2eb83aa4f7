"""The user's own keys: a "keymap" in config.json, by the names F1 shows, applied when the app starts."""

from __future__ import annotations

import json

from textual.widgets import Input

from caseload import config as config_mod
from caseload.screens.caseload import CaseloadScreen
from caseload.screens.help import HelpScreen, binding_ids
from test_app_support import config_dir, demo, demo_db, demo_office, make_app, settle  # noqa: F401

SIZE = (120, 40)


def _write(config_dir, data) -> None:  # noqa: ANN001
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / config_mod.FILE_NAME).write_text(json.dumps(data), encoding="utf-8")


def test_every_binding_has_a_name_a_keymap_can_use() -> None:
    ids = binding_ids()
    assert {"caseload_filter", "help_close"} <= ids
    assert len(ids) > 60


async def test_a_keymap_moves_a_key_and_help_shows_the_new_key_and_its_name(make_app, config_dir) -> None:
    _write(config_dir, {"keymap": {"caseload_filter": "ctrl+f"}})
    app = make_app(as_staff="A0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, CaseloadScreen)
        box = app.screen.query_one("#caseload-filter", Input)
        await pilot.press("slash")  # the standard key no longer filters
        await settle(pilot)
        assert not isinstance(app.focused, Input)
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert app.focused is box
        app.set_focus(None)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        rows = {ids: (keys, what) for keys, what, ids in app.screen.keys}
        assert rows["caseload_filter"][0] == "^f"
        assert rows["caseload_filter"][1] == "Filter"
        shown = str(app.screen.query_one("#help-keymap").render())
        assert str(config_dir / config_mod.FILE_NAME) in shown and "keymap" in shown


async def test_an_unknown_name_is_said_and_the_rest_applies(make_app, config_dir) -> None:
    _write(config_dir, {"keymap": {"no_such_key": "ctrl+y", "caseload_filter": "ctrl+f"}})
    app = make_app(as_staff="A0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        said = [n.message for n in app._notifications]  # noqa: SLF001
        assert any("no_such_key" in m and "F1 shows each key's name" in m for m in said)
        await pilot.press("ctrl+f")
        await settle(pilot)
        assert isinstance(app.focused, Input)


async def test_a_malformed_keymap_is_said_and_kept_when_settings_are_saved(make_app, config_dir) -> None:
    _write(config_dir, {"theme": "textual-dark", "keymap": ["ctrl+f"]})
    loaded = config_mod.load(config_dir / config_mod.FILE_NAME)
    assert loaded.config.keymap == {} and "not an object of binding names to keys" in (loaded.problem or "")
    app = make_app(as_staff="A0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        said = [n.message for n in app._notifications]  # noqa: SLF001
        assert any("the standard keys are in use" in m for m in said)
        app.theme = "caseload-high-contrast"  # a change of setting rewrites the file
        await settle(pilot)
    saved = json.loads((config_dir / config_mod.FILE_NAME).read_text(encoding="utf-8"))
    assert saved["theme"] == "caseload-high-contrast"
    assert saved["keymap"] == ["ctrl+f"]  # the person's own text, not lost


def test_a_keymap_survives_every_save(tmp_path) -> None:
    path = tmp_path / config_mod.FILE_NAME
    config = config_mod.Config(keymap={"caseload_filter": "ctrl+f"}).with_identity("sqlite:///x", "A1").with_theme("nord")
    config_mod.save(path, config)
    assert config_mod.load(path).config.keymap == {"caseload_filter": "ctrl+f"}
