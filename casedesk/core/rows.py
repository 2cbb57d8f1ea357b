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
from datetime import datetime
from typing import Any, TypeVar, cast

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    CharField,
    DateTimeField,
    EmailField,
    Field,
    ForeignKey,
    IntegerField,
    Model,
    PositiveBigIntegerField,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    SmallIntegerField,
    TextField,
)
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

M = TypeVar("M", bound=Model)

Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class _Shape:
    head: str  # SELECT the columns FROM the table
    names: list[str]  # the fields' attnames, in the columns' order
    # For each column that needs it: its position, its Col expression, its converters.
    converters: list[tuple[int, Any, list[Converter]]]


_shapes: dict[tuple[str, str, type[Model]], _Shape] = {}


def _db() -> BaseDatabaseWrapper:
    """The default connection of this thread, looked up once per call of the functions
    below: each attribute read through django.db.connection looks it up again (~3 us),
    and they read several (alias, vendor, cursor) for every row of every message."""
    return connections[DEFAULT_DB_ALIAS]


def _shape(model: type[Model], db: BaseDatabaseWrapper) -> _Shape:
    key = (db.alias, db.vendor, model)
    found = _shapes.get(key)
    if found is None:
        table = model._meta.db_table
        quote = db.ops.quote_name
        fields = model._meta.concrete_fields
        columns = ", ".join(f"{quote(table)}.{quote(str(f.column))}" for f in fields)
        converters = []
        for n, field in enumerate(fields):
            # What the ORM's compiler applies to a column (SQLCompiler.get_converters): the
            # backend's converters for its type, then the field's own.
            col = field.get_col(table)
            chain = [*db.ops.get_db_converters(col), *col.get_db_converters(db)]
            if chain:
                converters.append((n, col, chain))
        found = _shapes[key] = _Shape(
            head=f"SELECT {columns} FROM {quote(table)}",  # noqa: S608 - the model's names
            names=[f.attname for f in fields], converters=converters,
        )
    return found


def _instance(model: type[M], names: list[str], values: list[Any], alias: str) -> M:
    """Model.from_db(alias, names, values) for all of the model's concrete fields. Without
    pre_init/post_init receivers for the model (casedesk has none), the instance is
    filled in directly: Model.__init__ only sets each attribute the same way (none of
    them is a descriptor that does more on a new instance), at several times the cost."""
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return model.from_db(alias, names, values)
    obj = model.__new__(model)
    obj.__dict__.update(zip(names, values, strict=True))
    state = obj._state = ModelState()
    state.adding = False
    state.db = alias
    return obj


def select(model: type[M], where: str, params: Sequence[Any], *, tail: str = "") -> list[M]:
    """The rows of `model`'s table matching the SQL condition `where` (with `%s` for each
    of `params`), as instances, all fields loaded. `tail` follows the condition (ORDER BY,
    LIMIT, FOR UPDATE). Like QuerySet.raw, only for conditions written in this code: the
    SQL is not checked."""
    db = _db()
    shape = _shape(model, db)
    with db.cursor() as cursor:
        cursor.execute(f"{shape.head} WHERE {where}{tail}", params)
        rows = cursor.fetchall()
    out = []
    for row in rows:
        values = list(row)
        for n, col, chain in shape.converters:
            value = values[n]
            for convert in chain:
                value = convert(value, col, db)
            values[n] = value
        out.append(_instance(model, shape.names, values, db.alias))
    return out


Prepare = Callable[[Model, bool], Any]
_STRINGS = (CharField, TextField, EmailField)
_INTEGERS = (IntegerField, BigIntegerField, SmallIntegerField, PositiveIntegerField,
             PositiveSmallIntegerField, PositiveBigIntegerField)
_KEYS = (*_INTEGERS, AutoField, BigAutoField)


