"""Prepared statements for a stretch of repeated work, on PostgreSQL.

Client-side, psycopg sends each statement's text and PostgreSQL parses, analyses and plans
it every time. The inbound mail job runs the same dozen statements for every message (a
reply, a case, its clock, its search document): prepared once per connection, each later
run skips that work, which was about a quarter of the job's time on the database server.

Only inside `prepared_statements()`: elsewhere (the desk's pages) every statement stays
unnamed and is planned with its own values, as before. A prepared statement may be given a
generic plan after five runs, which suits the job's lookups by key but not a page that
filters a million cases by values of very different frequency.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import connection

# Runs of one statement text before psycopg prepares it: a statement run once in the
# stretch costs no PREPARE, one run per message is parsed and planned about once.
THRESHOLD = 2


@contextmanager
def prepared_statements() -> Iterator[None]:
    """Statements repeated inside are prepared (PostgreSQL, unless
    CASEDESK_DATABASE_PREPARED_STATEMENTS is off); nothing changes on SQLite, which keeps
    its own cache of compiled statements per connection."""
    if connection.vendor != "postgresql" or not settings.CASEDESK_DATABASE_PREPARED_STATEMENTS:
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    before = raw.prepare_threshold
    raw.prepare_threshold = THRESHOLD
    try:
        yield
    finally:
        # The same psycopg connection even if Django closed it meanwhile: harmless then.
        raw.prepare_threshold = before
