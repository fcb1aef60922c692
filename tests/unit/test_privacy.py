"""Requesters' phone numbers: what intake stores, and what a masked view shows."""

import pytest

from minsheng.core.phones import mask_phone, normalize_phone


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        (" 13812345678 ", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        # Landlines keep their area code: Jiaxing (0573) and Beijing (010).
        ("0573-85123456", "057385123456"),
        ("0573 8512 3456", "057385123456"),
        ("057385123456", "057385123456"),
        ("+86 573 8512 3456", "057385123456"),
        ("010-12345678", "01012345678"),
        # Nothing given is allowed (anonymous requests, sensors).
        ("", ""),
        ("   ", ""),
    ],
)
def test_chinese_mobiles_and_landlines_are_stored_as_national_digits(raw, stored):
    assert normalize_phone(raw) == stored


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "1381234567",  # a mobile one digit short
        "138123456789",  # ... and one too long
        "12345678901",  # 11 digits but no mobile prefix
        "12345",  # the hotline's own number, not the requester's
        "85123456",  # a local landline without its area code
        "0573-8512345",  # Jiaxing numbers have eight digits after 0573
        # Foreign numbers would lose their country code in national digits, and nobody
        # could call them back: they are refused, not silently shortened.
        "+85251234567",
        "+14155552671",
    ],
)
def test_anything_else_is_refused_with_a_reason(raw):
    with pytest.raises(ValueError, match="phone number"):
        normalize_phone(raw)


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("057385123456", "057****3456"),
        ("01012345678", "010****5678"),
        ("4001234567", "******4567"),
        ("1234", "****"),
        ("", ""),
    ],
)
def test_masking_keeps_enough_to_recognise_but_not_to_call(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("raw", ["13812345678", "+86 138 1234 5678", "0573-85123456", "010-12345678"])
def test_a_masked_number_hides_at_least_four_digits_of_every_valid_number(raw):
    stored = normalize_phone(raw)
    masked = mask_phone(stored)
    assert masked.count("*") >= 4
    assert masked[-4:] == stored[-4:]
    assert stored not in masked
