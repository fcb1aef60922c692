"""Secrets that never reach a log: the requesters' follow tokens.

A requester's secret link (``/track/<token>/``, its photos under it, and the page shown
after a public report, ``/report/sent/<token>/``) is the only key to their case's page, so
the token is cut out of every log line that carries a path or a referring page: the web
server's access log (``minsheng serve`` installs ``RedactingGunicornLogger``, see
``core/management/commands/serve.py``) and Django's own log lines (``django.request``'s
"Not Found: …", runserver's request lines), through ``RedactTokens`` on the console
handler (``LOGGING`` in settings). A reverse proxy in front keeps its own log: see
docs/OPERATIONS.md.
"""

from __future__ import annotations

import logging
import re

HIDDEN = "[hidden]"
# The paths whose next segment is a follow token (also percent-encoded slashes).
_TOKEN_PATH = re.compile(r"((?:/|%2F)(?:track|report(?:/|%2F)sent)(?:/|%2F))([^/?#\s\"'%]+)", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with every follow token in a path replaced by ``[hidden]``."""
    return _TOKEN_PATH.sub(rf"\1{HIDDEN}", text) if text else text


class RedactTokens(logging.Filter):
    """A logging filter: the record's message comes out with the tokens hidden (the
    arguments are rendered into it first, so that no token hides in them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken record is logging's business, not ours
            return True
        hidden = redact(message)
        if hidden != message:
            record.msg, record.args = hidden, None
        return True
