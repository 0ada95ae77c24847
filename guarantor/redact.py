"""Text built for people (a status reason, an alert, a log line) never carries a secret or a
value from someone's data: one place that takes them out, used by every source, alert channel
and log that builds such text.

Viewers read status reasons, and alerts go to chat rooms: an error that quoted a row ("not a
number: 'ROW:3'") handed table contents to whoever wrote the query, and one that echoed a header
("Illegal header value b'Bearer SECRETVAL'") or a URL (``http://user:SECRET@host``) handed out the
source's credentials.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

MASK = "***"
_KNOWN: set[str] = set()
_LOCK = threading.Lock()
_SHORTEST = 4
"""A secret shorter than this is not masked by value: masking every "1" or "ab" would garble text
and hide nothing worth hiding."""

_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*):[^/\s@]*@")
_SCHEMES = re.compile(r"(?i)\b(bearer|basic)(\s+)[^\s'\"]+")
_ASSIGNED = re.compile(r"(?i)\b(password|passwd|pwd|secret|token|api_key|apikey|access_token)=[^\s&'\"]+")
_QUOTED = re.compile(r"'(?:[^']|'')*(?:'|$)|\"(?:[^\"]|\"\")*(?:\"|$)")


def remember(value: str) -> str:
    """Note a secret's value (a header, a password, a token read from the environment) so that
    every later text is masked of it; returns the value."""
    if len(value) >= _SHORTEST:
        with _LOCK:
            _KNOWN.add(value)
    return value


def secrets(text: str) -> str:
    """``text`` without URL passwords (the user name stays: it says which account), authorization
    tokens, ``password=`` style values and every secret value remembered."""
    text = _URL_CREDENTIALS.sub(lambda m: f"{m[1]}:{MASK}@", text)
    text = _SCHEMES.sub(lambda m: f"{m[1]}{m[2]}{MASK}", text)
    text = _ASSIGNED.sub(lambda m: f"{m[1]}={MASK}", text)
    with _LOCK:
        known = sorted(_KNOWN, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    return text


def quoted(message: str, query: str = "") -> str:
    """A database's message with each quoted part taken out unless the query itself holds it: the
    table a query names may be shown ('no such table: "orders"'), a value from a row, the text
    of a file or a setting never is."""

    def keep(m: re.Match[str]) -> str:
        inner = m[0][1:-1] if len(m[0]) > 1 and m[0][-1] == m[0][0] else m[0][1:]
        return m[0] if inner and query and inner in query else f"{m[0][0]}…{m[0][0]}"

    return _QUOTED.sub(keep, message)


def _redacting_records() -> None:
    """Every log record, Guarantor's or a library's (httpx logs each request's URL, with any
    password in it), is masked as it is made: no handler or formatter can see the secret."""
    made = logging.getLogRecordFactory()
    if getattr(made, "redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = made(*args, **kwargs)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: logging reports it itself
            return record
        cleaned = secrets(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return record

    factory.redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


_redacting_records()