def _preparer(field: Field) -> Prepare:
    """f.get_db_prep_save(f.pre_save(obj, add), connection) for `field`: for the common
    plain values (a str for a text field, an int for an integer or a foreign key to an
    integer key, an aware datetime, None where it stays None) what the field's chain of
    calls returns, got directly; anything else through that chain."""

    def generic(obj: Model, add: bool) -> Any:
        return field.get_db_prep_save(field.pre_save(obj, add), connection)

    attname, kind = field.attname, type(field)
    if not (kind.pre_save is Field.pre_save or (
        kind is DateTimeField and not (field.auto_now or field.auto_now_add)  # type: ignore[attr-defined]
    )):
        return generic
    if kind in _STRINGS:
        # CharField.to_python keeps any str (a TextChoices member too) and None as is.
        def text(obj: Model, add: bool) -> Any:
            value = obj.__dict__.get(attname, generic)
            return value if value is None or isinstance(value, str) else generic(obj, add)

        return text
    target = getattr(field, "target_field", None)
    if kind in _INTEGERS or (kind is ForeignKey and type(target) in _KEYS):
        # int(value) for an int (not a bool, not an IntegerChoices member: int() changes
        # those); None stays None.
        def number(obj: Model, add: bool) -> Any:
            value = obj.__dict__.get(attname, generic)
            return value if value is None or type(value) is int else generic(obj, add)

        return number
    if kind is DateTimeField:
        adapt = connection.ops.adapt_datetimefield_value

        def moment(obj: Model, add: bool) -> Any:
            value = obj.__dict__.get(attname, generic)
            if value is None:
                return None
            if type(value) is datetime and value.tzinfo is not None:
                return adapt(value)
            return generic(obj, add)

        return moment
    return generic


@dataclass(frozen=True)
class _Write:
    sql: str
    fields: list[Field]
    prepare: list[Prepare]


_inserts: dict[tuple[str, str, type[Model], bool], _Write] = {}
_updates: dict[tuple[str, str, type[Model], tuple[str, ...]], _Write] = {}


def marks(count: int) -> str:
    """`count` placeholders for an IN list or a VALUES row: "%s, %s, %s"."""
    return ", ".join(["%s"] * count)


def _insert_shape(model: type[Model], auto: bool, db: BaseDatabaseWrapper) -> _Write:
    key = (db.alias, db.vendor, model, auto)
    found = _inserts.get(key)
    if found is None:
        meta = model._meta
        skip = meta.auto_field if auto else None
        fields = [f for f in meta.local_concrete_fields if f is not skip]
        quote = db.ops.quote_name
        columns = ", ".join(quote(str(f.column)) for f in fields)
        sql = (f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608 - our names
               f"VALUES ({marks(len(fields))})")
        if skip is not None:
            sql += f" RETURNING {quote(str(skip.column))}"
        found = _inserts[key] = _Write(sql, fields, [_preparer(f) for f in fields])
    return found


def insert(obj: M) -> M:
    """INSERT `obj` as Model.save(force_insert=True) would, without compiling the ORM's
    INSERT each time: every concrete field (values from the fields' pre_save and
    get_db_prep_save, as the ORM takes them), the primary key read back when the
    database assigns it. Sends no pre_save/post_save signals (casedesk has no receivers)
    and runs no save() override: for plain rows written on every message (events,
    messages, cases, outbound mail). Not for models with files (their pre_save writes
    the file). The statement and each field's preparation are made once per model."""
    meta = obj._meta
    auto = meta.auto_field is not None and obj.pk is None
    db = _db()
    shape = _insert_shape(type(obj), auto, db)
    values = [prepare(obj, True) for prepare in shape.prepare]
    with db.cursor() as cursor:
        cursor.execute(shape.sql, values)
        if auto:
            setattr(obj, meta.auto_field.attname, cursor.fetchone()[0])  # type: ignore[union-attr]
    obj._state.adding = False
    obj._state.db = db.alias
    return obj


