"""Destinations (end reasons) and the versioned OPtE rule sets (DOMAIN section 6)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

BENEFITS: tuple[str, ...] = ("JSA", "ESA", "UC", "IS", "IB")

END_REASONS: tuple[str, ...] = (
    "found_work",
    "increased_hours",
    "self_employed",
    "other_benefit",
    "education",
    "training",
    "programme_start",
    "abroad",
    "prison",
    "ceased_claiming",
    "defective_claim",
    "retired",
    "deceased",
    "sanction",
    "failed_to_sign",
    "not_known",
)


# How people say each end reason; the code stays in the CSV and the extract.
NAMES: Mapping[str, str] = MappingProxyType({
    "found_work": "found work",
    "increased_hours": "increased hours",
    "self_employed": "self-employed",
    "other_benefit": "moved to another benefit",
    "education": "education",
    "training": "training",
    "programme_start": "started a programme",
    "abroad": "went abroad",
    "prison": "prison",
    "ceased_claiming": "ceased claiming",
    "defective_claim": "defective claim",
    "retired": "retired",
    "deceased": "deceased",
    "sanction": "sanction or disallowance",
    "failed_to_sign": "failed to sign on",
    "not_known": "not known",
})


def destination_name(code: str | None) -> str:
    """The end reason in words ("failed to sign on" for failed_to_sign); an unknown code as written."""
    if not code:
        return ""
    return NAMES.get(code.strip().lower(), code.replace("_", " "))


class Category(StrEnum):
    EMPLOYMENT = "employment"
    OTHER_BENEFIT = "other benefit"
    EDUCATION_TRAINING = "education and training"
    OTHER = "other"
    OTHER_KNOWN = "other known"
    SANCTION = "sanction or disallowance"
    FAILED_TO_SIGN = "failed to sign"
    NOT_KNOWN = "not known"


_CATEGORY: Mapping[str, Category] = MappingProxyType(
    {
        "found_work": Category.EMPLOYMENT,
        "increased_hours": Category.EMPLOYMENT,
        "self_employed": Category.EMPLOYMENT,
        "other_benefit": Category.OTHER_BENEFIT,
        "education": Category.EDUCATION_TRAINING,
        "training": Category.EDUCATION_TRAINING,
        "programme_start": Category.OTHER,
        "abroad": Category.OTHER_KNOWN,
        "prison": Category.OTHER_KNOWN,
        "ceased_claiming": Category.OTHER_KNOWN,
        "defective_claim": Category.OTHER_KNOWN,
        "retired": Category.OTHER_KNOWN,
        "deceased": Category.OTHER_KNOWN,
        "sanction": Category.SANCTION,
        "failed_to_sign": Category.FAILED_TO_SIGN,
        "not_known": Category.NOT_KNOWN,
    }
)


def _normalise(code: str | None) -> str:
    """An end-reason code checked against the vocabulary; empty means not_known."""
    if code is None or not code.strip():
        return "not_known"
    if code not in _CATEGORY:
        raise ValueError(
            f"unknown end reason {code!r}; known codes are: {', '.join(END_REASONS)}"
        )
    return code


def category(code: str | None) -> Category:
    """The destination category of an end-reason code (None or empty is "not known")."""
    return _CATEGORY[_normalise(code)]


@dataclass(frozen=True)
class RuleSet:
    """A named, versioned set of OPtE exclusions; every export names the one it used."""

    name: str
    description: str
    excluded: frozenset[str]
    reclaim_days: int

    def counts_for_opte(self, code: str | None, reclaimed_within: int | None) -> bool:
        """Whether an ended claim counts as an off-flow potentially to employment.

        ``reclaimed_within`` is the days from this claim's end to the same
        customer's next claim start (None when there is none). A re-claim within
        ``reclaim_days`` means the customer never really left, so it is not an
        OPtE off-flow (it still counts in the plain off-flow rate).
        """
        if _normalise(code) in self.excluded:
            return False
        if reclaimed_within is not None and 0 <= reclaimed_within <= self.reclaim_days:
            return False
        return True


DEFAULT_RULE_SET = "opte-2010"

RULE_SETS: dict[str, RuleSet] = {
    "opte-2010": RuleSet(
        name="opte-2010",
        description=(
            "Off-flows potentially to employment: every off-flow except moves to "
            "another benefit, programme starts, retirement and death, and claims "
            "followed by a re-claim within 7 days"
        ),
        excluded=frozenset({"other_benefit", "programme_start", "retired", "deceased"}),
        reclaim_days=7,
    ),
}


def rule_set(name: str) -> RuleSet:
    """The rule set called ``name``; ValueError listing the known names otherwise."""
    try:
        return RULE_SETS[name]
    except KeyError:
        raise ValueError(
            f"unknown rule set {name!r}; known rule sets are: {', '.join(sorted(RULE_SETS))}"
        ) from None
