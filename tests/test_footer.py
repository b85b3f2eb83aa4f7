"""The footer fits the terminal (issue 17): when a screen's keys do not fit on the line, the first ones (each
screen lists its most used first) are shown whole, then "F1/? all keys" and the command palette; when they
fit, every key and "Help". A resize fits it again."""

from __future__ import annotations

from textual.widgets._footer import FooterKey

from test_app_support import config_dir, demo, demo_db, demo_office, make_app, settle  # noqa: F401


def footer_keys(app) -> list[FooterKey]:  # noqa: ANN001
    return sorted(app.screen.query(FooterKey), key=lambda k: k.region.x)


def shown_whole(app) -> None:  # noqa: ANN001
    """Every key is inside the screen and clear of the next one: none cut to a character."""
    keys = footer_keys(app)
    for k, after in zip(keys, keys[1:]):
        assert k.region.right <= after.region.x + 1, (k.description, after.description)  # a shared edge cell
    assert keys[-1].region.right <= app.size.width


async def test_a_footer_too_long_for_80_columns_keeps_its_first_keys_and_f1_for_all(make_app, demo) -> None:
    app = make_app(as_staff=demo.first_manager)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        bindings = [b.description for _, b, _, _ in app.screen.active_bindings.values() if b.show]
        keys = footer_keys(app)
        described = [k.description for k in keys if not k.has_class("-command-palette")]
        assert described[-1] == "all keys" and keys[-1].has_class("-command-palette")
        assert described[:-1] == [d for d in bindings if d != "Help"][:len(described) - 1]  # a run from the start
        assert 2 <= len(described) - 1 < len(bindings) - 1
        shown_whole(app)
        # Wider, every key fits: nothing dropped, and Help by its name.
        await pilot.resize_terminal(160, 40)
        await settle(pilot)
        described = [k.description for k in footer_keys(app) if not k.has_class("-command-palette")]
        assert set(described) == set(bindings) and "Help" in described
        shown_whole(app)
        # And back.
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert [k.description for k in footer_keys(app)][-2] == "all keys"
        shown_whole(app)
        # F1 shows every key of the screen.
        await pilot.press("f1")
        await settle(pilot)
        assert type(app.screen).__name__ == "HelpScreen"
