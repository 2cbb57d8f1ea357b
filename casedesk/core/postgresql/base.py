"""Django's PostgreSQL backend, reading timestamps with psycopg's own (compiled) loader.

Django registers a timestamptz loader of its own, a Python subclass of psycopg's
pure-Python one that sets each datetime's zone to the connection's: every timestamp a
query returns was parsed in Python, about ten times the cost of psycopg's compiled loader
(a queue page reads two hundred, a case page a few hundred). While the session's zone is
UTC and Django's connection zone is too (settings.DATABASES has no TIME_ZONE), psycopg's
loader returns the very same datetimes, tzinfo datetime.timezone.utc, so each cursor gets
it instead; otherwise Django's is left in place.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.backends.postgresql import base
from psycopg import adapters
from psycopg.pq import Format

TIMESTAMPTZ = adapters.types["timestamptz"].oid
# psycopg's own loader: compiled with psycopg[binary] or psycopg[c], Python without.
PSYCOPG_LOADER = adapters.get_loader(TIMESTAMPTZ, Format.TEXT)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name: str | None = None) -> Any:
        cursor = super().create_cursor(name)
        if (PSYCOPG_LOADER is not None and self.timezone is datetime.UTC
                and self.connection.info.parameter_status("TimeZone") == "UTC"):
            cursor.adapters.register_loader(TIMESTAMPTZ, PSYCOPG_LOADER)
        return cursor
