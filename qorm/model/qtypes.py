"""The q type of a model column, and how Python annotations map to it.

A :class:`ColumnType` is what the ORM needs to know about a column: its q type code (the vector
type, positive), the type char used in DDL and ``meta``, the Python type of one value, and
whether it is a *string* column (a list of char vectors, ``meta`` type ``C``).

Annotations accepted on a model field:

* the qorm aliases (``Symbol``, ``Float`` ... ``String``): ``Annotated[T, QType(...)]`` at run
  time, ``Col[T]`` for mypy;
* the nested aliases (``FloatList``, ``SymbolList`` ... one per atom type but char, whose
  nested form is ``String``): a column whose every cell is a vector of that type, ``meta``
  type char upper case (``F``); see :data:`NESTED` and :func:`nested_type`;
* plain Python types (``str`` -> symbol, ``int`` -> long, ``float`` -> float, ``bool``,
  ``bytes`` -> byte, ``datetime`` -> timestamp, ``date`` -> date, ``time`` -> time,
  ``timedelta`` -> timespan, ``uuid.UUID`` -> guid), optionally ``| None``;
* ``Col[T]`` written directly (the q type is then inferred from ``T``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
import uuid
from typing import Any, Final

from qorm.protocol import constants as c

__all__ = [
    "BY_CHAR",
    "BY_CODE",
    "NESTED",
    "STRING",
    "ColumnType",
    "column_type_for_char",
    "column_type_from_annotation",
    "nested_type",
]


@dataclasses.dataclass(frozen=True)
class ColumnType:
    """A column's q type: ``code`` (positive vector type, 0 for string columns), ``char``."""

    code: int
    char: str
    python: type
    name: str

    @property
    def is_string(self) -> bool:
        """A string column: a list of char vectors (``meta`` type ``C``)."""
        return self.char == "C"

    @property
    def is_nested(self) -> bool:
        """A column of typed vectors other than strings (``meta`` type ``F``, ``J`` ...)."""
        return self.code == 0 and self.char.isupper() and self.char != "C"

    @property
    def item(self) -> ColumnType:
        """The type of one item of a cell of a nested (or string) column; the type itself
        for a simple column. Raises ``ValueError`` for a mixed column."""
        if self.code != 0:
            return self
        if self.char == "C":
            return CHAR
        found = BY_CHAR.get(self.char.lower())
        if found is None:
            raise ValueError(f"a {self.name} column has no item type")
        return found

    @property
    def is_temporal(self) -> bool:
        return c.TIMESTAMP <= self.code <= c.TIME

    @property
    def is_integer(self) -> bool:
        return self.code in (c.BYTE, c.SHORT, c.INT, c.LONG)

    @property
    def is_numeric(self) -> bool:
        return self.code in (c.BOOLEAN, c.BYTE, c.SHORT, c.INT, c.LONG, c.REAL, c.FLOAT)

    def __repr__(self) -> str:
        return self.name


def _ct(code: int, python: type, name: str) -> ColumnType:
    return ColumnType(code, c.TYPE_CHARS[code], python, name)


BOOLEAN: Final = _ct(c.BOOLEAN, bool, "boolean")
GUID: Final = _ct(c.GUID, uuid.UUID, "guid")
BYTE: Final = _ct(c.BYTE, int, "byte")
SHORT: Final = _ct(c.SHORT, int, "short")
INT: Final = _ct(c.INT, int, "int")
LONG: Final = _ct(c.LONG, int, "long")
REAL: Final = _ct(c.REAL, float, "real")
FLOAT: Final = _ct(c.FLOAT, float, "float")
CHAR: Final = _ct(c.CHAR, str, "char")
SYMBOL: Final = _ct(c.SYMBOL, str, "symbol")
TIMESTAMP: Final = _ct(c.TIMESTAMP, dt.datetime, "timestamp")
MONTH: Final = _ct(c.MONTH, dt.date, "month")
DATE: Final = _ct(c.DATE, dt.date, "date")
DATETIME: Final = _ct(c.DATETIME, dt.datetime, "datetime")
TIMESPAN: Final = _ct(c.TIMESPAN, dt.timedelta, "timespan")
MINUTE: Final = _ct(c.MINUTE, dt.time, "minute")
SECOND: Final = _ct(c.SECOND, dt.time, "second")
TIME: Final = _ct(c.TIME, dt.time, "time")
STRING: Final = ColumnType(0, "C", str, "string")

