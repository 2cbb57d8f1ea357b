"""The id of the request being served, for every log line written while serving it."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

request_id: ContextVar[str | None] = ContextVar("casedesk_request_id", default=None)

# A proxy's or load balancer's id is kept when it is a sane token (a UUID, a hex string, a
# trace id): anything else (too long, spaces, quotes) would let a client forge log lines.
_VALID = re.compile(r"^[A-Za-z0-9._:@/+=-]{1,128}$")


def choose_request_id(incoming: str | None) -> str:
    if incoming and _VALID.match(incoming):
        return incoming
    return uuid.uuid4().hex
