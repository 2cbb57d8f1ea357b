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
from typing import Any, TypeVar, cast

from django.db import connection
from django.db.models import Field, Model

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


def insert(obj: M) -> M:
    """INSERT `obj` as Model.save(force_insert=True) would, without compiling the ORM's
    INSERT each time: every concrete field (values from the fields' pre_save and
    get_db_prep_save, as the ORM takes them), the primary key read back when the
    database assigns it. Sends no pre_save/post_save signals (casedesk has no receivers)
    and runs no save() override: for plain rows written on every message (events,
    messages, cases, outbound mail). Not for models with files (their pre_save writes
    the file)."""
    meta = obj._meta
    auto = meta.auto_field if obj.pk is None else None
    fields = [f for f in meta.local_concrete_fields if f is not auto]
    quote = connection.ops.quote_name
    values = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    columns = ", ".join(quote(str(f.column)) for f in fields)
    sql = (f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608 - the model's names
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    if auto is not None:
        sql += f" RETURNING {quote(str(auto.column))}"
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if auto is not None:
            setattr(obj, auto.attname, cursor.fetchone()[0])
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj


def update(obj: Model, names: list[str]) -> None:
    """UPDATE the named fields of `obj`'s row with its current values, as
    save(update_fields=names) would without compiling the ORM's UPDATE each time (no
    signals, no save() override)."""
    meta = obj._meta
    fields = [cast(Field, meta.get_field(name)) for name in names]  # concrete, by contract
    quote = connection.ops.quote_name
    values = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in fields]
    assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608 - the model's names
            f"WHERE {quote(str(meta.pk.column))} = %s",
            [*values, obj.pk],
        )
