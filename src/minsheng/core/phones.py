"""Phone numbers: validated on the way in, masked on the way out (pure helpers, no Django)."""

from __future__ import annotations

import phonenumbers


def normalize_phone(raw: str) -> str:
    """A Chinese mobile or landline number in national digits (``13812345678``,
    ``057385123456``); raises ``ValueError`` with a reason for anything else."""
    cleaned = raw.strip().replace(" ", "").replace("-", "")
    if not cleaned:
        return ""
    try:
        parsed = phonenumbers.parse(cleaned, "CN")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    if parsed.country_code != 86:
        # Stored in national digits, a foreign number would lose its country code.
        raise ValueError("not a Chinese phone number")
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid Chinese phone number")
    return (
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        .replace(" ", "")
        .replace("-", "")
    )


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138****5678``: enough to recognise, not enough to call."""
    if not phone:
        return ""
    if len(phone) >= 11:
        return f"{phone[:3]}****{phone[-4:]}"
    if len(phone) > 4:
        return f"{'*' * (len(phone) - 4)}{phone[-4:]}"
    return "*" * len(phone)
