"""The queue's page cursors: opaque, signed positions in one view's order.

A cursor holds the sort key of the row a page starts after (or, going back, before), the
direction, and a fingerprint of the view, sort and filters it was made for. It is signed
with the site's secret key, so an edited cursor is refused rather than read; one made for
other filters is refused too (its position means nothing in another order). Either way
the queue shows the first page and says why.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core import signing
from django.utils.translation import gettext_lazy as _

from casedesk.desk.queue import Criteria

SALT = "casedesk.desk.queue.cursor"
DATE_MARK = "d:"


class BadCursor(Exception):
    """The cursor cannot be used; the message is for the agent."""


@dataclass(frozen=True)
class Position:
    key: list[Any]
    backwards: bool


def _fingerprint(criteria: Criteria) -> str:
    return hashlib.sha256(criteria.fingerprint().encode()).hexdigest()[:16]


def encode_key(value: Any) -> Any:
    if isinstance(value, datetime):
        return DATE_MARK + value.isoformat()
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError(f"A cursor holds times and numbers, not {type(value).__name__}.")


def decode_key(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(DATE_MARK):
        parsed = datetime.fromisoformat(value[len(DATE_MARK):])
        if parsed.tzinfo is None:
            raise ValueError("naive time")
        return parsed
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise ValueError("not a key value")


def make_cursor(criteria: Criteria, key: Sequence[Any], *, backwards: bool = False) -> str:
    payload = {"f": _fingerprint(criteria), "k": [encode_key(v) for v in key],
               "b": 1 if backwards else 0}
    return signing.dumps(payload, salt=SALT, compress=True)


STALE = _("That page link was made for other filters, so the list starts again at the "
          "first page.")
DAMAGED = _("That page link is damaged or incomplete, so the list starts again at the "
            "first page.")


def read_cursor(criteria: Criteria, raw: str) -> Position:
    """The position a cursor holds, or BadCursor with the message to show."""
    if len(raw) > 500:
        raise BadCursor(DAMAGED)
    try:
        payload = signing.loads(raw, salt=SALT)
    except signing.BadSignature:
        raise BadCursor(DAMAGED) from None
    if not isinstance(payload, dict) or payload.get("f") != _fingerprint(criteria):
        raise BadCursor(STALE)
    try:
        key = [decode_key(v) for v in payload["k"]]
    except (KeyError, TypeError, ValueError):
        raise BadCursor(DAMAGED) from None
    # The key must fit the order it continues (a cursor of the same filters from an
    # earlier version of the code may not).
    expected = 2 if criteria.view == "breaching" or criteria.sort == "newest" else 3
    if len(key) != expected or not isinstance(key[-1], int):
        raise BadCursor(STALE)
    return Position(key=key, backwards=bool(payload.get("b")))
