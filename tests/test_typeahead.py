"""Keys typed ahead go where the person meant: keys straight after `/`, `tab` or a key that opens a form
reach the field that opens, never the screen's one-letter bindings (issue 17).

Pilot's press() waits for the app to be idle after every key, which hides the problem; `burst` hands
every key to the app at once, as the terminal driver does for a fast typist or a paste.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from textual import events
from textual.widgets import Input, TextArea

from caseload.screens.conference import ConferenceScreen
from test_app_support import config_dir, demo, demo_db, demo_office, make_app, settle  # noqa: F401
from test_caseload_screen import caseload_table, keys, rich_adviser, store_page
from test_conference_screen import conference_started, detail, message, pick, type_into

SIZE = (120, 30)


def key_event(key: str) -> events.Key:
    """The Key event the terminal driver makes for a key name or a typed character (as Pilot does)."""
    from textual.keys import _character_to_key, _get_unicode_name_from_key

    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    try:
        char = unicodedata.lookup(_get_unicode_name_from_key(key))
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


def burst(app, *keys: str) -> None:  # noqa: ANN001
    """Every key into the app at once, from the driver, with no pause between them."""
    for key in keys:
        event = key_event(key)
        event.set_sender(app)
        app._driver.send_message(event)


def typed(text: str) -> list[str]:
    return ["space" if ch == " " else ch for ch in text]


async def test_slash_then_a_flag_word_in_one_burst_fills_the_filter(make_app, demo, demo_db) -> None:
    adviser = rich_adviser(demo_db)
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        burst(app, *"/red!")
        await settle(pilot)
        box = app.screen.query_one("#caseload-filter", Input)
        assert box.value == "red!" and app.focused is box
        # r did not switch on the Red quick filter: the rows are what the filter box finds.
        found = store_page(demo_db, demo.clock, adviser, adviser_id=adviser, text="red!")
        assert caseload_table(app).row_keys == keys(found)
        # The flag as shown finds what the word finds, the flag among them.
        assert keys(found) == keys(store_page(demo_db, demo.clock, adviser, adviser_id=adviser, text="red"))
        red_no_plan = store_page(demo_db, demo.clock, adviser, adviser_id=adviser, quick="red no plan")
        assert red_no_plan.rows and set(keys(red_no_plan)) <= set(keys(found))


async def test_pilot_press_without_pauses_fills_the_filter(make_app, demo, demo_db) -> None:
    app = make_app(as_staff=rich_adviser(demo_db))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(*"/red!")
        await settle(pilot)
        assert app.screen.query_one("#caseload-filter", Input).value == "red!"


async def test_tab_then_typing_in_the_conference_keeps_the_text_and_runs_no_letter_key(
        make_app, demo, demo_db) -> None:
    today = demo.clock.today()
    async with conference_started(make_app, demo_db, today) as (app, pilot, cid):
        item = detail(demo_db, demo.clock, cid).items[0]
        assert app.focused is app.screen.query_one("#agenda")
        # "a" adds a customer and "s" skips when the list has the keys; here they are letters.
        done = "Applied for six jobs; sent a CV"
        burst(app, "tab", *typed(done))
        await settle(pilot)
        assert isinstance(app.screen, ConferenceScreen)
        area = app.screen.query_one("#f-done", TextArea)
        assert app.focused is area and area.text == done
        # The last character typed before ctrl+s is saved with the rest.
        await type_into(pilot, "#f-expected", (today + dt.timedelta(days=45)).isoformat())
        await pick(pilot, "#f-rag", "Confirm:")
        plan = "Mock interview then apply"
        app.screen.query_one("#f-plan", TextArea).focus()
        await settle(pilot)
        burst(app, *typed(plan), "ctrl+s")
        await settle(pilot)
        assert message(app) == f"Saved: {item.context.name}."
        after = detail(demo_db, demo.clock, cid).items[0]
        assert (after.done_so_far, after.plan) == (done, plan)
