"""On PostgreSQL, timestamps come through psycopg's own loader (casedesk.core.postgresql):
the same datetimes Django's loader gives, UTC-aware, to the microsecond."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader

from casedesk.core.postgresql.base import PSYCOPG_LOADER, TIMESTAMPTZ

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql",
                                reason="PostgreSQL's timestamp loader")

SQL = ("SELECT v FROM (VALUES (%s::timestamptz), (%s), (%s), (%s), (%s)) AS t(v) "
       "ORDER BY v")
VALUES = [datetime(2026, 11, 27, 8, 1, 45, 522431, tzinfo=UTC),
          datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
          datetime(2026, 3, 29, 1, 30, tzinfo=UTC), datetime(2000, 2, 29, 12, tzinfo=UTC)]


@pytest.mark.django_db
def test_timestamps_read_as_djangos_loader_reads_them() -> None:
    with connection.cursor() as cursor:
        assert cursor.cursor.adapters.get_loader(TIMESTAMPTZ, 0) is PSYCOPG_LOADER
        cursor.execute(SQL, VALUES)
        ours = [row[0] for row in cursor.fetchall()]
    with connection.cursor() as cursor:
        register_tzloader(connection.timezone, cursor.cursor)  # Django's own
        cursor.execute(SQL, VALUES)
        djangos = [row[0] for row in cursor.fetchall()]
    assert ours == djangos == sorted(VALUES)
    assert all(value.tzinfo is UTC for value in ours)
    assert [value.isoformat() for value in ours] == [value.isoformat() for value in djangos]


@pytest.mark.django_db
def test_another_session_zone_keeps_djangos_loader() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'Asia/Riyadh'")
    try:
        with connection.cursor() as cursor:
            assert cursor.cursor.adapters.get_loader(TIMESTAMPTZ, 0) is not PSYCOPG_LOADER
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
