"""Header values read straight from the raw header lines, decoded once.

The modern email policy parses a header into an object on every `msg[name]`
access, which cost about 80% of the time to parse an ordinary reply; the
values we need (addresses, ids, a subject) are read here from the raw lines
with the stdlib's plain decoders instead, and never raise.
"""

from __future__ import annotations

import re
from email.header import decode_header, make_header
from email.message import Message
from typing import Any, cast

MAX_HEADER_CHARS = 2000  # longer values are cut (a 1 MB Subject must not reach the DB)

_FOLD = re.compile(r"\r?\n[ \t]*")


def as_text(value: object) -> str:
    """A raw header value as text: 8-bit bytes read as UTF-8, else cp1252."""
    if not isinstance(value, str):
        value = str(value)
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def decode_words(value: str) -> str:
    """RFC 2047 encoded-words decoded; an undecodable one stays as written."""
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # a bad charset or base64 in an encoded-word: keep it as is
        return value


def _by_name(msg: Message) -> dict[str, list[Any]]:
    """The message's raw header values by lower-cased name, made once per message (and
    again if headers were added since): a received message is asked for about twenty
    headers, and each lookup walked (and copied) the whole list."""
    items = msg.__dict__.get("_headers")
    if not isinstance(items, list):
        items = list(msg.raw_items())
    cached = msg.__dict__.get("_casedesk_by_name")
    if cached is not None and cached[0] is items and cached[1] == len(items):
        return cast(dict[str, list[Any]], cached[2])
    found: dict[str, list[Any]] = {}
    for key, value in items:
        found.setdefault(str(key).lower(), []).append(value)
    msg.__dict__["_casedesk_by_name"] = (items, len(items), found)
    return found


def raw_values(msg: Message, name: str, defects: list[str] | None = None) -> list[str]:
    """Every value of header `name`, unfolded, cut to MAX_HEADER_CHARS, not decoded."""
    try:
        values = _by_name(msg).get(name.lower(), [])
    except Exception:
        return []
    out: list[str] = []
    for value in values:
        text = _FOLD.sub(" ", as_text(value)).replace("\x00", "").strip()
        if len(text) > MAX_HEADER_CHARS:
            if defects is not None:
                defects.append(f"{name} header cut from {len(text)} characters")
            text = text[:MAX_HEADER_CHARS]
        out.append(text)
    return out


def header(msg: Message, name: str, defects: list[str] | None = None) -> str:
    """The first value of `name`, encoded-words decoded, whitespace collapsed; "" if none."""
    values = raw_values(msg, name, defects)
    if not values:
        return ""
    return " ".join(decode_words(values[0]).split())
