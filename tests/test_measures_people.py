"""Age bands and NI number masking (DOMAIN sections 10 and 11)."""

from datetime import date

import pytest

from caseload.measures.people import AGE_BANDS, NOT_RECORDED, UNDER_16, age_band, age_on, mask_nino


def test_constants() -> None:
    assert AGE_BANDS == ("16-17", "18-24", "25-49", "50+")
    assert NOT_RECORDED == "not recorded"
    assert UNDER_16 == "under 16"


def test_age_on_birthday_and_day_before() -> None:
    dob = date(1990, 6, 15)
    assert age_on(dob, date(2008, 6, 14)) == 17
    assert age_on(dob, date(2008, 6, 15)) == 18
    assert age_on(dob, dob) == 0


def test_age_on_feb_29_birthday() -> None:
    dob = date(1992, 2, 29)
    # Non-leap year: a year older on 1 March, not on 28 February.
    assert age_on(dob, date(2010, 2, 28)) == 17
    assert age_on(dob, date(2010, 3, 1)) == 18
    # Leap year: on 29 February itself.
    assert age_on(dob, date(2012, 2, 28)) == 19
    assert age_on(dob, date(2012, 2, 29)) == 20


def test_age_on_before_birth_is_an_error() -> None:
    with pytest.raises(ValueError, match="before the date of birth"):
        age_on(date(2000, 1, 2), date(2000, 1, 1))


@pytest.mark.parametrize(
    ("dob", "on", "band"),
    [
        (None, date(2011, 4, 4), "not recorded"),
        (date(1995, 4, 5), date(2011, 4, 4), "under 16"),
        (date(1995, 4, 4), date(2011, 4, 4), "16-17"),  # 16th birthday on the start day
        (date(1993, 4, 5), date(2011, 4, 4), "16-17"),
        (date(1993, 4, 4), date(2011, 4, 4), "18-24"),  # 18th birthday on the start day
        (date(1986, 4, 5), date(2011, 4, 4), "18-24"),
        (date(1986, 4, 4), date(2011, 4, 4), "25-49"),
        (date(1961, 4, 5), date(2011, 4, 4), "25-49"),
        (date(1961, 4, 4), date(2011, 4, 4), "50+"),
        (date(1940, 1, 1), date(2011, 4, 4), "50+"),
        (date(2012, 1, 1), date(2011, 4, 4), "under 16"),  # born after the claim: bad data
    ],
)
def test_age_band(dob: date | None, on: date, band: str) -> None:
    assert age_band(dob, on) == band


def test_age_band_feb_29_birthdays() -> None:
    # 16th birthday falls on a leap-year claim start of 29 February.
    assert age_band(date(1996, 2, 29), date(2012, 2, 29)) == "16-17"
    assert age_band(date(1996, 2, 29), date(2012, 2, 28)) == "under 16"
    # 18th birthday in a non-leap year: reached on 1 March.
    assert age_band(date(1992, 2, 29), date(2010, 2, 28)) == "16-17"
    assert age_band(date(1992, 2, 29), date(2010, 3, 1)) == "18-24"


def test_age_band_claim_starting_on_29_february() -> None:
    start = date(2012, 2, 29)
    assert age_band(date(1994, 2, 28), start) == "18-24"
    assert age_band(date(1994, 3, 1), start) == "16-17"


@pytest.mark.parametrize(
    ("nino", "masked"),
    [
        ("AB123456C", "******56C"),
        ("AB 12 34 56 C", "******56C"),
        (None, ""),
        ("", ""),
        ("ABC", "***"),
        ("AB", "**"),
        ("ABCD", "*BCD"),
    ],
)
def test_mask_nino(nino: str | None, masked: str) -> None:
    assert mask_nino(nino) == masked
