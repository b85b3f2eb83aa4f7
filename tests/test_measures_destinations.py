"""Destinations and the OPtE rule set (DOMAIN section 6)."""

import pytest

from caseload.measures.destinations import (
    BENEFITS,
    DEFAULT_RULE_SET,
    END_REASONS,
    RULE_SETS,
    Category,
    RuleSet,
    category,
    rule_set,
)


def test_end_reasons_are_the_section_6_codes_in_order() -> None:
    assert END_REASONS == (
        "found_work", "increased_hours", "self_employed", "other_benefit", "education",
        "training", "programme_start", "abroad", "prison", "ceased_claiming",
        "defective_claim", "retired", "deceased", "sanction", "failed_to_sign", "not_known",
    )
    assert len(END_REASONS) == 16


def test_benefits() -> None:
    assert BENEFITS == ("JSA", "ESA", "UC", "IS", "IB")


@pytest.mark.parametrize(
    ("code", "shown"),
    [
        ("found_work", "employment"),
        ("increased_hours", "employment"),
        ("self_employed", "employment"),
        ("other_benefit", "other benefit"),
        ("education", "education and training"),
        ("training", "education and training"),
        ("programme_start", "other"),
        ("abroad", "other known"),
        ("prison", "other known"),
        ("ceased_claiming", "other known"),
        ("defective_claim", "other known"),
        ("retired", "other known"),
        ("deceased", "other known"),
        ("sanction", "sanction or disallowance"),
        ("failed_to_sign", "failed to sign"),
        ("not_known", "not known"),
        (None, "not known"),
        ("", "not known"),
    ],
)
def test_category(code: str | None, shown: str) -> None:
    assert category(code) == shown
    assert str(category(code)) == shown


def test_failed_to_sign_is_not_not_known() -> None:
    assert category("failed_to_sign") is Category.FAILED_TO_SIGN
    assert category("failed_to_sign") is not Category.NOT_KNOWN


def test_unknown_code_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown end reason 'got_job'"):
        category("got_job")


def test_default_rule_set() -> None:
    rs = rule_set(DEFAULT_RULE_SET)
    assert DEFAULT_RULE_SET == "opte-2010"
    assert list(RULE_SETS) == ["opte-2010"]
    assert rs.name == "opte-2010"
    assert rs.excluded == frozenset({"other_benefit", "programme_start", "retired", "deceased"})
    assert rs.reclaim_days == 7


@pytest.mark.parametrize(
    ("code", "counts"),
    [
        ("found_work", True), ("increased_hours", True), ("self_employed", True),
        ("other_benefit", False), ("education", True), ("training", True),
        ("programme_start", False), ("abroad", True), ("prison", True),
        ("ceased_claiming", True), ("defective_claim", True), ("retired", False),
        ("deceased", False), ("sanction", True), ("failed_to_sign", True),
        ("not_known", True), (None, True), ("", True),
    ],
)
def test_opte_by_code(code: str | None, counts: bool) -> None:
    assert rule_set("opte-2010").counts_for_opte(code, None) is counts


@pytest.mark.parametrize(
    ("gap", "counts"), [(None, True), (0, False), (7, False), (8, True), (91, True), (-1, True)]
)
def test_opte_reclaim_within_7_days(gap: int | None, counts: bool) -> None:
    assert rule_set("opte-2010").counts_for_opte("found_work", gap) is counts


def test_custom_rule_set() -> None:
    strict = RuleSet("strict", "test", frozenset({"sanction"}), 13)
    assert strict.counts_for_opte("sanction", None) is False
    assert strict.counts_for_opte("other_benefit", None) is True
    assert strict.counts_for_opte("found_work", 13) is False
    assert strict.counts_for_opte("found_work", 14) is True


def test_unknown_rule_set_lists_known_names() -> None:
    with pytest.raises(ValueError, match="unknown rule set 'opte-2099'; known rule sets are: opte-2010"):
        rule_set("opte-2099")
