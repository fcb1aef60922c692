"""The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from a
31-character alphabet (digits and capitals without I, O, S, V, Z), the last a check
character over the first 17 with the standard's weights. Pure Python, no Django."""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


class InvalidCreditCode(ValueError):
    """Why a code is not a unified social credit code."""


def check_character(first17: str) -> str:
    """The check character (the 18th) for the first 17 characters."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalize(raw: str) -> str:
    """The code, upper-cased and without spaces, if it is valid; else
    :class:`InvalidCreditCode` with the reason."""
    code = "".join(raw.split()).upper()
    if len(code) != 18:
        raise InvalidCreditCode("a unified social credit code has 18 characters")
    bad = [c for c in code if c not in _VALUE]
    if bad:
        raise InvalidCreditCode(f"{bad[0]!r} is not used in unified social credit codes")
    if not code[2:8].isdigit():
        raise InvalidCreditCode("characters 3 to 8 are the registering area's six-digit code")
    if check_character(code[:17]) != code[17]:
        raise InvalidCreditCode("the check character does not match")
    return code
