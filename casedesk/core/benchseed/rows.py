"""Writing bench-seed's rows at bulk-load speed, and the weighted choices that give the
desk its realistic mix."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


class Table:
    """Rows of one model, written by executemany (SQLite) or COPY (PostgreSQL).

    NOT NULL columns the seed does not name get their model default, so the seed keeps
    working as models gain fields.
    """

    def __init__(self, model: Any, fields: list[str]) -> None:
        from django.db import connection

        meta = model._meta
        qn = connection.ops.quote_name
        self.model = model
        self.extra: tuple[Any, ...] = ()
        names = list(fields)
        for field in meta.concrete_fields:
            if field.name in fields or field.null or field.primary_key:
                continue
            default = field.get_default()
            if default is None:
                continue
            names.append(field.name)
            self.extra += (field.get_db_prep_save(default, connection),)
        columns = ", ".join(qn(meta.get_field(f).column) for f in names)
        marks = ", ".join(["%s"] * len(names))
        self.table = meta.db_table
        self.sql = f"INSERT INTO {qn(self.table)} ({columns}) VALUES ({marks})"  # noqa: S608
        self.copy_sql = f"COPY {qn(self.table)} ({columns}) FROM STDIN"
        self.rows: list[tuple[Any, ...]] = []
        self.written = 0

    def add(self, *values: Any) -> None:
        self.rows.append(values + self.extra)

    def flush(self, cursor: Any, vendor: str) -> None:
        if not self.rows:
            return
        if vendor == "postgresql":
            with cursor.cursor.copy(self.copy_sql) as copy:
                for row in self.rows:
                    copy.write_row(row)
        else:
            cursor.executemany(self.sql, self.rows)
        self.written += len(self.rows)
        self.rows = []


def weights(pairs: Sequence[tuple[Any, float]]) -> tuple[list[Any], list[float]]:
    """Values and their cumulative weights, for a bisect-free pick by one random()."""
    total = sum(w for _, w in pairs)
    acc, cum = 0.0, []
    for _, w in pairs:
        acc += w / total
        cum.append(acc)
    cum[-1] = 1.0
    return [v for v, _ in pairs], cum


def picker(pairs: Sequence[tuple[Any, float]], rnd: Callable[[], float]) -> Callable[[], Any]:
    values, cum = weights(pairs)

    def pick() -> Any:
        r = rnd()
        for value, edge in zip(values, cum, strict=True):
            if r < edge:
                return value
        return values[-1]

    return pick


PRIORITIES = [(1, 8), (2, 27), (3, 45), (4, 20)]
CHANNELS = [("portal", 52), ("email", 36), ("phone", 8), ("api", 4)]
MESSAGE_COUNTS = [(2, 8), (3, 18), (4, 20), (5, 16), (6, 13), (7, 11), (8, 7), (9, 4),
                  (10, 3)]
# Status of a case still being worked on, by its age: fresh cases are mostly new or open,
# old ones that are still around mostly wait on the customer or are on hold.
ACTIVE_RECENT = [("new", 25), ("open", 45), ("pending", 20), ("on_hold", 10)]
ACTIVE_OLD = [("new", 2), ("open", 40), ("pending", 30), ("on_hold", 28)]
ESCALATION_SOURCES = [("agent", 45), ("portal", 25), ("phone", 15), ("sla", 15)]
REASONS = {
    "agent": "Needs a senior engineer: the fix touches the customer's core network.",
    "portal": "Customer asked to escalate from the portal: no update for two days.",
    "phone": "Customer's NOC called: outage affects all business subscribers.",
    "sla": "SLA target missed.",
}


def active_share(age_days: float) -> float:
    """The chance that a case this old is still being worked on; ~8% over three years."""
    if age_days < 7:
        return 0.6
    if age_days < 30:
        return 0.3
    if age_days < 90:
        return 0.1
    return 0.07
