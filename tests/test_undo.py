"""One-key changes on the customer record: the RAG letters in either case, `u` to undo an action marked
done or a rating for a few seconds, the cursor on an action just added, and the sentence for `d` when
no action is highlighted (issue 17). Pilot on the demo office; expected values from its database."""

from __future__ import annotations

from caseload.screens import base
from caseload.screens.customer import CustomerScreen
from caseload.screens.dialogs import ActionDialog, RagDialog
from test_app_support import config_dir, demo, demo_db, demo_office, make_app, settle  # noqa: F401
from test_caseload_screen import choose, keys_for, query_db, rich_adviser, store_page
from test_customer_screen import message, open_record, timeline


def an_advisers_customer(demo, demo_db) -> tuple[str, str]:  # noqa: ANN001
    """An adviser with a full caseload, and the fourth customer on it."""
    adviser = rich_adviser(demo_db)
    return adviser, store_page(demo_db, demo.clock, adviser, adviser_id=adviser).rows[3].claim_id


def newest_action(db: str, claim: str) -> int:
    (aid,), = query_db(db, "SELECT id FROM action WHERE claim_id = :c ORDER BY id DESC LIMIT 1", c=claim)
    return aid

SIZE = (120, 30)


def notices(app) -> list[str]:  # noqa: ANN001
    return [str(n.message) for n in app._notifications]


def ratings(db, claim: str) -> list[tuple[str, str]]:  # noqa: ANN001
    return [tuple(r) for r in query_db(db, "SELECT rating, reason FROM rag_rating WHERE claim_id = :c ORDER BY id",
                                       c=claim)]


async def test_a_capital_letter_rates_and_u_takes_the_rating_back(make_app, demo, demo_db) -> None:
    adviser = rich_adviser(demo_db)
    row = next(r for r in store_page(demo_db, demo.clock, adviser, adviser_id=adviser).rows if r.rag != "A")
    before = ratings(demo_db, row.claim_id)
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_record(pilot, row.claim_id)
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, RagDialog)
        await pilot.press("A", "tab", *keys_for("Looking after a parent"), "enter")  # shift+a: Amber
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert ratings(demo_db, row.claim_id) == [*before, ("A", "Looking after a parent")]
        assert "RAG rating saved. Press u within 10 seconds to undo." in notices(app)
        await pilot.press("u")
        await settle(pilot)
        assert ratings(demo_db, row.claim_id) == before
        word = {"R": "Red", "G": "Green"}.get(row.rag or "", "")
        assert (f"Undone: the rating is {word} again." if row.rag else "Undone: the claim is not rated again.") \
            in notices(app)
        # Once is enough: a second u has nothing to take back.
        await pilot.press("u")
        await settle(pilot)
        assert ratings(demo_db, row.claim_id) == before
        assert notices(app)[-1].startswith("Nothing to undo")


async def test_t_puts_the_cursor_on_the_new_action_d_marks_it_done_u_reopens(make_app, demo, demo_db) -> None:
    adviser, claim = an_advisers_customer(demo, demo_db)
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_record(pilot, claim)
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(app.screen, ActionDialog)
        await pilot.press(*keys_for("Book CV"), "enter")
        await settle(pilot)
        aid = newest_action(demo_db, claim)
        assert timeline(app).cursor_key == f"action:{aid}"
        await pilot.press("d")  # no moving: the new action is the one highlighted
        await settle(pilot)
        status = "SELECT status, done_on, done_by FROM action WHERE id = :i"
        assert tuple(query_db(demo_db, status, i=aid)[0]) == ("done", demo.clock.today().isoformat(), adviser)
        assert "Done: Book CV" in message(app)
        assert any(n.endswith("Press u within 10 seconds to undo.") for n in notices(app))
        await pilot.press("u")
        await settle(pilot)
        assert tuple(query_db(demo_db, status, i=aid)[0]) == ("open", None, None)
        assert "Undone: Book CV is open again." in notices(app)
        assert timeline(app).cursor_key == f"action:{aid}"


async def test_u_after_the_time_has_passed_changes_nothing(make_app, demo, demo_db, monkeypatch) -> None:
    adviser, claim = an_advisers_customer(demo, demo_db)
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_record(pilot, claim)
        await pilot.press("t", *keys_for("Call employer"), "enter")
        await settle(pilot)
        aid = newest_action(demo_db, claim)
        monkeypatch.setattr(base, "UNDO_SECONDS", -1.0)  # the offer has run out as soon as it is made
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert query_db(demo_db, "SELECT status FROM action WHERE id = :i", i=aid)[0][0] == "done"
        assert notices(app)[-1].startswith("Nothing to undo")


async def test_d_without_an_action_highlighted_says_what_to_do(make_app, demo, demo_db) -> None:
    adviser = rich_adviser(demo_db)
    claim = query_db(demo_db, "SELECT r.claim_id FROM rag_rating r JOIN claim c ON c.id = r.claim_id "
                              "WHERE c.adviser_id = :a AND c.end_day IS NULL ORDER BY r.claim_id LIMIT 1",
                     a=adviser)[0][0]
    app = make_app(as_staff=adviser)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await open_record(pilot, claim)
        rag_row = next(k for k in timeline(app).row_keys if k.startswith("rag:"))
        await choose(pilot, timeline(app), rag_row)
        await pilot.press("d")
        await settle(pilot)
        assert message(app) == "⚠ Highlight an action in the timeline first, then press d to mark it done."
