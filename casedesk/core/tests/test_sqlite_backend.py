"""On SQLite, statements run through casedesk.core.sqlite3, which rewrites a statement
text's placeholders once and keeps the result: the same text Django's cursor makes, and
the same rows, whether the text was seen before, is long, or names its parameters."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.backends.sqlite3.base import SQLiteCursorWrapper as DjangosCursor

from casedesk.core.sqlite3.base import MAX_KEPT_CHARS, SQLiteCursorWrapper

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's cursor")

TEXTS = [
    "SELECT %s",
    "SELECT %s, '%%s', '100%%', %s || '%%' WHERE 1 = %s",
    "SELECT '%%%%s' , %%s, %s",
    "SELECT " + ", ".join(["%s"] * (MAX_KEPT_CHARS // 3)),
    "SELECT 1",
]


@pytest.mark.django_db
@pytest.mark.parametrize("text", TEXTS)
def test_rewritten_as_djangos_cursor_rewrites(text: str) -> None:
    connection.ensure_connection()
    ours = connection.connection.cursor(factory=SQLiteCursorWrapper)
    djangos = connection.connection.cursor(factory=DjangosCursor)
    first, again = ours.convert_query(text), ours.convert_query(text)
    assert first == again == djangos.convert_query(text)


@pytest.mark.django_db
def test_named_parameters_as_djangos_cursor() -> None:
    connection.ensure_connection()
    ours = connection.connection.cursor(factory=SQLiteCursorWrapper)
    djangos = connection.connection.cursor(factory=DjangosCursor)
    text = "SELECT %(a)s, %(b)s, '%%'"
    assert ours.convert_query(text, param_names=["a", "b"]) == djangos.convert_query(
        text, param_names=["a", "b"]
    )


@pytest.mark.django_db
def test_statements_run_through_it() -> None:
    with connection.cursor() as cursor:
        assert isinstance(cursor.cursor, SQLiteCursorWrapper)
        for _ in range(2):
            cursor.execute("SELECT %s, '100%%', %s || '%%'", ["a", "b"])
            assert cursor.fetchone() == ("a", "100%", "b%")
        cursor.execute("SELECT %(x)s, '%%'", {"x": 5})
        assert cursor.fetchone() == (5, "%")
