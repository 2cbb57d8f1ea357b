"""Django's SQLite backend, turning each statement's `%s` into `?` once per statement text.

Django's SQLite cursor rewrites every statement from the "format" style its queries use to
SQLite's "qmark" style with a regular expression, on every execution: about a twentieth of
processing received mail (issue 4), whose dozen statements per message are the same few
texts each time (casedesk.core.rows). The rewrite depends on the text alone, so the texts
seen last are kept with their rewrite; a long one (a large IN list) is rewritten each time,
as before, rather than kept.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.db.backends.sqlite3 import base

# Statement texts kept, and the longest kept: a bound on the memory this takes (at most
# 1024 x 4,000 characters twice), whatever the statements a process runs.
KEPT = 1024
MAX_KEPT_CHARS = 4000


@lru_cache(maxsize=KEPT)
def _kept_qmark(query: str) -> str:
    return _qmark(query)


def _qmark(query: str) -> str:
    # What SQLiteCursorWrapper.convert_query does for a list of parameters.
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


class SQLiteCursorWrapper(base.SQLiteCursorWrapper):
    def convert_query(self, query: str, *, param_names: list[str] | None = None) -> str:
        if param_names is not None:
            return str(super().convert_query(query, param_names=param_names))
        if len(query) > MAX_KEPT_CHARS:
            return _qmark(query)
        return _kept_qmark(query)


class DatabaseWrapper(base.DatabaseWrapper):
    def create_cursor(self, name: str | None = None) -> Any:
        return self.connection.cursor(factory=SQLiteCursorWrapper)
