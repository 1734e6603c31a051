"""Typing-time column descriptors: what mypy sees for ``price: Float``.

SQLAlchemy 2.0 style, no mypy plugin. Under ``TYPE_CHECKING`` every qorm type alias is a
``Col[T]`` (``Float = Col[float]``), a generic descriptor whose ``__get__`` overloads give

* ``Trade.price`` (class access) -> :class:`qorm.query.expr.Column` ``[float]``, a typed
  column expression whose comparisons build boolean expressions, and
* ``trade.price`` (instance access) -> ``float``;

and whose ``__set__`` types the ``__init__`` that ``@dataclass_transform`` on
:class:`qorm.model.Model` synthesizes, so ``Trade(price="x")`` is a mypy error.

At run time the aliases stay ``Annotated[float, QType(...)]`` (see :mod:`qorm.types`); the
runtime descriptor is :class:`qorm.model.fields.Field`. ``Col[T]`` may also be written directly
in a model, the q type is then inferred from ``T``.

Nulls, honestly
---------------
q has no ``None``: every q type but boolean and byte has an in-band null. A field's Python type
is therefore the type that can hold *every* value its column can hold, nulls included:

* numbers and symbols hold their nulls in-band: a null float is ``nan`` (a ``float``), a null
  long/int/short is q's null integer (``-2**63``, ``-2**31``, ``-2**15``; ``qorm.is_null`` knows
  them), a null symbol is ``""``, a null guid is ``UUID(int=0)``. Their fields are typed ``T``.
* Python's ``datetime``/``date``/``time``/``timedelta`` have no null value, so a null temporal
  reads as ``None`` and temporal fields are typed ``T | None`` (``Timestamp = Col[datetime |
  None]``). mypy then makes code check for ``None`` before using one, which is the truth.

Do not wrap an alias in ``Optional``/``| None`` (``price: Float | None``): the run time reads
it, but for mypy the attribute stops being a descriptor. The temporal aliases already include
``None``; the other types hold their nulls in-band.

``Model(...)`` may omit a field at run time (the seed API: it is then ``None`` and sent as the
column's null), but mypy requires every field without a default, so code that mypy checks
never builds a ``Trade`` whose ``price`` is ``None`` behind a ``float`` annotation. Give a field
a default with ``field(default=...)`` (or ``= value``) to make it optional.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

if TYPE_CHECKING:
    from qorm.query.expr import Column

__all__ = [
    "Boolean",
    "Byte",
    "Char",
    "Col",
    "Date",
    "DateTime",
    "Float",
    "Guid",
    "Int",
    "Long",
    "Minute",
    "Month",
    "Real",
    "Second",
    "Short",
    "String",
    "Symbol",
    "Time",
    "Timespan",
    "Timestamp",
]

T = TypeVar("T")


class Col(Generic[T]):
    """A model column for the type checker: ``Expr`` on the class, ``T`` on an instance.

    Never instantiated: :class:`qorm.model.Model` replaces each annotated field with a
    :class:`qorm.model.fields.Field` when the class is created.
    """

    @overload
    def __get__(self, instance: None, owner: type[Any]) -> Column[T]: ...

    @overload
    def __get__(self, instance: object, owner: type[Any]) -> T: ...

    def __get__(self, instance: object, owner: type[Any]) -> Column[T] | T:
        raise NotImplementedError("Col is a typing-time descriptor; models use Field at run time")

    def __set__(self, instance: object, value: T) -> None:
        raise NotImplementedError("Col is a typing-time descriptor; models use Field at run time")


Boolean = Col[bool]
Guid = Col[uuid.UUID]
Byte = Col[int]
Short = Col[int]
Int = Col[int]
Long = Col[int]
Real = Col[float]
Float = Col[float]
Char = Col[str]
Symbol = Col[str]
String = Col[str]
Timestamp = Col[dt.datetime | None]
Month = Col[dt.date | None]
Date = Col[dt.date | None]
DateTime = Col[dt.datetime | None]
Timespan = Col[dt.timedelta | None]
Minute = Col[dt.time | None]
Second = Col[dt.time | None]
Time = Col[dt.time | None]
