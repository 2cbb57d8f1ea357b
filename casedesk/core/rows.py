"""Model instances from hand-written SQL, for the few reads every received message makes.

The sender's account, the case a reply locks and the case's live clocks are read once per
message (issue 4's throughput target: 500 messages/s). Model.objects.raw() maps the
result's columns onto the model's fields and looks up each column's converters on every
call, which cost several times running the query; `select` names the model's columns
itself and keeps their converters per model and database, so a read is the query, one
converter call per column that needs one, and Model.from_db.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)

Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class _Shape:
    head: str  # SELECT the columns FROM the table
    names: list[str]  # the fields' attnames, in the columns' order
    # For each column that needs it: its position, its Col expression, its converters.
    converters: list[tuple[int, Any, list[Converter]]]


_shapes: dict[tuple[str, str, type[Model]], _Shape] = {}


def _shape(model: type[Model]) -> _Shape:
    key = (connection.alias, connection.vendor, model)
    found = _shapes.get(key)
    if found is None:
        table = model._meta.db_table
        quote = connection.ops.quote_name
        fields = model._meta.concrete_fields
        columns = ", ".join(f"{quote(table)}.{quote(str(f.column))}" for f in fields)
        converters = []
        for n, field in enumerate(fields):
            # What the ORM's compiler applies to a column (SQLCompiler.get_converters): the
            # backend's converters for its type, then the field's own.
            col = field.get_col(table)
            chain = [*connection.ops.get_db_converters(col),
                     *col.get_db_converters(connection)]
            if chain:
                converters.append((n, col, chain))
        found = _shapes[key] = _Shape(
            head=f"SELECT {columns} FROM {quote(table)}",  # noqa: S608 - the model's names
            names=[f.attname for f in fields], converters=converters,
        )
    return found


def select(model: type[M], where: str, params: Sequence[Any], *, tail: str = "") -> list[M]:
    """The rows of `model`'s table matching the SQL condition `where` (with `%s` for each
    of `params`), as instances, all fields loaded. `tail` follows the condition (ORDER BY,
    LIMIT, FOR UPDATE). Like QuerySet.raw, only for conditions written in this code: the
    SQL is not checked."""
    shape = _shape(model)
    with connection.cursor() as cursor:
        cursor.execute(f"{shape.head} WHERE {where}{tail}", params)
        rows = cursor.fetchall()
    out = []
    for row in rows:
        values = list(row)
        for n, col, chain in shape.converters:
            value = values[n]
            for convert in chain:
                value = convert(value, col, connection)
            values[n] = value
        out.append(model.from_db(connection.alias, shape.names, values))
    return out
