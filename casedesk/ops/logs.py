"""Structured logs: one JSON object per line, carrying the request id of the request being
served (casedesk.ops.context), for log collectors (journald, Loki, Elasticsearch).

Chosen with CASEDESK_LOG_FORMAT=json; the default plain format stays for people reading
`casedesk serve` in a terminal.
"""

from __future__ import annotations

import logging

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from casedesk.ops.context import request_id


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (None outside a request: jobs, the mail listener)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(_JsonFormatter):
    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level",
                                            "name": "logger"})
        kwargs.setdefault("timestamp", False)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def add_fields(self, log_data: dict[str, object], record: logging.LogRecord,
                   message_dict: dict[str, object]) -> None:
        super().add_fields(log_data, record, message_dict)
        # Present on every line, null outside a request, so queries need no "exists" test.
        log_data["request_id"] = getattr(record, "request_id", None)
