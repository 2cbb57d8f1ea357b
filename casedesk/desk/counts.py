"""How many cases each view holds, at a cost that does not grow with the table.

Each count reads at most COUNT_CAP + 1 rows of its view (`SELECT COUNT(*) FROM (... LIMIT
1001)`) and shows "1,000+" beyond: a desk with 400,000 open cases does not need to know
it has 400,127 on every page load, and an exact COUNT over them costs tens of
milliseconds each, eight views per page. A view of a few cases, the ones an agent acts
on (mine, breaching, escalated), is counted exactly. All counts go to the database as
one statement: one round trip for the whole list of views.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet

COUNT_CAP = 1000


@dataclass(frozen=True)
class ViewCount:
    value: int

    @property
    def capped(self) -> bool:
        return self.value > COUNT_CAP

    def __str__(self) -> str:
        return f"{COUNT_CAP:,}+" if self.capped else f"{self.value:,}"


def capped_counts(queries: dict[str, QuerySet[Any]]) -> dict[str, ViewCount]:
    """The count of each query's rows, up to COUNT_CAP + 1, in one statement.

    Each query must select one column (values("pk") or similar).
    """
    if not queries:
        return {}
    parts: list[str] = []
    params: list[Any] = []
    counted: list[str] = []
    for name, query in queries.items():
        try:
            # No ORDER BY: the models' default order would make the database sort the
            # rows it counts.
            sql, query_params = query.order_by()[:COUNT_CAP + 1].query.sql_with_params()
        except EmptyResultSet:
            continue  # a condition that can match nothing (an agent on no team)
        # Safe: `sql` is Django's own compiled query, its values are in `params`.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS count_{len(counted)})")  # noqa: S608
        params.extend(query_params)
        counted.append(name)
    row: tuple[Any, ...] = ()
    if parts:
        with connection.cursor() as cursor:
            cursor.execute("SELECT " + ", ".join(parts), params)
            row = tuple(cursor.fetchone() or ())
    found = dict(zip(counted, row, strict=True))
    return {name: ViewCount(int(found.get(name, 0))) for name in queries}
