"""Personal characteristics derived for equality breakdowns and screens (DOMAIN 10, 11)."""

from __future__ import annotations

from datetime import date

AGE_BANDS: tuple[str, ...] = ("16-17", "18-24", "25-49", "50+")
NOT_RECORDED = "not recorded"
UNDER_16 = "under 16"


def age_on(dob: date, on: date) -> int:
    """Age in whole years on the date ``on``, by exact birthday.

    A person born on 29 February becomes a year older on 1 March in a non-leap
    year (the UK legal convention); in a leap year, on 29 February. Comparing
    (month, day) tuples gives exactly that. Raises ValueError when ``on`` is
    before the date of birth.
    """
    if on < dob:
        raise ValueError(f"{on.isoformat()} is before the date of birth {dob.isoformat()}")
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def age_band(dob: date | None, on: date) -> str:
    """The equality age band on ``on`` (normally the claim start date).

    A missing date of birth is ``"not recorded"``. Someone under 16 (a data
    error for a working-age benefit, or a date of birth after ``on``) is put in
    the visible band ``"under 16"`` rather than being folded into 16-17, so the
    bad record shows up in breakdowns instead of hiding.
    """
    if dob is None:
        return NOT_RECORDED
    if on < dob:
        return UNDER_16
    age = age_on(dob, on)
    if age < 16:
        return UNDER_16
    if age < 18:
        return AGE_BANDS[0]
    if age < 25:
        return AGE_BANDS[1]
    if age < 50:
        return AGE_BANDS[2]
    return AGE_BANDS[3]


def mask_nino(nino: str | None) -> str:
    """An NI number for screens: every character but the last 3 replaced by ``*``.

    Spaces are removed first (``"AB 12 34 56 C"`` -> ``"******56C"``). A value
    of 3 characters or fewer is not a real NI number and is masked entirely,
    since showing its "last 3" would show all of it.
    """
    if not nino:
        return ""
    compact = "".join(nino.split())
    if len(compact) <= 3:
        return "*" * len(compact)
    return "*" * (len(compact) - 3) + compact[-3:]
