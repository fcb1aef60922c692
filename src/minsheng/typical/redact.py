"""Personal data out of a typical case's public words (去除个人信息).

The rule is the case's own: the fields the retention rule erases (``cases.retention``'s
``PERSONAL_FIELDS``: the requester's name and phone number) never reach the public, and numbers
in free text are masked as everywhere else (``core.phones.mask_phone``). Beyond them: any run
of seven or more digits (a phone number, an ID card, an account) is masked, an ID card's
18 characters too, and the case's exact address gives way to its village/community or town.
"""

from __future__ import annotations

import re

from minsheng.cases.models import Case
from minsheng.cases.retention import PERSONAL_FIELDS
from minsheng.core.phones import mask_phone

DIGITS = re.compile(r"\d[\d\s-]{5,}[\dXx]")
DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
REQUESTER = "市民"


def _personal(run: str) -> bool:
    """A run of digits that may name a person: seven digits or more, and not a date."""
    return not DATE.fullmatch(run.strip()) and len(re.sub(r"\D", "", run)) >= 7


def _mask(match: re.Match[str]) -> str:
    run = match.group(0)
    return mask_phone(re.sub(r"[^\dXx]", "", run)) if _personal(run) else run


def redact(text: str, case: Case) -> str:
    """``text`` with the case's personal data removed."""
    out = text or ""
    for name in PERSONAL_FIELDS:
        value = (getattr(case, name, "") or "").strip()
        if len(value) >= 2:
            out = out.replace(value, REQUESTER if name == "requester_name" else mask_phone(value))
    address = (case.address or "").strip()
    if len(address) >= 4:
        where = case.place.name if case.place_id and case.place else ""
        out = out.replace(address, where)
    return DIGITS.sub(_mask, out)


def leaks(text: str, case: Case) -> list[str]:
    """What of the case's personal data is still in ``text`` (nothing, once redacted)."""
    found = []
    for name in PERSONAL_FIELDS:
        value = (getattr(case, name, "") or "").strip()
        if len(value) >= 2 and value in text:
            found.append(name)
    if any(_personal(m.group(0)) for m in DIGITS.finditer(text or "")):
        found.append("digits")
    return found
