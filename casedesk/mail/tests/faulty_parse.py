"""Parsers for casedesk.mail.parse_process's tests, importable in the parse process (no
Django models): casedesk.mail.parse.parse_message, except on a marked message."""

from __future__ import annotations

import multiprocessing
import os
import signal

from casedesk.mail.parse import ParsedMail, parse_message

# A message carrying this header fails to parse, or kills the process parsing it.
FAIL = b"X-Test-Parse: fail"
DIE = b"X-Test-Parse: die"
CONNECT = b"X-Test-Parse: connect"


def failing(raw: bytes) -> ParsedMail:
    """parse_message, but a marked message raises MemoryError, naming the process."""
    if FAIL in raw:
        raise MemoryError(f"test parse failure in process {os.getpid()}")
    return parse_message(raw)


def dying(raw: bytes) -> ParsedMail:
    """parse_message, but a marked message kills the parse process (as the kernel kills a
    process out of memory); in the worker it parses."""
    if DIE in raw and multiprocessing.parent_process() is not None:
        os.kill(os.getpid(), signal.SIGKILL)
    return parse_message(raw)


def connecting(raw: bytes) -> ParsedMail:
    """parse_message, but a marked message first opens a database connection (which the
    parse process has no settings for: it raises there)."""
    if CONNECT in raw:
        from django.db import connection

        connection.ensure_connection()
    return parse_message(raw)
