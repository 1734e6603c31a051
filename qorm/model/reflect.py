"""Build a model class from a table's ``meta`` (what ``Session.reflect`` does).

``meta t`` is a keyed table ``c | t f a``: column name, type char (upper case for a column of
lists, ``C`` for strings, blank for an empty general list), foreign key, attribute. A nested
column becomes a field of the matching alias (``F`` -> ``FloatList``, see
:mod:`qorm.model.columns`); a blank (mixed) column a field that sends its cells as they are:
q reports an empty nested column, ``()``, as blank until its first row arrives. With the
table's ``keys`` this is enough for a working model: a :class:`KeyedModel` when there are keys,
attributes kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from qorm import exc
from qorm.model.base import KeyedModel, Model
from qorm.model.fields import field
from qorm.model.names import is_column_name, is_table_name
from qorm.model.qtypes import ColumnType, column_type_for_char
from qorm.protocol.constants import ATTR_CHARS, ATTR_NONE
from qorm.protocol.values import QKeyedTable, QTable
from qorm.types import NESTED_QTYPES

__all__ = ["build_model_from_meta", "meta_rows"]

_ATTRS = {v: k for k, v in ATTR_CHARS.items() if v}


def _text(v: Any) -> str:
    if isinstance(v, bytes):
        return v.decode()
    return str(v)


def meta_rows(meta: Any) -> list[tuple[str, str, str]]:
    """``(column, type char, attribute char)`` rows from a decoded ``meta`` result.

    Accepts the keyed table q returns, a plain mapping ``{column: type char}``, or an iterable
    of ``(column, type char[, attribute char])``.
    """
    if isinstance(meta, QKeyedTable):
        names = [_text(n) for n in list(meta.keys.columns["c"])]
        vals = meta.values.columns
        types = vals["t"]
        chars = list(types.decode()) if isinstance(types, bytes) else [_text(t) for t in types]
        attrs = [_text(a) for a in vals.get("a", [""] * len(names))]
        return list(zip(names, chars, attrs))
    if isinstance(meta, QTable):
        cols = meta.columns
        names = [_text(n) for n in cols["c"]]
        types = cols["t"]
        chars = list(types.decode()) if isinstance(types, bytes) else [_text(t) for t in types]
        attrs = [_text(a) for a in cols.get("a", [""] * len(names))]
        return list(zip(names, chars, attrs))
    if isinstance(meta, Mapping):
        return [(str(k), _text(v), "") for k, v in meta.items()]
    rows: list[tuple[str, str, str]] = []
    for row in meta:
        name, char, *rest = row
        rows.append((str(name), _text(char), _text(rest[0]) if rest else ""))
    return rows


def _class_name(table: str) -> str:
    short = table.rpartition(".")[2]
    return "".join(p[:1].upper() + p[1:] for p in short.split("_") if p) or "Table"


def _annotation(char: str, ctype: ColumnType) -> Any:
    """The field annotation: for a nested column the qorm alias (``FloatList`` for ``F``), so
    a reflected model declares it as application code would."""
    if char in NESTED_QTYPES:
        return _NESTED_ALIASES[char]
    return Annotated[ctype.python, ctype]


def _nested_aliases() -> dict[str, Any]:
    import qorm.types

    aliases = {name: getattr(qorm.types, name) for name in qorm.types.__all__}
    return {
        char: next(a for a in aliases.values() if qtype in getattr(a, "__metadata__", ()))
        for char, qtype in NESTED_QTYPES.items()
    }


#: ``meta`` char -> the run-time qorm alias (``"F"`` -> ``qorm.types.FloatList``)
_NESTED_ALIASES = _nested_aliases()


def build_model_from_meta(
    tablename: str,
    meta: Any,
    keys: Iterable[str] = (),
    class_name: str | None = None,
) -> type[Model]:
    """A model class for ``tablename`` from its ``meta`` (and ``keys``, for a keyed table).

    Raises :class:`qorm.exc.ReflectionError` naming the table and column for a name or type
    that cannot be a model field.
    """
    if not is_table_name(tablename):
        raise exc.ReflectionError(f"{tablename!r} is not a table name qorm can use")
    rows = meta_rows(meta)
    key_set = [str(k) for k in keys]
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {
        "__tablename__": tablename,
        "__annotations__": annotations,
        "__reflected__": True,
    }
    known = {r[0] for r in rows}
    missing = [k for k in key_set if k not in known]
    if missing:
        raise exc.ReflectionError(f"{tablename}: key column(s) {missing} not in meta")
    for name, char, attr in rows:
        if not is_column_name(name):
            raise exc.ReflectionError(
                f"{tablename}.{name}: not a valid q column name (or a reserved word)"
            )
        ctype = column_type_for_char(char)
        if ctype is None:
            raise exc.ReflectionError(f"{tablename}.{name}: unsupported q type char {char!r}")
        annotations[name] = _annotation(char, ctype)
        namespace[name] = field(
            primary_key=name in key_set, attr=_ATTRS.get(attr.strip(), ATTR_NONE)
        )
    base: type[Model] = KeyedModel if key_set else Model
    try:
        cls = type(class_name or _class_name(tablename), (base,), namespace)
    except exc.ModelError as e:
        raise exc.ReflectionError(f"{tablename}: {e}") from None
    return cls
