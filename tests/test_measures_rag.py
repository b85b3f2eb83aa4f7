"""Red-amber-green rules (DOMAIN section 7)."""

from datetime import date, timedelta

import pytest

from caseload.measures.rag import Rag, red_without_plan_update, review_due


def test_rag_codes_and_words() -> None:
    assert [(r.value, r.word) for r in Rag] == [("R", "Red"), ("A", "Amber"), ("G", "Green")]
    assert Rag("R") is Rag.RED
    assert f"{Rag.GREEN}" == "G"


def test_red_without_plan_update_62_vs_63_days() -> None:
    as_at = date(2011, 6, 1)
    assert red_without_plan_update(Rag.RED, as_at - timedelta(days=62), None, as_at) is False
    assert red_without_plan_update(Rag.RED, as_at - timedelta(days=63), None, as_at) is True


def test_red_plan_update_is_the_later_date() -> None:
    as_at = date(2011, 6, 1)
    old = date(2011, 1, 1)
    assert red_without_plan_update(Rag.RED, old, date(2011, 5, 1), as_at) is False
    assert red_without_plan_update(Rag.RED, date(2011, 5, 1), old, as_at) is False
    assert red_without_plan_update(Rag.RED, old, old, as_at) is True
    assert red_without_plan_update(Rag.RED, None, date(2011, 3, 1), as_at) is True
    assert red_without_plan_update(Rag.RED, None, None, as_at) is True


@pytest.mark.parametrize("rag", [Rag.AMBER, Rag.GREEN, None])
def test_only_red_is_flagged(rag: Rag | None) -> None:
    assert red_without_plan_update(rag, date(2010, 1, 1), None, date(2011, 6, 1)) is False


def test_review_due_never_rated() -> None:
    assert review_due(None, None, date(2011, 4, 4), date(2011, 4, 5)) is True


def test_review_due_next_review_date() -> None:
    start = date(2011, 4, 4)
    rated = date(2011, 4, 4)
    assert review_due(date(2011, 5, 2), rated, start, date(2011, 5, 1)) is False
    assert review_due(date(2011, 5, 2), rated, start, date(2011, 5, 2)) is True
    assert review_due(None, rated, start, date(2011, 5, 2)) is False


def test_review_due_when_a_milestone_passed_since_rating() -> None:
    start = date(2011, 4, 4)  # 13 weeks on 2011-07-04
    far = date(2012, 1, 1)
    assert review_due(far, date(2011, 4, 4), start, date(2011, 7, 3)) is False
    assert review_due(far, date(2011, 4, 4), start, date(2011, 7, 4)) is True
    # Rated on the milestone day itself: that is the milestone review.
    assert review_due(far, date(2011, 7, 4), start, date(2011, 7, 20)) is False
    assert review_due(far, date(2011, 7, 3), start, date(2011, 7, 20)) is True
