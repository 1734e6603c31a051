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

Nested columns
--------------
A nested column (``meta`` type ``F``, ``J``, ``S`` ...: every cell a typed vector) is declared
with the alias of its item type plus ``List``: ``FloatList``, ``LongList``, ``SymbolList``,
``TimestampList`` ... (one per atom type; the nested char column is ``String``). A cell read
from q is what the decoder gives, zero-copy: a numpy array for the numeric, boolean, byte and
symbol types (``float64``, ``int64``, ``object`` of ``str`` ...), a
:class:`qorm.protocol.values.QVector` (q's raw storage, ``.to_numpy()`` for ``datetime64``)
for the temporal and guid types. A cell you set may be any sequence of the item type. The
alias says both: ``FloatList = Col[Sequence[float] | NDArray[float64]]``, ``TimestampList =
Col[Sequence[datetime | None] | NDArray[datetime64] | QVector]``, so ``np.asarray(row.bids)``
and ``len``/indexing/iteration are what mypy lets code do with a cell without a check.

On insert every cell is sent as a vector of exactly the column's item type (ints in a
``FloatList`` become floats, as for ``Float``); a value that cannot be one raises
:class:`qorm.exc.SerializationError` naming the model, field, row and item. A ``None`` cell is
sent as an empty vector (or rejected with ``field(nullable=False)``); for an optional nested
field write ``field(default=())``, an immutable empty cell shared safely by every instance.
mypy accepts a ``str`` as a ``Sequence[str]``: a ``SymbolList`` cell given as ``"ab"`` is
caught at run time, with that error.

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
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, TypeVar, overload

import numpy as np
import numpy.typing as npt

from qorm.protocol.values import QVector

if TYPE_CHECKING:
    from qorm.query.expr import Column

__all__ = [
    "Boolean",
    "BooleanList",
    "Byte",
    "ByteList",
    "Char",
    "Col",
    "Date",
    "DateList",
    "DateTime",
    "DateTimeList",
    "Float",
    "FloatList",
    "Guid",
    "GuidList",
    "Int",
    "IntList",
    "Long",
    "LongList",
    "Minute",
    "MinuteList",
    "Month",
    "MonthList",
    "Real",
    "RealList",
    "Second",
    "SecondList",
    "Short",
    "ShortList",
    "String",
    "Symbol",
    "SymbolList",
    "Time",
    "TimeList",
    "Timespan",
    "TimespanList",
    "Timestamp",
    "TimestampList",
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

# --- nested columns: a cell is what the decoder gives (numpy / QVector) or a sequence you set
_Dates: TypeAlias = Sequence[dt.date | None] | npt.NDArray[np.datetime64] | QVector
_Stamps: TypeAlias = Sequence[dt.datetime | None] | npt.NDArray[np.datetime64] | QVector
_Times: TypeAlias = Sequence[dt.time | None] | npt.NDArray[np.timedelta64] | QVector

BooleanList = Col[Sequence[bool] | npt.NDArray[np.bool_]]
GuidList = Col[Sequence[uuid.UUID] | QVector]
ByteList = Col[Sequence[int] | npt.NDArray[np.uint8]]
ShortList = Col[Sequence[int] | npt.NDArray[np.int16]]
IntList = Col[Sequence[int] | npt.NDArray[np.int32]]
LongList = Col[Sequence[int] | npt.NDArray[np.int64]]
RealList = Col[Sequence[float] | npt.NDArray[np.float32]]
FloatList = Col[Sequence[float] | npt.NDArray[np.float64]]
SymbolList = Col[Sequence[str] | npt.NDArray[np.object_]]
TimestampList = Col[_Stamps]
MonthList = Col[_Dates]
DateList = Col[_Dates]
DateTimeList = Col[_Stamps]
TimespanList = Col[Sequence[dt.timedelta | None] | npt.NDArray[np.timedelta64] | QVector]
MinuteList = Col[_Times]
SecondList = Col[_Times]
TimeList = Col[_Times]
