"""The unified social credit code's check character (GB 32100-2015)."""

import pytest

from minsheng.enterprise.credit_code import InvalidCreditCode, check_character, normalize

# The standard's own example and a registered company's code.
VALID = ["91350100M000100Y43", "91110000802100433B"]


@pytest.mark.parametrize("code", VALID)
def test_valid_codes_pass_and_are_normalised(code):
    assert normalize(code) == code
    assert normalize(f" {code.lower()[:9]} {code.lower()[9:]} ") == code


@pytest.mark.parametrize("code", VALID)
def test_every_changed_character_is_caught(code):
    for i in range(18):
        for other in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            if other == code[i]:
                continue
            changed = code[:i] + other + code[i + 1 :]
            if i in range(2, 8) and not other.isdigit():
                continue  # refused for the area code, tested below
            with pytest.raises(InvalidCreditCode):
                normalize(changed)


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100Y43X", "18 characters"),
        ("91350100M0001O0Y43", "'O' is not used"),
        ("913501I0M000100Y43", "'I' is not used"),
        ("91A50100M000100Y43", "six-digit"),
        ("91350100M000100Y44", "check character"),
    ],
)
def test_the_reason_is_given(code, why):
    with pytest.raises(InvalidCreditCode, match=why):
        normalize(code)


def test_the_check_character_of_the_standards_example():
    assert check_character("91350100M000100Y4") == "3"