BY_CODE: Final[dict[int, ColumnType]] = {
    t.code: t
    for t in (
        BOOLEAN,
        GUID,
        BYTE,
        SHORT,
        INT,
        LONG,
        REAL,
        FLOAT,
        CHAR,
        SYMBOL,
        TIMESTAMP,
        MONTH,
        DATE,
        DATETIME,
        TIMESPAN,
        MINUTE,
        SECOND,
        TIME,
    )
}
#: by ``meta`` type char (``C`` is a string column)
BY_CHAR: Final[dict[str, ColumnType]] = {t.char: t for t in BY_CODE.values()} | {"C": STRING}

#: nested columns by ``meta`` type char (``F``: each cell a float vector); ``code`` is 0 (a
#: general list), ``python`` is ``list``. Strings (``C``) are :data:`STRING`, not in here.
NESTED: Final[dict[str, ColumnType]] = {
    t.char.upper(): ColumnType(0, t.char.upper(), list, f"list of {t.name}")
    for t in BY_CODE.values()
    if t.code != c.CHAR
}
_MIXED: Final = ColumnType(0, " ", object, "mixed")

#: plain Python type -> default q type (the seed API's table)
_PLAIN: Final[dict[Any, ColumnType]] = {
    bool: BOOLEAN,
    int: LONG,
    float: FLOAT,
    str: SYMBOL,
    bytes: BYTE,
    dt.datetime: TIMESTAMP,
    dt.date: DATE,
    dt.time: TIME,
    dt.timedelta: TIMESPAN,
    uuid.UUID: GUID,
}


def _from_qtype_meta(meta: object) -> ColumnType | None:
    """Read a :class:`qorm.types.QType` (duck-typed: a type code and maybe a string flag)."""
    if isinstance(meta, ColumnType):
        return meta
    if type(meta).__name__ != "QType":
        return None
    char = getattr(meta, "char", None)
    if char == "C":
        return STRING
    if isinstance(char, str) and char in NESTED:  # FloatList ...: QType(FLOAT, "F", ...)
        return NESTED[char]
    for attr in ("code", "type_code", "typecode", "qtype"):
        code = getattr(meta, attr, None)
        if code is not None:
            code = abs(int(code))
            if code == 0:
                return STRING
            return BY_CODE.get(code)
    return None


def nested_type(char: str) -> ColumnType:
    """A column whose cells are lists: ``C`` strings, ``J`` long vectors ..., `` `` mixed.

    Raises ``ValueError`` for a char that is not an upper-case q type char or blank.
    """
    if char == "C":
        return STRING
    if char == " ":
        return _MIXED
    found = NESTED.get(char)
    if found is None:
        raise ValueError(f"{char!r} is not a q meta type char of a nested column")
    return found


def column_type_for_char(char: str) -> ColumnType | None:
    """The column type of a ``meta`` type char: lower case simple, upper case nested (``C``
    strings), blank mixed; ``None`` for anything else."""
    if len(char) != 1:
        return None
    if char.islower():
        return BY_CHAR.get(char)
    try:
        return nested_type(char)
    except ValueError:
        return None


def column_type_from_annotation(annotation: Any) -> ColumnType | None:
    """The q type an annotation stands for, or ``None`` if it is not a column annotation."""
    if isinstance(annotation, ColumnType):
        return annotation
    if annotation in _PLAIN:
        return _PLAIN[annotation]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        for meta in annotation.__metadata__:
            found = _from_qtype_meta(meta)
            if found is not None:
                return found
        return column_type_from_annotation(annotation.__origin__)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return column_type_from_annotation(args[0])
        return None
    if origin is not None and getattr(origin, "__name__", "") == "Col":
        (arg,) = typing.get_args(annotation)
        return column_type_from_annotation(arg)
    return None
