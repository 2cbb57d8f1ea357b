"""The checks behind GET /readyz: each says whether one thing casedesk needs works."""

from __future__ import annotations

import socket
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.utils import DatabaseError

from casedesk.ops.metrics import queue_lag_seconds


@dataclass
class Check:
    ok: bool
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        body = asdict(self)
        body.update(body.pop("data"))
        return body


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return Check(False, f"database unreachable: {error}".strip())
    return Check(True)


def check_job_queue() -> Check:
    limit = settings.CASEDESK_READY_MAX_JOB_LAG_SECONDS
    try:
        lag = queue_lag_seconds()
    except DatabaseError as error:
        return Check(False, f"job queue unreadable: {error}".strip())
    data = {"lag_seconds": round(lag, 3), "max_lag_seconds": limit}
    if lag > limit:
        return Check(False, f"the oldest waiting job has waited {lag:.0f} s (more than "
                            f"{limit} s): are the workers running?", data)
    return Check(True, data=data)


def check_mail_listener(address: str) -> Check:
    """Connects to the listener and reads its greeting, as a sending mail server would."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]")
    data = {"address": address}
    try:
        with socket.create_connection((host, int(port)), timeout=3) as conn:
            conn.settimeout(3)
            greeting = conn.recv(512)
            conn.sendall(b"QUIT\r\n")
    except (OSError, ValueError) as error:
        return Check(False, f"mail listener unreachable at {address}: {error}", data)
    if not greeting.startswith(b"220"):
        return Check(False, f"mail listener at {address} did not greet: {greeting[:80]!r}",
                     data)
    return Check(True, data=data)


def readiness() -> dict[str, Check]:
    checks = {"database": check_database()}
    # Without a database there is no queue to read.
    if checks["database"].ok:
        checks["job_queue"] = check_job_queue()
    if settings.CASEDESK_READY_MAIL_LISTENER:
        checks["mail_listener"] = check_mail_listener(settings.CASEDESK_READY_MAIL_LISTENER)
    return checks