def insert_new(obj: M, unique: str) -> bool:
    """INSERT `obj` as `insert` does, unless a row with its value of the unique field
    `unique` exists: then nothing is written and False is returned. ON CONFLICT DO
    NOTHING (PostgreSQL; SQLite 3.35+ for the RETURNING) instead of a savepoint around the
    insert to survive the unique index's error: two statements fewer, and on PostgreSQL
    an insert racing another transaction's still waits for it, then does nothing if that
    one committed. Only for a model whose primary key the database assigns."""
    meta = obj._meta
    if meta.auto_field is None or obj.pk is not None:
        raise ValueError("insert_new is for rows whose primary key the database assigns")
    db = _db()
    key = (db.alias, db.vendor, type(obj), unique)
    shape = _new_inserts.get(key)
    if shape is None:
        plain = _insert_shape(type(obj), True, db)
        column = db.ops.quote_name(str(meta.get_field(unique).column))  # type: ignore[union-attr]
        head, _, returning = plain.sql.rpartition(" RETURNING ")
        shape = _new_inserts[key] = _Write(
            f"{head} ON CONFLICT ({column}) DO NOTHING RETURNING {returning}",
            plain.fields, plain.prepare,
        )
    values = [prepare(obj, True) for prepare in shape.prepare]
    with db.cursor() as cursor:
        cursor.execute(shape.sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    setattr(obj, meta.auto_field.attname, row[0])
    obj._state.adding = False
    obj._state.db = db.alias
    return True


_new_inserts: dict[tuple[str, str, type[Model], str], _Write] = {}


def update(obj: Model, names: list[str]) -> None:
    """UPDATE the named fields of `obj`'s row with its current values, as
    save(update_fields=names) would without compiling the ORM's UPDATE each time (no
    signals, no save() override)."""
    model = type(obj)
    db = _db()
    key = (db.alias, db.vendor, model, tuple(names))
    shape = _updates.get(key)
    if shape is None:
        meta = obj._meta
        fields = [cast(Field, meta.get_field(name)) for name in names]  # concrete, by contract
        quote = db.ops.quote_name
        assignments = ", ".join(f"{quote(str(f.column))} = %s" for f in fields)
        shape = _updates[key] = _Write(
            f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608 - our names
            f"WHERE {quote(str(meta.pk.column))} = %s",
            fields, [_preparer(f) for f in fields],
        )
    values = [prepare(obj, False) for prepare in shape.prepare]
    with db.cursor() as cursor:
        cursor.execute(shape.sql, [*values, obj.pk])


def attach(relations: Sequence[tuple[Sequence[Model], str]]) -> None:
    """For each (objects, name) pair, loads the objects' foreign key `name` as
    select_related would, so reading it makes no query: one statement per related model
    for all the pairs together (a thread's authors and its events' actors are one read of
    the users), instead of compiling the ORM's joins."""
    wanted: dict[type[Model], set[Any]] = {}
    for objects, name in relations:
        if objects:
            field = objects[0]._meta.get_field(name)
            ids = {getattr(obj, field.attname) for obj in objects}  # type: ignore[union-attr]
            wanted.setdefault(field.related_model, set()).update(ids)  # type: ignore[arg-type]
    found: dict[type[Model], dict[Any, Model]] = {}
    for model, ids in wanted.items():
        ids.discard(None)
        keys = sorted(ids)
        pk = connection.ops.quote_name(str(model._meta.pk.column))  # type: ignore[union-attr]
        found[model] = {obj.pk: obj for obj in select(model, f"{pk} IN ({marks(len(keys))})",
                                                       keys)} if keys else {}
    for objects, name in relations:
        if objects:
            field = objects[0]._meta.get_field(name)
            loaded = found[field.related_model]  # type: ignore[index]
            for obj in objects:
                value = getattr(obj, field.attname)  # type: ignore[union-attr]
                field.set_cached_value(obj, loaded.get(value) if value is not None else None)  # type: ignore[union-attr]
