"""The one rule for control characters in text people submit (a request, an address, a name,
a note, feedback, an article), whatever the door: the API, a page, the telephone system.

* A NUL character is refused (422 naming the field, or the form's message): PostgreSQL cannot
  store it, no keyboard types it, and Django's own form fields refuse it the same way.
* Every other control character is removed: C0 controls but tab, line feed and carriage
  return, DEL, the C1 controls, and the bidirectional overrides and isolates (U+202A–U+202E,
  U+2066–U+2069), which can make a stored text read differently on screen than it is (a phone
  number or an address reversed). They arrive from pasted documents and broken clients and
  mean nothing to a reader, so stripping them loses nothing a person wrote.

Pure: no Django. ``cases.schemas.Input`` applies it to every API input shape, and the case
kernel and intake apply it to whatever a page or a part hands them.
"""

from __future__ import annotations

import re

NUL = "\x00"
# C0 controls except \t \n \r, DEL, C1 controls, bidi embeddings/overrides and isolates.
_CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class NulCharacter(ValueError):
    """The text holds a NUL character: refused, never stored."""

    def __init__(self) -> None:
        super().__init__("must not contain NUL characters")


def clean_text(value: str) -> str:
    """``value`` without control characters; :class:`NulCharacter` when it holds a NUL."""
    if NUL in value:
        raise NulCharacter
    return _CONTROL.sub("", value)


def has_control_characters(value: str) -> bool:
    """Whether :func:`clean_text` would refuse or change ``value``."""
    return NUL in value or _CONTROL.search(value) is not None
